//! `irano-eval test`: find the cases, run them, compare their snapshots, report.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use irano_check::Diagnostic;

use crate::expect::Mismatch;
use crate::runner::{Problem, Render, Runner};
use crate::snapshot::{self, DiffLine};

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The criterion of the cases that do not name one with `x-rules`.
    pub rules: Option<PathBuf>,
    /// Where parent criteria are found (`--include`).
    pub include: Vec<PathBuf>,
    /// Write the new and changed snapshots of the cases whose expectations hold.
    pub accept: bool,
}

/// How a case came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Every expectation holds and the snapshot matches.
    Ok,
    /// An expectation does not hold (or the evaluation failed).
    Fail,
    /// Every expectation holds; there is no snapshot yet.
    New,
    /// Every expectation holds; the result differs from the snapshot.
    Changed,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Fail => "FAIL",
            Status::New => "new",
            Status::Changed => "changed",
        }
    }
}

/// One case's report.
#[derive(Debug, Clone)]
pub struct CaseReport {
    pub path: PathBuf,
    pub title: Option<String>,
    pub status: Status,
    pub mismatches: Vec<Mismatch>,
    /// The evaluation failed.
    pub error: Option<String>,
    pub snapshot_path: PathBuf,
    /// From the stored snapshot to this run's result (from nothing for a new one); empty
    /// when they are the same.
    pub diff: Vec<DiffLine>,
    /// `--accept` wrote the snapshot.
    pub accepted: bool,
    /// `--accept` could not write it.
    pub write_error: Option<String>,
    /// A snapshot was stored before this run.
    pub stored: bool,
}

/// What the cases of one rule file reached: the rules written in that file (the
/// amendment's own, added or overridden; every rule of a criterion without a parent) and
/// which of them no case made fire.
#[derive(Debug, Clone)]
pub struct Reach {
    /// The rule file, as shown to users.
    pub file: String,
    /// How many rules the file writes.
    pub written: usize,
    /// `(line, table, rule id)` of each written rule no case made fire, in file order.
    pub not_fired: Vec<(usize, String, String)>,
    /// What the file changes other than rules, as phrases in file order (`sets
    /// \`pd_increase\``, `overrides def \`confirmed_by\``): what an amendment without rules of
    /// its own changes.
    pub changes: Vec<String>,
    /// The rule file of the criterion this one extends, as found when it was checked.
    pub parent: Option<String>,
}

/// Everything `irano-eval test` found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Bad input. When any is an error, no case was run and nothing was written.
    pub problems: Vec<Problem>,
    pub cases: Vec<CaseReport>,
    /// Per rule file tested, in the order first met.
    pub reach: Vec<Reach>,
    /// The `--include` folders the run was given, for the commands it suggests.
    pub include: Vec<PathBuf>,
}

impl Report {
    /// 2: bad input; 1: an expectation failed, a snapshot is new or changed (and was not
    /// accepted) or could not be written; 0: all good.
    pub fn exit_code(&self) -> u8 {
        if self.problems.iter().any(Problem::is_error) {
            2
        } else if self.cases.iter().any(|c| {
            c.status == Status::Fail
                || c.write_error.is_some()
                || (matches!(c.status, Status::New | Status::Changed) && !c.accepted)
        }) {
            1
        } else {
            0
        }
    }

    /// One line per case, then what failed or changed in each case that is not `ok`,
    /// then a summary line. `colour`: ANSI colours, for a terminal.
    pub fn render(&self, colour: bool) -> String {
        let paint = |code: &str, s: &str| {
            if colour {
                format!("\x1b[{code}m{s}\x1b[0m")
            } else {
                s.to_string()
            }
        };
        let status_colour = |s: Status| match s {
            Status::Ok => "32",
            Status::Fail => "1;31",
            Status::New | Status::Changed => "33",
        };
        let mut out = String::new();
        if self.problems.iter().any(Problem::is_error) {
            return out;
        }
        for c in &self.cases {
            let word = format!("{:<8}", c.status.word());
            let note = if c.accepted { "  (accepted)" } else { "" };
            let _ = writeln!(
                out,
                "{}{}{note}",
                paint(status_colour(c.status), &word),
                c.path.display()
            );
        }
        for c in self.cases.iter().filter(|c| c.status != Status::Ok) {
            let _ = writeln!(
                out,
                "\n{} {}",
                paint(status_colour(c.status), c.status.word()),
                paint("1", &c.path.display().to_string())
            );
            if let Some(t) = &c.title {
                let _ = writeln!(out, "  {t}");
            }
            if let Some(e) = &c.error {
                let _ = writeln!(out, "  {}", paint("31", e));
            }
            for m in &c.mismatches {
                // an expectation of `x-expect`, or an annotation of its own (`x-exercises`)
                let line = if m.what.starts_with("x-") {
                    m.to_string()
                } else {
                    format!("x-expect {m}")
                };
                let _ = writeln!(out, "  {}", paint("31", &line));
            }
            if let Some(e) = &c.write_error {
                let _ = writeln!(out, "  {}", paint("31", e));
            }
            if !c.diff.is_empty() {
                let what = match (c.status, c.accepted) {
                    (Status::New, false) => "new snapshot (review it, then `--accept`)",
                    (Status::New, true) => "new snapshot, accepted",
                    (Status::Changed, false) => {
                        "snapshot changed (review the diff, then `--accept`)"
                    }
                    (Status::Changed, true) => "snapshot changed, accepted",
                    _ if !c.stored => {
                        "this run's output (no snapshot yet; none is written while an expectation fails)"
                    }
                    _ => "snapshot differs too (not accepted while an expectation fails)",
                };
                let _ = writeln!(out, "  {what}: {}", c.snapshot_path.display());
                for l in &c.diff {
                    let text = l.text();
                    let line = match l {
                        DiffLine::File(_) => paint("1", &text),
                        DiffLine::Hunk(_) => paint("36", &text),
                        DiffLine::Context(_) => text,
                        DiffLine::Removed(_) => paint("31", &text),
                        DiffLine::Added(_) => paint("32", &text),
                    };
                    let _ = writeln!(out, "  {line}");
                }
            }
        }
        for r in &self.reach {
            if r.written == 0 {
                if !r.changes.is_empty() {
                    let _ = writeln!(
                        out,
                        "\n{} writes no rule of its own, but changes the criterion: it {}; `irano-eval diff{} --rules {} --rules {} CASES` lists the cases that depend on it",
                        r.file,
                        r.changes.join(", "),
                        self.include
                            .iter()
                            .map(|d| format!(" --include {}", d.display()))
                            .collect::<String>(),
                        r.parent.as_deref().unwrap_or("PARENT"),
                        r.file
                    );
                }
                continue;
            }
            if r.not_fired.is_empty() {
                let _ = writeln!(
                    out,
                    "\nevery rule written in {} ({}) fired in at least one case",
                    r.file, r.written
                );
                continue;
            }
            let _ = writeln!(
                out,
                "\n{} of the {} rules written in {} fired in no case (a case for each, or a reason it cannot fire):",
                r.not_fired.len(),
                r.written,
                r.file
            );
            for (line, table, rule) in &r.not_fired {
                let _ = writeln!(
                    out,
                    "  {}",
                    paint("33", &format!("line {line:<4} {rule}  (table {table})"))
                );
            }
        }
        let count = |s: Status| self.cases.iter().filter(|c| c.status == s).count();
        let mut summary = format!(
            "{} passed, {} failed",
            count(Status::Ok),
            count(Status::Fail)
        );
        for s in [Status::New, Status::Changed] {
            let n = count(s);
            if n > 0 {
                let accepted = self
                    .cases
                    .iter()
                    .filter(|c| c.status == s && c.accepted)
                    .count();
                let _ = write!(summary, ", {n} {}", s.word());
                if accepted > 0 {
                    let _ = write!(summary, " ({accepted} accepted)");
                }
            }
        }
        let _ = writeln!(out, "\n{}", paint("1", &summary));
        out
    }
}

/// The case files under `paths`: files as given, folders searched recursively for
/// `.yaml`, `.yml` and `.json` files (sorted; `snapshots` folders and hidden folders
/// skipped).
fn case_files(paths: &[PathBuf], problems: &mut Vec<Problem>) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>, problems: &mut Vec<Problem>) {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                problems.push(Problem::Diagnostic(
                    Diagnostic::error(
                        "test::io",
                        format!("cannot read the folder `{}`: {e}", dir.display()),
                    )
                    .help("check that the folder exists and is readable"),
                ));
                return;
            }
        };
        let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for p in entries {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if p.is_dir() {
                if name != snapshot::DIR && !name.starts_with('.') {
                    walk(&p, out, problems);
                }
            } else if matches!(
                p.extension()
                    .and_then(|e| e.to_str())
                    .map(str::to_ascii_lowercase)
                    .as_deref(),
                Some("yaml" | "yml" | "json")
            ) {
                out.push(p);
            } else if matches!(
                p.extension()
                    .and_then(|e| e.to_str())
                    .map(str::to_ascii_lowercase)
                    .as_deref(),
                Some("jsonl" | "ndjson")
            ) {
                problems.push(Problem::Diagnostic(
                    Diagnostic::warning(
                        "test::jsonl_not_tested",
                        format!(
                            "`{}` is JSON Lines, which `irano-eval test` does not read: its cases are not tested",
                            p.display()
                        ),
                    )
                    .help("a tested case is one case per file (`.yaml`, `.yml` or `.json`) with its own `x-expect`; `irano-eval eval` and `diff` read JSON Lines"),
                ));
            }
        }
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let before = out.len();
            walk(p, &mut out, problems);
            if out.len() == before {
                problems.push(Problem::Diagnostic(
                    Diagnostic::error(
                        "test::no_cases",
                        format!("no case files in `{}`", p.display()),
                    )
                    .help("put `.yaml`, `.yml` or `.json` case files (one case each, with `x-expect`) in the folder"),
                ));
            }
        } else {
            out.push(p.clone());
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(p.clone()));
    out
}

/// Runs every case under `paths`; see [`Options`]. Nothing runs, and nothing is
/// written, unless every case reads and every criterion checks. Each snapshot is the
/// case's `x-title` and its table drawn by `render`.
pub fn run(paths: &[PathBuf], options: &Options, render: Render) -> Report {
    let mut report = Report {
        include: options.include.clone(),
        ..Report::default()
    };
    let files = case_files(paths, &mut report.problems);

    // two cases must not share a snapshot (`a.yaml` and `a.json` in one folder)
    let mut by_snapshot: BTreeMap<PathBuf, &PathBuf> = BTreeMap::new();
    for f in &files {
        if let Some(other) = by_snapshot.insert(snapshot::path_for(f), f) {
            report.problems.push(Problem::Diagnostic(
                Diagnostic::error(
                    "test::shared_snapshot",
                    format!(
                        "`{}` and `{}` would share the snapshot `{}`",
                        other.display(),
                        f.display(),
                        snapshot::path_for(f).display()
                    ),
                )
                .help("rename one of the case files"),
            ));
        }
    }

    let mut runner = Runner::new(options.include.clone());
    runner.rules_replace_x_rules = options.rules.is_some();
    let loaded: Vec<_> = files
        .iter()
        .filter_map(|f| runner.load(f, options.rules.as_deref()))
        .collect();
    report.problems.append(&mut runner.problems);
    if let (Some(first), Some(rules)) = (runner.x_rules_replaced.first(), &options.rules) {
        let n = runner.x_rules_replaced.len();
        let cases = format!(
            "{n} case{} (`{}`{})",
            if n == 1 { "" } else { "s" },
            first.display(),
            if n > 1 { ", ..." } else { "" }
        );
        let rules = rules.display();
        let d = if options.accept {
            // a snapshot records the result of the criterion its case names: another
            // criterion's result written over it would lose the reviewed one in silence
            Diagnostic::error(
                "test::accept_with_other_rules",
                format!("`--accept` would write the results of `--rules {rules}` over the snapshots of {cases}, whose `x-rules` names another file"),
            )
            .help("a snapshot holds the result of the criterion its case names: test the variant without `--accept`, or point the cases' `x-rules` at the new file if it is to become their criterion; nothing was written")
        } else {
            Diagnostic::warning(
                "test::x_rules_replaced",
                format!("`--rules {rules}` replaces the rule file named by `x-rules` in {cases}"),
            )
            .help("the cases are tested against the command line's criterion; leave out `--rules` to test each against the file it names")
        };
        report.problems.push(Problem::Diagnostic(d));
    }

    // read every stored snapshot before writing any
    let mut stored = Vec::new();
    for l in &loaded {
        let path = snapshot::path_for(&l.path);
        match snapshot::read(&path) {
            Ok(s) => stored.push(s),
            Err(e) => {
                report.problems.push(Problem::Diagnostic(
                    Diagnostic::error(
                        "test::io",
                        format!("cannot read the snapshot `{}`: {e}", path.display()),
                    )
                    .help("remove it to record it again, or restore it from version control"),
                ));
                stored.push(None);
            }
        }
    }
    if report.problems.iter().any(Problem::is_error) {
        return report;
    }

    // the rules each rule file writes, and those a case made fire
    let mut reach: Vec<(&Path, &irano_check::Program, BTreeSet<String>)> = Vec::new();
    for (l, old) in loaded.iter().zip(stored) {
        let outcome = l.run(render);
        let at = match reach.iter().position(|r| r.0 == l.rules.as_path()) {
            Some(i) => i,
            None => {
                reach.push((l.rules.as_path(), l.program.as_ref(), BTreeSet::new()));
                reach.len() - 1
            }
        };
        if let (Some(result), Some(r)) = (&outcome.result, reach.get_mut(at)) {
            r.2.extend(result.fired_rules().map(|f| f.rule.clone()));
        }
        report
            .problems
            .extend(outcome.warnings.iter().cloned().map(Problem::Diagnostic));
        let snapshot_path = snapshot::path_for(&l.path);
        let new = snapshot::normalize(&outcome.snapshot);
        let shown = snapshot_path
            .strip_prefix(l.path.parent().unwrap_or_else(|| Path::new("")))
            .unwrap_or(&snapshot_path)
            .display()
            .to_string();
        let (same, diff) = match (&old, outcome.error.is_some()) {
            (_, true) => (true, Vec::new()),
            (Some(old), false) if *old == new => (true, Vec::new()),
            (Some(old), false) => (
                false,
                snapshot::diff(old, &new, &format!("{shown} (accepted)"), "this run"),
            ),
            (None, false) => (false, snapshot::diff("", &new, "(no snapshot)", "this run")),
        };
        let status = if !outcome.holds() {
            Status::Fail
        } else if same {
            Status::Ok
        } else if old.is_none() {
            Status::New
        } else {
            Status::Changed
        };
        let mut accepted = false;
        let mut write_error = None;
        if options.accept && matches!(status, Status::New | Status::Changed) {
            match snapshot::write(&snapshot_path, &snapshot::file_text(&l.path, &new)) {
                Ok(()) => accepted = true,
                Err(e) => {
                    write_error = Some(format!(
                        "cannot write the snapshot `{}`: {e}",
                        snapshot_path.display()
                    ))
                }
            }
        }
        report.cases.push(CaseReport {
            path: l.path.clone(),
            title: l.annotations.title.clone(),
            status,
            mismatches: outcome.mismatches,
            error: outcome.error,
            snapshot_path,
            diff,
            accepted,
            write_error,
            stored: old.is_some(),
        });
    }
    // (for a suite: a folder of cases; one case or two say little about the rules never reached)
    if paths.iter().any(|p| p.is_dir()) {
        report.reach = reach
            .into_iter()
            .map(|(path, program, fired)| rules_reached(path, program, &fired))
            .collect();
    }
    report
}

/// The rules `program`'s own file writes (its last source: the amendment, not its
/// parents) and which of them are not in `fired`.
fn rules_reached(path: &Path, program: &irano_check::Program, fired: &BTreeSet<String>) -> Reach {
    let own = program.sources.len().saturating_sub(1);
    let text = program.sources.last().map_or("", |f| f.text.as_str());
    let mut written = 0;
    let mut not_fired = Vec::new();
    for t in program.tables.iter().chain(program.summary_tables.iter()) {
        for r in t.rules.iter().filter(|r| usize::from(r.src.file) == own) {
            written += 1;
            if !fired.contains(&r.id) {
                let line = irano_check::diag::line_col(text, r.src.span.start).0;
                not_fired.push((line, t.name.clone(), r.id.clone()));
            }
        }
    }
    not_fired.sort();
    let mut changes: Vec<String> = program
        .changes
        .iter()
        .filter(|c| c.kind != "rule" && usize::from(c.src.file) == own)
        .map(change_phrase)
        .collect();
    changes.dedup();
    // the parent criterion's file: the one before this file in the chain named by its id
    let parent = program
        .lineage
        .len()
        .checked_sub(2)
        .and_then(|i| program.lineage.get(i))
        .and_then(|id| {
            program.sources.iter().rev().skip(1).find(|f| {
                Path::new(&f.name)
                    .file_stem()
                    .is_some_and(|stem| stem == id.as_str())
            })
        })
        .map(|f| f.name.clone());
    Reach {
        file: path.display().to_string(),
        written,
        not_fired,
        changes,
        parent,
    }
}

/// One change of an amendment as the end of `test`'s report names it: a parameter given a
/// new value is `sets`, one the file declares `declares`; other declarations are `adds`,
/// `overrides` or `removes` with their kind (`overrides def \`confirmed_by\``).
fn change_phrase(c: &irano_check::program::Change) -> String {
    use irano_check::program::ChangeKind;
    let name = if c.name.is_empty() {
        String::new()
    } else {
        format!(" `{}`", c.name)
    };
    match (c.kind.as_str(), c.action) {
        ("param", ChangeKind::Overridden) => format!("sets `{}`", c.name),
        ("param", ChangeKind::Added) => format!("declares param `{}`", c.name),
        (kind, ChangeKind::Added) => format!("adds {kind}{name}"),
        (kind, ChangeKind::Overridden) => format!("overrides {kind}{name}"),
        (kind, ChangeKind::Removed) => format!("removes {kind}{name}"),
    }
}
