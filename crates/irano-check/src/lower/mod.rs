//! Name, type and unit resolution: from the merged AST to the checked [`Program`].
//!
//! `mod.rs` holds the lowering state, declarations and lets; `expr.rs` types and lowers
//! expressions; `names.rs` resolves names and fields; `overrides.rs` reads `--set` values.

mod expr;
mod names;
mod overrides;

pub use overrides::parse_override;

use std::collections::HashMap;
use std::sync::Arc;

use irano_syntax::ast::{self, Span};

use crate::diag::{backticked, closest, Diagnostic, SourceText};
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
    /// The name each let is read by (without the `lesion.` prefix).
    names: Vec<String>,
    index: HashMap<String, usize>,
    status: Vec<LetStatus>,
    lowered: Vec<Option<Expr>>,
    order: Vec<u32>,
    ctx: Ctx,
}

impl<'a> LetTable<'a> {
    fn new(decls: &[At<'a, ast::LetDecl>], ctx: Ctx, strip_prefix: bool) -> Self {
        let mut index = HashMap::new();
        let mut names = Vec::with_capacity(decls.len());
        for (i, d) in decls.iter().enumerate() {
            let text = &d.node.name.text;
            // lesion-level lets are read as `l.NAME`
            let name = match text.strip_prefix("lesion.") {
                Some(rest) if strip_prefix => rest,
                _ => text,
            };
            index.insert(name.to_string(), i);
            names.push(name.to_string());
        }
        LetTable {
            decls: decls.to_vec(),
            names,
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
    /// Slots given to aggregates so far (each aggregate has its own).
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
    /// Which defs some expression calls: `[scan defs, summary defs]`, by index.
    pub defs_called: [Vec<bool>; 2],
    /// Parameters whose written value did not check (they keep the value before it): a
    /// range that compares with one of them would report that stale value, a second
    /// diagnostic for one mistake.
    unwritten_params: Vec<String>,
    /// Reads of a let that failed to check (and said why, where it is declared).
    explained_failures: usize,
}

/// The unit a written unit names (`%` is a plain number: the literal was divided by 100;
/// weeks are days: the literal was multiplied by 7).
fn unit_of(u: ast::UnitSuffix) -> crate::types::Unit {
    use crate::types::Unit;
    match u {
        ast::UnitSuffix::Percent => Unit::One,
        ast::UnitSuffix::Mm => Unit::Mm,
        ast::UnitSuffix::Mm2 => Unit::Mm2,
        ast::UnitSuffix::Ml => Unit::Ml,
        ast::UnitSuffix::MgPerDay => Unit::MgPerDay,
        ast::UnitSuffix::Days | ast::UnitSuffix::Weeks => Unit::Days,
        ast::UnitSuffix::Months => Unit::Months,
    }
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
            max_slot: 0,
            ctx: Ctx::Case,
            file: 0,
            def_limit: (0, m.scan.defs.len()),
            inline_depth: 0,
            nodes: 0,
            let_stack: Vec::new(),
            def_stack: Vec::new(),
            defs_called: [
                vec![false; m.scan.defs.len()],
                vec![false; m.summary.defs.len()],
            ],
            unwritten_params: Vec::new(),
            explained_failures: 0,
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

    /// An error at `span` of file `file`.
    pub fn err_in(&mut self, file: u16, span: Span, code: &'static str, msg: String, help: String) {
        self.err_at(file, span, code, msg, help);
    }

    fn err(&mut self, span: Span, code: &'static str, msg: String, help: impl Into<String>) {
        self.err_at(self.file, span, code, msg, help.into());
    }

    /// A warning at `span` of the file being lowered.
    fn warn(&mut self, span: Span, code: &'static str, msg: String, help: &str) {
        let mut d = Diagnostic::warning(code, msg).help(help);
        if let Some(f) = self.files.get(usize::from(self.file)) {
            d = d.at(f, span);
        }
        self.diags.push(d);
    }

    /// The variant names of an enumeration.
    fn variants(&self, id: crate::types::EnumId) -> Vec<String> {
        self.enums
            .get(usize::from(id.0))
            .map(|e| e.variants.clone())
            .unwrap_or_default()
    }

    fn ty_name(&self, ty: Ty) -> String {
        TyDisplay {
            ty,
            enums: &self.enums,
        }
        .to_string()
    }

    /// Errors reported so far, plus reads of declarations whose failure was reported
    /// where they are declared (so a failure that follows from them is not "silent").
    fn error_count(&self) -> usize {
        self.diags.iter().filter(|d| d.is_error()).count() + self.explained_failures
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

    /// Why a parameter the chain declared is gone: the `remove param` that retired it.
    pub fn removed_param(&self, name: &str) -> Option<String> {
        let r = self
            .m
            .removed_params
            .iter()
            .rev()
            .find(|r| r.name == name)?;
        let file = self.files.get(usize::from(r.file))?;
        let place = file.place(r.span.start);
        Some(match &r.cite {
            Some(why) if !why.is_empty() => {
                format!("it was retired by `remove param {name}` at {place}: \"{why}\"")
            }
            _ => format!("it was retired by `remove param {name}` at {place}"),
        })
    }

    pub fn diags_mut(&mut self) -> &mut Vec<Diagnostic> {
        self.diags
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

    /// `native labels { ... }`: the criterion's own name for each declared label, in
    /// label order (`None` where the papers use the declared name), or empty when the
    /// criterion declares none.
    pub fn native_labels(&mut self) -> Vec<Option<String>> {
        let Some(decl) = self.m.native_labels else {
            return Vec::new();
        };
        let labels = self
            .enums
            .get(usize::from(LABEL.0))
            .map(|e| e.variants.clone())
            .unwrap_or_default();
        let decisions = self
            .enums
            .get(usize::from(DECISION.0))
            .map(|e| e.variants.clone())
            .unwrap_or_default();
        let mut out: Vec<Option<String>> = vec![None; labels.len()];
        for (label, native) in &decl.node.names {
            let shown = native.value.trim();
            let problem = match labels.iter().position(|l| *l == label.text) {
                None => Some((
                    label.span,
                    "check::unknown_name",
                    format!("`{}` is not a declared label", label.text),
                    match closest(&label.text, labels.iter().map(String::as_str)) {
                        Some(c) => format!("did you mean `{c}`?"),
                        None => format!("the labels are {}", backticked(&labels, ", ")),
                    },
                )),
                Some(i) if out.get(i).is_some_and(Option::is_some) => Some((
                    label.span,
                    "check::redeclared",
                    format!("`{}` is given a native name twice", label.text),
                    "give each label one native name".to_string(),
                )),
                Some(_) if shown.is_empty() || shown != native.value => Some((
                    native.span,
                    "check::invalid_value",
                    format!("native name `{}` is empty or padded", native.value),
                    "write the name as the criterion's papers print it".to_string(),
                )),
                Some(_) if labels.iter().any(|l| l == shown && *l != label.text) => Some((
                    native.span,
                    "check::invalid_value",
                    format!("`{shown}` is another declared label"),
                    "a native name must not read as a different label; leave a label \
                     out to show it under its own name"
                        .to_string(),
                )),
                Some(_) if decisions.iter().any(|d| d == shown) => Some((
                    native.span,
                    "check::invalid_value",
                    format!("`{shown}` is a declared decision"),
                    "a native name of a response label must not read as a treatment decision"
                        .to_string(),
                )),
                Some(_) if out.iter().flatten().any(|n| n == shown) => Some((
                    native.span,
                    "check::redeclared",
                    format!("two labels are shown as `{shown}`"),
                    "give each label its own native name".to_string(),
                )),
                Some(i) => {
                    if let Some(slot) = out.get_mut(i) {
                        *slot = Some(shown.to_string());
                    }
                    None
                }
            };
            if let Some((span, code, msg, help)) = problem {
                self.err_at(decl.file, span, code, msg, help);
            }
        }
        out
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
            self.ctx = Ctx::Case;
            let range = mp.range.and_then(|r| {
                self.file = r.file;
                self.param_range(r.node, ty, &type_text)
            });
            let last = mp.last.node;
            self.file = mp.last.file;
            let written = self.param_value(&last.default, decl, ty, &type_text, range);
            if written.is_none() {
                self.unwritten_params.push(decl.name.text.clone());
            }
            let value = match written {
                Some(v) => v,
                None => {
                    // One mistake, one diagnostic: the parameter is still declared, with
                    // its type and the default it had before this value, so that what
                    // reads it checks normally.
                    let before = self.diags.len();
                    self.file = mp.decl.file;
                    let v = if std::ptr::eq(last, decl) {
                        None
                    } else {
                        self.param_value(&decl.default, decl, ty, &type_text, range)
                    };
                    self.diags.truncate(before);
                    self.file = mp.last.file;
                    v.unwrap_or(Value::Null)
                }
            };
            // an override that sets the value the parent already gives changes nothing:
            // likely a protocol change the parent already makes, or the wrong parameter
            // (an override that gives a doc restates the value to document it anew)
            if let (Some(prev), None, Some(_)) = (mp.before_last, last.doc.as_ref(), written) {
                let before = self.diags.len();
                self.file = prev.file;
                let old = self.param_value(&prev.node.default, decl, ty, &type_text, range);
                self.diags.truncate(before);
                self.file = mp.last.file;
                if old == Some(value) {
                    let parent = chain_ids
                        .get(usize::from(prev.file))
                        .cloned()
                        .unwrap_or_default();
                    self.warn(
                        last.name.span,
                        "check::override_changes_nothing",
                        format!(
                            "`override param {} = {}` sets the value it already has from `{parent}`",
                            decl.name.text,
                            self.files
                                .get(usize::from(mp.last.file))
                                .and_then(|f| f.text.get(last.default.span.start..last.default.span.end))
                                .unwrap_or("...")
                        ),
                        "remove the override (the parent already does what it says), or check that you meant this parameter and value; `irano-eval params` lists the inherited values",
                    );
                }
            }
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
                doc: mp
                    .doc
                    .and_then(|d| d.node.doc.as_ref())
                    .map(|d| d.value.clone())
                    .unwrap_or_default(),
                declared_in,
                src: Src {
                    file: mp.decl.file,
                    span: decl.name.span,
                },
                range,
            });
        }
    }

    /// The `param group`s of the chain, their members resolved to parameters: a member
    /// that is not a parameter, and a group named as a parameter is, are errors.
    pub fn declare_param_groups(&mut self, chain_ids: &[String]) -> Vec<ParamGroupInfo> {
        let m = self.m;
        let mut out = Vec::new();
        for g in &m.param_groups {
            let decl = g.node;
            self.file = g.file;
            if self.params.iter().any(|p| p.name == decl.name.text) {
                self.err(
                    decl.name.span,
                    "check::redeclared",
                    format!(
                        "`{}` is a parameter; a `param group` needs a name of its own",
                        decl.name.text
                    ),
                    "name the group by the key the criteria notes use for the parameters together",
                );
                continue;
            }
            // an amendment that removed a member retires the group with it
            if decl
                .members
                .iter()
                .any(|n| self.removed_param(&n.text).is_some())
            {
                continue;
            }
            let mut members = Vec::new();
            for n in &decl.members {
                match self.params.iter().position(|p| p.name == n.text) {
                    Some(i) if members.contains(&(i as u32)) => self.err(
                        n.span,
                        "check::redeclared",
                        format!("`{}` is listed twice in the group", n.text),
                        "list each parameter once",
                    ),
                    Some(i) => {
                        let member_unit = self.params.get(i).map(|p| p.type_text.clone());
                        match (&decl.unit, member_unit) {
                            (Some(u), Some(t)) if u.text != t => self.err(
                                n.span,
                                "check::type_mismatch",
                                format!(
                                    "`{}` is `{t}`, not `{}`: a group's unit is the unit of every member",
                                    n.text, u.text
                                ),
                                "group parameters of one unit, or leave the unit out (every value is then given with its own unit)",
                            ),
                            _ => members.push(i as u32),
                        }
                    }
                    None => {
                        let names = self.params.iter().map(|p| p.name.as_str());
                        let help = match crate::diag::closest(&n.text, names) {
                            Some(c) => format!("did you mean `{c}`? a group lists parameters the criterion declares"),
                            None => "a group lists parameters the criterion declares".to_string(),
                        };
                        self.err(
                            n.span,
                            "check::unknown_param",
                            format!("there is no parameter `{}` to group", n.text),
                            help,
                        );
                    }
                }
            }
            if members.len() != decl.members.len() {
                continue;
            }
            out.push(ParamGroupInfo {
                name: decl.name.text.clone(),
                members,
                unit: decl.unit.as_ref().map(|u| u.text.clone()),
                cite: decl
                    .cite
                    .as_ref()
                    .map(|c| c.value.clone())
                    .unwrap_or_default(),
                doc: decl
                    .doc
                    .as_ref()
                    .map(|c| c.value.clone())
                    .unwrap_or_default(),
                declared_in: chain_ids
                    .get(usize::from(g.file))
                    .cloned()
                    .unwrap_or_default(),
                src: self.src(decl.span),
            });
        }
        out
    }

    /// Every parameter whose `range` names another parameter holds a value within it, with
    /// all values as set for the run (`--set` included): `range confirm_min_days to 365
    /// days` keeps a window from being empty.
    pub fn check_param_bounds(&mut self) {
        let mut found = Vec::new();
        for p in &self.params {
            let (Some((lo, hi)), Value::Num(x)) = (p.range, p.value) else {
                continue;
            };
            if !matches!(lo, Bound::Param(_)) && !matches!(hi, Bound::Param(_)) {
                continue;
            }
            let bound = |b: Bound| -> Option<(irano_exact::Rational, Option<&str>)> {
                let name = match b {
                    Bound::Param(j) => self.params.get(j as usize).map(|o| o.name.as_str()),
                    Bound::Value(_) => None,
                };
                match b.value(&self.params) {
                    Value::Num(r) => Some((r, name)),
                    _ => None,
                }
            };
            let show = |r: irano_exact::Rational| show_in_type(r, &p.type_text);
            let describe = |(r, name): (irano_exact::Rational, Option<&str>)| match name {
                Some(n) => format!("`{n}` = {}", show(r)),
                None => show(r),
            };
            let broken = match (bound(lo), bound(hi)) {
                (Some(l), _) if x < l.0 => {
                    Some((format!("below its lower bound {}", describe(l)), lo))
                }
                (_, Some(h)) if x > h.0 => {
                    Some((format!("above its upper bound {}", describe(h)), hi))
                }
                _ => None,
            };
            let Some((why, b)) = broken else { continue };
            let unwritten =
                |i: Option<&ParamInfo>| i.is_some_and(|q| self.unwritten_params.contains(&q.name));
            let bound_param = match b {
                Bound::Param(j) => self.params.get(j as usize),
                Bound::Value(_) => None,
            };
            if unwritten(Some(p)) || unwritten(bound_param) {
                continue;
            }
            // where the disagreement was made: a `--set` of either parameter, else the later
            // of their last declarations (an amendment's `override param`)
            let other = bound_param;
            let overridden = p.overridden || other.is_some_and(|o| o.overridden);
            // name what was set: the bound's parameter, when the run set it and not this one
            let why = match other {
                Some(o) if o.overridden && !p.overridden => {
                    format!("{why}, as `--set {}` made it", o.name)
                }
                _ => why,
            };
            let last = |name: &str| {
                self.m
                    .params
                    .iter()
                    .find(|mp| mp.decl.node.name.text == name)
                    .map(|mp| Src {
                        file: mp.last.file,
                        span: mp.last.node.name.span,
                    })
            };
            let mine = last(&p.name).unwrap_or(p.src);
            let src = match other.and_then(|o| last(&o.name)) {
                Some(o) if o.file > mine.file => o,
                _ => mine,
            };
            found.push((src, overridden, p.name.clone(), show(x), why));
        }
        for (src, overridden, name, value, why) in found {
            let msg = format!("`{name}` = {value} is {why}");
            let help = "the two parameters must agree: change one of them (with `--set` or `override param`) so that the range holds";
            if overridden {
                self.push(
                    Diagnostic::error("check::out_of_range", format!("`--set`: {msg}")).help(help),
                );
            } else {
                self.err_at(src.file, src.span, "check::out_of_range", msg, help.into());
            }
        }
    }

    /// The bounds of `range LOW to HIGH`, in the parameter's type: a literal, or a
    /// parameter of the same type declared before.
    fn param_range(
        &mut self,
        p: &ast::ParamDecl,
        ty: Ty,
        type_text: &str,
    ) -> Option<(Bound, Bound)> {
        let (lo, hi) = p.range.as_ref()?;
        let bound = |this: &mut Self, e: &ast::Expr| -> Option<Bound> {
            let low = this.lower(e, Some(ty))?;
            if let ExprKind::Param(j) = low.kind {
                if this.fits(low.ty, ty) {
                    return Some(Bound::Param(j));
                }
            }
            match this.const_value(&low) {
                Some(v) if this.fits(low.ty, ty) => Some(Bound::Value(v)),
                _ => {
                    this.err(
                        e.span,
                        "check::type_mismatch",
                        format!(
                            "a bound of `{}` must be a {type_text} literal or a {type_text} parameter declared before it",
                            p.name.text
                        ),
                        format!("write `range LOW to HIGH` with {type_text} values"),
                    );
                    None
                }
            }
        };
        let range = (bound(self, lo)?, bound(self, hi)?);
        if let Some((a, b)) = Bound::literal_numbers(Some(range)) {
            if a > b {
                self.err(
                    lo.span,
                    "check::empty_range",
                    format!(
                        "the range of `{}` is empty: its low bound is above its high bound",
                        p.name.text
                    ),
                    "write `range LOW to HIGH` with LOW <= HIGH",
                );
                return None;
            }
        }
        Some(range)
    }

    /// A parameter value written in a rule file (a default or an `override param`):
    /// a literal of the parameter's type, a percent written with `%`, within the range.
    fn param_value(
        &mut self,
        e: &ast::Expr,
        decl: &ast::ParamDecl,
        ty: Ty,
        type_text: &str,
        range: Option<(Bound, Bound)>,
    ) -> Option<Value> {
        let name = decl.name.text.as_str();
        let before = self.error_count();
        let Some(low) = self.lower(e, Some(ty)) else {
            self.internal_if_silent(true, before, e.span);
            return None;
        };
        let Some(v) = self.const_value(&low) else {
            self.err(
                e.span,
                "check::not_constant",
                format!("the value of `{name}` must be a literal"),
                "write a number with its unit, a name or `true`/`false`",
            );
            return None;
        };
        if !self.fits(low.ty, ty) {
            let got = self.ty_name(low.ty);
            let own_default = std::ptr::eq(e, &decl.default);
            let help = self.unit_help(name, ty, low.ty, type_text, decl, own_default);
            // `25%` is a plain number to the type system, but not to whoever wrote it
            let what = if is_percent_literal(e) {
                "a percentage".to_string()
            } else {
                crate::types::value_phrase(&got)
            };
            self.err(
                e.span,
                "check::type_mismatch",
                format!("`{name}` is a {type_text} parameter, but this value is {what}"),
                help,
            );
            return None;
        }
        if type_text == "percent" && !is_percent_literal(e) {
            let help = match v {
                Value::Num(r) => {
                    let pct = r.checked_mul(irano_exact::Rational::from_int(100)).ok();
                    match pct {
                        // the likelier reading first: below 1 a fraction, from 1 a percentage
                        Some(p) if r < irano_exact::Rational::ONE => format!(
                            "write the percentage with `%`: `{}%` (that is {} as a fraction), or `{}%`",
                            p.to_decimal_string(4),
                            r.to_decimal_string(4),
                            r.to_decimal_string(4)
                        ),
                        // above 1 it is not a fraction
                        Some(_) if r > irano_exact::Rational::ONE => format!(
                            "write the percentage with `%`: `{}%`",
                            r.to_decimal_string(4)
                        ),
                        Some(p) => format!(
                            "write the percentage with `%`: `{}%`, or `{}%` if {} is a fraction",
                            r.to_decimal_string(4),
                            p.to_decimal_string(4),
                            r.to_decimal_string(4)
                        ),
                        None => "write the percentage with `%`, e.g. `25%`".into(),
                    }
                }
                _ => "write the percentage with `%`, e.g. `25%`".into(),
            };
            self.err(
                e.span,
                "check::percent_without_sign",
                format!("`{name}` is a percent: a bare number is ambiguous (a fraction or a percentage?)"),
                help,
            );
            return None;
        }
        // a bound that names a parameter is checked once every value is set
        // (`check_param_bounds`)
        if let (Some((a, b)), Value::Num(x)) = (Bound::literal_numbers(range), v) {
            if x < a || x > b {
                let show = |r: irano_exact::Rational| show_in_type(r, type_text);
                self.err(
                    e.span,
                    "check::out_of_range",
                    format!(
                        "`{name}` must be between {} and {} (inclusive); this value is {}",
                        show(a),
                        show(b),
                        show(x)
                    ),
                    "choose a value within the parameter's declared `range`",
                );
                return None;
            }
        }
        Some(v)
    }

    /// Help for a value in the wrong unit; for calendar months against days or weeks, how
    /// to express the other (a parameter of the other unit with a similar name, if any).
    fn unit_help(
        &self,
        name: &str,
        want: Ty,
        got: Ty,
        type_text: &str,
        decl: &ast::ParamDecl,
        own_default: bool,
    ) -> String {
        use crate::types::{Base, Unit};
        let default = &decl.default;
        let example = self
            .m
            .params
            .iter()
            .find(|q| std::ptr::eq(q.decl.node, decl))
            .and_then(|q| self.files.get(usize::from(q.decl.file)))
            .and_then(|f| f.text.get(default.span.start..default.span.end))
            .map(str::to_string);
        let sibling = |unit: Unit| -> Option<String> {
            let prefix = name.rsplit_once('_').map(|(a, _)| a).unwrap_or(name);
            self.m
                .params
                .iter()
                .filter(|q| q.decl.node.name.text != name)
                .filter(|q| q.decl.node.name.text.starts_with(prefix))
                .find(|q| {
                    q.decl
                        .node
                        .ty
                        .as_ref()
                        .and_then(|t| match &t.kind {
                            ast::TypeKind::Named(n) => schema::named_type(n),
                            _ => None,
                        })
                        .is_some_and(|t| t.base == Base::Num(unit))
                })
                .map(|q| {
                    let doc = q
                        .decl
                        .node
                        .doc
                        .as_ref()
                        .map(|d| d.value.as_str())
                        .unwrap_or("");
                    if doc.is_empty() {
                        format!("`{}`", q.decl.node.name.text)
                    } else {
                        format!("`{}` ({doc})", q.decl.node.name.text)
                    }
                })
        };
        match (want.base, got.base) {
            (Base::Num(Unit::Months), Base::Num(Unit::Days)) => {
                let mut h = "a calendar month has no fixed number of days: write a whole number of months, e.g. `3 months`".to_string();
                if let Some(s) = sibling(Unit::Days) {
                    h.push_str(&format!("; to count in days or weeks use {s}"));
                }
                h
            }
            (Base::Num(Unit::Days), Base::Num(Unit::Months)) => {
                let mut h = "this parameter counts days: write days or weeks (`84 days`, `12 weeks`); a calendar month has no fixed number of days".to_string();
                match sibling(Unit::Months) {
                    Some(s) => h.push_str(&format!("; to count in calendar months use {s}")),
                    None => h.push_str("; to count in calendar months, declare a `months` parameter and override the let that reads this one (docs/amending.md, \"a window in calendar months\")"),
                }
                h
            }
            (Base::Enum(_), Base::Text) => match example {
                Some(x) => {
                    format!("a choice is a name, written without quotes, like the default `{x}`")
                }
                None => "a choice is a name, written without quotes".to_string(),
            },
            _ => match example.filter(|_| !own_default) {
                Some(x) => format!("write a {type_text} value, like the default `{x}`"),
                None => match type_example(type_text) {
                    Some(x) => format!("write a {type_text} value, e.g. `{x}`"),
                    None => format!("write a {type_text} value"),
                },
            },
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
                // declared all the same, so that its uses and assignments add no errors
            }
            let Some((ty, _)) = self.lower_type(&st.node.ty, &st.node.name.text) else {
                continue;
            };
            let init = self.lower(&st.node.initial, Some(ty));
            let Some(init) = init else {
                // keep the state, with its declared type, so that what reads it checks
                self.enter_state(
                    &st.node.name.text,
                    ty,
                    Expr {
                        kind: ExprKind::Const(Value::Null),
                        ty,
                        src: self.src(st.node.initial.span),
                    },
                );
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
                let null = Expr {
                    kind: ExprKind::Const(Value::Null),
                    ty,
                    src: init.src,
                };
                self.enter_state(&st.node.name.text, ty, null);
                continue;
            }
            self.enter_state(&st.node.name.text, ty, init);
        }
    }

    fn enter_state(&mut self, name: &str, ty: Ty, initial: Expr) {
        let ix = u32::try_from(self.states.len()).unwrap_or(u32::MAX);
        self.state_ix.insert(name.to_string(), ix);
        self.states.push(StateInfo {
            name: name.to_string(),
            ty,
            initial,
        });
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

    /// The type a `show` value is reported with under its `unit ...` clause: a plain
    /// number takes the fixed unit, or the one its arm names for the value the enumeration
    /// parameter has in this run (with `--set` applied). `None` after an error.
    pub fn show_unit(
        &mut self,
        file: u16,
        unit: &ast::ShowUnit,
        ty: Ty,
    ) -> Option<(Ty, Option<u32>)> {
        use crate::types::{Base, Unit};
        self.file = file;
        let span = match unit {
            ast::ShowUnit::Fixed(_, span) | ast::ShowUnit::ByChoice { span, .. } => *span,
        };
        if ty.base != Base::Num(Unit::One) {
            let shown = self.ty_name(ty);
            self.err(
                span,
                "check::show_unit",
                format!("`unit` applies to a plain number; this value is already in {shown}"),
                "a value that has a unit is reported in it: remove the `unit` clause (or make the value a plain number with `number(...)`)",
            );
            return None;
        }
        let percent = match unit {
            ast::ShowUnit::Fixed(ast::UnitSuffix::Percent, span) => Some(*span),
            ast::ShowUnit::Fixed(..) => None,
            ast::ShowUnit::ByChoice { arms, .. } => arms
                .iter()
                .find(|(_, u)| *u == ast::UnitSuffix::Percent)
                .map(|(c, _)| c.span),
        };
        if let Some(at) = percent {
            self.err(
                at,
                "check::show_unit",
                "`%` is not a unit a value is reported in: a percentage is a plain number".into(),
                "remove `unit %` and show the percentage as a number (e.g. `100 * (burden - nadir_burden) / nadir_burden`), whose name says it is a percentage (`change_pct`)",
            );
            return None;
        }
        let (chosen, read) = match unit {
            ast::ShowUnit::Fixed(u, _) => (unit_of(*u), None),
            ast::ShowUnit::ByChoice { param, arms, span } => {
                let Some(index) = self.params.iter().position(|p| p.name == param.text) else {
                    self.err(
                        param.span,
                        "check::unknown_param",
                        format!("there is no parameter `{}`", param.text),
                        "`unit match` chooses the unit by a parameter with choices, e.g. `unit match my.measurement { a => mm2, b => ml }`",
                    );
                    return None;
                };
                let p = self.params.get(index)?;
                let (Base::Enum(id), Value::Sym(current)) = (p.ty.base, p.value) else {
                    let name = p.name.clone();
                    self.err(
                        param.span,
                        "check::show_unit",
                        format!("`{name}` has no choices to match on"),
                        "`unit match` needs a parameter whose type is a set of choices, `{a, b}`",
                    );
                    return None;
                };
                let variants = self.variants(id);
                for (c, _) in arms {
                    if !variants.contains(&c.text) {
                        self.err(
                            c.span,
                            "check::unknown_choice",
                            format!("`{}` is not a choice of `{}`", c.text, param.text),
                            format!("its choices are {}", variants.join(", ")),
                        );
                        return None;
                    }
                }
                let missing: Vec<&String> = variants
                    .iter()
                    .filter(|v| !arms.iter().any(|(c, _)| &&c.text == v))
                    .collect();
                if !missing.is_empty() {
                    self.err(
                        *span,
                        "check::show_unit",
                        format!(
                            "`unit match {}` gives no unit for {}",
                            param.text,
                            missing
                                .iter()
                                .map(|v| format!("`{v}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        "give a unit for every choice of the parameter",
                    );
                    return None;
                }
                let name = variants.get(usize::from(current))?;
                let u = unit_of(arms.iter().find(|(c, _)| &c.text == name)?.1);
                (u, u32::try_from(index).ok())
            }
        };
        Some((
            Ty {
                base: Base::Num(chosen),
                ..ty
            },
            read,
        ))
    }

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
            let name = table.names.get(i).map(String::as_str).unwrap_or_default();
            out.push(LetInfo {
                name: name.to_string(),
                expr,
                cite: d
                    .node
                    .cite
                    .as_ref()
                    .map(|c| c.value.clone())
                    .unwrap_or_default(),
                doc: d
                    .node
                    .doc
                    .as_ref()
                    .map(|c| c.value.clone())
                    .unwrap_or_default(),
                src: Src {
                    file: d.file,
                    span: d.node.name.span,
                },
                value_src: Src {
                    file: d.file,
                    span: d.node.value.span,
                },
                reads_state: false,
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
            LetStatus::Failed => {
                // already reported where the let is declared: what reads it fails quietly
                self.explained_failures += 1;
                return None;
            }
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
                    "a let is computed from others, so the chain must end, even through another scan (`previous.NAME` of a let in the chain is a cycle too); split the computation: a let of what the scan itself records, and one that reads that let on earlier scans (`last(s in prior where given(s.NAME)).NAME`)".into(),
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
            self.ctx,
            self.file,
            self.def_limit,
        );
        self.scope.clear();
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
        (self.scope, self.ctx, self.file, self.def_limit) = saved;
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

/// `25%` or `-5%`: a percent literal written with its sign.
fn is_percent_literal(e: &ast::Expr) -> bool {
    match &e.kind {
        ast::ExprKind::Number { unit, .. } => *unit == Some(ast::UnitSuffix::Percent),
        ast::ExprKind::Unary(_, inner) => is_percent_literal(inner),
        _ => false,
    }
}

/// A number as the user writes it for a parameter of this type (`25%`, `14 days`).
pub fn show_in_type(r: irano_exact::Rational, type_text: &str) -> String {
    match type_text {
        "percent" => match r.checked_mul(irano_exact::Rational::from_int(100)) {
            Ok(p) => format!("{}%", p.to_decimal_string(4)),
            Err(_) => r.to_decimal_string(4),
        },
        "number" | "count" => r.to_decimal_string(4),
        "weeks" => format!("{} days", r.to_decimal_string(4)),
        t if t.starts_with('{') => r.to_decimal_string(4),
        t => format!("{} {t}", r.to_decimal_string(4)),
    }
}

/// An example literal of a parameter type, for help lines.
fn type_example(type_text: &str) -> Option<&'static str> {
    Some(match type_text {
        "days" => "28 days",
        "weeks" => "4 weeks",
        "months" => "6 months",
        "mm" => "10 mm",
        "mm2" => "100 mm2",
        "ml" => "2.5 ml",
        "mg/day" => "4 mg/day",
        "percent" => "25%",
        "count" => "5",
        "number" => "1.5",
        "bool" => "true",
        _ => return None,
    })
}
