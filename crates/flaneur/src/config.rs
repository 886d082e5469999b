//! The configuration file of `serve` and `worker` (`--config FILE` or `FLANEUR_CONFIG`).
//!
//! A TOML file of top-level keys named as the options, with `_` for `-` (`data_dir`,
//! `db_url`, `stop_grace_secs`...); `docs/flaneur.example.toml` lists them all. One file may
//! serve both commands: each reads the keys of its own options and leaves the others. The
//! command line wins over the environment, which wins over the file: a key is used only when
//! its option was given neither way. The file's values are handed to the same parser as the
//! command line, so they are checked alike; every problem of the file is reported at once.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Command, CommandFactory, FromArgMatches};

/// The option naming the configuration file.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArgs {
    /// A TOML file setting any of these options by name (`data_dir = "/srv/flaneur"`); the
    /// command line and the environment override it.
    #[arg(long, env = "FLANEUR_CONFIG")]
    config: Option<PathBuf>,
}

impl ConfigArgs {
    /// The file read, if any, for the start-up summary.
    pub fn path(&self) -> Option<&std::path::Path> {
        self.config.as_deref()
    }

    /// The file's path for logs, or `none`.
    pub fn shown(&self) -> String {
        self.path()
            .map_or_else(|| "none".to_owned(), |path| path.display().to_string())
    }
}

/// Why the command line and configuration file cannot be used.
#[derive(Debug)]
pub enum Error {
    /// The command line itself (or `--help`, `--version`): clap reports it.
    Cli(clap::Error),
    /// The configuration file: unreadable, not TOML, or with unknown keys or bad values.
    File(String),
}

/// Parses the command line, completed by the configuration file it names.
///
/// # Errors
/// Fails when the command line is not valid (including requests for help), and when the
/// configuration file cannot be read or holds unknown keys or invalid values.
pub fn parse<P: CommandFactory + FromArgMatches>(args: Vec<OsString>) -> Result<P, Error> {
    let command = P::command();
    let matches = command
        .clone()
        .try_get_matches_from(&args)
        .map_err(Error::Cli)?;
    let Some((name, mut sub_matches)) = matches.subcommand() else {
        return P::from_arg_matches(&matches).map_err(Error::Cli);
    };
    let mut sub = command
        .find_subcommand(name)
        .expect("the matched subcommand is one of the command's");
    // The command taking the file may be nested (`account create`).
    while sub_matches.try_get_one::<PathBuf>("config").is_err() {
        let Some((name, nested)) = sub_matches.subcommand() else {
            break;
        };
        sub = sub
            .find_subcommand(name)
            .expect("the matched subcommand is one of the command's");
        sub_matches = nested;
    }
    let Some(path) = sub_matches.try_get_one::<PathBuf>("config").ok().flatten() else {
        return P::from_arg_matches(&matches).map_err(Error::Cli);
    };

    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::File(format!(
            "cannot read configuration file {}: {e}",
            path.display()
        ))
    })?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        Error::File(format!(
            "configuration file {} is not valid TOML: {}",
            path.display(),
            e.to_string().trim_end()
        ))
    })?;
    let extra = file_args(&command, sub, sub_matches, &table).map_err(|problems| {
        Error::File(format!(
            "configuration file {}:\n  {}",
            path.display(),
            problems.join("\n  ")
        ))
    })?;

    let mut args = args;
    args.extend(extra);
    let matches = command.try_get_matches_from(args).map_err(Error::Cli)?;
    P::from_arg_matches(&matches).map_err(Error::Cli)
}

/// The keys a configuration file may hold: the options of every command reading one that the
/// environment may set too. Those it may not (`flaneur harvest --peer`) choose what one run
/// does rather than configure the instance.
fn known_keys(command: &Command) -> Vec<String> {
    let mut keys: Vec<String> = command
        .get_subcommands()
        .filter(|sub| sub.get_arguments().any(|arg| arg.get_id() == "config"))
        .flat_map(|sub| sub.get_arguments().filter(|arg| arg.get_env().is_some()))
        .map(|arg| arg.get_id().to_string())
        .filter(|id| !["config", "help", "version"].contains(&id.as_str()))
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// The command-line arguments standing for the file's keys that `sub` takes and that neither
/// its command line nor the environment set, or every problem found.
fn file_args(
    command: &Command,
    sub: &Command,
    matches: &ArgMatches,
    table: &toml::Table,
) -> Result<Vec<OsString>, Vec<String>> {
    let known = known_keys(command);
    let mut args = Vec::new();
    let mut problems = Vec::new();
    for (key, value) in table {
        if !known.contains(key) {
            problems.push(format!(
                "unknown key '{key}' (the keys are the options' names with '_' for '-': {})",
                known.join(", ")
            ));
            continue;
        }
        // A key of the other command.
        let Some(arg) = sub.get_arguments().find(|arg| arg.get_id() == key.as_str()) else {
            continue;
        };
        let is_given = matches!(
            matches.value_source(key),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        );
        if is_given {
            continue;
        }
        let long = arg.get_long().expect("every option has a long name");
        let arg_list = match (arg.get_action(), value) {
            (ArgAction::SetTrue, toml::Value::Boolean(true)) => vec![format!("--{long}")],
            (ArgAction::SetTrue, toml::Value::Boolean(false)) => Vec::new(),
            (ArgAction::SetTrue, _) => {
                problems.push(format!("key '{key}' takes true or false"));
                continue;
            }
            // A list option takes an array, each element as one more `--option`.
            (ArgAction::Append, toml::Value::Array(values)) => {
                let texts: Option<Vec<String>> = values.iter().map(as_option_value).collect();
                let Some(texts) = texts else {
                    problems.push(format!("key '{key}' takes an array of strings"));
                    continue;
                };
                texts
                    .into_iter()
                    .map(|text| format!("--{long}={text}"))
                    .collect()
            }
            (_, value) => match as_option_value(value) {
                Some(text) => vec![format!("--{long}={text}")],
                None => {
                    problems.push(format!("key '{key}' takes a string, a number or a table"));
                    continue;
                }
            },
        };
        // Each value checked alone, so that every bad one is named; the command's own
        // arguments (an account's name) are not there, and not required for the check.
        let check = std::iter::once(sub.get_name().to_owned()).chain(arg_list.iter().cloned());
        let alone = sub.clone().mut_args(|arg| arg.required(false));
        if let Err(err) = alone.try_get_matches_from(check) {
            let text = err.to_string();
            let first = text.lines().next().unwrap_or_default();
            // The allowed values, when clap lists them on a line of their own.
            let allowed = text
                .lines()
                .map(str::trim)
                .find(|line| line.starts_with("[possible values:"))
                .map(|line| format!(" {line}"))
                .unwrap_or_default();
            problems.push(format!(
                "key '{key}': {}{allowed}",
                first.trim_start_matches("error: ")
            ));
            continue;
        }
        args.extend(arg_list.into_iter().map(OsString::from));
    }
    if problems.is_empty() {
        Ok(args)
    } else {
        Err(problems)
    }
}

/// A TOML value as an option's text; a table becomes JSON (`instance_summary`). Arrays are
/// lists of values, each its own option: none stands for one value.
fn as_option_value(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(text) => Some(text.clone()),
        toml::Value::Integer(n) => Some(n.to_string()),
        toml::Value::Float(x) => Some(x.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        toml::Value::Table(table) => serde_json::to_string(table).ok(),
        toml::Value::Datetime(_) | toml::Value::Array(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cli;

    const EXAMPLE: &str = include_str!("../../../docs/flaneur.example.toml");

    /// Keys the example sets or shows in a comment (`# key = ...`).
    fn example_keys() -> Vec<String> {
        let mut keys: Vec<String> = EXAMPLE
            .lines()
            .map(|line| line.trim_start_matches('#').trim_start())
            .filter_map(|line| line.split_once(" = "))
            .map(|(key, _)| key.to_owned())
            .filter(|key| key.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .collect();
        keys.sort();
        keys
    }

    #[test]
    fn the_example_file_lists_every_key_once_and_both_commands_take_it() {
        assert_eq!(example_keys(), known_keys(&Cli::command()));
        let table: toml::Table = EXAMPLE.parse().expect("the example is TOML");
        let command = Cli::command();
        for name in ["serve", "worker"] {
            let sub = command.find_subcommand(name).expect("subcommand");
            let matches = sub
                .clone()
                .try_get_matches_from([name])
                .expect("no arguments");
            file_args(&command, sub, &matches, &table).expect("the example's values are valid");
        }
    }

    #[test]
    fn every_problem_of_a_file_is_named_by_its_key() {
        let table: toml::Table = r#"
            data_dri = "x"
            listen = "nowhere"
            workers = "many"
            no_workers = "yes"
            db_url = ["a"]
            instance_summary = 5
            db_max_connections = 0
            picture_reads = "redirct"
            peers = ["https://a.example.org/api", "ftp://b.example.org/api"]
            harvest_interval = 900
        "#
        .parse()
        .expect("TOML");
        let command = Cli::command();
        let sub = command.find_subcommand("serve").expect("serve");
        let matches = sub
            .clone()
            .try_get_matches_from(["serve"])
            .expect("no arguments");
        let problems = file_args(&command, sub, &matches, &table).expect_err("problems");
        assert_eq!(problems.len(), 10, "{problems:#?}");
        for key in [
            "data_dri",
            "listen",
            "workers",
            "no_workers",
            "db_url",
            "instance_summary",
            "db_max_connections",
            "picture_reads",
            "peers",
            "harvest_interval",
        ] {
            assert!(
                problems.iter().any(|p| p.contains(&format!("'{key}'"))),
                "{key}: {problems:#?}"
            );
        }
        let reads = problems
            .iter()
            .find(|p| p.contains("'picture_reads'"))
            .expect("picture_reads named");
        assert!(reads.contains("proxy, redirect"), "{reads}");
        let peers = problems
            .iter()
            .find(|p| p.contains("'peers'"))
            .expect("peers named");
        assert!(peers.contains("ftp://b.example.org/api"), "{peers}");
    }

    #[test]
    fn the_command_line_wins_over_the_file_and_tables_become_json() {
        let table: toml::Table = r#"
            workers = 3
            tile_cache_mb = 8
            listen = "127.0.0.1:6000"
            instance_summary = { name = "Rennes" }
            peers = ["https://a.example.org/api/", "http://127.0.0.1:5001/api"]
            catalog_only = true
        "#
        .parse()
        .expect("TOML");
        let command = Cli::command();
        let sub = command.find_subcommand("serve").expect("serve");
        let matches = sub
            .clone()
            .try_get_matches_from(["serve", "--workers", "1"])
            .expect("arguments");
        let args = file_args(&command, sub, &matches, &table).expect("valid");
        let args: Vec<_> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(!args.iter().any(|a| a.starts_with("--workers")), "{args:?}");
        assert!(args.contains(&"--tile-cache-mb=8".to_owned()), "{args:?}");
        assert!(
            args.contains(&r#"--instance-summary={"name":"Rennes"}"#.to_owned()),
            "{args:?}"
        );
        let peers: Vec<_> = args.iter().filter(|a| a.starts_with("--peer=")).collect();
        assert_eq!(
            peers,
            [
                "--peer=https://a.example.org/api/",
                "--peer=http://127.0.0.1:5001/api"
            ],
            "each element of an array is an option"
        );
        assert!(args.contains(&"--catalog-only".to_owned()), "{args:?}");
    }
}
