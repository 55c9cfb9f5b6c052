//! Name, type and unit resolution: from the merged AST to the checked [`Program`].

use std::collections::HashMap;
use std::sync::Arc;

use irano_exact::Rational;
use irano_syntax::ast::{self, AggKind, BinOp, ExprKind as A, Span, UnOp, UnitSuffix};

use crate::diag::{closest, Diagnostic, SourceText};
use crate::merge::{At, Merged};
use crate::program::*;
use crate::schema::{self, DECISION, LABEL};
use crate::types::{Base, EnumId, Ty, TyDisplay, Unit};

/// What names an expression may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// Parameter defaults, state initial values, the baseline choice.
    Case,
    /// Lesion-level lets and target selection: `lesion` is bound.
    Lesion,
    /// Scan-level lets and shown values.
    Scan,
    /// Rules and `stop grading`: also this scan's `response` and `decision`.
    Table,
    /// The summary.
    Summary,
}

#[derive(Debug, Clone)]
enum Binding {
    Var { name: String, slot: u16, ty: Ty },
    Macro { name: String, expr: Expr },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LetStatus {
    Todo,
    InProgress,
    Done,
    Failed,
}

struct LetTable<'a> {
    decls: Vec<At<'a, ast::LetDecl>>,
    index: HashMap<String, usize>,
    status: Vec<LetStatus>,
    lowered: Vec<Option<Expr>>,
    order: Vec<u32>,
    ctx: Ctx,
}

impl<'a> LetTable<'a> {
    fn new(decls: &[At<'a, ast::LetDecl>], ctx: Ctx, strip_prefix: bool) -> Self {
        let mut index = HashMap::new();
        for (i, d) in decls.iter().enumerate() {
            let name = if strip_prefix {
                d.node
                    .name
                    .text
                    .strip_prefix("lesion.")
                    .unwrap_or(&d.node.name.text)
            } else {
                &d.node.name.text
            };
            index.insert(name.to_string(), i);
        }
        LetTable {
            decls: decls.to_vec(),
            index,
            status: vec![LetStatus::Todo; decls.len()],
            lowered: vec![None; decls.len()],
            order: Vec::new(),
            ctx,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    Scan,
    Lesion,
    Summary,
}

/// The result of resolving a name: a value, or a set (only valid as an aggregate source).
enum Resolved {
    Value(Expr),
    Set(SetExpr, Base),
}

const MAX_INLINE_DEPTH: usize = 16;
const NODE_BUDGET: usize = 200_000;

pub struct Lowerer<'a, 'd> {
    m: &'a Merged<'a>,
    files: &'a [Arc<SourceText>],
    diags: &'d mut Vec<Diagnostic>,
    pub enums: Vec<EnumDef>,
    pub texts: Vec<String>,
    pub params: Vec<ParamInfo>,
    param_ix: HashMap<String, u32>,
    pub states: Vec<StateInfo>,
    state_ix: HashMap<String, u32>,
    scan_lets: LetTable<'a>,
    lesion_lets: LetTable<'a>,
    summary_lets: LetTable<'a>,
    scope: Vec<Binding>,
    next_slot: u16,
    pub max_slot: u16,
    ctx: Ctx,
    file: u16,
    /// Defs callable from the current position: `(section is summary, index limit)`.
    def_limit: (usize, usize),
    inline_depth: usize,
    nodes: usize,
    /// Lets being lowered, outermost first (to show a cycle's path).
    let_stack: Vec<String>,
    /// The defs being inlined (to name recursion).
    def_stack: Vec<String>,
}

impl<'a, 'd> Lowerer<'a, 'd> {
    pub fn new(
        m: &'a Merged<'a>,
        files: &'a [Arc<SourceText>],
        diags: &'d mut Vec<Diagnostic>,
    ) -> Self {
        Lowerer {
            m,
            files,
            diags,
            enums: schema::initial_enums(),
            texts: Vec::new(),
            params: Vec::new(),
            param_ix: HashMap::new(),
            states: Vec::new(),
            state_ix: HashMap::new(),
            scan_lets: LetTable::new(&m.scan.lets, Ctx::Scan, false),
            lesion_lets: LetTable::new(&m.lesion_lets, Ctx::Lesion, true),
            summary_lets: LetTable::new(&m.summary.lets, Ctx::Summary, false),
            scope: Vec::new(),
            next_slot: 0,
            max_slot: 0,
            ctx: Ctx::Case,
            file: 0,
            def_limit: (0, m.scan.defs.len()),
            inline_depth: 0,
            nodes: 0,
            let_stack: Vec::new(),
            def_stack: Vec::new(),
        }
    }

    // ------------------------------------------------------------------ errors

    fn src(&self, span: Span) -> Src {
        Src {
            file: self.file,
            span,
        }
    }

    fn err_at(&mut self, file: u16, span: Span, code: &'static str, msg: String, help: String) {
        if let Some(f) = self.files.get(usize::from(file)) {
            self.diags
                .push(Diagnostic::error(code, msg).at(f, span).help(help));
        } else {
            self.diags.push(Diagnostic::error(code, msg).help(help));
        }
    }

    fn err(&mut self, span: Span, code: &'static str, msg: String, help: impl Into<String>) {
        self.err_at(self.file, span, code, msg, help.into());
    }

    fn ty_name(&self, ty: Ty) -> String {
        TyDisplay {
            ty,
            enums: &self.enums,
        }
        .to_string()
    }

    fn error_count(&self) -> usize {
        self.diags.iter().filter(|d| d.is_error()).count()
    }

    /// Every failure must be explained: a lowering that failed without a diagnostic is a
    /// checker bug, reported as such rather than silently dropping a rule or a let.
    fn internal_if_silent(&mut self, failed: bool, errors_before: usize, span: Span) {
        if failed && self.error_count() == errors_before {
            self.err(
                span,
                "check::internal",
                "the checker could not understand this, and did not say why".into(),
                "this is a bug in irano; please report it with this rule file",
            );
        }
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    pub fn type_name(&self, ty: Ty) -> String {
        self.ty_name(ty)
    }

    pub fn fits_pub(&self, got: Ty, want: Ty) -> bool {
        self.fits(got, want)
    }

    // ------------------------------------------------------------ declarations

    pub fn declare_enums(&mut self) {
        for (is_label, decl) in [(true, self.m.labels), (false, self.m.decisions)] {
            let id = if is_label { LABEL } else { DECISION };
            let what = if is_label { "labels" } else { "decisions" };
            let Some((names, file, _span)) = decl else {
                continue;
            };
            let mut variants: Vec<String> = Vec::new();
            for n in names {
                if variants.contains(&n.text) {
                    self.err_at(
                        file,
                        n.span,
                        "check::redeclared",
                        format!("`{}` is listed twice in `{what}`", n.text),
                        "list each name once".into(),
                    );
                } else {
                    variants.push(n.text.clone());
                }
            }
            if let Some(e) = self.enums.get_mut(usize::from(id.0)) {
                e.variants = variants;
            }
        }
    }

    fn lower_type(&mut self, t: &ast::TypeExpr, owner: &str) -> Option<(Ty, String)> {
        let (ty, text) = match &t.kind {
            ast::TypeKind::Named(n) => match schema::named_type(n) {
                Some(ty) => (ty, n.clone()),
                None => {
                    let help = match closest(n, schema::TYPE_NAMES.iter().copied()) {
                        Some(c) => format!("did you mean `{c}`?"),
                        None => format!("types are {}", schema::TYPE_NAMES.join(", ")),
                    };
                    self.err(
                        t.span,
                        "check::unknown_type",
                        format!("unknown type `{n}`"),
                        help,
                    );
                    return None;
                }
            },
            ast::TypeKind::Choice(names) => {
                let mut variants: Vec<String> = Vec::new();
                for n in names {
                    if variants.contains(&n.text) {
                        self.err(
                            n.span,
                            "check::redeclared",
                            format!("choice `{}` is listed twice", n.text),
                            "list each choice once",
                        );
                    } else {
                        variants.push(n.text.clone());
                    }
                }
                let text = format!("{{{}}}", variants.join(", "));
                let id = EnumId(u16::try_from(self.enums.len()).unwrap_or(u16::MAX));
                self.enums.push(EnumDef {
                    name: format!("choice of `{owner}`"),
                    variants,
                });
                (Ty::enumeration(id), text)
            }
        };
        Some((ty.with_opt(t.optional), text))
    }

    pub fn declare_params(&mut self, chain_ids: &[String]) {
        let m = self.m;
        for mp in &m.params {
            let decl = mp.decl.node;
            self.file = mp.decl.file;
            let Some(ty_expr) = &decl.ty else { continue };
            let Some((ty, type_text)) = self.lower_type(ty_expr, &decl.name.text) else {
                continue;
            };
            let last = mp.last.node;
            self.file = mp.last.file;
            self.ctx = Ctx::Case;
            let value = match self.lower(&last.default, Some(ty)) {
                Some(e) => match self.const_value(&e) {
                    Some(v) if self.fits(e.ty, ty) => v,
                    Some(_) => {
                        let (want, got) = (self.ty_name(ty), self.ty_name(e.ty));
                        self.err(
                            last.default.span,
                            "check::type_mismatch",
                            format!(
                                "default of `{}` is {got}, but its type is {want}",
                                decl.name.text
                            ),
                            format!("write a {want} value"),
                        );
                        continue;
                    }
                    None => {
                        self.err(
                            last.default.span,
                            "check::not_constant",
                            format!("default of `{}` must be a literal", decl.name.text),
                            "write a number with its unit, a name or `true`/`false`",
                        );
                        continue;
                    }
                },
                None => continue,
            };
            let cite = last.cite.as_ref().or(decl.cite.as_ref());
            if cite.is_none() {
                self.err(
                    decl.name.span,
                    "check::missing_cite",
                    format!("parameter `{}` does not cite its source", decl.name.text),
                    "add `cite \"paper, table or section\"` after the default",
                );
            }
            let declared_in = chain_ids
                .get(usize::from(mp.last.file))
                .cloned()
                .unwrap_or_default();
            let ix = u32::try_from(self.params.len()).unwrap_or(u32::MAX);
            self.param_ix.insert(decl.name.text.clone(), ix);
            self.params.push(ParamInfo {
                name: decl.name.text.clone(),
                ty,
                type_text,
                value,
                default: value,
                overridden: false,
                cite: cite.map(|c| c.value.clone()).unwrap_or_default(),
                doc: last
                    .doc
                    .as_ref()
                    .or(decl.doc.as_ref())
                    .map(|d| d.value.clone())
                    .unwrap_or_default(),
                declared_in,
                src: Src {
                    file: mp.decl.file,
                    span: decl.name.span,
                },
            });
        }
    }

    pub fn declare_states(&mut self) {
        let m = self.m;
        for st in &m.states {
            self.file = st.file;
            self.ctx = Ctx::Case;
            if st.node.name.text.contains('.') {
                self.err(
                    st.node.name.span,
                    "check::dotted_name",
                    format!("state `{}` has a dot in its name", st.node.name.text),
                    "only parameters may have dotted names; write `_` instead",
                );
                continue;
            }
            let Some((ty, _)) = self.lower_type(&st.node.ty, &st.node.name.text) else {
                continue;
            };
            let Some(init) = self.lower(&st.node.initial, Some(ty)) else {
                continue;
            };
            if !self.fits(init.ty, ty) {
                let (want, got) = (self.ty_name(ty), self.ty_name(init.ty));
                self.err(
                    st.node.initial.span,
                    "check::type_mismatch",
                    format!(
                        "initial value of `{}` is {got}, but its type is {want}",
                        st.node.name.text
                    ),
                    format!("write a {want} value"),
                );
                continue;
            }
            let ix = u32::try_from(self.states.len()).unwrap_or(u32::MAX);
            self.state_ix.insert(st.node.name.text.clone(), ix);
            self.states.push(StateInfo {
                name: st.node.name.text.clone(),
                ty,
                initial: init,
            });
        }
    }

    pub fn state_index(&self, name: &str) -> Option<u32> {
        self.state_ix.get(name).copied()
    }

    /// Whether a value of type `got` may be stored where `want` is expected.
    fn fits(&self, got: Ty, want: Ty) -> bool {
        if got.is_null() {
            return want.opt;
        }
        got.base == want.base && (!got.opt || want.opt)
    }

    fn const_value(&self, e: &Expr) -> Option<Value> {
        match &e.kind {
            ExprKind::Const(v) => Some(*v),
            ExprKind::Unary(UnKind::Neg, inner) => match self.const_value(inner)? {
                Value::Num(r) => r.checked_neg().ok().map(Value::Num),
                _ => None,
            },
            _ => None,
        }
    }

    // -------------------------------------------------------------- sections

    pub fn lower_in(
        &mut self,
        ctx: Ctx2,
        file: u16,
        e: &ast::Expr,
        exp: Option<Ty>,
    ) -> Option<Expr> {
        self.ctx = match ctx {
            Ctx2::Case => Ctx::Case,
            Ctx2::Lesion => Ctx::Lesion,
            Ctx2::Scan => Ctx::Scan,
            Ctx2::Table => Ctx::Table,
            Ctx2::Summary => Ctx::Summary,
        };
        self.file = file;
        self.scope.clear();
        self.next_slot = 0;
        self.def_limit = (0, self.m.scan.defs.len());
        if ctx == Ctx2::Summary {
            self.def_limit = (1, self.m.summary.defs.len());
        }
        let before = self.error_count();
        let out = self.lower(e, exp);
        self.internal_if_silent(out.is_none(), before, e.span);
        out
    }

    /// Lowers every let of a section, returning them and a dependency order.
    pub fn finish_lets(&mut self, which: Ctx2) -> (Vec<LetInfo>, Vec<u32>) {
        let w = match which {
            Ctx2::Lesion => Which::Lesion,
            Ctx2::Summary => Which::Summary,
            _ => Which::Scan,
        };
        let n = self.lets(w).decls.len();
        for i in 0..n {
            self.ensure_let(w, i);
        }
        let table = self.lets(w);
        let mut out = Vec::with_capacity(n);
        for (i, d) in table.decls.iter().enumerate() {
            let expr = table.lowered.get(i).cloned().flatten().unwrap_or(Expr {
                kind: ExprKind::Const(Value::Null),
                ty: Ty::NULL,
                src: Src::default(),
            });
            let name = if w == Which::Lesion {
                d.node
                    .name
                    .text
                    .strip_prefix("lesion.")
                    .unwrap_or(&d.node.name.text)
            } else {
                &d.node.name.text
            };
            out.push(LetInfo {
                name: name.to_string(),
                expr,
                cite: d
                    .node
                    .cite
                    .as_ref()
                    .map(|c| c.value.clone())
                    .unwrap_or_default(),
                src: Src {
                    file: d.file,
                    span: d.node.name.span,
                },
            });
        }
        (out, table.order.clone())
    }

    fn lets(&self, w: Which) -> &LetTable<'a> {
        match w {
            Which::Scan => &self.scan_lets,
            Which::Lesion => &self.lesion_lets,
            Which::Summary => &self.summary_lets,
        }
    }

    fn lets_mut(&mut self, w: Which) -> &mut LetTable<'a> {
        match w {
            Which::Scan => &mut self.scan_lets,
            Which::Lesion => &mut self.lesion_lets,
            Which::Summary => &mut self.summary_lets,
        }
    }

    /// Lowers let `i` if not done yet; returns its type.
    fn ensure_let(&mut self, w: Which, i: usize) -> Option<Ty> {
        let status = self.lets(w).status.get(i).copied()?;
        match status {
            LetStatus::Done => return self.lets(w).lowered.get(i)?.as_ref().map(|e| e.ty),
            LetStatus::Failed => return None,
            LetStatus::InProgress => {
                let decl = *self.lets(w).decls.get(i)?;
                let name = decl.node.name.text.clone();
                let start = self.let_stack.iter().position(|n| *n == name).unwrap_or(0);
                let mut path: Vec<String> = self.let_stack.get(start..).unwrap_or(&[]).to_vec();
                path.push(name.clone());
                self.err_at(
                    decl.file,
                    decl.node.name.span,
                    "check::cycle",
                    format!("`{name}` depends on itself: {}", path.join(" -> ")),
                    "a let is computed from others on the same scan, so the chain must end; read an earlier scan's value instead (`previous.NAME`) or split the computation".into(),
                );
                if let Some(s) = self.lets_mut(w).status.get_mut(i) {
                    *s = LetStatus::Failed;
                }
                return None;
            }
            LetStatus::Todo => {}
        }
        if let Some(s) = self.lets_mut(w).status.get_mut(i) {
            *s = LetStatus::InProgress;
        }
        let decl = *self.lets(w).decls.get(i)?;
        self.let_stack.push(decl.node.name.text.clone());
        if decl.node.name.text.contains('.') && w != Which::Lesion {
            self.err_at(
                decl.file,
                decl.node.name.span,
                "check::dotted_name",
                format!("let `{}` has a dot in its name", decl.node.name.text),
                "only parameters may have dotted names (`trial.max_dose`); lesion-level lets start with `lesion.`; write `_` instead".into(),
            );
        }
        let ctx = self.lets(w).ctx;
        // save the caller's lowering state
        let saved = (
            std::mem::take(&mut self.scope),
            self.next_slot,
            self.ctx,
            self.file,
            self.def_limit,
        );
        self.scope.clear();
        self.next_slot = 0;
        self.ctx = ctx;
        self.file = decl.file;
        self.def_limit = if w == Which::Summary {
            (1, self.m.summary.defs.len())
        } else {
            (0, self.m.scan.defs.len())
        };
        let declared = match &decl.node.ty {
            Some(t) => self.lower_type(t, &decl.node.name.text).map(|x| x.0),
            None => None,
        };
        let errors_before = self.error_count();
        let mut lowered = self.lower(&decl.node.value, declared);
        self.internal_if_silent(lowered.is_none(), errors_before, decl.node.value.span);
        if let (Some(e), Some(want)) = (&lowered, declared) {
            if !self.fits(e.ty, want) {
                let (w2, g) = (self.ty_name(want), self.ty_name(e.ty));
                self.err(
                    decl.node.value.span,
                    "check::type_mismatch",
                    format!(
                        "`{}` is declared {w2} but its value is {g}",
                        decl.node.name.text
                    ),
                    format!("make the value a {w2} or change the declared type"),
                );
                lowered = None;
            }
        }
        if let Some(e) = &lowered {
            if matches!(e.ty.base, Base::ScanSet | Base::LesionSet | Base::Null) {
                self.err(
                    decl.node.value.span,
                    "check::type_mismatch",
                    format!("`{}` has no value type", decl.node.name.text),
                    "a let holds a value; aggregate a set with `count(...)`, `sum(...)` and the like",
                );
                lowered = None;
            }
        }
        (
            self.scope,
            self.next_slot,
            self.ctx,
            self.file,
            self.def_limit,
        ) = saved;
        self.let_stack.pop();
        let ok = lowered.is_some();
        let table = self.lets_mut(w);
        if let Some(s) = table.status.get_mut(i) {
            *s = if ok {
                LetStatus::Done
            } else {
                LetStatus::Failed
            };
        }
        let ty = lowered.as_ref().map(|e| e.ty);
        if let Some(slot) = table.lowered.get_mut(i) {
            *slot = lowered;
        }
        if ok {
            table.order.push(u32::try_from(i).unwrap_or(u32::MAX));
        }
        ty
    }

    // ------------------------------------------------------------ expressions

    fn mk(&mut self, kind: ExprKind, ty: Ty, span: Span) -> Expr {
        self.nodes += 1;
        Expr {
            kind,
            ty,
            src: self.src(span),
        }
    }

    fn alloc_slot(&mut self) -> u16 {
        let s = self.next_slot;
        self.next_slot = self.next_slot.saturating_add(1);
        self.max_slot = self.max_slot.max(self.next_slot);
        s
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
                let u = match unit {
                    None | Some(UnitSuffix::Percent) => Unit::One,
                    Some(UnitSuffix::Mm) => Unit::Mm,
                    Some(UnitSuffix::Mm2) => Unit::Mm2,
                    Some(UnitSuffix::Ml) => Unit::Ml,
                    Some(UnitSuffix::MgPerDay) => Unit::MgPerDay,
                    Some(UnitSuffix::Days) | Some(UnitSuffix::Weeks) => Unit::Days,
                    Some(UnitSuffix::Months) => Unit::Months,
                };
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

    fn lower_bool(&mut self, e: &ast::Expr) -> Option<Expr> {
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

    fn lower_unary(&mut self, op: UnOp, inner: &ast::Expr, span: Span) -> Option<Expr> {
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
    fn is_bound_name(&self, text: &str) -> bool {
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
            "scan"
                | "baseline"
                | "previous"
                | "case"
                | "lesion"
                | "targets"
                | "non_targets"
                | "new_lesions"
                | "lesions"
                | "scans"
                | "prior"
                | "graded"
        ) || (matches!(first, "response" | "decision") && self.ctx == Ctx::Table)
            || self.state_ix.contains_key(first)
            || self.scan_lets.index.contains_key(first)
            || (self.ctx == Ctx::Summary && self.summary_lets.index.contains_key(first))
    }

    fn lower_binary(
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
                    let help = if a.ty.opt || b.ty.opt {
                        "a side may be absent: write `x ?? fallback` or test `given(x)` first"
                    } else {
                        "compare numbers of the same unit, or two dates"
                    };
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
                    self.diags.push(
                        Diagnostic::warning(
                            "check::needless_fallback",
                            format!("`{}` is never absent", self.text(l.span)),
                        )
                        .at(
                            &self.files
                                [usize::from(self.file).min(self.files.len().saturating_sub(1))],
                            l.span,
                        )
                        .help("remove `?? ...`"),
                    );
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
                    self.err(
                        span,
                        "check::unit_mismatch",
                        format!("cannot compute {x} {sym} {y}"),
                        "units must agree: add like to like, `mm * mm` is `mm2`, `date + days` is a date",
                    );
                    return None;
                };
                Some(self.mk(ExprKind::Binary(k, Box::new(a), Box::new(b)), ty, span))
            }
        }
    }

    /// Lowers two operands whose types inform each other (enumeration literals).
    fn lower_pair(&mut self, l: &ast::Expr, r: &ast::Expr) -> Option<(Expr, Expr)> {
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

    fn text(&self, span: Span) -> &str {
        self.files
            .get(usize::from(self.file))
            .and_then(|f| f.text.get(span.start..span.end))
            .unwrap_or("")
    }

    fn lower_match(
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
        let variants = self
            .enums
            .get(usize::from(id.0))
            .map(|e| e.variants.clone())
            .unwrap_or_default();
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
                format!(
                    "`match` does not handle {}",
                    missing
                        .iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
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

    fn lower_call(
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
            let help = if later {
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

    fn lower_aggregate(
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
        let slot = self.alloc_slot();
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
        self.next_slot = slot;
        let (f, v) = (f?, v?);
        let name = match kind {
            AggKind::Any => "any",
            AggKind::All => "all",
            AggKind::Count => "count",
            AggKind::Sum => "sum",
            AggKind::Min => "min",
            AggKind::Max => "max",
            AggKind::ArgMin => "argmin",
            AggKind::ArgMax => "argmax",
            AggKind::First => "first",
            AggKind::Last => "last",
        };
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
            kind,
            slot,
            source: set,
            filter: f,
            value: v,
        };
        Some(self.mk(ExprKind::Aggregate(Box::new(agg)), ty, span))
    }

    fn lower_set(&mut self, e: &ast::Expr) -> Option<(SetExpr, Base)> {
        match &e.kind {
            A::Name(n) => match self.resolve_name(n, None)? {
                Resolved::Set(s, b) => Some((s, b)),
                Resolved::Value(v) => {
                    let got = self.ty_name(v.ty);
                    self.err(
                        e.span,
                        "check::not_a_set",
                        format!("`{}` is {got}, not a set", n.text),
                        "aggregate over `targets`, `non_targets`, `new_lesions`, `lesions`, `scans`, `prior`, `graded`, `after(s)` or `between(s, t)`",
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
                    "aggregate over `targets`, `non_targets`, `new_lesions`, `lesions`, `scans`, `prior`, `graded`, `after(s)` or `between(s, t)`",
                );
                None
            }
        }
    }

    // ------------------------------------------------------------------ names

    fn resolve_name(&mut self, n: &ast::Name, exp: Option<Ty>) -> Option<Resolved> {
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
        if let Some(&ix) = self.param_ix.get(text) {
            let ty = self.params.get(ix as usize).map(|p| p.ty)?;
            return Some(Resolved::Value(self.mk(ExprKind::Param(ix), ty, span)));
        }
        let mut segs = text.split('.');
        let first = segs.next().unwrap_or(text);
        let rest: Vec<&str> = segs.collect();
        // bound variables and inlined parameters
        let bound = self.scope.iter().rev().find_map(|b| match b {
            Binding::Var { name, slot, ty } if name == first => Some(Ok((*slot, *ty))),
            Binding::Macro { name, expr } if name == first => Some(Err(expr.clone())),
            _ => None,
        });
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

    fn unknown_name(&mut self, text: &str, span: Span) {
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
                "scan",
                "baseline",
                "previous",
                "case",
                "targets",
                "non_targets",
                "new_lesions",
                "lesions",
                "scans",
                "prior",
                "graded",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        names.sort();
        let help = match closest(text, names.iter().map(String::as_str)) {
            Some(c) => format!("did you mean `{c}`?"),
            None => "declare it with `param`, `let` or `state`, or check the spelling".into(),
        };
        self.err(
            span,
            "check::unknown_name",
            format!("unknown name `{text}`"),
            help,
        );
    }

    fn misplaced(&mut self, name: &str, span: Span, allowed: &str) -> Option<Option<Resolved>> {
        let here = match self.ctx {
            Ctx::Case => "parameter defaults, state initial values and the baseline choice",
            Ctx::Lesion => "lesion-level lets and target selection",
            Ctx::Scan => "lets and shown values",
            Ctx::Table => "rules",
            Ctx::Summary => "the summary",
        };
        self.err(
            span,
            "check::misplaced",
            format!("`{name}` cannot be used in {here}"),
            format!("`{name}` is available in {allowed}"),
        );
        None
    }

    /// Resolves the first segment of a name that is not a bound variable.
    /// `Some(None)`: not a name (maybe an enumeration literal); `None`: error reported.
    fn resolve_root(&mut self, first: &str, rest: &[&str], span: Span) -> Option<Option<Resolved>> {
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
            "targets" | "non_targets" | "new_lesions" | "lesions" => {
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
    fn apply_field(&mut self, base: Expr, field: &str, span: Span) -> Option<Resolved> {
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
                } else if matches!(field, "targets" | "non_targets" | "new_lesions" | "lesions") {
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
                    let lets: Vec<String> = self.scan_lets.index.keys().cloned().collect();
                    names.extend(lets.iter().map(String::as_str));
                    let help = match closest(field, names) {
                        Some(c) => format!("did you mean `{c}`?"),
                        None => format!(
                            "a scan has {}, and every `let`",
                            schema::SCAN_FIELDS.join(", ")
                        ),
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

/// A bare `0` takes the unit of the value it meets (`burden > 0`, `if c then 0 else area`),
/// so that a definition can serve areas (mm2) and diameters (mm) alike.
fn adapt_zero(e: &mut Expr, other: Ty) {
    if let (ExprKind::Const(Value::Num(r)), Base::Num(Unit::One), Base::Num(u)) =
        (&e.kind, e.ty.base, other.base)
    {
        if r.is_zero() && u != Unit::One && !e.ty.opt {
            e.ty = Ty::num(u);
        }
    }
}

fn lesion_set(name: &str, scan: Box<Expr>) -> SetExpr {
    match name {
        "targets" => SetExpr::Targets(scan),
        "non_targets" => SetExpr::NonTargets(scan),
        "new_lesions" => SetExpr::NewLesions(scan),
        _ => SetExpr::Lesions(scan),
    }
}

/// Public mirror of the lowering contexts, for the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ctx2 {
    Case,
    Lesion,
    Scan,
    Table,
    Summary,
}

/// Parses a `--set` value for a parameter of type `ty` written as `type_text`.
pub fn parse_override(
    text: &str,
    ty: Ty,
    type_text: &str,
    enums: &[EnumDef],
) -> Result<Value, String> {
    let t = text.trim();
    match ty.base {
        Base::Bool => match t {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err("expected `true` or `false`".into()),
        },
        Base::Num(u) => {
            let (num, suffix) = split_unit(t);
            let mut r: Rational = num.parse().map_err(|_| {
                format!(
                    "expected a number{}",
                    if u == Unit::One {
                        String::new()
                    } else {
                        format!(" of {}", u.name())
                    }
                )
            })?;
            let percent = type_text == "percent";
            // a `weeks` parameter given without a unit is in weeks
            if type_text == "weeks" && suffix.is_empty() {
                r = r
                    .checked_mul(Rational::from_int(7))
                    .map_err(|e| e.to_string())?;
            }
            match suffix {
                "" => {
                    if percent {
                        r = r
                            .checked_div(Rational::from_int(100))
                            .map_err(|e| e.to_string())?;
                    }
                }
                "%" if percent || u == Unit::One => {
                    r = r
                        .checked_div(Rational::from_int(100))
                        .map_err(|e| e.to_string())?;
                }
                "weeks" | "week" if u == Unit::Days => {
                    r = r
                        .checked_mul(Rational::from_int(7))
                        .map_err(|e| e.to_string())?;
                }
                s if s == u.name()
                    || (u == Unit::Days && s == "day")
                    || (u == Unit::Months && s == "month") => {}
                s => {
                    return Err(format!(
                        "`{s}` is not a unit of {}",
                        if u == Unit::One { type_text } else { u.name() }
                    ))
                }
            }
            if type_text == "count" && r.denom() != 1 {
                return Err("expected a whole number".into());
            }
            Ok(Value::Num(r))
        }
        Base::Enum(id) => {
            let variants = enums
                .get(usize::from(id.0))
                .map(|e| e.variants.as_slice())
                .unwrap_or(&[]);
            match variants.iter().position(|v| v == t) {
                Some(i) => Ok(Value::Sym(u16::try_from(i).unwrap_or(u16::MAX))),
                None => Err(format!(
                    "expected one of {}",
                    variants
                        .iter()
                        .map(|v| format!("`{v}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
        }
        Base::Date => chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map(Value::Date)
            .map_err(|_| "expected a date YYYY-MM-DD".into()),
        _ => Err("this parameter cannot be set from the command line".into()),
    }
}

fn split_unit(t: &str) -> (&str, &str) {
    let end = t
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.' || *c == '-' || *c == '+'))
        .map(|(i, _)| i)
        .unwrap_or(t.len());
    let (a, b) = t.split_at(end);
    (a.trim(), b.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(text: &str, ty: Ty, type_text: &str) -> Result<Value, String> {
        parse_override(text, ty, type_text, &[])
    }

    fn r(s: &str) -> Value {
        Value::Num(s.parse().unwrap())
    }

    #[test]
    fn set_values_are_read_in_the_parameter_unit() {
        let days = Ty::num(Unit::Days);
        assert_eq!(num("28", days, "days"), Ok(r("28")));
        assert_eq!(num("28 days", days, "days"), Ok(r("28")));
        assert_eq!(num("4 weeks", days, "days"), Ok(r("28")));
        assert_eq!(num("8", days, "weeks"), Ok(r("56")));
        assert_eq!(num("8 weeks", days, "weeks"), Ok(r("56")));
        assert_eq!(num("56 days", days, "weeks"), Ok(r("56")));
        let pct = Ty::num(Unit::One);
        assert_eq!(num("30", pct, "percent"), Ok(r("0.3")));
        assert_eq!(num("30%", pct, "percent"), Ok(r("0.3")));
        assert_eq!(num("4.5", Ty::num(Unit::MgPerDay), "mg/day"), Ok(r("4.5")));
        assert!(num("4 mm", days, "days").is_err());
        assert!(num("six", Ty::num(Unit::Months), "months").is_err());
        assert!(num("2.5", pct, "count").is_err());
    }

    #[test]
    fn choices_and_booleans() {
        let enums = vec![EnumDef {
            name: "choice".into(),
            variants: vec!["calendar".into(), "days_182".into()],
        }];
        let ty = Ty::enumeration(EnumId(0));
        assert_eq!(
            parse_override("days_182", ty, "{calendar, days_182}", &enums),
            Ok(Value::Sym(1))
        );
        assert!(parse_override("days_183", ty, "{calendar, days_182}", &enums).is_err());
        assert_eq!(
            parse_override("true", Ty::BOOL, "bool", &[]),
            Ok(Value::Bool(true))
        );
        assert!(parse_override("yes", Ty::BOOL, "bool", &[]).is_err());
    }
}
