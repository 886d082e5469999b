//! `flaneur upload`: sends a folder of pictures to a Panoramax-compatible instance through the
//! upload-set API, the way the reference command-line uploader does.
//!
//! This module owns the command: its arguments, finding the pictures, the order of the steps
//! (check the instance, create the upload set, send the files, complete, wait), the progress
//! shown meanwhile, the summary and the report behind the exit code. The HTTP exchange itself
//! (requests, retries, reading the server's answers) is in [`client`]. What happens to a
//! picture once accepted (metadata, sequences, derivatives) is the server's business; this
//! command reads no metadata itself and leaves deduplication and splitting to the server.
//!
//! Only `http://` instances can be reached: the binary is built without TLS.

mod client;
mod sidecar;

use std::collections::HashSet;
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use client::{ApiUrl, ItemsStatus, UploadSet};

/// How often `--wait` asks the server whether the upload set is ready.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Send a folder of JPEG pictures to a Panoramax-compatible instance.
#[derive(Debug, Clone, clap::Args)]
pub struct UploadArgs {
    /// Folder holding the pictures: every `.jpg`/`.jpeg` file directly inside it is sent,
    /// in file-name order (sub-folders are not visited).
    pub dir: PathBuf,

    /// Address of the instance, e.g. `http://127.0.0.1:5000` (with or without `/api`).
    #[arg(long, env = "FLANEUR_API", value_name = "URL")]
    pub api: String,

    /// Title of the upload set, reused for its sequences [default: the folder's name].
    #[arg(long)]
    pub title: Option<String>,

    /// How many pictures are sent at the same time.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallel: u16,

    /// After sending, wait until the server has made sequences of the pictures and they are
    /// ready to be seen.
    #[arg(long)]
    pub wait: bool,

    /// Give up waiting after this long (e.g. `90s`, `30m`, `2h`; a bare number is seconds).
    #[arg(long, default_value = "30m", value_parser = parse_duration, value_name = "DURATION")]
    pub wait_timeout: Duration,

    /// Keep retrying a request that fails in a way that may pass by itself (no connection,
    /// HTTP 5xx, 429) for this long before counting it as failed (e.g. `90s`, `10m`).
    #[arg(long, default_value = "5m", value_parser = parse_duration, value_name = "DURATION")]
    pub retry_for: Duration,

    /// Order of the pictures before they are split into sequences [default: the instance's,
    /// usually time-asc].
    #[arg(long, value_parser = parse_sort_method, value_name = "METHOD")]
    pub sort_method: Option<flaneur_model::SortMethod>,

    /// Start a new sequence when two consecutive pictures are further apart than this.
    #[arg(long, value_name = "METRES", conflicts_with = "no_split")]
    pub split_distance: Option<u32>,

    /// Start a new sequence when two consecutive pictures were taken further apart than this.
    #[arg(long, value_name = "SECONDS", conflicts_with = "no_split")]
    pub split_time: Option<u32>,

    /// Put every picture in one sequence.
    #[arg(long)]
    pub no_split: bool,

    /// Keep pictures that the server would otherwise drop as near-duplicates.
    #[arg(long)]
    pub no_deduplication: bool,

    /// Declare that faces and plates are already blurred, so the server need not blur them.
    #[arg(long)]
    pub is_blurred: bool,

    /// Who may see the pictures [default: the account's or instance's choice].
    #[arg(long, value_parser = parse_visibility, value_name = "anyone|logged-only|owner-only")]
    pub visibility: Option<flaneur_model::Visibility>,
}

/// Runs `flaneur upload`, writing progress and the summary to stdout.
///
/// Exit codes: 0 when every picture was accepted or was already on the server, 1 when one was
/// rejected or could not be sent (or became broken while `--wait`ing), 2 on misuse (a bad
/// `--api`, a folder that cannot be read or holds no picture, a URL that is not an instance);
/// misuse is explained on stderr.
///
/// # Errors
/// Fails when the instance cannot be reached or refuses to create or complete the upload set,
/// or when `--wait` times out.
#[expect(
    clippy::print_stderr,
    reason = "misuse is explained to the user on stderr"
)]
pub async fn run(args: UploadArgs) -> anyhow::Result<ExitCode> {
    match upload(&args, &mut io::stdout()).await {
        Ok(report) => Ok(report.exit_code()),
        Err(err) => match err.downcast_ref::<UsageError>() {
            Some(usage) => {
                eprintln!("error: {usage}");
                Ok(ExitCode::from(2))
            }
            None => Err(err),
        },
    }
}

/// A mistake in the command line or its inputs, as opposed to a failed operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOutcome {
    /// Accepted by the server.
    Sent {
        /// The id the server gave the picture, when it said.
        picture_id: Option<String>,
    },
    /// The server already had these bytes (HTTP 409).
    Skipped {
        /// The server's explanation.
        reason: String,
        /// The earlier upload set holding them, when it is another one.
        earlier_upload_set: Option<String>,
    },
    /// The server refused the picture (HTTP 400), e.g. for missing GPS coordinates.
    Rejected {
        /// The server's message and details.
        reason: String,
    },
    /// The file could not be read or sent, or the server failed.
    Failed {
        /// What went wrong.
        reason: String,
    },
}

/// One file of the folder and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// The file's name, as sent to the server.
    pub file_name: String,
    /// What happened to it.
    pub outcome: FileOutcome,
}

/// Everything `upload` did, for the exit code and for tests.
#[derive(Debug, Clone)]
pub struct UploadReport {
    /// The upload set's URL on the instance.
    pub upload_set_url: String,
    /// The files, in the order they were found.
    pub files: Vec<FileReport>,
    /// The upload set as last seen (after completion, or once ready with `--wait`).
    pub upload_set: UploadSet,
}

impl UploadReport {
    /// 0 when nothing was rejected, failed or broken; 1 otherwise.
    pub fn exit_code(&self) -> ExitCode {
        let counts = Counts::of(&self.files);
        let broken = self
            .upload_set
            .items_status
            .as_ref()
            .map_or(0, |status| status.broken);
        if counts.rejected + counts.failed + broken == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

/// Sends the folder of `args` to the instance and writes progress and a summary to `out`.
///
/// Writing to `out` never stops the upload: if the output is closed, the upload goes on and the
/// report still tells what happened.
///
/// # Errors
/// A [`UsageError`] for misuse; otherwise fails when the instance cannot be reached or refuses
/// to create or complete the upload set, or when `--wait` times out.
pub async fn upload(
    args: &UploadArgs,
    out: &mut (impl Write + Send),
) -> anyhow::Result<UploadReport> {
    // 1. Check everything local before any request, so that misuse costs no server state.
    let api = ApiUrl::parse(&args.api)?;
    let files = discover_pictures(&args.dir).map_err(|err| {
        UsageError(format!(
            "cannot list the folder {}: {err}",
            args.dir.display()
        ))
    })?;
    if files.is_empty() {
        let dir = args.dir.display();
        return Err(UsageError(format!("no .jpg or .jpeg file in the folder {dir}")).into());
    }
    let sidecar = sidecar::read(&args.dir)
        .map_err(UsageError)?
        .unwrap_or_default();
    if !sidecar.is_empty() {
        for name in sidecar.keys() {
            if !files
                .iter()
                .any(|f| f.file_name().is_some_and(|n| n.to_string_lossy() == *name))
            {
                emit(
                    out,
                    &format!(
                        "warning: {} names {name}, which is not in the folder\n",
                        sidecar::FILE_NAME
                    ),
                );
            }
        }
        let n = sidecar.len();
        emit(
            out,
            &format!(
                "using {} for the values of {n} pictures\n",
                sidecar::FILE_NAME
            ),
        );
    }
    let title = args
        .title
        .clone()
        .unwrap_or_else(|| default_title(&args.dir));
    let client = client::build_client(args.retry_for)?;

    // 2. Make sure the URL is an instance before creating anything on it.
    client::check_api(&client, &api).await?;

    // 3. Go on with the set an earlier run of this command left open, sending only what it
    // does not hold yet; otherwise create one. Declaring the file count lets the server
    // complete the set by itself once the last file arrives.
    let (upload_set, accepted) = match resumable_set(&client, &api, &args.dir).await {
        Some((upload_set, accepted)) => {
            emit(
                out,
                &format!(
                    "resuming upload set {}, left open by an earlier run ({} pictures already \
                     accepted)\n",
                    upload_set.id,
                    accepted.len()
                ),
            );
            (upload_set, accepted)
        }
        None => {
            let body = new_upload_set_body(args, &title, files.len());
            let upload_set = client::create_upload_set(&client, &api, &body).await?;
            save_open_set(&args.dir, &api, &upload_set.id, out);
            (upload_set, HashSet::new())
        }
    };
    let upload_set_url = upload_set.self_url().map_or_else(
        || api.at(&format!("upload_sets/{}", upload_set.id)),
        str::to_owned,
    );
    tracing::info!(upload_set.id = %upload_set.id, files = files.len(), "upload set created");
    let nb_files = files.len();
    emit(
        out,
        &format!(
            "sending {nb_files} pictures to upload set {}\n",
            upload_set.id
        ),
    );

    // 4. Send the files, a few at a time.
    let files_url = api.at(&format!("upload_sets/{}/files", upload_set.id));
    let reports = send_files(&client, &files_url, &files, &accepted, &sidecar, args).await;
    emit(out, &format_summary(&reports));

    // A file that could not be sent keeps the set open: completing it now would make sequences
    // without that picture, and the picture sent later would get a sequence of its own.
    let set_url = api.at(&format!("upload_sets/{}", upload_set.id));
    let failed = Counts::of(&reports).failed;
    if failed > 0 {
        emit(
            out,
            &format!(
                "{failed} picture(s) could not be sent: upload set {} is left open; run the \
                 same command again to send them (pictures already accepted are not sent \
                 again)\n",
                upload_set.id
            ),
        );
        let report = UploadReport {
            upload_set_url,
            files: reports,
            upload_set: client::get_upload_set(&client, &set_url).await?,
        };
        return Ok(report);
    }

    // 5. Complete the set unless reaching the declared count already did. The count is often
    // not reached: the server does not count a file it answered with 409 for this same set.
    let mut upload_set = client::get_upload_set(&client, &set_url).await?;
    if !upload_set.completed {
        upload_set = client::complete_upload_set(&client, &set_url).await?;
    }
    forget_open_set(&args.dir);

    // 6. Earlier upload sets that hold skipped pictures and were never completed were cut
    //    short (the same folder sent before and interrupted): complete them too, so that
    //    sending a folder again always ends with all of it published.
    let resumed =
        complete_interrupted_sets(&client, &api, &reports, &upload_set.id, &title, out).await?;

    // 7. Optionally wait for the server to make sequences and prepare the pictures.
    let counts = Counts::of(&reports);
    if args.wait && counts.sent + counts.skipped == 0 {
        emit(out, "no picture was accepted, nothing to wait for\n");
    } else if args.wait {
        for earlier_url in &resumed {
            let earlier = wait_until_ready(&client, earlier_url, args.wait_timeout, out).await?;
            emit(out, &format_collections(&earlier));
        }
        upload_set = wait_until_ready(&client, &set_url, args.wait_timeout, out).await?;
        emit(out, &format_collections(&upload_set));
    }

    let report = UploadReport {
        upload_set_url,
        files: reports,
        upload_set,
    };
    emit(out, &format!("upload set: {}\n", report.upload_set_url));
    Ok(report)
}

/// The file, inside the folder sent, naming the upload set a run left open. Its name starts with
/// a dot, so it is never taken for a picture.
const OPEN_SET_FILE: &str = ".flaneur-upload.json";

/// What [`OPEN_SET_FILE`] holds.
#[derive(Debug, Serialize, serde::Deserialize)]
struct OpenSet {
    api: String,
    upload_set_id: String,
}

/// The upload set an earlier run left open for this folder on this instance, with the names of
/// the files it already accepted; `None` when there is none, it was completed since, or it
/// cannot be read (a new set is made then).
async fn resumable_set(
    http: &client::Http,
    api: &ApiUrl,
    dir: &Path,
) -> Option<(UploadSet, HashSet<String>)> {
    let text = std::fs::read_to_string(dir.join(OPEN_SET_FILE)).ok()?;
    let open: OpenSet = serde_json::from_str(&text).ok()?;
    if open.api != api.to_string() {
        return None;
    }
    let set_url = api.at(&format!("upload_sets/{}", open.upload_set_id));
    let upload_set = client::get_upload_set(http, &set_url).await.ok()?;
    if upload_set.completed {
        return None;
    }
    let accepted = client::accepted_file_names(http, &set_url).await.ok()?;
    Some((upload_set, accepted))
}

/// Notes the new upload set in the folder so that a run cut short can be resumed. A folder
/// that cannot be written only loses that.
fn save_open_set(dir: &Path, api: &ApiUrl, upload_set_id: &str, out: &mut impl Write) {
    let open = OpenSet {
        api: api.to_string(),
        upload_set_id: upload_set_id.to_owned(),
    };
    let written = serde_json::to_vec_pretty(&open)
        .map_err(io::Error::other)
        .and_then(|json| std::fs::write(dir.join(OPEN_SET_FILE), json));
    if let Err(err) = written {
        emit(
            out,
            &format!(
                "warning: cannot write {OPEN_SET_FILE} in the folder ({err}); an interrupted \
                 upload will not be resumed\n"
            ),
        );
    }
}

/// Removes the note of an open set once the set is completed.
fn forget_open_set(dir: &Path) {
    if let Err(err) = std::fs::remove_file(dir.join(OPEN_SET_FILE))
        && err.kind() != io::ErrorKind::NotFound
    {
        tracing::warn!(error = %err, "cannot remove {OPEN_SET_FILE}");
    }
}

/// Lists the pictures directly inside `dir`, sorted by file name.
///
/// A picture is a file (or a link to one) whose name ends in `.jpg` or `.jpeg`, in any case.
/// Hidden files are left out: names starting with `.` are the resource forks and thumbnails that
/// macOS and some cameras leave next to pictures, and they would only be rejected.
///
/// # Errors
/// Fails when `dir` cannot be listed.
pub fn discover_pictures(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut pictures = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if is_picture_name(&path) && path.is_file() {
            pictures.push(path);
        }
    }
    pictures.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(pictures)
}

fn is_picture_name(path: &Path) -> bool {
    let is_hidden = path
        .file_name()
        .and_then(|name| name.to_str())
        .is_none_or(|name| name.starts_with('.'));
    let has_jpeg_extension = path
        .extension()
        .and_then(|ext| ext.to_str())
        .is_some_and(|ext| ext.eq_ignore_ascii_case("jpg") || ext.eq_ignore_ascii_case("jpeg"));
    !is_hidden && has_jpeg_extension
}

/// The folder's own name (`.` and relative paths resolved), else the path as given.
fn default_title(dir: &Path) -> String {
    dir.canonicalize()
        .ok()
        .and_then(|path| {
            path.file_name()
                .map(|name| name.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| dir.display().to_string())
}

/// The JSON body creating the upload set. Options left unset are left out, so that the
/// instance's defaults apply.
#[derive(Debug, Serialize)]
struct NewUploadSetBody<'a> {
    title: &'a str,
    estimated_nb_files: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    sort_method: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    split_distance: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    split_time: Option<u32>,
    #[serde(skip_serializing_if = "is_false")]
    no_split: bool,
    #[serde(skip_serializing_if = "is_false")]
    no_deduplication: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    visibility: Option<&'static str>,
}

fn is_false(value: &bool) -> bool {
    !value
}

fn new_upload_set_body<'a>(
    args: &UploadArgs,
    title: &'a str,
    nb_files: usize,
) -> NewUploadSetBody<'a> {
    NewUploadSetBody {
        title,
        estimated_nb_files: nb_files,
        sort_method: args.sort_method.map(|method| method.as_str()),
        split_distance: args.split_distance,
        split_time: args.split_time,
        no_split: args.no_split,
        no_deduplication: args.no_deduplication,
        visibility: args.visibility.map(|visibility| visibility.as_str()),
    }
}

/// Sends every file with at most `args.parallel` in flight, showing a progress bar on stderr
/// (indicatif hides it when stderr is not a terminal). Reports come back in file order.
async fn send_files(
    client: &client::Http,
    files_url: &str,
    files: &[PathBuf],
    accepted: &HashSet<String>,
    sidecar: &sidecar::Overrides,
    args: &UploadArgs,
) -> Vec<FileReport> {
    let bar = ProgressBar::new(files.len() as u64);
    let style = ProgressStyle::with_template("{bar:40} {pos}/{len} pictures, {elapsed} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);

    let reports = futures::stream::iter(files)
        .map(|path| {
            let bar = &bar;
            async move {
                let file_name = path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into(),
                );
                if accepted.contains(&file_name) {
                    bar.inc(1);
                    let reason = "accepted in an earlier run".to_owned();
                    let outcome = FileOutcome::Skipped {
                        reason,
                        earlier_upload_set: None,
                    };
                    return FileReport { file_name, outcome };
                }
                let extra = sidecar.get(&file_name).map_or(&[][..], Vec::as_slice);
                let outcome =
                    client::send_file(client, files_url, path, &file_name, args.is_blurred, extra)
                        .await;
                if let FileOutcome::Rejected { reason } | FileOutcome::Failed { reason } = &outcome
                {
                    bar.println(format!("{file_name}: {reason}"));
                }
                bar.inc(1);
                FileReport { file_name, outcome }
            }
        })
        .buffered(usize::from(args.parallel))
        .collect()
        .await;
    bar.finish_and_clear();
    reports
}

/// Polls the upload set until the server says it is ready, writing its progress whenever it
/// changes.
/// Completes the other upload sets of the same title that skipped pictures belong to, when
/// they never were; returns their URLs.
async fn complete_interrupted_sets(
    client: &client::Http,
    api: &client::ApiUrl,
    reports: &[FileReport],
    current: &str,
    title: &str,
    out: &mut (impl Write + Send),
) -> anyhow::Result<Vec<String>> {
    let mut earlier: Vec<&str> = reports
        .iter()
        .filter_map(|r| match &r.outcome {
            FileOutcome::Skipped {
                earlier_upload_set: Some(set),
                ..
            } => Some(set.as_str()),
            _ => None,
        })
        .filter(|set| *set != current)
        .collect();
    earlier.sort_unstable();
    earlier.dedup();

    let mut resumed = Vec::new();
    for set in earlier {
        let url = api.at(&format!("upload_sets/{set}"));
        let Ok(found) = client::get_upload_set(client, &url).await else {
            continue;
        };
        // Only an earlier upload of this same folder (same title) is finished here: an open
        // set of another client holding the same picture is theirs to complete.
        if found.completed || found.title.as_deref() != Some(title) {
            continue;
        }
        client::complete_upload_set(client, &url).await?;
        emit(
            out,
            &format!("completed upload set {set}, left unfinished by an earlier upload\n"),
        );
        resumed.push(url);
    }
    Ok(resumed)
}

async fn wait_until_ready(
    client: &client::Http,
    set_url: &str,
    timeout: Duration,
    out: &mut (impl Write + Send),
) -> anyhow::Result<UploadSet> {
    let deadline = Instant::now() + timeout;
    let mut last_status = None;
    loop {
        let upload_set = client::get_upload_set(client, set_url).await?;
        if upload_set.items_status != last_status {
            if let Some(status) = &upload_set.items_status {
                emit(out, &format!("{}\n", format_items_status(status)));
            }
            last_status = upload_set.items_status.clone();
        }
        if upload_set.ready {
            return Ok(upload_set);
        }
        if Instant::now() >= deadline {
            anyhow::bail!(
                "the upload set is still not ready after {}s; the server keeps processing it, \
                 see {set_url}",
                timeout.as_secs()
            );
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// How many files ended in each outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    sent: u64,
    skipped: u64,
    rejected: u64,
    failed: u64,
}

impl Counts {
    fn of(reports: &[FileReport]) -> Counts {
        let mut counts = Counts::default();
        for report in reports {
            match report.outcome {
                FileOutcome::Sent { .. } => counts.sent += 1,
                FileOutcome::Skipped { .. } => counts.skipped += 1,
                FileOutcome::Rejected { .. } => counts.rejected += 1,
                FileOutcome::Failed { .. } => counts.failed += 1,
            }
        }
        counts
    }
}

/// The counts line, then each rejected and failed file with its reason. Skipped files are only
/// counted: on a re-run they can be the whole folder.
fn format_summary(reports: &[FileReport]) -> String {
    let counts = Counts::of(reports);
    let mut text = format!(
        "sent {}, skipped {} (already on the server), rejected {}, failed {}\n",
        counts.sent, counts.skipped, counts.rejected, counts.failed
    );
    let rejected = reports.iter().filter_map(|report| match &report.outcome {
        FileOutcome::Rejected { reason } => Some((report.file_name.as_str(), reason.as_str())),
        _ => None,
    });
    push_list(&mut text, "rejected:", rejected);
    let failed = reports.iter().filter_map(|report| match &report.outcome {
        FileOutcome::Failed { reason } => Some((report.file_name.as_str(), reason.as_str())),
        _ => None,
    });
    push_list(&mut text, "failed:", failed);
    text
}

/// Appends `heading` and one `  name: reason` line per item, or nothing when there is none.
fn push_list<'a>(
    text: &mut String,
    heading: &str,
    items: impl Iterator<Item = (&'a str, &'a str)>,
) {
    let mut items = items.peekable();
    if items.peek().is_none() {
        return;
    }
    text.push_str(heading);
    text.push('\n');
    for (file_name, reason) in items {
        text.push_str(&format!("  {file_name}: {reason}\n"));
    }
}

fn format_items_status(status: &ItemsStatus) -> String {
    format!(
        "prepared {}, preparing {}, waiting {}, broken {}, rejected {}",
        status.prepared, status.preparing, status.not_processed, status.broken, status.rejected
    )
}

/// The ready line and one line per sequence: id, title, size and URL.
fn format_collections(upload_set: &UploadSet) -> String {
    let collections = &upload_set.associated_collections;
    let mut text = format!("ready: {} sequence(s)\n", collections.len());
    for collection in collections {
        text.push_str(&format!("  {}", collection.id));
        if let Some(title) = &collection.title {
            text.push_str(&format!(" \"{title}\""));
        }
        if let Some(nb_items) = collection.nb_items {
            text.push_str(&format!(", {nb_items} pictures"));
        }
        if let Some(href) = collection.self_url() {
            text.push_str(&format!(", {href}"));
        }
        text.push('\n');
    }
    text
}

/// Writes user-facing output. A failed write (typically a closed pipe) is logged and otherwise
/// ignored: stopping an upload half-way because nobody reads its progress would be worse, and
/// the exit code still tells the outcome.
fn emit(out: &mut impl Write, text: &str) {
    if let Err(err) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        tracing::debug!(error = %err, "output not written");
    }
}

fn parse_sort_method(text: &str) -> Result<flaneur_model::SortMethod, String> {
    text.parse()
        .map_err(|err: flaneur_model::ParseEnumError| err.to_string())
}

fn parse_visibility(text: &str) -> Result<flaneur_model::Visibility, String> {
    text.parse()
        .map_err(|err: flaneur_model::ParseEnumError| err.to_string())
}

/// Parses `90`, `90s`, `30m` or `2h`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit_secs) = match text.char_indices().last() {
        Some((at, 's')) => (&text[..at], 1),
        Some((at, 'm')) => (&text[..at], 60),
        Some((at, 'h')) => (&text[..at], 3600),
        _ => (text, 1),
    };
    let value: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration such as 90s, 30m or 2h"))?;
    value
        .checked_mul(unit_secs)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("'{text}' is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, outcome: FileOutcome) -> FileReport {
        FileReport {
            file_name: name.to_owned(),
            outcome,
        }
    }

    #[test]
    fn finds_jpeg_files_in_any_case_sorted_by_name() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        for name in [
            "b.JPG",
            "a.jpeg",
            "c.Jpeg",
            "notes.md",
            "d.png",
            ".hidden.jpg",
            "jpg",
        ] {
            std::fs::write(dir.path().join(name), b"x").expect("file written");
        }
        std::fs::create_dir(dir.path().join("sub.jpg")).expect("folder made");
        std::fs::create_dir(dir.path().join("sub")).expect("folder made");
        std::fs::write(dir.path().join("sub/e.jpg"), b"x").expect("file written");

        let found = discover_pictures(dir.path()).expect("folder listed");
        let names: Vec<_> = found
            .iter()
            .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
            .collect();

        assert_eq!(names, ["a.jpeg", "b.JPG", "c.Jpeg"]);
    }

    #[test]
    fn titles_the_upload_set_after_the_folder() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let folder = dir.path().join("walk 2021");
        std::fs::create_dir(&folder).expect("folder made");
        assert_eq!(default_title(&folder), "walk 2021");
        assert_eq!(default_title(&folder.join(".")), "walk 2021");
    }

    #[test]
    fn sends_only_the_options_given_when_creating_the_upload_set() {
        let mut args = UploadArgs {
            dir: PathBuf::from("walk"),
            api: "http://127.0.0.1:5000".to_owned(),
            title: None,
            parallel: 4,
            wait: false,
            wait_timeout: Duration::from_secs(1800),
            retry_for: Duration::from_secs(300),
            sort_method: None,
            split_distance: None,
            split_time: None,
            no_split: false,
            no_deduplication: false,
            is_blurred: false,
            visibility: None,
        };
        let body = serde_json::to_value(new_upload_set_body(&args, "walk", 5)).expect("json");
        assert_eq!(
            body,
            serde_json::json!({"title": "walk", "estimated_nb_files": 5})
        );

        args.sort_method = Some(flaneur_model::SortMethod::FilenameDesc);
        args.split_distance = Some(50);
        args.split_time = Some(60);
        args.no_deduplication = true;
        args.visibility = Some(flaneur_model::Visibility::OwnerOnly);
        let body = serde_json::to_value(new_upload_set_body(&args, "walk", 5)).expect("json");
        assert_eq!(
            body,
            serde_json::json!({
                "title": "walk", "estimated_nb_files": 5, "sort_method": "filename-desc",
                "split_distance": 50, "split_time": 60, "no_deduplication": true,
                "visibility": "owner-only"
            })
        );
    }

    #[test]
    fn summarises_counts_then_rejected_and_failed_files_with_reasons() {
        let reports = [
            file("1.jpg", FileOutcome::Sent { picture_id: None }),
            file(
                "2.jpg",
                FileOutcome::Skipped {
                    reason: "already".into(),
                    earlier_upload_set: None,
                },
            ),
            file(
                "3.jpg",
                FileOutcome::Rejected {
                    reason: "no GPS".into(),
                },
            ),
            file("4.jpg", FileOutcome::Sent { picture_id: None }),
            file(
                "5.jpg",
                FileOutcome::Failed {
                    reason: "HTTP 500".into(),
                },
            ),
        ];
        assert_eq!(
            format_summary(&reports),
            "sent 2, skipped 1 (already on the server), rejected 1, failed 1\n\
             rejected:\n  3.jpg: no GPS\n\
             failed:\n  5.jpg: HTTP 500\n"
        );
        assert_eq!(
            format_summary(&reports[..2]),
            "sent 1, skipped 1 (already on the server), rejected 0, failed 0\n"
        );
    }

    #[test]
    fn exits_with_failure_only_when_a_file_was_rejected_failed_or_broken() {
        let mut report = UploadReport {
            upload_set_url: String::new(),
            files: vec![
                file("1.jpg", FileOutcome::Sent { picture_id: None }),
                file(
                    "2.jpg",
                    FileOutcome::Skipped {
                        reason: String::new(),
                        earlier_upload_set: None,
                    },
                ),
            ],
            upload_set: UploadSet::default(),
        };
        assert_eq!(report.exit_code(), ExitCode::SUCCESS);

        report.upload_set.items_status = Some(ItemsStatus {
            broken: 1,
            ..ItemsStatus::default()
        });
        assert_eq!(report.exit_code(), ExitCode::FAILURE);

        report.upload_set.items_status = None;
        report.files.push(file(
            "3.jpg",
            FileOutcome::Rejected {
                reason: String::new(),
            },
        ));
        assert_eq!(report.exit_code(), ExitCode::FAILURE);
    }

    #[test]
    fn lists_the_sequences_of_a_ready_upload_set() {
        // Trimmed from GeoVisio 2.15.1's upload set once ready.
        let json = r#"{"id": "c5f2", "completed": true, "ready": true,
            "associated_collections": [{"id": "f4ce", "nb_items": 5, "title": "samples 360",
              "links": [{"rel": "self", "href": "http://127.0.0.1:5000/api/collections/f4ce"}]}],
            "items_status": {"prepared": 5, "preparing": 0, "broken": 0, "rejected": 0,
              "not_processed": 0}}"#;
        let upload_set: UploadSet = serde_json::from_str(json).expect("an upload set");
        assert_eq!(
            format_collections(&upload_set),
            "ready: 1 sequence(s)\n  f4ce \"samples 360\", 5 pictures, \
             http://127.0.0.1:5000/api/collections/f4ce\n"
        );
    }

    #[test]
    fn parses_durations_with_units() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("-1s").is_err());
    }

    /// A loopback stand-in for an instance: answers the upload-set routes like GeoVisio does,
    /// refuses `*_bad.jpg`, already has `*_dup.jpg`, and fails once with 503 on `*_flaky.jpg`.
    mod fake_instance {
        use std::sync::{Arc, Mutex};

        use axum::extract::{Multipart, State};
        use axum::http::StatusCode;
        use axum::routing::{get, post};
        use axum::{Json, Router};
        use serde_json::{Value, json};

        #[derive(Debug, Default)]
        pub struct Seen {
            pub created_with: Option<Value>,
            /// File name, bytes received, `isBlurred` of every accepted file.
            pub files: Vec<(String, usize, String)>,
            pub flaky_attempts: u32,
            pub is_completed: bool,
            pub status_reads: u32,
        }

        type Shared = Arc<Mutex<Seen>>;

        /// Starts the instance on a free loopback port; returns its base URL.
        pub async fn start(seen: Shared) -> String {
            let app = Router::new()
                .route(
                    "/api",
                    get(|| async { Json(json!({"stac_version": "1.0.0"})) }),
                )
                .route("/api/upload_sets", post(create))
                .route("/api/upload_sets/us1", get(status))
                .route("/api/upload_sets/us1/files", post(add_file))
                .route("/api/upload_sets/us1/complete", post(complete))
                .with_state(seen);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a loopback port");
            let address = listener.local_addr().expect("a bound address");
            tokio::spawn(async move { axum::serve(listener, app).await });
            format!("http://{address}")
        }

        fn lock(seen: &Shared) -> std::sync::MutexGuard<'_, Seen> {
            seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
        }

        async fn create(State(seen): State<Shared>, Json(body): Json<Value>) -> Json<Value> {
            lock(&seen).created_with = Some(body);
            Json(json!({"id": "us1", "completed": false, "ready": false}))
        }

        async fn add_file(
            State(seen): State<Shared>,
            mut form: Multipart,
        ) -> (StatusCode, Json<Value>) {
            let (mut name, mut size, mut is_blurred) = (String::new(), 0, String::new());
            while let Ok(Some(field)) = form.next_field().await {
                match field.name() {
                    Some("file") => {
                        name = field.file_name().unwrap_or_default().to_owned();
                        size = field.bytes().await.map_or(0, |bytes| bytes.len());
                    }
                    Some("isBlurred") => is_blurred = field.text().await.unwrap_or_default(),
                    _ => {}
                }
            }
            let mut seen = lock(&seen);
            if name.ends_with("_dup.jpg") {
                let message = "The item has already been added to this upload set";
                return (StatusCode::CONFLICT, Json(json!({"message": message})));
            }
            if name.ends_with("_bad.jpg") {
                let body = json!({
                    "message": "Impossible to parse picture metadata",
                    "details": {"error": "No GPS coordinates", "missing_fields": ["location"]}
                });
                return (StatusCode::BAD_REQUEST, Json(body));
            }
            if name.ends_with("_flaky.jpg") {
                seen.flaky_attempts += 1;
                if seen.flaky_attempts == 1 {
                    return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({})));
                }
            }
            seen.files.push((name.clone(), size, is_blurred));
            (
                StatusCode::ACCEPTED,
                Json(json!({"picture_id": format!("pic-{name}")})),
            )
        }

        fn upload_set(seen: &Seen) -> Value {
            let is_ready = seen.is_completed && seen.status_reads >= 3;
            let collections = if is_ready {
                json!([{"id": "col1", "title": "walk", "nb_items": 3}])
            } else {
                json!([])
            };
            json!({
                "id": "us1", "completed": seen.is_completed, "ready": is_ready,
                "associated_collections": collections,
                "items_status": {"prepared": if is_ready { 3 } else { 0 }, "broken": 0,
                                 "not_processed": if is_ready { 0 } else { 3 }}
            })
        }

        async fn status(State(seen): State<Shared>) -> Json<Value> {
            let mut seen = lock(&seen);
            seen.status_reads += 1;
            Json(upload_set(&seen))
        }

        async fn complete(State(seen): State<Shared>) -> Json<Value> {
            let mut seen = lock(&seen);
            seen.is_completed = true;
            Json(upload_set(&seen))
        }
    }

    fn upload_args(dir: &Path, api: String) -> UploadArgs {
        UploadArgs {
            dir: dir.to_path_buf(),
            api,
            title: None,
            parallel: 2,
            wait: false,
            wait_timeout: Duration::from_secs(60),
            retry_for: Duration::from_secs(30),
            sort_method: None,
            split_distance: None,
            split_time: None,
            no_split: false,
            no_deduplication: false,
            is_blurred: false,
            visibility: None,
        }
    }

    #[tokio::test]
    async fn uploads_a_folder_and_reports_each_file_like_the_reference_uploader() {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(fake_instance::Seen::default()));
        let base = fake_instance::start(seen.clone()).await;
        let root = tempfile::tempdir().expect("a temporary folder");
        let dir = root.path().join("walk");
        std::fs::create_dir(&dir).expect("folder made");
        for (name, size) in [
            ("1_ok.jpg", 70_000),
            ("2_dup.jpg", 10),
            ("3_bad.jpg", 10),
            ("4_flaky.jpg", 1_000),
            ("5.JPEG", 20),
            ("notes.txt", 5),
        ] {
            std::fs::write(dir.join(name), vec![0xA5_u8; size]).expect("file written");
        }
        let mut args = upload_args(&dir, format!("{base}/api/"));
        args.wait = true;
        args.no_split = true;
        args.is_blurred = true;
        let mut out = Vec::new();

        let report = upload(&args, &mut out).await.expect("the upload runs");

        let outcomes: Vec<(&str, &FileOutcome)> = report
            .files
            .iter()
            .map(|file| (file.file_name.as_str(), &file.outcome))
            .collect();
        let sent = |name: &str| FileOutcome::Sent {
            picture_id: Some(format!("pic-{name}")),
        };
        assert_eq!(
            outcomes,
            [
                ("1_ok.jpg", &sent("1_ok.jpg")),
                (
                    "2_dup.jpg",
                    &FileOutcome::Skipped {
                        reason: "The item has already been added to this upload set".into(),
                        earlier_upload_set: None,
                    }
                ),
                (
                    "3_bad.jpg",
                    &FileOutcome::Rejected {
                        reason: "Impossible to parse picture metadata: No GPS coordinates".into()
                    }
                ),
                ("4_flaky.jpg", &sent("4_flaky.jpg")),
                ("5.JPEG", &sent("5.JPEG")),
            ]
        );
        assert_eq!(
            report.exit_code(),
            ExitCode::FAILURE,
            "one file was rejected"
        );
        assert!(report.upload_set.ready);
        assert_eq!(report.upload_set_url, format!("{base}/api/upload_sets/us1"));

        let seen = seen.lock().expect("no test thread panicked");
        assert_eq!(
            seen.created_with,
            Some(serde_json::json!({"title": "walk", "estimated_nb_files": 5, "no_split": true}))
        );
        let mut files = seen.files.clone();
        files.sort();
        assert_eq!(
            files,
            [
                ("1_ok.jpg".to_owned(), 70_000, "true".to_owned()),
                ("4_flaky.jpg".to_owned(), 1_000, "true".to_owned()),
                ("5.JPEG".to_owned(), 20, "true".to_owned()),
            ]
        );
        assert_eq!(seen.flaky_attempts, 2, "a 503 is retried");
        assert!(seen.is_completed);

        let text = String::from_utf8(out).expect("utf-8 output");
        assert!(
            text.contains("sent 3, skipped 1 (already on the server), rejected 1"),
            "{text}"
        );
        assert!(
            text.contains("rejected:\n  3_bad.jpg: Impossible to parse"),
            "{text}"
        );
        assert!(
            text.contains("ready: 1 sequence(s)\n  col1 \"walk\", 3 pictures"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn treats_an_address_without_a_catalog_as_misuse() {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(fake_instance::Seen::default()));
        let base = fake_instance::start(seen).await;
        let dir = tempfile::tempdir().expect("a temporary folder");
        std::fs::write(dir.path().join("1.jpg"), b"x").expect("file written");

        let args = upload_args(dir.path(), format!("{base}/elsewhere"));
        let err = upload(&args, &mut Vec::new())
            .await
            .expect_err("not an instance");

        assert!(err.downcast_ref::<UsageError>().is_some(), "{err:#}");
        assert!(
            err.to_string().contains("is not a Panoramax API"),
            "{err:#}"
        );
    }

    #[tokio::test]
    async fn refuses_a_folder_without_pictures_before_any_request() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        std::fs::write(dir.path().join("notes.md"), b"x").expect("file written");

        // Port 9 (discard) on loopback: nothing should be sent there at all.
        let args = upload_args(dir.path(), "http://127.0.0.1:9".to_owned());
        let err = upload(&args, &mut Vec::new())
            .await
            .expect_err("nothing to send");

        assert!(err.to_string().contains("no .jpg or .jpeg file"), "{err:#}");
    }
}
