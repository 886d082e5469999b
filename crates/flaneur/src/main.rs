//! `flaneur`: the server and its command-line tools.
//!
//! Exit codes: 0 success, 1 a failed operation, 2 misuse (bad arguments or configuration).

mod account;
mod config;
mod federation;
mod harvest;
mod inspect;
mod instance;
mod jobs;
mod login;
mod logs;
mod migrate;
mod peer;
mod schedule;
mod serve;
mod shutdown;
mod storage;
mod upload;
mod worker;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Flâneur: street-level pictures, shared as a commons (a Panoramax-compatible instance).
#[derive(Debug, Parser)]
#[command(name = "flaneur", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the instance: HTTP API and picture workers.
    Serve(Box<serve::ServeArgs>),
    /// Runs picture workers only, for API processes sharing the same storage.
    Worker(Box<worker::WorkerArgs>),
    /// Uploads a folder of pictures to an instance.
    Upload(upload::UploadArgs),
    /// Shows what the metadata reader finds in pictures.
    Inspect(inspect::InspectArgs),
    /// Copies an embedded instance (its data folder) into a PostgreSQL catalog and a picture
    /// store such as an S3 bucket, verifying every picture file.
    MigrateStorage(migrate::MigrateArgs),
    /// Makes and changes accounts and their API tokens.
    Account(account::AccountArgs),
    /// Declares, pauses, resumes, lists and removes the peers: the other instances whose
    /// public catalogs this one harvests.
    Peer(peer::PeerArgs),
    /// Harvests the peers now, once, and prints what each pass did.
    Harvest(harvest::HarvestArgs),
}

/// A configuration the command cannot run with; it exits with code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Misuse(pub String);

fn main() -> ExitCode {
    let cli = match config::parse::<Cli>(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(config::Error::Cli(err)) => err.exit(),
        Err(config::Error::File(message)) => return fail(&Misuse(message).into()),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => return fail(&anyhow::Error::from(err)),
    };
    let outcome = match cli.command {
        Command::Serve(args) => runtime.block_on(serve::run(*args)),
        Command::Worker(args) => runtime.block_on(worker::run(*args)),
        Command::Upload(args) => runtime.block_on(upload::run(args)),
        Command::Inspect(args) => inspect::run(&args, &mut std::io::stdout().lock()),
        Command::MigrateStorage(args) => runtime.block_on(migrate::run(args)),
        Command::Account(args) => {
            runtime.block_on(account::run(args, &mut std::io::stdout().lock()))
        }
        Command::Peer(args) => runtime.block_on(peer::run(args, &mut std::io::stdout().lock())),
        Command::Harvest(args) => {
            runtime.block_on(harvest::run(args, &mut std::io::stdout().lock()))
        }
    };
    match outcome {
        Ok(code) => code,
        Err(err) => fail(&err),
    }
}

/// Reports a failure on stderr (a closed stderr is not worth a panic) and picks the exit code.
fn fail(err: &anyhow::Error) -> ExitCode {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "error: {err:#}");
    if err.chain().any(|cause| cause.is::<Misuse>()) {
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    }
}
