//! Resolving names: parameters, bound variables, built-in roots, state, lets and fields.

use irano_syntax::ast::{self, Span};

use super::*;

impl<'a> Lowerer<'a, '_> {
    // ------------------------------------------------------------------ names

    pub(super) fn resolve_name(&mut self, n: &ast::Name, exp: Option<Ty>) -> Option<Resolved> {
        let text = n.text.as_str();
        let span = n.span;
        // Where an enumeration is expected and the name is one of its values, the
        // value wins (`a_choice_parameter == baseline` reads the choice `baseline`).
        if let Some(Ty {
            base: Base::Enum(id),
            ..
        }) = exp
        {
            if !text.contains('.') {
                if let Some(i) = self
                    .enums
                    .get(usize::from(id.0))
                    .and_then(|e| e.variants.iter().position(|v| v == text))
                {
                    let v = Value::Sym(u16::try_from(i).unwrap_or(u16::MAX));
                    let ty = Ty::enumeration(id);
                    return Some(Resolved::Value(self.mk(ExprKind::Const(v), ty, span)));
                }
            }
        }
        let mut segs = text.split('.');
        let first = segs.next().unwrap_or(text);
        let rest: Vec<&str> = segs.collect();
        // bound variables and inlined parameters, innermost first: they hide a parameter
        // of the same name (`def grew_by(pd_increase: percent)` reads its argument, and
        // `l.area` in `sum(l in targets: l.area)` is the lesion's field)
        let bound = self.scope.iter().rev().find_map(|b| match b {
            Binding::Var { name, slot, ty } if name == first => Some(Ok((*slot, *ty))),
            Binding::Macro { name, expr } if name == first => Some(Err(expr.clone())),
            _ => None,
        });
        if bound.is_none() {
            if let Some(&ix) = self.param_ix.get(text) {
                let ty = self.params.get(ix as usize).map(|p| p.ty)?;
                return Some(Resolved::Value(self.mk(ExprKind::Param(ix), ty, span)));
            }
        }
        // a let declared with a dotted name (an error reported once, at the declaration,
        // `check::dotted_name`) is read as that let, so its uses add no errors
        if bound.is_none() && text.contains('.') && matches!(self.ctx, Ctx::Scan | Ctx::Table) {
            if let Some(&i) = self.scan_lets.index.get(text) {
                let ty = self.ensure_let(Which::Scan, i)?;
                let cur = Box::new(self.mk(ExprKind::CurScan, Ty::SCAN, span));
                let i = u32::try_from(i).unwrap_or(u32::MAX);
                return Some(Resolved::Value(self.mk(
                    ExprKind::ScanLet(i, cur),
                    ty,
                    span,
                )));
            }
        }
        // likewise a state declared with a dotted name
        if bound.is_none()
            && text.contains('.')
            && matches!(self.ctx, Ctx::Scan | Ctx::Table | Ctx::Summary)
        {
            if let Some(&ix) = self.state_ix.get(text) {
                let ty = self.states.get(ix as usize).map(|s| s.ty)?;
                return Some(Resolved::Value(self.mk(ExprKind::State(ix), ty, span)));
            }
        }
        let base: Option<Resolved> = match bound {
            Some(Ok((slot, ty))) => Some(Resolved::Value(self.mk(ExprKind::Var(slot), ty, span))),
            Some(Err(mut expr)) => {
                expr.src = self.src(span);
                Some(Resolved::Value(expr))
            }
            None => self.resolve_root(first, &rest, span)?,
        };
        let Some(mut cur) = base else {
            // an enumeration literal
            if rest.is_empty() {
                if let Some(t) = exp {
                    if let Base::Enum(id) = t.base {
                        let variants = self
                            .enums
                            .get(usize::from(id.0))
                            .map(|e| e.variants.clone())
                            .unwrap_or_default();
                        if let Some(i) = variants.iter().position(|v| v == first) {
                            let v = Value::Sym(u16::try_from(i).unwrap_or(u16::MAX));
                            return Some(Resolved::Value(self.mk(
                                ExprKind::Const(v),
                                t.required(),
                                span,
                            )));
                        }
                        let name = self.ty_name(t.required());
                        let help = match closest(first, variants.iter().map(String::as_str)) {
                            Some(c) => format!("did you mean `{c}`?"),
                            None => format!("{name} is one of: {}", variants.join(", ")),
                        };
                        self.err(
                            span,
                            "check::unknown_name",
                            format!("`{first}` is not a {name}"),
                            help,
                        );
                        return None;
                    }
                }
            }
            self.unknown_name(text, span);
            return None;
        };
        // the case root consumed its field already
        let skip = usize::from(first == "case");
        let mut segs = rest.iter().skip(skip).peekable();
        while let Some(seg) = segs.next() {
            match cur {
                Resolved::Value(v) => {
                    // `steroids.dose_mg` is one field of a scan
                    let joined;
                    let field: &str = if *seg == "steroids" && v.ty.base == Base::Scan {
                        match segs.next() {
                            Some(next) => {
                                joined = format!("steroids.{next}");
                                &joined
                            }
                            None => seg,
                        }
                    } else {
                        seg
                    };
                    cur = self.apply_field(v, field, span)?;
                }
                Resolved::Set(..) => {
                    self.err(
                        span,
                        "check::unknown_field",
                        format!("a set has no field `{seg}`"),
                        "aggregate the set first",
                    );
                    return None;
                }
            }
        }
        Some(cur)
    }

    pub(super) fn unknown_name(&mut self, text: &str, span: Span) {
        if self.removed_still_read(text, span) {
            return;
        }
        let mut names: Vec<String> = self.param_ix.keys().cloned().collect();
        names.extend(self.state_ix.keys().cloned());
        names.extend(self.scan_lets.index.keys().cloned());
        names.extend(self.summary_lets.index.keys().cloned());
        for b in &self.scope {
            match b {
                Binding::Var { name, .. } | Binding::Macro { name, .. } => names.push(name.clone()),
            }
        }
        names.extend(
            [
                "scan", "baseline", "previous", "case", "scans", "prior", "graded",
            ]
            .iter()
            .chain(LESION_SETS.iter())
            .map(|s| s.to_string()),
        );
        // never suggest the let being defined: it cannot read itself
        if let Some(own) = self.let_stack.last() {
            names.retain(|n| n != own);
        }
        names.sort();
        // a value of an enumeration where the context does not say which type is expected
        // (`let x = if c then PD else SD`): the type has to be declared
        let of_enum = self
            .enums
            .iter()
            .find(|e| e.variants.iter().any(|v| v == text))
            .map(|e| e.name.clone());
        let boolean = match text.to_ascii_lowercase().as_str() {
            "yes" | "on" | "true" => Some("true"),
            "no" | "off" | "false" => Some("false"),
            _ => None,
        };
        let help = match (of_enum, closest(text, names.iter().map(String::as_str))) {
            _ if boolean.is_some() => format!(
                "a yes/no value is written `true` or `false`: `{}`",
                boolean.unwrap_or_default()
            ),
            (Some(ty), _) => format!(
                "`{text}` is a {ty}, but nothing here says a {ty} is expected: declare the type, e.g. `let NAME: {ty} = ...`, or compare with a {ty} (`x == {text}`)"
            ),
            (None, Some(c)) => format!("did you mean `{c}`?"),
            // only parameter names have dots (`trial.days`)
            (None, None) if text.contains('.') => format!(
                "a name with a dot is a parameter: declare it with `param {text}: UNIT = VALUE cite \"...\"`, or check the spelling (`irano-eval params RULES` lists the parameters)"
            ),
            (None, None) => {
                "declare it with `param`, `let` or `state`, or check the spelling (`irano-eval show RULES` lists every name)".into()
            }
        };
        self.err(
            span,
            "check::unknown_name",
            format!("unknown name `{text}`"),
            help,
        );
    }

    /// A name an amendment's `remove param` retired, still read by the parent: reported at
    /// the `remove param` (the line the author wrote), naming the reader.
    fn removed_still_read(&mut self, text: &str, span: Span) -> bool {
        let Some(r) = self.m.removed_params.iter().rev().find(|r| r.name == text) else {
            return false;
        };
        let (file, at) = (r.file, r.span);
        let reader = self
            .files
            .get(usize::from(self.file))
            .map_or_else(|| "?".into(), |f| f.place(span.start));
        let (msg, help) = match self.let_stack.last() {
            Some(reader_let) => (
                format!("`remove param {text}` retires a parameter that let `{reader_let}` still reads ({reader})"),
                format!("keep the parameter (to change its value, write `override param {text} = VALUE cite \"...\"`), or first replace what reads it: `override let {reader_let} = ... cite \"...\"`"),
            ),
            None => (
                format!("`remove param {text}` retires a parameter that is still read ({reader})"),
                format!("keep the parameter (to change its value, write `override param {text} = VALUE cite \"...\"`), or first override the declaration that reads it"),
            ),
        };
        self.err_at(file, at, "check::unknown_name", msg, help);
        true
    }

    pub(super) fn misplaced(
        &mut self,
        name: &str,
        span: Span,
        allowed: &str,
    ) -> Option<Option<Resolved>> {
        let here = match self.ctx {
            Ctx::Case => "parameter defaults, state initial values, the baseline choice and the targets' `max`",
            Ctx::Lesion => "lesion-level lets and target selection",
            Ctx::Scan => "lets and shown values",
            Ctx::Table => "rules",
            Ctx::Summary => "the summary (nor in a `warn`, tested in the summary's context)",
        };
        let help = if matches!(self.ctx, Ctx::Summary) && name == "scan" {
            format!("`{name}` is available in {allowed}; here, look at the scans through a bound one: `any(s in scans where s.kind == followup and ...)`, `last(s in graded).date`")
        } else if matches!(self.ctx, Ctx::Lesion) {
            // a lesion-level let is also computed for target selection, before any scan is
            // graded: what depends on the scan belongs in a def the scan's lets call
            format!("`{name}` is available in {allowed}; a lesion-level let sees the lesion, not the scan being graded: write a `def` with a lesion parameter (`def counted_before(l: lesion) = any(s in prior: ...)`) and call it from a scan-level let or rule (docs/language.md, lesion-level lets)")
        } else {
            format!("`{name}` is available in {allowed}")
        };
        self.err(
            span,
            "check::misplaced",
            format!("`{name}` cannot be used in {here}"),
            help,
        );
        None
    }

    /// Resolves the first segment of a name that is not a bound variable.
    /// `Some(None)`: not a name (maybe an enumeration literal); `None`: error reported.
    pub(super) fn resolve_root(
        &mut self,
        first: &str,
        rest: &[&str],
        span: Span,
    ) -> Option<Option<Resolved>> {
        let scan_ctx = matches!(self.ctx, Ctx::Scan | Ctx::Table);
        let v =
            |me: &mut Self, k: ExprKind, ty: Ty| Some(Some(Resolved::Value(me.mk(k, ty, span))));
        match first {
            "scan" => {
                if !scan_ctx {
                    return self.misplaced(first, span, "lets and rules");
                }
                v(self, ExprKind::CurScan, Ty::SCAN)
            }
            "baseline" => {
                if !matches!(self.ctx, Ctx::Scan | Ctx::Table | Ctx::Summary) {
                    return self.misplaced(first, span, "lets, rules and the summary");
                }
                v(self, ExprKind::Baseline, Ty::SCAN)
            }
            "previous" => {
                if !scan_ctx {
                    return self.misplaced(first, span, "lets and rules");
                }
                v(self, ExprKind::Previous, Ty::SCAN.optional())
            }
            "lesion" => {
                if self.ctx != Ctx::Lesion {
                    return self.misplaced(first, span, "lesion-level lets and target selection (elsewhere bind one: `any(l in targets: ...)`)");
                }
                v(self, ExprKind::CurLesion, Ty::LESION)
            }
            "case" => {
                let Some(field) = rest.first() else {
                    self.err(
                        span,
                        "check::unknown_field",
                        "`case` needs a field".into(),
                        format!("fields: {}", schema::CASE_FIELDS.join(", ")),
                    );
                    return None;
                };
                match schema::case_field(field) {
                    Some((f, ty)) => v(self, ExprKind::CaseField(f), ty),
                    None => {
                        let help = match closest(field, schema::CASE_FIELDS.iter().copied()) {
                            Some(c) => format!("did you mean `case.{c}`?"),
                            None => format!("fields: {}", schema::CASE_FIELDS.join(", ")),
                        };
                        self.err(
                            span,
                            "check::unknown_field",
                            format!("the case has no field `{field}`"),
                            help,
                        );
                        None
                    }
                }
            }
            set if LESION_SETS.contains(&set) => {
                if !scan_ctx {
                    return self.misplaced(
                        first,
                        span,
                        "lets and rules (or `s.targets` for a bound scan `s`)",
                    );
                }
                let cur = Box::new(self.mk(ExprKind::CurScan, Ty::SCAN, span));
                Some(Some(Resolved::Set(lesion_set(first, cur), Base::LesionSet)))
            }
            "scans" => Some(Some(Resolved::Set(SetExpr::Scans, Base::ScanSet))),
            "prior" => {
                if !scan_ctx {
                    return self.misplaced(first, span, "lets and rules");
                }
                Some(Some(Resolved::Set(SetExpr::Prior, Base::ScanSet)))
            }
            "graded" => {
                if self.ctx != Ctx::Summary {
                    return self.misplaced(first, span, "the summary");
                }
                Some(Some(Resolved::Set(SetExpr::Graded, Base::ScanSet)))
            }
            "response" | "decision" if self.ctx == Ctx::Table => {
                let (o, id) = if first == "response" {
                    (Output::Response, LABEL)
                } else {
                    (Output::Decision, DECISION)
                };
                v(self, ExprKind::CurOutput(o), Ty::enumeration(id).optional())
            }
            "response" | "decision" if self.ctx == Ctx::Scan => {
                self.err(
                    span,
                    "check::misplaced",
                    format!("`{first}` of this scan is not known while lets are computed"),
                    "read it in a rule of a later table, or read `previous.response`",
                );
                None
            }
            _ => {
                if let Some(&ix) = self.state_ix.get(first) {
                    if matches!(self.ctx, Ctx::Case | Ctx::Lesion) {
                        return self.misplaced(first, span, "lets, rules and the summary");
                    }
                    let ty = self.states.get(ix as usize).map(|s| s.ty)?;
                    return v(self, ExprKind::State(ix), ty);
                }
                if self.ctx == Ctx::Summary {
                    if let Some(&i) = self.summary_lets.index.get(first) {
                        let ty = self.ensure_let(Which::Summary, i)?;
                        let i = u32::try_from(i).unwrap_or(u32::MAX);
                        return v(self, ExprKind::SummaryLet(i), ty);
                    }
                }
                if let Some(&i) = self.scan_lets.index.get(first) {
                    if !scan_ctx {
                        return self.misplaced(
                            first,
                            span,
                            "lets and rules (in the summary, read it on a scan: `s.NAME`)",
                        );
                    }
                    let ty = self.ensure_let(Which::Scan, i)?;
                    let cur = Box::new(self.mk(ExprKind::CurScan, Ty::SCAN, span));
                    let i = u32::try_from(i).unwrap_or(u32::MAX);
                    return v(self, ExprKind::ScanLet(i, cur), ty);
                }
                Some(None)
            }
        }
    }

    /// `base.field` for a scan or a lesion.
    pub(super) fn apply_field(&mut self, base: Expr, field: &str, span: Span) -> Option<Resolved> {
        let opt = base.ty.opt;
        match base.ty.base {
            Base::Scan => {
                let (kind, ty) = if let Some((f, ty)) = schema::scan_field(field) {
                    (ExprKind::ScanField(f, Box::new(base)), ty)
                } else if let Some(rest) = field.strip_prefix("steroids.") {
                    let full = format!("steroids.{rest}");
                    let Some((f, ty)) = schema::scan_field(&full) else {
                        let help = match closest(
                            &full,
                            [
                                "steroids.dose_mg",
                                "steroids.changed_on",
                                "steroids.replacement",
                            ],
                        ) {
                            Some(c) => format!("did you mean `{c}`?"),
                            None => {
                                "steroids have `dose_mg`, `changed_on` and `replacement`".into()
                            }
                        };
                        self.err(
                            span,
                            "check::unknown_field",
                            format!("a scan has no field `{full}`"),
                            help,
                        );
                        return None;
                    };
                    (ExprKind::ScanField(f, Box::new(base)), ty)
                } else if field == "response" || field == "decision" {
                    let (o, id) = if field == "response" {
                        (Output::Response, LABEL)
                    } else {
                        (Output::Decision, DECISION)
                    };
                    if !matches!(self.ctx, Ctx::Scan | Ctx::Table | Ctx::Summary) {
                        self.misplaced(field, span, "lets, rules and the summary");
                        return None;
                    }
                    (
                        ExprKind::ScanOutput(o, Box::new(base)),
                        Ty::enumeration(id).optional(),
                    )
                } else if LESION_SETS.contains(&field) {
                    if opt {
                        self.err(
                            span,
                            "check::maybe_absent",
                            format!("the scan may be absent, so `{field}` is not a set"),
                            "use a present scan (`x ?? baseline`)",
                        );
                        return None;
                    }
                    return Some(Resolved::Set(
                        lesion_set(field, Box::new(base)),
                        Base::LesionSet,
                    ));
                } else if let Some(&i) = self.scan_lets.index.get(field) {
                    if !matches!(self.ctx, Ctx::Scan | Ctx::Table | Ctx::Summary) {
                        self.misplaced(field, span, "lets, rules and the summary");
                        return None;
                    }
                    let ty = self.ensure_let(Which::Scan, i)?;
                    let i = u32::try_from(i).unwrap_or(u32::MAX);
                    (ExprKind::ScanLet(i, Box::new(base)), ty)
                } else {
                    let mut names: Vec<&str> = schema::SCAN_FIELDS.to_vec();
                    // `steroids` itself, for `scan.steroid`
                    names.extend(
                        schema::SCAN_FIELDS
                            .iter()
                            .filter_map(|f| f.split_once('.').map(|(a, _)| a)),
                    );
                    let lets: Vec<String> = self.scan_lets.index.keys().cloned().collect();
                    names.extend(lets.iter().map(String::as_str));
                    let group: Vec<String> = schema::SCAN_FIELDS
                        .iter()
                        .filter(|f| f.starts_with(&format!("{field}.")))
                        .map(|f| format!("`scan.{f}`"))
                        .collect();
                    let help = if !group.is_empty() {
                        format!("`{field}` is a group of fields: {}", group.join(", "))
                    } else {
                        match closest(field, names) {
                            Some(c) => {
                                let sub: Vec<String> = schema::SCAN_FIELDS
                                    .iter()
                                    .filter(|f| f.starts_with(&format!("{c}.")))
                                    .map(|f| format!("`scan.{f}`"))
                                    .collect();
                                if sub.is_empty() {
                                    format!("did you mean `{c}`?")
                                } else {
                                    format!("did you mean `{c}`? its fields are {}", sub.join(", "))
                                }
                            }
                            None => format!(
                                "a scan has {}, and every `let`",
                                schema::SCAN_FIELDS.join(", ")
                            ),
                        }
                    };
                    self.err(
                        span,
                        "check::unknown_field",
                        format!("a scan has no field `{field}`"),
                        help,
                    );
                    return None;
                };
                let ty = if opt { ty.optional() } else { ty };
                Some(Resolved::Value(self.mk(kind, ty, span)))
            }
            Base::Lesion => {
                let (kind, ty) = if let Some((f, ty)) = schema::lesion_field(field) {
                    (ExprKind::LesionField(f, Box::new(base)), ty)
                } else if let Some(&i) = self.lesion_lets.index.get(field) {
                    let ty = self.ensure_let(Which::Lesion, i)?;
                    let i = u32::try_from(i).unwrap_or(u32::MAX);
                    (ExprKind::LesionLet(i, Box::new(base)), ty)
                } else {
                    let mut names: Vec<&str> = schema::LESION_FIELDS.to_vec();
                    let lets: Vec<String> = self.lesion_lets.index.keys().cloned().collect();
                    names.extend(lets.iter().map(String::as_str));
                    let help = match closest(field, names) {
                        Some(c) => format!("did you mean `{c}`?"),
                        None => "a lesion has the case's lesion fields and every `let lesion.NAME`"
                            .into(),
                    };
                    self.err(
                        span,
                        "check::unknown_field",
                        format!("a lesion has no field `{field}`"),
                        help,
                    );
                    return None;
                };
                let ty = if opt { ty.optional() } else { ty };
                Some(Resolved::Value(self.mk(kind, ty, span)))
            }
            _ => {
                let got = self.ty_name(base.ty);
                self.err(
                    span,
                    "check::unknown_field",
                    format!("{got} has no field `{field}`"),
                    "only scans and lesions have fields",
                );
                None
            }
        }
    }
}

/// The lesion sets of a scan (`scan.targets`, `s.new_lesions_to_date`, ...), in the order
/// [`lesion_set`] maps them.
pub(super) const LESION_SETS: [&str; 5] = [
    "targets",
    "non_targets",
    "new_lesions",
    "new_lesions_to_date",
    "lesions",
];

pub(super) fn lesion_set(name: &str, scan: Box<Expr>) -> SetExpr {
    match name {
        "targets" => SetExpr::Targets(scan),
        "non_targets" => SetExpr::NonTargets(scan),
        "new_lesions" => SetExpr::NewLesions(scan),
        "new_lesions_to_date" => SetExpr::NewLesionsToDate(scan),
        _ => SetExpr::Lesions(scan),
    }
}
