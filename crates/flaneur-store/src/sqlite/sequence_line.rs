//! Stored sequence lines: redrawing the sequences that writes marked stale.
//!
//! Triggers of the `map_sequences` migration mark a sequence stale in the transaction of any
//! write that may change its line; map reads wait for [`LineRedraws::redraw`] first (for a
//! while: see the catalog's `map_sequences`), and a burst of writes to one sequence costs one
//! redraw. Each redraw moves the data version, so a tile drawn from a line about to be
//! redrawn is not kept past it.

use std::sync::{Arc, Mutex};

use flaneur_model::{Projection, Visibility, camera_model, h_pixel_density};
use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::watch;
use tracing::warn;

use super::codec::from_micros;
use crate::track::{SIMPLIFY_DEG, encode_lines, simplify, split_at_gaps};
use crate::{Error, Result};

/// Sequences redrawn per transaction, so a large upgrade does not hold the writer for long.
const BATCH: i64 = 256;

/// The outcome of a redraw, for every request waiting on it.
type Outcome = Option<Result<usize, Arc<Error>>>;

/// Redraws of stale lines, run one at a time in a task of their own that the map reads
/// needing them wait for: a request given up (a viewer panning away) leaves the redraw to
/// finish for the next one, and many requests at once share one redraw.
#[derive(Debug, Default)]
pub(crate) struct LineRedraws {
    /// The redraw running or last run.
    current: Mutex<Option<watch::Receiver<Outcome>>>,
}

impl LineRedraws {
    /// Returns once every sequence marked stale before the call is redrawn; returns how many
    /// the redraws waited for drew.
    pub(crate) async fn redraw(&self, reader: &SqlitePool, writer: &SqlitePool) -> Result<usize> {
        let mut redrawn = 0;
        // A redraw already running may have listed the stale sequences before ours were
        // marked: after waiting for it, one started later covers them.
        for _ in 0..2 {
            // Most map reads find nothing stale: they check on the reader and never wait for
            // the writer.
            if !any_stale(reader).await? {
                break;
            }
            let mut outcome = self.join_or_start(reader, writer);
            let done = outcome
                .wait_for(Option::is_some)
                .await
                .map_err(|_| Error::corrupt("map_sequences", "a line redraw stopped unfinished"))?
                .clone();
            match done {
                Some(Ok(n)) => redrawn += n,
                Some(Err(e)) => return Err(Error::Shared(e)),
                None => {}
            }
        }
        Ok(redrawn)
    }

    /// Starts redrawing in the background unless a redraw is running, without waiting.
    pub(crate) fn start(&self, reader: &SqlitePool, writer: &SqlitePool) {
        drop(self.join_or_start(reader, writer));
    }

    fn join_or_start(&self, reader: &SqlitePool, writer: &SqlitePool) -> watch::Receiver<Outcome> {
        let mut current = self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(running) = current.as_ref().filter(|r| r.borrow().is_none()) {
            return running.clone();
        }
        let (done, outcome) = watch::channel(None);
        let (reader, writer) = (reader.clone(), writer.clone());
        tokio::spawn(async move {
            let result = redraw_stale_sequences(&reader, &writer).await;
            if let Err(e) = &result {
                warn!(error = %e, "redrawing sequence lines failed");
            }
            done.send_replace(Some(result.map_err(Arc::new)));
        });
        *current = Some(outcome.clone());
        outcome
    }
}

async fn any_stale(reader: &SqlitePool) -> Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM map_sequences_stale)")
        .fetch_one(reader)
        .await
        .map_err(Error::db("look for stale sequence lines"))
}

/// Redraws every stale sequence; returns how many were redrawn.
pub(crate) async fn redraw_stale_sequences(
    reader: &SqlitePool,
    writer: &SqlitePool,
) -> Result<usize> {
    if !any_stale(reader).await? {
        return Ok(0);
    }

    let mut redrawn = 0;
    loop {
        let mut tx = super::begin_write(writer)
            .await
            .map_err(Error::db("redraw sequence lines"))?;
        let batch: Vec<String> =
            sqlx::query_scalar("SELECT sequence_id FROM map_sequences_stale LIMIT ?")
                .bind(BATCH)
                .fetch_all(&mut *tx)
                .await
                .map_err(Error::db("list stale sequence lines"))?;
        for id in &batch {
            match redraw(&mut tx, id).await {
                Ok(()) => {}
                // A row this release cannot read leaves its sequence off the map (its old line
                // is gone already), not every line after it.
                Err(e @ Error::Corrupt { .. }) => {
                    warn!(sequence = %id, error = %e, "sequence line left undrawn");
                }
                Err(e) => return Err(e),
            }
            sqlx::query("DELETE FROM map_sequences_stale WHERE sequence_id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(Error::db("clear a stale sequence line"))?;
        }
        // Tiles drawn while these lines were stale go with the version they were drawn at.
        sqlx::query("UPDATE data_version SET version = version + 1")
            .execute(&mut *tx)
            .await
            .map_err(Error::db("move the data version"))?;
        tx.commit()
            .await
            .map_err(Error::db("redraw sequence lines"))?;
        redrawn += batch.len();
        if batch.len() < BATCH as usize {
            return Ok(redrawn);
        }
    }
}

/// How far a visibility reaches: a line passes only through pictures that reach at least as
/// far as their sequence, so whoever may see the sequence may see every point of its line.
fn reach(v: Visibility) -> u8 {
    match v {
        Visibility::Anyone => 2,
        Visibility::LoggedOnly => 1,
        Visibility::OwnerOnly => 0,
    }
}

/// The fields of a ranked picture a line and its properties are made from.
type LinePoint = (
    f64,
    f64,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<f64>,
    Option<i64>,
);

/// Redraws one sequence's line from its ready pictures, or drops it when none is left (or a
/// row cannot be read: the old line is dropped first, and nothing is written after a read
/// failed).
async fn redraw(conn: &mut SqliteConnection, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM map_sequences WHERE sequence_id = ?")
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("drop a sequence line"))?;
    let visibility: Option<String> =
        sqlx::query_scalar("SELECT visibility FROM sequences WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(Error::db("read a sequence's visibility"))?;
    let Some(visibility) = visibility else {
        return Ok(());
    };
    let visibility: Visibility = visibility
        .parse()
        .map_err(|e| Error::corrupt("sequences", e))?;

    let rows: Vec<LinePoint> = sqlx::query_as(
        "SELECT p.lon, p.lat, p.visibility, p.captured_at, p.projection,
                json_extract(p.doc, '$.details.make'), json_extract(p.doc, '$.details.model'),
                json_extract(p.doc, '$.details.field_of_view_deg'), json_extract(p.doc, '$.width')
         FROM sequence_pictures sp JOIN pictures p ON p.id = sp.picture_id
         WHERE sp.sequence_id = ? AND p.status = 'ready'
         ORDER BY sp.rank",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::db("read a sequence's pictures"))?;
    let mut drawn = Vec::with_capacity(rows.len());
    for row in rows {
        let seen: Visibility = row.2.parse().map_err(|e| Error::corrupt("pictures", e))?;
        if reach(seen) >= reach(visibility) {
            drawn.push(row);
        }
    }
    let Some(first) = drawn.first() else {
        return Ok(());
    };

    // What the sequence layer shows comes from the first drawn picture, the date from the
    // earliest one.
    let projection: Projection = first.4.parse().map_err(|e| Error::corrupt("pictures", e))?;
    let model = camera_model(first.5.as_deref(), first.6.as_deref());
    let width = first.8.and_then(|w| u32::try_from(w).ok()).unwrap_or(0);
    let density = h_pixel_density(width, first.7);
    let earliest = drawn.iter().map(|p| p.3).min().map(from_micros);
    let date = earliest.map(|t| t.format("%Y-%m-%d").to_string());

    let points: Vec<[f64; 2]> = drawn.iter().map(|p| [p.0, p.1]).collect();
    let parts = split_at_gaps(&points);
    let simplified: Vec<Vec<[f64; 2]>> = parts.iter().map(|l| simplify(l, SIMPLIFY_DEG)).collect();
    let fold = |acc: [f64; 4], p: &[f64; 2]| {
        [
            acc[0].min(p[0]),
            acc[1].min(p[1]),
            acc[2].max(p[0]),
            acc[3].max(p[1]),
        ]
    };
    let bbox = points.iter().fold(
        [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ],
        fold,
    );

    let rowid: i64 = sqlx::query_scalar(
        "INSERT INTO map_sequences (sequence_id, lines, lines_simplified, model, projection,
             capture_date, h_pixel_density)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(id)
    .bind(encode_lines(&parts))
    .bind(encode_lines(&simplified))
    .bind(model)
    .bind(projection.as_str())
    .bind(date)
    .bind(density)
    .fetch_one(&mut *conn)
    .await
    .map_err(Error::db("store a sequence line"))?;
    sqlx::query(
        "INSERT INTO map_sequences_rtree (id, min_lon, max_lon, min_lat, max_lat)
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(rowid)
    .bind(bbox[0])
    .bind(bbox[2])
    .bind(bbox[1])
    .bind(bbox[3])
    .execute(&mut *conn)
    .await
    .map_err(Error::db("index a sequence line"))?;
    Ok(())
}
