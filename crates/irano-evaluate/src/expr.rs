//! Expression evaluation: values, operators, built-ins and aggregates over sets.

use std::cmp::Ordering;

use irano_cases as cases;
use irano_check::program::*;
use irano_exact::{add_days, add_months, days_between, Rational};

use crate::access::{lesion_field, scan_field, text_of};
use crate::{fail, Cx, Evaluator, Fail, R};

impl Evaluator<'_> {
    /// The value of a leaf that needs no evaluation (a constant, a bound variable, the
    /// current lesion or scan); `None` for any other expression.
    #[inline(always)]
    fn leaf_value(&self, cx: &Cx<'_>, e: &Expr) -> Option<Value> {
        match &e.kind {
            ExprKind::Const(v) => Some(*v),
            ExprKind::Var(s) => Some(
                self.slots
                    .get(usize::from(*s))
                    .copied()
                    .unwrap_or(Value::Null),
            ),
            ExprKind::CurLesion => Some(cx.cur_lesion.unwrap_or(Value::Null)),
            ExprKind::CurScan if !cx.in_summary => Some(Value::Scan(cx.cur as u32)),
            ExprKind::Baseline => Some(Value::Scan(cx.base as u32)),
            // a let of the scan being graded, already computed: most let reads (a let
            // not yet computed, or of another scan, goes through `scan_let`)
            ExprKind::ScanLet(li, s) if matches!(s.kind, ExprKind::CurScan) && !cx.in_summary => {
                let ix = cx.cur * self.p.lets.len() + *li as usize;
                if self.let_done.get(ix).copied() == Some(true) {
                    self.lets.get(ix).copied()
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// An operand: the leaves that most operators and fields apply to are read in place
    /// without a call to `eval`, which saves a third of the calls on a typical rule file.
    #[inline(always)]
    fn leaf_or_eval(&mut self, cx: &mut Cx<'_>, e: &Expr) -> R<Value> {
        match self.leaf_value(cx, e) {
            Some(v) => Ok(v),
            None => self.eval(cx, e),
        }
    }

    /// The value of an expression. The kinds most nodes of a rule file are (leaves, operators,
    /// lets, scan and lesion fields, `given`, `not`) are here; the others are in
    /// [`Self::eval_other`], so that this function, entered at every node, keeps a small frame
    /// (`if` and aggregates moved here cost more than they saved).
    pub(crate) fn eval(&mut self, cx: &mut Cx<'_>, e: &Expr) -> R<Value> {
        if let Some(v) = self.leaf_value(cx, e) {
            return Ok(v);
        }
        match &e.kind {
            ExprKind::Binary(op, a, b) => self.binary(cx, *op, a, b, e.src),
            // a let of another scan (`previous.burden`, `s.burden`) or one not yet computed:
            // a sixth of the nodes
            ExprKind::ScanLet(li, s) => match self.leaf_or_eval(cx, s)? {
                Value::Scan(i) => {
                    let i = i as usize;
                    if i < cx.base || (!cx.in_summary && i > cx.cur) {
                        return unknown_scan_let(cx, *li, i, e.src);
                    }
                    self.scan_let(cx, i, *li)
                }
                _ => Ok(Value::Null),
            },
            ExprKind::Unary(UnKind::Not, x) => Ok(match self.leaf_or_eval(cx, x)? {
                Value::Bool(b) => Value::Bool(!b),
                _ => Value::Null,
            }),
            ExprKind::ScanField(f, s) => Ok(match self.leaf_or_eval(cx, s)? {
                Value::Scan(i) => match cx.case.assessments.get(i as usize) {
                    Some(a) => scan_field(a, *f, i),
                    None => Value::Null,
                },
                _ => Value::Null,
            }),
            // a lesion-level let (`l.size`) on the lesion given
            ExprKind::LesionLet(i, l) => {
                let lv = self.leaf_or_eval(cx, l)?;
                if lv == Value::Null {
                    return Ok(Value::Null);
                }
                let Some(def) = self.p.lesion_lets.get(*i as usize) else {
                    return Ok(Value::Null);
                };
                let saved = cx.cur_lesion.replace(lv);
                let r = self.eval(cx, &def.expr);
                cx.cur_lesion = saved;
                r
            }
            // `given(x)`, a fourteenth of the nodes: answered here, without the general call
            ExprKind::Call(Builtin::Given, args) if args.len() == 1 => match args.first() {
                Some(x) => Ok(Value::Bool(self.leaf_or_eval(cx, x)? != Value::Null)),
                None => Ok(Value::Bool(false)),
            },
            ExprKind::LesionField(f, l) => match self.leaf_or_eval(cx, l)? {
                Value::Lesion { lesion, scan } => {
                    let v = lesion_field(cx.case, lesion, scan, *f);
                    let bit = crate::measurement_bit(*f);
                    if bit != 0 {
                        let found = matches!(v, Value::Num(_));
                        self.measurements_read |= bit;
                        self.measurement_found |= found;
                        if let Some(m) = self.lesion_reads.get_mut(lesion as usize) {
                            *m |= bit | if found { crate::READ_FOUND } else { 0 };
                        }
                    }
                    Ok(v)
                }
                _ => Ok(Value::Null),
            },
            _ => self.eval_other(cx, e),
        }
    }

    #[inline(never)]
    fn eval_other(&mut self, cx: &mut Cx<'_>, e: &Expr) -> R<Value> {
        let p = self.p;
        Ok(match &e.kind {
            ExprKind::Param(i) => p
                .params
                .get(*i as usize)
                .map(|x| x.value)
                .unwrap_or(Value::Null),
            ExprKind::CurScan => {
                if cx.in_summary {
                    return fail(
                        "no current scan in the summary",
                        e.src,
                        "in the summary, read scans through a bound scan: `any(s in graded: ...)`",
                    );
                }
                Value::Scan(cx.cur as u32)
            }
            ExprKind::Previous => {
                if cx.cur > cx.base && !cx.in_summary {
                    // the latest earlier scan not skipped by `skip grading when` (the
                    // baseline never is)
                    let skipped = |j: usize| self.skipped.get(j).copied().unwrap_or(false);
                    let mut j = cx.cur - 1;
                    while self.any_skipped && j > cx.base && skipped(j) {
                        j -= 1;
                    }
                    Value::Scan(j as u32)
                } else {
                    Value::Null
                }
            }
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
                CaseField::ReirradiationEnd => cx
                    .case
                    .reirradiation_end
                    .map(Value::Date)
                    .unwrap_or(Value::Null),
            },
            ExprKind::SummaryLet(i) => self
                .summary_lets
                .get(*i as usize)
                .copied()
                .unwrap_or(Value::Null),
            ExprKind::ScanOutput(o, s) => match self.leaf_or_eval(cx, s)? {
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
            ExprKind::State(i) => {
                let state = if self.let_depth > 0 {
                    &self.let_state
                } else {
                    &self.state
                };
                state.get(*i as usize).copied().unwrap_or(Value::Null)
            }
            ExprKind::Unary(UnKind::Neg, x) => match self.eval(cx, x)? {
                Value::Num(r) => Value::Num(arith(r.checked_neg(), e.src)?),
                _ => Value::Null,
            },
            // answered by `eval` itself
            ExprKind::Const(_)
            | ExprKind::Var(_)
            | ExprKind::CurLesion
            | ExprKind::Baseline
            | ExprKind::Binary(..)
            | ExprKind::ScanLet(..)
            | ExprKind::LesionLet(..)
            | ExprKind::Unary(UnKind::Not, _)
            | ExprKind::ScanField(..)
            | ExprKind::LesionField(..) => return self.eval(cx, e),
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
                let v = self.leaf_or_eval(cx, x)?;
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
                let x = self.leaf_or_eval(cx, a)?;
                return if x == Value::Null {
                    self.leaf_or_eval(cx, b)
                } else {
                    Ok(x)
                };
            }
            _ => {}
        }
        let x = self.leaf_or_eval(cx, a)?;
        let y = self.leaf_or_eval(cx, b)?;
        Ok(match op {
            BinKind::Eq => Value::Bool(values_equal(cx, Some(&x), Some(&y))),
            BinKind::Ne => Value::Bool(!values_equal(cx, Some(&x), Some(&y))),
            BinKind::Lt | BinKind::Le | BinKind::Gt | BinKind::Ge => {
                if x == Value::Null || y == Value::Null {
                    return fail("compared an absent value", src, ABSENT_HELP);
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
                _ => return fail("arithmetic on an absent value", src, ABSENT_HELP),
            },
            BinKind::DateAddDays
            | BinKind::DateSubDays
            | BinKind::DateAddMonths
            | BinKind::DateSubMonths => {
                let (Value::Date(d), Value::Num(r)) = (x, y) else {
                    return fail("date arithmetic on an absent value", src, ABSENT_HELP);
                };
                if r.denom() != 1 {
                    return fail(
                        format!("`{r}` is not a whole number of days or months"),
                        src,
                        "a date moves by whole days and months: round the offset with `floor(...)`",
                    );
                }
                let k = i64::try_from(r.numer())
                    .map_err(|_| Fail::new("date offset out of range", src, DATE_RANGE_HELP))?;
                let out = match op {
                    BinKind::DateAddDays => add_days(d, k),
                    BinKind::DateSubDays => add_days(d, -k),
                    BinKind::DateAddMonths => add_months(d, k),
                    _ => add_months(d, -k),
                };
                match out {
                    Some(d) => Value::Date(d),
                    None => return fail("date out of range", src, DATE_RANGE_HELP),
                }
            }
            BinKind::DateDiff => match (x, y) {
                (Value::Date(p), Value::Date(q)) => {
                    Value::Num(Rational::from_int(days_between(q, p)))
                }
                _ => return fail("date arithmetic on an absent value", src, ABSENT_HELP),
            },
            BinKind::And | BinKind::Or | BinKind::Coalesce => Value::Null,
        })
    }

    fn call(&mut self, cx: &mut Cx<'_>, b: Builtin, args: &[Expr], src: Src) -> R<Value> {
        let mut get = |me: &mut Self, i: usize| -> R<Value> {
            match args.get(i) {
                Some(a) => me.leaf_or_eval(cx, a),
                None => Ok(Value::Null),
            }
        };
        let x = get(self, 0)?;
        Ok(match b {
            Builtin::Given => Value::Bool(x != Value::Null),
            Builtin::Floor => match x {
                Value::Num(r) => Value::Num(
                    Rational::new(r.floor(), 1)
                        .map_err(|_| Fail::new("overflow", src, OVERFLOW_HELP))?,
                ),
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
    pub(crate) fn set_bounds(&mut self, cx: &mut Cx<'_>, set: &SetExpr) -> R<SetIter> {
        let n = cx.case.assessments.len();
        let limit = if cx.in_summary { n } else { cx.cur };
        Ok(match set {
            SetExpr::Scans => SetIter::Scans {
                lo: 0,
                hi: n,
                only: ScanFilter::Every,
            },
            SetExpr::Prior => SetIter::Scans {
                lo: cx.base,
                hi: cx.cur.min(n),
                only: ScanFilter::NotSkipped,
            },
            SetExpr::Graded => SetIter::Scans {
                lo: cx.base,
                hi: n,
                only: ScanFilter::Graded,
            },
            SetExpr::After(s) => match self.leaf_or_eval(cx, s)? {
                Value::Scan(i) => SetIter::Scans {
                    lo: i as usize + 1,
                    hi: limit,
                    only: ScanFilter::NotSkipped,
                },
                _ => SetIter::Empty,
            },
            SetExpr::Between(a, b) => {
                match (self.leaf_or_eval(cx, a)?, self.leaf_or_eval(cx, b)?) {
                    (Value::Scan(i), Value::Scan(j)) => SetIter::Scans {
                        lo: i as usize + 1,
                        hi: (j as usize).min(n),
                        only: ScanFilter::NotSkipped,
                    },
                    _ => SetIter::Empty,
                }
            }
            SetExpr::Targets(s)
            | SetExpr::NonTargets(s)
            | SetExpr::NewLesions(s)
            | SetExpr::NewLesionsToDate(s)
            | SetExpr::Lesions(s) => match self.leaf_or_eval(cx, s)? {
                Value::Scan(i) => {
                    let which = match set {
                        SetExpr::Targets(_) => LesionList::Targets,
                        SetExpr::NonTargets(_) => LesionList::NonTargets,
                        SetExpr::NewLesions(_) => LesionList::New,
                        SetExpr::NewLesionsToDate(_) => LesionList::NewToDate,
                        _ => LesionList::Observed,
                    };
                    SetIter::Lesions { scan: i, which }
                }
                _ => SetIter::Empty,
            },
        })
    }

    pub(crate) fn set_len(&self, cx: &Cx<'_>, it: &SetIter) -> usize {
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
                // every lesion of the case, those not new to date skipped by `set_item`:
                // one pass, where counting and then seeking the k-th was quadratic
                LesionList::NewToDate => cx.case.lesions.len(),
                LesionList::Observed => cx
                    .case
                    .assessments
                    .get(*scan as usize)
                    .map(|a| a.lesions.len())
                    .unwrap_or(0),
            },
        }
    }

    pub(crate) fn set_item(&self, cx: &Cx<'_>, it: &SetIter, k: usize) -> Option<Value> {
        match it {
            SetIter::Empty => None,
            SetIter::Scans { lo, only, .. } => {
                let i = lo + k;
                let keep = match only {
                    ScanFilter::Every => true,
                    ScanFilter::Graded => self.graded.get(i).copied().unwrap_or(false),
                    // a scan skipped by `skip grading when` is in `scans` only
                    ScanFilter::NotSkipped => {
                        !self.any_skipped || !self.skipped.get(i).copied().unwrap_or(false)
                    }
                };
                keep.then_some(Value::Scan(i as u32))
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
                    LesionList::NewToDate => {
                        let l = cx.case.lesions.get(k)?;
                        if !(l.is_new && l.first_seen <= *scan as usize) {
                            return None;
                        }
                        k as u32
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
                            _ => return fail("summed an absent value", src, ABSENT_HELP),
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
}

/// The failure of a let read on a scan whose lets are not computed: one before the
/// baseline, or a later one while a scan is graded.
#[cold]
#[inline(never)]
fn unknown_scan_let(cx: &Cx<'_>, li: u32, i: usize, src: Src) -> R<Value> {
    let name =
        cx.p.lets
            .get(li as usize)
            .map(|l| l.name.as_str())
            .unwrap_or("?");
    let date = |k: usize| {
        cx.case
            .assessments
            .get(k)
            .map(|a| a.date.to_string())
            .unwrap_or_default()
    };
    if i < cx.base {
        fail(
            format!("`{name}` of the scan of {} is read, but that scan is before the baseline, where lets are not computed", date(i)),
            src,
            "read lets only from the baseline on: `prior`, `previous` and `s in scans where s.date >= baseline.date`",
        )
    } else {
        fail(
            format!("`{name}` of the scan of {} is read while the scan of {} is evaluated: a later scan's lets are not known yet", date(i), date(cx.cur)),
            src,
            "on a scan, read lets of that scan and earlier ones (`prior`, `previous`, `after(s)`); every scan's lets are known in the summary",
        )
    }
}

/// The arm of a `match` that a value selects: the arm listing it, else the `_` arm.
pub(crate) fn match_arm<'e>(
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

#[derive(Debug, Clone, Copy)]
pub(crate) enum LesionList {
    Targets,
    NonTargets,
    New,
    /// The case's new lesions first seen on or before the scan.
    NewToDate,
    Observed,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum SetIter {
    Empty,
    Scans {
        lo: usize,
        hi: usize,
        only: ScanFilter,
    },
    Lesions {
        scan: u32,
        which: LesionList,
    },
}

/// Which scans of a range a scan set holds.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ScanFilter {
    /// `scans`: every assessment.
    Every,
    /// `graded`: those that received a response.
    Graded,
    /// `prior`, `after(s)`, `between(a, b)`: all but those `skip grading when` skipped.
    NotSkipped,
}

pub(crate) fn sym(v: Value) -> Option<u16> {
    match v {
        Value::Sym(s) => Some(s),
        _ => None,
    }
}

fn arith<T>(r: Result<T, irano_exact::ArithmeticError>, src: Src) -> R<T> {
    r.map_err(|e| {
        let help = match e {
            irano_exact::ArithmeticError::DivisionByZero => DIVISION_HELP,
            irano_exact::ArithmeticError::Overflow => OVERFLOW_HELP,
        };
        Fail::new(e.to_string(), src, help)
    })
}

/// The help for reading an absent value where a value is needed.
const ABSENT_HELP: &str =
    "give the value a fallback with `??` (`x ?? 0 mm`) or test `given(x)` before using it";

/// The help for a division by zero.
const DIVISION_HELP: &str =
    "guard the division: test that the divisor is not 0 (`if x > 0 then ... else null`)";

/// The help for a date moved outside the calendar.
const DATE_RANGE_HELP: &str = "a date moved outside the calendar: check the offset added to it";

/// The help for a result beyond exact arithmetic's range.
const OVERFLOW_HELP: &str = "an exact value outgrew 128-bit fractions: the case's measurements carry more digits than exact arithmetic can multiply (round them; a float's 17 significant digits are within range)";

pub(crate) fn values_equal(cx: &Cx<'_>, a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (Some(Value::Text(x)), Some(Value::Text(y))) => {
            text_of(cx.p, cx.case, *x) == text_of(cx.p, cx.case, *y)
        }
        (Some(x), Some(y)) => x == y,
        (None, None) => true,
        _ => false,
    }
}

pub(crate) fn compare_values(cx: &Cx<'_>, a: Option<&Value>, b: Option<&Value>) -> Ordering {
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
