//! Times [`flaneur_metadata::read`] on given pictures, from memory, and prints the median time
//! per read of each as JSON. `scripts/bench-reader.sh` runs it in release mode beside the same
//! loop in Python around the reference reader, so both sides are measured the same way; the
//! criterion bench (`benches/read.rs`) is the finer tool for work on the reader itself.
//!
//! Usage: `read_timing ROUNDS DIR NAME...`, NAME being paths relative to DIR. Output:
//! `{"NAME": {"median_us": 12.3, "batch": 256, "outcome": "ok"}, ...}`, where `outcome` is
//! `ok` or the error kind.

use std::hint::black_box;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::{Map, json};

/// Shortest batch worth timing: long enough that the clock's resolution and the cost of
/// reading it vanish, short enough that many rounds stay cheap.
const MIN_BATCH: Duration = Duration::from_millis(20);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rounds = args.first().and_then(|r| r.parse::<usize>().ok());
    let (Some(rounds), Some(dir), names) = (rounds, args.get(1), args.get(2..).unwrap_or(&[]))
    else {
        return fail(2, "usage: read_timing ROUNDS DIR NAME...");
    };
    if rounds == 0 || names.is_empty() {
        return fail(
            2,
            "usage: read_timing ROUNDS DIR NAME... (ROUNDS > 0, one NAME at least)",
        );
    }

    let mut results = Map::new();
    for name in names {
        let path = PathBuf::from(dir).join(name);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) => return fail(1, &format!("cannot read {}: {err}", path.display())),
        };
        let (median, batch, outcome) = time_reads(&bytes, rounds);
        let median_us = median.as_secs_f64() * 1e6;
        results.insert(
            name.clone(),
            json!({ "median_us": median_us, "batch": batch, "outcome": outcome }),
        );
    }

    let mut out = std::io::stdout().lock();
    match writeln!(out, "{}", serde_json::Value::Object(results)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(1, &format!("cannot write the results: {err}")),
    }
}

/// Median time of one read over `rounds` timed batches, the batch size, and the outcome.
fn time_reads(bytes: &[u8], rounds: usize) -> (Duration, u32, String) {
    // The first read builds the lazily loaded tables (cameras, time-zone shapes); that cost is
    // paid once per process, so it stays out of the figures, as it does on the Python side.
    let outcome = match flaneur_metadata::read(bytes) {
        Ok(_) => "ok".to_owned(),
        Err(err) => err.kind().to_owned(),
    };

    // Double the batch until one lasts MIN_BATCH, then time the rounds at that size.
    let mut batch = 1u32;
    while time_batch(bytes, batch) < MIN_BATCH {
        batch *= 2;
    }
    let mut per_read: Vec<Duration> = (0..rounds)
        .map(|_| time_batch(bytes, batch) / batch)
        .collect();
    per_read.sort();
    (per_read[per_read.len() / 2], batch, outcome)
}

/// Wall time of `batch` reads in a row.
fn time_batch(bytes: &[u8], batch: u32) -> Duration {
    let start = Instant::now();
    for _ in 0..batch {
        let _ = black_box(flaneur_metadata::read(black_box(bytes)));
    }
    start.elapsed()
}

/// Says what went wrong on stderr and gives the exit code (1 failure, 2 misuse).
fn fail(code: u8, message: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "read_timing: {message}");
    ExitCode::from(code)
}
