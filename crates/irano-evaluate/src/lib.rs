//! The evaluator: a checked [`Program`] applied to a [`Case`]. Pure — no I/O, no
//! globals, no criterion knowledge: every threshold, label and rule comes from the
//! program. The same program and case always give the same result.
//!
//! One pass over the scans in date order: lets are computed, the tables run (first
//! matching rule per table), state is updated; then the summary runs once.

mod access;
mod derive;
mod explain;
mod expr;
mod result;

use std::cmp::Ordering;

use chrono::NaiveDate;
use irano_cases::{self as cases, Case};
use irano_check::program::*;
use irano_exact::days_between;

use access::lesion_id;
use explain::{location, show_param};
use expr::{compare_values, sym, values_equal};

pub use derive::{
    explain_case, explain_scan, CaseDerivation, Definition, Outcome, RuleTrial, ScanDerivation,
    Step, SummaryDerivation, TableDerivation,
};
pub use result::*;

/// Evaluation failed for one case: a rule computed something impossible (overflow, a
/// division by zero, a date out of range). The rule file needs a fix or a guard.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    pub patient: String,
    /// The scan being evaluated, if any.
    pub date: Option<NaiveDate>,
    pub message: String,
    /// The rule-file text that failed, as `file:line:column`.
    pub location: String,
}

/// Evaluates one case.
pub fn evaluate(program: &Program, case: &Case) -> Result<CaseResult, EvalError> {
    let mut ev = Evaluator::new(program);
    ev.evaluate(case)
}

/// The parameters changed for this run (`--set`), with their values and defaults, as
/// every result lists them.
pub fn overrides(p: &Program) -> Vec<ParamValue> {
    p.params
        .iter()
        .filter(|x| x.overridden)
        .map(|x| ParamValue {
            name: x.name.clone(),
            value: show_param(p, x, x.value),
            default: show_param(p, x, x.default),
        })
        .collect()
}

/// Reusable evaluation buffers: evaluate many cases with one `Evaluator` and the hot
/// loop allocates only what the result itself holds.
pub struct Evaluator<'p> {
    p: &'p Program,
    lets: Vec<Value>,
    slots: Vec<Value>,
    state: Vec<Value>,
    outputs: Vec<(Option<u16>, Option<u16>)>,
    graded: Vec<bool>,
    summary_lets: Vec<Value>,
    targets: Vec<u32>,
    non_targets: Vec<u32>,
    /// A table assigned a state variable a new value (its state-reading lets are stale).
    state_changed: bool,
    /// The first table that can assign `response`: shown values are computed just before
    /// it (found once per program, not per scan).
    response_table: Option<usize>,
    /// How deep the trace of a fired rule expands the definitions it read (`usize::MAX`:
    /// untruncated, for `explain_scan`).
    explain_depth: usize,
    /// Set by `explain_scan` / `explain_case`: where the full derivations are collected.
    derive: Option<derive::Sink>,
    /// The tables now running record every rule they try (see `derive`).
    deriving: bool,
}

/// How deep the trace of a fired rule (`Fired::explain`) expands the definitions it read.
const TRACE_DEPTH: usize = 4;

/// Whether some rule of the table assigns the scan's `response`.
fn assigns_response(table: &Table) -> bool {
    table
        .rules
        .iter()
        .any(|r| r.assigns.iter().any(|a| a.target == Target::Response))
}

type R<T> = Result<T, Fail>;

/// An evaluation failure before it is given the case's context.
#[derive(Debug)]
struct Fail {
    message: String,
    src: Src,
}

fn fail<T>(message: impl Into<String>, src: Src) -> R<T> {
    Err(Fail {
        message: message.into(),
        src,
    })
}

struct Cx<'a> {
    p: &'a Program,
    case: &'a Case,
    base: usize,
    /// The scan being evaluated; in the summary, the number of scans.
    cur: usize,
    in_summary: bool,
    cur_out: (Option<u16>, Option<u16>),
    cur_lesion: Option<Value>,
}

impl<'p> Evaluator<'p> {
    pub fn new(p: &'p Program) -> Self {
        Evaluator {
            p,
            lets: Vec::new(),
            slots: vec![Value::Null; usize::from(p.slots)],
            state: Vec::new(),
            outputs: Vec::new(),
            graded: Vec::new(),
            summary_lets: Vec::new(),
            targets: Vec::new(),
            non_targets: Vec::new(),
            state_changed: false,
            response_table: p.tables.iter().position(assigns_response),
            explain_depth: TRACE_DEPTH,
            derive: None,
            deriving: false,
        }
    }

    pub fn evaluate(&mut self, case: &Case) -> Result<CaseResult, EvalError> {
        let p = self.p;
        let n = case.assessments.len();
        let mut cx = Cx {
            p,
            case,
            base: 0,
            cur: 0,
            in_summary: false,
            cur_out: (None, None),
            cur_lesion: None,
        };
        let wrap = |f: Fail, date: Option<NaiveDate>| EvalError {
            patient: case.patient.clone(),
            date,
            message: f.message,
            location: location(p, f.src),
        };
        self.lets.clear();
        self.lets.resize(n * p.lets.len(), Value::Null);
        self.outputs.clear();
        self.outputs.resize(n, (None, None));
        self.graded.clear();
        self.graded.resize(n, false);
        self.targets.clear();
        self.non_targets.clear();
        self.state.clear();
        for s in &p.states {
            let v = self.eval(&mut cx, &s.initial).map_err(|f| wrap(f, None))?;
            self.state.push(v);
        }

        let mut result = CaseResult {
            patient: case.patient.clone(),
            criterion: CriterionRef {
                id: p.id.clone(),
                version: p.version.clone(),
            },
            assessments: Vec::with_capacity(n),
            best_overall_response: None,
            best_overall_response_native: None,
            pd_date: None,
            pd_confirmed_on: None,
            final_decision: None,
            summary: Vec::new(),
            lesions: None,
            overrides: overrides(p),
        };

        // 1. the baseline
        cx.cur = n;
        let base = match self.eval(&mut cx, &p.baseline).map_err(|f| wrap(f, None))? {
            Value::Scan(i) => Some(i as usize),
            _ => None,
        };
        let Some(base) = base else {
            for a in &case.assessments {
                result.assessments.push(AssessmentResult {
                    date: a.date,
                    day: days_between(case.therapy_start, a.date),
                    role: ScanRole::NotGraded,
                    response: None,
                    response_native: None,
                    decision: None,
                    rule: None,
                    explain: None,
                    reason: Some(format!(
                        "not graded: no scan qualifies as baseline ({})",
                        p.baseline_cite
                    )),
                    values: Vec::new(),
                    fired: Vec::new(),
                });
            }
            result.summary.push(Fired {
                table: "baseline".into(),
                rule: "baseline".into(),
                cite: p.baseline_cite.clone(),
                because: Some("no scan qualifies as baseline; nothing can be graded".into()),
                explain: String::new(),
                set: Vec::new(),
            });
            return Ok(result);
        };
        cx.base = base;

        // 2. target lesions
        cx.cur = base;
        self.choose_targets(&mut cx)
            .map_err(|f| wrap(f, case.assessments.get(base).map(|a| a.date)))?;
        result.lesions = Some(LesionChoice {
            targets: self
                .targets
                .iter()
                .map(|&l| lesion_id(case, l).to_string())
                .collect(),
            non_targets: self
                .non_targets
                .iter()
                .map(|&l| lesion_id(case, l).to_string())
                .collect(),
            rule: p.targets.cite.clone(),
        });

        // 3. the scans
        let mut stopped: Option<(usize, String)> = None;
        for (i, a) in case.assessments.iter().enumerate() {
            let day = days_between(case.therapy_start, a.date);
            if i < base {
                result.assessments.push(AssessmentResult {
                    date: a.date,
                    day,
                    role: ScanRole::PreBaseline,
                    response: None,
                    response_native: None,
                    decision: None,
                    rule: None,
                    explain: None,
                    reason: Some(format!(
                        "not graded: before the baseline scan of {}",
                        case.assessments
                            .get(base)
                            .map(|b| b.date.to_string())
                            .unwrap_or_default()
                    )),
                    values: Vec::new(),
                    fired: Vec::new(),
                });
                continue;
            }
            cx.cur = i;
            cx.cur_out = (None, None);
            let date = Some(a.date);
            self.compute_lets(&mut cx, &p.let_order)
                .map_err(|f| wrap(f, date))?;
            let mut ar = AssessmentResult {
                date: a.date,
                day,
                role: ScanRole::Followup,
                response: None,
                response_native: None,
                decision: None,
                rule: None,
                explain: None,
                reason: None,
                values: Vec::new(),
                fired: Vec::new(),
            };
            if i == base || stopped.is_some() {
                ar.values = self.shows(&mut cx).map_err(|f| wrap(f, date))?;
            }
            if i == base {
                ar.role = ScanRole::Baseline;
                ar.reason = Some(format!("baseline scan ({})", p.baseline_cite));
                result.assessments.push(ar);
                continue;
            }
            if let Some((at, why)) = &stopped {
                ar.role = ScanRole::NotGraded;
                ar.reason = Some(format!(
                    "not graded: {why} (after the scan of {})",
                    case.assessments
                        .get(*at)
                        .map(|x| x.date.to_string())
                        .unwrap_or_default()
                ));
                result.assessments.push(ar);
                continue;
            }
            // Shown values are those the response is decided on: computed just before
            // the first table that can assign `response`. Every table sees the state as
            // the tables before it left it: lets that read state are recomputed after a
            // table changes it (docs/language.md, evaluation order).
            let mut shown = false;
            self.deriving = self.derive.as_ref().is_some_and(|d| d.wants_scan(i));
            if self.deriving {
                self.begin_scan_derivation(&cx);
            }
            for (ti, table) in p.tables.iter().enumerate() {
                if !shown && self.response_table == Some(ti) {
                    ar.values = self.shows(&mut cx).map_err(|f| wrap(f, date))?;
                    shown = true;
                }
                self.state_changed = false;
                if let Some(f) = self.run_table(&mut cx, table).map_err(|f| wrap(f, date))? {
                    ar.fired.push(f);
                }
                if self.state_changed {
                    self.compute_lets(&mut cx, &p.state_let_order)
                        .map_err(|f| wrap(f, date))?;
                }
            }
            let derived = std::mem::take(&mut self.deriving);
            if derived {
                self.end_scan_derivation(&cx, i);
            }
            if !shown {
                ar.values = self.shows(&mut cx).map_err(|f| wrap(f, date))?;
            }
            if let Some(o) = self.outputs.get_mut(i) {
                *o = cx.cur_out;
            }
            if let Some(g) = self.graded.get_mut(i) {
                *g = true;
            }
            ar.response = cx.cur_out.0.map(|v| p.label_name(v).to_string());
            ar.response_native = cx
                .cur_out
                .0
                .and_then(|v| p.label_native(v).map(str::to_string));
            ar.decision = cx.cur_out.1.map(|v| p.decision_name(v).to_string());
            if let Some(f) = ar
                .fired
                .iter()
                .find(|f| f.set.iter().any(|s| s.starts_with("response")))
            {
                ar.rule = Some(f.rule.clone());
                ar.explain = Some(f.explain.clone());
            }
            if ar.response.is_none() {
                ar.reason = Some("no rule assigned a response".into());
            }
            if let Some(stop) = &p.stop {
                if self.eval(&mut cx, &stop.when).map_err(|f| wrap(f, date))? == Value::Bool(true) {
                    stopped = Some((i, stop.because.clone()));
                }
            }
            result.assessments.push(ar);
            if derived && self.derive.as_ref().is_some_and(|d| d.done_after(i)) {
                // `explain_scan`: the scans after the one explained cannot change it
                return Ok(result);
            }
        }

        // 4. the summary
        cx.cur = n;
        cx.in_summary = true;
        cx.cur_out = (None, None);
        self.summary_lets.clear();
        self.summary_lets.resize(p.summary_lets.len(), Value::Null);
        for &li in &p.summary_let_order {
            let Some(l) = p.summary_lets.get(li as usize) else {
                continue;
            };
            let v = self.eval(&mut cx, &l.expr).map_err(|f| wrap(f, None))?;
            if let Some(slot) = self.summary_lets.get_mut(li as usize) {
                *slot = v;
            }
        }
        let mut bor = None;
        let mut fin = None;
        self.deriving = self.derive.as_ref().is_some_and(|d| d.wants_summary());
        for table in &p.summary_tables {
            if let Some((f, b, d)) = self
                .run_summary_table(&mut cx, table)
                .map_err(|f| wrap(f, None))?
            {
                bor = b.or(bor);
                fin = d.or(fin);
                result.summary.push(f);
            }
        }
        self.deriving = false;
        result.best_overall_response = bor.map(|v| p.label_name(v).to_string());
        result.best_overall_response_native =
            bor.and_then(|v| p.label_native(v).map(str::to_string));
        result.final_decision = fin.map(|v| p.decision_name(v).to_string());
        let state_date = |ix: Option<u32>| match ix.and_then(|i| self.state.get(i as usize)) {
            Some(Value::Date(d)) => Some(*d),
            _ => None,
        };
        result.pd_date = state_date(p.pd_date_state);
        result.pd_confirmed_on = state_date(p.pd_confirmed_state);
        Ok(result)
    }

    /// Computes the given lets (in that order) on the current scan and stores them.
    fn compute_lets(&mut self, cx: &mut Cx<'_>, order: &[u32]) -> R<()> {
        let p = self.p;
        let i = cx.cur;
        for &li in order {
            let Some(l) = p.lets.get(li as usize) else {
                continue;
            };
            let v = self.eval(cx, &l.expr)?;
            if let Some(slot) = self.lets.get_mut(i * p.lets.len() + li as usize) {
                *slot = v;
            }
        }
        Ok(())
    }

    fn shows(&mut self, cx: &mut Cx<'_>) -> R<Vec<ShownValue>> {
        let p = self.p;
        let mut out = Vec::with_capacity(p.shows.len());
        for s in &p.shows {
            let v = self.eval(cx, &s.expr)?;
            out.push(ShownValue {
                name: s.name.clone(),
                value: match v {
                    Value::Null => None,
                    v => Some(self.show(cx, v, s.expr.ty)),
                },
            });
        }
        Ok(out)
    }

    fn choose_targets(&mut self, cx: &mut Cx<'_>) -> R<()> {
        let p = self.p;
        let case = cx.case;
        let base = cx.base as u32;
        let mut candidates: Vec<(u32, Vec<Value>)> = Vec::new();
        for (li, info) in case.lesions.iter().enumerate() {
            if info.is_new {
                continue;
            }
            let li = li as u32;
            match info.role {
                Some(cases::Role::Target) => self.targets.push(li),
                Some(cases::Role::NonTarget) | None => self.non_targets.push(li),
                Some(cases::Role::Auto) => {
                    cx.cur_lesion = Some(Value::Lesion {
                        lesion: li,
                        scan: base,
                    });
                    let ok = self.eval(cx, &p.targets.candidate)? == Value::Bool(true);
                    if ok {
                        let mut keys = Vec::with_capacity(p.targets.rank.len());
                        for (k, _) in &p.targets.rank {
                            keys.push(self.eval(cx, k)?);
                        }
                        candidates.push((li, keys));
                    } else {
                        self.non_targets.push(li);
                    }
                }
            }
        }
        // stable sort: ties keep the case's lesion order
        let rank = &p.targets.rank;
        candidates.sort_by(|a, b| {
            for (i, (_, desc)) in rank.iter().enumerate() {
                let o = compare_values(cx, a.1.get(i), b.1.get(i));
                let o = if *desc { o.reverse() } else { o };
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
        cx.cur = cx.base;
        let max = match self.eval(cx, &p.targets.max)? {
            Value::Num(r) => r.floor(),
            _ => 0,
        };
        let mut chosen_groups: Vec<Vec<Value>> = vec![Vec::new(); p.targets.max_per.len()];
        for ti in 0..self.targets.len() {
            let Some(&t) = self.targets.get(ti) else {
                continue;
            };
            cx.cur_lesion = Some(Value::Lesion {
                lesion: t,
                scan: base,
            });
            for (g, (key, _)) in p.targets.max_per.iter().enumerate() {
                let k = self.eval(cx, key)?;
                if let Some(v) = chosen_groups.get_mut(g) {
                    v.push(k);
                }
            }
        }
        let mut count = self.targets.len() as i128;
        for (li, _) in candidates {
            let mut fits = count < max;
            let mut keys = Vec::with_capacity(p.targets.max_per.len());
            if fits {
                cx.cur_lesion = Some(Value::Lesion {
                    lesion: li,
                    scan: base,
                });
                // a limit may depend on the lesion (irRC: 10 visceral, 5 cutaneous)
                for (g, (key, limit)) in p.targets.max_per.iter().enumerate() {
                    let k = self.eval(cx, key)?;
                    let limit = match self.eval(cx, limit)? {
                        Value::Num(r) => r.floor(),
                        _ => 0,
                    };
                    let used = chosen_groups
                        .get(g)
                        .map(|v| {
                            v.iter()
                                .filter(|x| values_equal(cx, Some(x), Some(&k)))
                                .count()
                        })
                        .unwrap_or(0) as i128;
                    if used >= limit {
                        fits = false;
                    }
                    keys.push(k);
                }
            }
            if fits {
                for (g, k) in keys.into_iter().enumerate() {
                    if let Some(v) = chosen_groups.get_mut(g) {
                        v.push(k);
                    }
                }
                self.targets.push(li);
                count += 1;
            } else {
                self.non_targets.push(li);
            }
        }
        self.targets.sort_unstable();
        self.non_targets.sort_unstable();
        cx.cur_lesion = None;
        Ok(())
    }

    fn run_table(&mut self, cx: &mut Cx<'_>, table: &Table) -> R<Option<Fired>> {
        if self.deriving {
            return self.derive_table(cx, table);
        }
        for rule in &table.rules {
            let fires = match &rule.when {
                None => true,
                Some(w) => self.eval(cx, w)? == Value::Bool(true),
            };
            if !fires {
                continue;
            }
            let explain = match &rule.when {
                None => "otherwise".to_string(),
                Some(w) => {
                    let mut s = String::new();
                    self.explain(cx, w, &mut s, 0)?;
                    s
                }
            };
            let set = self.apply(cx, rule)?;
            return Ok(Some(Fired {
                table: table.name.clone(),
                rule: rule.id.clone(),
                cite: rule.cite.clone(),
                because: rule.because.clone(),
                explain,
                set,
            }));
        }
        Ok(None)
    }

    #[allow(clippy::type_complexity)]
    fn run_summary_table(
        &mut self,
        cx: &mut Cx<'_>,
        table: &Table,
    ) -> R<Option<(Fired, Option<u16>, Option<u16>)>> {
        let before = cx.cur_out;
        cx.cur_out = (None, None);
        let f = self.run_table(cx, table)?;
        let out = cx.cur_out;
        cx.cur_out = before;
        Ok(f.map(|f| (f, out.0, out.1)))
    }

    /// Evaluates every assignment of a fired rule, then assigns them all.
    fn apply(&mut self, cx: &mut Cx<'_>, rule: &RuleInfo) -> R<Vec<String>> {
        let mut values = Vec::with_capacity(rule.assigns.len());
        for a in &rule.assigns {
            values.push(self.eval(cx, &a.value)?);
        }
        let mut set = Vec::with_capacity(values.len());
        for (a, v) in rule.assigns.iter().zip(values) {
            let shown = self.show(cx, v, a.value.ty);
            match a.target {
                Target::Response | Target::BestOverallResponse => {
                    cx.cur_out.0 = sym(v);
                    set.push(format!(
                        "{} = {shown}",
                        if a.target == Target::Response {
                            "response"
                        } else {
                            "best_overall_response"
                        }
                    ));
                }
                Target::Decision | Target::FinalDecision => {
                    cx.cur_out.1 = sym(v);
                    set.push(format!(
                        "{} = {shown}",
                        if a.target == Target::Decision {
                            "decision"
                        } else {
                            "final_decision"
                        }
                    ));
                }
                Target::State(i) => {
                    if let Some(s) = self.state.get_mut(i as usize) {
                        if *s != v {
                            self.state_changed = true;
                        }
                        *s = v;
                    }
                    let name = self
                        .p
                        .states
                        .get(i as usize)
                        .map(|s| s.name.as_str())
                        .unwrap_or("?");
                    set.push(format!("{name} = {shown}"));
                }
            }
        }
        Ok(set)
    }

    // ------------------------------------------------------------- expressions
}
