//! Typed identifiers, so that a picture id can never be passed where a sequence id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new random identifier.
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }

            /// The identifier as a UUID.
            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(value: Uuid) -> Self {
                Self(value)
            }
        }
    };
}

uuid_id!(
    /// Identifies a picture (a STAC item).
    PictureId
);
uuid_id!(
    /// Identifies a sequence (a STAC collection).
    SequenceId
);
uuid_id!(
    /// Identifies an upload set.
    UploadSetId
);
uuid_id!(
    /// Identifies an account.
    AccountId
);
uuid_id!(
    /// Identifies an excluded area.
    ExcludedAreaId
);
uuid_id!(
    /// Identifies an API token (not its secret value, which only its holder knows).
    TokenId
);

/// Identifies a queued background job.
pub type JobId = i64;
uuid_id!(
    /// Identifies a report of a problem with a picture or a sequence.
    ReportId
);
uuid_id!(
    /// Identifies an annotation: semantic tags on a part of a picture.
    AnnotationId
);
uuid_id!(
    /// Identifies a peer: another instance this one harvests.
    PeerId
);
uuid_id!(
    /// Identifies one harvest pass of a peer, as the holder of its lease.
    HarvestPassId
);
