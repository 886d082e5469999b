//! A catalog of a catalog: an instance harvested by a relay, itself harvested by a catalog.
//! What the relay removes reaches the catalog as a tombstone, and the `updated` each of them
//! shows is the one their listings filter, sort and page by.

use chrono::{DateTime, SecondsFormat, Utc};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::federation::flaneur_exits;
use crate::federation_union::Peer;
use crate::server::{Server, feature_ids, link};
use crate::{GOPRO, SONY};

/// The entries of `GET /api/collections?show_deleted=true&sortby=+updated`, as a harvester
/// reads them, from `from` on (`filter=updated >= 'from'`) when given.
fn changes(server: &Server, from: Option<&str>) -> Vec<Value> {
    let mut path = "/collections?show_deleted=true&sortby=%2Bupdated&limit=100".to_owned();
    if let Some(from) = from {
        let filter = format!("updated >= '{from}'");
        path.push_str(&format!(
            "&filter={}",
            utf8_percent_encode(&filter, NON_ALPHANUMERIC)
        ));
    }
    let (status, page) = server.get_json(&path);
    assert_eq!(status, StatusCode::OK, "{path}: {page}");
    assert_eq!(link(&page, "next"), None, "{page}");
    page["collections"].as_array().expect("collections").clone()
}

fn id_of(entry: &Value) -> String {
    entry["id"].as_str().expect("collection id").to_owned()
}

fn ids(entries: &[Value]) -> Vec<String> {
    entries.iter().map(id_of).collect()
}

/// The ids listed as tombstones.
fn tombstones(entries: &[Value]) -> Vec<String> {
    let gone = entries
        .iter()
        .filter(|e| e["geovisio:status"] == json!("deleted"));
    gone.map(id_of).collect()
}

/// Checks what a harvester of `server` relies on when it keeps the highest `updated` it saw:
/// the listing by `updated` runs in the order of the values shown, and `updated >= X` keeps
/// exactly the entries showing X or later, and a part of the listing that ends it. X is
/// each value shown and each of `probes`, instants the test took between harvests.
fn updated_agrees_with_the_listing(server: &Server, probes: &[DateTime<Utc>]) {
    let all = changes(server, None);
    let shown: Vec<(usize, DateTime<Utc>)> = all
        .iter()
        .enumerate()
        .filter_map(|(i, entry)| {
            let text = entry["updated"].as_str()?;
            let at = DateTime::parse_from_rfc3339(text).expect("an RFC 3339 `updated`");
            Some((i, at.to_utc()))
        })
        .collect();
    assert!(shown.len() >= 2, "{all:?}");
    assert!(shown.windows(2).all(|w| w[0].1 <= w[1].1), "{all:?}");
    let values = shown.iter().map(|(_, at)| *at);
    for from in values.chain(probes.iter().copied()) {
        let text = from.to_rfc3339_opts(SecondsFormat::Micros, true);
        let kept = ids(&changes(server, Some(&text)));
        let start = all.len() - kept.len();
        assert_eq!(kept, ids(&all[start..]), "updated >= {text}");
        for &(i, at) in &shown {
            let entry = &all[i];
            assert_eq!(i >= start, at >= from, "updated >= {text}: {entry}");
        }
    }
}

/// Ids of the items `GET /search` finds over every test picture.
fn searched(server: &Server) -> Vec<String> {
    let (status, page) = server.get_json("/search?bbox=-2,48,2,49.5&limit=100");
    assert_eq!(status, StatusCode::OK, "{page}");
    let mut found = feature_ids(&page);
    found.sort();
    found
}

#[test]
fn a_catalog_of_a_catalog_follows_removals_and_the_updated_it_is_shown() {
    // 1. A peer with three sequences, harvested by a relay, harvested by a catalog: both
    //    harvest from the command line, their servers' own passes not being due for long.
    let peer = Peer::start();
    let (kept, kept_items) = peer.publish("kept", &GOPRO[..1]);
    let (deleted, _) = peer.publish("to delete", &GOPRO[1..2]);
    let (hidden, _) = peer.publish("to hide", &GOPRO[2..3]);
    let mut probes = vec![Utc::now()];
    let relay_dir = tempfile::tempdir().expect("relay data folder");
    let relay_data = relay_dir.path();
    flaneur_exits(relay_data, &["peer", "add", &peer.server.api], 0);
    flaneur_exits(relay_data, &["harvest"], 0);
    let relay = Server::start_in(relay_data);
    probes.push(Utc::now());
    let catalog_dir = tempfile::tempdir().expect("catalog data folder");
    let catalog_data = catalog_dir.path();
    flaneur_exits(catalog_data, &["peer", "add", &relay.api], 0);
    flaneur_exits(catalog_data, &["harvest"], 0);
    let catalog = Server::start_in(catalog_data);
    let sorted = |mut ids: Vec<String>| {
        ids.sort();
        ids
    };
    assert_eq!(
        sorted(ids(&changes(&catalog, None))),
        sorted(vec![kept.clone(), deleted.clone(), hidden.clone()])
    );

    // 2. At the peer, one sequence is published, one deleted and one hidden.
    let (added, added_items) = peer.publish("added", &SONY[..1]);
    peer.change(
        Method::DELETE,
        &format!("/collections/{deleted}"),
        None,
        StatusCode::NO_CONTENT,
    );
    peer.change(
        Method::PATCH,
        &format!("/collections/{hidden}"),
        Some(json!({ "visibility": "owner-only" })),
        StatusCode::OK,
    );
    probes.push(Utc::now());
    let report = flaneur_exits(relay_data, &["harvest"], 0);
    assert!(
        report.contains("\tapplied 1\t") && report.contains("\tremoved 2\t"),
        "{report}"
    );
    probes.push(Utc::now());
    let report = flaneur_exits(catalog_data, &["harvest"], 0);
    assert!(
        report.contains("\tapplied 1\t") && report.contains("\tremoved 2\t"),
        "{report}"
    );

    // 3. The relay's tombstones reached the catalog, which neither lists nor searches what
    //    they name, and serves the new sequence.
    let gone = sorted(vec![deleted, hidden]);
    let shown = sorted(vec![kept.clone(), added.clone()]);
    let items = sorted(kept_items.into_iter().chain(added_items.clone()).collect());
    for server in [&relay, &catalog] {
        let entries = changes(server, None);
        assert_eq!(sorted(tombstones(&entries)), gone, "{entries:?}");
        let (status, page) = server.get_json("/collections?limit=100");
        assert_eq!(status, StatusCode::OK, "{page}");
        let listed = ids(page["collections"].as_array().expect("collections"));
        assert_eq!(sorted(listed), shown);
        assert_eq!(searched(server), items);
        for id in &gone {
            let (status, page) = server.get_json(&format!("/search?collections={id}"));
            assert_eq!(status, StatusCode::OK, "{page}");
            assert_eq!(feature_ids(&page), Vec::<String>::new(), "{id}");
        }
    }

    // 4. Each shows the `updated` its listing goes by, and the peer's beside it, passed on
    //    from hop to hop.
    updated_agrees_with_the_listing(&relay, &probes);
    updated_agrees_with_the_listing(&catalog, &probes);
    let at_peer = peer.server.get_ok(&format!("/collections/{added}"));
    let at_relay = relay.get_ok(&format!("/collections/{added}"));
    let at_catalog = catalog.get_ok(&format!("/collections/{added}"));
    assert_eq!(at_relay["flaneur:origin_updated"], at_peer["updated"]);
    assert_eq!(at_catalog["flaneur:origin_updated"], at_peer["updated"]);
    // The license the pictures come under is the peer's, from hop to hop.
    let license = |doc: &Value| link(doc, "license");
    assert!(license(&at_peer).is_some(), "{at_peer}");
    assert_eq!(license(&at_catalog), license(&at_peer));
    let item = &added_items[0];
    let path = format!("/collections/{added}/items/{item}");
    let item_at_peer = peer.server.get_ok(&path);
    assert!(license(&item_at_peer).is_some(), "{item_at_peer}");
    assert_eq!(license(&catalog.get_ok(&path)), license(&item_at_peer));

    // 5. The peer removed from the relay, its collections leave the catalog too.
    flaneur_exits(relay_data, &["peer", "remove", &peer.server.api], 0);
    let report = flaneur_exits(catalog_data, &["harvest"], 0);
    assert!(report.contains("\tremoved 2\t"), "{report}");
    assert!(searched(&catalog).is_empty());
    assert_eq!(tombstones(&changes(&catalog, None)).len(), 4);
}

/// The line of a `flaneur harvest` report about the peer at `api`.
fn report_of<'a>(report: &'a str, api: &str) -> &'a str {
    let line = report.lines().find(|l| l.starts_with(&format!("{api}\t")));
    line.unwrap_or_else(|| panic!("no line for {api}: {report}"))
}

#[test]
fn two_catalogs_harvesting_each_other_keep_a_hidden_sequence_out() {
    // 1. X harvests a peer P and another catalog Y; Y harvests X: each lists the other's
    //    copy of P's sequences, which only X holds from P.
    let peer = Peer::start();
    let (kept, _) = peer.publish("kept", &GOPRO[..1]);
    let (hidden, hidden_items) = peer.publish("to hide", &GOPRO[1..2]);
    let x_dir = tempfile::tempdir().expect("X data folder");
    let y_dir = tempfile::tempdir().expect("Y data folder");
    let (x_data, y_data) = (x_dir.path(), y_dir.path());
    let x = Server::start_in(x_data);
    let y = Server::start_in(y_data);
    flaneur_exits(x_data, &["peer", "add", &peer.server.api], 0);
    flaneur_exits(x_data, &["peer", "add", &y.api], 0);
    flaneur_exits(y_data, &["peer", "add", &x.api], 0);
    flaneur_exits(x_data, &["harvest"], 0);
    flaneur_exits(y_data, &["harvest"], 0);
    let report = flaneur_exits(x_data, &["harvest"], 0);
    assert!(
        report_of(&report, &y.api).contains("\tapplied 0\t"),
        "{report}"
    );
    let both = {
        let mut all = peer.server.collection_items(&kept);
        all.extend(peer.server.collection_items(&hidden));
        let mut ids: Vec<String> = all
            .iter()
            .map(|i| i["id"].as_str().expect("id").to_owned())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(searched(&x), both);
    assert_eq!(searched(&y), both);

    // 2. P hides a sequence. X drops it; Y, not told yet, still lists its copy, which X
    //    leaves out, whichever of its peers it harvests first.
    peer.change(
        Method::PATCH,
        &format!("/collections/{hidden}"),
        Some(json!({ "visibility": "owner-only" })),
        StatusCode::OK,
    );
    let report = flaneur_exits(x_data, &["harvest"], 0);
    assert!(
        report_of(&report, &peer.server.api).contains("\tremoved 1\t"),
        "{report}"
    );
    let report = flaneur_exits(x_data, &["harvest"], 0);
    assert!(
        report_of(&report, &y.api).contains("\tapplied 0\t"),
        "{report}"
    );
    let without_hidden: Vec<String> = both
        .iter()
        .filter(|id| !hidden_items.contains(id))
        .cloned()
        .collect();
    assert_eq!(searched(&x), without_hidden);

    // 3. Y hears of it from X, with the origin's time, and drops it too; from then on
    //    neither brings it back to the other, pass after pass.
    let report = flaneur_exits(y_data, &["harvest"], 0);
    assert!(
        report_of(&report, &x.api).contains("\tremoved 1\t"),
        "{report}"
    );
    for _ in 0..2 {
        let report = flaneur_exits(x_data, &["harvest"], 0);
        assert!(
            report_of(&report, &y.api).contains("\tapplied 0\t"),
            "{report}"
        );
        let report = flaneur_exits(y_data, &["harvest"], 0);
        assert!(
            report_of(&report, &x.api).contains("\tapplied 0\t"),
            "{report}"
        );
    }
    for server in [&x, &y] {
        assert_eq!(searched(server), without_hidden);
        let entries = changes(server, None);
        assert_eq!(
            tombstones(&entries),
            std::slice::from_ref(&hidden),
            "{entries:?}"
        );
        let tombstone = entries
            .iter()
            .find(|e| id_of(e) == hidden)
            .expect("tombstone");
        assert!(
            tombstone["flaneur:origin_updated"].is_string(),
            "{tombstone}"
        );
    }

    // 4. Shown again at P, it comes back to both: at X from P, at Y from X, newer at its
    //    origin than its removal.
    peer.change(
        Method::PATCH,
        &format!("/collections/{hidden}"),
        Some(json!({ "visibility": "anyone" })),
        StatusCode::OK,
    );
    flaneur_exits(x_data, &["harvest"], 0);
    let report = flaneur_exits(y_data, &["harvest"], 0);
    assert!(
        report_of(&report, &x.api).contains("\tapplied 1\t"),
        "{report}"
    );
    assert_eq!(searched(&x), both);
    assert_eq!(searched(&y), both);

    // 5. P removed from X, X takes both sequences back from Y, which relayed them from X:
    //    then neither takes the other's copy for a change any more, pass after pass.
    flaneur_exits(x_data, &["peer", "remove", &peer.server.api], 0);
    let report = flaneur_exits(x_data, &["harvest"], 0);
    assert!(
        report_of(&report, &y.api).contains("\tapplied 2\t"),
        "{report}"
    );
    for _ in 0..2 {
        let report = flaneur_exits(y_data, &["harvest"], 0);
        assert!(
            report_of(&report, &x.api).contains("\tapplied 0\t"),
            "{report}"
        );
        let report = flaneur_exits(x_data, &["harvest"], 0);
        assert!(
            report_of(&report, &y.api).contains("\tapplied 0\t"),
            "{report}"
        );
    }
    assert_eq!(searched(&x), both);
    assert_eq!(searched(&y), both);
}
