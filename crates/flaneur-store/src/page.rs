//! Pages administrators write, such as the terms of service: an HTML text per page and
//! language. Which page names exist and what a text may hold are the services' rules; the
//! catalog keeps the texts and when each page's last change was announced.

use chrono::{DateTime, Utc};

/// One language of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageText {
    /// Its language code (`en`, `fr`, `pt-BR`…).
    pub lang: String,
    /// The HTML text.
    pub content: String,
    /// When the text was last saved.
    pub updated_at: DateTime<Utc>,
    /// When a change of the page was last announced, if ever.
    pub change_published_at: Option<DateTime<Utc>>,
}
