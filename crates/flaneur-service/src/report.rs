//! Reports of problems with pictures and sequences: who may make, read, review and list them.
//!
//! Anyone may report what they see. A report of an issue that may harm someone while the data
//! stays visible (see [`ReportIssue::hides_data`]) hides that data from everyone but its owner
//! at once, when the reporter is logged in: an anonymous report is recorded and waits for a
//! review, so that nobody can hide anyone's pictures without an account.

use flaneur_model::{
    NewReport, PictureId, Report, ReportChange, ReportId, ReportIssue, ReportQuery, ReportStatus,
    SequenceId, Viewer,
};
use flaneur_store::ReportCount;

use crate::{Error, Result, Services};

/// Most characters of a report's or a review's comments.
pub const MAX_COMMENT_CHARS: usize = 2000;

/// Most characters of an email address (RFC 5321's limit of a forward path).
pub const MAX_EMAIL_CHARS: usize = 254;

/// A report as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportInput {
    /// What is wrong.
    pub issue: ReportIssue,
    /// The reported picture.
    pub picture_id: Option<PictureId>,
    /// The reported sequence.
    pub sequence_id: Option<SequenceId>,
    /// An address to answer the reporter.
    pub reporter_email: Option<String>,
    /// What the reporter says.
    pub reporter_comments: Option<String>,
}

/// How much of a report its reader may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportView {
    /// Everything: administrators.
    Full,
    /// Without the reporter's address: the reporter and the owner of the reported data.
    Public,
}

/// Checks an email address's shape: one `@` between non-empty parts, a dot in the domain,
/// no spaces, not too long.
///
/// # Errors
/// [`Error::InvalidParameter`] saying what is wrong.
pub fn check_email(email: &str) -> Result<()> {
    let bad = || {
        Error::invalid(format!(
            "reporter_email '{email}' is not a valid email address"
        ))
    };
    if email.chars().count() > MAX_EMAIL_CHARS {
        return Err(Error::invalid(format!(
            "reporter_email is too long: at most {MAX_EMAIL_CHARS} characters"
        )));
    }
    let (local, domain) = email.split_once('@').ok_or_else(bad)?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@');
    if local.is_empty() || !domain_ok || email.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad());
    }
    Ok(())
}

/// Checks the length of comments named `field`.
///
/// # Errors
/// [`Error::InvalidParameter`] when they are too long.
pub fn check_comments(field: &str, text: &str) -> Result<()> {
    if text.chars().count() > MAX_COMMENT_CHARS {
        return Err(Error::invalid(format!(
            "{field} is too long: at most {MAX_COMMENT_CHARS} characters"
        )));
    }
    Ok(())
}

fn not_found(id: ReportId) -> Error {
    Error::ReportNotFound(id.to_string())
}

fn admin_only(viewer: Viewer) -> Result<()> {
    if viewer.is_anonymous() {
        return Err(Error::LoginRequired);
    }
    if !viewer.is_admin() {
        return Err(Error::Forbidden(
            "Only administrators may list every report".to_owned(),
        ));
    }
    Ok(())
}

impl Services {
    /// Records a report of data `viewer` sees, hiding it when its issue asks it and the
    /// reporter is logged in.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for no reported id, a picture outside the given sequence, a
    /// bad address or too long comments; [`Error::ItemNotFound`] or
    /// [`Error::CollectionNotFound`] when the reported data does not exist or may not be seen.
    pub async fn create_report(&self, viewer: Viewer, input: ReportInput) -> Result<Report> {
        if input.picture_id.is_none() && input.sequence_id.is_none() {
            return Err(Error::invalid(
                "A report needs picture_id or sequence_id (or both): what is reported",
            ));
        }
        if let Some(email) = &input.reporter_email {
            check_email(email)?;
        }
        if let Some(comments) = &input.reporter_comments {
            check_comments("reporter_comments", comments)?;
        }
        match (input.picture_id, input.sequence_id) {
            (Some(picture), sequence) => {
                let (picture, _) = self.visible_picture(None, picture, viewer).await?;
                if sequence.is_some() && picture.sequence_id != sequence {
                    return Err(Error::invalid(
                        "picture_id is not a picture of sequence_id: give one of them, or both \
                         of the same sequence",
                    ));
                }
            }
            (None, Some(sequence)) => {
                self.collection(sequence, viewer).await?;
            }
            (None, None) => unreachable!("checked above"),
        }
        let report = NewReport {
            issue: input.issue,
            picture_id: input.picture_id,
            sequence_id: input.sequence_id,
            reporter: viewer.account_id(),
            reporter_email: input.reporter_email,
            reporter_comments: input.reporter_comments,
            hide: input.issue.hides_data() && !viewer.is_anonymous(),
        };
        Ok(self.catalog.create_report(&report).await?)
    }

    /// A report, and how much of it `viewer` may see.
    ///
    /// # Errors
    /// [`Error::LoginRequired`] for an anonymous viewer; [`Error::ReportNotFound`];
    /// [`Error::Forbidden`] for anyone but an administrator, its reporter or the owner of the
    /// reported data.
    pub async fn report(&self, viewer: Viewer, id: ReportId) -> Result<(Report, ReportView)> {
        let Some(account) = viewer.account_id() else {
            return Err(Error::LoginRequired);
        };
        let report = self
            .catalog
            .report(id)
            .await?
            .ok_or_else(|| not_found(id))?;
        if viewer.is_admin() {
            return Ok((report, ReportView::Full));
        }
        if report.reporter == Some(account) || report.owner == Some(account) {
            return Ok((report, ReportView::Public));
        }
        Err(Error::Forbidden(
            "Only administrators, the reporter and the owner of the reported data may read \
             this report"
                .to_owned(),
        ))
    }

    /// Changes a report as `viewer` may: its reporter may set the status `waiting` or
    /// `closed_solved`; the owner of the reported data also `closed_ignored`, and the
    /// reviewer's comments; administrators anything. Nothing changes when one part of the
    /// change is refused.
    ///
    /// # Errors
    /// As [`Services::report`], [`Error::Forbidden`] for a change the viewer may not make, and
    /// [`Error::InvalidParameter`] for a bad address or too long comments.
    pub async fn update_report(
        &self,
        viewer: Viewer,
        id: ReportId,
        mut change: ReportChange,
    ) -> Result<(Report, ReportView)> {
        let (report, view) = self.report(viewer, id).await?;
        let account = viewer.account_id();
        let is_owner = report.owner.is_some() && report.owner == account;
        let is_reporter = report.reporter.is_some() && report.reporter == account;
        if !viewer.is_admin() {
            let refuse = |what: &str| {
                Err(Error::Forbidden(format!(
                    "You may not change {what} of this report"
                )))
            };
            if change.issue.is_some() {
                return refuse("the issue");
            }
            if change.reporter_email.is_some() {
                return refuse("the reporter's email");
            }
            if change.resolver_comments.is_some() && !is_owner {
                return refuse("the resolver's comments");
            }
            if let Some(status) = change.status {
                let allowed = match status {
                    ReportStatus::Waiting | ReportStatus::ClosedSolved => is_owner || is_reporter,
                    ReportStatus::ClosedIgnored => is_owner,
                    ReportStatus::Open | ReportStatus::OpenAutofix => false,
                };
                if !allowed {
                    return refuse(&format!("the status to {status}"));
                }
            }
        }
        if let Some(email) = &change.reporter_email {
            check_email(email)?;
        }
        if let Some(comments) = &change.resolver_comments {
            check_comments("resolver_comments", comments)?;
        }
        change.resolver = if viewer.is_admin() || is_owner {
            account
        } else {
            None
        };
        let report = self
            .catalog
            .update_report(id, &change)
            .await?
            .ok_or_else(|| not_found(id))?;
        Ok((report, view))
    }

    /// Every report the query selects: administrators only.
    ///
    /// # Errors
    /// [`Error::LoginRequired`] for an anonymous viewer, [`Error::Forbidden`] for others.
    pub async fn reports(&self, viewer: Viewer, query: &ReportQuery) -> Result<Vec<Report>> {
        admin_only(viewer)?;
        Ok(self.catalog.list_reports(query).await?)
    }

    /// The reports the query selects among those `viewer` made or that are about its data.
    ///
    /// # Errors
    /// [`Error::LoginRequired`] for an anonymous viewer.
    pub async fn my_reports(&self, viewer: Viewer, query: &ReportQuery) -> Result<Vec<Report>> {
        let account = viewer.account_id().ok_or(Error::LoginRequired)?;
        let query = ReportQuery {
            involving: Some(account),
            ..query.clone()
        };
        Ok(self.catalog.list_reports(&query).await?)
    }

    /// How many reports there are of each status and issue: administrators only.
    ///
    /// # Errors
    /// [`Error::LoginRequired`] for an anonymous viewer, [`Error::Forbidden`] for others.
    pub async fn report_counts(&self, viewer: Viewer) -> Result<Vec<ReportCount>> {
        admin_only(viewer)?;
        Ok(self.catalog.report_counts().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_for_their_shape() {
        assert!(check_email("walker@example.org").is_ok());
        for bad in [
            "walker",
            "@example.org",
            "walker@org",
            "wal ker@example.org",
            "a@b@c.d",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
        assert!(check_email(&format!("{}@example.org", "a".repeat(300))).is_err());
    }

    #[test]
    fn comments_are_bounded() {
        assert!(check_comments("c", &"é".repeat(MAX_COMMENT_CHARS)).is_ok());
        assert!(check_comments("c", &"é".repeat(MAX_COMMENT_CHARS + 1)).is_err());
    }
}
