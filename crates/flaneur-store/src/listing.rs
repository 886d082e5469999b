//! How sequences are listed: which properties a listing filters on, the orders it offers and
//! the keyset positions that page through any of them.
//!
//! A page position is the sort values of the sequence at the edge of a page, then its id,
//! which breaks ties: page N is read with one indexed range scan, like page 1, whatever the
//! order, and rows written meanwhile neither shift nor repeat the pages that follow.

use flaneur_model::{AccountId, Sequence, SequenceId, Viewer};

use crate::catalog::TimeRange;
use crate::filter::{Filter, Queryable, QueryableKind};

pub(crate) mod paging;

/// The properties a listing of sequences can be filtered on.
pub const SEQUENCE_QUERYABLES: &[Queryable] = &[
    Queryable {
        name: "created",
        kind: QueryableKind::Timestamp,
        description: "When the sequence was created: a date-time or a date",
    },
    Queryable {
        name: "updated",
        kind: QueryableKind::Timestamp,
        description: "When the sequence or one of its pictures last changed: a date-time or a \
                      date",
    },
    Queryable {
        name: "datetime",
        kind: QueryableKind::Timestamp,
        description: "When its pictures were taken; a comparison holds when some capture \
                      instant of the sequence satisfies it",
    },
    Queryable {
        name: "id",
        kind: QueryableKind::Text,
        description: "Identifier of the sequence",
    },
    Queryable {
        name: "visibility",
        kind: QueryableKind::OneOf(&["anyone", "owner-only", "logged-only"]),
        description: "Who may see the sequence",
    },
];

/// A property sequences can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceSortField {
    /// When it was created.
    Created,
    /// When it last changed.
    Updated,
    /// When its first picture was taken; sequences without pictures sort as if taken at the
    /// Unix epoch.
    Datetime,
    /// Its id.
    Id,
}

impl SequenceSortField {
    /// Every field, in the order messages list them.
    pub const ALL: [SequenceSortField; 4] = [
        SequenceSortField::Created,
        SequenceSortField::Updated,
        SequenceSortField::Datetime,
        SequenceSortField::Id,
    ];

    /// The name in `sortby`.
    pub fn as_str(self) -> &'static str {
        match self {
            SequenceSortField::Created => "created",
            SequenceSortField::Updated => "updated",
            SequenceSortField::Datetime => "datetime",
            SequenceSortField::Id => "id",
        }
    }

    /// The field named `name` in `sortby`.
    pub fn from_name(name: &str) -> Option<SequenceSortField> {
        Self::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// This field's value in a sequence, as the catalog orders it (instants in microseconds);
    /// `None` for the id, which positions carry apart.
    fn value(self, s: &Sequence) -> Option<i64> {
        match self {
            SequenceSortField::Created => Some(s.created_at.timestamp_micros()),
            SequenceSortField::Updated => Some(s.updated_at.timestamp_micros()),
            SequenceSortField::Datetime => {
                Some(s.min_captured_at.map_or(0, |t| t.timestamp_micros()))
            }
            SequenceSortField::Id => None,
        }
    }
}

/// One key of the order of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequenceSort {
    /// What is compared.
    pub field: SequenceSortField,
    /// Largest first.
    pub descending: bool,
}

impl SequenceSort {
    /// Oldest first: the default order of listings.
    pub const CREATED_ASC: SequenceSort = SequenceSort {
        field: SequenceSortField::Created,
        descending: false,
    };

    /// Newest first: the default order of feeds and of one account's sequences.
    pub const CREATED_DESC: SequenceSort = SequenceSort {
        field: SequenceSortField::Created,
        descending: true,
    };

    /// Least recently changed first: the default order of listings with tombstones.
    pub const UPDATED_ASC: SequenceSort = SequenceSort {
        field: SequenceSortField::Updated,
        descending: false,
    };
}

/// The full order a listing runs in: the keys asked for (by creation if none), each field
/// once, ending with the id, which makes the order total. The id follows the direction of the
/// last key asked for, so a single-key order runs in one direction and scans one index.
pub fn total_order(sort: &[SequenceSort]) -> Vec<SequenceSort> {
    let asked = if sort.is_empty() {
        &[SequenceSort::CREATED_ASC][..]
    } else {
        sort
    };
    let mut keys: Vec<SequenceSort> = Vec::with_capacity(asked.len() + 1);
    for key in asked {
        if keys.iter().any(|k| k.field == key.field) {
            continue;
        }
        keys.push(*key);
        if key.field == SequenceSortField::Id {
            return keys;
        }
    }
    let descending = keys.last().is_some_and(|k| k.descending);
    keys.push(SequenceSort {
        field: SequenceSortField::Id,
        descending,
    });
    keys
}

/// A position in a listing's order: the sort values of the sequence at the edge of a page, in
/// [`total_order`] without the id, then the id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceCursor {
    /// The values of the sort keys before the id (instants in microseconds).
    pub values: Vec<i64>,
    /// The id of the sequence.
    pub id: SequenceId,
}

impl SequenceCursor {
    /// The position of `sequence` in a listing sorted by `sort`.
    pub fn at(sequence: &Sequence, sort: &[SequenceSort]) -> SequenceCursor {
        SequenceCursor {
            values: total_order(sort)
                .iter()
                .filter_map(|k| k.field.value(sequence))
                .collect(),
            id: sequence.id,
        }
    }
}

/// Where a page of a listing starts or ends.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PagePosition {
    /// The first rows in the order.
    #[default]
    First,
    /// The rows just after a position (the next page).
    After(SequenceCursor),
    /// The rows just before a position (the previous page).
    Before(SequenceCursor),
    /// The last rows in the order.
    Last,
}

/// A listing of sequences.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SequenceQuery {
    /// Page size.
    pub limit: usize,
    /// Which page.
    pub page: PagePosition,
    /// The order; empty for oldest first.
    pub sort: Vec<SequenceSort>,
    /// Only sequences whose bbox intersects `[min lon, min lat, max lon, max lat]`.
    pub bbox: Option<[f64; 4]>,
    /// Only sequences whose capture interval intersects this one.
    pub datetime: TimeRange,
    /// Only sequences of this account.
    pub account: Option<AccountId>,
    /// Only sequences matching this filter, checked against [`SEQUENCE_QUERYABLES`].
    pub filter: Option<Filter>,
    /// Who reads: only the sequences it may see are listed.
    pub viewer: Viewer,
    /// Also the sequences not yet published, deleted ones aside: the owner's view of its own
    /// sequences.
    pub include_unready: bool,
    /// Every sequence, deleted, hidden from the viewer or unpublished ones included, for the
    /// reader layer to turn those the viewer may not see into tombstones.
    pub with_hidden: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(field: SequenceSortField, descending: bool) -> SequenceSort {
        SequenceSort { field, descending }
    }

    #[test]
    fn orders_end_with_the_id_in_the_direction_of_the_last_key() {
        use SequenceSortField::{Created, Id, Updated};
        assert_eq!(total_order(&[]), [key(Created, false), key(Id, false)]);
        assert_eq!(
            total_order(&[key(Updated, true), key(Updated, false)]),
            [key(Updated, true), key(Id, true)]
        );
        assert_eq!(
            total_order(&[key(Id, true), key(Created, false)]),
            [key(Id, true)]
        );
    }
}
