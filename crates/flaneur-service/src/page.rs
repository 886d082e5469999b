//! Pages administrators write (the terms of service, the licence texts, a banner), and the
//! terms of service as accounts accept and read them. The rules live here: which page names
//! exist, what a language code and a text look like, who may change them; the catalog keeps
//! the texts.

use chrono::Utc;
use flaneur_model::{Account, AccountPreferences, Viewer};
use flaneur_store::PageText;

use crate::{Error, Result, Services};

/// The pages an instance may hold, as Panoramax instances name them.
pub const PAGE_NAMES: [&str; 4] = [
    "end-user-license-agreement",
    "terms-of-service",
    "end-user-license-agreement-summary",
    "custom-banner",
];

/// The page accounts accept, and read again when a change of it is announced.
pub const TERMS_OF_SERVICE: &str = "terms-of-service";

/// Largest text of a page, in bytes: far above any terms of service, far below what would
/// weigh on every read of the page.
pub const MAX_PAGE_BYTES: usize = 512 * 1024;

/// Longest language code, as BCP 47 bounds a tag in practice (`zh-Hant-TW` and the like).
const MAX_LANG_CHARS: usize = 35;

/// Refuses a page name Panoramax instances do not know, naming those they do.
///
/// # Errors
/// [`Error::InvalidParameter`] for any other name.
pub fn check_page_name(name: &str) -> Result<()> {
    if PAGE_NAMES.contains(&name) {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "Page '{name}' does not exist: a page is one of {}",
        PAGE_NAMES.join(", ")
    )))
}

/// Refuses what is no language code: a 2 or 3 letter language, then subtags of 1 to 8
/// letters or digits joined by `-` (`en`, `fr`, `pt-BR`, `zh-Hant`).
///
/// # Errors
/// [`Error::InvalidParameter`] saying what a code looks like.
pub fn check_lang(lang: &str) -> Result<()> {
    let mut parts = lang.split('-');
    let language = parts.next().unwrap_or_default();
    let is_language =
        (2..=3).contains(&language.len()) && language.bytes().all(|b| b.is_ascii_alphabetic());
    let are_subtags =
        parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    if is_language && are_subtags && lang.len() <= MAX_LANG_CHARS {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "Language '{lang}' is not a language code: write it as en, fr or pt-BR"
    )))
}

/// Refuses a caller that does not administer the instance.
fn admin_only(viewer: Viewer) -> Result<()> {
    if viewer.is_anonymous() {
        return Err(Error::LoginRequired);
    }
    if !viewer.is_admin() {
        return Err(Error::Forbidden(
            "Only administrators may change the instance's pages".to_owned(),
        ));
    }
    Ok(())
}

fn page_not_found(name: &str, lang: Option<&str>) -> Error {
    match lang {
        Some(lang) => Error::PageNotFound(format!("{name}/{lang}")),
        None => Error::PageNotFound(name.to_owned()),
    }
}

impl Services {
    /// The languages a page is written in, with their texts, by language code.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an unknown page name; a catalog failure.
    pub async fn page_texts(&self, name: &str) -> Result<Vec<PageText>> {
        check_page_name(name)?;
        Ok(self.catalog.page_texts(name).await?)
    }

    /// A page's text in one language.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an unknown page name or what is no language code;
    /// [`Error::PageNotFound`] when the page is not written in that language.
    pub async fn page_text(&self, name: &str, lang: &str) -> Result<PageText> {
        check_lang(lang)?;
        self.page_texts(name)
            .await?
            .into_iter()
            .find(|t| t.lang == lang)
            .ok_or_else(|| page_not_found(name, Some(lang)))
    }

    /// The names of the pages written in some language.
    ///
    /// # Errors
    /// A catalog failure.
    pub async fn page_names(&self) -> Result<Vec<String>> {
        Ok(self.catalog.page_names().await?)
    }

    /// Writes a page's text in one language, replacing the one there was.
    ///
    /// # Errors
    /// [`Error::LoginRequired`] or [`Error::Forbidden`] for callers other than administrators;
    /// [`Error::InvalidParameter`] for an unknown page, what is no language code or a text
    /// over [`MAX_PAGE_BYTES`]; a catalog failure.
    pub async fn save_page(
        &self,
        viewer: Viewer,
        name: &str,
        lang: &str,
        html: &str,
    ) -> Result<()> {
        admin_only(viewer)?;
        check_page_name(name)?;
        check_lang(lang)?;
        if html.len() > MAX_PAGE_BYTES {
            return Err(Error::invalid(format!(
                "The page's text is {} bytes: at most {MAX_PAGE_BYTES} are kept",
                html.len()
            )));
        }
        Ok(self.catalog.save_page(name, lang, html).await?)
    }

    /// Removes a page's text in one language.
    ///
    /// # Errors
    /// As [`Services::save_page`], and [`Error::PageNotFound`] when there was none.
    pub async fn delete_page(&self, viewer: Viewer, name: &str, lang: &str) -> Result<()> {
        admin_only(viewer)?;
        check_page_name(name)?;
        check_lang(lang)?;
        if !self.catalog.delete_page(name, lang).await? {
            return Err(page_not_found(name, Some(lang)));
        }
        Ok(())
    }

    /// Announces a change of a page, now: accounts that read the terms of service before
    /// are told they have not read their latest change.
    ///
    /// # Errors
    /// As [`Services::save_page`], and [`Error::PageNotFound`] when the page is written in
    /// no language.
    pub async fn publish_page_change(&self, viewer: Viewer, name: &str) -> Result<()> {
        admin_only(viewer)?;
        check_page_name(name)?;
        if !self.catalog.publish_page_change(name, Utc::now()).await? {
            return Err(page_not_found(name, None));
        }
        Ok(())
    }

    /// Whether an account read the latest announced change of the terms of service: yes when
    /// none was ever announced.
    ///
    /// # Errors
    /// A catalog failure.
    pub async fn has_read_latest_terms(&self, account: &Account) -> Result<bool> {
        let texts = self.catalog.page_texts(TERMS_OF_SERVICE).await?;
        let Some(latest) = texts.iter().filter_map(|t| t.change_published_at).max() else {
            return Ok(true);
        };
        Ok(account
            .tos_latest_change_read_at
            .is_some_and(|read| read >= latest))
    }

    /// Records that an account accepts the terms of service, which it reads by accepting.
    ///
    /// # Errors
    /// [`Error::AccountNotFound`] when the account is gone; a catalog failure.
    pub async fn accept_terms(&self, account: &Account) -> Result<Account> {
        let now = Utc::now();
        let prefs = AccountPreferences {
            tos_accepted_at: Some(Some(now)),
            tos_latest_change_read_at: Some(Some(now)),
            ..AccountPreferences::default()
        };
        self.store_preferences(account, &prefs).await
    }

    /// Records that an account read the latest change of the terms of service.
    ///
    /// # Errors
    /// As [`Services::accept_terms`].
    pub async fn mark_terms_read(&self, account: &Account) -> Result<Account> {
        let prefs = AccountPreferences {
            tos_latest_change_read_at: Some(Some(Utc::now())),
            ..AccountPreferences::default()
        };
        self.store_preferences(account, &prefs).await
    }

    async fn store_preferences(
        &self,
        account: &Account,
        prefs: &AccountPreferences,
    ) -> Result<Account> {
        self.catalog
            .update_account_preferences(account.id, prefs)
            .await?
            .ok_or_else(|| Error::AccountNotFound(account.id.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_four_pages_and_language_codes_are_taken() {
        assert!(check_page_name("terms-of-service").is_ok());
        assert!(check_page_name("custom-banner").is_ok());
        assert!(check_page_name("about").is_err());
        for good in ["en", "fr", "pt-BR", "zh-Hant-TW", "ast"] {
            assert!(check_lang(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "e",
            "english",
            "en_GB",
            "en-",
            "../en",
            "fr-toolongsubtag",
            "é",
        ] {
            assert!(check_lang(bad).is_err(), "{bad}");
        }
    }
}
