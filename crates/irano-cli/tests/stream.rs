#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Streaming evaluation: the output does not depend on the number of threads, and a
//! cohort split by patient into shards, evaluated shard by shard and concatenated, is
//! the unsplit run byte for byte (what makes `irano-eval` safe under GNU parallel or
//! Spark's `RDD.pipe`).

#[path = "../benches/support/cohort.rs"]
#[allow(dead_code)]
mod cohort;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("irano-stream-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `irano-eval ARGS` (with `stdin` piped in), asserts success, returns stdout.
fn eval(args: &[&str], stdin: Option<&[u8]>) -> Vec<u8> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_irano-eval"))
        .args(args)
        .current_dir(repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.map(<[u8]>::to_vec);
    let feeder = std::thread::spawn(move || {
        if let Some(d) = data {
            let _ = input.write_all(&d);
        }
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

const PATIENTS: usize = 240;

#[test]
fn output_is_the_same_for_any_number_of_threads() {
    let dir = temp_dir("threads");
    let file = dir.join("cohort.jsonl");
    std::fs::write(&file, cohort::cohort(PATIENTS)).unwrap();
    let f = file.to_str().unwrap();
    for rules in ["rules/irano-2015.rano"] {
        for format in ["jsonl", "table", "csv", "json"] {
            let one = eval(
                &["eval", "--rules", rules, "--format", format, "-j", "1", f],
                None,
            );
            assert!(one.len() > PATIENTS * 100, "{format}: output too short");
            for jobs in ["2", "5"] {
                let many = eval(
                    &["eval", "--rules", rules, "--format", format, "-j", jobs, f],
                    None,
                );
                assert!(
                    one == many,
                    "{rules} --format {format}: -j 1 and -j {jobs} differ"
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shards_concatenated_are_the_unsplit_run() {
    let dir = temp_dir("shards");
    let text = cohort::cohort(PATIENTS);
    let file = dir.join("cohort.jsonl");
    std::fs::write(&file, &text).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // uneven shards, cut at patient boundaries
    let cuts = [0, 1, 100, 101, 200, lines.len()];
    let mut shard_files = Vec::new();
    for (k, w) in cuts.windows(2).enumerate() {
        let p = dir.join(format!("shard-{k}.jsonl"));
        let mut s = lines[w[0]..w[1]].join("\n");
        s.push('\n');
        std::fs::write(&p, s).unwrap();
        shard_files.push(p);
    }
    for trace in ["full", "rules", "none"] {
        let args = |f: &str| -> Vec<String> {
            [
                "eval",
                "--rules",
                "rules/irano-2015.rano",
                "--format",
                "jsonl",
                "--trace",
                trace,
                f,
            ]
            .iter()
            .map(|s| s.to_string())
            .collect()
        };
        let whole = {
            let a = args(file.to_str().unwrap());
            eval(&a.iter().map(String::as_str).collect::<Vec<_>>(), None)
        };
        let mut joined = Vec::new();
        for s in &shard_files {
            let a = args(s.to_str().unwrap());
            joined.extend(eval(
                &a.iter().map(String::as_str).collect::<Vec<_>>(),
                None,
            ));
        }
        assert!(
            whole == joined,
            "--trace {trace}: shards differ from the whole"
        );
        // the same shards as a filter: standard input to standard output
        let mut piped = Vec::new();
        for s in &shard_files {
            let a = args("-");
            let input = std::fs::read(s).unwrap();
            piped.extend(eval(
                &a.iter().map(String::as_str).collect::<Vec<_>>(),
                Some(&input),
            ));
        }
        assert!(
            whole == piped,
            "--trace {trace}: stdin shards differ from the whole"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
