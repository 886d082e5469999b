//! Background jobs: durable units of work queued in the catalog and run by workers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{JobId, ParseEnumError};

/// What a job does. The target of a job is a picture, an upload set or a blob key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Make a picture's derivatives and publish it.
    Prepare,
    /// Group a completed upload set's pictures into sequences.
    Dispatch,
    /// Remove a picture's files from the blob store.
    DeleteFiles,
}

impl JobKind {
    /// The database name.
    pub fn as_str(&self) -> &'static str {
        match self {
            JobKind::Prepare => "prepare",
            JobKind::Dispatch => "dispatch",
            JobKind::DeleteFiles => "delete_files",
        }
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobKind {
    type Err = ParseEnumError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [JobKind::Prepare, JobKind::Dispatch, JobKind::DeleteFiles]
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| ParseEnumError {
                kind: "job kind",
                value: s.to_owned(),
                expected: "prepare, dispatch, delete_files",
            })
    }
}

/// A job claimed by a worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Its identifier.
    pub id: JobId,
    /// What to do.
    pub kind: JobKind,
    /// The id (picture, upload set) or key the job acts on.
    pub target: String,
    /// How many times it was claimed, this time included.
    pub attempt: i64,
}
