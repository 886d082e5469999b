//! The contract of annotations: made once per shape of a picture, tags changed as a diff, an
//! annotation left without tags deleted, every change moving its picture's and sequence's
//! `updated`, annotations gone with their picture, and the search filter matching their tags.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use flaneur_model::{
    AnnotationId, NewAnnotation, NewUploadSet, PictureId, PictureStatus, SemanticTag, SequenceId,
    Shape, TagAction, TagChange,
};
use flaneur_store::{
    AnnotationOutcome, Catalog, CompareOp, Filter, Literal, PictureQuery, checked_picture_filter,
};

use crate::backend::catalog_contracts;
use crate::fixture::{self, offset};

catalog_contracts! {
    annotations_hold_tags_on_parts_of_pictures => annotations;
}

/// A published walk of two ready pictures of 100 × 50 pixels.
async fn walk(catalog: &dyn Catalog) -> (SequenceId, Vec<PictureId>) {
    let (account, _) = catalog.default_account().await.expect("account");
    let set = catalog
        .create_upload_set(NewUploadSet::titled("walk", account))
        .await
        .expect("set")
        .id;
    let pictures = (0..2)
        .map(|n| {
            let at = Utc
                .timestamp_opt(1_600_000_000 + 10 * n, 0)
                .single()
                .expect("instant");
            let picture =
                fixture::picture(set, account, n as usize, at, offset(10.0 * n as f64, 0.0));
            (picture, PictureStatus::Ready)
        })
        .collect();
    fixture::publish(catalog, set, "walk", pictures).await
}

fn change(key: &str, value: &str, action: TagAction) -> TagChange {
    TagChange {
        tag: SemanticTag {
            key: key.to_owned(),
            value: value.to_owned(),
        },
        action,
    }
}

fn tags(pairs: &[(&str, &str)]) -> Vec<SemanticTag> {
    pairs
        .iter()
        .map(|(key, value)| SemanticTag {
            key: (*key).to_owned(),
            value: (*value).to_owned(),
        })
        .collect()
}

/// `updated` of a picture and of a sequence.
async fn stamps(
    catalog: &dyn Catalog,
    picture: PictureId,
    sequence: SequenceId,
) -> (chrono::DateTime<Utc>, chrono::DateTime<Utc>) {
    let p = catalog
        .picture(picture)
        .await
        .expect("read")
        .expect("picture");
    let s = catalog
        .sequence(sequence)
        .await
        .expect("read")
        .expect("sequence");
    (p.updated_at, s.updated_at)
}

async fn tagged(outcome: AnnotationOutcome) -> flaneur_model::Annotation {
    match outcome {
        AnnotationOutcome::Tagged(annotation) => annotation,
        other => panic!("expected a tagged annotation, got {other:?}"),
    }
}

async fn annotations(catalog: &dyn Catalog) {
    let (account, _) = catalog.default_account().await.expect("account");
    let (seq, ids) = walk(catalog).await;
    let sign = Shape::from_box(10, 5, 30, 25);
    let new = |shape: &Shape| NewAnnotation {
        id: AnnotationId::new(),
        picture_id: ids[0],
        shape: shape.clone(),
        account_id: account,
    };
    let before = stamps(catalog, ids[0], seq).await;
    tokio::time::sleep(Duration::from_millis(3)).await;

    // 1. Made with its tags; the picture and its sequence changed for harvesters.
    let first = new(&sign);
    let made = tagged(
        catalog
            .annotate(
                &first,
                &[
                    change("osm|traffic_sign", "FR:B14", TagAction::Add),
                    change("detection", "yes", TagAction::Add),
                ],
            )
            .await
            .expect("annotate"),
    )
    .await;
    assert_eq!(made.id, first.id);
    assert_eq!(made.picture_id, ids[0]);
    assert_eq!(made.shape, sign);
    assert_eq!(made.account_id, account);
    assert_eq!(
        made.semantics,
        tags(&[("detection", "yes"), ("osm|traffic_sign", "FR:B14")])
    );
    let after_made = stamps(catalog, ids[0], seq).await;
    assert!(
        after_made.0 > before.0 && after_made.1 > before.1,
        "{before:?} {after_made:?}"
    );
    assert_eq!(
        catalog.annotation(made.id).await.expect("read"),
        Some(made.clone())
    );

    // 2. The same shape again joins the same annotation, its tags applied as a diff.
    tokio::time::sleep(Duration::from_millis(3)).await;
    let joined = tagged(
        catalog
            .annotate(
                &new(&Shape::from_json(&sign.to_json()).expect("shape")),
                &[
                    change("detection", "yes", TagAction::Delete),
                    change("osm|traffic_sign", "FR:B14", TagAction::Add),
                    change("colour", "red", TagAction::Add),
                ],
            )
            .await
            .expect("annotate"),
    )
    .await;
    assert_eq!(joined.id, made.id);
    assert_eq!(
        joined.semantics,
        tags(&[("colour", "red"), ("osm|traffic_sign", "FR:B14")])
    );
    let after_joined = stamps(catalog, ids[0], seq).await;
    assert!(after_joined.0 > after_made.0 && after_joined.1 > after_made.1);

    // A change that alters nothing writes nothing.
    tokio::time::sleep(Duration::from_millis(3)).await;
    let same = tagged(
        catalog
            .edit_annotation(made.id, &[change("colour", "red", TagAction::Add)])
            .await
            .expect("edit"),
    )
    .await;
    assert_eq!(same, joined);
    assert_eq!(stamps(catalog, ids[0], seq).await, after_joined);

    // 3. Another shape is another annotation; a new one without tags is not made, and a
    //    proposed id already used is refused.
    let wheel = new(&Shape::from_box(0, 0, 100, 50));
    let other = tagged(
        catalog
            .annotate(&wheel, &[change("thing", "wheel", TagAction::Add)])
            .await
            .expect("annotate"),
    )
    .await;
    let empty = catalog
        .annotate(&new(&Shape::from_box(1, 1, 2, 2)), &[])
        .await
        .expect("annotate");
    assert_eq!(empty, AnnotationOutcome::Emptied);
    let reused = NewAnnotation {
        id: made.id,
        ..new(&Shape::from_box(3, 3, 4, 4))
    };
    let taken = catalog
        .annotate(&reused, &[change("a", "b", TagAction::Add)])
        .await
        .expect("annotate");
    assert_eq!(taken, AnnotationOutcome::IdTaken);
    let missing = NewAnnotation {
        picture_id: PictureId::new(),
        ..new(&sign)
    };
    let missing = catalog
        .annotate(&missing, &[change("a", "b", TagAction::Add)])
        .await
        .expect("annotate");
    assert_eq!(missing, AnnotationOutcome::Missing);

    // 4. Annotations come with their picture, oldest first.
    let of_pictures = catalog
        .picture_annotations(&ids)
        .await
        .expect("annotations");
    let listed: Vec<AnnotationId> = of_pictures[&ids[0]].iter().map(|a| a.id).collect();
    assert_eq!(listed, [made.id, other.id]);
    assert!(!of_pictures.contains_key(&ids[1]));

    // 5. The search filter on a key finds pictures whose annotation has the tag.
    let search = |value: &str| {
        let filter = Filter::Compare {
            property: "semantics.osm|traffic_sign".to_owned(),
            op: CompareOp::Eq,
            value: Literal::Text(value.to_owned()),
        };
        PictureQuery {
            filter: Some(checked_picture_filter(filter).expect("filter")),
            limit: 10,
            ..PictureQuery::default()
        }
    };
    let found = catalog
        .search_pictures(&search("FR:B14"))
        .await
        .expect("search");
    let found: Vec<PictureId> = found.rows.iter().map(|p| p.base.id).collect();
    assert_eq!(found, [ids[0]]);
    let none = catalog
        .search_pictures(&search("FR:B15"))
        .await
        .expect("search");
    assert!(none.rows.is_empty());

    // 6. Removing the last tags deletes the annotation, moving `updated` again.
    tokio::time::sleep(Duration::from_millis(3)).await;
    let emptied = catalog
        .edit_annotation(
            made.id,
            &[
                change("colour", "red", TagAction::Delete),
                change("osm|traffic_sign", "FR:B14", TagAction::Delete),
            ],
        )
        .await
        .expect("edit");
    assert_eq!(emptied, AnnotationOutcome::Emptied);
    assert_eq!(catalog.annotation(made.id).await.expect("read"), None);
    let after_emptied = stamps(catalog, ids[0], seq).await;
    assert!(after_emptied.0 > after_joined.0 && after_emptied.1 > after_joined.1);
    let gone = catalog
        .edit_annotation(made.id, &[change("a", "b", TagAction::Add)])
        .await
        .expect("edit");
    assert_eq!(gone, AnnotationOutcome::Missing);
    let found = catalog
        .search_pictures(&search("FR:B14"))
        .await
        .expect("search");
    assert!(found.rows.is_empty());

    // 7. Deleting: by id, then with the picture.
    tokio::time::sleep(Duration::from_millis(3)).await;
    assert!(catalog.delete_annotation(other.id).await.expect("delete"));
    assert!(!catalog.delete_annotation(other.id).await.expect("delete"));
    assert!(stamps(catalog, ids[0], seq).await.0 > after_emptied.0);
    let last = tagged(
        catalog
            .annotate(&new(&sign), &[change("a", "b", TagAction::Add)])
            .await
            .expect("annotate"),
    )
    .await;
    let rule = |_: &flaneur_model::Sequence, pictures: Vec<flaneur_model::Picture>| {
        flaneur_store::Arrangement {
            pictures: pictures
                .iter()
                .map(|p| flaneur_store::PlannedPicture {
                    id: p.base.id,
                    heading_deg: p.base.heading_deg,
                    heading_computed: p.heading_computed,
                })
                .collect(),
            ..flaneur_store::Arrangement::default()
        }
    };
    assert!(catalog.delete_picture(ids[0], &rule).await.expect("delete"));
    assert_eq!(catalog.annotation(last.id).await.expect("read"), None);
    let of_pictures = catalog
        .picture_annotations(&ids)
        .await
        .expect("annotations");
    assert!(of_pictures.is_empty(), "{of_pictures:?}");
}
