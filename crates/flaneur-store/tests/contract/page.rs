//! The contract of pages: texts by page and language, replaced when saved again, removed one
//! language at a time; an announced change covers every language and the languages added
//! after it; the terms' reading is kept on the account.

use chrono::{TimeZone, Utc};
use flaneur_model::AccountPreferences;
use flaneur_store::Catalog;

use crate::backend::catalog_contracts;

catalog_contracts! {
    pages_keep_a_text_per_language_and_their_announced_change => pages;
}

async fn pages(catalog: &dyn Catalog) {
    const TERMS: &str = "terms-of-service";
    assert!(catalog.page_texts(TERMS).await.expect("texts").is_empty());
    assert!(
        !catalog
            .publish_page_change(TERMS, Utc::now())
            .await
            .expect("publish")
    );

    catalog
        .save_page(TERMS, "fr", "<p>v1</p>")
        .await
        .expect("save");
    catalog
        .save_page(TERMS, "en", "<p>one</p>")
        .await
        .expect("save");
    catalog
        .save_page(TERMS, "en", "<p>two</p>")
        .await
        .expect("save again");
    catalog
        .save_page("custom-banner", "en", "hi")
        .await
        .expect("save");
    let texts = catalog.page_texts(TERMS).await.expect("texts");
    let langs: Vec<(&str, &str)> = texts
        .iter()
        .map(|t| (t.lang.as_str(), t.content.as_str()))
        .collect();
    assert_eq!(langs, [("en", "<p>two</p>"), ("fr", "<p>v1</p>")]);
    assert!(texts.iter().all(|t| t.change_published_at.is_none()));
    assert_eq!(
        catalog.page_names().await.expect("names"),
        ["custom-banner", TERMS]
    );

    // An announced change covers every language, and a language added afterwards.
    let at = Utc
        .timestamp_opt(1_700_000_000, 0)
        .single()
        .expect("instant");
    assert!(
        catalog
            .publish_page_change(TERMS, at)
            .await
            .expect("publish")
    );
    catalog
        .save_page(TERMS, "de", "<p>eins</p>")
        .await
        .expect("save");
    let texts = catalog.page_texts(TERMS).await.expect("texts");
    assert_eq!(texts.len(), 3);
    assert!(
        texts.iter().all(|t| t.change_published_at == Some(at)),
        "{texts:?}"
    );

    assert!(catalog.delete_page(TERMS, "de").await.expect("delete"));
    assert!(
        !catalog
            .delete_page(TERMS, "de")
            .await
            .expect("delete again")
    );
    assert_eq!(catalog.page_texts(TERMS).await.expect("texts").len(), 2);

    // The account's reading of the terms.
    let (id, _) = catalog.default_account().await.expect("account");
    let prefs = AccountPreferences {
        tos_latest_change_read_at: Some(Some(at)),
        ..AccountPreferences::default()
    };
    let account = catalog
        .update_account_preferences(id, &prefs)
        .await
        .expect("update")
        .expect("account");
    assert_eq!(account.tos_latest_change_read_at, Some(at));
    assert_eq!(account.tos_accepted_at, None);
}
