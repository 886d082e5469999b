//! The contract of who sees what: every read of pictures and sequences returns exactly what
//! [`Viewer::may_see`] allows its viewer, for the object and for its sequence.

use std::collections::BTreeSet;

use chrono::{TimeZone, Utc};
use flaneur_model::{
    AccountId, NewPicture, NewUploadSet, Picture, PictureId, PictureStatus, SequenceId,
    SequenceStatus, Viewer, Visibility,
};
use flaneur_store::{
    Catalog, NearbyQuery, PagePosition, PageStart, PictureQuery, RankQuery, SequenceCursor,
    SequenceQuery,
};

use crate::backend::{Sql, sql_contracts};
use crate::fixture::{self, LAT, LON};

/// A published picture of the fixture, with what decides who sees it.
#[derive(Debug, Clone, Copy)]
struct Placed {
    id: PictureId,
    sequence: SequenceId,
    owner: AccountId,
    visibility: Visibility,
    sequence_visibility: Visibility,
    rank: i64,
    lon_lat: (f64, f64),
}

impl Placed {
    fn is_seen_by(&self, viewer: Viewer) -> bool {
        viewer.may_see(self.visibility, self.owner)
            && viewer.may_see(self.sequence_visibility, self.owner)
    }
}

/// For each of two owners and each sequence visibility, one sequence of three ready pictures,
/// one at each visibility, all within a few metres of (`LON`, `LAT`).
async fn publish_fixture(catalog: &dyn Catalog, owners: [AccountId; 2]) -> Vec<Placed> {
    let mut placed = Vec::new();
    let mut n = 0;
    for (o, owner) in owners.into_iter().enumerate() {
        for (v, sequence_visibility) in Visibility::ALL.into_iter().enumerate() {
            let spec = NewUploadSet {
                visibility: sequence_visibility,
                ..NewUploadSet::titled("walk", owner)
            };
            let set = catalog.create_upload_set(spec).await.expect("create").id;
            let mut pictures = Vec::new();
            for (p, visibility) in Visibility::ALL.into_iter().enumerate() {
                n += 1;
                let at = Utc
                    .timestamp_opt(1_600_000_000 + n, 0)
                    .single()
                    .expect("at");
                let spot = fixture::offset((o * 3 + v) as f64, p as f64);
                let picture = NewPicture {
                    visibility,
                    ..fixture::picture(set, owner, p, at, spot)
                };
                pictures.push((picture, PictureStatus::Ready));
            }
            let placed_at: Vec<(Visibility, (f64, f64))> = pictures
                .iter()
                .map(|(p, _)| (p.visibility, (p.lon, p.lat)))
                .collect();
            let (sequence, ids) = fixture::publish(catalog, set, "walk", pictures).await;
            for (rank, (id, (visibility, lon_lat))) in ids.into_iter().zip(placed_at).enumerate() {
                placed.push(Placed {
                    id,
                    sequence,
                    owner,
                    visibility,
                    sequence_visibility,
                    rank: rank as i64 + 1,
                    lon_lat,
                });
            }
        }
    }
    placed
}

fn picture_ids(pictures: &[Picture]) -> BTreeSet<PictureId> {
    pictures.iter().map(|p| p.base.id).collect()
}

async fn visibility_contract(catalog: &dyn Catalog, sql: &Sql) {
    let (owner, _) = catalog.default_account().await.expect("account");
    let other = AccountId::new();
    sql.run(
        "INSERT INTO accounts (id, name, created_at) VALUES (?1, 'other', 0)",
        "INSERT INTO accounts (id, name, created_at) VALUES ($1, 'other', now())",
        &[other.0],
    )
    .await;
    let placed = publish_fixture(catalog, [owner, other]).await;
    let sequences: BTreeSet<SequenceId> = placed.iter().map(|p| p.sequence).collect();

    let viewers = [
        ("anonymous", Viewer::ANONYMOUS),
        ("owner", Viewer::account(owner, false)),
        ("other owner", Viewer::account(other, false)),
        (
            "account owning nothing",
            Viewer::account(AccountId::new(), false),
        ),
        ("admin", Viewer::account(AccountId::new(), true)),
    ];
    for (who, viewer) in viewers {
        let seen: Vec<&Placed> = placed.iter().filter(|p| p.is_seen_by(viewer)).collect();
        let seen_ids: BTreeSet<PictureId> = seen.iter().map(|p| p.id).collect();
        let seen_sequences: BTreeSet<SequenceId> = placed
            .iter()
            .filter(|p| viewer.may_see(p.sequence_visibility, p.owner))
            .map(|p| p.sequence)
            .collect();

        // Search, in one page and page by page.
        let query = PictureQuery {
            bbox: Some([LON - 0.01, LAT - 0.01, LON + 0.01, LAT + 0.01]),
            limit: 100,
            viewer,
            ..PictureQuery::default()
        };
        let found = catalog.search_pictures(&query).await.expect("search");
        assert_eq!(picture_ids(&found.rows), seen_ids, "search as {who}");
        let mut paged = BTreeSet::new();
        let mut query = PictureQuery { limit: 2, ..query };
        loop {
            let page = catalog.search_pictures(&query).await.expect("search");
            paged.extend(picture_ids(&page.rows));
            let Some(last) = page.rows.last().filter(|_| page.has_next) else {
                break;
            };
            query.start = Some(PageStart {
                position: query.order.position_of(last, None),
                backward: false,
            });
        }
        assert_eq!(paged, seen_ids, "search pages as {who}");

        // Listings of sequences, everyone's and one account's, and what they cover.
        let query = SequenceQuery {
            limit: 100,
            viewer,
            ..SequenceQuery::default()
        };
        let listed = catalog.list_sequences(&query).await.expect("list");
        let listed: BTreeSet<SequenceId> = listed.rows.iter().map(|s| s.id).collect();
        assert_eq!(listed, seen_sequences, "listing as {who}");
        let of_owner = SequenceQuery {
            account: Some(owner),
            limit: 2,
            ..query.clone()
        };
        let mut listed = BTreeSet::new();
        let mut page_query = of_owner.clone();
        loop {
            let page = catalog.list_sequences(&page_query).await.expect("list");
            listed.extend(page.rows.iter().map(|s| s.id));
            let Some(last) = page.rows.last().filter(|_| page.has_next) else {
                break;
            };
            page_query.page = PagePosition::After(SequenceCursor::at(last, &page_query.sort));
        }
        let owned: BTreeSet<SequenceId> = placed
            .iter()
            .filter(|p| p.owner == owner && seen_sequences.contains(&p.sequence))
            .map(|p| p.sequence)
            .collect();
        assert_eq!(listed, owned, "listing of the owner as {who}");
        let summary = catalog
            .account_summary(owner, viewer)
            .await
            .expect("summary");
        assert_eq!(summary.nb_sequences, owned.len() as i64, "summary as {who}");

        // Each sequence's pictures, rank bounds and neighbours along it.
        for &sequence in &sequences {
            let along: Vec<&Placed> = seen
                .iter()
                .copied()
                .filter(|p| p.sequence == sequence)
                .collect();
            let query = RankQuery {
                visible_to: Some(viewer),
                ..RankQuery::default()
            };
            let pictures = catalog
                .sequence_pictures(sequence, query)
                .await
                .expect("pictures");
            let expected: BTreeSet<PictureId> = along.iter().map(|p| p.id).collect();
            assert_eq!(picture_ids(&pictures), expected, "items as {who}");
            let bounds = catalog
                .sequence_rank_bounds(sequence, viewer)
                .await
                .expect("bounds");
            let ranks: Vec<i64> = along.iter().map(|p| p.rank).collect();
            let expected = ranks.first().copied().zip(ranks.last().copied());
            assert_eq!(bounds, expected, "rank bounds as {who}");
            for rank in 1..=3 {
                let (prev, next) = catalog
                    .sequence_neighbours(sequence, rank, viewer)
                    .await
                    .expect("neighbours");
                let id = |p: Option<Picture>| p.map(|p| p.base.id);
                let before = along.iter().rev().find(|p| p.rank < rank).map(|p| p.id);
                let after = along.iter().find(|p| p.rank > rank).map(|p| p.id);
                assert_eq!((id(prev), id(next)), (before, after), "neighbours as {who}");
            }
        }

        // Pictures of other sequences around a spot: one per sequence the viewer sees a
        // picture of.
        let query = NearbyQuery {
            lon: LON,
            lat: LAT,
            sequence: SequenceId::new(),
            within_m: 50.0,
            facing: None,
            viewer,
        };
        let nearby = catalog.nearby_pictures(&query).await.expect("nearby");
        assert!(
            nearby.iter().all(|p| seen_ids.contains(&p.base.id)),
            "nearby as {who}"
        );
        let near_sequences: BTreeSet<SequenceId> =
            nearby.iter().filter_map(|p| p.sequence_id).collect();
        let expected: BTreeSet<SequenceId> = seen.iter().map(|p| p.sequence).collect();
        assert_eq!(near_sequences, expected, "nearby sequences as {who}");
    }

    // The extent, shown to everyone, covers only what anyone may see.
    let public: Vec<(f64, f64)> = placed
        .iter()
        .filter(|p| p.is_seen_by(Viewer::ANONYMOUS))
        .map(|p| p.lon_lat)
        .collect();
    let fold = |pick: fn((f64, f64)) -> f64, min: bool| {
        let values = public.iter().map(|&p| pick(p));
        if min {
            values.fold(f64::INFINITY, f64::min)
        } else {
            values.fold(f64::NEG_INFINITY, f64::max)
        }
    };
    let expected = [
        fold(|p| p.0, true),
        fold(|p| p.1, true),
        fold(|p| p.0, false),
        fold(|p| p.1, false),
    ];
    let extent = catalog.extent().await.expect("extent");
    let bbox = extent.bbox.expect("a bbox");
    for (got, want) in bbox.iter().zip(expected) {
        assert!(
            (got - want).abs() < 1e-9,
            "extent {bbox:?}, public {expected:?}"
        );
    }

    // The owner's own listing may include what is not published yet, never what is deleted,
    // and still only what the viewer may see.
    let unready = placed[0].sequence;
    sql.run(
        "UPDATE sequences SET status = 'waiting-for-process' WHERE id = ?1",
        "UPDATE sequences SET status = 'waiting-for-process' WHERE id = $1",
        &[unready.0],
    )
    .await;
    let own_listing = |viewer: Viewer, include_unready: bool| SequenceQuery {
        account: Some(owner),
        limit: 100,
        viewer,
        include_unready,
        ..SequenceQuery::default()
    };
    let listed = |query: SequenceQuery| async move {
        let page = catalog.list_sequences(&query).await.expect("list");
        page.rows
            .iter()
            .map(|s| (s.id, s.status))
            .collect::<Vec<_>>()
    };
    let as_owner = Viewer::account(owner, false);
    let with = listed(own_listing(as_owner, true)).await;
    assert!(with.contains(&(unready, SequenceStatus::WaitingForProcess)));
    assert!(with.iter().all(|(_, s)| *s != SequenceStatus::Deleted));
    let without = listed(own_listing(as_owner, false)).await;
    assert!(without.iter().all(|(id, _)| *id != unready));
}

sql_contracts! {
    every_read_shows_what_the_viewer_may_see => visibility_contract;
}
