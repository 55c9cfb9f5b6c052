//! From text to verdict: a rule file's text and a case file's text go through
//! parse -> check -> read -> evaluate, as `irano-eval` runs them.
//!
//! Asserted for every input:
//! - nothing panics (libFuzzer reports panics, stack overflows and timeouts itself);
//! - no diagnostic has the code `check::internal` (the checker's "could not understand this
//!   and did not say why");
//! - a rule file that gives no program is an overlay or has an error diagnostic, and a
//!   case file that gives no case has at least one case error;
//! - every diagnostic and case error has a position, and the first few render as miette
//!   reports, without panicking;
//! - evaluation returns a result (serialisable to JSON) or an `EvalError` with a message.
//!
//! # Input format
//!
//! The first byte is a header: `mode = header & 3`, and for a fuzzed case
//! `format = (header >> 2) & 3` (0 and 3: YAML, 1: JSON, 2: JSON Lines). Then:
//!
//! | mode | rest of the input                  | rule file                                  | case file                 |
//! |------|------------------------------------|--------------------------------------------|---------------------------|
//! | 0    | `RULE-TEXT 0xFF CASE-TEXT`         | fuzzed                                     | fuzzed                    |
//! | 1    | `K CASE-TEXT`                      | shipped: `CRITERIA[K % len]`, checked once | fuzzed                    |
//! | 2    | `P C BODY`                         | `criterion "fuzz-amendment" extends "PARENTS[P % len]" {BODY}` | shipped: `cases[C % len]` |
//! | 3    | `C RULE-TEXT`                      | fuzzed                                     | shipped: `cases[C % len]` |
//!
//! `0xFF` never occurs in UTF-8, so the separator does not cut a valid text; each part is
//! read with `String::from_utf8_lossy`. The shipped cases are every file of
//! `tests/cases-ok/` and `tests/worked/*/`, in path order, as listed when the fuzzer
//! starts: adding a case file shifts the indices (rerun `fuzz/make-seeds.sh`); a saved
//! input is made durable by dumping it as readable files (below). Parents are looked up (by the
//! real `FsLoader`) in `tests/rules/base/`, `rules/` and `tests/rules/ok/` of this
//! repository, found from `CARGO_MANIFEST_DIR`.
//!
//! `IRANO_FUZZ_DUMP=DIR` writes the decoded texts of each input run (use it with one
//! input) as `DIR/rule.rano` and `DIR/case.{yaml,json,jsonl}`, says which shipped files
//! it used and prints the diagnostics and results: that is how a crash becomes a readable
//! regression file. `IRANO_FUZZ_ALLOW_INTERNAL=1` lets `check::internal` pass, to look for
//! other failures while a known one is unfixed.

#![no_main]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use irano_cases::{Case, Format};
use irano_check::{check_path, check_source, Checked, Diagnostic, FsLoader, Program};
use libfuzzer_sys::fuzz_target;

/// The shipped criteria of mode 1 (relative to the repository root). Append only: an
/// index is part of every saved mode-1 input.
const CRITERIA: &[&str] = &[
    "rules/irano-2015.rano",
    "rules/irano-2015-bm.rano",
    "rules/irano-2015-lgg.rano",
    "rules/irrc-2009.rano",
    "rules/rano-bm-2015.rano",
    "rules/rano-hgg-2010.rano",
    "rules/rano-lgg-2011.rano",
    "tests/rules/ok/aggregates.rano",
    "tests/rules/ok/amend-chain.rano",
    "tests/rules/ok/amend-hgg.rano",
    "tests/rules/ok/dates-units.rano",
    "tests/rules/ok/lesion-lets.rano",
    "tests/rules/ok/match-defs.rano",
    "tests/rules/ok/minimal.rano",
    "tests/rules/ok/summary-windows.rano",
    "tests/rules/ok/targets-max-per.rano",
];

/// The parents of mode 2. Append only.
const PARENTS: &[&str] = &[
    "rano-hgg-2010",
    "irano-2015",
    "rano-lgg-2011",
    "rano-bm-2015",
    "irrc-2009",
    "irano-2015-lgg",
    "irano-2015-bm",
    "frozen-hgg",
    "amend-hgg",
];

/// How many diagnostics (and case errors) of one input are rendered with miette: each
/// rendering scans the text, and rendering them all made the target several times slower.
const RENDERED: usize = 4;

/// The name under which a fuzzed rule file is checked: in a folder that does not exist,
/// so that every parent comes from the include directories.
const RULE_NAME: &str = "/nonexistent/irano-fuzz/fuzz.rano";

struct Fixtures {
    root: PathBuf,
    loader: FsLoader,
    /// `CRITERIA`, each checked on first use (a fork of the fuzzer starts cheaply).
    criteria: Vec<OnceLock<Option<Program>>>,
    /// The shipped case files (relative to the root), each read on first use (a file
    /// that does not read holds no case). Every file keeps its place, so that an index
    /// means the same file as in make-seeds.sh.
    cases: Vec<(String, OnceLock<Vec<Case>>)>,
    dump: Option<PathBuf>,
    /// `IRANO_FUZZ_ALLOW_INTERNAL=1`: do not stop at `check::internal` (to look for other
    /// failures while a known one is being fixed).
    allow_internal: bool,
}

impl Fixtures {
    fn criterion(&self, i: usize) -> Option<&Program> {
        let path = self.root.join(CRITERIA.get(i)?);
        self.criteria
            .get(i)?
            .get_or_init(|| check_path(&path, &self.loader.search, &[]).program)
            .as_ref()
    }

    /// A shipped case file, by an index byte: its name and its cases.
    fn case(&self, i: u8) -> Option<(&str, &[Case])> {
        if self.cases.is_empty() {
            return None;
        }
        let (name, cases) = self.cases.get(usize::from(i) % self.cases.len())?;
        let cases = cases.get_or_init(|| {
            let path = self.root.join(name);
            Format::from_path(&path)
                .zip(std::fs::read_to_string(&path).ok())
                .and_then(|(format, text)| irano_cases::read_str(&text, name, format).ok())
                .unwrap_or_default()
        });
        Some((name.as_str(), cases.as_slice()))
    }
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let include = vec![
            root.join("tests/rules/base"),
            root.join("rules"),
            root.join("tests/rules/ok"),
        ];
        let mut files = Vec::new();
        let mut dirs = vec![root.join("tests/cases-ok")];
        if let Ok(rd) = std::fs::read_dir(root.join("tests/worked")) {
            dirs.extend(rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
        }
        for d in dirs {
            if let Ok(rd) = std::fs::read_dir(&d) {
                files.extend(rd.flatten().map(|e| e.path()));
            }
        }
        files.sort();
        let cases = files
            .iter()
            .map(|p| {
                let rel = p.strip_prefix(&root).unwrap_or(p).display().to_string();
                (rel, OnceLock::new())
            })
            .collect();
        Fixtures {
            root,
            loader: FsLoader { search: include },
            criteria: CRITERIA.iter().map(|_| OnceLock::new()).collect(),
            cases,
            dump: std::env::var_os("IRANO_FUZZ_DUMP").map(PathBuf::from),
            allow_internal: std::env::var_os("IRANO_FUZZ_ALLOW_INTERNAL").is_some_and(|v| v == "1"),
        }
    })
}

fn case_format(header: u8) -> (Format, &'static str) {
    match (header >> 2) & 3 {
        1 => (Format::Json, "json"),
        2 => (Format::JsonLines, "jsonl"),
        _ => (Format::Yaml, "yaml"),
    }
}

fn pick<T>(items: &[T], i: u8) -> Option<&T> {
    if items.is_empty() {
        None
    } else {
        items.get(usize::from(i) % items.len())
    }
}

fn dump(f: &Fixtures, what: &str, rule: Option<&str>, case: Option<(&str, &str)>) {
    let Some(dir) = &f.dump else { return };
    let _ = std::fs::create_dir_all(dir);
    let mut note = format!("{what}\n");
    if let Some(text) = rule {
        let path = dir.join("rule.rano");
        let _ = std::fs::write(&path, text);
        let _ = writeln!(note, "rule file written to {}", path.display());
    }
    if let Some((ext, text)) = case {
        let path = dir.join(format!("case.{ext}"));
        let _ = std::fs::write(&path, text);
        let _ = writeln!(note, "case file written to {}", path.display());
    }
    let _ = std::fs::write(dir.join("input.txt"), &note);
    eprint!("{note}");
}

fn render(d: &dyn miette::Diagnostic) {
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(100);
    let mut s = String::new();
    let _ = handler.render_report(&mut s, d);
}

fn describe(d: &Diagnostic) -> String {
    match d.position() {
        Some((file, line, col)) => format!("{} at {file}:{line}:{col}: {}", d.code, d.message),
        None => format!("{} (no location): {}", d.code, d.message),
    }
}

/// Checks a rule file's text and asserts the checker's promises; the program if any.
fn check(f: &Fixtures, text: String) -> Option<Program> {
    let Checked {
        program,
        diagnostics,
        overlay,
    } = check_source(RULE_NAME, text, &f.loader, &[]);
    if f.dump.is_some() {
        eprintln!(
            "checked: {}, {} diagnostic(s)",
            if program.is_some() {
                "a program"
            } else if overlay.is_some() {
                "an overlay"
            } else {
                "no program"
            },
            diagnostics.len()
        );
        for d in &diagnostics {
            eprintln!("  {}", describe(d));
        }
    }
    for (i, d) in diagnostics.iter().enumerate() {
        assert!(
            d.code != "check::internal" || f.allow_internal,
            "{}",
            describe(d)
        );
        let _ = d.position();
        if i < RENDERED {
            render(&d.clone().with_source());
        }
    }
    if program.is_none() && overlay.is_none() {
        assert!(
            diagnostics.iter().any(Diagnostic::is_error),
            "no program, not an overlay, and no error; diagnostics: {:?}",
            diagnostics.iter().map(describe).collect::<Vec<_>>()
        );
    }
    program
}

/// Reads a case file's text; its cases (none when it has errors).
fn read(f: &Fixtures, text: &str, ext: &str, format: Format) -> Vec<Case> {
    let read = irano_cases::read_str(text, &format!("fuzz-case.{ext}"), format);
    if f.dump.is_some() {
        match &read {
            Ok(cases) => eprintln!("read: {} case(s)", cases.len()),
            Err(errors) => eprintln!(
                "read: {} error(s), the first: {:?}",
                errors.len(),
                errors.first().map(ToString::to_string)
            ),
        }
    }
    match read {
        Ok(cases) => cases,
        Err(errors) => {
            assert!(!errors.is_empty(), "a case file failed with no error");
            for (i, e) in errors.iter().enumerate() {
                let _ = (e.file(), e.line(), e.column());
                if i < RENDERED {
                    render(e);
                }
            }
            Vec::new()
        }
    }
}

fn evaluate(f: &Fixtures, program: &Program, cases: &[Case]) {
    for case in cases {
        let result = irano_evaluate::evaluate(program, case);
        if f.dump.is_some() {
            match &result {
                Ok(r) => eprintln!(
                    "evaluated: {}",
                    serde_json::to_string(r).unwrap_or_default()
                ),
                Err(e) => eprintln!("evaluated: EvalError {e:?}"),
            }
        }
        match result {
            Ok(result) => {
                let _ = serde_json::to_string(&result);
            }
            Err(e) => assert!(
                !e.message.is_empty(),
                "an EvalError without a message: {e:?}"
            ),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let f = fixtures();
    let Some((&header, rest)) = data.split_first() else {
        return;
    };
    match header & 3 {
        // both texts fuzzed
        0 => {
            let (rule, case) = match rest.iter().position(|&b| b == 0xFF) {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &[][..]),
            };
            let rule = String::from_utf8_lossy(rule).into_owned();
            let case = String::from_utf8_lossy(case);
            let (format, ext) = case_format(header);
            dump(
                f,
                "mode 0: fuzzed rule file, fuzzed case file",
                Some(&rule),
                Some((ext, &case)),
            );
            let program = check(f, rule);
            let cases = read(f, &case, ext, format);
            if let Some(p) = &program {
                evaluate(f, p, &cases);
            }
        }
        // a shipped criterion, the case fuzzed
        1 => {
            let Some((&k, case)) = rest.split_first() else {
                return;
            };
            let i = usize::from(k) % CRITERIA.len();
            let case = String::from_utf8_lossy(case);
            let (format, ext) = case_format(header);
            dump(
                f,
                &format!(
                    "mode 1: shipped rule file {}, fuzzed case file",
                    f.root.join(CRITERIA[i]).display()
                ),
                None,
                Some((ext, &case)),
            );
            let cases = read(f, &case, ext, format);
            if let Some(p) = f.criterion(i) {
                evaluate(f, p, &cases);
            }
        }
        // an amendment of a shipped criterion, on a shipped case
        2 => {
            let [p, c, body @ ..] = rest else {
                return;
            };
            let (Some(parent), Some((case_name, cases))) = (pick(PARENTS, *p), f.case(*c)) else {
                return;
            };
            let body = String::from_utf8_lossy(body);
            let rule =
                format!("criterion \"fuzz-amendment\" extends \"{parent}\" {{\n{body}\n}}\n");
            dump(
                f,
                &format!("mode 2: fuzzed amendment of `{parent}`, shipped case file {case_name}"),
                Some(&rule),
                None,
            );
            if let Some(program) = check(f, rule) {
                evaluate(f, &program, cases);
            }
        }
        // a fuzzed rule file, on a shipped case
        _ => {
            let Some((&c, rule)) = rest.split_first() else {
                return;
            };
            let Some((case_name, cases)) = f.case(c) else {
                return;
            };
            let rule = String::from_utf8_lossy(rule).into_owned();
            dump(
                f,
                &format!("mode 3: fuzzed rule file, shipped case file {case_name}"),
                Some(&rule),
                None,
            );
            if let Some(program) = check(f, rule) {
                evaluate(f, &program, cases);
            }
        }
    }
});
