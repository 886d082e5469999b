//! Stored sequence lines and grid cells: redrawing the sequences that writes marked stale.
//!
//! Triggers of the `map` migration mark a sequence stale in the transaction of any write that
//! may change its line, what the map shows of it or where its pictures count on the grid; map
//! reads wait for [`LineRedraws::redraw`] first (for a while: see [`LINE_REDRAW_WAIT`]), and a
//! burst of writes to one sequence costs one redraw. Each redraw moves the data version, so a
//! tile drawn from a line about to be redrawn is not kept past it.
//!
//! Several processes may redraw: each batch runs under a transaction-scoped advisory lock, so
//! that two redraws of one sequence never interleave and the last one written is always drawn
//! from the latest rows.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use flaneur_model::{Projection, Visibility, camera_model, h_pixel_density};
use sqlx::PgConnection;
use sqlx::postgres::{PgPool, PgRow};
use tokio::sync::watch;
use tracing::{info, warn};
use uuid::Uuid;

use super::codec::{get, parse_col};
use super::map::json_number;
use crate::track::{SIMPLIFY_DEG, encode_lines, simplify, split_at_gaps};
use crate::{Error, Result};

/// Sequences redrawn per transaction, so a large upgrade does not hold the lock for long.
const BATCH: i64 = 256;

/// Key of the advisory lock redraws run under, in every process sharing the catalog. An
/// arbitrary constant, the same in every version.
const REDRAW_LOCK: i64 = 0x666c_616e_6575_7202;

/// How long a map read waits for stale sequence lines to be redrawn before it reads them as
/// stored: a long redraw (after an upgrade) or one held up by another process should neither
/// hold up the map nor fail it. The redraw moves the data version when it lands, so what was
/// drawn meanwhile is replaced then.
pub(super) const LINE_REDRAW_WAIT: Duration = Duration::from_secs(2);

/// Size of a grid cell, in degrees.
pub(super) const GRID_STEP_DEG: f64 = 0.1;

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
    /// Returns once every sequence marked stale before the call is redrawn (by this process or
    /// another); returns how many the redraws waited for drew.
    pub(crate) async fn redraw(&self, pool: &PgPool) -> Result<usize> {
        let mut redrawn = 0;
        // A redraw already running may have listed the stale sequences before ours were
        // marked: after waiting for it, one started later covers them.
        for _ in 0..2 {
            if !any_stale(pool).await? {
                break;
            }
            let mut outcome = self.join_or_start(pool);
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

    /// Redraws what is stale, waiting at most [`LINE_REDRAW_WAIT`]: a map read then reads the
    /// lines as stored, whatever happened.
    pub(crate) async fn redraw_for_read(&self, pool: &PgPool) {
        match tokio::time::timeout(LINE_REDRAW_WAIT, self.redraw(pool)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => warn!(error = %e, "map read from sequence lines not redrawn"),
            Err(_) => info!("map read from sequence lines still being redrawn"),
        }
    }

    /// Starts redrawing in the background unless a redraw is running, without waiting: lines
    /// marked stale by an upgrade or by writes just before a stop are redrawn then rather than
    /// by the first map read.
    pub(crate) fn start(&self, pool: &PgPool) {
        drop(self.join_or_start(pool));
    }

    fn join_or_start(&self, pool: &PgPool) -> watch::Receiver<Outcome> {
        let mut current = self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(running) = current.as_ref().filter(|r| r.borrow().is_none()) {
            return running.clone();
        }
        let (done, outcome) = watch::channel(None);
        let pool = pool.clone();
        tokio::spawn(async move {
            let result = redraw_stale_sequences(&pool).await;
            if let Err(e) = &result {
                warn!(error = %e, "redrawing sequence lines failed");
            }
            done.send_replace(Some(result.map_err(Arc::new)));
        });
        *current = Some(outcome.clone());
        outcome
    }
}

async fn any_stale(pool: &PgPool) -> Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM map_sequences_stale)")
        .fetch_one(pool)
        .await
        .map_err(Error::db("look for stale sequence lines"))
}

/// Redraws every stale sequence; returns how many were redrawn.
pub(crate) async fn redraw_stale_sequences(pool: &PgPool) -> Result<usize> {
    let mut redrawn = 0;
    loop {
        let mut tx = pool
            .begin()
            .await
            .map_err(Error::db("redraw sequence lines"))?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(REDRAW_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("take the line redraw lock"))?;
        // The marks are deleted before the rows they stand for are read: a write committed
        // after this statement leaves a mark of its own for the next redraw.
        let batch: Vec<Uuid> = sqlx::query_scalar(
            "DELETE FROM map_sequences_stale
             WHERE sequence_id IN (SELECT DISTINCT sequence_id FROM map_sequences_stale
                                   LIMIT $1)
             RETURNING sequence_id",
        )
        .bind(BATCH)
        .fetch_all(&mut *tx)
        .await
        .map_err(Error::db("list stale sequence lines"))?;
        let mut batch: Vec<Uuid> = batch;
        batch.sort_unstable();
        batch.dedup();
        if batch.is_empty() {
            tx.commit()
                .await
                .map_err(Error::db("redraw sequence lines"))?;
            return Ok(redrawn);
        }
        redraw(&mut tx, &batch).await?;
        // Tiles drawn while these lines were stale go with the version they were drawn at.
        sqlx::query("SELECT data_version_move()")
            .execute(&mut *tx)
            .await
            .map_err(Error::db("move the data version"))?;
        tx.commit()
            .await
            .map_err(Error::db("redraw sequence lines"))?;
        redrawn += batch.len();
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

/// The fields of a ranked picture a line, its properties and its grid cells are made from.
struct LinePoint {
    lon: f64,
    lat: f64,
    visibility: Visibility,
    captured_at: DateTime<Utc>,
    projection: String,
    make: Option<String>,
    model: Option<String>,
    field_of_view_deg: Option<f64>,
    width: Option<i64>,
}

impl LinePoint {
    fn from_row(row: &PgRow) -> Result<LinePoint> {
        let t = "pictures";
        Ok(LinePoint {
            lon: get(row, t, "lon")?,
            lat: get(row, t, "lat")?,
            visibility: parse_col(row, t, "visibility")?,
            captured_at: get(row, t, "captured_at")?,
            projection: get(row, t, "projection")?,
            make: get(row, t, "make")?,
            model: get(row, t, "model")?,
            field_of_view_deg: json_number(row, t, "field_of_view_deg")?,
            width: json_number(row, t, "width")?.map(|w| w as i64),
        })
    }
}

/// The index of the grid point nearest to `degrees`, rounded half away from zero.
pub(super) fn grid_index(degrees: f64) -> i64 {
    let steps = degrees / GRID_STEP_DEG;
    // Half away from zero, on the quotient as computed: the cell SQLite's catalog counts a
    // picture in too.
    let rounded = if steps < 0.0 {
        -(-steps + 0.5).trunc()
    } else {
        (steps + 0.5).trunc()
    };
    rounded as i64
}

/// A sequence's line as stored, and its grid cells.
struct Drawn {
    parts: Vec<Vec<[f64; 2]>>,
    model: Option<String>,
    projection: Projection,
    capture_date: Option<String>,
    h_pixel_density: Option<i64>,
    /// `(x, y) → (pictures, 360° pictures)`.
    cells: BTreeMap<(i64, i64), (i64, i64)>,
}

/// Draws a sequence from its ready pictures in rank order: `None` when none of them may be
/// drawn.
fn draw(status: &str, visibility: Visibility, pictures: &[LinePoint]) -> Result<Option<Drawn>> {
    let drawn: Vec<&LinePoint> = pictures
        .iter()
        .filter(|p| reach(p.visibility) >= reach(visibility))
        .collect();
    let Some(first) = drawn.first() else {
        return Ok(None);
    };
    // What the sequence layer shows comes from the first drawn picture, the date from the
    // earliest one.
    let projection: Projection = first
        .projection
        .parse()
        .map_err(|e| Error::corrupt("pictures", e))?;
    let model = camera_model(first.make.as_deref(), first.model.as_deref());
    let width = first.width.and_then(|w| u32::try_from(w).ok()).unwrap_or(0);
    let earliest = drawn.iter().map(|p| p.captured_at).min();
    let points: Vec<[f64; 2]> = drawn.iter().map(|p| [p.lon, p.lat]).collect();

    let mut cells: BTreeMap<(i64, i64), (i64, i64)> = BTreeMap::new();
    if status == "ready" && visibility == Visibility::Anyone {
        for p in drawn.iter().filter(|p| p.visibility == Visibility::Anyone) {
            let cell = cells
                .entry((grid_index(p.lon), grid_index(p.lat)))
                .or_default();
            cell.0 += 1;
            cell.1 += i64::from(p.projection == Projection::Equirectangular.as_str());
        }
    }
    Ok(Some(Drawn {
        parts: split_at_gaps(&points),
        model,
        projection,
        capture_date: earliest.map(|t| t.format("%Y-%m-%d").to_string()),
        h_pixel_density: h_pixel_density(width, first.field_of_view_deg),
        cells,
    }))
}

/// Redraws the lines and grid cells of a batch of sequences from their ready pictures, in a
/// few statements whatever the size of the batch. A sequence with no picture left to draw,
/// or with a row this release cannot read, is left off the map (its old line is dropped first)
/// without holding up the others.
async fn redraw(conn: &mut PgConnection, batch: &[Uuid]) -> Result<()> {
    sqlx::query("DELETE FROM map_sequences WHERE sequence_id = ANY($1)")
        .bind(batch)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("drop sequence lines"))?;
    sqlx::query("DELETE FROM map_grid WHERE sequence_id = ANY($1)")
        .bind(batch)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("drop grid cells of sequences"))?;
    let sequences: Vec<(Uuid, String, String)> =
        sqlx::query_as("SELECT id, status, visibility FROM sequences WHERE id = ANY($1)")
            .bind(batch)
            .fetch_all(&mut *conn)
            .await
            .map_err(Error::db("read the sequences to redraw"))?;
    let rows = sqlx::query(
        "SELECT sp.sequence_id, p.lon, p.lat, p.visibility, p.captured_at, p.projection,
                p.doc #>> '{details,make}' AS make, p.doc #>> '{details,model}' AS model,
                p.doc #> '{details,field_of_view_deg}' AS field_of_view_deg,
                p.doc -> 'width' AS width
         FROM sequence_pictures sp JOIN pictures p ON p.id = sp.picture_id
         WHERE sp.sequence_id = ANY($1) AND p.status = 'ready'
         ORDER BY sp.sequence_id, sp.rank",
    )
    .bind(batch)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::db("read the pictures of sequences to redraw"))?;
    let mut pictures: HashMap<Uuid, Result<Vec<LinePoint>>> = HashMap::new();
    for row in &rows {
        let sequence: Uuid = get(row, "sequence_pictures", "sequence_id")?;
        let points = pictures.entry(sequence).or_insert_with(|| Ok(Vec::new()));
        if let Ok(list) = points {
            match LinePoint::from_row(row) {
                Ok(point) => list.push(point),
                Err(e) => *points = Err(e),
            }
        }
    }

    let mut lines = Lines::default();
    let mut grid = Cells::default();
    for (id, status, visibility) in sequences {
        let drawn = match (pictures.remove(&id), visibility.parse::<Visibility>()) {
            (None, _) => continue,
            (Some(Ok(points)), Ok(visibility)) => draw(&status, visibility, &points),
            (Some(Err(e)), _) => Err(e),
            (_, Err(e)) => Err(Error::corrupt("sequences", e)),
        };
        match drawn {
            Ok(Some(drawn)) => {
                grid.add(id, &drawn);
                lines.add(id, drawn);
            }
            Ok(None) => {}
            // A row this release cannot read leaves its sequence off the map, not every line
            // after it.
            Err(e @ Error::Corrupt { .. }) => {
                warn!(sequence = %id, error = %e, "sequence line left undrawn");
            }
            Err(e) => return Err(e),
        }
    }
    lines.store(conn).await?;
    grid.store(conn).await
}

/// Lines to store, column by column.
#[derive(Default)]
struct Lines {
    ids: Vec<Uuid>,
    lines: Vec<Vec<u8>>,
    simplified: Vec<Vec<u8>>,
    wkt: Vec<String>,
    models: Vec<Option<String>>,
    projections: Vec<String>,
    dates: Vec<Option<String>>,
    densities: Vec<Option<i64>>,
}

impl Lines {
    fn add(&mut self, id: Uuid, drawn: Drawn) {
        let simplified: Vec<Vec<[f64; 2]>> = drawn
            .parts
            .iter()
            .map(|l| simplify(l, SIMPLIFY_DEG))
            .collect();
        self.ids.push(id);
        self.lines.push(encode_lines(&drawn.parts));
        self.simplified.push(encode_lines(&simplified));
        self.wkt.push(multi_line_wkt(&drawn.parts));
        self.models.push(drawn.model);
        self.projections.push(drawn.projection.as_str().to_owned());
        self.dates.push(drawn.capture_date);
        self.densities.push(drawn.h_pixel_density);
    }

    async fn store(self, conn: &mut PgConnection) -> Result<()> {
        if self.ids.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO map_sequences (sequence_id, lines, lines_simplified, geom, model,
                 projection, capture_date, h_pixel_density)
             SELECT id, lines, simplified, ST_GeomFromText(wkt, 4326), model, projection,
                    capture_date, density
             FROM unnest($1::uuid[], $2::bytea[], $3::bytea[], $4::text[], $5::text[],
                         $6::text[], $7::text[], $8::bigint[])
                  AS l (id, lines, simplified, wkt, model, projection, capture_date, density)",
        )
        .bind(self.ids)
        .bind(self.lines)
        .bind(self.simplified)
        .bind(self.wkt)
        .bind(self.models)
        .bind(self.projections)
        .bind(self.dates)
        .bind(self.densities)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("store sequence lines"))?;
        Ok(())
    }
}

/// Grid cells to store, column by column.
#[derive(Default)]
struct Cells {
    ids: Vec<Uuid>,
    xs: Vec<i32>,
    ys: Vec<i32>,
    counts: Vec<i64>,
    counts_360: Vec<i64>,
}

impl Cells {
    fn add(&mut self, id: Uuid, drawn: &Drawn) {
        for (&(x, y), &(n, n_360)) in &drawn.cells {
            // Indices of points on the Earth (at most 1800 in absolute value) always fit.
            let (Ok(x), Ok(y)) = (i32::try_from(x), i32::try_from(y)) else {
                continue;
            };
            self.ids.push(id);
            self.xs.push(x);
            self.ys.push(y);
            self.counts.push(n);
            self.counts_360.push(n_360);
        }
    }

    async fn store(self, conn: &mut PgConnection) -> Result<()> {
        if self.ids.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO map_grid (sequence_id, cell_x, cell_y, nb_pictures, nb_360_pictures)
             SELECT * FROM unnest($1::uuid[], $2::integer[], $3::integer[], $4::bigint[],
                                  $5::bigint[])",
        )
        .bind(self.ids)
        .bind(self.xs)
        .bind(self.ys)
        .bind(self.counts)
        .bind(self.counts_360)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("store grid cells of sequences"))?;
        Ok(())
    }
}

/// The parts of a line as a WKT multi-line, a part of one point drawn as a segment of no
/// length. Coordinates are written in full (Rust prints the shortest text that reads back as
/// the same number).
fn multi_line_wkt(parts: &[Vec<[f64; 2]>]) -> String {
    let part = |line: &Vec<[f64; 2]>| {
        let mut points: Vec<String> = line
            .iter()
            .map(|p| format!("{:?} {:?}", p[0], p[1]))
            .collect();
        if points.len() == 1 {
            points.push(points[0].clone());
        }
        format!("({})", points.join(", "))
    };
    let parts: Vec<String> = parts.iter().map(part).collect();
    format!("MULTILINESTRING({})", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_indices_round_half_away_from_zero() {
        assert_eq!(grid_index(2.35), 24);
        assert_eq!(grid_index(-2.35), -24);
        assert_eq!(grid_index(0.04), 0);
        assert_eq!(grid_index(-0.06), -1);
        assert_eq!(grid_index(179.99), 1800);
    }

    #[test]
    fn lines_of_one_point_become_segments_of_no_length() {
        let wkt = multi_line_wkt(&[vec![[1.0, 2.0]], vec![[3.5, -4.25], [5.0, 6.0]]]);
        assert_eq!(
            wkt,
            "MULTILINESTRING((1.0 2.0, 1.0 2.0), (3.5 -4.25, 5.0 6.0))"
        );
    }
}
