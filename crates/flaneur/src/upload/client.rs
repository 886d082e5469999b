//! The HTTP side of `flaneur upload`: where the instance's API lives, the requests made to it
//! with their retries, and how its answers are read (upload sets, the answer to each file, the
//! error bodies of a Panoramax instance). Nothing here writes to the user: the command in the
//! parent module decides what to show and in which order the calls are made.

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::multipart::{Form, Part};
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde::{Deserialize, Serialize};

use super::{FileOutcome, UsageError};

const USER_AGENT: &str = concat!("flaneur/", env!("CARGO_PKG_VERSION"));

/// Delay before the first retry; doubled for each further one up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// The longest pause between two attempts, unless the server asks for more with `Retry-After`.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// The HTTP client every call of one upload goes through, with how long a request that fails
/// transiently is retried.
#[derive(Debug, Clone)]
pub(super) struct Http {
    client: Client,
    retry_for: Duration,
}

/// Builds the client; a request failing transiently is retried for at most `retry_for`.
pub(super) fn build_client(retry_for: Duration) -> reqwest::Result<Http> {
    let client = Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(15))
        .read_timeout(Duration::from_secs(60))
        .build()?;
    Ok(Http { client, retry_for })
}

/// Where the instance's API lives: an `http://` URL ending in `/api`, without trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiUrl(String);

impl ApiUrl {
    /// Accepts an instance address with or without `/api` and with or without a trailing `/`.
    ///
    /// # Errors
    /// A [`UsageError`] when the text is not an `http://` URL.
    pub fn parse(input: &str) -> Result<ApiUrl, UsageError> {
        let mut url = reqwest::Url::parse(input.trim()).map_err(|err| {
            UsageError(format!(
                "--api '{input}' is not a URL ({err}); e.g. http://127.0.0.1:5000"
            ))
        })?;
        match url.scheme() {
            "http" => {}
            // TODO: https instances cannot be reached — the binary is built without TLS to keep
            // its build small; until a TLS backend is enabled, only http:// works.
            "https" => {
                return Err(UsageError(format!(
                    "--api '{input}': this build of flaneur has no TLS support, so https:// \
                     instances cannot be reached yet; use an http:// address"
                )));
            }
            other => {
                return Err(UsageError(format!(
                    "--api '{input}': unsupported scheme '{other}', expected http://HOST[:PORT]"
                )));
            }
        }
        url.set_query(None);
        url.set_fragment(None);

        let path = url.path().trim_end_matches('/').to_owned();
        let path = if path.ends_with("/api") {
            path
        } else {
            format!("{path}/api")
        };
        url.set_path(&path);
        Ok(ApiUrl(url.as_str().trim_end_matches('/').to_owned()))
    }

    /// The URL of a route below the API root (`""` for the root itself).
    pub fn at(&self, route: &str) -> String {
        if route.is_empty() {
            self.0.clone()
        } else {
            format!("{}/{route}", self.0)
        }
    }
}

impl fmt::Display for ApiUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The part of the server's upload-set JSON this client uses.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UploadSet {
    /// Its id.
    pub id: String,
    /// Its title.
    #[serde(default)]
    pub title: Option<String>,
    /// Whether the server considers all files received.
    #[serde(default)]
    pub completed: bool,
    /// Whether its pictures are in sequences and prepared.
    #[serde(default)]
    pub ready: bool,
    /// Counts of pictures per processing state.
    #[serde(default)]
    pub items_status: Option<ItemsStatus>,
    /// The sequences made from it.
    #[serde(default)]
    pub associated_collections: Vec<AssociatedCollection>,
    #[serde(default)]
    links: Vec<Link>,
}

/// Counts of an upload set's pictures per processing state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ItemsStatus {
    /// Ready to be seen.
    pub prepared: u64,
    /// Being processed.
    pub preparing: u64,
    /// Processing failed.
    pub broken: u64,
    /// Refused at upload or dropped as duplicates.
    pub rejected: u64,
    /// Waiting to be processed.
    pub not_processed: u64,
}

/// A sequence made from an upload set.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AssociatedCollection {
    /// The collection's id.
    pub id: String,
    /// Its title.
    #[serde(default)]
    pub title: Option<String>,
    /// How many pictures it holds.
    #[serde(default)]
    pub nb_items: Option<u64>,
    #[serde(default)]
    links: Vec<Link>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct Link {
    rel: String,
    href: String,
}

fn self_link(links: &[Link]) -> Option<&str> {
    links
        .iter()
        .find(|link| link.rel == "self")
        .map(|link| link.href.as_str())
}

impl UploadSet {
    /// Its URL on the instance, when the server gave one.
    pub fn self_url(&self) -> Option<&str> {
        self_link(&self.links)
    }
}

impl AssociatedCollection {
    /// Its URL on the instance, when the server gave one.
    pub fn self_url(&self) -> Option<&str> {
        self_link(&self.links)
    }
}

/// Checks that `api` answers like a STAC catalog, as every Panoramax instance's root does.
pub(super) async fn check_api(http: &Http, api: &ApiUrl) -> anyhow::Result<()> {
    let response = send_with_retry(http.retry_for, || async { Ok(http.client.get(api.at(""))) })
        .await
        .map_err(|err| err.context(format!("cannot reach the instance at {api}")))?;
    let status = response.status();
    let body = response.bytes().await?;
    let root: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
    let is_stac = root
        .as_ref()
        .is_some_and(|root| root.get("stac_version").is_some());
    if !status.is_success() || !is_stac {
        return Err(UsageError(format!(
            "{api} is not a Panoramax API (HTTP {status} without a STAC catalog); \
             check --api"
        ))
        .into());
    }
    Ok(())
}

/// Creates an upload set from `body`, the JSON the instance expects.
pub(super) async fn create_upload_set(
    http: &Http,
    api: &ApiUrl,
    body: &impl Serialize,
) -> anyhow::Result<UploadSet> {
    let response = send_with_retry(http.retry_for, || async {
        Ok(http.client.post(api.at("upload_sets")).json(body))
    })
    .await
    .map_err(|err| err.context("cannot create the upload set"))?;
    read_json(response, "cannot create the upload set").await
}

/// Reads the upload set at `set_url` as it is now.
pub(super) async fn get_upload_set(http: &Http, set_url: &str) -> anyhow::Result<UploadSet> {
    let response = send_with_retry(http.retry_for, || async { Ok(http.client.get(set_url)) })
        .await
        .map_err(|err| err.context("cannot read the upload set"))?;
    read_json(response, "cannot read the upload set").await
}
/// Tells the server that every file of the upload set at `set_url` was sent.
pub(super) async fn complete_upload_set(http: &Http, set_url: &str) -> anyhow::Result<UploadSet> {
    let complete_url = format!("{set_url}/complete");
    let response = send_with_retry(http.retry_for, || async {
        Ok(http.client.post(&complete_url))
    })
    .await
    .map_err(|err| err.context("cannot complete the upload set"))?;
    read_json(response, "cannot complete the upload set").await
}

/// Decodes a successful JSON answer, or turns an error answer into an error naming `what`.
async fn read_json<T: serde::de::DeserializeOwned>(
    response: Response,
    what: &str,
) -> anyhow::Result<T> {
    let status = response.status();
    let body = response.bytes().await?;
    if !status.is_success() {
        let reason = describe_error_body(&body).unwrap_or_default();
        let hint = match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                " (this instance wants an account; flaneur upload does not log in yet)"
            }
            _ => "",
        };
        anyhow::bail!("{what}: HTTP {status}{hint} {reason}");
    }
    serde_json::from_slice(&body)
        .map_err(|err| anyhow::anyhow!("{what}: unexpected answer ({err})"))
}

/// Sends one file as the `file` part of a multipart form, streamed from disk.
pub(super) async fn send_file(
    http: &Http,
    files_url: &str,
    path: &Path,
    file_name: &str,
    is_blurred: bool,
    extra_fields: &[(String, String)],
) -> FileOutcome {
    // The request is rebuilt from the file for each attempt: a streamed body cannot be replayed.
    let result = send_with_retry(http.retry_for, || async {
        let file = tokio::fs::File::open(path).await?;
        let size_bytes = file.metadata().await?.len();
        let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(file));
        let part = Part::stream_with_length(body, size_bytes)
            .file_name(file_name.to_owned())
            .mime_str("image/jpeg")?;
        let mut form = Form::new()
            .part("file", part)
            .text("isBlurred", if is_blurred { "true" } else { "false" });
        for (name, value) in extra_fields {
            form = form.text(name.clone(), value.clone());
        }
        Ok(http.client.post(files_url).multipart(form))
    })
    .await;

    let response = match result {
        Ok(response) => response,
        Err(err) => {
            return FileOutcome::Failed {
                reason: format!("{err:#}"),
            };
        }
    };
    let status = response.status();
    match response.bytes().await {
        Ok(body) => classify_file_answer(status, &body),
        Err(err) => FileOutcome::Failed {
            reason: format!("HTTP {status}, unreadable answer: {err}"),
        },
    }
}

/// Reads the server's answer to one file, following the reference uploader: 409 means the
/// server already has these bytes, 400 is a refusal of this picture, anything else a failure.
fn classify_file_answer(status: StatusCode, body: &[u8]) -> FileOutcome {
    if status.is_success() {
        let answer: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let picture_id = answer
            .as_ref()
            .and_then(|answer| answer.get("picture_id"))
            .and_then(|id| id.as_str())
            .map(str::to_owned);
        return FileOutcome::Sent { picture_id };
    }
    let reason = describe_error_body(body);
    match status {
        StatusCode::CONFLICT => FileOutcome::Skipped {
            reason: reason.unwrap_or_else(|| "already on the server".to_owned()),
            earlier_upload_set: earlier_upload_set(body),
        },
        StatusCode::BAD_REQUEST => FileOutcome::Rejected {
            reason: reason.unwrap_or_else(|| "refused by the server (HTTP 400)".to_owned()),
        },
        _ => FileOutcome::Failed {
            reason: match reason {
                Some(reason) => format!("HTTP {status}: {reason}"),
                None => format!("HTTP {status}"),
            },
        },
    }
}

/// The upload set that already holds a picture, from a 409 "sent in a past upload" answer.
fn earlier_upload_set(body: &[u8]) -> Option<String> {
    let answer: serde_json::Value = serde_json::from_slice(body).ok()?;
    let sets = answer.get("upload_sets")?.as_array()?;
    sets.iter()
        .find_map(|s| s.get("upload_set_id")?.as_str().map(str::to_owned))
}

/// Turns a Panoramax error body into one line: `message`, then `details.error` when present (or
/// the errors of a `details` list). A body that is not JSON gives its first line of text.
fn describe_error_body(body: &[u8]) -> Option<String> {
    let Ok(answer) = serde_json::from_slice::<serde_json::Value>(body) else {
        let text = String::from_utf8_lossy(body);
        let first_line = text.lines().map(str::trim).find(|line| !line.is_empty())?;
        return Some(first_line.chars().take(200).collect());
    };

    let message = answer.get("message").and_then(|m| m.as_str()).map(one_line);
    let details = answer.get("details");
    let detail_errors: Vec<String> = match details {
        Some(serde_json::Value::Array(list)) => list.iter().filter_map(detail_error).collect(),
        Some(details) => detail_error(details).into_iter().collect(),
        None => Vec::new(),
    };
    // Rejections listed by `/files` repeat the message as the detail; say it once.
    let detail_errors: Vec<String> = detail_errors
        .into_iter()
        .filter(|detail| Some(detail) != message.as_ref())
        .collect();

    match (message, detail_errors.is_empty()) {
        (Some(message), true) => Some(message),
        (Some(message), false) => Some(format!("{message}: {}", detail_errors.join("; "))),
        (None, false) => Some(detail_errors.join("; ")),
        (None, true) => None,
    }
}

/// The `error` of one `details` entry, with its `fields` when it names some.
fn detail_error(detail: &serde_json::Value) -> Option<String> {
    let error = one_line(detail.get("error")?.as_str()?);
    let fields: Vec<&str> = detail
        .get("fields")
        .and_then(|fields| fields.as_array())
        .map(|fields| fields.iter().filter_map(|field| field.as_str()).collect())
        .unwrap_or_default();
    if fields.is_empty() {
        Some(error)
    } else {
        Some(format!("{} ({error})", fields.join(", ")))
    }
}

/// Joins the lines of a multi-line server message (GeoVisio lists missing metadata as
/// `\n\t- ` bullets) into one line of `; `-separated parts.
fn one_line(text: &str) -> String {
    let mut parts = text
        .lines()
        .map(|line| line.trim().trim_start_matches("- ").trim())
        .filter(|line| !line.is_empty());
    let Some(first) = parts.next() else {
        return String::new();
    };
    let rest: Vec<&str> = parts.collect();
    if rest.is_empty() {
        first.to_owned()
    } else {
        format!("{first} {}", rest.join("; "))
    }
}

/// Sends a request, retrying for at most `retry_for` what may pass by itself: network
/// failures, server errors (5xx but 501) and 429. The pause between attempts starts at 0.5 s and
/// doubles up to 10 s, or is what the server asks for with `Retry-After` (in seconds).
/// `make_request` builds a fresh request for each attempt; its own errors (e.g. a file that
/// cannot be opened) are not retried.
async fn send_with_retry<F, Fut>(
    retry_for: Duration,
    mut make_request: F,
) -> anyhow::Result<Response>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<RequestBuilder>>,
{
    let started = Instant::now();
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 1_u32;
    loop {
        let result = make_request().await?.send().await;
        let is_transient = match &result {
            Ok(response) => is_transient_status(response.status()),
            Err(err) => !err.is_builder(),
        };
        if !is_transient {
            return Ok(result?);
        }
        let asked = result.as_ref().ok().and_then(retry_after);
        let delay = asked.unwrap_or(backoff);
        if started.elapsed() + delay > retry_for {
            return Ok(result?);
        }
        match &result {
            Ok(response) => {
                tracing::debug!(attempt, status = %response.status(), ?delay, "retrying")
            }
            Err(err) => tracing::debug!(attempt, error = %err, ?delay, "retrying"),
        }
        drop(result);
        tokio::time::sleep(delay).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
        attempt += 1;
    }
}

/// Whether an answer may change by itself: a server error other than "not implemented", or
/// "too many requests".
fn is_transient_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || (status.is_server_error()
            && status != StatusCode::NOT_IMPLEMENTED
            && status != StatusCode::HTTP_VERSION_NOT_SUPPORTED)
}

/// The pause a `Retry-After: SECONDS` header asks for (the HTTP-date form is not used by the
/// servers this talks to and is ignored).
fn retry_after(response: &Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?;
    let seconds: u64 = value.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds))
}

/// The names of the files the upload set at `set_url` already accepted (those it refused are
/// left out, so that they are sent again).
pub(super) async fn accepted_file_names(
    http: &Http,
    set_url: &str,
) -> anyhow::Result<HashSet<String>> {
    let files_url = format!("{set_url}/files");
    let response = send_with_retry(http.retry_for, || async { Ok(http.client.get(&files_url)) })
        .await
        .map_err(|err| err.context("cannot list the files of the upload set"))?;
    let answer: serde_json::Value =
        read_json(response, "cannot list the files of the upload set").await?;
    let files = answer
        .get("files")
        .and_then(|files| files.as_array())
        .map(Vec::as_slice)
        .unwrap_or_default();
    Ok(files
        .iter()
        .filter(|file| file.get("rejected").is_none_or(serde_json::Value::is_null))
        .filter_map(|file| file.get("file_name")?.as_str().map(str::to_owned))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Error bodies below have the shapes GeoVisio 2.15.1 answers with.
    fn json_bytes(value: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&value).expect("a JSON value serialises")
    }

    #[test]
    fn normalises_api_urls_with_or_without_api_and_slash() {
        for input in [
            "http://127.0.0.1:5000",
            "http://127.0.0.1:5000/",
            "http://127.0.0.1:5000/api",
            "http://127.0.0.1:5000/api/",
            " http://127.0.0.1:5000/api?x=1#top ",
        ] {
            let api = ApiUrl::parse(input).expect("a valid address");
            assert_eq!(api.at(""), "http://127.0.0.1:5000/api", "{input}");
            assert_eq!(
                api.at("upload_sets"),
                "http://127.0.0.1:5000/api/upload_sets"
            );
        }
        let api = ApiUrl::parse("http://host/panoramax").expect("a valid address");
        assert_eq!(api.at(""), "http://host/panoramax/api");
    }

    #[test]
    fn refuses_https_and_non_urls_with_a_clear_message() {
        let err = ApiUrl::parse("https://panoramax.example/api").expect_err("no TLS");
        assert!(err.to_string().contains("no TLS support"), "{err}");
        let err = ApiUrl::parse("127.0.0.1:5000").expect_err("no scheme");
        assert!(err.to_string().contains("http://"), "{err}");
        assert!(ApiUrl::parse("panoramax").is_err());
    }

    #[test]
    fn describes_a_missing_metadata_rejection_on_one_line() {
        // The answer to a picture without EXIF.
        let body = json_bytes(serde_json::json!({
            "details": {
                "error": "The picture is missing mandatory metadata:\n\t\
                          - No GPS coordinates or broken coordinates in picture EXIF tags\n\t\
                          - No valid date in picture EXIF tags",
                "missing_fields": ["datetime", "location"]
            },
            "message": "Impossible to parse picture metadata",
            "status_code": 400
        }));
        assert_eq!(
            describe_error_body(&body).as_deref(),
            Some(
                "Impossible to parse picture metadata: The picture is missing mandatory \
                 metadata: No GPS coordinates or broken coordinates in picture EXIF tags; \
                 No valid date in picture EXIF tags"
            )
        );
    }

    #[test]
    fn describes_error_bodies_without_details_or_with_a_details_list() {
        let png = json_bytes(serde_json::json!({
            "message": "Picture file is either missing or in an unsupported format (should be jpg)",
            "status_code": 400
        }));
        assert_eq!(
            describe_error_body(&png).as_deref(),
            Some("Picture file is either missing or in an unsupported format (should be jpg)")
        );

        let params = json_bytes(serde_json::json!({
            "details": [
                {"error": "Field required", "fields": ["title"]},
                {
                    "error": "Input should be a valid integer",
                    "fields": ["estimated_nb_files"],
                    "input": "many"
                }
            ],
            "message": "Impossible to create an UploadSet",
            "status_code": 400
        }));
        assert_eq!(
            describe_error_body(&params).as_deref(),
            Some(
                "Impossible to create an UploadSet: title (Field required); \
                 estimated_nb_files (Input should be a valid integer)"
            )
        );

        assert_eq!(
            describe_error_body(b"<html>\n<title>502 Bad Gateway</title>").as_deref(),
            Some("<html>")
        );
        assert_eq!(describe_error_body(b""), None);
        assert_eq!(describe_error_body(b"{}"), None);
    }

    #[test]
    fn classifies_file_answers_like_the_reference_uploader() {
        let accepted =
            br#"{"picture_id": "ad2a4048-b27c-4f86-8d27-451c4cb1601e", "file_name": "1.jpg"}"#;
        assert_eq!(
            classify_file_answer(StatusCode::ACCEPTED, accepted),
            FileOutcome::Sent {
                picture_id: Some("ad2a4048-b27c-4f86-8d27-451c4cb1601e".into())
            }
        );

        let same_set = json_bytes(serde_json::json!({
            "existing_item": {"id": "ad2a"},
            "message": "The item has already been added to this upload set",
            "status_code": 409
        }));
        assert_eq!(
            classify_file_answer(StatusCode::CONFLICT, &same_set),
            FileOutcome::Skipped {
                reason: "The item has already been added to this upload set".into(),
                earlier_upload_set: None,
            }
        );

        let past_upload = json_bytes(serde_json::json!({
            "message": "The same picture has already been sent in a past upload",
            "status_code": 409,
            "upload_sets": [{"existing_item_id": "a84a", "upload_set_id": "c5b0"}]
        }));
        assert_eq!(
            classify_file_answer(StatusCode::CONFLICT, &past_upload),
            FileOutcome::Skipped {
                reason: "The same picture has already been sent in a past upload".into(),
                earlier_upload_set: Some("c5b0".into()),
            }
        );

        let no_gps = json_bytes(serde_json::json!({
            "details": {
                "error": "No GPS coordinates or broken coordinates in picture EXIF tags",
                "missing_fields": ["location"]
            },
            "message": "Impossible to parse picture metadata",
            "status_code": 400
        }));
        assert_eq!(
            classify_file_answer(StatusCode::BAD_REQUEST, &no_gps),
            FileOutcome::Rejected {
                reason: "Impossible to parse picture metadata: \
                         No GPS coordinates or broken coordinates in picture EXIF tags"
                    .into()
            }
        );

        assert_eq!(
            classify_file_answer(StatusCode::INTERNAL_SERVER_ERROR, b""),
            FileOutcome::Failed {
                reason: "HTTP 500 Internal Server Error".into()
            }
        );
    }
}
