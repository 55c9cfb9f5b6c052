//! `irano-eval diff`, `explain` and `compare`: reading rule files and cases and reporting
//! problems exactly as the other commands do. The comparing itself is `irano-compare`'s.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use irano_check::Program;
use irano_compare::diff::Sides;
use irano_compare::{CriterionColumn, Differ};
use irano_evaluate::EvalError;

use crate::render::{load, overrides, x_set_ignored, Output, Warnings, XSetIgnored};

/// Output of `diff` and `compare`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum TableFormat {
    Table,
    Json,
}

/// Output of `explain`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum TextFormat {
    Text,
    Json,
}

/// Reports a case whose evaluation failed (`eval::failed`; `eval`, `diff` and `compare`):
/// the patient and where the case is (`file:line`), the scan, what failed and where in the
/// rule file.
pub(crate) fn eval_failed(out: &mut Output, e: &EvalError, case_at: &irano_cases::Origin) {
    let d = irano_check::Diagnostic::error(
        "eval::failed",
        format!(
            "patient `{}` ({}:{}){}: {} at {}",
            e.patient,
            case_at.file,
            case_at.line,
            e.date.map(|d| format!(", scan of {d}")).unwrap_or_default(),
            e.message,
            e.location
        ),
    )
    .help(e.help)
    // the case's place for programs (`--error-format json`), as warnings about a case give it
    .at_line(&case_at.file, case_at.line);
    out.diagnostic(&d);
}

fn duplicate(out: &mut Output, c: &irano_cases::Case) {
    out.message(
        "case::duplicate_patient",
        format!(
            "{}:{}: patient `{}` appears in two cases",
            c.origin.file, c.origin.line, c.patient
        ),
        "give each case its own `patient` id",
    );
}

/// How a program is named in reports: id, version, file and the parameters changed.
fn describe(p: &Program, file: &Path) -> String {
    let mut s = format!("{} {} ({})", p.id, p.version, file.display());
    let o = irano_evaluate::overrides(p);
    if !o.is_empty() {
        let sets: Vec<String> = o
            .iter()
            .map(|x| format!("{} = {} (default {})", x.name, x.value, x.default))
            .collect();
        s.push_str(" with ");
        s.push_str(&sets.join(", "));
    }
    s
}

fn json_text<T: serde::Serialize>(v: &T) -> Option<String> {
    serde_json::to_string_pretty(v).ok().map(|mut t| {
        t.push('\n');
        t
    })
}

/// A `--set` key (given to both sides) that is a parameter of one side only is reported
/// naming that side and `--set-old`/`--set-new`; the checker alone would say "there is no
/// parameter" of a key the other file has. Returns whether every key is known to both or
/// to neither (the checker reports the latter).
fn one_side_keys_named(
    out: &mut Output,
    old_file: &Path,
    new_file: &Path,
    common: &[irano_check::Override],
) -> bool {
    if common.is_empty() {
        return true;
    }
    let params = |file: &Path| -> Option<HashSet<String>> {
        let checked = irano_check::check_path(file, &out.include, &[]);
        checked
            .program
            .map(|p| p.params.iter().map(|q| q.name.clone()).collect())
    };
    let (Some(old), Some(new)) = (params(old_file), params(new_file)) else {
        // a file that does not check is reported when it is loaded
        return true;
    };
    let mut ok = true;
    for o in common {
        let (side, file, flag, other) = match (old.contains(&o.key), new.contains(&o.key)) {
            (true, false) => ("old", old_file, "--set-old", new_file),
            (false, true) => ("new", new_file, "--set-new", old_file),
            _ => continue,
        };
        out.message(
            "check::bad_override",
            format!(
                "`--set {}` applies to both rule files, but `{}` is a parameter of the {side} one only (`{}`; `{}` has none)",
                o.key,
                o.key,
                file.display(),
                other.display()
            ),
            &format!("to set it on the {side} side only, write `{flag} {}={}`", o.key, o.value),
        );
        ok = false;
    }
    ok
}

/// What `irano-eval diff` was asked.
pub struct DiffRequest<'a> {
    /// The old rule file, then the new one; or one file with `set_old` / `set_new`.
    pub rules: &'a [PathBuf],
    /// Overrides of both sides, of the old side, of the new side.
    pub set: &'a [String],
    pub set_old: &'a [String],
    pub set_new: &'a [String],
    pub cases: &'a [PathBuf],
    pub format: TableFormat,
    /// Also report outputs with the same value decided by another rule.
    pub rule_changes: bool,
    /// Threads evaluating cases (at least 1); the report is the same whatever the number.
    pub jobs: usize,
}

/// `irano-eval diff`: the cohort under the old and the new rules; what changed.
/// Exit 0 when nothing changed, 1 when something did, 2 on bad input.
pub fn diff(out: &mut Output, req: &DiffRequest<'_>) -> u8 {
    let &DiffRequest {
        rules,
        set,
        set_old,
        set_new,
        cases,
        format,
        rule_changes,
        jobs,
    } = req;
    let (old_file, new_file) =
        match rules {
            [one] => (one, one),
            [a, b] => (a, b),
            _ => {
                out.message(
                "cli::diff_rules",
                format!("`diff` compares two rule sets; {} `--rules` given", rules.len()),
                "give `--rules OLD --rules NEW`, or one `--rules` with `--set-old` / `--set-new`",
            );
                return 2;
            }
        };
    if rules.len() == 1 && set_old.is_empty() && set_new.is_empty() {
        out.message(
            "cli::diff_rules",
            "nothing to compare: one `--rules` and no `--set-old` or `--set-new`".to_string(),
            "give `--rules OLD --rules NEW`, or one `--rules` with `--set-old KEY=VALUE` and/or `--set-new KEY=VALUE` (`--set` applies to both sides)",
        );
        return 2;
    }
    let (common, ok_common) = overrides(out, set);
    if old_file != new_file && !one_side_keys_named(out, old_file, new_file, &common) {
        return 2;
    }
    let (old_set, ok_old) = overrides(out, set_old);
    let (new_set, ok_new) = overrides(out, set_new);
    let old_set: Vec<_> = common.iter().cloned().chain(old_set).collect();
    let new_set: Vec<_> = common.into_iter().chain(new_set).collect();
    let old = load(out, old_file, &old_set);
    // the same file: its own mistakes are reported once
    let new = if old.is_none() && old_file == new_file {
        None
    } else {
        load(out, new_file, &new_set)
    };
    let programs = match (old, new) {
        (Some(o), Some(n)) if ok_common && ok_old && ok_new => Some((o, n)),
        _ => None,
    };
    // Cases are read in batches (a JSON Lines file a batch of lines at a time, any other
    // file whole) and each batch evaluated under both programs on every core; only the
    // differences are kept. Nothing is written unless every input read and evaluated: a
    // bad input anywhere means exit 2 and no report.
    let mut run = DiffRun {
        differ: programs
            .as_ref()
            .map(|(o, n)| Differ::new(o, n).with_rule_changes(rule_changes)),
        x_set: XSetIgnored::default(),
        warnings: Warnings::for_output(out),
        bad: programs.is_none(),
        seen: HashSet::new(),
        jobs,
    };
    for path in cases {
        let files = match crate::stream::case_files(out, path) {
            Ok(f) => f,
            Err(errors) => {
                run.bad = true;
                for e in &errors {
                    out.case_error(e);
                }
                continue;
            }
        };
        for (file, format) in files {
            if format == irano_cases::Format::JsonLines {
                run.add_lines(out, &file);
                continue;
            }
            match irano_cases::read_path(&file) {
                Ok(all) => run.add(out, all),
                Err(errors) => {
                    run.bad = true;
                    for e in &errors {
                        out.case_error(e);
                    }
                }
            }
        }
    }
    let DiffRun {
        differ,
        x_set,
        warnings,
        bad,
        ..
    } = run;
    x_set.report(out, "diff", "`--set-old`/`--set-new KEY=VALUE`");
    if !bad {
        warnings.report(out);
    }
    let (Some(d), Some((o, n)), false) = (differ, programs.as_ref(), bad) else {
        return 2;
    };
    let report = d.finish();
    let text = match format {
        TableFormat::Table => Some(report.to_text(&Sides {
            old: &describe(o, old_file),
            new: &describe(n, new_file),
        })),
        TableFormat::Json => json_text(&report),
    };
    let Some(text) = text else { return 1 };
    out.out = text;
    u8::from(report.changed > 0)
}

/// A `diff` being run: cases are added a batch at a time.
struct DiffRun<'p> {
    differ: Option<Differ<'p>>,
    x_set: XSetIgnored,
    warnings: Warnings,
    /// A bad input was seen: the rest is read for its errors, not evaluated.
    bad: bool,
    seen: HashSet<String>,
    jobs: usize,
}

/// Cases of a JSON Lines file held at once by `diff` (memory stays flat whatever the
/// file's size).
const DIFF_BATCH: usize = 4096;

impl DiffRun<'_> {
    /// Checks a batch for patients seen before, then evaluates it under both programs.
    fn add(&mut self, out: &mut Output, cases: Vec<irano_cases::Case>) {
        for c in &cases {
            if !self.seen.insert(c.patient.clone()) {
                duplicate(out, c);
                self.bad = true;
            }
            self.x_set.see(c);
        }
        if self.bad {
            return;
        }
        let Some(d) = self.differ.as_mut() else {
            return;
        };
        if let Err((i, e)) = d.add_all(&cases, self.jobs) {
            match cases.get(i) {
                Some(c) => eval_failed(out, &e, &c.origin),
                None => out.message("eval::failed", e.message.clone(), e.help),
            }
            self.bad = true;
        }
        for w in d.take_warnings() {
            self.warnings.add(w);
        }
    }

    /// A JSON Lines file, read and evaluated [`DIFF_BATCH`] lines at a time.
    fn add_lines(&mut self, out: &mut Output, file: &Path) {
        use std::io::BufRead as _;
        let name = file.display().to_string();
        let reader = match std::fs::File::open(file) {
            Ok(f) => std::io::BufReader::with_capacity(1 << 16, f),
            Err(e) => {
                self.bad = true;
                out.case_error(&irano_cases::CaseError::io_error(&name, &e));
                return;
            }
        };
        let mut batch = Vec::with_capacity(DIFF_BATCH);
        let mut any = false;
        for (k, line) in reader.lines().enumerate() {
            let line = match line {
                Ok(l) => l,
                Err(e) => {
                    self.bad = true;
                    out.case_error(&irano_cases::CaseError::io_error(&name, &e));
                    return;
                }
            };
            match irano_cases::read_json_line(&line, &name, k + 1) {
                Ok(Some(lc)) => {
                    any = true;
                    batch.push(lc.case);
                    if batch.len() == DIFF_BATCH {
                        self.add(out, std::mem::take(&mut batch));
                    }
                }
                Ok(None) => {}
                Err(errors) => {
                    any = true;
                    self.bad = true;
                    for e in &errors {
                        out.case_error(e);
                    }
                }
            }
        }
        if !any {
            self.bad = true;
            out.case_error(&irano_cases::no_case(&name));
        }
        self.add(out, batch);
    }
}

/// `irano-eval explain`: one patient's full derivation, one scan or every scan.
pub fn explain(
    out: &mut Output,
    rules: &Path,
    set: &[String],
    case: &Path,
    patient: Option<&str>,
    date: Option<&str>,
    format: TextFormat,
) -> u8 {
    let (set, set_ok) = overrides(out, set);
    let program = load(out, rules, &set).filter(|_| set_ok);
    let date = match date.map(|d| d.parse::<chrono::NaiveDate>()) {
        Some(Err(_)) => {
            out.message(
                "cli::bad_date",
                format!("`--date {}` is not a date", date.unwrap_or_default()),
                "write the scan date as YYYY-MM-DD",
            );
            return 2;
        }
        Some(Ok(d)) => Some(d),
        None => None,
    };
    let cases = match irano_cases::read_path(case) {
        Ok(cs) => cs,
        Err(errors) => {
            for e in &errors {
                out.case_error(e);
            }
            return 2;
        }
    };
    let Some(program) = program else { return 2 };
    let explained = irano_compare::select(&cases, patient).and_then(|c| {
        if let Some(w) = x_set_ignored(c, "explain", "`--set KEY=VALUE`") {
            out.diagnostic(&w);
        }
        let explained = irano_compare::explain(&program, c, date)?;
        // the warnings `eval` gives about the case (the explanation has evaluated it)
        let mut ev = irano_evaluate::Evaluator::new(&program);
        if let Ok(r) = ev.evaluate(c) {
            for w in irano_evaluate::warnings::for_case(c, &[(&ev, &r)]) {
                out.diagnostic(&w);
            }
        }
        Ok(explained)
    });
    let explained = match explained {
        Ok(x) => x,
        Err(e) => {
            out.message(e.code(), e.message(), &e.help());
            return 2;
        }
    };
    let text = match format {
        TextFormat::Text => Some(explained.to_text()),
        TextFormat::Json => json_text(&explained),
    };
    let Some(text) = text else { return 1 };
    out.out = text;
    0
}

/// `irano-eval compare`: each case under several criteria, side by side.
pub fn compare(out: &mut Output, rules: &[PathBuf], cases: &[PathBuf], format: TableFormat) -> u8 {
    let mut programs = Vec::with_capacity(rules.len());
    let mut ok = true;
    for r in rules {
        match load(out, r, &[]) {
            Some(p) => programs.push(p),
            None => ok = false,
        }
    }
    let mut all = Vec::new();
    for path in cases {
        match irano_cases::read_path(path) {
            Ok(cs) => all.extend(cs),
            Err(errors) => {
                ok = false;
                for e in &errors {
                    out.case_error(e);
                }
            }
        }
    }
    if !ok {
        return 2;
    }
    let mut seen = HashSet::new();
    let mut x_set = XSetIgnored::default();
    for c in &all {
        if !seen.insert(c.patient.clone()) {
            duplicate(out, c);
            ok = false;
        }
        x_set.see(c);
    }
    x_set.report(
        out,
        "compare",
        "an amendment that overrides it (`override param`) as one of the `--rules`",
    );
    if !ok {
        return 2;
    }
    let refs: Vec<&Program> = programs.iter().collect();
    let files: Vec<String> = rules.iter().map(|r| r.display().to_string()).collect();
    let columns = CriterionColumn::of(&refs, &files);
    let mut evaluators: Vec<_> = programs
        .iter()
        .map(irano_evaluate::Evaluator::new)
        .collect();
    let mut compared = Vec::with_capacity(all.len());
    let mut warnings = Warnings::for_output(out);
    let mut case_warnings = Vec::new();
    for c in &all {
        match irano_compare::compare_case(&mut evaluators, &columns, c, &mut case_warnings) {
            Ok(x) => compared.push(x),
            Err(e) => {
                eval_failed(out, &e, &c.origin);
                ok = false;
            }
        }
        for w in case_warnings.drain(..) {
            warnings.add(w);
        }
    }
    if !ok {
        return 2;
    }
    warnings.report(out);
    let text = match format {
        TableFormat::Table => Some(
            compared
                .iter()
                .map(|x| x.to_text(&columns))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        TableFormat::Json => json_text(&serde_json::json!({
            "criteria": columns,
            "patients": compared,
        })),
    };
    let Some(text) = text else { return 1 };
    out.out = text;
    0
}
