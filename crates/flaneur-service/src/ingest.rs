//! Receiving a file into an upload set.
//!
//! A file arrives in two steps because the multipart form may carry its other fields after the
//! file: [`stage`] streams the body to a local staging file while hashing it and keeping only
//! the JPEG header in memory; [`Services::add_file`] then checks it against the catalog, reads
//! its metadata and stores it. The picture bytes are never held in memory whole.

use std::path::PathBuf;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use flaneur_metadata::{
    HeaderScan, PictureMetadata, ReadError, TagOverrides, WriteError, write_overrides,
};
use flaneur_model::{
    FileRejection, NewPicture, PictureDetails, PictureId, RejectionReason, UploadFile, UploadSetId,
};
use flaneur_store::{Exclusion, InsertOutcome, blob_keys};
use futures::{Stream, StreamExt};
use md5::{Digest, Md5};
use tokio::io::AsyncWriteExt;
use tracing::{debug, info, warn};

use crate::{Error, IngestError, Result, Services};

mod end_marker;

use end_marker::EndMarkerScan;

/// How much of the start of a file is kept to read its metadata. JPEG headers are made of
/// segments of at most 64 KiB; real cameras write a few of them.
const HEADER_CAP_BYTES: usize = 4 << 20;

/// How much of a file is read when its header did not fit in [`HEADER_CAP_BYTES`]: enough
/// for any header a camera writes, bounded so a hostile file cannot take the memory.
const HEADER_FALLBACK_BYTES: u64 = 64 << 20;

/// Reads at most `limit` bytes from the start of a file.
async fn read_prefix(path: &std::path::Path, limit: u64) -> Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let file = tokio::fs::File::open(path).await.map_err(Error::Staging)?;
    let mut bytes = Vec::new();
    file.take(limit)
        .read_to_end(&mut bytes)
        .await
        .map_err(Error::Staging)?;
    Ok(bytes)
}

/// What of the client's overrides goes into the file's EXIF, if anything. XMP keys other than
/// the projection (kept in the catalog) are not written yet; the heading is a number, written
/// as such rather than as a text tag.
fn tag_overrides(o: &Overrides) -> Option<TagOverrides> {
    let raw: Vec<(String, String)> = o
        .raw_tags
        .iter()
        .filter(|(k, _)| k.starts_with("Exif.") && k != "Exif.GPSInfo.GPSImgDirection")
        .cloned()
        .collect();
    let tags = TagOverrides {
        position: o.position,
        captured_at: o.captured_at,
        heading_deg: o.heading_deg,
        raw,
    };
    (!tags.is_empty()).then_some(tags)
}

/// What a file that is not a readable JPEG is refused with, as on Panoramax instances.
const INVALID_FILE_MESSAGE: &str =
    "Impossible to open file as image. The only supported image format is jpg.";

/// How every JPEG file starts: the start-of-image marker, then the next marker's `FF`.
const JPEG_START: [u8; 3] = [0xFF, 0xD8, 0xFF];

/// Whether the first bytes of a body (all of them, or at least three) could start a JPEG.
fn starts_like_jpeg(first: &[u8]) -> bool {
    let n = first.len().min(JPEG_START.len());
    first[..n] == JPEG_START[..n]
}

/// A file written to the staging folder, removed on drop unless stored.
#[derive(Debug)]
pub struct StagedFile {
    path: Option<PathBuf>,
    /// The start of the file, up to the end of its JPEG header when found.
    header: Vec<u8>,
    header_complete: bool,
    /// Looks for the end of the picture in the data after the header, when the header was
    /// found while streaming.
    end: Option<EndMarkerScan>,
    /// MD5 of the whole body, lowercase hex.
    pub md5: String,
    /// Size of the whole body.
    pub size_bytes: u64,
}

impl StagedFile {
    fn path(&self) -> Option<&PathBuf> {
        self.path.as_ref()
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        // A file that was not moved into the blob store is abandoned: remove it so the staging
        // folder does not fill with refused uploads. Startup also empties the folder.
        if let Some(path) = self.path.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Streams a body into a new staging file, hashing it on the way.
///
/// # Errors
/// [`IngestError::BodyRead`] when the client's body fails, [`Error::Staging`] when the local
/// file cannot be written.
pub async fn stage<S, E>(staging_dir: &std::path::Path, mut body: S) -> Result<StagedFile>
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    tokio::fs::create_dir_all(staging_dir)
        .await
        .map_err(Error::Staging)?;
    let path = staging_dir.join(format!("{}.upload", uuid::Uuid::new_v4()));
    let mut staged = StagedFile {
        path: Some(path.clone()),
        header: Vec::new(),
        header_complete: false,
        end: None,
        md5: String::new(),
        size_bytes: 0,
    };
    let mut file = tokio::fs::File::create(&path)
        .await
        .map_err(Error::Staging)?;
    let mut hasher = Md5::new();

    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            // An i/o error keeps its kind (the API marks an over-large body as such); any other
            // failure of the client's body is an interrupted upload.
            let boxed: Box<dyn std::error::Error + Send + Sync> = e.into();
            let io = match boxed.downcast::<std::io::Error>() {
                Ok(io) => *io,
                Err(other) => std::io::Error::new(std::io::ErrorKind::UnexpectedEof, other),
            };
            IngestError::BodyRead(io)
        })?;
        hasher.update(&chunk);
        let before = staged.size_bytes;
        staged.size_bytes += chunk.len() as u64;
        if let Some(end) = &mut staged.end {
            end.feed(&chunk);
        } else if staged.header_complete {
            // Not a JPEG: the reader will say so; nothing to scan.
        } else if staged.header.len() < HEADER_CAP_BYTES {
            staged.header.extend_from_slice(&chunk);
            match flaneur_metadata::header_end(&staged.header) {
                HeaderScan::Complete(end) => {
                    let mut scan = EndMarkerScan::default();
                    scan.feed(&staged.header[end..]);
                    staged.end = Some(scan);
                    staged.header.truncate(end);
                    staged.header_complete = true;
                }
                HeaderScan::NotJpeg => staged.header_complete = true,
                HeaderScan::NeedMore => {}
            }
        }
        // The first bytes decide: a body that does not start like a JPEG is refused before the
        // rest of it reaches the disk (dropping `staged` removes what was written).
        if before < JPEG_START.len() as u64 && !starts_like_jpeg(&staged.header) {
            return Err(IngestError::NotAnImage {
                reason: ReadError::NotJpeg.message(),
            }
            .into());
        }
        file.write_all(&chunk).await.map_err(Error::Staging)?;
    }

    // The 202 promises durability: the bytes reach the disk before the catalog row exists.
    file.sync_all().await.map_err(Error::Staging)?;
    staged.md5 = hex::encode(hasher.finalize());
    Ok(staged)
}

/// Values given by the client in place of what the file says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// Longitude and latitude, given together.
    pub position: Option<(f64, f64)>,
    /// Capture instant, with the offset of the local time the client gave.
    pub captured_at: Option<DateTime<chrono::FixedOffset>>,
    /// Direction of the camera, degrees clockwise from north.
    pub heading_deg: Option<f64>,
    /// Kind of picture, when the file's tags do not say it is a 360° one.
    pub projection: Option<flaneur_model::Projection>,
    /// Other tags given as `Exif.*` / `Xmp.*` keys with their values.
    pub raw_tags: Vec<(String, String)>,
}

/// Everything the client said about a file besides its bytes.
#[derive(Debug, Clone, Default)]
pub struct FileOptions {
    /// Name of the file.
    pub file_name: String,
    /// Faces and plates already blurred by the contributor.
    pub is_blurred: bool,
    /// Replacement position and time.
    pub overrides: Overrides,
    /// Id to give the picture.
    pub picture_id: Option<PictureId>,
}

/// Whether a file name is one of a JPEG picture.
pub fn has_jpeg_name(file_name: &str) -> bool {
    let lower = file_name.to_ascii_lowercase();
    lower.ends_with(".jpg") || lower.ends_with(".jpeg")
}

impl Services {
    /// Records that a file was refused for its name, before its body was read.
    ///
    /// # Errors
    /// Fails when the catalog cannot be written.
    pub async fn reject_file_name(&self, set: UploadSetId, file_name: &str) -> Result<()> {
        let rejection = FileRejection {
            reason: RejectionReason::InvalidFile,
            message: "Picture file is either missing or in an unsupported format (should be jpg)"
                .to_owned(),
            details: None,
        };
        self.catalog
            .record_rejection(rejected_file(set, file_name, None, rejection))
            .await?;
        self.wake_workers();
        Ok(())
    }

    /// Records that a file of the upload set was refused as not being a JPEG before it was
    /// staged, so that clients can list the refusal.
    ///
    /// # Errors
    /// Fails when the catalog cannot be written.
    pub async fn reject_unreadable(
        &self,
        set: UploadSetId,
        file_name: &str,
        reason: &str,
    ) -> Result<()> {
        let rejection = FileRejection {
            reason: RejectionReason::InvalidFile,
            message: INVALID_FILE_MESSAGE.to_owned(),
            details: Some(serde_json::json!({ "error": reason })),
        };
        self.record(set, file_name, None, rejection).await
    }

    /// Checks a staged file and stores it as a picture of the upload set.
    ///
    /// Refusals that clients must be able to list later (bad metadata, duplicates of past
    /// uploads, unreadable files) are recorded on the upload set before the error returns.
    ///
    /// # Errors
    /// [`Error::Ingest`] says why the file was refused; other variants are storage failures.
    pub async fn add_file(
        &self,
        set: UploadSetId,
        staged: StagedFile,
        options: FileOptions,
    ) -> Result<UploadFile> {
        let upload_set = self
            .catalog
            .upload_set(set)
            .await?
            .ok_or_else(|| Error::UploadSetNotFound(set.to_string()))?;

        // 1. The same bytes already here or in a past upload. This early look spares the work
        //    below for most repeated files; the catalog checks again when it inserts.
        let same = self.catalog.pictures_by_md5(&staged.md5).await?;
        if let Some((existing, _)) = same.iter().find(|(_, s)| *s == Some(set)) {
            return Err(IngestError::DuplicateInSet {
                existing: *existing,
            }
            .into());
        }
        if !same.is_empty() {
            let rejection = FileRejection {
                reason: RejectionReason::FileDuplicate,
                message: "The same picture has already been sent in a past upload".to_owned(),
                details: None,
            };
            self.record(set, &options.file_name, Some(&staged), rejection)
                .await?;
            return Err(IngestError::DuplicateElsewhere { existing: same }.into());
        }

        // 2. Values the client gives go into the file itself, as on Panoramax instances: the
        //    stored original then says what the catalog says, and a file that lacked its
        //    position or time becomes readable.
        let mut staged = staged;
        let mut write_warnings = Vec::new();
        if let Some(tags) = tag_overrides(&options.overrides) {
            match self.rewrite_staged(&mut staged, &tags).await? {
                Ok(warnings) => write_warnings = warnings,
                Err(err) => {
                    let (field, reason) = match &err {
                        WriteError::UnsupportedKey { key, .. }
                        | WriteError::InvalidRawValue { key, .. } => {
                            (format!("override_{key}"), err.to_string())
                        }
                        _ => ("override".to_owned(), err.to_string()),
                    };
                    return Err(IngestError::BadParameter { field, reason }.into());
                }
            }
        }

        // 3. Metadata, from the header kept in memory or, for unusual files whose header did
        //    not fit, from the staged file.
        let read = match staged.header_complete {
            true => flaneur_metadata::read(&staged.header),
            false => match staged.path() {
                Some(path) => {
                    let bytes = read_prefix(path, HEADER_FALLBACK_BYTES).await?;
                    flaneur_metadata::read(&bytes)
                }
                None => flaneur_metadata::read(&staged.header),
            },
        };
        let meta = match read {
            Ok(mut meta) => {
                meta.warnings.extend(write_warnings);
                meta
            }
            Err(err) => {
                let (rejection, error) = rejection_for(&err);
                debug!(file = %options.file_name, error = %err, "file refused by metadata reader");
                self.record(set, &options.file_name, Some(&staged), rejection)
                    .await?;
                return Err(error.into());
            }
        };

        // A picture too large to decode, or cut short, would only fail when its derivatives
        // are made; refuse it now, while the contributor can still do something about it.
        let unusable = if !meta.fits_pixel_budget() {
            Some(format!(
                "the picture is {}×{} pixels, more than the {} megapixels this instance can \
                 process; send a smaller version",
                meta.width,
                meta.height,
                flaneur_metadata::MAX_PIXELS / 1_000_000
            ))
        } else if staged.end.as_ref().is_some_and(|e| !e.is_found()) {
            Some(
                "the picture data stops before the JPEG end marker: the file was cut short, \
                 send the whole file again"
                    .to_owned(),
            )
        } else {
            None
        };
        if let Some(reason) = unusable {
            let rejection = FileRejection {
                reason: RejectionReason::InvalidFile,
                message: INVALID_FILE_MESSAGE.to_owned(),
                details: Some(serde_json::json!({ "error": reason })),
            };
            self.record(set, &options.file_name, Some(&staged), rejection)
                .await?;
            return Err(IngestError::NotAnImage { reason }.into());
        }

        // 4. The picture row, built from the metadata and the client's overrides.
        let picture_id = options.picture_id.unwrap_or_default();
        let picture = new_picture(picture_id, &upload_set, &staged, &options, meta);
        let file = UploadFile {
            upload_set_id: set,
            file_name: options.file_name.clone(),
            size_bytes: Some(staged.size_bytes),
            content_md5: Some(staged.md5.clone()),
            picture_id: Some(picture_id),
            inserted_at: Utc::now(),
            rejection: None,
        };

        // The areas where pictures are refused, for everyone or for this uploader. Tested
        // before any byte is stored, so that a refused picture costs no write; the catalog
        // tests them again in the transaction of the insert, for an area added meanwhile.
        let excluded = (self.catalog)
            .exclusion_at(picture.lon, picture.lat, Some(picture.account_id))
            .await?;
        if let Some(exclusion) = excluded {
            let name = options.file_name;
            return Err(self.refuse_excluded(set, name, &staged, exclusion).await);
        }

        // TODO: a crash between the blob write and the catalog commit leaves an original no
        // row names — the upload was not acknowledged, so nothing is lost, but the file stays
        // until a sweep of unreferenced blobs exists.
        // 5. Bytes into the blob store, then the catalog row. The store never replaces a
        //    blob, so a pre-assigned id that is taken cannot destroy another picture's file.
        //    If the row is then refused or cannot be written, the blob this request wrote is
        //    removed again, so a refused file leaves nothing behind.
        let key = blob_keys::original(picture_id);
        let Some(path) = staged.path.take() else {
            return Err(Error::Staging(std::io::Error::other(
                "staged file already consumed",
            )));
        };
        match self.blobs.put_file(&key, &path).await {
            Ok(()) => {}
            Err(flaneur_store::Error::AlreadyExists(_)) => {
                staged.path = Some(path);
                let rejection = FileRejection {
                    reason: RejectionReason::IdConflict,
                    message: "A picture with the same ID already exists".to_owned(),
                    details: None,
                };
                self.record(set, &options.file_name, Some(&staged), rejection)
                    .await?;
                return Err(IngestError::IdConflict(picture_id).into());
            }
            Err(err) => {
                staged.path = Some(path);
                return Err(err.into());
            }
        }
        let outcome = match self.catalog.insert_picture(picture, file.clone()).await {
            Ok(outcome) => outcome,
            Err(flaneur_store::Error::InExcludedArea(exclusion)) => {
                self.discard(&key).await;
                let name = options.file_name;
                return Err(self.refuse_excluded(set, name, &staged, exclusion).await);
            }
            Err(err) => {
                self.discard(&key).await;
                return Err(err.into());
            }
        };
        let refusal = match outcome {
            InsertOutcome::Inserted => None,
            InsertOutcome::NameTaken { existing } => {
                let file_name = options.file_name;
                Some(IngestError::NameTaken {
                    file_name,
                    existing,
                })
            }
            InsertOutcome::SameBytes { existing } => Some(IngestError::DuplicateInSet { existing }),
            InsertOutcome::SameBytesElsewhere { existing } => {
                Some(IngestError::DuplicateElsewhere { existing })
            }
            InsertOutcome::IdTaken => Some(IngestError::IdConflict(picture_id)),
        };
        if let Some(refusal) = refusal {
            self.discard(&key).await;
            return Err(refusal.into());
        }
        info!(picture.id = %picture_id, upload_set.id = %set, size = staged.size_bytes,
              "picture accepted");
        self.wake_workers();
        Ok(file)
    }

    /// Writes overrides into a staged file and keeps its new header for reading. The file is
    /// held in memory once, for the rewrite; its MD5 stays the one of the bytes received, so
    /// sending the same file again is still recognised.
    async fn rewrite_staged(
        &self,
        staged: &mut StagedFile,
        tags: &TagOverrides,
    ) -> Result<std::result::Result<Vec<String>, WriteError>> {
        let Some(path) = staged.path.clone() else {
            return Err(Error::Staging(std::io::Error::other(
                "staged file already consumed",
            )));
        };
        let bytes = tokio::fs::read(&path).await.map_err(Error::Staging)?;
        let tags = tags.clone();
        let written = tokio::task::spawn_blocking(move || write_overrides(&bytes, &tags))
            .await
            .map_err(|e| Error::Task(e.to_string()))?;
        let rewritten = match written {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };

        // The new file replaces the staged one atomically, synced like the original was.
        let tmp = path.with_extension("rewritten");
        let mut file = tokio::fs::File::create(&tmp)
            .await
            .map_err(Error::Staging)?;
        file.write_all(&rewritten.bytes)
            .await
            .map_err(Error::Staging)?;
        file.sync_all().await.map_err(Error::Staging)?;
        drop(file);
        tokio::fs::rename(&tmp, &path)
            .await
            .map_err(Error::Staging)?;

        if let HeaderScan::Complete(end) = flaneur_metadata::header_end(&rewritten.bytes) {
            staged.header = rewritten.bytes[..end].to_vec();
            staged.header_complete = true;
        } else {
            staged.header = rewritten.bytes;
            staged.header_complete = true;
        }
        Ok(Ok(rewritten.warnings))
    }

    /// Removes a blob this request wrote but the catalog refused. A failure leaves an
    /// orphan file, not a wrong answer: it is logged with its key for the operator.
    async fn discard(&self, key: &str) {
        if let Err(err) = self.blobs.delete(key).await {
            warn!(blob.key = key, error = %err, "cannot remove refused upload; file left behind");
        }
    }

    /// Records a file refused for lying in an excluded area, and the error answering it (or
    /// the catalog's, when the refusal cannot be recorded).
    async fn refuse_excluded(
        &self,
        set: UploadSetId,
        file_name: String,
        staged: &StagedFile,
        exclusion: Exclusion,
    ) -> Error {
        let error = crate::excluded::explanation(exclusion);
        let rejection = FileRejection {
            reason: RejectionReason::InExcludedArea,
            message: crate::excluded::REFUSED.to_owned(),
            details: Some(serde_json::json!({ "error": error })),
        };
        debug!(file = %file_name, "file refused: within an excluded area");
        match self.record(set, &file_name, Some(staged), rejection).await {
            Ok(()) => IngestError::InExcludedArea { error }.into(),
            Err(err) => err,
        }
    }

    async fn record(
        &self,
        set: UploadSetId,
        file_name: &str,
        staged: Option<&StagedFile>,
        rejection: FileRejection,
    ) -> Result<()> {
        self.catalog
            .record_rejection(rejected_file(set, file_name, staged, rejection))
            .await?;
        // Refused files count toward the expected number, so this may complete the set.
        self.wake_workers();
        Ok(())
    }
}

fn rejected_file(
    set: UploadSetId,
    file_name: &str,
    staged: Option<&StagedFile>,
    rejection: FileRejection,
) -> UploadFile {
    UploadFile {
        upload_set_id: set,
        file_name: file_name.to_owned(),
        size_bytes: staged.map(|s| s.size_bytes),
        content_md5: staged.map(|s| s.md5.clone()),
        picture_id: None,
        inserted_at: Utc::now(),
        rejection: Some(rejection),
    }
}

/// The tracked rejection and the error returned for a metadata reader failure.
fn rejection_for(err: &ReadError) -> (FileRejection, IngestError) {
    let message = err.message();
    match err {
        ReadError::MissingFields { .. } | ReadError::ImplausibleTime { .. } => {
            let fields = err.missing_fields();
            let missing: Vec<&'static str> = fields.iter().map(|f| f.as_str()).collect();
            let rejection = FileRejection {
                reason: RejectionReason::InvalidMetadata,
                message: message.clone(),
                details: Some(serde_json::json!({ "missing_fields": missing })),
            };
            let error = IngestError::InvalidMetadata {
                error: message,
                missing_fields: missing,
                kind: err.kind(),
            };
            (rejection, error)
        }
        ReadError::NotJpeg | ReadError::Truncated | ReadError::Malformed { .. } => {
            let rejection = FileRejection {
                reason: RejectionReason::InvalidFile,
                message: INVALID_FILE_MESSAGE.to_owned(),
                details: Some(serde_json::json!({ "error": message })),
            };
            (rejection, IngestError::NotAnImage { reason: message })
        }
        ReadError::InvalidValue { .. } => {
            let rejection = FileRejection {
                reason: RejectionReason::InvalidMetadata,
                message: message.clone(),
                details: Some(serde_json::json!({ "error": message })),
            };
            let error = IngestError::InvalidMetadata {
                error: message,
                missing_fields: vec![],
                kind: err.kind(),
            };
            (rejection, error)
        }
    }
}

fn new_picture(
    id: PictureId,
    set: &flaneur_model::UploadSet,
    staged: &StagedFile,
    options: &FileOptions,
    meta: PictureMetadata,
) -> NewPicture {
    let (lon, lat) = options.overrides.position.unwrap_or((meta.lon, meta.lat));
    let captured_at = options
        .overrides
        .captured_at
        .map_or(meta.captured_at, |t| t.to_utc());
    let (width, height) = meta.display_size();
    NewPicture {
        id,
        upload_set_id: Some(set.id),
        account_id: set.spec.account_id,
        visibility: set.spec.visibility,
        captured_at,
        utc_offset_secs: meta.utc_offset_secs,
        lon,
        lat,
        heading_deg: options.overrides.heading_deg.or(meta.heading_deg),
        projection: options.overrides.projection.unwrap_or(meta.projection),
        width,
        height,
        orientation: meta.orientation,
        content_md5: staged.md5.clone(),
        file_name: options.file_name.clone(),
        size_bytes: staged.size_bytes,
        is_blurred: options.is_blurred,
        details: PictureDetails {
            make: meta.make,
            model: meta.model,
            focal_length_mm: meta.focal_length_mm,
            // A picture the client says is 360° covers the whole horizon, whatever the file
            // said of its lens.
            field_of_view_deg: match options.overrides.projection {
                Some(flaneur_model::Projection::Equirectangular) => Some(360.0),
                _ => meta.field_of_view_deg,
            },
            crop: meta.crop,
            altitude_m: meta.altitude_m,
            pitch_deg: meta.pitch_deg,
            roll_deg: meta.roll_deg,
            yaw_deg: meta.yaw_deg,
            gps_accuracy_m: meta.gps_accuracy_m,
            artist: meta.artist,
            copyright: meta.copyright,
            captured_at_gps: meta.ts_gps,
            captured_at_camera: meta.ts_camera,
            heading_source: meta.heading_source.map(|h| format!("{h:?}")),
            warnings: meta.warnings,
            exif: meta.tags,
        },
    }
}
