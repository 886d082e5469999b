//! The RSS feed of published sequences: `/api/collections?format=rss` or by `Accept`, newest
//! first, well-formed whatever the titles hold, and linked from the landing page.

use reqwest::StatusCode;
use reqwest::header;

use crate::server::Server;
use crate::{GOPRO, SONY, pictures};

/// Uploads pictures in a new upload set and returns its sequence once ready.
fn sequence(server: &Server, title: &str, names: &[&str], visibility: &str) -> String {
    server.upload_sequence(title, &pictures(names), visibility)
}

/// `(title, guid, georss:point)` of each item of a feed, after checking it is RSS 2.0.
fn items(feed: &str) -> Vec<(String, String, String)> {
    let doc = roxmltree::Document::parse(feed).unwrap_or_else(|e| panic!("{e}:\n{feed}"));
    let rss = doc.root_element();
    assert_eq!(rss.tag_name().name(), "rss");
    assert_eq!(rss.attribute("version"), Some("2.0"));
    let channel = rss.first_element_child().expect("channel");
    let text = |node: roxmltree::Node, name: &str| {
        node.children()
            .find(|c| c.tag_name().name() == name)
            .and_then(|c| c.text())
            .unwrap_or_default()
            .to_owned()
    };
    for required in ["title", "link", "description"] {
        assert!(!text(channel, required).is_empty(), "channel {required}");
    }
    channel
        .children()
        .filter(|c| c.tag_name().name() == "item")
        .map(|item| (text(item, "title"), text(item, "guid"), text(item, "point")))
        .collect()
}

#[test]
fn rss_lists_published_sequences_newest_first_with_titles_escaped() {
    let server = Server::start();
    let tricky = "Quai <b>&amp;</b> \"Jean\" & 'Marie' ]]> é";
    let older = sequence(&server, "gopro", &GOPRO, "anyone");
    let newer = sequence(&server, tricky, &SONY[..3], "anyone");
    let hidden = sequence(&server, "hidden", &SONY[3..], "owner-only");

    let response = server.get_url(&server.url("/collections?format=rss"));
    assert_eq!(response.status(), StatusCode::OK);
    let kind = response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap_or("")
        .to_owned();
    assert!(kind.starts_with("application/rss+xml"), "{kind}");
    let feed = response.text().expect("feed");
    let found = items(&feed);
    let guids: Vec<&str> = found.iter().map(|(_, guid, _)| guid.as_str()).collect();
    let url = |id: &str| server.url(&format!("/collections/{id}"));
    assert_eq!(
        guids,
        [url(&newer), url(&older)],
        "newest first, hidden absent"
    );
    assert!(!feed.contains(&hidden), "{feed}");
    assert_eq!(found[0].0, tricky, "the title survives escaping");
    let (lat, lon) = found[1].2.split_once(' ').expect("georss point");
    let (lat, lon): (f64, f64) = (lat.parse().expect("lat"), lon.parse().expect("lon"));
    assert!(
        (lat - 49.0).abs() < 0.1 && (lon - 1.92).abs() < 0.1,
        "{lat} {lon}"
    );

    let by_accept = server
        .client()
        .get(server.url("/collections"))
        .header(header::ACCEPT, "application/rss+xml")
        .send()
        .expect("GET with Accept: application/rss+xml");
    let titles: Vec<String> = items(&by_accept.text().expect("feed"))
        .into_iter()
        .map(|(title, _, _)| title)
        .collect();
    assert_eq!(titles, [tricky, "gopro"]);

    let limited = server.get_url(&server.url("/collections?format=rss&limit=1"));
    assert_eq!(items(&limited.text().expect("feed")).len(), 1);
    let (status, body) = server.get_json("/collections?format=atom");
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[test]
fn landing_links_to_the_feed() {
    let server = Server::start();
    let landing = server.get_ok("");
    let feed = landing["links"]
        .as_array()
        .expect("links")
        .iter()
        .find(|l| l["rel"] == "data" && l["type"] == "application/rss+xml")
        .unwrap_or_else(|| panic!("no RSS link: {landing}"));
    let href = feed["href"].as_str().expect("href");
    assert_eq!(href, server.url("/collections?format=rss"));
    let response = server.get_url(href);
    assert_eq!(response.status(), StatusCode::OK);
    assert!(items(&response.text().expect("feed")).is_empty());
}
