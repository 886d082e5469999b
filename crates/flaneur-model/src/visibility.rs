//! Who may see an upload set, a sequence or a picture.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ParseEnumError;

/// Visibility levels, named as on Panoramax instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Visibility {
    /// Everyone, logged in or not.
    #[default]
    Anyone,
    /// Only logged-in accounts.
    LoggedOnly,
    /// Only the owner (and administrators).
    OwnerOnly,
}

impl Visibility {
    /// Every value, in the order the configuration route lists them.
    pub const ALL: [Visibility; 3] = [
        Visibility::Anyone,
        Visibility::LoggedOnly,
        Visibility::OwnerOnly,
    ];

    /// The wire and database name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Visibility::Anyone => "anyone",
            Visibility::LoggedOnly => "logged-only",
            Visibility::OwnerOnly => "owner-only",
        }
    }

    /// Whether a picture of this visibility reaches as far as a sequence of visibility
    /// `sequence`: whoever may see the sequence may see the picture. A sequence's figures
    /// cover only such pictures, so a picture hidden from its readers shapes nothing they read.
    pub fn reaches(self, sequence: Visibility) -> bool {
        self == Visibility::Anyone || self == sequence || sequence == Visibility::OwnerOnly
    }
}

impl fmt::Display for Visibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Visibility {
    type Err = ParseEnumError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Visibility::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| ParseEnumError {
                kind: "visibility",
                value: s.to_owned(),
                expected: "anyone, logged-only, owner-only",
            })
    }
}
