//! The evaluator: a checked [`Program`] applied to a [`Case`]. Pure — no I/O, no
//! globals, no criterion knowledge: every threshold, label and rule comes from the
//! program. The same program and case always give the same result.
//!
//! One pass over the scans in date order: lets are computed, the tables run (first
//! matching rule per table), state is updated; then the summary runs once.

mod result;

use std::cmp::Ordering;
use std::fmt::Write as _;

use chrono::NaiveDate;
use irano_cases::{self as cases, Case};
use irano_check::program::*;
use irano_check::types::{Base, Ty, Unit};
use irano_exact::{add_days, add_months, days_between, Rational};
use irano_syntax::ast::AggKind;

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
            pd_date: None,
            pd_confirmed_on: None,
            final_decision: None,
            summary: Vec::new(),
            lesions: None,
            overrides: p
                .params
                .iter()
                .filter(|x| x.overridden)
                .map(|x| ParamValue {
                    name: x.name.clone(),
                    value: show_param(p, x, x.value),
                    default: show_param(p, x, x.default),
                })
                .collect(),
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
                    role: ScanRole::PreBaseline,
                    response: None,
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
            for &li in &p.let_order {
                let Some(l) = p.lets.get(li as usize) else {
                    continue;
                };
                let v = self.eval(&mut cx, &l.expr).map_err(|f| wrap(f, date))?;
                if let Some(slot) = self.lets.get_mut(i * p.lets.len() + li as usize) {
                    *slot = v;
                }
            }
            let values = self.shows(&mut cx).map_err(|f| wrap(f, date))?;
            let mut ar = AssessmentResult {
                date: a.date,
                day,
                role: ScanRole::Followup,
                response: None,
                decision: None,
                rule: None,
                explain: None,
                reason: None,
                values,
                fired: Vec::new(),
            };
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
            for table in &p.tables {
                if let Some(f) = self.run_table(&mut cx, table).map_err(|f| wrap(f, date))? {
                    ar.fired.push(f);
                }
            }
            if let Some(o) = self.outputs.get_mut(i) {
                *o = cx.cur_out;
            }
            if let Some(g) = self.graded.get_mut(i) {
                *g = true;
            }
            ar.response = cx.cur_out.0.map(|v| p.label_name(v).to_string());
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
        result.best_overall_response = bor.map(|v| p.label_name(v).to_string());
        result.final_decision = fin.map(|v| p.decision_name(v).to_string());
        let state_date = |ix: Option<u32>| match ix.and_then(|i| self.state.get(i as usize)) {
            Some(Value::Date(d)) => Some(*d),
            _ => None,
        };
        result.pd_date = state_date(p.pd_date_state);
        result.pd_confirmed_on = state_date(p.pd_confirmed_state);
        Ok(result)
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

    fn eval(&mut self, cx: &mut Cx<'_>, e: &Expr) -> R<Value> {
        let p = self.p;
        Ok(match &e.kind {
            ExprKind::Const(v) => *v,
            ExprKind::Param(i) => p
                .params
                .get(*i as usize)
                .map(|x| x.value)
                .unwrap_or(Value::Null),
            ExprKind::Var(s) => self
                .slots
                .get(usize::from(*s))
                .copied()
                .unwrap_or(Value::Null),
            ExprKind::CurScan => {
                if cx.in_summary {
                    return fail("no current scan in the summary", e.src);
                }
                Value::Scan(cx.cur as u32)
            }
            ExprKind::Baseline => Value::Scan(cx.base as u32),
            ExprKind::Previous => {
                if cx.cur > cx.base && !cx.in_summary {
                    Value::Scan((cx.cur - 1) as u32)
                } else {
                    Value::Null
                }
            }
            ExprKind::CurLesion => cx.cur_lesion.unwrap_or(Value::Null),
            ExprKind::CaseField(f) => match f {
                CaseField::Setting => Value::Sym(match cx.case.setting {
                    cases::Setting::Recurrent => 0,
                    cases::Setting::NewlyDiagnosed => 1,
                }),
                CaseField::TherapyStart => Value::Date(cx.case.therapy_start),
                CaseField::ChemoradiationEnd => cx
                    .case
                    .chemoradiation_end
                    .map(Value::Date)
                    .unwrap_or(Value::Null),
            },
            ExprKind::ScanField(f, s) => match self.eval(cx, s)? {
                Value::Scan(i) => match cx.case.assessments.get(i as usize) {
                    Some(a) => scan_field(a, *f, i),
                    None => Value::Null,
                },
                _ => Value::Null,
            },
            ExprKind::ScanLet(li, s) => match self.eval(cx, s)? {
                Value::Scan(i) => {
                    let i = i as usize;
                    if i < cx.base || (!cx.in_summary && i > cx.cur) {
                        let name = p
                            .lets
                            .get(*li as usize)
                            .map(|l| l.name.as_str())
                            .unwrap_or("?");
                        return fail(
                            format!("`{name}` is computed only from the baseline scan on"),
                            e.src,
                        );
                    }
                    self.lets
                        .get(i * p.lets.len() + *li as usize)
                        .copied()
                        .unwrap_or(Value::Null)
                }
                _ => Value::Null,
            },
            ExprKind::SummaryLet(i) => self
                .summary_lets
                .get(*i as usize)
                .copied()
                .unwrap_or(Value::Null),
            ExprKind::ScanOutput(o, s) => match self.eval(cx, s)? {
                Value::Scan(i) => {
                    let out = self
                        .outputs
                        .get(i as usize)
                        .copied()
                        .unwrap_or((None, None));
                    let v = if *o == Output::Response { out.0 } else { out.1 };
                    v.map(Value::Sym).unwrap_or(Value::Null)
                }
                _ => Value::Null,
            },
            ExprKind::CurOutput(o) => {
                let v = if *o == Output::Response {
                    cx.cur_out.0
                } else {
                    cx.cur_out.1
                };
                v.map(Value::Sym).unwrap_or(Value::Null)
            }
            ExprKind::State(i) => self.state.get(*i as usize).copied().unwrap_or(Value::Null),
            ExprKind::LesionField(f, l) => match self.eval(cx, l)? {
                Value::Lesion { lesion, scan } => lesion_field(cx.case, lesion, scan, *f),
                _ => Value::Null,
            },
            ExprKind::LesionLet(i, l) => {
                let lv = self.eval(cx, l)?;
                if lv == Value::Null {
                    return Ok(Value::Null);
                }
                let Some(def) = p.lesion_lets.get(*i as usize) else {
                    return Ok(Value::Null);
                };
                let saved = cx.cur_lesion.replace(lv);
                let r = self.eval(cx, &def.expr);
                cx.cur_lesion = saved;
                r?
            }
            ExprKind::Unary(UnKind::Not, x) => match self.eval(cx, x)? {
                Value::Bool(b) => Value::Bool(!b),
                _ => Value::Null,
            },
            ExprKind::Unary(UnKind::Neg, x) => match self.eval(cx, x)? {
                Value::Num(r) => Value::Num(arith(r.checked_neg(), e.src)?),
                _ => Value::Null,
            },
            ExprKind::Binary(op, a, b) => self.binary(cx, *op, a, b, e.src)?,
            ExprKind::If(c, t, f) => {
                if self.eval(cx, c)? == Value::Bool(true) {
                    self.eval(cx, t)?
                } else {
                    self.eval(cx, f)?
                }
            }
            ExprKind::Match {
                scrutinee,
                arms,
                default,
            } => {
                let v = self.eval(cx, scrutinee)?;
                match match_arm(v, arms, default.as_deref()) {
                    Some(x) => self.eval(cx, x)?,
                    None => Value::Null,
                }
            }
            ExprKind::InSet(x, set) => {
                let v = self.eval(cx, x)?;
                Value::Bool(set.iter().any(|s| values_equal(cx, Some(s), Some(&v))))
            }
            ExprKind::Call(b, args) => self.call(cx, *b, args, e.src)?,
            ExprKind::Aggregate(agg) => self.aggregate(cx, agg, e.src)?,
        })
    }

    fn binary(&mut self, cx: &mut Cx<'_>, op: BinKind, a: &Expr, b: &Expr, src: Src) -> R<Value> {
        match op {
            BinKind::And => {
                if self.eval(cx, a)? != Value::Bool(true) {
                    return Ok(Value::Bool(false));
                }
                return Ok(Value::Bool(self.eval(cx, b)? == Value::Bool(true)));
            }
            BinKind::Or => {
                if self.eval(cx, a)? == Value::Bool(true) {
                    return Ok(Value::Bool(true));
                }
                return Ok(Value::Bool(self.eval(cx, b)? == Value::Bool(true)));
            }
            BinKind::Coalesce => {
                let x = self.eval(cx, a)?;
                return if x == Value::Null {
                    self.eval(cx, b)
                } else {
                    Ok(x)
                };
            }
            _ => {}
        }
        let x = self.eval(cx, a)?;
        let y = self.eval(cx, b)?;
        Ok(match op {
            BinKind::Eq => Value::Bool(values_equal(cx, Some(&x), Some(&y))),
            BinKind::Ne => Value::Bool(!values_equal(cx, Some(&x), Some(&y))),
            BinKind::Lt | BinKind::Le | BinKind::Gt | BinKind::Ge => {
                if x == Value::Null || y == Value::Null {
                    return fail("compared an absent value", src);
                }
                let o = compare_values(cx, Some(&x), Some(&y));
                Value::Bool(match op {
                    BinKind::Lt => o == Ordering::Less,
                    BinKind::Le => o != Ordering::Greater,
                    BinKind::Gt => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                })
            }
            BinKind::Add | BinKind::Sub | BinKind::Mul | BinKind::Div => match (x, y) {
                (Value::Num(p), Value::Num(q)) => Value::Num(arith(
                    match op {
                        BinKind::Add => p.checked_add(q),
                        BinKind::Sub => p.checked_sub(q),
                        BinKind::Mul => p.checked_mul(q),
                        _ => p.checked_div(q),
                    },
                    src,
                )?),
                _ => return fail("arithmetic on an absent value", src),
            },
            BinKind::DateAddDays
            | BinKind::DateSubDays
            | BinKind::DateAddMonths
            | BinKind::DateSubMonths => {
                let (Value::Date(d), Value::Num(r)) = (x, y) else {
                    return fail("date arithmetic on an absent value", src);
                };
                if r.denom() != 1 {
                    return fail(
                        format!("`{r}` is not a whole number of days or months"),
                        src,
                    );
                }
                let k = i64::try_from(r.numer()).map_err(|_| Fail {
                    message: "date offset out of range".into(),
                    src,
                })?;
                let out = match op {
                    BinKind::DateAddDays => add_days(d, k),
                    BinKind::DateSubDays => add_days(d, -k),
                    BinKind::DateAddMonths => add_months(d, k),
                    _ => add_months(d, -k),
                };
                match out {
                    Some(d) => Value::Date(d),
                    None => return fail("date out of range", src),
                }
            }
            BinKind::DateDiff => match (x, y) {
                (Value::Date(p), Value::Date(q)) => {
                    Value::Num(Rational::from_int(days_between(q, p)))
                }
                _ => return fail("date arithmetic on an absent value", src),
            },
            BinKind::And | BinKind::Or | BinKind::Coalesce => Value::Null,
        })
    }

    fn call(&mut self, cx: &mut Cx<'_>, b: Builtin, args: &[Expr], src: Src) -> R<Value> {
        let mut get = |me: &mut Self, i: usize| -> R<Value> {
            match args.get(i) {
                Some(a) => me.eval(cx, a),
                None => Ok(Value::Null),
            }
        };
        let x = get(self, 0)?;
        Ok(match b {
            Builtin::Given => Value::Bool(x != Value::Null),
            Builtin::Floor => match x {
                Value::Num(r) => Value::Num(Rational::new(r.floor(), 1).map_err(|_| Fail {
                    message: "overflow".into(),
                    src,
                })?),
                _ => Value::Null,
            },
            Builtin::Abs => match x {
                Value::Num(r) if r.is_negative() => Value::Num(arith(r.checked_neg(), src)?),
                v => v,
            },
            Builtin::Number => x,
            Builtin::Min2 | Builtin::Max2 => {
                let y = get(self, 1)?;
                let o = compare_values(cx, Some(&x), Some(&y));
                let take_x = if b == Builtin::Min2 {
                    o != Ordering::Greater
                } else {
                    o != Ordering::Less
                };
                if take_x {
                    x
                } else {
                    y
                }
            }
            Builtin::At => {
                let y = get(self, 1)?;
                match (x, y) {
                    (Value::Lesion { lesion, .. }, Value::Scan(s)) => {
                        Value::Lesion { lesion, scan: s }
                    }
                    _ => Value::Null,
                }
            }
        })
    }

    /// The elements of a set, as a range of scan indexes or a lesion list selector.
    fn set_bounds(&mut self, cx: &mut Cx<'_>, set: &SetExpr) -> R<SetIter> {
        let n = cx.case.assessments.len();
        let limit = if cx.in_summary { n } else { cx.cur };
        Ok(match set {
            SetExpr::Scans => SetIter::Scans {
                lo: 0,
                hi: n,
                graded_only: false,
            },
            SetExpr::Prior => SetIter::Scans {
                lo: cx.base,
                hi: cx.cur.min(n),
                graded_only: false,
            },
            SetExpr::Graded => SetIter::Scans {
                lo: cx.base,
                hi: n,
                graded_only: true,
            },
            SetExpr::After(s) => match self.eval(cx, s)? {
                Value::Scan(i) => SetIter::Scans {
                    lo: i as usize + 1,
                    hi: limit,
                    graded_only: false,
                },
                _ => SetIter::Empty,
            },
            SetExpr::Between(a, b) => match (self.eval(cx, a)?, self.eval(cx, b)?) {
                (Value::Scan(i), Value::Scan(j)) => SetIter::Scans {
                    lo: i as usize + 1,
                    hi: (j as usize).min(n),
                    graded_only: false,
                },
                _ => SetIter::Empty,
            },
            SetExpr::Targets(s)
            | SetExpr::NonTargets(s)
            | SetExpr::NewLesions(s)
            | SetExpr::Lesions(s) => match self.eval(cx, s)? {
                Value::Scan(i) => {
                    let which = match set {
                        SetExpr::Targets(_) => LesionList::Targets,
                        SetExpr::NonTargets(_) => LesionList::NonTargets,
                        SetExpr::NewLesions(_) => LesionList::New,
                        _ => LesionList::Observed,
                    };
                    SetIter::Lesions { scan: i, which }
                }
                _ => SetIter::Empty,
            },
        })
    }

    fn set_len(&self, cx: &Cx<'_>, it: &SetIter) -> usize {
        match it {
            SetIter::Empty => 0,
            SetIter::Scans { lo, hi, .. } => hi.saturating_sub(*lo),
            SetIter::Lesions { scan, which } => match which {
                LesionList::Targets => self.targets.len(),
                LesionList::NonTargets => self.non_targets.len(),
                LesionList::New => cx
                    .case
                    .assessments
                    .get(*scan as usize)
                    .map(|a| a.new_lesions.len())
                    .unwrap_or(0),
                LesionList::Observed => cx
                    .case
                    .assessments
                    .get(*scan as usize)
                    .map(|a| a.lesions.len())
                    .unwrap_or(0),
            },
        }
    }

    fn set_item(&self, cx: &Cx<'_>, it: &SetIter, k: usize) -> Option<Value> {
        match it {
            SetIter::Empty => None,
            SetIter::Scans {
                lo, graded_only, ..
            } => {
                let i = lo + k;
                if *graded_only && !self.graded.get(i).copied().unwrap_or(false) {
                    return None;
                }
                Some(Value::Scan(i as u32))
            }
            SetIter::Lesions { scan, which } => {
                let lesion = match which {
                    LesionList::Targets => *self.targets.get(k)?,
                    LesionList::NonTargets => *self.non_targets.get(k)?,
                    LesionList::New => {
                        cx.case
                            .assessments
                            .get(*scan as usize)?
                            .new_lesions
                            .get(k)?
                            .lesion as u32
                    }
                    LesionList::Observed => {
                        cx.case
                            .assessments
                            .get(*scan as usize)?
                            .lesions
                            .get(k)?
                            .lesion as u32
                    }
                };
                Some(Value::Lesion {
                    lesion,
                    scan: *scan,
                })
            }
        }
    }

    fn aggregate(&mut self, cx: &mut Cx<'_>, agg: &Aggregate, src: Src) -> R<Value> {
        let it = self.set_bounds(cx, &agg.source)?;
        let len = self.set_len(cx, &it);
        let slot = usize::from(agg.slot);
        let mut count: i64 = 0;
        let mut sum = Rational::ZERO;
        let mut best: Option<(Value, Value)> = None; // (key, element)
        let mut found: Option<Value> = None;
        for k in 0..len {
            let Some(elem) = self.set_item(cx, &it, k) else {
                continue;
            };
            if let Some(s) = self.slots.get_mut(slot) {
                *s = elem;
            }
            if let Some(f) = &agg.filter {
                if self.eval(cx, f)? != Value::Bool(true) {
                    continue;
                }
            }
            match agg.kind {
                AggKind::Any => {
                    let ok = match &agg.value {
                        Some(v) => self.eval(cx, v)? == Value::Bool(true),
                        None => true,
                    };
                    if ok {
                        return Ok(Value::Bool(true));
                    }
                }
                AggKind::All => {
                    let ok = match &agg.value {
                        Some(v) => self.eval(cx, v)? == Value::Bool(true),
                        None => true,
                    };
                    if !ok {
                        return Ok(Value::Bool(false));
                    }
                }
                AggKind::Count => count += 1,
                AggKind::Sum => {
                    if let Some(v) = &agg.value {
                        match self.eval(cx, v)? {
                            Value::Num(r) => sum = arith(sum.checked_add(r), src)?,
                            _ => return fail("summed an absent value", src),
                        }
                    }
                }
                AggKind::Min | AggKind::Max | AggKind::ArgMin | AggKind::ArgMax => {
                    if let Some(v) = &agg.value {
                        let key = self.eval(cx, v)?;
                        let better = match &best {
                            None => true,
                            Some((b, _)) => {
                                let o = compare_values(cx, Some(&key), Some(b));
                                if matches!(agg.kind, AggKind::Min | AggKind::ArgMin) {
                                    o == Ordering::Less
                                } else {
                                    o == Ordering::Greater
                                }
                            }
                        };
                        if better {
                            best = Some((key, elem));
                        }
                    }
                }
                AggKind::First => {
                    return Ok(elem);
                }
                AggKind::Last => found = Some(elem),
            }
        }
        Ok(match agg.kind {
            AggKind::Any => Value::Bool(false),
            AggKind::All => Value::Bool(true),
            AggKind::Count => Value::Num(Rational::from_int(count)),
            AggKind::Sum => Value::Num(sum),
            AggKind::Min | AggKind::Max => best.map(|b| b.0).unwrap_or(Value::Null),
            AggKind::ArgMin | AggKind::ArgMax => best.map(|b| b.1).unwrap_or(Value::Null),
            AggKind::First => Value::Null,
            AggKind::Last => found.unwrap_or(Value::Null),
        })
    }

    // ------------------------------------------------------------ explanations

    /// Writes what a condition compared, for the rule that fired.
    fn explain(&mut self, cx: &mut Cx<'_>, e: &Expr, out: &mut String, depth: usize) -> R<()> {
        let p = self.p;
        match &e.kind {
            ExprKind::Binary(BinKind::And, a, b) => {
                self.explain(cx, a, out, depth)?;
                out.push_str("; ");
                self.explain(cx, b, out, depth)?;
            }
            ExprKind::Binary(BinKind::Or, a, b) => {
                if self.eval(cx, a)? == Value::Bool(true) {
                    self.explain(cx, a, out, depth)?;
                } else {
                    self.explain(cx, b, out, depth)?;
                }
            }
            ExprKind::Binary(
                op @ (BinKind::Eq
                | BinKind::Ne
                | BinKind::Lt
                | BinKind::Le
                | BinKind::Gt
                | BinKind::Ge),
                a,
                b,
            ) => {
                let sym = match op {
                    BinKind::Eq => "==",
                    BinKind::Ne => "!=",
                    BinKind::Lt => "<",
                    BinKind::Le => "<=",
                    BinKind::Gt => ">",
                    _ => ">=",
                };
                let va = self.eval(cx, a)?;
                let vb = self.eval(cx, b)?;
                self.operand(cx, a, va, out);
                let _ = write!(out, " {sym} ");
                self.operand(cx, b, vb, out);
            }
            ExprKind::Match {
                scrutinee,
                arms,
                default,
            } => {
                // explain the arm that was taken
                let v = self.eval(cx, scrutinee)?;
                let arm = match_arm(v, arms, default.as_deref());
                self.operand(cx, scrutinee, v, out);
                out.push_str(": ");
                if let Some(arm) = arm {
                    self.explain(cx, arm, out, depth)?;
                }
            }
            ExprKind::ScanLet(li, s)
                if depth < 4 && e.ty == Ty::BOOL && matches!(s.kind, ExprKind::CurScan) =>
            {
                let Some(l) = p.lets.get(*li as usize) else {
                    return Ok(());
                };
                let v = self.eval(cx, e)?;
                let _ = write!(out, "{} = {} (", l.name, self.show(cx, v, e.ty));
                self.explain(cx, &l.expr, out, depth + 1)?;
                out.push(')');
            }
            _ => {
                let v = self.eval(cx, e)?;
                self.operand(cx, e, v, out);
            }
        }
        Ok(())
    }

    fn operand(&self, cx: &Cx<'_>, e: &Expr, v: Value, out: &mut String) {
        let text = self.p.text_of(e.src);
        let shown = match (&e.kind, v) {
            (ExprKind::Param(i), v) => match self.p.params.get(*i as usize) {
                Some(pi) => show_param(self.p, pi, v),
                None => self.show(cx, v, e.ty),
            },
            _ => self.show(cx, v, e.ty),
        };
        if matches!(e.kind, ExprKind::Const(_)) || text == shown {
            out.push_str(&shown);
        } else {
            let _ = write!(out, "{} = {shown}", squash(text));
        }
    }

    fn show(&self, cx: &Cx<'_>, v: Value, ty: Ty) -> String {
        show_value(self.p, cx.case, v, ty)
    }
}

/// The arm of a `match` that a value selects: the arm listing it, else the `_` arm.
fn match_arm<'e>(
    v: Value,
    arms: &'e [(Vec<u16>, Expr)],
    default: Option<&'e Expr>,
) -> Option<&'e Expr> {
    let hit = match v {
        Value::Sym(s) => arms
            .iter()
            .find(|(pats, _)| pats.contains(&s))
            .map(|(_, x)| x),
        _ => None,
    };
    hit.or(default)
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[derive(Debug, Clone, Copy)]
enum LesionList {
    Targets,
    NonTargets,
    New,
    Observed,
}

#[derive(Debug, Clone, Copy)]
enum SetIter {
    Empty,
    Scans {
        lo: usize,
        hi: usize,
        graded_only: bool,
    },
    Lesions {
        scan: u32,
        which: LesionList,
    },
}

fn sym(v: Value) -> Option<u16> {
    match v {
        Value::Sym(s) => Some(s),
        _ => None,
    }
}

fn arith<T>(r: Result<T, irano_exact::ArithmeticError>, src: Src) -> R<T> {
    r.map_err(|e| Fail {
        message: e.to_string(),
        src,
    })
}

fn location(p: &Program, src: Src) -> String {
    match p.sources.get(usize::from(src.file)) {
        Some(f) => {
            let (l, c) = irano_check::diag::line_col(&f.text, src.span.start);
            format!("{}:{l}:{c}", f.name)
        }
        None => "?".into(),
    }
}

fn lesion_id(case: &Case, l: u32) -> &str {
    case.lesions
        .get(l as usize)
        .map(|x| x.id.as_str())
        .unwrap_or("?")
}

fn text_of<'a>(p: &'a Program, case: &'a Case, t: TextRef) -> &'a str {
    match t {
        TextRef::Literal(i) => p.text(i),
        TextRef::LesionId(l) => lesion_id(case, l),
        TextRef::LesionOrgan(l) => case
            .lesions
            .get(l as usize)
            .and_then(|x| x.organ.as_deref())
            .unwrap_or(""),
    }
}

fn values_equal(cx: &Cx<'_>, a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (Some(Value::Text(x)), Some(Value::Text(y))) => {
            text_of(cx.p, cx.case, *x) == text_of(cx.p, cx.case, *y)
        }
        (Some(x), Some(y)) => x == y,
        (None, None) => true,
        _ => false,
    }
}

fn compare_values(cx: &Cx<'_>, a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (Some(Value::Num(x)), Some(Value::Num(y))) => x.cmp(y),
        (Some(Value::Date(x)), Some(Value::Date(y))) => x.cmp(y),
        (Some(Value::Text(x)), Some(Value::Text(y))) => {
            text_of(cx.p, cx.case, *x).cmp(text_of(cx.p, cx.case, *y))
        }
        (Some(Value::Sym(x)), Some(Value::Sym(y))) => x.cmp(y),
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        (Some(Value::Null), Some(Value::Null)) | (None, None) => Ordering::Equal,
        (Some(Value::Null), _) | (None, _) => Ordering::Greater,
        (_, Some(Value::Null)) | (_, None) => Ordering::Less,
        _ => Ordering::Equal,
    }
}

fn trend(t: cases::Trend) -> u16 {
    match t {
        cases::Trend::Stable => 0,
        cases::Trend::Improved => 1,
        cases::Trend::Worse => 2,
    }
}

fn opt_sym<T>(x: Option<T>, f: impl Fn(T) -> u16) -> Value {
    x.map(|t| Value::Sym(f(t))).unwrap_or(Value::Null)
}

fn scan_field(a: &cases::Assessment, f: ScanField, index: u32) -> Value {
    use cases::*;
    match f {
        ScanField::Date => Value::Date(a.date),
        ScanField::Kind => Value::Sym(match a.scan {
            ScanKind::Pretreatment => 0,
            ScanKind::Postop => 1,
            ScanKind::PostRt => 2,
            ScanKind::Followup => 3,
        }),
        ScanField::Evaluable => Value::Bool(a.evaluable),
        ScanField::T2Flair => opt_sym(a.t2_flair, trend),
        ScanField::Clinical => opt_sym(a.clinical, trend),
        ScanField::Enhancement => opt_sym(a.enhancement, |e| match e {
            Enhancement::None => 0,
            Enhancement::Stable => 1,
            Enhancement::NewOrIncreased => 2,
        }),
        ScanField::DeclineCause => opt_sym(a.decline_cause, |d| match d {
            DeclineCause::Tumour => 0,
            DeclineCause::Comorbid => 1,
            DeclineCause::Medication => 2,
        }),
        ScanField::IraeGrade => a
            .irae_grade
            .map(|g| Value::Num(Rational::from_int(i64::from(g))))
            .unwrap_or(Value::Null),
        ScanField::Pathology => opt_sym(a.pathology, |p| match p {
            Pathology::TumourPredominant => 0,
            Pathology::TreatmentEffect => 1,
            Pathology::Mixed => 2,
        }),
        ScanField::Unscheduled => Value::Bool(a.unscheduled),
        ScanField::SymptomDriven => Value::Bool(a.symptom_driven),
        ScanField::SteroidDose => a
            .steroids
            .as_ref()
            .map(|s| Value::Num(s.dose_mg))
            .unwrap_or(Value::Null),
        ScanField::SteroidChangedOn => a
            .steroids
            .as_ref()
            .and_then(|s| s.changed_on)
            .map(Value::Date)
            .unwrap_or(Value::Null),
        ScanField::SteroidReplacement => a
            .steroids
            .as_ref()
            .and_then(|s| s.replacement)
            .map(Value::Bool)
            .unwrap_or(Value::Null),
        ScanField::Index => Value::Num(Rational::from_int(i64::from(index))),
    }
}

fn observation(case: &Case, lesion: u32, scan: u32) -> Option<&cases::Observation> {
    let a = case.assessments.get(scan as usize)?;
    let l = lesion as usize;
    a.lesions
        .iter()
        .chain(a.new_lesions.iter())
        .find(|o| o.lesion == l)
}

fn lesion_field(case: &Case, lesion: u32, scan: u32, f: LesionField) -> Value {
    use cases::*;
    let Some(info) = case.lesions.get(lesion as usize) else {
        return Value::Null;
    };
    let obs = observation(case, lesion, scan);
    let num = |x: Option<Rational>| x.map(Value::Num).unwrap_or(Value::Null);
    match f {
        LesionField::Id => Value::Text(TextRef::LesionId(lesion)),
        LesionField::Role => opt_sym(info.role, |r| match r {
            Role::Target => 0,
            Role::NonTarget => 1,
            Role::Auto => 2,
        }),
        LesionField::Component => opt_sym(info.component, |c| match c {
            Component::Enhancing => 0,
            Component::NonEnhancing => 1,
        }),
        LesionField::Organ => match info.organ {
            Some(_) => Value::Text(TextRef::LesionOrgan(lesion)),
            None => Value::Null,
        },
        LesionField::IsNew => Value::Bool(info.is_new),
        LesionField::FirstSeen => case
            .assessments
            .get(info.first_seen)
            .map(|a| Value::Date(a.date))
            .unwrap_or(Value::Null),
        LesionField::Order => Value::Num(Rational::from_int(i64::from(lesion))),
        LesionField::D1 => num(obs.and_then(|o| o.d.map(|d| d[0]))),
        LesionField::D2 => num(obs.and_then(|o| o.d.map(|d| d[1]))),
        LesionField::Ld => num(obs.and_then(|o| o.ld)),
        LesionField::Sa => num(obs.and_then(|o| o.sa)),
        LesionField::VolMl => num(obs.and_then(|o| o.vol_ml)),
        LesionField::Status => Value::Sym(match obs {
            None => 3,
            Some(o) => match o.status {
                None | Some(MeasureStatus::Present) => 0,
                Some(MeasureStatus::Absent) => 1,
                Some(MeasureStatus::TooSmall) => 2,
                Some(MeasureStatus::NotAssessed) => 3,
            },
        }),
        LesionField::NtStatus => opt_sym(obs.and_then(|o| o.nt_status), |n| match n {
            NtStatus::Present => 0,
            NtStatus::Absent => 1,
            NtStatus::UnequivocalProgression => 2,
        }),
        LesionField::Equivocal => Value::Bool(obs.and_then(|o| o.equivocal).unwrap_or(false)),
        LesionField::OutsideRadiationField => {
            Value::Bool(obs.and_then(|o| o.outside_radiation_field).unwrap_or(false))
        }
    }
}

/// Renders a value with its unit for results and explanations.
pub fn show_value(p: &Program, case: &Case, v: Value, ty: Ty) -> String {
    match v {
        Value::Null => "absent".into(),
        Value::Bool(b) => b.to_string(),
        Value::Num(r) => match ty.base {
            Base::Num(Unit::One) | Base::Null => r.to_string(),
            Base::Num(u) => format!("{r} {}", u.suffix()),
            _ => r.to_string(),
        },
        Value::Date(d) => d.to_string(),
        Value::Sym(s) => match ty.base {
            Base::Enum(id) => p.enum_variant(id, s).to_string(),
            _ => s.to_string(),
        },
        Value::Scan(i) => match case.assessments.get(i as usize) {
            Some(a) => format!("scan of {}", a.date),
            None => "scan".into(),
        },
        Value::Lesion { lesion, .. } => format!("lesion {}", lesion_id(case, lesion)),
        Value::Text(t) => format!("\"{}\"", text_of(p, case, t)),
    }
}

fn show_param(p: &Program, pi: &ParamInfo, v: Value) -> String {
    match (v, pi.type_text.as_str()) {
        (Value::Num(r), "percent") => match r.checked_mul(Rational::from_int(100)) {
            Ok(x) => format!("{x}%"),
            Err(_) => r.to_string(),
        },
        (Value::Sym(s), _) => match pi.ty.base {
            Base::Enum(id) => p.enum_variant(id, s).to_string(),
            _ => s.to_string(),
        },
        (Value::Num(r), _) => match pi.ty.base {
            Base::Num(Unit::One) => r.to_string(),
            Base::Num(u) => format!("{r} {}", u.suffix()),
            _ => r.to_string(),
        },
        (Value::Bool(b), _) => b.to_string(),
        (Value::Date(d), _) => d.to_string(),
        _ => "absent".into(),
    }
}
