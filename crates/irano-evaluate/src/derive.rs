//! Full derivations, for `irano-eval explain`: every rule a table tried on a scan (or in
//! the summary), whether it fired, and why — the value of its condition, the values that
//! condition compared, and every definition it read with its own derivation, untruncated.
//!
//! The derivation is recorded while the case is evaluated as usual (the same evaluator,
//! the same order, the same short-circuits), so it can never disagree with the result:
//! a part of a condition that evaluation did not need is marked *not evaluated*, never
//! computed. Pure: no I/O.

use std::collections::VecDeque;

use chrono::NaiveDate;
use irano_cases::Case;
use irano_check::program::*;
use serde::Serialize;

use crate::explain::{location, show_param, squash};
use crate::{
    AssessmentResult, CaseResult, CriterionRef, Cx, EvalError, Evaluator, Fired, ShownValue, R,
};

/// Everything that happened on one scan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanDerivation {
    /// Position of the scan in the case (0-based, date order).
    pub index: usize,
    /// The scan's result, exactly as `evaluate` gives it (its `explain` untruncated).
    pub assessment: AssessmentResult,
    /// The state variables when the scan's tables started (empty when no table ran).
    pub state_before: Vec<ShownValue>,
    /// Every table in order, with every rule it tried (empty for a scan that was not
    /// graded: before the baseline, the baseline itself, after grading stopped).
    pub tables: Vec<TableDerivation>,
    /// The state variables after the last table.
    pub state_after: Vec<ShownValue>,
    /// On the baseline scan: how each lesion became a target, a non-target or neither.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<TargetChoice>,
}

/// How one lesion of the baseline scan was classified by the criterion's `targets`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetChoice {
    pub lesion: String,
    /// The role the case gives it (`target`, `non_target`, `auto`), or `none`.
    pub role: String,
    /// `target`, `non_target` or `not_followed` (it fails `eligible:`).
    pub outcome: String,
    /// Why, in words: the case's role, the candidate test, the rank and the limits.
    pub why: String,
    /// `eligible:` evaluated on the lesion, when the criterion has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eligible: Option<Step>,
    /// `candidate:` evaluated on the lesion (for role `auto`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidate: Option<Step>,
    /// The rank keys evaluated on a candidate, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rank: Vec<Step>,
}

/// One table's run: its rules in order, and the definitions their conditions read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableDerivation {
    pub table: String,
    /// The rule that fired, if any.
    pub fired: Option<String>,
    pub rules: Vec<RuleTrial>,
    /// Every definition (`let`) the conditions read on this scan (in the summary: every
    /// summary `let`), in the order they were first read, each derived once.
    pub definitions: Vec<Definition>,
}

/// Whether a rule fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Fired,
    NotFired,
    /// An earlier rule of the table fired: this one was not tried.
    NotReached,
}

/// One rule of a table: its condition's derivation and what it did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleTrial {
    pub rule: String,
    pub outcome: Outcome,
    pub cite: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub because: Option<String>,
    /// Where the rule is written, `file:line:column`.
    pub location: String,
    /// The condition, evaluated; absent for `otherwise` and for rules not reached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<Step>,
    /// For the rule that fired: the one-line trace (as in `eval`, without truncation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<String>,
    /// For the rule that fired: what it assigned.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<String>,
    /// For the rule that fired: how each assigned value that is not a constant was
    /// derived (a back-dated progression date, say), before anything was assigned.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub assignments: Vec<Assignment>,
}

/// One value a rule assigned, with its derivation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assignment {
    /// The output or state assigned (`pd_date`, `response`).
    pub target: String,
    pub derivation: Step,
}

/// A definition read by the conditions of a table, with its derivation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Definition {
    pub name: String,
    pub value: String,
    pub cite: String,
    /// Where it is declared, `file:line:column`.
    pub location: String,
    /// Its expression, evaluated on the scan.
    pub derivation: Step,
}

/// One expression of a derivation: the text as written, its value, and the parts that
/// decided it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// The expression as written in the rule file (whitespace squashed); for an element
    /// of an aggregate, `VAR = ELEMENT`.
    pub text: String,
    /// Its value, with its unit; absent when evaluation did not need it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The definition this expression reads (or, `def NAME`, the def whose inlined body it
    /// is): `NAME` for a scan definition read on the
    /// current scan or a summary definition (derived once, in the table's
    /// `definitions`), `lesion.NAME` for a lesion definition (derived in `parts`, for
    /// that lesion). A scan definition read on another scan is not derived again: the
    /// note names the scan, whose own derivation explains it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
    /// For a lesion definition: where it is declared and its citation, `FILE:LINE:COL:
    /// CITE` (a scan or summary definition carries them in the table's `definitions`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Why there is no value, which branch was taken, which scan a value was computed on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<Step>,
}

/// The summary's derivation and its outputs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummaryDerivation {
    pub tables: Vec<TableDerivation>,
    pub best_overall_response: Option<String>,
    /// The criterion's own name for it (`native labels`), when it declares one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_overall_response_native: Option<String>,
    pub pd_date: Option<NaiveDate>,
    pub pd_confirmed_on: Option<NaiveDate>,
    pub final_decision: Option<String>,
}

/// A whole case: every scan, then the summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseDerivation {
    pub patient: String,
    pub criterion: CriterionRef,
    pub scans: Vec<ScanDerivation>,
    pub summary: SummaryDerivation,
}

/// Explains one scan (by its index in the case): evaluates the case up to and including
/// that scan, recording every rule each table tried there. `Ok(None)` when the case has
/// no scan at that index.
pub fn explain_scan(
    program: &Program,
    case: &Case,
    scan: usize,
) -> Result<Option<ScanDerivation>, EvalError> {
    if scan >= case.assessments.len() {
        return Ok(None);
    }
    let (result, mut sink) = run(program, case, Some(scan))?;
    Ok(result
        .assessments
        .get(scan)
        .map(|a| scan_derivation(scan, a, &mut sink)))
}

/// Explains every scan of a case and its summary.
pub fn explain_case(program: &Program, case: &Case) -> Result<CaseDerivation, EvalError> {
    let (result, mut sink) = run(program, case, None)?;
    let scans = result
        .assessments
        .iter()
        .enumerate()
        .map(|(i, a)| scan_derivation(i, a, &mut sink))
        .collect();
    Ok(CaseDerivation {
        patient: result.patient,
        criterion: result.criterion,
        scans,
        summary: SummaryDerivation {
            tables: sink.summary,
            best_overall_response: result.best_overall_response,
            best_overall_response_native: result.best_overall_response_native,
            pd_date: result.pd_date,
            pd_confirmed_on: result.pd_confirmed_on,
            final_decision: result.final_decision,
        },
    })
}

fn run(
    program: &Program,
    case: &Case,
    only: Option<usize>,
) -> Result<(CaseResult, Sink), EvalError> {
    let mut ev = Evaluator::new(program);
    ev.explain_depth = usize::MAX;
    ev.derive = Some(Sink {
        only,
        ..Sink::default()
    });
    let result = ev.evaluate(case)?;
    Ok((result, ev.derive.take().unwrap_or_default()))
}

fn scan_derivation(index: usize, a: &AssessmentResult, sink: &mut Sink) -> ScanDerivation {
    let recorded = sink
        .scans
        .iter()
        .position(|s| s.index == index)
        .map(|k| sink.scans.swap_remove(k));
    let (state_before, tables, state_after) = match recorded {
        Some(s) => (s.state_before, s.tables, s.state_after),
        None => (Vec::new(), Vec::new(), Vec::new()),
    };
    let targets = if a.role == crate::ScanRole::Baseline {
        std::mem::take(&mut sink.targets)
    } else {
        Vec::new()
    };
    ScanDerivation {
        index,
        assessment: a.clone(),
        state_before,
        tables,
        state_after,
        targets,
    }
}

/// Where an evaluation in explain mode collects its derivations.
#[derive(Debug, Default)]
pub(crate) struct Sink {
    /// One scan (and nothing after it), or every scan and the summary.
    only: Option<usize>,
    /// The scan being derived.
    current: Recorded,
    scans: Vec<Recorded>,
    summary: Vec<TableDerivation>,
    /// The baseline scan's target choices.
    targets: Vec<TargetChoice>,
    /// The def bodies and lesion lets already derived, by what they were derived on: a
    /// later use shows its value and refers to that derivation, so that nested sets (each
    /// new lesion against every other) do not repeat it for every element.
    derived: std::collections::HashSet<String>,
}

#[derive(Debug, Default)]
struct Recorded {
    index: usize,
    state_before: Vec<ShownValue>,
    tables: Vec<TableDerivation>,
    state_after: Vec<ShownValue>,
}

impl Sink {
    pub(crate) fn wants_scan(&self, i: usize) -> bool {
        self.only.is_none_or(|o| o == i)
    }

    pub(crate) fn wants_summary(&self) -> bool {
        self.only.is_none()
    }

    /// Nothing after scan `i` is wanted.
    pub(crate) fn done_after(&self, i: usize) -> bool {
        self.only == Some(i)
    }
}

/// A definition to derive once per table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DefKey {
    Scan(u32),
    Summary(u32),
}

impl Evaluator<'_> {
    fn state_values(&self, cx: &Cx<'_>) -> Vec<ShownValue> {
        self.p
            .states
            .iter()
            .zip(&self.state)
            .map(|(s, v)| crate::explain::shown_value(self.p, cx.case, &s.name, *v, s.ty))
            .collect()
    }

    pub(crate) fn begin_scan_derivation(&mut self, cx: &Cx<'_>) {
        let before = self.state_values(cx);
        if let Some(d) = self.derive.as_mut() {
            d.current = Recorded {
                index: cx.cur,
                state_before: before,
                ..Recorded::default()
            };
        }
    }

    pub(crate) fn end_scan_derivation(&mut self, cx: &Cx<'_>, i: usize) {
        let after = self.state_values(cx);
        if let Some(d) = self.derive.as_mut() {
            let mut r = std::mem::take(&mut d.current);
            r.index = i;
            r.state_after = after;
            d.scans.push(r);
        }
    }

    /// After the targets are chosen (as evaluation chose them): how each lesion of the
    /// baseline scan was classified, with `eligible:`, `candidate:` and the rank keys
    /// derived on it. Pure: it evaluates what the choice evaluated, on the same scan.
    pub(crate) fn derive_targets(&mut self, cx: &mut Cx<'_>) -> R<()> {
        let p = self.p;
        let case = cx.case;
        let base = cx.base as u32;
        let mut pending = VecDeque::new();
        let mut out = Vec::new();
        // the candidates in rank order, to say where each one stood
        let mut ranked: Vec<u32> = Vec::new();
        for (li, info) in case.lesions.iter().enumerate() {
            if info.is_new {
                continue;
            }
            let li = li as u32;
            cx.cur_lesion = Some(Value::Lesion {
                lesion: li,
                scan: base,
            });
            let role = match info.role {
                Some(irano_cases::Role::Target) => "target",
                Some(irano_cases::Role::NonTarget) => "non_target",
                Some(irano_cases::Role::Auto) => "auto",
                None => "none",
            };
            let mut c = TargetChoice {
                lesion: info.id.clone(),
                role: role.to_string(),
                outcome: String::new(),
                why: String::new(),
                eligible: None,
                candidate: None,
                rank: Vec::new(),
            };
            if let Some(e) = &p.targets.eligible {
                c.eligible = Some(self.step(cx, e, &mut pending)?);
                if self.eval(cx, e)? != Value::Bool(true) {
                    c.outcome = "not_followed".into();
                    c.why = "fails `eligible:`: this criterion does not follow it".into();
                    out.push(c);
                    continue;
                }
            }
            match info.role {
                Some(irano_cases::Role::Target) => {
                    c.why = "the case gives it `role: target`".into();
                }
                Some(irano_cases::Role::NonTarget) => {
                    c.why = "the case gives it `role: non_target`".into();
                }
                None => c.why = "the case gives it no role: a non-target".into(),
                Some(irano_cases::Role::Auto) => {
                    c.candidate = Some(self.step(cx, &p.targets.candidate, &mut pending)?);
                    if self.eval(cx, &p.targets.candidate)? == Value::Bool(true) {
                        for (k, _) in &p.targets.rank {
                            let r = self.step(cx, k, &mut pending)?;
                            c.rank.push(r);
                        }
                        ranked.push(li);
                    } else {
                        c.why = "`role: auto` and not a candidate: a non-target".into();
                    }
                }
            }
            out.push(c);
        }
        // where each candidate stood: the rank order evaluation chose in
        let mut keyed: Vec<(u32, Vec<Value>)> = Vec::with_capacity(ranked.len());
        for &li in &ranked {
            cx.cur_lesion = Some(Value::Lesion {
                lesion: li,
                scan: base,
            });
            let mut keys = Vec::with_capacity(p.targets.rank.len());
            for (k, _) in &p.targets.rank {
                keys.push(self.eval(cx, k)?);
            }
            keyed.push((li, keys));
        }
        cx.cur_lesion = None;
        keyed.sort_by(|a, b| crate::by_rank(cx, &p.targets.rank, &a.1, &b.1));
        let max_value = self.eval(cx, &p.targets.max)?;
        let max = self.show(cx, max_value, p.targets.max.ty);
        let max_reached = match max_value {
            Value::Num(m) => self.targets.len() as i128 >= m.floor(),
            _ => false,
        };
        let n = keyed.len();
        let mut names = case.lesions.iter().enumerate().filter(|(_, l)| !l.is_new);
        for c in out.iter_mut() {
            let Some((li, _)) = names.next() else { break };
            let li = li as u32;
            if !c.outcome.is_empty() {
                continue;
            }
            let chosen = self.targets.contains(&li);
            c.outcome = if chosen { "target" } else { "non_target" }.into();
            if let Some(k) = keyed.iter().position(|(x, _)| *x == li) {
                c.why = if chosen {
                    format!("`role: auto`, a candidate ranked {} of {n}: chosen (at most {max} targets)", k + 1)
                } else {
                    let group = if max_reached {
                        None
                    } else {
                        self.group_full(cx, case, li, base)?
                    };
                    match group {
                        Some((group, limit)) => format!(
                            "`role: auto`, a candidate ranked {} of {n}: not chosen, its `max_per` group{group} already had its {limit} target(s)",
                            k + 1
                        ),
                        None => format!(
                            "`role: auto`, a candidate ranked {} of {n}: not chosen, the limit of {max} targets was reached before it",
                            k + 1
                        ),
                    }
                };
            }
        }
        if let Some(d) = self.derive.as_mut() {
            d.targets = out;
        }
        Ok(())
    }

    /// For a candidate left out of the targets: the `max_per` group that was full when its
    /// turn came (its key as text, ` `KEY`` or empty, and the group's limit), if one was.
    fn group_full(
        &mut self,
        cx: &mut Cx<'_>,
        case: &Case,
        li: u32,
        base: u32,
    ) -> R<Option<(String, String)>> {
        let p = self.p;
        for (key, limit) in &p.targets.max_per {
            let at = |l: u32| Value::Lesion {
                lesion: l,
                scan: base,
            };
            cx.cur_lesion = Some(at(li));
            let k = self.eval(cx, key)?;
            let lim = self.eval(cx, limit)?;
            let mut used = 0usize;
            for &t in self.targets.clone().iter().filter(|&&t| t != li) {
                cx.cur_lesion = Some(at(t));
                let tk = self.eval(cx, key)?;
                if crate::expr::values_equal(cx, Some(&tk), Some(&k)) {
                    used += 1;
                }
            }
            cx.cur_lesion = None;
            let full = match lim {
                Value::Num(n) => used as i128 >= n.floor(),
                _ => false,
            };
            if full {
                let group = match k {
                    Value::Text(t) => format!(" `{}`", crate::access::text_of(p, case, t)),
                    _ => String::new(),
                };
                return Ok(Some((group, self.show(cx, lim, limit.ty))));
            }
        }
        Ok(None)
    }

    /// Runs a table as `run_table` does — first matching rule, same evaluation — and
    /// records every rule it tries with its condition's derivation.
    pub(crate) fn derive_table(
        &mut self,
        cx: &mut Cx<'_>,
        table: &Table,
    ) -> R<Option<(usize, Fired)>> {
        let p = self.p;
        let mut td = TableDerivation {
            table: table.name.clone(),
            fired: None,
            rules: Vec::with_capacity(table.rules.len()),
            definitions: Vec::new(),
        };
        let mut pending = VecDeque::new();
        let mut seen = Vec::new();
        let mut fired = None;
        for (ri, rule) in table.rules.iter().enumerate() {
            let mut trial = RuleTrial {
                rule: rule.id.clone(),
                outcome: Outcome::NotReached,
                cite: rule.cite.clone(),
                because: rule.because.clone(),
                location: location(p, rule.src),
                condition: None,
                explain: None,
                set: Vec::new(),
                assignments: Vec::new(),
            };
            if fired.is_some() {
                td.rules.push(trial);
                continue;
            }
            let fires = match &rule.when {
                None => true,
                Some(w) => {
                    let fires = self.eval(cx, w)? == Value::Bool(true);
                    trial.condition = Some(self.step(cx, w, &mut pending)?);
                    fires
                }
            };
            // derived before the rule assigns anything: as the condition saw them
            self.define(cx, &mut pending, &mut seen, &mut td.definitions)?;
            if !fires {
                trial.outcome = Outcome::NotFired;
                td.rules.push(trial);
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
            // derived before anything is assigned, as `apply` evaluates them
            for a in rule.assigns.iter().filter(|a| !trivial(&a.value)) {
                trial.assignments.push(Assignment {
                    target: crate::target_name(p, a.target).to_string(),
                    derivation: self.step(cx, &a.value, &mut pending)?,
                });
            }
            self.define(cx, &mut pending, &mut seen, &mut td.definitions)?;
            let set = self.apply(cx, rule, true)?;
            trial.outcome = Outcome::Fired;
            trial.explain = Some(explain.clone());
            trial.set = set.clone();
            td.fired = Some(rule.id.clone());
            td.rules.push(trial);
            fired = Some((
                ri,
                Fired {
                    table: table.name.clone(),
                    rule: rule.id.clone(),
                    cite: rule.cite.clone(),
                    because: rule.because.clone(),
                    explain,
                    set,
                },
            ));
        }
        if let Some(d) = self.derive.as_mut() {
            if cx.in_summary {
                d.summary.push(td);
            } else {
                d.current.tables.push(td);
            }
        }
        Ok(fired)
    }

    /// Derives the definitions read so far (and those they read), each once per table.
    fn define(
        &mut self,
        cx: &mut Cx<'_>,
        pending: &mut VecDeque<DefKey>,
        seen: &mut Vec<DefKey>,
        out: &mut Vec<Definition>,
    ) -> R<()> {
        let p = self.p;
        while let Some(k) = pending.pop_front() {
            if seen.contains(&k) {
                continue;
            }
            seen.push(k);
            let info = match k {
                DefKey::Scan(i) => p.lets.get(i as usize),
                DefKey::Summary(i) => p.summary_lets.get(i as usize),
            };
            let Some(info) = info else { continue };
            let derivation = self.step(cx, &info.expr, pending)?;
            out.push(Definition {
                name: info.name.clone(),
                value: derivation.value.clone().unwrap_or_default(),
                cite: info.cite.clone(),
                location: location(p, info.src),
                derivation,
            });
        }
        Ok(())
    }

    fn shown(&self, cx: &Cx<'_>, e: &Expr, v: Value) -> String {
        match (&e.kind, v) {
            (ExprKind::Param(i), v) => match self.p.params.get(*i as usize) {
                Some(pi) => show_param(self.p, pi, v),
                None => self.show(cx, v, e.ty),
            },
            _ => self.show(cx, v, e.ty),
        }
    }

    fn name_or_text(&self, name: Option<&String>, e: &Expr) -> String {
        match name {
            Some(n) => n.clone(),
            None => squash(self.p.text_of(e.src)),
        }
    }

    fn leaf(&mut self, cx: &mut Cx<'_>, e: &Expr) -> R<Step> {
        let v = self.eval(cx, e)?;
        let value = self.shown(cx, e, v);
        Ok(Step {
            text: match e.kind {
                // a constant is its value (`0 mm` rather than `0 = 0 mm`)
                ExprKind::Const(_) => value.clone(),
                // a name read by itself; the checker may give it the span of the whole
                // path it starts (`provisional` in `provisional.date`)
                ExprKind::State(i) => {
                    self.name_or_text(self.p.states.get(i as usize).map(|x| &x.name), e)
                }
                ExprKind::Param(i) => {
                    self.name_or_text(self.p.params.get(i as usize).map(|x| &x.name), e)
                }
                ExprKind::SummaryLet(i) => {
                    self.name_or_text(self.p.summary_lets.get(i as usize).map(|x| &x.name), e)
                }
                _ => squash(self.p.text_of(e.src)),
            },
            value: Some(value),
            definition: None,
            source: None,
            note: None,
            parts: Vec::new(),
        })
    }

    /// An expression's derivation. Mirrors `eval`: it evaluates exactly what evaluation
    /// evaluates, in the same order, so it fails only where evaluation fails.
    fn step(&mut self, cx: &mut Cx<'_>, e: &Expr, pending: &mut VecDeque<DefKey>) -> R<Step> {
        let def = self.p.defs.iter().find(|d| d.body_src == e.src);
        // a def body or lesion let derived before on the same values: referred to
        let key = match (&e.kind, def) {
            (_, Some(_)) => {
                let mut vars = Vec::new();
                free_vars(e, &mut vars);
                let values: Vec<Value> = vars
                    .iter()
                    .map(|&v| {
                        self.slots
                            .get(usize::from(v))
                            .copied()
                            .unwrap_or(Value::Null)
                    })
                    .collect();
                // (the state too: a table may change it between two reads on one scan)
                Some(format!(
                    "{:?} {values:?} {:?} {} {} {:?}",
                    e.src, cx.cur_lesion, cx.cur, cx.in_summary, self.state
                ))
            }
            (ExprKind::LesionLet(i, l), None) => {
                let lv = self.eval(cx, l)?;
                Some(format!(
                    "lesion {i} {lv:?} {} {} {:?}",
                    cx.cur, cx.in_summary, self.state
                ))
            }
            _ => None,
        };
        let mut s = self.step_of(cx, e, pending)?;
        if let (Some(k), Some(d)) = (key, self.derive.as_mut()) {
            // derived before on the same values: a long derivation is not repeated (its
            // inner uses were already shortened, so it was cheap to build)
            if !d.derived.insert(k) && lines(&s) > 4 {
                s.parts.clear();
                s.note = Some(match s.note.take() {
                    Some(n) => format!("{n}; derived above on the same values"),
                    None => "derived above on the same values".into(),
                });
            }
        }
        // the body of a def, inlined where it is called: name the def and its source
        if s.definition.is_none() {
            if let Some(d) = def {
                s.definition = Some(format!("def {}", d.name));
                s.source = Some(source_of(self.p, d.src, &d.cite));
            }
        }
        Ok(s)
    }

    fn step_of(&mut self, cx: &mut Cx<'_>, e: &Expr, pending: &mut VecDeque<DefKey>) -> R<Step> {
        let p = self.p;
        let mut s = self.leaf(cx, e)?;
        match &e.kind {
            ExprKind::Binary(op @ (BinKind::And | BinKind::Or), _, _) => {
                // `a and b and c` as one list; stop where evaluation stops
                let mut ops = Vec::new();
                flatten(e, *op, &mut ops);
                let mut decided = false;
                for x in ops {
                    if decided {
                        s.parts.push(not_evaluated(
                            p,
                            x,
                            if *op == BinKind::And {
                                "not evaluated: an earlier operand is false"
                            } else {
                                "not evaluated: an earlier operand is true"
                            },
                        ));
                        continue;
                    }
                    let v = self.eval(cx, x)? == Value::Bool(true);
                    s.parts.push(self.step(cx, x, pending)?);
                    decided = if *op == BinKind::And { !v } else { v };
                }
            }
            ExprKind::Binary(BinKind::Coalesce, a, b) => {
                let absent = self.eval(cx, a)? == Value::Null;
                s.parts.push(self.step(cx, a, pending)?);
                if absent {
                    s.parts.push(self.step(cx, b, pending)?);
                } else {
                    s.parts
                        .push(not_evaluated(p, b, "not evaluated: the left side is given"));
                }
            }
            ExprKind::Binary(_, a, b) => {
                s.parts.push(self.step(cx, a, pending)?);
                s.parts.push(self.step(cx, b, pending)?);
            }
            ExprKind::Unary(_, x) | ExprKind::InSet(x, _) => {
                s.parts.push(self.step(cx, x, pending)?);
            }
            ExprKind::If(c, t, f) => {
                let taken = self.eval(cx, c)? == Value::Bool(true);
                s.parts.push(self.step(cx, c, pending)?);
                let mut b = self.step(cx, if taken { t } else { f }, pending)?;
                b.note = Some(if taken { "then" } else { "else" }.into());
                s.parts.push(b);
            }
            ExprKind::Match {
                scrutinee,
                arms,
                default,
            } => {
                let v = self.eval(cx, scrutinee)?;
                s.parts.push(self.step(cx, scrutinee, pending)?);
                if let Some(arm) = crate::expr::match_arm(v, arms, default.as_deref()) {
                    let mut b = self.step(cx, arm, pending)?;
                    b.note = Some("the arm taken".into());
                    s.parts.push(b);
                }
            }
            ExprKind::Call(_, args) => {
                for a in args {
                    s.parts.push(self.step(cx, a, pending)?);
                }
            }
            ExprKind::ScanLet(li, scan) => {
                let name = p
                    .lets
                    .get(*li as usize)
                    .map(|l| l.name.as_str())
                    .unwrap_or("?");
                if matches!(scan.kind, ExprKind::CurScan) && !cx.in_summary {
                    // read by its name (the checker gives the implicit scan the span of
                    // the whole path, so the text can be longer)
                    s.text = name.to_string();
                    s.definition = Some(name.to_string());
                    pending.push_back(DefKey::Scan(*li));
                } else {
                    // computed when that scan was evaluated: its own derivation explains it
                    let on = self.eval(cx, scan)?;
                    if on != Value::Null {
                        s.note = Some(format!(
                            "`{name}` as computed on the {}",
                            self.show(cx, on, scan.ty)
                        ));
                    }
                    if !trivial(scan) {
                        s.parts.push(self.step(cx, scan, pending)?);
                    }
                }
            }
            ExprKind::SummaryLet(i) => {
                s.definition = p.summary_lets.get(*i as usize).map(|l| l.name.clone());
                pending.push_back(DefKey::Summary(*i));
            }
            ExprKind::LesionLet(i, l) => {
                if let Some(info) = p.lesion_lets.get(*i as usize) {
                    s.definition = Some(format!("lesion.{}", info.name));
                    s.source = Some(source_of(p, info.src, &info.cite));
                }
                let lv = self.eval(cx, l)?;
                if !trivial(l) {
                    s.parts.push(self.step(cx, l, pending)?);
                }
                if lv != Value::Null {
                    if let Some(def) = p.lesion_lets.get(*i as usize) {
                        let saved = cx.cur_lesion.replace(lv);
                        let r = self.step(cx, &def.expr, pending);
                        cx.cur_lesion = saved;
                        s.parts.push(r?);
                    }
                }
            }
            ExprKind::ScanField(_, x)
            | ExprKind::ScanOutput(_, x)
            | ExprKind::LesionField(_, x) => {
                if !trivial(x) {
                    s.parts.push(self.step(cx, x, pending)?);
                }
            }
            ExprKind::Aggregate(agg) => self.step_aggregate(cx, agg, &mut s, pending)?,
            ExprKind::Const(_)
            | ExprKind::Param(_)
            | ExprKind::Var(_)
            | ExprKind::CurScan
            | ExprKind::Baseline
            | ExprKind::Previous
            | ExprKind::CurLesion
            | ExprKind::CaseField(_)
            | ExprKind::CurOutput(_)
            | ExprKind::State(_) => {}
        }
        Ok(s)
    }

    /// The elements of an aggregate, each with its filter and value, up to where
    /// evaluation stops (the first match of `any`, ...).
    fn step_aggregate(
        &mut self,
        cx: &mut Cx<'_>,
        agg: &Aggregate,
        s: &mut Step,
        pending: &mut VecDeque<DefKey>,
    ) -> R<()> {
        let p = self.p;
        for x in set_operands(&agg.source) {
            if !trivial(x) {
                s.parts.push(self.step(cx, x, pending)?);
            }
        }
        let var = bound_name(p, agg);
        let it = self.set_bounds(cx, &agg.source)?;
        let len = self.set_len(cx, &it);
        let slot = usize::from(agg.slot);
        let mut elements = 0usize;
        let mut unshown = 0usize;
        for k in 0..len {
            let Some(elem) = self.set_item(cx, &it, k) else {
                continue;
            };
            if let Some(x) = self.slots.get_mut(slot) {
                *x = elem;
            }
            elements += 1;
            // past the first MAX_ELEMENTS_SHOWN elements, only the one where evaluation stops
            // is derived: nested sets (each new lesion against every other, say) would
            // otherwise make the derivation grow as their product
            if elements > MAX_ELEMENTS_SHOWN {
                let included = match &agg.filter {
                    Some(f) => self.eval(cx, f)? == Value::Bool(true),
                    None => true,
                };
                let hit = included
                    && match (&agg.value, agg.kind) {
                        (Some(v), AggKind::Any | AggKind::All) => {
                            self.eval(cx, v)? == Value::Bool(true)
                        }
                        _ => true,
                    };
                let stops = match agg.kind {
                    AggKind::Any => included && hit,
                    AggKind::All => included && !hit,
                    AggKind::First => included,
                    _ => false,
                };
                if !stops {
                    unshown += 1;
                    continue;
                }
            }
            let mut el = Step {
                text: format!("{var} = {}", self.show(cx, elem, elem_ty(elem))),
                value: None,
                definition: None,
                source: None,
                note: None,
                parts: Vec::new(),
            };
            let mut included = true;
            if let Some(f) = &agg.filter {
                included = self.eval(cx, f)? == Value::Bool(true);
                el.parts.push(self.step(cx, f, pending)?);
            }
            let mut hit = included;
            if included {
                if let Some(v) = &agg.value {
                    let vs = self.step(cx, v, pending)?;
                    el.value = vs.value.clone();
                    if matches!(agg.kind, AggKind::Any | AggKind::All) {
                        hit = self.eval(cx, v)? == Value::Bool(true);
                    }
                    el.parts.push(vs);
                }
                if agg.value.is_none() {
                    el.note = Some("passes the filter".into());
                }
            } else {
                el.note = Some("left out by the filter".into());
            }
            s.parts.push(el);
            let stop = match agg.kind {
                AggKind::Any => included && hit,
                AggKind::All => included && !hit,
                AggKind::First => included,
                _ => false,
            };
            if stop {
                if k + 1 < len {
                    s.note = Some("evaluation stops at this element".into());
                }
                break;
            }
        }
        if elements == 0 {
            s.note = Some("no elements".into());
        }
        if unshown > 0 {
            let more = format!(
                "{unshown} more element(s) not shown (the first {MAX_ELEMENTS_SHOWN} of a set are derived, and the one where evaluation stops)"
            );
            s.note = Some(match s.note.take() {
                Some(n) => format!("{n}; {more}"),
                None => more,
            });
        }
        Ok(())
    }
}

/// How many elements of a set a derivation shows in full.
const MAX_ELEMENTS_SHOWN: usize = 20;

/// How many lines a derivation prints (itself and every part).
fn lines(s: &Step) -> usize {
    1 + s.parts.iter().map(lines).sum::<usize>()
}

/// The bound variables an expression reads that it does not bind itself (an inlined def
/// body's parameters, or a set variable of an enclosing aggregate), each once.
fn free_vars(e: &Expr, out: &mut Vec<u16>) {
    fn walk(e: &Expr, bound: &mut Vec<u16>, out: &mut Vec<u16>) {
        match &e.kind {
            ExprKind::Var(v) => {
                if !bound.contains(v) && !out.contains(v) {
                    out.push(*v);
                }
            }
            ExprKind::Aggregate(agg) => {
                // the set is read outside the variable's scope
                for x in set_operands(&agg.source) {
                    walk(x, bound, out);
                }
                bound.push(agg.slot);
                for x in agg.filter.iter().chain(agg.value.iter()) {
                    walk(x, bound, out);
                }
                bound.pop();
            }
            _ => {
                for c in e.children() {
                    walk(c, bound, out);
                }
            }
        }
    }
    walk(e, &mut Vec::new(), out);
}

fn flatten<'e>(e: &'e Expr, op: BinKind, out: &mut Vec<&'e Expr>) {
    match &e.kind {
        ExprKind::Binary(o, a, b) if *o == op => {
            flatten(a, op, out);
            flatten(b, op, out);
        }
        _ => out.push(e),
    }
}

/// `FILE:LINE:COL: CITE` of a definition (the place alone when it cites nothing).
fn source_of(p: &Program, src: Src, cite: &str) -> String {
    if cite.is_empty() {
        location(p, src)
    } else {
        format!("{}: {cite}", location(p, src))
    }
}

fn not_evaluated(p: &Program, e: &Expr, why: &str) -> Step {
    Step {
        text: squash(p.text_of(e.src)),
        value: None,
        definition: None,
        source: None,
        note: Some(why.into()),
        parts: Vec::new(),
    }
}

/// Expressions whose derivation would only repeat their value.
fn trivial(e: &Expr) -> bool {
    matches!(
        e.kind,
        ExprKind::CurScan
            | ExprKind::Baseline
            | ExprKind::Previous
            | ExprKind::CurLesion
            | ExprKind::Var(_)
            | ExprKind::Const(_)
    )
}

fn set_operands(set: &SetExpr) -> Vec<&Expr> {
    match set {
        SetExpr::Scans | SetExpr::Prior | SetExpr::Graded => Vec::new(),
        SetExpr::After(x)
        | SetExpr::Targets(x)
        | SetExpr::NonTargets(x)
        | SetExpr::NewLesions(x)
        | SetExpr::NewLesionsToDate(x)
        | SetExpr::Lesions(x) => vec![x],
        SetExpr::Between(a, b) => vec![a, b],
    }
}

fn elem_ty(v: Value) -> irano_check::types::Ty {
    use irano_check::types::Ty;
    match v {
        Value::Lesion { .. } => Ty::LESION,
        _ => Ty::SCAN,
    }
}

/// The name of an aggregate's bound variable, as written where its body reads it (the
/// text of a read may be a whole path, `l.size`: the name is its first part).
fn bound_name(p: &Program, agg: &Aggregate) -> String {
    let mut name = None;
    let mut find = |x: &Expr| match x.kind {
        ExprKind::Var(s) if s == agg.slot => {
            let text = p.text_of(x.src).trim_start();
            let end = text
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(text.len());
            name = text.get(..end).map(str::to_string);
            true
        }
        _ => false,
    };
    let _ = agg.filter.as_ref().is_some_and(|f| f.any(&mut find))
        || agg.value.as_ref().is_some_and(|v| v.any(&mut find));
    name.filter(|n| !n.is_empty())
        .unwrap_or_else(|| "element".into())
}
