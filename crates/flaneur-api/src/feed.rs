//! The RSS 2.0 feed of published sequences, `/api/collections?format=rss`.
//!
//! Titles and account names come from users, so every text and attribute goes through
//! [`escape`], which also drops the characters XML 1.0 cannot carry at all: a feed reader
//! refuses a whole document for one stray control character.

use chrono::{DateTime, Utc};
use flaneur_model::Sequence;

use crate::InstanceInfo;
use crate::url::BaseUrl;

/// The media type the feed is served with.
pub const MEDIA_TYPE: &str = "application/rss+xml; charset=utf-8";

/// One sequence of the feed, with the name of the account that published it.
pub struct Entry<'a> {
    /// The sequence.
    pub sequence: &'a Sequence,
    /// Its producer's display name.
    pub producer: &'a str,
}

/// The feed document for `entries`, newest first as given; `now` is its build date.
pub fn rss(base: &BaseUrl, info: &InstanceInfo, entries: &[Entry], now: DateTime<Utc>) -> String {
    let home = format!("{}/", base.0);
    let logo = info
        .logo_url
        .clone()
        .unwrap_or_else(|| format!("{}/static/logo.svg", base.0));
    let mut out = String::from(concat!(
        r#"<?xml version="1.0" encoding="UTF-8"?>"#,
        "\n",
        r#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" "#,
        r#"xmlns:content="http://purl.org/rss/1.0/modules/content/" "#,
        r#"xmlns:georss="http://www.georss.org/georss"><channel>"#
    ));
    element(&mut out, "title", &format!("{} collections", info.name));
    element(&mut out, "link", &home);
    element(
        &mut out,
        "description",
        &format!("List of collections from {}", info.name),
    );
    element(&mut out, "language", "en");
    element(&mut out, "lastBuildDate", &now.to_rfc2822());
    element(&mut out, "generator", "Flâneur");
    element(
        &mut out,
        "docs",
        "https://www.rssboard.org/rss-specification",
    );
    out.push_str("<image>");
    element(&mut out, "url", &logo);
    element(&mut out, "title", &format!("{} logo", info.name));
    element(&mut out, "link", &home);
    out.push_str("</image>");
    for entry in entries {
        item(&mut out, base, entry);
    }
    out.push_str("</channel></rss>");
    out
}

fn item(out: &mut String, base: &BaseUrl, entry: &Entry) {
    let s = entry.sequence;
    let json_url = base.api(&format!("/collections/{}", s.id));
    let thumb = base.api(&format!("/collections/{}/thumb.jpg", s.id));
    let viewer = format!("{}/?sequence={}", base.0, s.id);
    let captured = s
        .min_captured_at
        .map(|t| format!(" was captured on {}", t.format("%Y-%m-%d %H:%M:%S%:z")))
        .unwrap_or_default();
    let summary = format!(
        "Sequence \"{}\" by \"{}\"{captured}.",
        s.title, entry.producer
    );

    out.push_str("<item>");
    element(out, "title", &s.title);
    element(out, "link", &viewer);
    element(out, "description", &summary);
    // RSS's own `author` must be an e-mail address; accounts are known by name only.
    element(out, "dc:creator", entry.producer);
    element(out, "pubDate", &s.created_at.to_rfc2822());
    // The thumbnail's size is not known without reading it; 0 is how RSS says so.
    out.push_str(&format!(
        r#"<enclosure url="{}" length="0" type="image/jpeg"/>"#,
        escape(&thumb)
    ));
    out.push_str(r#"<guid isPermaLink="true">"#);
    out.push_str(&escape(&json_url));
    out.push_str("</guid>");
    if let Some([min_lon, min_lat, max_lon, max_lat]) = s.bbox {
        // GeoRSS points are latitude first.
        let point = format!(
            "{} {}",
            (min_lat + max_lat) / 2.0,
            (min_lon + max_lon) / 2.0
        );
        element(out, "georss:point", &point);
    }
    // The HTML is escaped once as HTML (user text) and once more as XML text.
    let html = format!(
        "<p><img src=\"{thumb}\" /><br />{}<br /><a href=\"{viewer}\">View on the map</a> - \
         <a href=\"{json_url}\">JSON metadata</a></p>",
        escape(&summary),
        thumb = escape(&thumb),
        viewer = escape(&viewer),
        json_url = escape(&json_url),
    );
    element(out, "content:encoded", &html);
    out.push_str("</item>");
}

/// `<name>text</name>`, the text escaped.
fn element(out: &mut String, name: &str, text: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&escape(text));
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Text made safe for XML content and quoted attributes: markup characters become entities,
/// and characters XML 1.0 forbids are dropped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escape_neutralises_markup_and_drops_forbidden_characters() {
        assert_eq!(
            escape(r#"<b>"Tom" & 'Jerry'</b>"#),
            "&lt;b&gt;&quot;Tom&quot; &amp; &apos;Jerry&apos;&lt;/b&gt;"
        );
        assert_eq!(escape("a\u{1}b\u{FFFF}c\td"), "abc\td");
        assert_eq!(escape("Flâneur 🚶"), "Flâneur 🚶");
    }
}
