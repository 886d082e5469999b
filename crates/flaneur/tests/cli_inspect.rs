//! `flaneur inspect` run as a process: exit codes, JSON lines and a closed output pipe, on the
//! shared real pictures (fetched by `scripts/fetch-testdata.sh`).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[path = "support/testdata.rs"]
mod testdata;

use testdata::pictures_dir;

fn flaneur() -> Command {
    Command::new(env!("CARGO_BIN_EXE_flaneur"))
}

#[test]
fn exits_0_and_prints_one_json_line_per_picture_when_all_are_read() {
    let dir = pictures_dir();
    let names = ["1.jpg", "2.jpg", "b1.jpg", "c1.jpg", "e1.jpg", "crop.jpg"];

    let output = flaneur()
        .arg("inspect")
        .arg("--json")
        .args(names.iter().map(|name| dir.join(name)))
        .output()
        .expect("flaneur runs");

    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stdout = String::from_utf8(output.stdout).expect("utf-8 output");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is a JSON object"))
        .collect();
    assert_eq!(lines.len(), names.len());
    for (line, name) in lines.iter().zip(names) {
        assert!(
            line["file"]
                .as_str()
                .is_some_and(|file| file.ends_with(name)),
            "{line}"
        );
        for key in [
            "lat", "lon", "datetime", "heading", "type", "make", "model", "warnings",
        ] {
            assert!(line.get(key).is_some(), "{name} lacks {key}: {line}");
        }
    }
    assert_eq!(lines[1]["datetime"], "2021-07-29T09:16:56.000Z");
}

#[test]
fn exits_1_when_a_file_cannot_be_read() {
    let dir = pictures_dir();

    let output = flaneur()
        .arg("inspect")
        .arg(dir.join("e1.jpg"))
        .arg(dir.join("cli-fixtures/not_a_pic.md"))
        .output()
        .expect("flaneur runs");

    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stdout = String::from_utf8(output.stdout).expect("utf-8 output");
    assert!(
        stdout.contains("not_a_pic.md\n  error (not_jpeg)"),
        "{stdout}"
    );
}

#[test]
fn exits_2_on_misuse() {
    let output = flaneur().arg("inspect").output().expect("flaneur runs");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
}

#[test]
fn exits_0_when_the_reader_closes_the_pipe_early() {
    // Enough output to fill a pipe buffer, so that writing has to meet the closed pipe.
    let picture = pictures_dir().join("1.jpg");
    let mut child = flaneur()
        .arg("inspect")
        .arg("--json")
        .args(std::iter::repeat_n(&picture, 300))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("flaneur runs");

    let stdout = child.stdout.take().expect("stdout is piped");
    let mut first_line = String::new();
    BufReader::new(stdout)
        .read_line(&mut first_line)
        .expect("a first line");
    // The reader is dropped here: the pipe closes, as under `| head -1`.
    let output = child.wait_with_output().expect("flaneur ends");

    assert!(first_line.starts_with("{\"file\""), "{first_line}");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
