//! Where pictures are kept, named by one URL as Panoramax operators write `FS_URL`: a local
//! folder, or an S3-compatible bucket with its endpoint, region and credentials.
//!
//! This module owns reading that URL (and the credentials the environment adds) into a typed
//! [`BlobLocation`], and opening the store it names. The stores themselves live beside it.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use super::{BlobStore, FsBlobStore, S3BlobStore};
use crate::{Error, Result};

/// The region an S3 URL with an `endpoint_url` but no `region` signs for, as on Panoramax
/// instances. Most S3-compatible servers accept any region; AWS needs the bucket's own.
const DEFAULT_REGION: &str = "default";

/// The query parameters an `s3://` URL may carry.
const S3_PARAMETERS: &str = "endpoint_url, public_endpoint_url, region, path_style, acl";

/// Reads environment variables, so that tests can supply their own.
pub trait EnvSource {
    /// The value of `name`, `None` when unset.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl EnvSource for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// A value that must not be shown: its `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The key pair requests are signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Credentials {
    /// The access key id, which names the key pair (not a secret).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: Secret,
    /// The session token of temporary credentials.
    pub session_token: Option<Secret>,
}

/// An S3-compatible bucket holding the pictures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Config {
    /// The bucket.
    pub bucket: String,
    /// Folder of the bucket holding the blobs (`a/b`, no slash around), empty for its root.
    pub prefix: String,
    /// Address of the S3 server (`https://s3.example.org`); AWS's own for the region when
    /// `None`.
    pub endpoint: Option<String>,
    /// Address presigned addresses are made for, when clients reach the server by another
    /// one than this instance does (an internal name, a reverse proxy); `endpoint` when
    /// `None`.
    pub public_endpoint: Option<String>,
    /// Region requests are signed for.
    pub region: String,
    /// Whether the bucket goes in the path (`endpoint/bucket/key`) rather than in the host
    /// name (`bucket.endpoint/key`). Most self-hosted servers want the path.
    pub path_style: bool,
    /// Canned ACL given to new objects (`public-read`, …), as the server understands it.
    pub acl: Option<String>,
    /// The key pair.
    pub credentials: S3Credentials,
}

/// Where the pictures are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobLocation {
    /// A local folder.
    Folder(PathBuf),
    /// An S3-compatible bucket.
    S3(S3Config),
}

impl BlobLocation {
    /// Reads a storage URL: a folder path, `file:///folder`, or
    /// `s3://[ACCESS_KEY:SECRET@]bucket[/prefix]?endpoint_url=<urlencoded>&region=<r>`
    /// with optional `path_style=true|false` (default `true`), `acl=<canned ACL>` and
    /// `public_endpoint_url=<urlencoded>` (the server's address as clients reach it, for
    /// presigned addresses).
    ///
    /// Credentials in the URL come first; otherwise `AWS_ACCESS_KEY_ID` and
    /// `AWS_SECRET_ACCESS_KEY` are read from `env`, or the files named by
    /// `AWS_ACCESS_KEY_ID_FILE` and `AWS_SECRET_ACCESS_KEY_FILE`, with `AWS_SESSION_TOKEN`
    /// (or `AWS_SESSION_TOKEN_FILE`) for temporary ones. Nothing else is read: no
    /// `~/.aws` files and no instance metadata endpoint.
    ///
    /// # Errors
    /// [`Error::InvalidBlobUrl`] saying what is wrong, never quoting a secret.
    pub fn parse(url: &str, env: &dyn EnvSource) -> Result<BlobLocation> {
        let url = url.trim();
        if url.is_empty() {
            return Err(invalid("it is empty"));
        }
        if let Some(path) = url.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(invalid(
                    "a file:// URL needs an absolute path, as file:///folder",
                ));
            }
            let path = percent_decode(path, "the folder path")?;
            return Ok(BlobLocation::Folder(PathBuf::from(path)));
        }
        if url.starts_with("s3://") {
            return parse_s3(url, env).map(BlobLocation::S3);
        }
        // A scheme other than these two is a mistake, not a folder named `gs:`.
        if let Some((scheme, _)) = url.split_once("://") {
            return Err(invalid(&format!(
                "the scheme '{scheme}' is not supported (only s3:// and file://)"
            )));
        }
        Ok(BlobLocation::Folder(PathBuf::from(url)))
    }

    /// A description for logs, without credentials.
    pub fn describe(&self) -> String {
        match self {
            BlobLocation::Folder(path) => path.display().to_string(),
            BlobLocation::S3(config) => {
                let endpoint = config.endpoint.as_deref().unwrap_or("AWS");
                let slash = if config.prefix.is_empty() { "" } else { "/" };
                format!(
                    "s3://{}{slash}{} at {endpoint} ({})",
                    config.bucket, config.prefix, config.region
                )
            }
        }
    }
}

fn invalid(reason: &str) -> Error {
    Error::InvalidBlobUrl(reason.to_owned())
}

fn percent_decode(value: &str, what: &str) -> Result<String> {
    percent_encoding::percent_decode_str(value)
        .decode_utf8()
        .map(|v| v.into_owned())
        .map_err(|_| invalid(&format!("{what} is not UTF-8 once decoded")))
}

/// Said when a URL holding credentials cannot be read: characters of a key pair that mean
/// something in a URL break it, with messages about ports or hosts.
const ENCODE_CREDENTIALS: &str = "; in ACCESS_KEY and SECRET, percent-encode '/' (%2F), '+' \
     (%2B), '@' (%40), ':' (%3A) and '#' (%23)";

fn parse_s3(raw: &str, env: &dyn EnvSource) -> Result<S3Config> {
    // What to add to a refusal that could come of unencoded credentials.
    let hint = if raw.contains('@') {
        ENCODE_CREDENTIALS
    } else {
        ""
    };
    // A fragment would be dropped silently, parameters after it with it; in a key pair, `#`
    // is written %23.
    if raw.contains('#') {
        return Err(invalid(&format!(
            "it holds a '#', which would cut the URL short{hint}"
        )));
    }

    // The URL parser resolves `..` in paths, which would quietly move the prefix: refuse
    // dot segments before it sees them.
    let before_query = raw.split('?').next().unwrap_or_default();
    let mut raw_segments = before_query.trim_start_matches("s3://").split('/').skip(1);
    if raw_segments.any(|s| matches!(percent_decode(s, "the prefix").as_deref(), Ok("." | ".."))) {
        return Err(invalid("the prefix may not hold '.' or '..' segments"));
    }
    let url = url::Url::parse(raw).map_err(|err| {
        // The parser's message names the rule broken, never the URL's text.
        invalid(&format!("it is not a URL ({err}){hint}"))
    })?;

    // 1. Bucket and prefix.
    let bucket = url.host_str().unwrap_or_default().to_owned();
    if bucket.is_empty() {
        return Err(invalid("the bucket is missing, as in s3://bucket/prefix"));
    }
    let is_bucket_name = bucket
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
    if !is_bucket_name {
        return Err(invalid(&format!(
            "the bucket '{bucket}' may only hold lowercase letters, digits, '.', '-' and \
             '_'{hint}"
        )));
    }
    if url.port().is_some() {
        return Err(invalid(&format!(
            "a port belongs to the endpoint: s3://bucket?endpoint_url=http%3A%2F%2Fhost%3A9000\
             {hint}"
        )));
    }
    let mut segments = Vec::new();
    for segment in url.path().split('/').filter(|s| !s.is_empty()) {
        segments.push(percent_decode(segment, "the prefix")?);
    }
    let prefix = segments.join("/");

    // 2. Options.
    let mut endpoint = None;
    let mut public_endpoint = None;
    let mut region = None;
    let mut path_style = true;
    let mut acl = None;
    let mut seen = Vec::new();
    for (name, value) in url.query_pairs() {
        if seen.contains(&name) {
            return Err(invalid(&format!("the parameter '{name}' is given twice")));
        }
        seen.push(name.clone());
        let value = value.trim().to_owned();
        match name.as_ref() {
            "endpoint_url" => endpoint = Some(parse_endpoint(&value, "endpoint_url")?),
            "public_endpoint_url" => {
                public_endpoint = Some(parse_endpoint(&value, "public_endpoint_url")?);
            }
            "region" if !value.is_empty() => region = Some(value),
            "region" => return Err(invalid("the region is empty")),
            "path_style" => {
                path_style = match value.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(invalid("path_style must be true or false")),
                }
            }
            "acl" if !value.is_empty() => acl = Some(value),
            "acl" => return Err(invalid("the acl is empty")),
            other => {
                return Err(invalid(&format!(
                    "unknown parameter '{other}' (known: {S3_PARAMETERS})"
                )));
            }
        }
    }
    let region = match (region, &endpoint) {
        (Some(region), _) => region,
        (None, Some(_)) => DEFAULT_REGION.to_owned(),
        (None, None) => {
            return Err(invalid(
                "without endpoint_url the bucket is on AWS, whose region must be given: \
                 ?region=eu-west-3",
            ));
        }
    };

    // 3. Credentials: in the URL, or else from the environment.
    let credentials = match url_credentials(&url)? {
        Some(credentials) => credentials,
        None => env_credentials(env)?,
    };
    Ok(S3Config {
        bucket,
        prefix,
        endpoint,
        public_endpoint,
        region,
        path_style,
        acl,
        credentials,
    })
}

/// An endpoint parameter (`name`): an http(s) address with no path.
fn parse_endpoint(value: &str, name: &str) -> Result<String> {
    let endpoint =
        url::Url::parse(value).map_err(|err| invalid(&format!("{name} is not a URL ({err})")))?;
    if !matches!(endpoint.scheme(), "http" | "https") || endpoint.host_str().is_none() {
        return Err(invalid(&format!(
            "{name} must be an http:// or https:// address, URL-encoded"
        )));
    }
    if !endpoint.username().is_empty() || endpoint.password().is_some() {
        return Err(invalid(&format!("{name} may not hold credentials")));
    }
    if endpoint.query().is_some() || endpoint.path() != "/" {
        return Err(invalid(&format!(
            "{name} is the server's address only, with no path"
        )));
    }
    Ok(value.trim_end_matches('/').to_owned())
}

fn url_credentials(url: &url::Url) -> Result<Option<S3Credentials>> {
    let user = url.username();
    let password = url.password();
    if user.is_empty() && password.is_none() {
        return Ok(None);
    }
    let (Some(password), false) = (password, user.is_empty()) else {
        return Err(invalid(
            "credentials in the URL need both parts: s3://ACCESS_KEY:SECRET@bucket",
        ));
    };
    Ok(Some(S3Credentials {
        access_key_id: percent_decode(user, "the access key")?,
        secret_access_key: Secret::new(percent_decode(password, "the secret key")?),
        session_token: None,
    }))
}

fn env_credentials(env: &dyn EnvSource) -> Result<S3Credentials> {
    let access_key_id = env_secret(env, "AWS_ACCESS_KEY_ID")?;
    let secret_access_key = env_secret(env, "AWS_SECRET_ACCESS_KEY")?;
    let (Some(access_key_id), Some(secret_access_key)) = (access_key_id, secret_access_key) else {
        return Err(invalid(
            "no credentials: give them in the URL (s3://ACCESS_KEY:SECRET@bucket) or set \
             AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID_FILE and \
             AWS_SECRET_ACCESS_KEY_FILE naming files that hold them)",
        ));
    };
    Ok(S3Credentials {
        access_key_id: access_key_id.expose().to_owned(),
        secret_access_key,
        session_token: env_secret(env, "AWS_SESSION_TOKEN")?,
    })
}

/// A value from `name`, or from the file named by `name_FILE` (as container secrets are
/// given); blank values count as unset.
fn env_secret(env: &dyn EnvSource, name: &str) -> Result<Option<Secret>> {
    let file_var = format!("{name}_FILE");
    let direct = env.var(name).filter(|v| !v.trim().is_empty());
    let file = env.var(&file_var).filter(|v| !v.trim().is_empty());
    match (direct, file) {
        (Some(_), Some(_)) => Err(invalid(&format!("set {name} or {file_var}, not both"))),
        (Some(value), None) => Ok(Some(Secret::new(value.trim()))),
        (None, Some(path)) => read_secret_file(&file_var, path.trim()).map(Some),
        (None, None) => Ok(None),
    }
}

/// Reads a secret file, refusing one that every account can read: a secret is only as safe
/// as the file holding it. A group may read it, so that a service account can share a
/// group with the one managing its secrets.
///
/// # Errors
/// [`Error::BadSecretFile`] naming `var` when the file cannot be read, is a folder, is
/// readable by every account or is empty.
pub fn read_secret_file(var: &str, path: &str) -> Result<Secret> {
    let refused = |reason: String| Error::BadSecretFile(format!("{var}: {reason}"));
    let cannot_read = |err: std::io::Error| refused(format!("cannot read {path}: {err}"));
    let meta = std::fs::metadata(path).map_err(cannot_read)?;
    if meta.is_dir() {
        return Err(refused(format!(
            "{path} is a folder, not a file holding the secret"
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o004 != 0 {
            return Err(refused(format!(
                "{path} is readable by every account; restrict it (chmod o-r, or a \
                 defaultMode of 0400 for a mounted secret)"
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    let value = std::fs::read_to_string(path).map_err(cannot_read)?;
    let value = value.trim();
    if value.is_empty() {
        return Err(refused(format!("{path} is empty")));
    }
    Ok(Secret::new(value))
}

/// Opens the store a URL names (see [`BlobLocation::parse`]), with credentials from the
/// process environment. An S3 bucket is checked at once, so that wrong credentials or an
/// unreachable server stop the start rather than the first upload.
///
/// # Errors
/// [`Error::InvalidBlobUrl`] for a malformed URL, [`Error::Io`] when the folder cannot be
/// created, [`Error::ObjectStore`] when the bucket cannot be reached or refuses the
/// credentials.
pub async fn open_blob_store(url: &str) -> Result<Arc<dyn BlobStore>> {
    open_location(&BlobLocation::parse(url, &ProcessEnv)?).await
}

/// Opens the store of a parsed location, as [`open_blob_store`] does.
///
/// # Errors
/// As [`open_blob_store`].
pub async fn open_location(location: &BlobLocation) -> Result<Arc<dyn BlobStore>> {
    match location {
        BlobLocation::Folder(path) => Ok(Arc::new(FsBlobStore::open(path).await?)),
        BlobLocation::S3(config) => {
            let store = S3BlobStore::open(config)?;
            store.check().await?;
            Ok(Arc::new(store))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> HashMap<String, String> {
        vars.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn s3(url: &str, vars: &[(&str, &str)]) -> Result<S3Config> {
        match BlobLocation::parse(url, &env(vars))? {
            BlobLocation::S3(config) => Ok(config),
            other => panic!("not an S3 location: {other:?}"),
        }
    }

    fn refusal(url: &str, vars: &[(&str, &str)]) -> String {
        match BlobLocation::parse(url, &env(vars)) {
            Err(err @ (Error::InvalidBlobUrl(_) | Error::BadSecretFile(_))) => err.to_string(),
            other => panic!("{url} gave {other:?}"),
        }
    }

    #[test]
    fn reads_the_reference_form_with_credentials_in_the_url() {
        let config = s3(
            "s3://AKID:se%2Fcr%2Bet@pictures/instance/one?endpoint_url=\
             http%3A%2F%2F127.0.0.1%3A9000&region=eu-west-3",
            &[
                ("AWS_ACCESS_KEY_ID", "ignored"),
                ("AWS_SECRET_ACCESS_KEY", "ignored"),
            ],
        )
        .expect("valid");
        assert_eq!(config.bucket, "pictures");
        assert_eq!(config.prefix, "instance/one");
        assert_eq!(config.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(config.region, "eu-west-3");
        assert!(config.path_style);
        assert_eq!(config.credentials.access_key_id, "AKID");
        assert_eq!(config.credentials.secret_access_key.expose(), "se/cr+et");
        assert_eq!(config.public_endpoint, None);

        let config = s3(
            "s3://k:s@pictures?endpoint_url=http%3A%2F%2Fs3.internal%3A9000&\
             public_endpoint_url=https%3A%2F%2Fpictures.example.org%2F",
            &[],
        )
        .expect("valid");
        assert_eq!(
            config.public_endpoint.as_deref(),
            Some("https://pictures.example.org")
        );
    }

    #[test]
    fn region_defaults_as_panoramax_does_and_path_style_can_be_turned_off() {
        let config = s3(
            "s3://k:s@bucket?endpoint_url=https%3A%2F%2Fs3.example.org&path_style=false",
            &[],
        )
        .expect("valid");
        assert_eq!(config.region, "default");
        assert!(!config.path_style);
        assert_eq!(config.prefix, "");
    }

    #[test]
    fn credentials_come_from_the_environment_or_files() {
        let message = refusal(
            "s3://bucket?region=r",
            &[
                ("AWS_ACCESS_KEY_ID", "k"),
                ("AWS_SECRET_ACCESS_KEY_FILE", "/nowhere/s"),
            ],
        );
        assert!(message.contains("cannot read /nowhere/s"), "{message}");
        assert!(!message.contains("expected a folder path"), "{message}");

        let config = s3(
            "s3://bucket?region=eu-west-3",
            &[
                ("AWS_ACCESS_KEY_ID", "AKID"),
                ("AWS_SECRET_ACCESS_KEY", "s3cret"),
            ],
        )
        .expect("valid");
        assert_eq!(config.credentials.access_key_id, "AKID");
        assert_eq!(config.credentials.secret_access_key.expose(), "s3cret");
        assert!(config.endpoint.is_none());

        let dir = tempfile::tempdir().expect("temp dir");
        let key_file = dir.path().join("key");
        let secret_file = dir.path().join("secret");
        std::fs::write(&key_file, "AKID\n").expect("write");
        std::fs::write(&secret_file, "from-file\n").expect("write");
        #[cfg(unix)]
        for file in [&key_file, &secret_file] {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        let key_path = key_file.to_str().expect("utf-8 path");
        let secret_path = secret_file.to_str().expect("utf-8 path");
        let config = s3(
            "s3://bucket?region=eu-west-3",
            &[
                ("AWS_ACCESS_KEY_ID_FILE", key_path),
                ("AWS_SECRET_ACCESS_KEY_FILE", secret_path),
            ],
        )
        .expect("valid");
        assert_eq!(config.credentials.access_key_id, "AKID");
        assert_eq!(config.credentials.secret_access_key.expose(), "from-file");

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(0o644))
                .expect("chmod");
            let message = refusal(
                "s3://bucket?region=eu-west-3",
                &[
                    ("AWS_ACCESS_KEY_ID", "AKID"),
                    ("AWS_SECRET_ACCESS_KEY_FILE", secret_path),
                ],
            );
            assert!(message.contains("readable by every account"), "{message}");
            assert!(!message.contains("expected a folder path"), "{message}");

            // A group may read it; every account may not.
            std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(0o640))
                .expect("chmod");
            let vars = [
                ("AWS_ACCESS_KEY_ID", "AKID"),
                ("AWS_SECRET_ACCESS_KEY_FILE", secret_path),
            ];
            s3("s3://bucket?region=eu-west-3", &vars).expect("group-readable is accepted");
        }

        let folder = dir.path().to_str().expect("utf-8 path");
        let message = refusal(
            "s3://bucket?region=eu-west-3",
            &[
                ("AWS_ACCESS_KEY_ID", "AKID"),
                ("AWS_SECRET_ACCESS_KEY_FILE", folder),
            ],
        );
        assert!(message.contains("is a folder"), "{message}");
        assert!(message.contains("AWS_SECRET_ACCESS_KEY_FILE"), "{message}");
        assert!(!message.contains("readable by every account"), "{message}");
        assert!(!message.contains("expected a folder path"), "{message}");
    }

    #[test]
    fn secrets_stay_out_of_debug_output_and_descriptions() {
        let location = BlobLocation::parse(
            "s3://AKID:hunter2@bucket/p?endpoint_url=http%3A%2F%2F127.0.0.1%3A9000",
            &env(&[]),
        )
        .expect("valid");
        let shown = format!("{location:?} {}", location.describe());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"), "{shown}");
    }

    #[test]
    fn folders_are_paths_or_file_urls() {
        let empty = env(&[]);
        assert_eq!(
            BlobLocation::parse("/srv/pictures", &empty).expect("path"),
            BlobLocation::Folder(PathBuf::from("/srv/pictures"))
        );
        assert_eq!(
            BlobLocation::parse("file:///srv/my%20pictures", &empty).expect("file URL"),
            BlobLocation::Folder(PathBuf::from("/srv/my pictures"))
        );
    }

    #[test]
    fn bad_urls_are_refused_saying_what_is_wrong() {
        let creds = [("AWS_ACCESS_KEY_ID", "k"), ("AWS_SECRET_ACCESS_KEY", "s")];
        // A URL, the environment it is read with, and a part of the refusal's message.
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
        let cases: &[Case] = &[
            ("", &[], "empty"),
            ("gs://bucket", &[], "scheme 'gs'"),
            ("file://relative/path", &[], "absolute path"),
            ("s3:///prefix?region=r", &creds, "bucket is missing"),
            ("s3://Bucket?region=r", &creds, "lowercase"),
            (
                "s3://bucket:9000?region=r",
                &creds,
                "port belongs to the endpoint",
            ),
            ("s3://bucket/a/../b?region=r", &creds, "'..'"),
            ("s3://bucket/a/%2E%2E/b?region=r", &creds, "'..'"),
            ("s3://bucket/./b?region=r", &creds, "'.'"),
            ("s3://bucket", &creds, "region must be given"),
            (
                "s3://bucket?region=r&colour=blue",
                &creds,
                "unknown parameter 'colour'",
            ),
            ("s3://bucket?region=r&region=s", &creds, "given twice"),
            (
                "s3://bucket?region=r&path_style=yes",
                &creds,
                "true or false",
            ),
            (
                "s3://bucket?endpoint_url=localhost:9000",
                &creds,
                "http:// or https://",
            ),
            (
                "s3://bucket?endpoint_url=http%3A%2F%2Fh%2Fpath",
                &creds,
                "no path",
            ),
            (
                "s3://bucket?region=r&public_endpoint_url=ftp%3A%2F%2Fh",
                &creds,
                "public_endpoint_url must be an http:// or https:// address",
            ),
            ("s3://bucket?region=r", &[], "no credentials"),
            ("s3://onlykey@bucket?region=r", &[], "both parts"),
            (
                "s3://bucket?region=r",
                &[
                    ("AWS_ACCESS_KEY_ID", "k"),
                    ("AWS_SECRET_ACCESS_KEY", "s"),
                    ("AWS_SECRET_ACCESS_KEY_FILE", "/nowhere"),
                ],
                "not both",
            ),
        ];
        for (url, vars, expected) in cases {
            let message = refusal(url, vars);
            assert!(message.contains(expected), "{url}: {message}");
            assert!(
                message.contains("expected a folder path"),
                "{url}: {message}"
            );
        }
    }

    #[test]
    fn unencoded_credentials_are_refused_saying_how_to_encode_them() {
        for url in [
            "s3://AKID:se/cret@bucket?region=r",
            "s3://AKID:se#cret@bucket?region=r",
            "s3://AKID:12/cret@bucket?region=r",
        ] {
            let message = refusal(url, &[]);
            assert!(
                message.contains("percent-encode '/' (%2F)"),
                "{url}: {message}"
            );
            assert!(!message.contains("cret"), "{url}: {message}");
        }
        // A fragment is refused rather than dropped with what follows it.
        let message = refusal(
            "s3://bucket?region=r#x&endpoint_url=http%3A%2F%2Fh",
            &[("AWS_ACCESS_KEY_ID", "k"), ("AWS_SECRET_ACCESS_KEY", "s")],
        );
        assert!(message.contains("'#'"), "{message}");
        assert!(!message.contains("percent-encode"), "{message}");
        // Encoded, the same secret is read back whole.
        let config = s3("s3://AKID:se%2Fc%23r%2B%40%3At@bucket?region=r", &[]).expect("valid");
        assert_eq!(config.credentials.secret_access_key.expose(), "se/c#r+@:t");
    }

    #[test]
    fn a_refused_url_never_echoes_its_secret() {
        let message = refusal("s3://AKID:hunter2@bucket?regoin=x", &[]);
        assert!(!message.contains("hunter2"), "{message}");
    }
}
