//! Loading a tested case (its annotations, its criterion) and running it.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use irano_cases::{Case, CaseError, Format};
use irano_check::diag::{backticked, closest, SourceText};
use irano_check::{Diagnostic, Override, Program};
use irano_evaluate::CaseResult;
use irano_syntax::ast::Span;

use crate::annotations::{self, Annotations, Expect};
use crate::expect::{self, Mismatch};

/// Renders a result as the table a user sees (`irano_cli::render::table`); the snapshot
/// of a case is its title and this table.
pub type Render = fn(&mut String, &CaseResult);

/// A problem with the input: a case that does not read, an annotation that is wrong, a
/// rule file that does not check (its warnings too).
#[derive(Debug, Clone)]
pub enum Problem {
    Case(CaseError),
    Diagnostic(Diagnostic),
}

impl Problem {
    pub fn is_error(&self) -> bool {
        match self {
            Problem::Case(_) => true,
            Problem::Diagnostic(d) => d.is_error(),
        }
    }

    /// `file:line:column: message (help)`, for a test's failure message.
    pub fn message(&self) -> String {
        match self {
            Problem::Case(e) => format!(
                "{}:{}:{}: {} ({})",
                e.file(),
                e.line(),
                e.column(),
                e.message(),
                e.help()
            ),
            Problem::Diagnostic(d) => {
                let at = d
                    .position()
                    .map(|(f, l, c)| format!("{f}:{l}:{c}: "))
                    .unwrap_or_default();
                let help = d
                    .help
                    .as_ref()
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default();
                format!("{at}{}{help}", d.message)
            }
        }
    }
}

/// A case ready to run: read, annotated, with its checked criterion.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub path: PathBuf,
    pub case: Case,
    pub annotations: Annotations,
    pub expect: Expect,
    /// The rule file of its criterion.
    pub rules: PathBuf,
    pub program: Arc<Program>,
}

/// What running a case gave.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub result: Option<CaseResult>,
    /// The evaluation failed (the rule file computed something impossible for the case).
    pub error: Option<String>,
    /// The expectations that do not hold.
    pub mismatches: Vec<Mismatch>,
    /// The title and the table: what the snapshot holds. Empty when evaluation failed.
    pub snapshot: String,
    /// What `eval` warns of on this case (fields the criterion never read, lengths that look
    /// like cm, ...), the same warnings.
    pub warnings: Vec<Diagnostic>,
}

impl Outcome {
    /// Every expectation holds.
    pub fn holds(&self) -> bool {
        self.error.is_none() && self.mismatches.is_empty()
    }
}

impl Loaded {
    /// Evaluates the case and checks its expectations.
    pub fn run(&self, render: Render) -> Outcome {
        let mut ev = irano_evaluate::Evaluator::new(&self.program);
        let mut warnings = irano_evaluate::warnings::input(&self.case);
        match ev.evaluate(&self.case) {
            Ok(result) => {
                warnings.extend(irano_evaluate::warnings::after_evaluation(
                    &ev, &self.case, &result,
                ));
                let mut mismatches = expect::check(&self.expect, &result);
                mismatches.extend(expect::not_exercised(&self.annotations.exercises, &result));
                // the criterion's own warnings that held (`warn ID when ...`)
                let fired: Vec<&str> = ev
                    .warnings_fired()
                    .iter()
                    .filter_map(|(i, _)| self.program.warnings.get(*i as usize))
                    .map(|w| w.id.as_str())
                    .collect();
                if let Some(want) = &self.expect.warnings {
                    let mut want: Vec<&str> = want.iter().map(String::as_str).collect();
                    let mut got = fired.clone();
                    want.sort_unstable();
                    got.sort_unstable();
                    if want != got {
                        mismatches.push(Mismatch {
                            what: "warnings".to_string(),
                            expected: format!("[{}]", want.join(", ")),
                            got: format!("[{}]", got.join(", ")),
                            decided_by: None,
                        });
                    }
                }
                let mut table = String::new();
                render(&mut table, &result);
                if !fired.is_empty() {
                    // a warning the criterion gives is part of what a reviewer reads
                    table.push_str(&format!("warnings: {}\n", fired.join(", ")));
                }
                let snapshot = match &self.annotations.title {
                    Some(t) => format!("{t}\n\n{table}"),
                    None => table,
                };
                Outcome {
                    result: Some(result),
                    error: None,
                    mismatches,
                    snapshot,
                    warnings,
                }
            }
            Err(e) => Outcome {
                result: None,
                error: Some(format!(
                    "evaluation failed{}: {} at {}",
                    e.date
                        .map(|d| format!(" on the scan of {d}"))
                        .unwrap_or_default(),
                    e.message,
                    e.location
                )),
                mismatches: Vec::new(),
                snapshot: String::new(),
                warnings,
            },
        }
    }
}

/// Loads cases, checking each criterion (and parameter set) once.
pub struct Runner {
    include: Vec<PathBuf>,
    /// Checked programs by rule file and overrides; `None`: it did not check (reported).
    programs: HashMap<String, Option<Arc<Program>>>,
    /// Every problem found so far, in the order found.
    pub problems: Vec<Problem>,
    /// The criterion given on the command line (`--rules`) replaces the one a case names
    /// with `x-rules`, as `--set` replaces a default: a variant of an amendment is tested
    /// against the cases written for it.
    pub rules_replace_x_rules: bool,
    /// The cases whose `x-rules` was replaced, to say so.
    pub x_rules_replaced: Vec<PathBuf>,
}

/// One case file's name and text, for locating diagnostics in it.
struct Source {
    file: Arc<SourceText>,
}

impl Source {
    fn text(&self) -> &str {
        &self.file.text
    }

    fn at(&self, d: Diagnostic, span: std::ops::Range<usize>) -> Diagnostic {
        d.at(&self.file, Span::new(span.start, span.end))
    }

    /// A span of one character at a 1-based line and column.
    fn at_line_col(&self, d: Diagnostic, line: usize, col: usize) -> Diagnostic {
        let start = offset_of(self.text(), line, col);
        let end = self
            .text()
            .get(start..)
            .and_then(|s| s.chars().next())
            .map_or(start, |c| start + c.len_utf8());
        self.at(d, start..end)
    }
}

/// The byte offset of a 1-based line and column (in characters), clamped to the text.
fn offset_of(text: &str, line: usize, col: usize) -> usize {
    let mut start = 0usize;
    for _ in 1..line {
        match text.get(start..).and_then(|rest| rest.find('\n')) {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let rest = text.get(start..).unwrap_or_default();
    let line_len = rest.find('\n').unwrap_or(rest.len());
    let within = rest
        .char_indices()
        .nth(col.saturating_sub(1))
        .map_or(line_len, |(i, _)| i.min(line_len));
    start + within
}

/// `a/b/../c` -> `a/c`, without touching the file system (for the names shown).
fn tidy(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                let last_is_normal =
                    matches!(out.components().next_back(), Some(Component::Normal(_)));
                if last_is_normal {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Whether two paths name the same file (compared as written when one cannot be resolved).
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => tidy(a) == tidy(b),
    }
}

impl Runner {
    /// The `irano-eval show` command for `rules`, with the `--include` folders of this run
    /// (without them a parent criterion may not be found).
    fn show_command(&self, rules: &Path) -> String {
        let mut c = String::from("irano-eval show");
        for dir in &self.include {
            c.push_str(" --include ");
            c.push_str(&dir.display().to_string());
        }
        c.push(' ');
        c.push_str(&rules.display().to_string());
        c
    }

    /// `include`: where parent criteria are found (`--include`).
    pub fn new(include: Vec<PathBuf>) -> Self {
        Runner {
            include,
            programs: HashMap::new(),
            problems: Vec::new(),
            rules_replace_x_rules: false,
            x_rules_replaced: Vec::new(),
        }
    }

    fn problem(&mut self, d: Diagnostic) {
        self.problems.push(Problem::Diagnostic(d));
    }

    /// Reads the case at `path` and its annotations and checks its criterion: the rule
    /// file its `x-rules` names (relative to the case file), else `default_rules` (which
    /// wins when [`Runner::rules_replace_x_rules`] is set).
    /// `None` when something is wrong; the problems are added to [`Runner::problems`].
    pub fn load(&mut self, path: &Path, default_rules: Option<&Path>) -> Option<Loaded> {
        let name = path.display().to_string();
        let text = match std::fs::read(path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(t) => t,
                Err(_) => {
                    self.problem(
                        Diagnostic::error("test::io", format!("`{name}` is not UTF-8 text"))
                            .help("save the case file as UTF-8"),
                    );
                    return None;
                }
            },
            Err(_) if name == "-" => {
                self.problem(
                    Diagnostic::error(
                        "test::io",
                        "`-` (standard input) is read by `eval` only, not by this command",
                    )
                    .help("give a case file (.yaml, .yml, .json) or a folder of them"),
                );
                return None;
            }
            Err(e) => {
                let reason = irano_check::diag::io_reason(&e);
                self.problem(
                    Diagnostic::error("test::io", format!("cannot read `{name}`: {reason}"))
                        .help("give a case file (.yaml, .yml, .json) or a folder of them"),
                );
                return None;
            }
        };
        let json = match Format::from_path(path) {
            Some(Format::Yaml) => false,
            Some(Format::Json) => true,
            _ => {
                self.problem(
                    Diagnostic::error(
                        "test::not_a_case_file",
                        format!("`{name}` is not a case file for `irano-eval test`"),
                    )
                    .help("a tested case is one case per file: `.yaml`, `.yml` or `.json`"),
                );
                return None;
            }
        };
        let format = if json { Format::Json } else { Format::Yaml };
        let src = Source {
            file: Arc::new(SourceText {
                name: name.clone(),
                text: text.clone(),
            }),
        };

        let mut cases = match irano_cases::read_str(&text, &name, format) {
            Ok(cases) => cases,
            Err(errors) => {
                self.problems.extend(errors.into_iter().map(Problem::Case));
                return None;
            }
        };
        if cases.len() != 1 {
            let line = cases.get(1).map_or(1, |c| c.origin.line);
            let d = Diagnostic::error(
                "test::one_case_per_file",
                format!("`{name}` holds {} cases", cases.len()),
            )
            .label("second case")
            .help(
                "`irano-eval test` reads one case per file, with its own `x-expect` and snapshot",
            );
            let d = src.at_line_col(d, line, 1);
            self.problem(d);
            return None;
        }
        let case = cases.pop()?;

        // every x- key is one this tool knows
        let before = self.problems.len();
        let known: Vec<&str> = annotations::key_names().collect();
        for a in &case.annotations {
            if !known.contains(&a.key.as_str()) {
                let help = match closest(&a.key, known.iter().copied()) {
                    Some(c) => format!("did you mean `{c}`? "),
                    None => String::new(),
                };
                let d = Diagnostic::error(
                    "test::unknown_annotation",
                    format!("unknown annotation `{}`", a.key),
                )
                .label("unknown x- key")
                .help(format!(
                    "{help}a tested case may hold {}; write other remarks under `x-note`",
                    backticked(known.iter(), ", ")
                ));
                let d = src.at(d, a.span.clone());
                self.problem(d);
            }
        }
        let key = |k: &str| case.annotations.iter().find(|a| a.key == k);
        let case_start = offset_of(src.text(), case.origin.line, 1);
        // (a misspelt `x-expect` is reported once, as the unknown key)
        if key("x-expect").is_none() && self.problems.len() == before {
            let d = Diagnostic::error(
                "test::no_expectation",
                format!("`{name}` has no `x-expect`"),
            )
            .label("this case")
            .help("write the outcome derived by hand, e.g. `x-expect: {responses: [null, SD], best_overall_response: SD}`");
            let d = src.at(d, case_start..case_start);
            self.problem(d);
        }
        // with `x-expect` there, an unknown key does not stop the reading: the mistakes in
        // the expectation are reported with it, not one run at a time
        let bad_key = self.problems.len() > before;
        if bad_key && key("x-expect").is_none() {
            return None;
        }

        let notes = match annotations::read(&text, json) {
            Ok(n) => n,
            Err(e) => {
                // a misspelt field of `x-expect` (`response:`): the field meant, first
                let meant = e
                    .message
                    .strip_prefix("unknown field `")
                    .and_then(|rest| rest.split('`').next())
                    .and_then(|field| closest(field, annotations::EXPECT_FIELDS.iter().copied()));
                let mut help = meant
                    .map(|m| format!("did you mean `{m}`? "))
                    .unwrap_or_default();
                help.push_str("`x-expect` may give `responses`, `decisions`, `rules` (lists with one entry per scan, `null` for none), `best_overall_response`, `pd_date`, `pd_confirmed_on`, `final_decision`, `warnings` (the ids of the criterion's warnings that hold); `x-title` and `x-rules` are text, `x-set` and `x-exercises` lists of text");
                let d = Diagnostic::error(
                    "test::bad_annotation",
                    format!("cannot read the `x-` annotations: {}", e.message),
                )
                .help(help);
                let d = match e.at {
                    Some((line, col)) => src.at_line_col(d, line, col),
                    None => d,
                };
                self.problem(d);
                return None;
            }
        };
        let span_of = |k: &str| {
            key(k)
                .map(|a| a.span.clone())
                .unwrap_or(case_start..case_start)
        };
        // a field of `x-expect` (and a value in it), where the text gives it; else the key
        let expect_span = |field: &str, value: &str| {
            let whole = span_of("x-expect");
            expect_field_span(&text, whole.start, field, value).unwrap_or(whole)
        };
        let expect = notes.expect.clone().unwrap_or_default();
        if expect.is_empty() {
            let d = Diagnostic::error("test::empty_expectation", "`x-expect` checks nothing")
                .label("empty")
                .help("give at least one of `responses`, `decisions`, `rules`, `best_overall_response`, `pd_date`, `pd_confirmed_on`, `final_decision`, `warnings`");
            let d = src.at(d, span_of("x-expect"));
            self.problem(d);
            return None;
        }
        // a list of per-scan expectations with one entry per scan: another length is a
        // typo in the expectation, not a change of the criterion
        let scans = case.assessments.len();
        let mut bad_length = false;
        for (field, list) in [
            ("responses", &expect.responses),
            ("decisions", &expect.decisions),
            ("rules", &expect.rules),
        ] {
            if let Some(list) = list {
                if list.len() != scans {
                    let diag = Diagnostic::error(
                        "test::bad_annotation",
                        format!(
                            "`x-expect` gives {} `{field}` for the case's {scans} scans",
                            list.len()
                        ),
                    )
                    .help("give one entry per scan, in the case's order, `null` where a scan has none (the baseline, a scan not graded)");
                    let diag = src.at(diag, expect_span(field, ""));
                    self.problem(diag);
                    bad_length = true;
                }
            }
        }
        // a bad date (and a list of the wrong length) is reported with the names below, not
        // alone
        let mut bad_date = false;
        for (field, v) in [
            ("pd_date", &expect.pd_date),
            ("pd_confirmed_on", &expect.pd_confirmed_on),
        ] {
            if let Some(Some(d)) = v {
                // as the result writes dates: a date chrono reads but writes otherwise
                // (`2024-3-4`) would never equal the result's text
                let same = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .is_ok_and(|x| x.to_string() == *d);
                if !same {
                    let diag = Diagnostic::error(
                        "test::bad_annotation",
                        format!("`x-expect` gives `{field}: {d}`, which is not a date"),
                    )
                    .help("write dates as YYYY-MM-DD with two-digit month and day (2024-03-04), or `null` for none");
                    let diag = src.at(diag, expect_span(field, d));
                    self.problem(diag);
                    bad_date = true;
                }
            }
        }

        // the criterion
        let rules = match (&notes.rules, default_rules) {
            (Some(rel), Some(r)) if self.rules_replace_x_rules => {
                // warned only when the case named another file than `--rules`
                let named = tidy(&path.parent().unwrap_or_else(|| Path::new("")).join(rel));
                if !same_file(&named, r) {
                    self.x_rules_replaced.push(path.to_path_buf());
                }
                r.to_path_buf()
            }
            (Some(rel), _) => tidy(&path.parent().unwrap_or_else(|| Path::new("")).join(rel)),
            (None, Some(r)) => r.to_path_buf(),
            (None, None) => {
                let d = Diagnostic::error(
                    "test::no_rules",
                    format!("`{name}` names no criterion"),
                )
                .label("this case")
                .help("give `--rules FILE`, or name the rule file in the case: `x-rules: my-amendment.rano` (relative to the case file)");
                let d = src.at(d, case_start..case_start);
                self.problem(d);
                return None;
            }
        };
        // a value of a top-level annotation list (`x-set`, `x-exercises`), where the text
        // gives it; else the key
        let value_span = |k: &str, value: &str| {
            let whole = span_of(k);
            expect_field_span(&text, whole.start, k, value).unwrap_or(whole)
        };
        let mut overrides = Vec::new();
        for s in &notes.set {
            match Override::parse(s) {
                Ok(o) => overrides.push(o.from_case()),
                Err(d) => {
                    let d = src.at(*d, value_span("x-set", s));
                    self.problem(d);
                }
            }
        }
        let mut bad_set = overrides.len() != notes.set.len();
        let xrules = key("x-rules").map(|a| a.span.clone());
        // a problem of the overrides is shown at the one override when there is one
        let xset = match notes.set.as_slice() {
            [one] => value_span("x-set", one),
            _ => span_of("x-set"),
        };
        // the criterion alone, then with the case's overrides: what fails only with them
        // is the case's `x-set`, and is shown there. The names the case gives are checked
        // against the criterion alone when its `x-set` is wrong, so that every mistake of
        // the case is reported in one run.
        let base = self.program(&rules, &[], &src, xrules.clone(), None)?;
        let program = if overrides.is_empty() || bad_set {
            base
        } else {
            match self.program(&rules, &overrides, &src, xrules, Some(xset)) {
                Some(p) => p,
                None => {
                    bad_set = true;
                    base
                }
            }
        };

        // x-exercises names rules of the criterion; x-expect labels, decisions and rules
        let ids: Vec<&str> = program
            .tables
            .iter()
            .chain(program.summary_tables.iter())
            .flat_map(|t| t.rules.iter().map(|r| r.id.as_str()))
            .collect();
        // a scan's expected rule is one of the per-scan tables' (a summary rule such as
        // `bor.sd` decides no scan, so it is no suggestion for one)
        let scan_ids: Vec<&str> = program
            .tables
            .iter()
            .flat_map(|t| t.rules.iter().map(|r| r.id.as_str()))
            .collect();
        let labels = program.label_names();
        let decisions = program.decision_names();
        // (annotation, what it names there, the name, the names it may be)
        let mut named: Vec<(&str, &str, &str, &[&str])> = notes
            .exercises
            .iter()
            .map(|r| ("x-exercises", "", r.as_str(), ids.as_slice()))
            .collect();
        for (field, list, known) in [
            ("responses", &expect.responses, &labels),
            ("decisions", &expect.decisions, &decisions),
            ("rules", &expect.rules, &scan_ids),
        ] {
            for v in list.iter().flatten().flatten() {
                named.push(("x-expect", field, v.as_str(), known.as_slice()));
            }
        }
        let warns: Vec<&str> = program.warnings.iter().map(|w| w.id.as_str()).collect();
        for v in expect.warnings.iter().flatten() {
            named.push(("x-expect", "warnings", v.as_str(), warns.as_slice()));
        }
        for (field, v, known) in [
            (
                "best_overall_response",
                &expect.best_overall_response,
                &labels,
            ),
            ("final_decision", &expect.final_decision, &decisions),
        ] {
            if let Some(Some(v)) = v {
                named.push(("x-expect", field, v.as_str(), known.as_slice()));
            }
        }
        let mut unknown = bad_date || bad_length || bad_key || bad_set;
        for (key, field, v, known) in named {
            if known.contains(&v) {
                continue;
            }
            let what = match field {
                "" => "rule",
                "rules" => "rule deciding a scan",
                "warnings" => "warning",
                "decisions" | "final_decision" => "decision",
                _ => "label",
            };
            let help = match closest(v, known.iter().copied()) {
                _ if field == "rules" && ids.contains(&v) => format!(
                    "`{v}` decides the summary (best overall response, progression date or final decision), not a scan; "
                ),
                Some(c) => format!("did you mean `{c}`? "),
                None => String::new(),
            };
            let (code, names) = if field.is_empty() {
                ("test::unknown_rule", format!("`{key}` names"))
            } else {
                ("test::unknown_value", format!("`{key}` {field} names"))
            };
            let d = Diagnostic::error(
                code,
                format!("{names} `{v}`, which is not a {what} of `{}`", program.id),
            )
            .help(if what.starts_with("rule") {
                format!(
                    "{help}`{}` lists the criterion's rules",
                    self.show_command(&rules)
                )
            } else {
                format!(
                    "{help}the {what}s of `{}` are {}",
                    program.id,
                    backticked(known.iter(), ", ")
                )
            });
            let at = if key == "x-expect" {
                expect_span(field, v)
            } else {
                value_span(key, v)
            };
            let d = src.at(d, at);
            self.problem(d);
            unknown = true;
        }
        // a decision expected on a scan of a criterion that decides nothing per scan could
        // never be met: a mistake in the expectation, not a failure of the criterion
        let decides_per_scan = program
            .tables
            .iter()
            .flat_map(|t| t.rules.iter())
            .flat_map(|r| r.assigns.iter())
            .any(|a| a.target == irano_check::program::Target::Decision);
        let expected_decision = expect.decisions.iter().flatten().flatten().next();
        if let (false, Some(v)) = (decides_per_scan, expected_decision) {
            let d = Diagnostic::error(
                "test::no_scan_decisions",
                format!(
                    "`x-expect` decisions expects `{v}` on a scan, but `{}` decides nothing per scan (no rule of its scan tables sets `decision`)",
                    program.id
                ),
            )
            .help("leave out `decisions` (or give `null` for every scan); a decision for the whole case is checked with `final_decision`");
            let d = src.at(d, expect_span("decisions", v));
            self.problem(d);
            unknown = true;
        }
        if unknown {
            return None;
        }
        Some(Loaded {
            path: path.to_path_buf(),
            case,
            annotations: notes,
            expect,
            rules,
            program,
        })
    }

    /// The checked program of `rules` with `overrides`, checked once. Diagnostics without
    /// a place are shown at `xset` (a bad override) or else at `xrules` (a rule file that
    /// cannot be read), in the case that first needed the program.
    fn program(
        &mut self,
        rules: &Path,
        overrides: &[Override],
        src: &Source,
        xrules: Option<std::ops::Range<usize>>,
        xset: Option<std::ops::Range<usize>>,
    ) -> Option<Arc<Program>> {
        let id = std::fs::canonicalize(rules).unwrap_or_else(|_| rules.to_path_buf());
        let key = format!(
            "{}\u{0}{}",
            id.display(),
            overrides
                .iter()
                .map(|o| format!("{}={}", o.key, o.value))
                .collect::<Vec<_>>()
                .join("\u{0}")
        );
        if let Some(p) = self.programs.get(&key) {
            return p.clone();
        }
        let checked = irano_check::check_path(rules, &self.include, overrides);
        for d in checked.diagnostics {
            // a rule file named by `x-rules` that cannot be read: say where it was looked for
            let d = if d.code == "check::io" && xrules.is_some() && d.location.is_none() {
                d.help(
                    "`x-rules` is read relative to the folder of the case file; give that relative path, or run with `--rules FILE` and leave `x-rules` out",
                )
            } else {
                d
            };
            let d = match (&d.location, &xset, &xrules) {
                (None, Some(at), _) | (None, None, Some(at)) => src.at(d, at.clone()),
                _ => d,
            };
            // warnings are shown once, with the criterion alone
            if d.is_error() || overrides.is_empty() {
                self.problem(d);
            }
        }
        if let (Some(id), None) = (&checked.overlay, &checked.program) {
            let d = Diagnostic::error(
                "check::overlay_alone",
                format!("`{}` is the overlay `{id}`, not a criterion", rules.display()),
            )
            .help("test a criterion that applies it: `criterion \"...\" extends \"BASE\" with \"OVERLAY\"`");
            let d = match &xrules {
                Some(at) => src.at(d, at.clone()),
                None => d,
            };
            self.problem(d);
        }
        let program = checked.program.map(Arc::new);
        self.programs.insert(key, program.clone());
        program
    }
}

/// The byte range of `value` in the entry of `field` of the `x-expect` mapping that starts
/// at `from` in `text` (YAML `field:` or JSON `"field":`), else of the field's key: so that
/// a bad entry is underlined, not `x-expect`.
fn expect_field_span(
    text: &str,
    from: usize,
    field: &str,
    value: &str,
) -> Option<std::ops::Range<usize>> {
    let rest = text.get(from..)?;
    let word =
        |b: Option<u8>| b.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
    let mut at = 0;
    let key = loop {
        let i = at + rest.get(at..)?.find(field)?;
        let end = i + field.len();
        let before = i
            .checked_sub(1)
            .and_then(|k| rest.as_bytes().get(k).copied());
        let after = rest.get(end..).unwrap_or("");
        let after = after
            .strip_prefix('"')
            .unwrap_or(after)
            .trim_start_matches([' ', '\t']);
        if !word(before) && after.starts_with(':') {
            break i..end;
        }
        at = end;
    };
    // the entry: up to the next line indented no deeper than the key that is not an item of
    // its list (in JSON on one line, the rest of the text)
    let line_start = rest
        .get(..key.start)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |n| n + 1);
    let indent = key.start - line_start;
    let mut entry_end = rest.len();
    let mut pos = key.end;
    while let Some(n) = rest.get(pos..).and_then(|t| t.find('\n')) {
        let line = rest.get(pos + n + 1..).unwrap_or("");
        let body = line.trim_start_matches(' ');
        let depth = line.len() - body.len();
        if !body.is_empty() && depth <= indent && !body.starts_with('-') {
            entry_end = pos + n;
            break;
        }
        pos += n + 1;
    }
    let entry = rest.get(key.end..entry_end).unwrap_or("");
    let mut at = 0;
    while let Some(k) = entry.get(at..).and_then(|t| t.find(value)) {
        let i = at + k;
        let end = i + value.len();
        let b = entry.as_bytes();
        if !word(i.checked_sub(1).and_then(|p| b.get(p).copied())) && !word(b.get(end).copied()) {
            let start = from + key.end + i;
            return Some(start..start + value.len());
        }
        at = end;
    }
    Some(from + key.start..from + key.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_clamped() {
        let t = "ab\ncd\n";
        assert_eq!(offset_of(t, 1, 1), 0);
        assert_eq!(offset_of(t, 2, 2), 4);
        assert_eq!(offset_of(t, 2, 9), 5);
        assert_eq!(offset_of(t, 9, 1), t.len());
        assert_eq!(offset_of("é\n", 1, 2), 2);
    }

    #[test]
    fn tidy_paths() {
        assert_eq!(tidy(Path::new("a/b/../c.rano")), PathBuf::from("a/c.rano"));
        assert_eq!(tidy(Path::new("../x/./y")), PathBuf::from("../x/y"));
        assert_eq!(tidy(Path::new("a/../../y")), PathBuf::from("../y"));
    }
}
