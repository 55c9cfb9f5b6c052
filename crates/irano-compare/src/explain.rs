//! One patient's full derivation — which scan, which patient — and its text rendering.

use std::fmt::Write as _;

use chrono::NaiveDate;
use irano_cases::Case;
use irano_check::Program;
use irano_evaluate::{
    CriterionRef, Definition, EvalError, Outcome, ParamValue, ScanDerivation, ScanRole, ShownValue,
    Step, SummaryDerivation, TableDerivation,
};
use serde::Serialize;

/// A patient's derivation: one scan or every scan (and then the summary).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explained {
    pub patient: String,
    pub criterion: CriterionRef,
    /// Parameters changed for this run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<ParamValue>,
    /// Rules a file of the chain removed (`remove rule`), each with where: they are tried
    /// nowhere, so no table below lists them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removed_rules: Vec<RemovedRule>,
    /// Parameters a file of the chain retired (`remove param`), each with where: nothing
    /// reads them, and `--set` refuses them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removed_params: Vec<RemovedParam>,
    /// Parameters a file after the root changed (`override param`), with their value and
    /// where: an explanation shows the value under the name, not who set it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub amended_params: Vec<AmendedParam>,
    /// What the criterion's own file (the last of the chain, given to `--rules`) adds or
    /// overrides, other than parameter values: new parameters, lets, defs, rules.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub amendment: Vec<AmendmentItem>,
    pub scans: Vec<ScanDerivation>,
    /// The summary, when every scan is explained.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<SummaryDerivation>,
}

/// A rule an amendment removed, and where (`file:line`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RemovedRule {
    pub rule: String,
    pub at: String,
}

/// A parameter an amendment retired, and where (`file:line`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RemovedParam {
    pub param: String,
    pub at: String,
}

/// A parameter an amendment changed: its value (the amendment's default) and where.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AmendedParam {
    pub name: String,
    pub value: String,
    pub at: String,
}

/// A declaration the amendment adds or overrides: `kind` (`param`, `let`, `def`, `rule`,
/// ...), its name, `added` or `overridden`, where, and for a new parameter its value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AmendmentItem {
    pub kind: String,
    pub name: String,
    pub action: &'static str,
    pub at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// Why a patient or a scan cannot be explained.
#[derive(Debug, Clone, PartialEq)]
pub enum ExplainError {
    /// Evaluation failed (the rule file computed something impossible).
    Eval(EvalError),
    /// No case has the patient asked for.
    NoSuchPatient { patient: String, known: Vec<String> },
    /// Several cases and no `--patient`.
    WhichPatient { known: Vec<String> },
    /// The input holds no case.
    NoCase,
    /// The patient has no scan on the date asked for.
    NoScanOn {
        patient: String,
        date: NaiveDate,
        dates: Vec<NaiveDate>,
    },
}

fn list<T: ToString>(xs: &[T]) -> String {
    const SHOWN: usize = 10;
    let mut s: Vec<String> = xs.iter().take(SHOWN).map(|x| x.to_string()).collect();
    if xs.len() > SHOWN {
        s.push(format!("... ({} in all)", xs.len()));
    }
    s.join(", ")
}

impl ExplainError {
    pub fn message(&self) -> String {
        match self {
            ExplainError::Eval(e) => format!(
                "patient `{}`{}: {} at {}",
                e.patient,
                e.date.map(|d| format!(", scan of {d}")).unwrap_or_default(),
                e.message,
                e.location
            ),
            ExplainError::NoSuchPatient { patient, .. } => {
                format!("no case has the patient `{patient}`")
            }
            ExplainError::WhichPatient { known } => format!(
                "the input holds {} patients; `explain` explains one",
                known.len()
            ),
            ExplainError::NoCase => "the input holds no case".into(),
            ExplainError::NoScanOn { patient, date, .. } => {
                format!("patient `{patient}` has no scan on {date}")
            }
        }
    }

    pub fn help(&self) -> String {
        match self {
            ExplainError::Eval(e) => e.help.into(),
            ExplainError::NoSuchPatient { patient, known } => {
                match irano_check::diag::closest(patient, known.iter().map(String::as_str)) {
                    Some(c) => format!(
                        "did you mean `--patient {c}`? The patients: {}",
                        list(known)
                    ),
                    None => format!("name one with `--patient`: {}", list(known)),
                }
            }
            ExplainError::WhichPatient { known } => {
                format!("name one with `--patient`: {}", list(known))
            }
            ExplainError::NoCase => "give a case file".into(),
            ExplainError::NoScanOn { dates, .. } => {
                format!("give `--date` one of the scan dates: {}", list(dates))
            }
        }
    }

    /// The diagnostic code.
    pub fn code(&self) -> &'static str {
        match self {
            ExplainError::Eval(_) => "eval::failed",
            ExplainError::NoSuchPatient { .. } | ExplainError::WhichPatient { .. } => {
                "explain::patient"
            }
            ExplainError::NoCase => "explain::no_case",
            ExplainError::NoScanOn { .. } => "explain::date",
        }
    }
}

/// The case of `patient`, or the only case.
pub fn select<'c>(cases: &'c [Case], patient: Option<&str>) -> Result<&'c Case, ExplainError> {
    let known = || cases.iter().map(|c| c.patient.clone()).collect::<Vec<_>>();
    match patient {
        Some(id) => {
            cases
                .iter()
                .find(|c| c.patient == id)
                .ok_or_else(|| ExplainError::NoSuchPatient {
                    patient: id.to_string(),
                    known: known(),
                })
        }
        None => match cases {
            [] => Err(ExplainError::NoCase),
            [one] => Ok(one),
            _ => Err(ExplainError::WhichPatient { known: known() }),
        },
    }
}

/// The declarations the last file of the chain adds or overrides (parameter values are
/// `amended_params`; removals are `removed_rules`). Empty for a criterion without parent.
fn amendment_items(program: &Program) -> Vec<AmendmentItem> {
    use irano_check::program::ChangeKind;
    // the criterion's own file is the last of the chain, root first
    let Some(last) = program.sources.len().checked_sub(1).filter(|&i| i > 0) else {
        return Vec::new();
    };
    let last = u16::try_from(last).unwrap_or(u16::MAX);
    program
        .changes
        .iter()
        .filter(|c| c.src.file == last)
        .filter_map(|c| {
            let action = match c.action {
                ChangeKind::Added => "added",
                ChangeKind::Overridden if c.kind != "param" => "overridden",
                _ => return None,
            };
            let value = (c.kind == "param")
                .then(|| program.params.iter().find(|q| q.name == c.name))
                .flatten()
                .map(|q| program.param_text(q, q.default));
            Some(AmendmentItem {
                kind: c.kind.clone(),
                name: c.name.clone(),
                action,
                at: program.place(c.src),
                value,
            })
        })
        .collect()
}

/// Explains the scan of `date` of a case, or every scan and the summary.
pub fn explain(
    program: &Program,
    case: &Case,
    date: Option<NaiveDate>,
) -> Result<Explained, ExplainError> {
    let criterion = CriterionRef {
        id: program.id.clone(),
        version: program.version.clone(),
    };
    let overrides = irano_evaluate::overrides(program);
    let removed_rules: Vec<RemovedRule> = program
        .changes
        .iter()
        .filter(|c| c.kind == "rule" && program.still_removed(c))
        .map(|c| RemovedRule {
            rule: c.name.clone(),
            at: program.place(c.src),
        })
        .collect();
    let removed_params: Vec<RemovedParam> = program
        .changes
        .iter()
        .filter(|c| c.kind == "param" && program.still_removed(c))
        .map(|c| RemovedParam {
            param: c.name.clone(),
            at: program.place(c.src),
        })
        .collect();
    // the last `override param` of each parameter in the chain
    let mut amended_params: Vec<AmendedParam> = Vec::new();
    for c in program
        .changes
        .iter()
        .filter(|c| c.kind == "param" && c.action == irano_check::program::ChangeKind::Overridden)
    {
        let Some(pi) = program.params.iter().find(|q| q.name == c.name) else {
            continue;
        };
        let a = AmendedParam {
            name: c.name.clone(),
            value: program.param_text(pi, pi.default),
            at: program.place(c.src),
        };
        match amended_params.iter_mut().find(|x| x.name == a.name) {
            Some(x) => *x = a,
            None => amended_params.push(a),
        }
    }
    let amendment = amendment_items(program);
    match date {
        Some(d) => {
            let Some(index) = case.assessments.iter().position(|a| a.date == d) else {
                return Err(ExplainError::NoScanOn {
                    patient: case.patient.clone(),
                    date: d,
                    dates: case.assessments.iter().map(|a| a.date).collect(),
                });
            };
            let scan =
                irano_evaluate::explain_scan(program, case, index).map_err(ExplainError::Eval)?;
            Ok(Explained {
                patient: case.patient.clone(),
                criterion,
                overrides,
                removed_rules,
                removed_params,
                amended_params,
                amendment,
                scans: scan.into_iter().collect(),
                summary: None,
            })
        }
        None => {
            let all = irano_evaluate::explain_case(program, case).map_err(ExplainError::Eval)?;
            Ok(Explained {
                patient: all.patient,
                criterion,
                overrides,
                removed_rules,
                removed_params,
                amended_params,
                amendment,
                scans: all.scans,
                summary: Some(all.summary),
            })
        }
    }
}

impl Explained {
    /// The derivation as indented text.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "patient {}  ·  {} {}",
            self.patient, self.criterion.id, self.criterion.version
        );
        for o in &self.overrides {
            let _ = writeln!(
                s,
                "parameter {} = {} (default {})",
                o.name, o.value, o.default
            );
        }
        for a in &self.amended_params {
            let _ = writeln!(
                s,
                "parameter {} = {} (overridden at {})",
                a.name, a.value, a.at
            );
        }
        for a in &self.amendment {
            let kind = if a.kind == "param" {
                "parameter"
            } else {
                &a.kind
            };
            match &a.value {
                Some(v) => {
                    let _ = writeln!(s, "{kind} {} = {} ({} at {})", a.name, v, a.action, a.at);
                }
                None => {
                    let _ = writeln!(s, "{kind} {} ({} at {})", a.name, a.action, a.at);
                }
            }
        }
        for r in &self.removed_rules {
            let _ = writeln!(s, "rule {} removed ({}): tried nowhere", r.rule, r.at);
        }
        for r in &self.removed_params {
            let _ = writeln!(s, "parameter {} removed ({}): read nowhere", r.param, r.at);
        }
        for scan in &self.scans {
            s.push('\n');
            scan_text(&mut s, scan);
        }
        if let Some(sum) = &self.summary {
            s.push('\n');
            let _ = writeln!(s, "summary");
            for t in &sum.tables {
                s.push('\n');
                table_text(&mut s, t, 1);
            }
            let dash =
                |d: &Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_else(|| "-".into());
            s.push('\n');
            let _ = writeln!(
                s,
                "best overall response: {}\nprogression date: {}  ·  confirmed on: {}\nfinal decision: {}",
                sum.best_overall_response_native
                    .as_deref()
                    .or(sum.best_overall_response.as_deref())
                    .unwrap_or("-"),
                dash(&sum.pd_date),
                dash(&sum.pd_confirmed_on),
                sum.final_decision.as_deref().unwrap_or("-")
            );
        }
        s
    }
}

fn values(v: &[ShownValue]) -> String {
    v.iter()
        .map(|x| format!("{} = {}", x.name, x.value.as_deref().unwrap_or("-")))
        .collect::<Vec<_>>()
        .join(", ")
}

fn scan_text(s: &mut String, d: &ScanDerivation) {
    let a = &d.assessment;
    let role = match a.role {
        ScanRole::PreBaseline => "pre-baseline",
        ScanRole::Baseline => "baseline",
        ScanRole::Followup => "follow-up",
        ScanRole::NotGraded => "not graded",
    };
    let mut head = format!("scan {}  ·  day {}  ·  {role}", a.date, a.day);
    if let Some(r) = a.response_shown() {
        let _ = write!(head, "  ·  response {r}");
        if let Some(rule) = &a.rule {
            let _ = write!(head, " ({rule})");
        }
    }
    if let Some(x) = &a.decision {
        let _ = write!(head, "  ·  decision {x}");
    }
    let _ = writeln!(s, "{head}");
    if let Some(r) = &a.reason {
        let _ = writeln!(s, "  {r}");
    }
    if !a.values.is_empty() {
        let _ = writeln!(s, "  values: {}", values(&a.values));
    }
    if !d.targets.is_empty() {
        let _ = writeln!(s, "\n  targets chosen on this scan:");
        let mut printed = Vec::new();
        for t in &d.targets {
            let outcome = t.outcome.replace('_', "-");
            let _ = writeln!(s, "    {} ({}): {outcome}, {}", t.lesion, t.role, t.why);
            for (prefix, st) in t
                .eligible
                .iter()
                .map(|e| ("eligible: ", e))
                .chain(t.candidate.iter().map(|c| ("candidate: ", c)))
                .chain(t.rank.iter().map(|r| ("rank by: ", r)))
            {
                step_text(s, prefix, st, 3, &[], &mut printed);
            }
        }
    }
    if d.tables.is_empty() {
        return;
    }
    let _ = writeln!(s, "  state before: {}", values(&d.state_before));
    let _ = writeln!(s, "  state after:  {}", values(&d.state_after));
    for t in &d.tables {
        s.push('\n');
        table_text(s, t, 1);
    }
}

fn pad(s: &mut String, depth: usize) {
    for _ in 0..depth {
        s.push_str("  ");
    }
}

fn table_text(s: &mut String, t: &TableDerivation, depth: usize) {
    pad(s, depth);
    match &t.fired {
        Some(r) => {
            let _ = writeln!(s, "table {}: {r} fired", t.table);
        }
        None => {
            let _ = writeln!(s, "table {}: no rule fired", t.table);
        }
    }
    let mut printed: Vec<&str> = Vec::new();
    for r in &t.rules {
        pad(s, depth + 1);
        let outcome = match r.outcome {
            Outcome::Fired => "FIRED",
            Outcome::NotFired => "not fired",
            Outcome::NotReached => "not reached (an earlier rule fired)",
        };
        let _ = writeln!(s, "rule {}: {outcome}  ({})", r.rule, r.location);
        if r.outcome == Outcome::NotReached {
            continue;
        }
        pad(s, depth + 2);
        let _ = writeln!(s, "cite: {}", r.cite);
        if let Some(b) = &r.because {
            pad(s, depth + 2);
            let _ = writeln!(s, "because: {b}");
        }
        if !r.set.is_empty() {
            pad(s, depth + 2);
            let _ = writeln!(s, "set: {}", r.set.join(", "));
        }
        if let Some(e) = &r.explain {
            pad(s, depth + 2);
            let _ = writeln!(s, "trace: {e}");
        }
        match &r.condition {
            None => {
                pad(s, depth + 2);
                let _ = writeln!(s, "when: otherwise");
            }
            Some(c) => step_text(s, "when: ", c, depth + 2, &t.definitions, &mut printed),
        }
        for a in &r.assignments {
            let prefix = format!("set {} from: ", a.target);
            step_text(
                s,
                &prefix,
                &a.derivation,
                depth + 2,
                &t.definitions,
                &mut printed,
            );
        }
    }
}

fn step_line(st: &Step) -> String {
    let mut l = match &st.value {
        Some(v) if v == &st.text => v.clone(),
        Some(v) => format!("{} = {v}", st.text),
        None => st.text.clone(),
    };
    if let Some(n) = &st.note {
        let _ = write!(l, "  ({n})");
    }
    l
}

/// One step and what is below it. A definition is derived where it is first read in the
/// table, and referred to after that.
fn step_text<'t>(
    s: &mut String,
    prefix: &str,
    st: &'t Step,
    depth: usize,
    defs: &'t [Definition],
    printed: &mut Vec<&'t str>,
) {
    pad(s, depth);
    s.push_str(prefix);
    let mut line = step_line(st);
    let def = match &st.definition {
        Some(name) if st.parts.is_empty() => defs.iter().find(|d| &d.name == name),
        _ => None,
    };
    let Some(def) = def else {
        match (&st.definition, &st.source) {
            (Some(name), Some(source)) => {
                let _ = write!(line, "  [{name}, {source}]");
            }
            (Some(name), None) => {
                let _ = write!(line, "  [{name}]");
            }
            _ => {}
        }
        let _ = writeln!(s, "{line}");
        for p in &st.parts {
            step_text(s, "", p, depth + 1, defs, printed);
        }
        return;
    };
    if printed.contains(&def.name.as_str()) {
        let _ = writeln!(s, "{line}  (derived above)");
        return;
    }
    printed.push(&def.name);
    let _ = writeln!(s, "{line}  [definition, {}: {}]", def.location, def.cite);
    step_text(s, "", &def.derivation, depth + 1, defs, printed);
}
