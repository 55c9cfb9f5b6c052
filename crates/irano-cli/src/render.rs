//! Running the commands and rendering their results and diagnostics as text.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use irano_check::{Diagnostic, Override, Program};
use irano_evaluate::{CaseResult, ScanRole};
use miette::{GraphicalReportHandler, GraphicalTheme};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Jsonl,
    Csv,
}

/// Everything a command prints, collected before anything is written.
pub struct Output {
    pub out: String,
    pub err: String,
    json_errors: bool,
    handler: GraphicalReportHandler,
    /// Folders where parent criteria are looked up (`--include`).
    pub include: Vec<PathBuf>,
}

impl Output {
    /// `colour`: draw diagnostics in colour (the caller applies `--color` and NO_COLOR).
    pub fn new(json_errors: bool, colour: bool) -> Self {
        let theme = if colour {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        Output {
            out: String::new(),
            err: String::new(),
            json_errors,
            handler: GraphicalReportHandler::new_themed(theme)
                .with_width(100)
                // wrap at spaces only: a date (2024-05-01), a rule id or a file's path is never
                // split (at a hyphen, a slash, or because it is longer than the line)
                .with_word_separator(textwrap::WordSeparator::AsciiSpace)
                .with_word_splitter(textwrap::WordSplitter::NoHyphenation)
                .with_break_words(false),
            include: Vec::new(),
        }
    }

    /// `--error-format json`: diagnostics are for a program, which counts them itself.
    pub(crate) fn json_errors(&self) -> bool {
        self.json_errors
    }

    pub(crate) fn report(
        &mut self,
        d: &dyn miette::Diagnostic,
        file: Option<&str>,
        line: Option<usize>,
        col: Option<usize>,
    ) {
        if self.json_errors {
            let v = serde_json::json!({
                "severity": match d.severity() {
                    Some(miette::Severity::Warning) => "warning",
                    Some(miette::Severity::Advice) => "advice",
                    _ => "error",
                },
                "code": d.code().map(|c| c.to_string()),
                "message": d.to_string(),
                "help": d.help().map(|h| h.to_string()),
                "file": file,
                "line": line,
                "column": col,
            });
            let _ = writeln!(self.err, "{v}");
        } else {
            let mut s = String::new();
            if self.handler.render_report(&mut s, d).is_err() {
                s = format!("error: {d}\n");
            }
            self.err.push_str(&s);
        }
    }

    pub fn diagnostic(&mut self, d: &Diagnostic) {
        let pos = d.position().map(|(f, l, c)| (f.to_string(), l, Some(c)));
        let pos = pos.or_else(|| d.line_at.as_ref().map(|at| (at.0.clone(), at.1, None)));
        let r = d.clone().with_source();
        match pos {
            Some((f, l, c)) => self.report(&r, Some(&f), Some(l), c),
            None => self.report(&r, None, None, None),
        }
    }

    pub(crate) fn case_error(&mut self, e: &irano_cases::CaseError) {
        let file = e.file().to_string();
        // line and column 0: a file that could not be read has no place in it
        let line = Some(e.line()).filter(|&l| l > 0);
        let column = Some(e.column()).filter(|&c| c > 0 && line.is_some());
        self.report(e, Some(&file), line, column);
    }

    pub fn message(&mut self, code: &'static str, msg: String, help: &str) {
        let d = Diagnostic::error(code, msg).help(help);
        self.diagnostic(&d);
    }
}

/// The warning that a case's `x-set` (read by `irano-eval test`) is not applied by
/// `command`, with what to use there instead.
pub(crate) fn x_set_ignored(
    case: &irano_cases::Case,
    command: &str,
    instead: &str,
) -> Option<Diagnostic> {
    x_set_where(case).map(|at| x_set_warning(&at, 0, command, instead))
}

/// `FILE:LINE:COLUMN` of a case's `x-set`, if it has one.
fn x_set_where(case: &irano_cases::Case) -> Option<String> {
    let a = case.annotations.iter().find(|a| a.key == "x-set")?;
    Some(format!("{}:{}:{}", case.origin.file, a.line, a.column))
}

fn x_set_warning(at: &str, others: usize, command: &str, instead: &str) -> Diagnostic {
    let more = match others {
        0 => String::new(),
        1 => " (and in 1 other case)".into(),
        n => format!(" (and in {n} other cases)"),
    };
    Diagnostic::warning(
        "eval::x_set_ignored",
        format!("x-set in {at}{more} is ignored by {command}; use {instead} or irano-eval test"),
    )
    .help(format!(
        "`irano-eval test CASE` applies the case's `x-set`; to change a parameter here, use {instead}"
    ))
}

/// How many warnings of one code a run shows; the rest are counted (memory stays flat
/// whatever the cohort's size).
const MAX_WARNINGS_PER_CODE: usize = 10;

/// The warnings of a run over many cases: the first few of each code, in order, and a
/// count of the rest, so that a cohort's repeated slip is told, not printed a thousand
/// times.
pub(crate) struct Warnings {
    shown: Vec<Diagnostic>,
    /// Warnings not shown, by code, in the order the codes first appeared.
    more: Vec<(&'static str, usize)>,
    /// Every warning is shown (`--max-errors 0`, or JSON diagnostics: a pipeline that
    /// needs the full list).
    all: bool,
    /// How the command shows every one, for the count of those not shown.
    every: &'static str,
}

impl Default for Warnings {
    /// The first few of each code; `--error-format json` lists every one.
    fn default() -> Self {
        Warnings {
            shown: Vec::new(),
            more: Vec::new(),
            all: false,
            every: "`--error-format json` lists every one",
        }
    }
}

impl Warnings {
    /// Warnings that show every one (`all`: `--max-errors 0`), or the first few of each code.
    pub(crate) fn showing_all(all: bool) -> Warnings {
        Warnings {
            all,
            every: "`--max-errors 0` shows every one",
            ..Warnings::default()
        }
    }

    /// For a command without `--max-errors`: every one with JSON diagnostics, else the
    /// first few of each code.
    pub(crate) fn for_output(out: &Output) -> Warnings {
        Warnings {
            all: out.json_errors(),
            ..Warnings::default()
        }
    }

    pub(crate) fn add(&mut self, w: Diagnostic) {
        let shown = self.shown.iter().filter(|x| x.code == w.code).count();
        if self.all || shown < MAX_WARNINGS_PER_CODE {
            self.shown.push(w);
        } else if let Some(m) = self.more.iter_mut().find(|m| m.0 == w.code) {
            m.1 += 1;
        } else {
            self.more.push((w.code, 1));
        }
    }

    pub(crate) fn report(self, out: &mut Output) {
        for w in &self.shown {
            out.diagnostic(w);
        }
        for (code, n) in self.more {
            let d = Diagnostic::warning(
                code,
                format!("{n} more `{code}` warnings in the cases, not shown"),
            )
            .help(format!(
                "the first {MAX_WARNINGS_PER_CODE} are shown above; each case is evaluated as they say; {}",
                self.every
            ));
            out.diagnostic(&d);
        }
    }
}

/// One warning for the cases of a cohort that carry an `x-set` the command does not
/// apply: where the first is, and how many others there are.
#[derive(Default)]
pub(crate) struct XSetIgnored {
    count: usize,
    first: Option<String>,
}

impl XSetIgnored {
    pub(crate) fn see(&mut self, case: &irano_cases::Case) {
        if let Some(at) = x_set_where(case) {
            self.count += 1;
            self.first.get_or_insert(at);
        }
    }

    pub(crate) fn report(self, out: &mut Output, command: &str, instead: &str) {
        if let Some(at) = self.first {
            out.diagnostic(&x_set_warning(&at, self.count - 1, command, instead));
        }
    }
}

/// Reads every `--set`; reports the malformed ones and returns the rest, so that the
/// checker can report unknown keys and bad values in the same run.
pub(crate) fn overrides(out: &mut Output, set: &[String]) -> (Vec<Override>, bool) {
    let mut v = Vec::new();
    let mut ok = true;
    for s in set {
        match Override::parse(s) {
            Ok(o) => {
                // a key given twice: which value was meant is not for the tool to guess
                if let Some(first) = v.iter().find(|x: &&Override| x.key == o.key) {
                    out.diagnostic(
                        &Diagnostic::error(
                            "check::bad_override",
                            format!(
                                "`--set {}` is given twice: `{}` and `{}`",
                                o.key, first.value, o.value
                            ),
                        )
                        .help("give each parameter once"),
                    );
                    ok = false;
                    continue;
                }
                v.push(o);
            }
            Err(d) => {
                out.diagnostic(&d);
                ok = false;
            }
        }
    }
    (v, ok)
}

/// Checks one rule file; reports its diagnostics; returns the program when clean.
pub(crate) fn load(out: &mut Output, rules: &Path, set: &[Override]) -> Option<Program> {
    let checked = irano_check::check_path(rules, &out.include, set);
    for d in &checked.diagnostics {
        out.diagnostic(d);
    }
    if let (Some(id), None) = (&checked.overlay, &checked.program) {
        out.message(
            "check::overlay_alone",
            format!("`{}` is the overlay `{id}`, not a criterion", rules.display()),
            "evaluate a criterion that applies it: `criterion \"...\" extends \"BASE\" with \"OVERLAY\"`",
        );
    }
    checked.program
}

pub fn check(out: &mut Output, rules: &[PathBuf], set: &[String]) -> u8 {
    let (set, set_ok) = overrides(out, set);
    let mut failed = usize::from(!set_ok);
    // a folder stands for the `.rano` files under it, as for `fmt`
    let mut files = Vec::new();
    if let Err(e) = crate::fmt::rule_files(rules, &mut files) {
        let _ = writeln!(out.err, "error: cannot read {e}");
        return 2;
    }
    if files.is_empty() {
        out.message(
            "check::io",
            "no `.rano` rule file under the folders named".into(),
            "name rule files, or a folder that holds some",
        );
        return 2;
    }
    for r in &files {
        let checked = irano_check::check_path(r, &out.include, &set);
        for d in &checked.diagnostics {
            out.diagnostic(d);
        }
        if let (Some(id), false) = (
            &checked.overlay,
            checked.diagnostics.iter().any(|d| d.is_error()),
        ) {
            let _ = writeln!(
                out.out,
                "ok   {}  (overlay {id}: checked as part of the criteria that apply it)",
                r.display()
            );
            continue;
        }
        match checked.program {
            Some(p) => {
                if p.version.is_empty() {
                    // every result names the version that decided it (`criterion.version`)
                    out.diagnostic(
                        &irano_check::Diagnostic::warning(
                            "check::no_version",
                            format!(
                                "`{}`: criterion `{}` has no `version`, so its results carry an empty one",
                                r.display(),
                                p.id
                            ),
                        )
                        .help("add `version \"...\"` after the criterion's opening brace (an amendment does not inherit its base's version): results, CSV and SDTM exports record it, so that each result says which version of the rules decided it"),
                    );
                }
                let _ = writeln!(
                    out.out,
                    "ok   {}  ({} {}, {} parameters, {} rules)",
                    r.display(),
                    p.id,
                    if p.version.is_empty() {
                        "(no version)"
                    } else {
                        p.version.as_str()
                    },
                    p.params.len(),
                    p.tables
                        .iter()
                        .chain(p.summary_tables.iter())
                        .map(|t| t.rules.len())
                        .sum::<usize>()
                );
            }
            None => {
                failed += 1;
                let _ = writeln!(out.out, "FAIL {}", r.display());
            }
        }
    }
    if failed > 0 {
        2
    } else {
        0
    }
}

/// `irano-eval show RULES`: the criterion map (see `show.rs`).
pub fn show(out: &mut Output, rules: &Path, json: bool) -> u8 {
    let Some(p) = load(out, rules, &[]) else {
        return 2;
    };
    if json {
        let v = crate::show::map_json(&p);
        let _ = writeln!(
            out.out,
            "{}",
            serde_json::to_string_pretty(&v).unwrap_or_default()
        );
    } else {
        out.out.push_str(&crate::show::map_text(&p));
    }
    0
}

/// `id version — title`, the first line of `params` and `show` (no dash without a title).
pub(crate) fn heading(p: &Program) -> String {
    if p.title.is_empty() {
        format!("{} {}", p.id, p.version)
    } else {
        format!("{} {} — {}", p.id, p.version, p.title)
    }
}

pub fn params(out: &mut Output, rules: &Path) -> u8 {
    let Some(p) = load(out, rules, &[]) else {
        return 2;
    };
    let _ = writeln!(out.out, "{}", heading(&p));
    if p.lineage.len() > 1 {
        let _ = writeln!(out.out, "extends: {}", p.lineage.join(" -> "));
    }
    for x in &p.params {
        let range = match p.range_text(x) {
            Some((lo, hi)) => format!("\n    range: {lo} to {hi}"),
            None => String::new(),
        };
        // a parameter without a `doc` line has none here (not an empty one)
        let doc = if x.doc.trim().is_empty() {
            String::new()
        } else {
            format!("\n    {}", x.doc)
        };
        // what reads it, and where a later file than the one declaring it wrote the reader
        // (its description may then no longer say what the parameter does)
        let readers: Vec<String> = p
            .param_readers(&x.name)
            .into_iter()
            .map(|(what, at)| match p.lineage.get(usize::from(at.file)) {
                Some(by) if at.file > x.src.file => format!("{what} (written in {by})"),
                _ => what,
            })
            .collect();
        let read_by = if readers.is_empty() {
            String::new()
        } else {
            format!("\n    read by: {}", readers.join(", "))
        };
        let _ = writeln!(
            out.out,
            "\n{} : {} = {}    (from {}){doc}{range}\n    source: {}{read_by}",
            x.name,
            x.type_text,
            p.param_text(x, x.default),
            x.declared_in,
            x.cite
        );
    }
    for g in &p.param_groups {
        let doc = if g.doc.trim().is_empty() {
            format!("\n    `--set {}=V1,...` sets each in this order", g.name)
        } else {
            format!("\n    {}", g.doc)
        };
        let _ = writeln!(
            out.out,
            "\n{}    (group, from {}){doc}\n    source: {}",
            p.param_group_text(g),
            g.declared_in,
            g.cite
        );
    }
    0
}

/// A readable table: one line per scan, then the summary.
pub fn table(s: &mut String, r: &CaseResult) {
    let _ = writeln!(
        s,
        "patient {}  ·  {} {}",
        r.patient, r.criterion.id, r.criterion.version
    );
    if let Some(l) = &r.lesions {
        let _ = writeln!(
            s,
            "targets: {}  ·  non-targets: {}",
            if l.targets.is_empty() {
                "none".to_string()
            } else {
                l.targets.join(", ")
            },
            if l.non_targets.is_empty() {
                "none".to_string()
            } else {
                l.non_targets.join(", ")
            }
        );
    }
    let names: Vec<String> = r
        .assessments
        .iter()
        .find(|a| !a.values.is_empty())
        .map(|a| a.values.iter().map(|v| v.name.clone()).collect())
        .unwrap_or_default();
    let mut rows: Vec<Vec<String>> = Vec::new();
    // criteria without treatment guidance decide nothing per scan: no decision column
    let decisions = r.assessments.iter().any(|a| a.decision.is_some());
    let mut head = vec!["date".to_string(), "day".into(), "role".into()];
    head.extend(names.iter().cloned());
    head.push("response".into());
    if decisions {
        head.push("decision".into());
    }
    head.push("rule".into());
    rows.push(head);
    for a in &r.assessments {
        let mut row = vec![
            a.date.to_string(),
            a.day.to_string(),
            match a.role {
                ScanRole::PreBaseline => "pre-baseline",
                ScanRole::Baseline => "baseline",
                ScanRole::Followup => "follow-up",
                ScanRole::NotGraded => "not graded",
            }
            .to_string(),
        ];
        for n in &names {
            let v = a
                .values
                .iter()
                .find(|v| &v.name == n)
                .and_then(|v| v.value.clone())
                .unwrap_or_else(|| "-".into());
            row.push(v);
        }
        row.push(a.response_shown().unwrap_or("-").to_string());
        if decisions {
            row.push(a.decision.clone().unwrap_or_else(|| "-".into()));
        }
        row.push(match (&a.rule, &a.reason) {
            (Some(rule), _) => match &a.because {
                Some(b) => format!("{rule} — {b}"),
                None => rule.clone(),
            },
            (None, Some(reason)) if a.role != ScanRole::Baseline => reason.clone(),
            _ => String::new(),
        });
        rows.push(row);
    }
    // no rule and no reason on any scan (`--trace none`): no empty `rule` column
    if rows
        .iter()
        .skip(1)
        .all(|r| r.last().is_none_or(String::is_empty))
    {
        for r in &mut rows {
            r.pop();
        }
    }
    let cols = rows.first().map(Vec::len).unwrap_or(0);
    let mut widths = vec![0usize; cols];
    for row in &rows {
        for (i, c) in row.iter().enumerate().take(cols.saturating_sub(1)) {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    for row in &rows {
        let mut line = String::new();
        for (i, c) in row.iter().enumerate() {
            let w = widths.get(i).copied().unwrap_or(0);
            if i + 1 == row.len() {
                line.push_str(c);
            } else if i == 1 {
                let _ = write!(line, "{c:>w$}  ");
            } else {
                let _ = write!(line, "{c:<w$}  ");
            }
        }
        let _ = writeln!(s, "{}", line.trim_end());
    }
    for a in &r.assessments {
        if let (Some(rule), Some(ex)) = (&a.rule, &a.explain) {
            let _ = writeln!(s, "  {} {}: {}", a.date, rule, ex);
        }
        for f in a.fired.iter().filter(|f| Some(&f.rule) != a.rule.as_ref()) {
            let _ = writeln!(s, "  {} {}: {}", a.date, f.rule, f.explain);
        }
    }
    let dash =
        |d: &Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_else(|| "-".into());
    let rule_of = |what: &str| {
        r.summary
            .iter()
            .find(|f| f.set.iter().any(|s| s.starts_with(what)))
            .map(|f| format!("  ({})", f.rule))
            .unwrap_or_default()
    };
    let _ = writeln!(
        s,
        "best overall response: {}{}",
        r.best_overall_response_shown().unwrap_or("-"),
        rule_of("best_overall_response")
    );
    // the rule that dated the progression, on its scan, and where the date came from when
    // it is not plainly that scan's (a back-dated progression says which date it took)
    let dated_by = r
        .assessments
        .iter()
        .rev()
        .find_map(|a| {
            a.fired.iter().rev().find_map(|f| {
                let how = f
                    .set
                    .iter()
                    .find(|x| x.starts_with("pd_date = ") && !x.ends_with(" (unchanged)"))?;
                Some(if r.pd_date == Some(a.date) {
                    format!("  ({})", f.rule)
                } else if r.pd_confirmed_on == Some(a.date) {
                    // the footer names that scan's date already
                    format!("  ({}: {how})", f.rule)
                } else {
                    format!("  ({} on {}: {how})", f.rule, a.date)
                })
            })
        })
        .filter(|_| r.pd_date.is_some())
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "progression date: {}{dated_by}  ·  confirmed on: {}",
        dash(&r.pd_date),
        dash(&r.pd_confirmed_on)
    );
    let _ = writeln!(
        s,
        "final decision: {}{}",
        r.final_decision.as_deref().unwrap_or("-"),
        rule_of("final_decision")
    );
    for o in &r.overrides {
        let _ = writeln!(
            s,
            "parameter {} = {} (default {})",
            o.name, o.value, o.default
        );
    }
}
