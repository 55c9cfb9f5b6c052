//! Typing and lowering expressions: operators, units, `if`, `match`, calls, aggregates.

use irano_syntax::ast::{self, AggKind, BinOp, ExprKind as A, Span, UnOp};

use super::*;

impl<'a> Lowerer<'a, '_> {
    // ------------------------------------------------------------ expressions

    pub(super) fn mk(&mut self, kind: ExprKind, ty: Ty, span: Span) -> Expr {
        self.nodes += 1;
        Expr {
            kind,
            ty,
            src: self.src(span),
        }
    }

    /// A new aggregate's slot for its variable. No two aggregates of the program share one:
    /// a let computed on demand while an aggregate runs (a lesion-level let read on `l`, or a
    /// scan-level let first read there) binds only its own variables, never the reader's.
    pub(super) fn alloc_slot(&mut self, span: Span) -> Option<u16> {
        let s = self.max_slot;
        let Some(next) = s.checked_add(1) else {
            self.err(
                span,
                "check::too_large",
                "this criterion has more aggregates than evaluation can hold (65,535)".into(),
                "simplify nested defs; each call is inlined",
            );
            return None;
        };
        self.max_slot = next;
        Some(s)
    }

    pub fn lower(&mut self, e: &ast::Expr, exp: Option<Ty>) -> Option<Expr> {
        if self.nodes > NODE_BUDGET {
            self.err(
                e.span,
                "check::too_large",
                "this criterion expands to too many expression nodes".into(),
                "simplify nested defs; each call is inlined",
            );
            return None;
        }
        match &e.kind {
            A::Number { value, unit } => {
                let u = unit.map_or(Unit::One, unit_of);
                if matches!(u, Unit::Days | Unit::Months) && value.denom() != 1 {
                    // a date moves by whole days and months: `28.5 days` could only fail
                    // (or be rounded) when a case is evaluated
                    self.err(
                        e.span,
                        "check::invalid_value",
                        format!(
                            "`{}` is not a whole number of {}",
                            value.to_decimal_string(4),
                            u.name()
                        ),
                        "days and months are whole numbers (a week is 7 days)",
                    );
                    return None;
                }
                Some(self.mk(ExprKind::Const(Value::Num(*value)), Ty::num(u), e.span))
            }
            A::Bool(b) => Some(self.mk(ExprKind::Const(Value::Bool(*b)), Ty::BOOL, e.span)),
            A::Null => {
                let ty = exp.map(|t| t.optional()).unwrap_or(Ty::NULL);
                Some(self.mk(ExprKind::Const(Value::Null), ty, e.span))
            }
            A::Text(s) => {
                let i = match self.texts.iter().position(|t| t == s) {
                    Some(i) => i,
                    None => {
                        self.texts.push(s.clone());
                        self.texts.len() - 1
                    }
                };
                let i = u32::try_from(i).unwrap_or(u32::MAX);
                Some(self.mk(
                    ExprKind::Const(Value::Text(TextRef::Literal(i))),
                    Ty::TEXT,
                    e.span,
                ))
            }
            A::Name(n) => match self.resolve_name(n, exp)? {
                Resolved::Value(v) => Some(v),
                Resolved::Set(..) => {
                    self.err(
                        n.span,
                        "check::set_as_value",
                        format!("`{}` is a set", n.text),
                        format!(
                            "aggregate it, e.g. `count(x in {})` or `any(x in {}: ...)`",
                            n.text, n.text
                        ),
                    );
                    None
                }
            },
            A::Field(base, field) => {
                let b = self.lower(base, None)?;
                match self.apply_field(b, &field.text, field.span)? {
                    Resolved::Value(v) => Some(v),
                    Resolved::Set(..) => {
                        self.err(
                            field.span,
                            "check::set_as_value",
                            format!("`{}` is a set", field.text),
                            "aggregate it with `count`, `any`, `sum`, ...",
                        );
                        None
                    }
                }
            }
            A::Unary(op, inner) => self.lower_unary(*op, inner, e.span),
            A::Binary(op, l, r) => self.lower_binary(*op, l, r, e.span, exp),
            A::If(c, t, f) => {
                let c = self.lower_bool(c)?;
                let t = self.lower(t, exp);
                let f = self.lower(f, exp.or(t.as_ref().map(|t| t.ty)));
                let (mut t, mut f) = (t?, f?);
                adapt_zero(&mut t, f.ty);
                adapt_zero(&mut f, t.ty);
                let t = if t.ty.is_null() {
                    self.lower(
                        match &e.kind {
                            A::If(_, t, _) => t,
                            _ => return None,
                        },
                        Some(f.ty),
                    )?
                } else {
                    t
                };
                let Some(ty) = Ty::unify(t.ty, f.ty) else {
                    let (a, b) = (self.ty_name(t.ty), self.ty_name(f.ty));
                    self.err(
                        e.span,
                        "check::type_mismatch",
                        format!("the branches of `if` differ: {a} and {b}"),
                        "both branches must have the same type and unit",
                    );
                    return None;
                };
                Some(self.mk(
                    ExprKind::If(Box::new(c), Box::new(t), Box::new(f)),
                    ty,
                    e.span,
                ))
            }
            A::Match { scrutinee, arms } => self.lower_match(scrutinee, arms, e.span, exp),
            A::Call(name, args) => self.lower_call(name, args, e.span, exp),
            A::Set(_) => {
                self.err(
                    e.span,
                    "check::misplaced",
                    "a set literal can only follow `in`".into(),
                    "write `x in {A, B}`",
                );
                None
            }
            A::Aggregate {
                kind,
                var,
                source,
                filter,
                value,
            } => self.lower_aggregate(
                *kind,
                var,
                source,
                filter.as_deref(),
                value.as_deref(),
                e.span,
            ),
        }
    }

    pub(super) fn lower_bool(&mut self, e: &ast::Expr) -> Option<Expr> {
        let x = self.lower(e, Some(Ty::BOOL))?;
        if x.ty != Ty::BOOL {
            let got = self.ty_name(x.ty);
            let help = if x.ty.base == Base::Bool {
                "it may be absent: write `x == true`, or `(x ?? false)`".to_string()
            } else {
                "write a comparison or another condition".to_string()
            };
            self.err(
                e.span,
                "check::type_mismatch",
                format!("expected a condition (bool), found {got}"),
                help,
            );
            return None;
        }
        Some(x)
    }

    pub(super) fn lower_unary(&mut self, op: UnOp, inner: &ast::Expr, span: Span) -> Option<Expr> {
        match op {
            UnOp::Not => {
                let x = self.lower_bool(inner)?;
                Some(self.mk(ExprKind::Unary(UnKind::Not, Box::new(x)), Ty::BOOL, span))
            }
            UnOp::Neg => {
                let x = self.lower(inner, None)?;
                let ty = x.ty;
                if !matches!(ty.base, Base::Num(_)) || ty.opt {
                    let got = self.ty_name(ty);
                    self.err(
                        span,
                        "check::type_mismatch",
                        format!("cannot negate {got}"),
                        "`-` applies to numbers",
                    );
                    return None;
                }
                Some(self.mk(ExprKind::Unary(UnKind::Neg, Box::new(x)), ty, span))
            }
        }
    }

    /// Whether a bare name resolves to something other than an enumeration literal.
    pub(super) fn is_bound_name(&self, text: &str) -> bool {
        if self.param_ix.contains_key(text) {
            return true;
        }
        let first = text.split('.').next().unwrap_or(text);
        if text.contains('.') {
            return true;
        }
        self.scope.iter().any(|b| match b {
            Binding::Var { name, .. } | Binding::Macro { name, .. } => name == first,
        }) || matches!(
            first,
            "scan" | "baseline" | "previous" | "case" | "lesion" | "scans" | "prior" | "graded"
        ) || names::LESION_SETS.contains(&first)
            || (matches!(first, "response" | "decision") && self.ctx == Ctx::Table)
            || self.state_ix.contains_key(first)
            || self.scan_lets.index.contains_key(first)
            || (self.ctx == Ctx::Summary && self.summary_lets.index.contains_key(first))
    }

    pub(super) fn lower_binary(
        &mut self,
        op: BinOp,
        l: &ast::Expr,
        r: &ast::Expr,
        span: Span,
        exp: Option<Ty>,
    ) -> Option<Expr> {
        match op {
            BinOp::And | BinOp::Or => {
                let a = self.lower_bool(l);
                let b = self.lower_bool(r);
                let k = if op == BinOp::And {
                    BinKind::And
                } else {
                    BinKind::Or
                };
                Some(self.mk(
                    ExprKind::Binary(k, Box::new(a?), Box::new(b?)),
                    Ty::BOOL,
                    span,
                ))
            }
            BinOp::Eq | BinOp::Ne => {
                let (a, b) = self.lower_pair(l, r)?;
                if Ty::unify(a.ty, b.ty).is_none()
                    || matches!(a.ty.base, Base::ScanSet | Base::LesionSet)
                {
                    let (x, y) = (self.ty_name(a.ty), self.ty_name(b.ty));
                    self.err(
                        span,
                        "check::type_mismatch",
                        format!("cannot compare {x} with {y}"),
                        "both sides must have the same type and unit",
                    );
                    return None;
                }
                let k = if op == BinOp::Eq {
                    BinKind::Eq
                } else {
                    BinKind::Ne
                };
                Some(self.mk(
                    ExprKind::Binary(k, Box::new(a), Box::new(b)),
                    Ty::BOOL,
                    span,
                ))
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let (a, b) = self.lower_pair(l, r)?;
                let ok =
                    a.ty == b.ty && matches!(a.ty.base, Base::Num(_) | Base::Date) && !a.ty.opt;
                if !ok {
                    let (x, y) = (self.ty_name(a.ty), self.ty_name(b.ty));
                    // a bare number beside a quantity: say how to write it with the unit
                    let bare = |e: &ast::Expr| match &e.kind {
                        A::Number { unit: None, .. } => self
                            .files
                            .get(usize::from(self.file))
                            .and_then(|f| f.text.get(e.span.start..e.span.end)),
                        _ => None,
                    };
                    let unit_of = |t: Ty| match t.base {
                        Base::Num(u) if u != Unit::One => Some(u.suffix()),
                        _ => None,
                    };
                    let literal = match (bare(r), unit_of(a.ty), bare(l), unit_of(b.ty)) {
                        (Some(n), Some(u), _, _) | (_, _, Some(n), Some(u)) => {
                            Some(format!("write the number with its unit: `{n} {u}`"))
                        }
                        _ => None,
                    };
                    let mut help = String::new();
                    if a.ty.opt || b.ty.opt {
                        help.push_str(
                            "a side may be absent: write `x ?? fallback` or test `given(x)` first",
                        );
                    }
                    match literal {
                        Some(lit) => {
                            if !help.is_empty() {
                                help.push_str("; ");
                            }
                            help.push_str(&lit);
                        }
                        None if help.is_empty() => {
                            let days_months = matches!(
                                (a.ty.base, b.ty.base),
                                (Base::Num(Unit::Days), Base::Num(Unit::Months))
                                    | (Base::Num(Unit::Months), Base::Num(Unit::Days))
                            );
                            help.push_str(if days_months {
                                // a month has no fixed length in days
                                "days and months do not compare (a month has no fixed number of days): give both in days (`84 days`, `12 weeks`), or compare dates, e.g. `s.date > t.date + 3 months`"
                            } else {
                                "compare numbers of the same unit, or two dates"
                            })
                        }
                        None => {}
                    }
                    self.err(
                        span,
                        "check::type_mismatch",
                        format!("cannot order {x} and {y}"),
                        help,
                    );
                    return None;
                }
                let k = match op {
                    BinOp::Lt => BinKind::Lt,
                    BinOp::Le => BinKind::Le,
                    BinOp::Gt => BinKind::Gt,
                    _ => BinKind::Ge,
                };
                Some(self.mk(
                    ExprKind::Binary(k, Box::new(a), Box::new(b)),
                    Ty::BOOL,
                    span,
                ))
            }
            BinOp::In => {
                let a = self.lower(l, None)?;
                let A::Set(items) = &r.kind else {
                    self.err(
                        r.span,
                        "check::misplaced",
                        "`in` needs a set of literals".into(),
                        "write `x in {A, B}`",
                    );
                    return None;
                };
                let mut values = Vec::new();
                let mut ok = true;
                for it in items {
                    match self.lower(it, Some(a.ty.required())) {
                        Some(x) => match self.const_value(&x) {
                            Some(v) if x.ty.base == a.ty.base => values.push(v),
                            _ => {
                                let want = self.ty_name(a.ty.required());
                                self.err(
                                    it.span,
                                    "check::type_mismatch",
                                    format!("set member must be a {want} literal"),
                                    "list literals of the same type as the left side",
                                );
                                ok = false;
                            }
                        },
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                Some(self.mk(ExprKind::InSet(Box::new(a), values), Ty::BOOL, span))
            }
            BinOp::Coalesce => {
                let a = self.lower(l, exp)?;
                let mut b = self.lower(r, Some(a.ty.required()).or(exp))?;
                adapt_zero(&mut b, a.ty);
                if !a.ty.opt {
                    let msg = format!("`{}` is never absent", self.text(l.span));
                    self.warn(l.span, "check::needless_fallback", msg, "remove `?? ...`");
                }
                let Some(ty) = Ty::unify(a.ty.required(), b.ty) else {
                    let (x, y) = (self.ty_name(a.ty), self.ty_name(b.ty));
                    self.err(
                        span,
                        "check::type_mismatch",
                        format!("fallback of {x} is {y}"),
                        "the fallback must have the same type and unit",
                    );
                    return None;
                };
                Some(self.mk(
                    ExprKind::Binary(BinKind::Coalesce, Box::new(a), Box::new(b)),
                    ty,
                    span,
                ))
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => {
                let mut a = self.lower(l, None)?;
                let mut b = self.lower(r, None)?;
                if matches!(op, BinOp::Add | BinOp::Sub) {
                    adapt_zero(&mut a, b.ty);
                    adapt_zero(&mut b, a.ty);
                }
                if a.ty.opt || b.ty.opt {
                    let which = if a.ty.opt { l.span } else { r.span };
                    let t = self.text(which).to_string();
                    self.err(
                        which,
                        "check::maybe_absent",
                        format!("`{t}` may be absent"),
                        format!("write `({t} ?? fallback)` or test `given({t})` first"),
                    );
                    return None;
                }
                let res = match (op, a.ty.base, b.ty.base) {
                    (BinOp::Add, Base::Date, Base::Num(Unit::Days)) => {
                        Some((BinKind::DateAddDays, Ty::DATE))
                    }
                    (BinOp::Sub, Base::Date, Base::Num(Unit::Days)) => {
                        Some((BinKind::DateSubDays, Ty::DATE))
                    }
                    (BinOp::Add, Base::Date, Base::Num(Unit::Months)) => {
                        Some((BinKind::DateAddMonths, Ty::DATE))
                    }
                    (BinOp::Sub, Base::Date, Base::Num(Unit::Months)) => {
                        Some((BinKind::DateSubMonths, Ty::DATE))
                    }
                    (BinOp::Sub, Base::Date, Base::Date) => {
                        Some((BinKind::DateDiff, Ty::num(Unit::Days)))
                    }
                    (BinOp::Add, Base::Num(x), Base::Num(y)) if x == y => {
                        Some((BinKind::Add, a.ty))
                    }
                    (BinOp::Sub, Base::Num(x), Base::Num(y)) if x == y => {
                        Some((BinKind::Sub, a.ty))
                    }
                    (BinOp::Mul, Base::Num(x), Base::Num(y)) => {
                        Unit::times(x, y).map(|u| (BinKind::Mul, Ty::num(u)))
                    }
                    (BinOp::Div, Base::Num(x), Base::Num(y)) => {
                        Unit::per(x, y).map(|u| (BinKind::Div, Ty::num(u)))
                    }
                    _ => None,
                };
                let Some((k, ty)) = res else {
                    let (x, y) = (self.ty_name(a.ty), self.ty_name(b.ty));
                    let sym = match op {
                        BinOp::Add => "+",
                        BinOp::Sub => "-",
                        BinOp::Mul => "*",
                        _ => "/",
                    };
                    // a date and a plain number: the number wants a unit of time
                    let help = match (op, a.ty.base, b.ty.base, &r.kind) {
                        (
                            BinOp::Add | BinOp::Sub,
                            Base::Date,
                            Base::Num(Unit::One),
                            A::Number { unit: None, .. },
                        ) => format!(
                            "a date moves by a length of time: write `{} days` (or `weeks`, `months`)",
                            self.text(r.span)
                        ),
                        (BinOp::Add | BinOp::Sub, Base::Date, Base::Num(Unit::One), _) => {
                            "a date moves by a length of time: give the number a unit, e.g. `21 days`".to_string()
                        }
                        _ => "units must agree: add like to like, `mm * mm` is `mm2`, `date + days` is a date".to_string(),
                    };
                    self.err(
                        span,
                        "check::unit_mismatch",
                        format!("cannot compute {x} {sym} {y}"),
                        help,
                    );
                    return None;
                };
                Some(self.mk(ExprKind::Binary(k, Box::new(a), Box::new(b)), ty, span))
            }
        }
    }

    /// Lowers two operands whose types inform each other (enumeration literals).
    pub(super) fn lower_pair(&mut self, l: &ast::Expr, r: &ast::Expr) -> Option<(Expr, Expr)> {
        let l_is_literal = matches!(&l.kind, A::Name(n) if !self.is_bound_name(&n.text))
            || matches!(l.kind, A::Null);
        let (mut a, mut b) = if l_is_literal {
            let b = self.lower(r, None)?;
            let a = self.lower(l, Some(b.ty))?;
            (a, b)
        } else {
            let a = self.lower(l, None)?;
            let b = self.lower(r, Some(a.ty))?;
            (a, b)
        };
        adapt_zero(&mut a, b.ty);
        adapt_zero(&mut b, a.ty);
        Some((a, b))
    }

    pub(super) fn text(&self, span: Span) -> &str {
        self.files
            .get(usize::from(self.file))
            .and_then(|f| f.text.get(span.start..span.end))
            .unwrap_or("")
    }

    pub(super) fn lower_match(
        &mut self,
        scrutinee: &ast::Expr,
        arms: &[ast::MatchArm],
        span: Span,
        exp: Option<Ty>,
    ) -> Option<Expr> {
        let s = self.lower(scrutinee, None)?;
        let Base::Enum(id) = s.ty.base else {
            let got = self.ty_name(s.ty);
            self.err(
                scrutinee.span,
                "check::type_mismatch",
                format!("`match` needs an enumeration, found {got}"),
                "match on a choice, a label or a case field such as `scan.clinical`",
            );
            return None;
        };
        let variants = self.variants(id);
        let mut covered = vec![false; variants.len()];
        let mut out_arms = Vec::new();
        let mut default = None;
        let mut ty: Option<Ty> = exp;
        let mut ok = true;
        for arm in arms {
            let v = self.lower(&arm.value, ty);
            let Some(v) = v else {
                ok = false;
                for p in &arm.patterns {
                    if let Some(i) = variants.iter().position(|x| *x == p.text) {
                        if let Some(c) = covered.get_mut(i) {
                            *c = true;
                        }
                    }
                }
                if arm.patterns.is_empty() {
                    default = Some(Box::new(Expr {
                        kind: ExprKind::Const(Value::Null),
                        ty: Ty::NULL,
                        src: self.src(arm.span),
                    }));
                }
                continue;
            };
            ty = match ty {
                None => Some(v.ty),
                Some(t) => match Ty::unify(t, v.ty) {
                    Some(u) => Some(u),
                    None => {
                        let (a, b) = (self.ty_name(t), self.ty_name(v.ty));
                        self.err(
                            arm.value.span,
                            "check::type_mismatch",
                            format!("this arm is {b}, an earlier one is {a}"),
                            "every arm must have the same type and unit",
                        );
                        ok = false;
                        Some(t)
                    }
                },
            };
            if arm.patterns.is_empty() {
                default = Some(Box::new(v));
                continue;
            }
            let mut pats = Vec::new();
            for p in &arm.patterns {
                match variants.iter().position(|x| *x == p.text) {
                    Some(i) if covered.get(i).copied().unwrap_or(false) => {
                        // the first arm that lists a value takes it: this one never would
                        self.err(
                            p.span,
                            "check::redeclared",
                            format!("`{}` is already handled by an earlier arm", p.text),
                            "list each value in one arm",
                        );
                        ok = false;
                    }
                    Some(i) => {
                        if let Some(c) = covered.get_mut(i) {
                            *c = true;
                        }
                        pats.push(u16::try_from(i).unwrap_or(u16::MAX));
                    }
                    None => {
                        let name = self.ty_name(s.ty.required());
                        let help = match closest(&p.text, variants.iter().map(String::as_str)) {
                            Some(c) => format!("did you mean `{c}`?"),
                            None => format!("{name} is one of {}", variants.join(", ")),
                        };
                        self.err(
                            p.span,
                            "check::unknown_name",
                            format!("`{}` is not a {name}", p.text),
                            help,
                        );
                        ok = false;
                    }
                }
            }
            out_arms.push((pats, v));
        }
        if default.is_none() && (covered.iter().any(|c| !c) || s.ty.opt) {
            let missing: Vec<&str> = variants
                .iter()
                .zip(&covered)
                .filter(|(_, c)| !**c)
                .map(|(v, _)| v.as_str())
                .collect();
            let msg = if missing.is_empty() {
                "`match` does not handle an absent value".to_string()
            } else {
                format!("`match` does not handle {}", backticked(&missing, ", "))
            };
            self.err(
                span,
                "check::match_not_exhaustive",
                msg,
                "add the missing arms or `_ => ...`",
            );
            ok = false;
        }
        if !ok {
            return None;
        }
        let ty = ty.unwrap_or(Ty::NULL);
        Some(self.mk(
            ExprKind::Match {
                scrutinee: Box::new(s),
                arms: out_arms,
                default,
            },
            ty,
            span,
        ))
    }

    pub(super) fn lower_call(
        &mut self,
        name: &ast::Name,
        args: &[ast::Expr],
        span: Span,
        exp: Option<Ty>,
    ) -> Option<Expr> {
        let arity = |me: &mut Self, n: usize| -> bool {
            if args.len() != n {
                me.err(
                    span,
                    "check::arity",
                    format!(
                        "`{}` takes {n} argument{}, found {}",
                        name.text,
                        if n == 1 { "" } else { "s" },
                        args.len()
                    ),
                    "see the built-in functions in docs/language.md".to_string(),
                );
                false
            } else {
                true
            }
        };
        let builtin = match name.text.as_str() {
            "given" => Some(Builtin::Given),
            "floor" => Some(Builtin::Floor),
            "abs" => Some(Builtin::Abs),
            "number" => Some(Builtin::Number),
            "min" => Some(Builtin::Min2),
            "max" => Some(Builtin::Max2),
            "at" => Some(Builtin::At),
            "after" | "between" => {
                self.err(
                    span,
                    "check::set_as_value",
                    format!("`{}(...)` is a set of scans", name.text),
                    "aggregate it, e.g. `any(t in after(s): ...)`",
                );
                return None;
            }
            _ => None,
        };
        if let Some(b) = builtin {
            let n = match b {
                Builtin::Min2 | Builtin::Max2 | Builtin::At => 2,
                _ => 1,
            };
            if !arity(self, n) {
                return None;
            }
            let mut xs = Vec::new();
            for a in args {
                xs.push(self.lower(a, None));
            }
            let xs: Vec<Expr> = xs.into_iter().collect::<Option<Vec<_>>>()?;
            let ty = match b {
                Builtin::Given => Some(Ty::BOOL),
                Builtin::Floor | Builtin::Abs => xs
                    .first()
                    .filter(|x| matches!(x.ty.base, Base::Num(_)) && !x.ty.opt)
                    .map(|x| x.ty),
                Builtin::Number => xs
                    .first()
                    .filter(|x| matches!(x.ty.base, Base::Num(_)) && !x.ty.opt)
                    .map(|_| Ty::num(Unit::One)),
                Builtin::Min2 | Builtin::Max2 => match (xs.first(), xs.get(1)) {
                    (Some(a), Some(b))
                        if a.ty == b.ty
                            && !a.ty.opt
                            && matches!(a.ty.base, Base::Num(_) | Base::Date) =>
                    {
                        Some(a.ty)
                    }
                    _ => None,
                },
                Builtin::At => match (xs.first(), xs.get(1)) {
                    (Some(a), Some(b)) if a.ty == Ty::LESION && b.ty == Ty::SCAN => {
                        Some(Ty::LESION)
                    }
                    _ => None,
                },
            };
            if let (Builtin::Given, Some(x), Some(a)) = (b, xs.first(), args.first()) {
                if !x.ty.opt && x.ty.base != Base::Null {
                    // as `x ?? y` on such a value: the test cannot fail
                    let msg = format!(
                        "`{}` is never absent: `given(...)` is always true",
                        self.text(a.span)
                    );
                    self.warn(
                        a.span,
                        "check::needless_fallback",
                        msg,
                        "remove the test, or read a value that may be absent",
                    );
                }
            }
            let Some(ty) = ty else {
                let got: Vec<String> = xs.iter().map(|x| self.ty_name(x.ty)).collect();
                self.err(
                    span,
                    "check::type_mismatch",
                    format!("`{}` cannot take ({})", name.text, got.join(", ")),
                    match b {
                        Builtin::At => "write `at(lesion, scan)`",
                        Builtin::Given => "",
                        _ => "give present numbers (or dates for min/max) of the same unit",
                    },
                );
                return None;
            };
            return Some(self.mk(ExprKind::Call(b, xs), ty, span));
        }
        // a def
        let (in_summary, limit) = self.def_limit;
        let m = self.m;
        let found = if in_summary == 1 {
            m.summary
                .defs
                .iter()
                .take(limit)
                .position(|d| d.node.name.text == name.text)
                .map(|i| (1usize, i))
                .or_else(|| {
                    m.scan
                        .defs
                        .iter()
                        .position(|d| d.node.name.text == name.text)
                        .map(|i| (0usize, i))
                })
        } else {
            m.scan
                .defs
                .iter()
                .take(limit)
                .position(|d| d.node.name.text == name.text)
                .map(|i| (0usize, i))
        };
        let Some((sec, di)) = found else {
            if self.def_stack.contains(&name.text) {
                self.err(
                    name.span,
                    "check::recursion",
                    format!("def `{}` calls itself", name.text),
                    "defs cannot be recursive, so that every evaluation ends; compute over a set with an aggregate (`min`, `sum`, `any`, ...) instead",
                );
                return None;
            }
            let later = m
                .scan
                .defs
                .iter()
                .chain(m.summary.defs.iter())
                .any(|d| d.node.name.text == name.text);
            // the def being inlined: an override keeps the place of the def it replaces
            let caller = self.def_stack.last().and_then(|c| {
                m.scan
                    .defs
                    .iter()
                    .chain(m.summary.defs.iter())
                    .find(|d| &d.node.name.text == c && d.node.is_override)
            });
            let help = if let (true, Some(c)) = (later, caller) {
                format!(
                    "a def can call only defs declared before it (no recursion), and `override def {}` keeps the place of the def it replaces, in the parent, before `{}`: write the condition in the override itself, or make it a lesion or scan let (`let lesion.NAME = ... cite \"...\"`, read as `l.NAME`), which any def can read",
                    c.node.name.text, name.text
                )
            } else if later {
                "a def can call only defs declared before it (no recursion); move it up".to_string()
            } else {
                let mut names: Vec<&str> =
                    vec!["given", "floor", "abs", "number", "min", "max", "at"];
                names.extend(m.scan.defs.iter().map(|d| d.node.name.text.as_str()));
                match closest(&name.text, names) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None => "built-in functions are given, floor, abs, number, min, max, at".into(),
                }
            };
            self.err(
                name.span,
                "check::unknown_function",
                format!("unknown function `{}`", name.text),
                help,
            );
            return None;
        };
        let def = if sec == 1 {
            m.summary.defs.get(di)
        } else {
            m.scan.defs.get(di)
        }?;
        if def.node.params.len() != args.len() {
            let n = def.node.params.len();
            self.err(
                span,
                "check::arity",
                format!(
                    "`{}` takes {n} argument{}, found {}",
                    name.text,
                    if n == 1 { "" } else { "s" },
                    args.len()
                ),
                "match the def's parameters",
            );
            return None;
        }
        if self.inline_depth >= MAX_INLINE_DEPTH {
            self.err(
                span,
                "check::too_deep",
                "defs nest too deeply".into(),
                "simplify the defs",
            );
            return None;
        }
        let mut bindings = Vec::new();
        for ((pname, pty), a) in def.node.params.iter().zip(args) {
            let saved_file = self.file;
            self.file = def.file;
            let want = self.lower_type(pty, &pname.text).map(|x| x.0);
            self.file = saved_file;
            let want = want?;
            let x = self.lower(a, Some(want))?;
            if !self.fits(x.ty, want) {
                let (w, g) = (self.ty_name(want), self.ty_name(x.ty));
                self.err(
                    a.span,
                    "check::type_mismatch",
                    format!(
                        "argument `{}` of `{}` must be {w}, found {g}",
                        pname.text, name.text
                    ),
                    format!("pass a {w}"),
                );
                return None;
            }
            bindings.push(Binding::Macro {
                name: pname.text.clone(),
                expr: x,
            });
        }
        if let Some(called) = self.defs_called.get_mut(sec).and_then(|c| c.get_mut(di)) {
            *called = true;
        }
        let saved_scope = std::mem::replace(&mut self.scope, bindings);
        let saved = (self.file, self.def_limit);
        self.file = def.file;
        self.def_limit = (sec, di);
        self.inline_depth += 1;
        self.def_stack.push(name.text.clone());
        let body = self.lower(&def.node.body, exp);
        self.def_stack.pop();
        self.inline_depth -= 1;
        (self.file, self.def_limit) = saved;
        self.scope = saved_scope;
        body
    }

    pub(super) fn lower_aggregate(
        &mut self,
        kind: AggKind,
        var: &ast::Name,
        source: &ast::Expr,
        filter: Option<&ast::Expr>,
        value: Option<&ast::Expr>,
        span: Span,
    ) -> Option<Expr> {
        let (set, elem) = self.lower_set(source)?;
        let elem_ty = match elem {
            Base::ScanSet => Ty::SCAN,
            _ => Ty::LESION,
        };
        let slot = self.alloc_slot(span)?;
        self.scope.push(Binding::Var {
            name: var.text.clone(),
            slot,
            ty: elem_ty,
        });
        let f = match filter {
            Some(f) => self.lower_bool(f).map(Some),
            None => Some(None),
        };
        let v = match value {
            Some(v) => self.lower(v, None).map(Some),
            None => Some(None),
        };
        self.scope.pop();
        let (f, v) = (f?, v?);
        let name = kind.name();
        let ty = match (kind, &v) {
            (AggKind::Any, None) => Some(Ty::BOOL),
            (AggKind::Any | AggKind::All, Some(x)) if x.ty == Ty::BOOL => Some(Ty::BOOL),
            (AggKind::Count, None) => Some(Ty::num(Unit::One)),
            (AggKind::Sum, Some(x)) if matches!(x.ty.base, Base::Num(_)) && !x.ty.opt => Some(x.ty),
            (AggKind::Min | AggKind::Max, Some(x))
                if matches!(x.ty.base, Base::Num(_) | Base::Date) && !x.ty.opt =>
            {
                Some(x.ty.optional())
            }
            (AggKind::ArgMin | AggKind::ArgMax, Some(x))
                if matches!(x.ty.base, Base::Num(_) | Base::Date) && !x.ty.opt =>
            {
                Some(elem_ty.optional())
            }
            (AggKind::First | AggKind::Last, None) => Some(elem_ty.optional()),
            _ => None,
        };
        let Some(ty) = ty else {
            let (msg, help) = match (kind, &v) {
                (AggKind::Sum, None) => (
                    "`sum` needs a value to add up".to_string(),
                    format!("write `sum({} in SET: VALUE)`, e.g. `sum(l in targets: l.size)`", var.text),
                ),
                (AggKind::Min | AggKind::Max | AggKind::ArgMin | AggKind::ArgMax, None) => (
                    format!("`{name}` needs a value to compare"),
                    format!("write `{name}({} in SET where COND: VALUE)`; the value is a number or a date", var.text),
                ),
                (AggKind::Count | AggKind::First | AggKind::Last, Some(_)) => (
                    format!("`{name}` takes a condition after `where`, not a value after `:`"),
                    format!("write `{name}({} in SET where COND)`", var.text),
                ),
                (AggKind::All, None) => (
                    "`all` needs a condition after `:`".to_string(),
                    format!("write `all({} in SET: COND)`", var.text),
                ),
                (_, Some(x)) if x.ty.opt => (
                    format!("the value of `{name}` may be absent"),
                    "give a fallback with `??`, e.g. `l.ld ?? 0 mm`".to_string(),
                ),
                (AggKind::Any | AggKind::All, Some(_)) => (
                    format!("`{name}` needs a condition after `:`"),
                    format!("write `{name}({} in SET: COND)` where COND is true or false", var.text),
                ),
                _ => (
                    format!("`{name}` cannot aggregate this value"),
                    format!("`{name}` works on numbers (and dates for min, max, argmin and argmax)"),
                ),
            };
            self.err(span, "check::aggregate_form", msg, help);
            return None;
        };
        let agg = Aggregate {
            kind: kind.into(),
            slot,
            source: set,
            filter: f,
            value: v,
        };
        Some(self.mk(ExprKind::Aggregate(Box::new(agg)), ty, span))
    }

    pub(super) fn lower_set(&mut self, e: &ast::Expr) -> Option<(SetExpr, Base)> {
        match &e.kind {
            A::Name(n) => match self.resolve_name(n, None)? {
                Resolved::Set(s, b) => Some((s, b)),
                Resolved::Value(v) => {
                    let got = self.ty_name(v.ty);
                    self.err(
                        e.span,
                        "check::not_a_set",
                        format!("`{}` is {got}, not a set", n.text),
                        "aggregate over `targets`, `non_targets`, `new_lesions`, `new_lesions_to_date`, `lesions`, `scans`, `prior`, `graded`, `after(s)` or `between(s, t)`",
                    );
                    None
                }
            },
            A::Field(base, field) => {
                let b = self.lower(base, None)?;
                match self.apply_field(b, &field.text, field.span)? {
                    Resolved::Set(s, b) => Some((s, b)),
                    Resolved::Value(_) => {
                        self.err(
                            e.span,
                            "check::not_a_set",
                            format!("`{}` is not a set", field.text),
                            "aggregate over a set",
                        );
                        None
                    }
                }
            }
            A::Call(name, args) if name.text == "after" || name.text == "between" => {
                let need = if name.text == "after" { 1 } else { 2 };
                if args.len() != need {
                    self.err(
                        e.span,
                        "check::arity",
                        format!(
                            "`{}` takes {need} scan{}",
                            name.text,
                            if need == 1 { "" } else { "s" }
                        ),
                        "write `after(s)` or `between(s, t)`",
                    );
                    return None;
                }
                if !matches!(self.ctx, Ctx::Scan | Ctx::Table | Ctx::Summary) {
                    self.err(
                        e.span,
                        "check::misplaced",
                        format!("`{}` needs evaluated scans", name.text),
                        "use it in lets, rules or the summary",
                    );
                    return None;
                }
                let mut xs = Vec::new();
                for a in args {
                    let x = self.lower(a, Some(Ty::SCAN))?;
                    if x.ty != Ty::SCAN {
                        let got = self.ty_name(x.ty);
                        self.err(
                            a.span,
                            "check::type_mismatch",
                            format!("expected a scan, found {got}"),
                            "pass a scan; an optional one needs `??`",
                        );
                        return None;
                    }
                    xs.push(x);
                }
                let mut it = xs.into_iter();
                let a = it.next()?;
                let set = match it.next() {
                    Some(b) => SetExpr::Between(Box::new(a), Box::new(b)),
                    None => SetExpr::After(Box::new(a)),
                };
                Some((set, Base::ScanSet))
            }
            _ => {
                self.err(
                    e.span,
                    "check::not_a_set",
                    "this is not a set".into(),
                    "aggregate over `targets`, `non_targets`, `new_lesions`, `new_lesions_to_date`, `lesions`, `scans`, `prior`, `graded`, `after(s)` or `between(s, t)`",
                );
                None
            }
        }
    }
}

/// A bare `0` takes the unit of the value it meets (`burden > 0`, `if c then 0 else area`),
/// so that a definition can serve areas (mm2) and diameters (mm) alike.
pub(super) fn adapt_zero(e: &mut Expr, other: Ty) {
    if let (ExprKind::Const(Value::Num(r)), Base::Num(Unit::One), Base::Num(u)) =
        (&e.kind, e.ty.base, other.base)
    {
        if r.is_zero() && u != Unit::One && !e.ty.opt {
            e.ty = Ty::num(u);
        }
    }
}
