//! What a catalog writes when a sequence is arranged again after a change: which ranks go and
//! which come. Both catalogs compute it here and only run the writes.

use std::collections::HashSet;

use flaneur_model::{PictureId, SequenceId};

use crate::catalog::Arrangement;
use crate::{Error, Result};

/// The rank writes of an arrangement: ranks to take out first, then `(rank, picture)` rows to
/// put in.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct RankWrites {
    /// Ranks to delete.
    pub remove: Vec<i64>,
    /// Ranks to insert.
    pub insert: Vec<(i64, PictureId)>,
}

/// The writes turning the ranks `current` (in rank order) into `arrangement`'s order.
///
/// Pictures keep their ranks when their order does not change, gaps included: a client walking
/// a sequence with `startAfterRank` then misses nothing. When the order changes, pictures are
/// ranked 1 to n, and only the rows that differ are written, so that pictures whose rank stays
/// keep their `updated` date.
///
/// # Errors
/// [`Error::Refused`] when the arrangement does not hold exactly the sequence's pictures.
pub(crate) fn rank_writes(
    sequence: SequenceId,
    current: &[(i64, PictureId)],
    arrangement: &Arrangement,
) -> Result<RankWrites> {
    let planned: Vec<PictureId> = arrangement.pictures.iter().map(|p| p.id).collect();
    let before: HashSet<PictureId> = current.iter().map(|(_, id)| *id).collect();
    let after: HashSet<PictureId> = planned.iter().copied().collect();
    if before != after || after.len() != planned.len() {
        return Err(Error::Refused(format!(
            "the new order of sequence {sequence} does not hold its pictures, each once"
        )));
    }
    if current
        .iter()
        .map(|(_, id)| *id)
        .eq(planned.iter().copied())
    {
        return Ok(RankWrites::default());
    }
    let wanted: Vec<(i64, PictureId)> = (1_i64..).zip(planned).collect();
    let wanted_set: HashSet<&(i64, PictureId)> = wanted.iter().collect();
    let current_set: HashSet<&(i64, PictureId)> = current.iter().collect();
    Ok(RankWrites {
        remove: current
            .iter()
            .filter(|r| !wanted_set.contains(r))
            .map(|(rank, _)| *rank)
            .collect(),
        insert: wanted
            .iter()
            .filter(|r| !current_set.contains(r))
            .copied()
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PlannedPicture;

    fn arrangement(ids: &[PictureId]) -> Arrangement {
        Arrangement {
            pictures: ids
                .iter()
                .map(|&id| PlannedPicture {
                    id,
                    heading_deg: None,
                    heading_computed: false,
                })
                .collect(),
            ..Arrangement::default()
        }
    }

    #[test]
    fn an_unchanged_order_keeps_its_ranks_and_gaps() {
        let (a, b) = (PictureId::new(), PictureId::new());
        let writes = rank_writes(SequenceId::new(), &[(1, a), (3, b)], &arrangement(&[a, b]));
        assert_eq!(writes.ok(), Some(RankWrites::default()));
    }

    #[test]
    fn a_new_order_rewrites_only_the_ranks_that_change() {
        let (a, b, c) = (PictureId::new(), PictureId::new(), PictureId::new());
        let current = [(1, a), (2, b), (3, c)];
        let writes =
            rank_writes(SequenceId::new(), &current, &arrangement(&[a, c, b])).expect("writes");
        assert_eq!(writes.remove, [2, 3]);
        assert_eq!(writes.insert, [(2, c), (3, b)]);
    }

    #[test]
    fn refuses_an_order_that_loses_or_repeats_a_picture() {
        let (a, b) = (PictureId::new(), PictureId::new());
        let seq = SequenceId::new();
        assert!(rank_writes(seq, &[(1, a), (2, b)], &arrangement(&[a])).is_err());
        assert!(rank_writes(seq, &[(1, a), (2, b)], &arrangement(&[a, b, b])).is_err());
        assert!(rank_writes(seq, &[(1, a)], &arrangement(&[b])).is_err());
    }
}
