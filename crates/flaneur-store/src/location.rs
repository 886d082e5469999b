//! Opening the catalog from the URL operators write, `DB_URL` as the reference server names
//! it; `blob::location` does the same for the blob store's `FS_URL`.
//!
//! This module only picks and opens an implementation; what a URL means beyond its scheme
//! belongs to that implementation. URLs may carry passwords: they are shown through
//! [`redact_url`] only.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::{Catalog, Error, PgCatalog, PgCatalogOptions, Result, SqliteCatalog};

/// Where the catalog lives, read from a `DB_URL`.
#[derive(Clone, PartialEq, Eq)]
pub enum CatalogUrl {
    /// An SQLite file: `sqlite://PATH` or `sqlite:PATH` (relative to the working folder unless
    /// it starts with `/`, so `sqlite:///srv/catalog.sqlite` is absolute).
    Sqlite(PathBuf),
    /// A PostgreSQL server: `postgresql://USER:PASSWORD@HOST:PORT/DATABASE`.
    Postgres(String),
}

/// The form of a PostgreSQL catalog URL, for error messages.
const PG_URL_FORM: &str = "postgresql://USER:PASSWORD@HOST:PORT/DATABASE";

impl CatalogUrl {
    /// Reads a catalog URL.
    ///
    /// # Errors
    /// Fails with [`Error::InvalidCatalogUrl`] when the scheme is not `sqlite`, `postgres` or
    /// `postgresql`, when an SQLite URL has no path or has parameters, or when a PostgreSQL
    /// URL is malformed (a bad port or host, an unknown `sslmode`).
    pub fn parse(url: &str) -> Result<CatalogUrl> {
        let url = url.trim();
        let bad = |reason: &str| Error::InvalidCatalogUrl {
            url: redact_url(url),
            reason: reason.to_owned(),
        };
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(bad("an SQLite URL needs a file path: sqlite://PATH"));
            }
            if path.contains('?') {
                return Err(bad("SQLite URLs take no parameters: sqlite://PATH"));
            }
            return Ok(CatalogUrl::Sqlite(PathBuf::from(path)));
        }
        match url.split_once("://") {
            Some(("postgres" | "postgresql", _)) => {
                // Read now, so that a malformed address is told apart from a server that
                // cannot be reached.
                url.parse::<sqlx::postgres::PgConnectOptions>()
                    .map_err(|e| bad(&format!("{e}; expected {PG_URL_FORM}")))?;
                Ok(CatalogUrl::Postgres(url.to_owned()))
            }
            Some((scheme, _)) => Err(bad(&format!(
                "unknown catalog scheme '{scheme}': expected sqlite://PATH or \
                 postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
            ))),
            None => Err(bad("not a URL: expected sqlite://PATH or \
                 postgresql://USER:PASSWORD@HOST:PORT/DATABASE")),
        }
    }

    /// The file of an SQLite catalog; `None` for a catalog server.
    pub fn sqlite_path(&self) -> Option<&std::path::Path> {
        match self {
            CatalogUrl::Sqlite(path) => Some(path),
            CatalogUrl::Postgres(_) => None,
        }
    }
}

/// Shows the URL with its password masked, so that it can be logged.
impl fmt::Display for CatalogUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CatalogUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            CatalogUrl::Postgres(url) => f.write_str(&redact_url(url)),
        }
    }
}

/// Like `Display`: the password never reaches a log through `{:?}` either.
impl fmt::Debug for CatalogUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CatalogUrl({self})")
    }
}

/// How [`open_catalog`] connects to a catalog server; an SQLite file takes none of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogOptions {
    /// Most connections to a catalog server this process holds open at once.
    pub max_connections: u32,
}

impl Default for CatalogOptions {
    fn default() -> Self {
        CatalogOptions {
            max_connections: PgCatalogOptions::default().max_connections,
        }
    }
}

/// Opens the catalog a URL names, creating an SQLite file and migrating its schema as needed.
///
/// # Errors
/// Fails when the catalog cannot be reached, opened or migrated.
pub async fn open_catalog(url: &CatalogUrl, options: &CatalogOptions) -> Result<Arc<dyn Catalog>> {
    match url {
        CatalogUrl::Sqlite(path) => Ok(Arc::new(SqliteCatalog::open(path).await?)),
        CatalogUrl::Postgres(url) => {
            let options = PgCatalogOptions {
                max_connections: options.max_connections,
            };
            Ok(Arc::new(PgCatalog::connect(url, options).await?))
        }
    }
}

/// Query parameters whose values are secrets, compared without case.
const SECRET_PARAMS: [&str; 5] = ["password", "secret", "token", "sig", "credential"];

/// A URL fit for logs: the password of its user part and the values of parameters that look
/// like secrets are replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|param| match param.split_once('=') {
                    Some((key, _)) if is_secret(key) => format!("{key}=***"),
                    _ => param.to_owned(),
                })
                .collect();
            format!("{path}?{}", params.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_PARAMS.iter().any(|secret| key.contains(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_a_file_relative_or_absolute() {
        let cases = [
            ("sqlite://catalog.sqlite", "catalog.sqlite"),
            ("sqlite:catalog.sqlite", "catalog.sqlite"),
            (
                "sqlite:///srv/flaneur/catalog.sqlite",
                "/srv/flaneur/catalog.sqlite",
            ),
        ];
        for (url, path) in cases {
            let parsed = CatalogUrl::parse(url).expect(url);
            assert_eq!(parsed.sqlite_path(), Some(std::path::Path::new(path)));
        }
    }

    #[test]
    fn bad_catalog_urls_say_what_is_expected_without_their_password() {
        for url in [
            "mysql://root:hunter2@db/flaneur",
            "sqlite://",
            "sqlite://x.db?mode=ro",
            "/srv/catalog.sqlite",
        ] {
            let err = CatalogUrl::parse(url).expect_err(url).to_string();
            assert!(err.contains("sqlite://PATH"), "{url}: {err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn postgres_urls_are_shown_without_their_password() {
        let url = "postgresql://flaneur:hunter2@db.internal:5432/flaneur?password=hunter3";
        let parsed = CatalogUrl::parse(url).expect("postgres URL");
        assert_eq!(parsed.sqlite_path(), None);
        let shown = format!("{parsed} {parsed:?}");
        assert!(!shown.contains("hunter"), "{shown}");
        assert!(
            shown.contains("postgresql://flaneur:***@db.internal:5432/flaneur?password=***"),
            "{shown}"
        );
    }

    #[test]
    fn redaction_keeps_urls_without_secrets_as_they_are() {
        for url in [
            "s3://bucket/prefix?endpoint_url=http%3A%2F%2F127.0.0.1%3A8333&region=eu",
            "/srv/pictures",
            "postgresql://flaneur@db/flaneur",
        ] {
            assert_eq!(redact_url(url), url);
        }
        assert_eq!(
            redact_url("s3://KEY:SECRET@bucket/p?region=x"),
            "s3://KEY:***@bucket/p?region=x"
        );
    }
}
