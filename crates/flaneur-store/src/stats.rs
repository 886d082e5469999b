//! Counts of what the catalog holds, for the administrators' overview of the instance
//! (`/api/admin/stats`). Each count groups rows by the values they have: a value no row has
//! is absent rather than zero.

/// How many rows share one value of a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountBy {
    /// The value, as the catalog stores it (a status, a role…).
    pub value: String,
    /// How many rows have it.
    pub count: i64,
}

/// How many sequences share a status and a visibility.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceCount {
    /// Their status.
    pub status: String,
    /// Who may see them.
    pub visibility: String,
    /// How many.
    pub count: i64,
}

/// The jobs of one kind waiting in the queue or running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobCount {
    /// The kind of job (`prepare`, `dispatch`…).
    pub kind: String,
    /// How many are queued, running ones included.
    pub queued: i64,
    /// How many a worker holds now.
    pub running: i64,
    /// How many failed at least once and wait for another attempt.
    pub retrying: i64,
}

/// What the catalog holds, counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceStats {
    /// Accounts by role.
    pub accounts: Vec<CountBy>,
    /// Pictures by status.
    pub pictures: Vec<CountBy>,
    /// Sequences by status and visibility.
    pub sequences: Vec<SequenceCount>,
    /// Jobs by kind.
    pub jobs: Vec<JobCount>,
}
