//! What the catalog answers about reports besides the reports themselves.

use flaneur_model::{ReportIssue, ReportStatus};

/// How many reports have one status and one issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportCount {
    /// Their status.
    pub status: ReportStatus,
    /// Their issue.
    pub issue: ReportIssue,
    /// How many.
    pub count: i64,
}
