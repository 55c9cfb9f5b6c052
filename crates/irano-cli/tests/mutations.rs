#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Deterministic mutation testing, from text to verdict: thousands of corrupted rule
//! files and case files go through parse -> check -> read -> evaluate. Each must end in a
//! result or a diagnostic; none may panic. (A coverage-guided `cargo fuzz` target can
//! reuse the same entry points.)

use std::path::{Path, PathBuf};

use irano_check::{check_source, FsLoader};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A small deterministic generator (xorshift), so that failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const TOKENS: &[&str] = &[
    "(",
    ")",
    "{",
    "}",
    "??",
    "0",
    "-1",
    "1e9",
    "99999999999999999999999999999",
    "mm2",
    "days",
    "months",
    "%",
    "null",
    "scan",
    "baseline",
    "prior",
    "any(x in prior: x.burden > 0)",
    "\"",
    "#",
    "\n",
    "and",
    "or",
    "not",
    "then",
    "when",
    "override",
    "rule x",
    ".",
    ",",
    "=",
    ":",
    "[",
    "]",
    "-",
    "/",
    "0 mm",
    "2025-02-30",
    "~",
    "*",
    "&",
    "\u{e9}",
    "\t",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut s: Vec<char> = text.chars().collect();
    for _ in 0..=rng.below(3) {
        let at = rng.below(s.len() + 1);
        match rng.below(4) {
            0 => {
                let end = (at + 1 + rng.below(40)).min(s.len());
                if at < end {
                    s.drain(at..end);
                }
            }
            1 => {
                let tok = TOKENS[rng.below(TOKENS.len())];
                for (k, c) in tok.chars().enumerate() {
                    s.insert((at + k).min(s.len()), c);
                }
            }
            2 => {
                let end = (at + 1 + rng.below(80)).min(s.len());
                let piece: Vec<char> = s[at.min(s.len())..end].to_vec();
                let to = rng.below(s.len() + 1);
                for (k, c) in piece.into_iter().enumerate() {
                    s.insert((to + k).min(s.len()), c);
                }
            }
            _ => {
                if at < s.len() && s[at].is_ascii_digit() {
                    s[at] = char::from(b'0' + rng.below(10) as u8);
                }
            }
        }
    }
    s.into_iter().collect()
}

#[test]
fn corrupted_rule_files_never_panic() {
    let rules = repo().join("rules");
    let loader = FsLoader {
        search: vec![rules.clone()],
    };
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&rules)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rano"))
        .collect();
    files.sort();
    let mut programs = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for _ in 0..150 {
            let m = mutate(&mut rng, &text);
            // a mutant named like a file in another folder, so that its own id resolves
            let name = format!("/nonexistent/{}", f.file_name().unwrap().to_string_lossy());
            let checked = check_source(&name, m, &loader, &[]);
            if checked.program.is_some() {
                programs += 1;
            } else if checked.overlay.is_none() {
                assert!(
                    checked.diagnostics.iter().any(|d| d.is_error()),
                    "a mutant of {} produced neither a program nor an error",
                    f.display()
                );
            }
        }
    }
    // some mutants (in comments, in citations) still check: the test exercises both paths
    assert!(programs > 0);
}

#[test]
fn corrupted_cases_never_panic() {
    let rules = repo().join("rules");
    let program = irano_check::check_path(&rules.join("irano-2015.rano"), &[], &[])
        .program
        .unwrap();
    let mut rng = Rng(0x0dd_ba11_cafe_f00d);
    let mut evaluated = 0;
    let mut rejected = 0;
    for dir in ["irano-2015", "rano-hgg-2010"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("tests/worked").join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files.iter().take(12) {
            let text = std::fs::read_to_string(f).unwrap();
            for _ in 0..60 {
                let m = mutate(&mut rng, &text);
                match irano_cases::read_str(&m, "mutant.yaml", irano_cases::Format::Yaml) {
                    Ok(cases) => {
                        for c in &cases {
                            let _ = irano_evaluate::evaluate(&program, c);
                            evaluated += 1;
                        }
                    }
                    Err(errors) => {
                        assert!(!errors.is_empty());
                        rejected += 1;
                    }
                }
                // the same text as JSON Lines must not panic either
                let _ = irano_cases::read_str(&m, "mutant.jsonl", irano_cases::Format::JsonLines);
            }
        }
    }
    assert!(
        evaluated > 0 && rejected > 0,
        "evaluated {evaluated}, rejected {rejected}"
    );
}
