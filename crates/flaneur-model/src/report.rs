//! Reports of problems with pictures or sequences, sent by anyone and reviewed by the owner
//! of the reported data and the administrators.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{AccountId, ParseEnumError, PictureId, ReportId, SequenceId};

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $($variant:ident => $text:literal,)+) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $(#[doc = $text] $variant,)+
        }

        impl $name {
            /// Every value, in wire order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The wire and database name.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ParseEnumError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| ParseEnumError {
                        kind: $kind,
                        value: s.to_owned(),
                        expected: concat!($($text, " "),+),
                    })
            }
        }
    };
}

wire_enum!(
    /// What is wrong with the reported data.
    ReportIssue, "issue",
    BlurMissing => "blur_missing",
    BlurExcess => "blur_excess",
    Inappropriate => "inappropriate",
    Privacy => "privacy",
    PictureLowQuality => "picture_low_quality",
    Mislocated => "mislocated",
    Copyright => "copyright",
    Other => "other",
);

wire_enum!(
    /// Where the review of a report stands.
    ReportStatus, "status",
    Open => "open",
    OpenAutofix => "open_autofix",
    Waiting => "waiting",
    ClosedSolved => "closed_solved",
    ClosedIgnored => "closed_ignored",
);

impl ReportIssue {
    /// Whether a report of this issue hides the reported data from everyone but its owner
    /// until the report is reviewed: what it shows may harm someone while it stays visible.
    pub fn hides_data(&self) -> bool {
        matches!(
            self,
            ReportIssue::BlurMissing
                | ReportIssue::Inappropriate
                | ReportIssue::Privacy
                | ReportIssue::Copyright
        )
    }
}

impl ReportStatus {
    /// The statuses of reports still to review, listed when no filter says otherwise.
    pub const OPEN: [ReportStatus; 3] = [
        ReportStatus::Open,
        ReportStatus::OpenAutofix,
        ReportStatus::Waiting,
    ];

    /// Whether the review is over.
    pub fn is_closed(&self) -> bool {
        matches!(
            self,
            ReportStatus::ClosedSolved | ReportStatus::ClosedIgnored
        )
    }
}

/// A report to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReport {
    /// What is wrong.
    pub issue: ReportIssue,
    /// The reported picture, if any.
    pub picture_id: Option<PictureId>,
    /// The reported sequence (the picture's, when both are given).
    pub sequence_id: Option<SequenceId>,
    /// Who reports, when logged in.
    pub reporter: Option<AccountId>,
    /// An address to answer the reporter.
    pub reporter_email: Option<String>,
    /// What the reporter says.
    pub reporter_comments: Option<String>,
    /// Whether to hide the reported data (the picture when given, else the sequence) from
    /// everyone but its owner, in the same transaction; the report is then `open_autofix`.
    pub hide: bool,
}

/// A recorded report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Its identifier.
    pub id: ReportId,
    /// What is wrong.
    pub issue: ReportIssue,
    /// Where its review stands.
    pub status: ReportStatus,
    /// The reported picture, if any.
    pub picture_id: Option<PictureId>,
    /// The reported sequence, if any.
    pub sequence_id: Option<SequenceId>,
    /// Who reported, when logged in.
    pub reporter: Option<AccountId>,
    /// An address to answer the reporter.
    pub reporter_email: Option<String>,
    /// What the reporter said.
    pub reporter_comments: Option<String>,
    /// Who last reviewed it.
    pub resolver: Option<AccountId>,
    /// What the reviewer said.
    pub resolver_comments: Option<String>,
    /// The owner of the reported data (of the picture when given), while it exists.
    pub owner: Option<AccountId>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was closed, while it is.
    pub closed_at: Option<DateTime<Utc>>,
}

/// A change to a report. Fields left `None` stay as they are.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReportChange {
    /// A new issue.
    pub issue: Option<ReportIssue>,
    /// A new status; closing sets the closing time, opening again clears it.
    pub status: Option<ReportStatus>,
    /// A new address of the reporter.
    pub reporter_email: Option<String>,
    /// New comments of the reviewer.
    pub resolver_comments: Option<String>,
    /// Who makes the change, recorded as the resolver when not the reporter.
    pub resolver: Option<AccountId>,
}

/// Which reports to list, most recent first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReportQuery {
    /// Only these statuses (all when empty).
    pub statuses: Vec<ReportStatus>,
    /// Only those made by this account.
    pub reporter: Option<AccountId>,
    /// Only those on data of this account.
    pub owner: Option<AccountId>,
    /// Only those made by this account or on its data.
    pub involving: Option<AccountId>,
    /// At most this many.
    pub limit: usize,
}
