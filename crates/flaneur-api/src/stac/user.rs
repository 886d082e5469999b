//! JSON shapes of accounts: the list of users, one user's profile, their sequences as one STAC
//! collection (or, in the deprecated form, a catalog), and the user search.

use flaneur_model::{AccountId, Sequence};
use flaneur_store::AccountSummary;
use serde_json::{Value, json};

use super::{CONFORMANCE, STAC_VERSION, compact, link, root_link, ts};
use crate::InstanceInfo;
use crate::url::BaseUrl;

/// Links every description of an account carries: its profile and its sequences.
fn account_links(base: &BaseUrl, id: AccountId) -> Vec<Value> {
    vec![
        link(
            "user-info",
            Some("application/json"),
            base.api(&format!("/users/{id}")),
            None,
        ),
        link(
            "collection",
            Some("application/json"),
            base.api(&format!("/users/{id}/collection")),
            None,
        ),
    ]
}

/// `/api/users`: every account, as a catalog whose children are their sequences.
pub fn users(base: &BaseUrl, accounts: &[(AccountId, String)]) -> Value {
    let mut links = vec![
        link(
            "user-search",
            Some("application/json"),
            base.api("/users/search"),
            Some("Search users"),
        ),
        root_link(base),
    ];
    links.extend(accounts.iter().map(|(id, name)| {
        let title = format!("User \"{name}\" sequences");
        link(
            "child",
            None,
            base.api(&format!("/users/{id}/collection")),
            Some(&title),
        )
    }));
    let users: Vec<Value> = accounts
        .iter()
        .map(|(id, name)| json!({ "id": id, "name": name, "links": account_links(base, *id) }))
        .collect();
    json!({
        "stac_version": STAC_VERSION,
        "type": "Catalog",
        "id": "geovisio:users",
        "title": "users catalog",
        "description": "List of users catalog",
        "conformsTo": CONFORMANCE,
        "users": users,
        "links": links,
    })
}

/// `/api/users/{id}`: an account's public profile.
pub fn user(base: &BaseUrl, id: AccountId, name: &str) -> Value {
    json!({ "id": id, "name": name, "links": account_links(base, id) })
}

/// `/api/users/search`: accounts whose name matches, as the search answers them.
pub fn user_search(base: &BaseUrl, accounts: &[(AccountId, String)]) -> Value {
    let features: Vec<Value> = accounts
        .iter()
        .map(|(id, name)| json!({ "id": id, "label": name, "links": account_links(base, *id) }))
        .collect();
    json!({ "features": features })
}

/// A `child` link to a sequence, with what a list of sequences shows without opening each.
/// The links of a listing of one account's sequences: root and parent, the page's own links,
/// then one `child` link a sequence.
fn listing_links(
    base: &BaseUrl,
    page: Vec<Value>,
    children: impl Iterator<Item = Value>,
) -> Vec<Value> {
    let parent = link(
        "parent",
        Some("application/json"),
        base.api("/"),
        Some("Instance catalog"),
    );
    [root_link(base), parent]
        .into_iter()
        .chain(page)
        .chain(children)
        .collect()
}

/// `for_owner` adds the sequence's state and visibility, which only its owner (or an
/// administrator) is told, as they decide who sees it.
fn sequence_child(base: &BaseUrl, s: &Sequence, for_owner: bool) -> Value {
    let interval = match (s.min_captured_at, s.max_captured_at) {
        (Some(a), Some(b)) => json!([[ts(a), ts(b)]]),
        _ => json!([[null, null]]),
    };
    let mut child = compact(json!({
        "rel": "child",
        "type": "application/json",
        "title": s.title,
        "href": base.api(&format!("/collections/{}", s.id)),
        "id": s.id,
        "created": ts(s.created_at),
        "updated": ts(s.updated_at),
        "stats:items": { "count": s.nb_pictures },
        "geovisio:length_km": s.length_km.map(|l| (l * 1000.0).round() / 1000.0),
    }));
    if for_owner {
        child["geovisio:status"] = json!(s.status.as_str());
        child["geovisio:visibility"] = json!(s.visibility.as_str());
    }
    child["extent"] = json!({ "temporal": { "interval": interval } });
    if let Some(bbox) = s.bbox {
        child["extent"]["spatial"] = json!({ "bbox": [bbox] });
    }
    child
}

/// The account's sequences as one STAC collection whose `child` links are the sequences of
/// this page; `links` are the self and paging links of the page. `for_owner`: the caller
/// acts as the account's owner, and is told each sequence's state and visibility.
pub fn user_collection(
    base: &BaseUrl,
    info: &InstanceInfo,
    (id, name): (AccountId, &str),
    summary: &AccountSummary,
    (sequences, for_owner): (&[Sequence], bool),
    links: Vec<Value>,
) -> Value {
    let bbox = summary.extent.bbox.unwrap_or([-180.0, -90.0, 180.0, 90.0]);
    let interval = match summary.extent.interval {
        Some((a, b)) => json!([[ts(a), ts(b)]]),
        None => json!([[null, null]]),
    };
    let children = sequences.iter().map(|s| sequence_child(base, s, for_owner));
    let all_links = listing_links(base, links, children);
    compact(json!({
        "type": "Collection",
        "stac_version": STAC_VERSION,
        "stac_extensions": [
            "https://stac-extensions.github.io/stats/v0.2.0/schema.json",
            "https://stac-extensions.github.io/timestamps/v1.1.0/schema.json"
        ],
        "id": format!("user:{id}"),
        "title": format!("{name}'s sequences"),
        "description": format!("List of all sequences of user {name}"),
        "keywords": ["pictures", name],
        "license": info.license_id,
        "created": summary.first_created_at.map(ts),
        "updated": summary.last_updated_at.map(ts),
        "providers": [{ "name": name, "roles": ["producer"], "id": id }],
        "extent": { "spatial": { "bbox": [bbox] }, "temporal": { "interval": interval } },
        "stats:collections": { "count": summary.nb_sequences },
        "links": all_links,
    }))
}

/// The deprecated form of the same list: a STAC catalog of `child` links.
pub fn user_catalog(
    base: &BaseUrl,
    (id, name): (AccountId, &str),
    sequences: &[Sequence],
    links: Vec<Value>,
) -> Value {
    let children = sequences.iter().map(|s| {
        link(
            "child",
            Some("application/json"),
            base.api(&format!("/collections/{}", s.id)),
            Some(&s.title),
        )
    });
    let all_links = listing_links(base, links, children);
    json!({
        "stac_version": STAC_VERSION,
        "type": "Catalog",
        "id": format!("user:{id}"),
        "title": format!("{name}'s sequences"),
        "description": format!("List of all sequences of user {name}"),
        "links": all_links,
    })
}

/// The account's sequences as CSV, one line each after a header; fields holding a comma, a
/// quote or a line break are quoted, so titles cannot shift columns.
pub fn user_csv(sequences: &[Sequence]) -> String {
    let mut out = String::from(
        "id,status,name,created,updated,capture_date,minimum_capture_time,\
         maximum_capture_time,min_x,min_y,max_x,max_y,nb_pictures,length_km,\
         computed_gps_accuracy\n",
    );
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    for s in sequences {
        let [min_x, min_y, max_x, max_y] = s.bbox.map_or([None; 4], |b| b.map(Some));
        let fields = [
            s.id.to_string(),
            s.status.as_str().to_owned(),
            s.title.clone(),
            ts(s.created_at),
            ts(s.updated_at),
            s.min_captured_at
                .map(|t| t.date_naive().to_string())
                .unwrap_or_default(),
            s.min_captured_at.map(ts).unwrap_or_default(),
            s.max_captured_at.map(ts).unwrap_or_default(),
            opt(min_x),
            opt(min_y),
            opt(max_x),
            opt(max_y),
            s.nb_pictures.to_string(),
            opt(s.length_km),
            opt(s.gps_accuracy_m),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_with_separators_are_quoted() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }
}
