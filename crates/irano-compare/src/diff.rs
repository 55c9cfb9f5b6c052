//! What a rule change changes on a cohort: each case evaluated under the old and the new
//! program, only the differences kept.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::NaiveDate;
use irano_cases::Case;
use irano_check::{Diagnostic, Program};
use irano_evaluate::{CaseResult, EvalError, Evaluator, ShownValue};
use serde::Serialize;

use crate::table::write_rows;

/// An output of the result contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// A scan's response.
    Response,
    /// A scan's treatment decision.
    Decision,
    BestOverallResponse,
    PdDate,
    PdConfirmedOn,
    FinalDecision,
    /// The target lesions chosen at baseline (a patient's choice of targets changed).
    Targets,
}

impl Field {
    pub const ALL: [Field; 7] = [
        Field::Response,
        Field::Decision,
        Field::BestOverallResponse,
        Field::PdDate,
        Field::PdConfirmedOn,
        Field::FinalDecision,
        Field::Targets,
    ];

    /// The field's name in results and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Field::Response => "response",
            Field::Decision => "decision",
            Field::BestOverallResponse => "best_overall_response",
            Field::PdDate => "pd_date",
            Field::PdConfirmedOn => "pd_confirmed_on",
            Field::FinalDecision => "final_decision",
            Field::Targets => "targets",
        }
    }

    /// A field of each scan (the change has a date).
    pub fn per_scan(self) -> bool {
        matches!(self, Field::Response | Field::Decision)
    }
}

/// One output that differs between the old and the new program.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub patient: String,
    pub field: Field,
    /// The scan, for per-scan fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    /// Labels are canonical (`SD`), as in the result contract, so that diffs of criteria that
    /// name labels differently pool; the criterion's own names are beside them.
    pub old: Option<String>,
    pub new: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_native: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_native: Option<String>,
    /// The rule that decided the old value (for dates: the rule that last set the state
    /// variable).
    pub old_rule: Option<String>,
    pub new_rule: Option<String>,
    /// For a change of a scan's response: the values the criterion shows on that scan
    /// (burden, nadir, change ...) under the old and the new program.
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "irano_evaluate::values_as_map"
    )]
    pub old_values: Vec<ShownValue>,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "irano_evaluate::values_as_map"
    )]
    pub new_values: Vec<ShownValue>,
}

/// How the cohort's outputs moved.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DiffSummary {
    /// Number of changes per field (every field listed, zeros included).
    pub changes_by_field: BTreeMap<&'static str, usize>,
    /// Of those, the changes whose value is the same and whose deciding rule differs
    /// (listed only with [`Differ::with_rule_changes`]; otherwise 0).
    pub rule_only_changes: usize,
    /// Best overall response, old -> new, for every patient (unchanged ones included),
    /// most frequent first.
    pub best_overall_response: Vec<Transition>,
    pub pd_date: PdShifts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transition {
    pub old: Option<String>,
    pub new: Option<String>,
    pub patients: usize,
}

/// How progression dates moved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PdShifts {
    /// Patients with the same progression date (or none) before and after.
    pub unchanged: usize,
    /// Patients with a progression date only under the new program.
    pub gained: usize,
    /// Patients with a progression date only under the old program.
    pub lost: usize,
    /// Patients whose progression date moved, by shift (new - old, days), in order.
    pub shifted: Vec<Shift>,
    /// Smallest, lower median and largest shift, when some date moved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shift {
    pub days: i64,
    pub patients: usize,
}

/// The differences of a whole cohort.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffReport {
    /// Patients compared.
    pub patients: usize,
    /// Patients with at least one change.
    pub changed: usize,
    /// Every change, in input order (then scan order, then field order).
    pub changes: Vec<Change>,
    pub summary: DiffSummary,
    /// The programs' labels, best first (the old program's, then any new ones): the
    /// order of the transition matrix.
    #[serde(skip)]
    pub labels: Vec<String>,
    /// Without [`Differ::with_rule_changes`]: scans whose response is the same but was
    /// decided by another rule (not listed; the text report says how many).
    #[serde(skip)]
    pub unlisted_rule_changes: usize,
}

/// A program's response labels, in the order it declares them (best first).
pub(crate) fn labels(p: &Program) -> Vec<String> {
    p.enums
        .get(usize::from(irano_check::schema::LABEL.0))
        .map(|e| e.variants.clone())
        .unwrap_or_default()
}

/// Sort key of a label: its place in `order`, unknown labels after, none last.
fn rank(order: &[String], l: &Option<String>) -> (usize, String) {
    match l {
        Some(x) => (
            order.iter().position(|o| o == x).unwrap_or(order.len()),
            x.clone(),
        ),
        None => (usize::MAX, String::new()),
    }
}

/// The name a state variable has in a program, as it appears in `Fired::set`
/// (`"NAME = "`).
fn state_prefix(p: &Program, ix: Option<u32>) -> Option<String> {
    ix.and_then(|i| p.states.get(i as usize))
        .map(|s| format!("{} = ", s.name))
}

/// Evaluates cases under two programs and keeps what differs. Feed cases in input order
/// with [`Differ::add`]; results are dropped as soon as they are compared.
pub struct Differ<'p> {
    old: Evaluator<'p>,
    new: Evaluator<'p>,
    old_keys: Keys,
    new_keys: Keys,
    patients: usize,
    changed: usize,
    changes: Vec<Change>,
    bor: BTreeMap<(Option<String>, Option<String>), usize>,
    shifts: BTreeMap<i64, usize>,
    pd: PdShifts,
    labels: Vec<String>,
    rule_changes: bool,
    unlisted_rule_changes: usize,
    /// The warnings about the cases added since [`Differ::take_warnings`] last took them.
    warnings: Vec<Diagnostic>,
}

/// One case evaluated under both programs, with the warnings `eval` gives about it.
type BothEvaluated = Result<(CaseResult, CaseResult, Vec<Diagnostic>), EvalError>;

/// Evaluates `cases` in order under both evaluators; stops after the first failure.
fn evaluate_both(
    old: &mut Evaluator<'_>,
    new: &mut Evaluator<'_>,
    cases: &[Case],
) -> Vec<BothEvaluated> {
    let mut out = Vec::with_capacity(cases.len());
    for c in cases {
        let r = old.evaluate(c).and_then(|o| {
            let n = new.evaluate(c)?;
            let w = irano_evaluate::warnings::for_case(c, &[(&*old, &o), (&*new, &n)]);
            Ok((o, n, w))
        });
        let failed = r.is_err();
        out.push(r);
        if failed {
            break;
        }
    }
    out
}

/// How a program's results name the rules that set the progression dates.
struct Keys {
    pd_date: Option<String>,
    pd_confirmed_on: Option<String>,
}

impl Keys {
    fn of(p: &Program) -> Self {
        Keys {
            pd_date: state_prefix(p, p.pd_date_state),
            pd_confirmed_on: state_prefix(p, p.pd_confirmed_state),
        }
    }
}

impl<'p> Differ<'p> {
    pub fn new(old: &'p Program, new: &'p Program) -> Self {
        Differ {
            old: Evaluator::new(old),
            new: Evaluator::new(new),
            old_keys: Keys::of(old),
            new_keys: Keys::of(new),
            patients: 0,
            changed: 0,
            changes: Vec::new(),
            bor: BTreeMap::new(),
            shifts: BTreeMap::new(),
            pd: PdShifts::default(),
            labels: {
                let mut l = labels(old);
                for x in labels(new) {
                    if !l.contains(&x) {
                        l.push(x);
                    }
                }
                l
            },
            rule_changes: false,
            unlisted_rule_changes: 0,
            warnings: Vec::new(),
        }
    }

    /// Also keep an output whose value is the same under both programs but was decided by
    /// another rule (a change of reason an amendment's reviewer wants to see).
    pub fn with_rule_changes(mut self, on: bool) -> Self {
        self.rule_changes = on;
        self
    }

    /// Evaluates one case under both programs; returns whether any output differs.
    pub fn add(&mut self, case: &Case) -> Result<bool, EvalError> {
        let changed = self.changed;
        self.add_all(std::slice::from_ref(case), 1)
            .map_err(|(_, e)| e)?;
        Ok(self.changed > changed)
    }

    /// Evaluates `cases` under both programs on `jobs` threads and adds them in input
    /// order, as [`Differ::add`] one at a time would (the report is the same whatever the
    /// number of threads). Stops at the first case, in input order, whose evaluation fails
    /// and returns its index with the failure.
    pub fn add_all(&mut self, cases: &[Case], jobs: usize) -> Result<(), (usize, EvalError)> {
        // cases per thread and batch: results are held for one batch only
        const PER_THREAD: usize = 128;
        let (old, new) = (self.old.program(), self.new.program());
        let jobs = jobs.max(1);
        let batch_len = PER_THREAD * jobs;
        for (b, batch) in cases.chunks(batch_len).enumerate() {
            let parts: Vec<Vec<BothEvaluated>> = if jobs == 1 {
                vec![evaluate_both(&mut self.old, &mut self.new, batch)]
            } else {
                let per = batch.len().div_ceil(jobs);
                std::thread::scope(|s| {
                    let handles: Vec<_> = batch
                        .chunks(per)
                        .map(|chunk| {
                            s.spawn(move || {
                                let mut eo = Evaluator::new(old);
                                let mut en = Evaluator::new(new);
                                evaluate_both(&mut eo, &mut en, chunk)
                            })
                        })
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                        .collect()
                })
            };
            // a part that failed stops there, and every part before it is whole, so the
            // position in the flattened parts is the case's position in the batch
            for (k, r) in parts.into_iter().flatten().enumerate() {
                match r {
                    Ok((o, n, w)) => {
                        self.warnings.extend(w);
                        self.add_results(&o, &n);
                    }
                    Err(e) => return Err((b * batch_len + k, e)),
                }
            }
        }
        Ok(())
    }

    /// The warnings about the cases added so far (as `eval` gives them: slips in the input,
    /// and what either program did not read of it), taken out of the differ.
    pub fn take_warnings(&mut self) -> Vec<Diagnostic> {
        std::mem::take(&mut self.warnings)
    }

    /// Compares two results of the same case (as [`Differ::add`] does after evaluating).
    pub fn add_results(&mut self, old: &CaseResult, new: &CaseResult) -> bool {
        self.patients += 1;
        let before = self.changes.len();
        let sides = (&self.old_keys, &self.new_keys);
        diff_results(old, new, sides, self.rule_changes, &mut self.changes);
        if !self.rule_changes {
            self.unlisted_rule_changes += old
                .assessments
                .iter()
                .zip(&new.assessments)
                .filter(|(a, b)| a.response == b.response && a.rule != b.rule)
                .count();
        }
        *self
            .bor
            .entry((
                old.best_overall_response.clone(),
                new.best_overall_response.clone(),
            ))
            .or_insert(0) += 1;
        match (old.pd_date, new.pd_date) {
            (Some(a), Some(b)) if a != b => {
                *self.shifts.entry((b - a).num_days()).or_insert(0) += 1;
            }
            (None, Some(_)) => self.pd.gained += 1,
            (Some(_), None) => self.pd.lost += 1,
            _ => self.pd.unchanged += 1,
        }
        let changed = self.changes.len() > before;
        if changed {
            self.changed += 1;
        }
        changed
    }

    pub fn finish(self) -> DiffReport {
        let mut changes_by_field: BTreeMap<&'static str, usize> =
            Field::ALL.iter().map(|f| (f.name(), 0)).collect();
        let mut rule_only_changes = 0;
        for c in &self.changes {
            *changes_by_field.entry(c.field.name()).or_insert(0) += 1;
            rule_only_changes += usize::from(c.old == c.new);
        }
        let mut best_overall_response: Vec<Transition> = self
            .bor
            .into_iter()
            .map(|((old, new), patients)| Transition { old, new, patients })
            .collect();
        // most frequent first; ties in label order
        let order = &self.labels;
        best_overall_response.sort_by(|a, b| {
            b.patients
                .cmp(&a.patients)
                .then_with(|| rank(order, &a.old).cmp(&rank(order, &b.old)))
                .then_with(|| rank(order, &a.new).cmp(&rank(order, &b.new)))
        });
        let mut pd = self.pd;
        pd.shifted = self
            .shifts
            .iter()
            .map(|(&days, &patients)| Shift { days, patients })
            .collect();
        let moved: usize = self.shifts.values().sum();
        if moved > 0 {
            pd.min = self.shifts.keys().next().copied();
            pd.max = self.shifts.keys().next_back().copied();
            let mid = (moved - 1) / 2;
            let mut seen = 0;
            for (&days, &n) in &self.shifts {
                seen += n;
                if seen > mid {
                    pd.median = Some(days);
                    break;
                }
            }
        }
        DiffReport {
            patients: self.patients,
            changed: self.changed,
            changes: self.changes,
            summary: DiffSummary {
                changes_by_field,
                rule_only_changes,
                best_overall_response,
                pd_date: pd,
            },
            labels: self.labels,
            unlisted_rule_changes: self.unlisted_rule_changes,
        }
    }
}

/// The rule of `r` whose assignments include one starting with `prefix`, searching the
/// scans (last first) and then the summary: the rule that last assigned it.
fn last_setter(r: &CaseResult, prefix: &str) -> Option<String> {
    r.summary
        .iter()
        .rev()
        .chain(
            r.assessments
                .iter()
                .rev()
                .flat_map(|a| a.fired.iter().rev()),
        )
        .find(|f| f.set.iter().any(|s| s.starts_with(prefix)))
        .map(|f| f.rule.clone())
}

fn summary_rule(r: &CaseResult, prefix: &str) -> Option<String> {
    r.summary
        .iter()
        .find(|f| f.set.iter().any(|s| s.starts_with(prefix)))
        .map(|f| f.rule.clone())
}

/// Appends the differences of one case's two results to `out`: every output whose value
/// differs, and with `rules_too` also every output decided by another rule.
fn diff_results(
    old: &CaseResult,
    new: &CaseResult,
    (ok, nk): (&Keys, &Keys),
    rules_too: bool,
    out: &mut Vec<Change>,
) {
    // A change is looked at (its rules found) only when its value differs, or when rule
    // changes are wanted; it is kept when the value or the rule differs.
    let mut keep = |c: Change| {
        if c.old != c.new || c.old_rule != c.new_rule {
            out.push(c);
        }
    };
    let change = |field: Field,
                  date: Option<NaiveDate>,
                  old_v: Option<String>,
                  new_v: Option<String>,
                  old_rule: Option<String>,
                  new_rule: Option<String>| Change {
        patient: new.patient.clone(),
        field,
        date,
        old: old_v,
        new: new_v,
        old_native: None,
        new_native: None,
        old_rule,
        new_rule,
        old_values: Vec::new(),
        new_values: Vec::new(),
    };
    let native = |mut c: Change, o: Option<&String>, n: Option<&String>| {
        c.old_native = o.cloned();
        c.new_native = n.cloned();
        c
    };
    let decision_rule = |a: &irano_evaluate::AssessmentResult| {
        a.fired
            .iter()
            .find(|f| f.set.iter().any(|s| s.starts_with("decision =")))
            .map(|f| f.rule.clone())
    };
    let targets = |r: &CaseResult| r.lesions.as_ref().map(|l| l.targets.join(", "));
    let (old_targets, new_targets) = (targets(old), targets(new));
    if old_targets != new_targets {
        // chosen by the targets block, not by a rule
        keep(change(
            Field::Targets,
            None,
            old_targets,
            new_targets,
            None,
            None,
        ));
    }
    // The same case: the same scans, in the same order.
    for (a, b) in old.assessments.iter().zip(&new.assessments) {
        if rules_too || a.response != b.response {
            let mut c = native(
                change(
                    Field::Response,
                    Some(b.date),
                    a.response.clone(),
                    b.response.clone(),
                    a.rule.clone(),
                    b.rule.clone(),
                ),
                a.response_native.as_ref(),
                b.response_native.as_ref(),
            );
            c.old_values = a.values.clone();
            c.new_values = b.values.clone();
            keep(c);
        }
        if rules_too || a.decision != b.decision {
            keep(change(
                Field::Decision,
                Some(b.date),
                a.decision.clone(),
                b.decision.clone(),
                decision_rule(a),
                decision_rule(b),
            ));
        }
    }
    if rules_too || old.best_overall_response != new.best_overall_response {
        keep(native(
            change(
                Field::BestOverallResponse,
                None,
                old.best_overall_response.clone(),
                new.best_overall_response.clone(),
                summary_rule(old, "best_overall_response ="),
                summary_rule(new, "best_overall_response ="),
            ),
            old.best_overall_response_native.as_ref(),
            new.best_overall_response_native.as_ref(),
        ));
    }
    let dates = [
        (
            Field::PdDate,
            old.pd_date,
            new.pd_date,
            &ok.pd_date,
            &nk.pd_date,
        ),
        (
            Field::PdConfirmedOn,
            old.pd_confirmed_on,
            new.pd_confirmed_on,
            &ok.pd_confirmed_on,
            &nk.pd_confirmed_on,
        ),
    ];
    for (field, a, b, ka, kb) in dates {
        // no date on either side: no rule set it
        if a != b || (rules_too && a.is_some()) {
            keep(change(
                field,
                None,
                a.map(|d| d.to_string()),
                b.map(|d| d.to_string()),
                ka.as_deref().and_then(|k| last_setter(old, k)),
                kb.as_deref().and_then(|k| last_setter(new, k)),
            ));
        }
    }
    if rules_too || old.final_decision != new.final_decision {
        keep(change(
            Field::FinalDecision,
            None,
            old.final_decision.clone(),
            new.final_decision.clone(),
            summary_rule(old, "final_decision ="),
            summary_rule(new, "final_decision ="),
        ));
    }
}

/// What the old and new programs are, for the report's header.
pub struct Sides<'a> {
    pub old: &'a str,
    pub new: &'a str,
}

impl DiffReport {
    /// The report as text: one line per change, then the summary.
    pub fn to_text(&self, sides: &Sides<'_>) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "old: {}", sides.old);
        let _ = writeln!(s, "new: {}", sides.new);
        s.push('\n');
        if self.changes.is_empty() {
            let _ = writeln!(s, "no differences");
            self.unlisted_text(&mut s);
        } else {
            let mut rows = vec![vec![
                "patient".to_string(),
                "date".into(),
                "field".into(),
                "old".into(),
                "new".into(),
                "old rule".into(),
                "new rule".into(),
            ]];
            let dash = |x: Option<&String>| x.cloned().unwrap_or_else(|| "-".into());
            for c in &self.changes {
                rows.push(vec![
                    c.patient.clone(),
                    c.date.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
                    c.field.name().to_string(),
                    dash(c.old_native.as_ref().or(c.old.as_ref())),
                    dash(c.new_native.as_ref().or(c.new.as_ref())),
                    dash(c.old_rule.as_ref()),
                    dash(c.new_rule.as_ref()),
                ]);
            }
            write_rows(&mut s, &rows, &[], &[]);
            self.unlisted_text(&mut s);
            self.values_text(&mut s);
        }
        s.push('\n');
        self.summary_text(&mut s);
        s
    }

    /// The values the criterion shows on each scan whose response changed, old and new:
    /// what the deciding rules compared.
    fn values_text(&self, s: &mut String) {
        let changed: Vec<&Change> = self
            .changes
            .iter()
            .filter(|c| {
                c.field == Field::Response && !(c.old_values.is_empty() && c.new_values.is_empty())
            })
            .collect();
        if changed.is_empty() {
            return;
        }
        let rounded = changed
            .iter()
            .flat_map(|c| c.old_values.iter().chain(&c.new_values))
            .any(|v| v.value.as_deref().is_some_and(|t| t.starts_with('~')));
        let _ = writeln!(
            s,
            "\nvalues on the scans whose response changed (old -> new; one value when unchanged{}):",
            if rounded { "; ~ rounded to 2 places" } else { "" }
        );
        let mut rows = Vec::new();
        for c in changed {
            let text = |v: Option<&ShownValue>| {
                v.and_then(|v| v.value.clone())
                    .unwrap_or_else(|| "-".into())
            };
            let mut names: Vec<&str> = c.old_values.iter().map(|v| v.name.as_str()).collect();
            for v in &c.new_values {
                if !names.contains(&v.name.as_str()) {
                    names.push(&v.name);
                }
            }
            let values: Vec<String> = names
                .iter()
                .map(|n| {
                    let (a, b) = (
                        text(c.old_values.iter().find(|v| v.name == *n)),
                        text(c.new_values.iter().find(|v| v.name == *n)),
                    );
                    if a == b {
                        format!("{n} {a}")
                    } else {
                        format!("{n} {a} -> {b}")
                    }
                })
                .collect();
            rows.push(vec![
                format!("  {}", c.patient),
                c.date.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
                values.join("  ·  "),
            ]);
        }
        write_rows(s, &rows, &[], &[]);
    }

    /// How many same responses by another rule are not listed, and how to list them.
    fn unlisted_text(&self, s: &mut String) {
        let n = self.unlisted_rule_changes;
        if n > 0 {
            let scans = if n == 1 {
                "scan keeps its"
            } else {
                "scans keep their"
            };
            let _ = writeln!(
                s,
                "({n} {scans} response under another deciding rule; `--rule-changes` lists them)"
            );
        }
    }

    fn summary_text(&self, s: &mut String) {
        let _ = writeln!(
            s,
            "patients compared: {}  ·  changed: {}",
            self.patients, self.changed
        );
        let by_field: Vec<String> = Field::ALL
            .iter()
            .map(|f| {
                format!(
                    "{} {}",
                    f.name(),
                    self.summary
                        .changes_by_field
                        .get(f.name())
                        .copied()
                        .unwrap_or(0)
                )
            })
            .collect();
        let _ = writeln!(s, "changes by field: {}", by_field.join(", "));
        let same = self.summary.rule_only_changes;
        if same > 0 {
            let _ = writeln!(
                s,
                "of which {same} keep their value and were decided by another rule"
            );
        }

        // best overall response
        let t = &self.summary.best_overall_response;
        let moved: Vec<&Transition> = t.iter().filter(|x| x.old != x.new).collect();
        let same: usize = t
            .iter()
            .filter(|x| x.old == x.new)
            .map(|x| x.patients)
            .sum();
        let label = |x: &Option<String>| x.clone().unwrap_or_else(|| "-".into());
        let _ = writeln!(
            s,
            "\nbest overall response, old -> new: {} changed, {same} unchanged",
            moved.iter().map(|x| x.patients).sum::<usize>()
        );
        for x in &moved {
            let _ = writeln!(
                s,
                "  {} -> {}: {}",
                label(&x.old),
                label(&x.new),
                x.patients
            );
        }
        if !moved.is_empty() {
            matrix(s, t, &self.labels);
        }

        // progression dates
        let pd = &self.summary.pd_date;
        let moved: usize = pd.shifted.iter().map(|x| x.patients).sum();
        let _ = writeln!(
            s,
            "\nprogression date: {moved} moved, {} gained (none before), {} lost (none after), {} unchanged",
            pd.gained, pd.lost, pd.unchanged
        );
        if let (Some(min), Some(median), Some(max)) = (pd.min, pd.median, pd.max) {
            let _ = writeln!(
                s,
                "  shift (new - old, days): min {}  ·  median {}  ·  max {}",
                signed(min),
                signed(median),
                signed(max)
            );
            histogram(s, &pd.shifted);
        }
    }
}

fn signed(d: i64) -> String {
    if d > 0 {
        format!("+{d}")
    } else {
        d.to_string()
    }
}

/// Rows old, columns new; `.` for none.
fn matrix(s: &mut String, t: &[Transition], order: &[String]) {
    let mut labels: Vec<&Option<String>> = Vec::new();
    for x in t {
        for l in [&x.old, &x.new] {
            if !labels.contains(&l) {
                labels.push(l);
            }
        }
    }
    labels.sort_by_key(|l| rank(order, l));
    let name = |l: &Option<String>| l.clone().unwrap_or_else(|| "-".into());
    let mut head = vec!["old \\ new".to_string()];
    head.extend(labels.iter().map(|l| name(l)));
    let mut rows = vec![head];
    for o in &labels {
        let mut row = vec![name(o)];
        for n in &labels {
            let k = t
                .iter()
                .find(|x| &&x.old == o && &&x.new == n)
                .map(|x| x.patients.to_string())
                .unwrap_or_else(|| ".".into());
            row.push(k);
        }
        rows.push(row);
    }
    let right: Vec<usize> = (1..=labels.len()).collect();
    let mut grid = String::new();
    write_rows(&mut grid, &rows, &right, &[]);
    for line in grid.lines() {
        let _ = writeln!(s, "  {line}");
    }
}

/// One bar per shift, or per range of shifts when there are many.
fn histogram(s: &mut String, shifted: &[Shift]) {
    const MAX_ROWS: usize = 15;
    const BAR: usize = 40;
    let bins: Vec<(String, usize)> = if shifted.len() <= MAX_ROWS {
        shifted
            .iter()
            .map(|x| (format!("{} d", signed(x.days)), x.patients))
            .collect()
    } else {
        let (Some(lo), Some(hi)) = (shifted.first(), shifted.last()) else {
            return;
        };
        let (lo, hi) = (lo.days, hi.days);
        let span = hi - lo + 1;
        let width = (span + MAX_ROWS as i64 - 1) / MAX_ROWS as i64;
        let mut bins: Vec<(String, usize)> = Vec::new();
        let mut start = lo;
        while start <= hi {
            let end = start + width - 1;
            let n: usize = shifted
                .iter()
                .filter(|x| x.days >= start && x.days <= end)
                .map(|x| x.patients)
                .sum();
            bins.push((format!("{} to {} d", signed(start), signed(end)), n));
            start = end + 1;
        }
        bins
    };
    let most = bins.iter().map(|b| b.1).max().unwrap_or(1).max(1);
    let w = bins.iter().map(|b| b.0.len()).max().unwrap_or(0);
    for (label, n) in bins {
        let bar = if n == 0 { 0 } else { (n * BAR).div_ceil(most) };
        let _ = writeln!(s, "  {label:>w$}  {:<BAR$}  {n}", "#".repeat(bar));
    }
}
