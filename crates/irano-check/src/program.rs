//! The checked program: the only input the evaluator accepts.
//!
//! Every name is resolved to a slot, every type and unit is known, every parameter is a
//! constant (its default or the `--set` override). Nothing here refers to a criterion by
//! name: the program is data produced from rule files.

use chrono::NaiveDate;
use irano_exact::Rational;
use irano_syntax::ast::{self, Span};

use crate::types::{EnumId, Ty};

/// A place in a rule file: which file of [`Program::sources`] and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Src {
    pub file: u16,
    pub span: Span,
}

/// One rule file of the `extends` chain.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// As shown to users (the path given, or the parent's resolved path).
    pub name: String,
    pub text: String,
}

/// A runtime value. `Copy`, so evaluation allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Num(Rational),
    Date(NaiveDate),
    /// A variant of an enumeration (index into its variant list).
    Sym(u16),
    /// An assessment, by index in the case.
    Scan(u32),
    /// A lesion (index into the case's lesion table) as seen on a scan.
    Lesion {
        lesion: u32,
        scan: u32,
    },
    Text(TextRef),
}

/// Text without allocation: a literal of the program or a string of the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextRef {
    Literal(u32),
    LesionId(u32),
    LesionOrgan(u32),
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Ty,
    pub src: Src,
}

/// Fields of the case (the timeline as a whole).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseField {
    Setting,
    TherapyStart,
    ChemoradiationEnd,
    ReirradiationEnd,
}

/// Fields of an assessment (case-format.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanField {
    Date,
    Kind,
    Evaluable,
    T2Flair,
    Enhancement,
    Clinical,
    DeclineCause,
    IraeGrade,
    Pathology,
    Unscheduled,
    SymptomDriven,
    SteroidDose,
    SteroidChangedOn,
    SteroidReplacement,
    Index,
}

/// Fields of a lesion on a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LesionField {
    Id,
    Role,
    Component,
    Organ,
    IsNew,
    FirstSeen,
    Order,
    D1,
    D2,
    Ld,
    Sa,
    VolMl,
    Status,
    NtStatus,
    Equivocal,
    OutsideRadiationField,
}

/// The per-scan outputs of the result contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Response,
    Decision,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnKind {
    Not,
    Neg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinKind {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Coalesce,
    Add,
    Sub,
    Mul,
    Div,
    /// date + days
    DateAddDays,
    /// date - days
    DateSubDays,
    /// date + calendar months
    DateAddMonths,
    /// date - calendar months
    DateSubMonths,
    /// date - date, in days
    DateDiff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    Given,
    Floor,
    Abs,
    /// Drop the unit (identity on the value).
    Number,
    Min2,
    Max2,
    /// `at(lesion, scan)`
    At,
}

#[derive(Debug, Clone)]
pub enum SetExpr {
    /// Every assessment of the case.
    Scans,
    /// Baseline up to the scan before the current one.
    Prior,
    /// Summary: every scan that received a response.
    Graded,
    /// Scans after the given one (up to the current one, exclusive, during the scans).
    After(Box<Expr>),
    /// Scans strictly between two scans.
    Between(Box<Expr>, Box<Expr>),
    Targets(Box<Expr>),
    NonTargets(Box<Expr>),
    NewLesions(Box<Expr>),
    /// Every new lesion first seen on or before the scan, as seen on it (one the scan does
    /// not list is not assessed).
    NewLesionsToDate(Box<Expr>),
    Lesions(Box<Expr>),
}

/// What an aggregate computes over its set (the checked program's own copy of the
/// syntax's aggregate names, so that the evaluator depends on the program only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggKind {
    Any,
    All,
    Count,
    Sum,
    Min,
    Max,
    ArgMin,
    ArgMax,
    First,
    Last,
}

impl From<ast::AggKind> for AggKind {
    fn from(k: ast::AggKind) -> Self {
        match k {
            ast::AggKind::Any => AggKind::Any,
            ast::AggKind::All => AggKind::All,
            ast::AggKind::Count => AggKind::Count,
            ast::AggKind::Sum => AggKind::Sum,
            ast::AggKind::Min => AggKind::Min,
            ast::AggKind::Max => AggKind::Max,
            ast::AggKind::ArgMin => AggKind::ArgMin,
            ast::AggKind::ArgMax => AggKind::ArgMax,
            ast::AggKind::First => AggKind::First,
            ast::AggKind::Last => AggKind::Last,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Aggregate {
    pub kind: AggKind,
    /// Slot of the bound variable.
    pub slot: u16,
    pub source: SetExpr,
    pub filter: Option<Expr>,
    pub value: Option<Expr>,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Const(Value),
    /// A parameter (its value is fixed for the run; the name is kept for explanations).
    Param(u32),
    /// A bound variable (aggregate variable or inlined def parameter).
    Var(u16),
    CurScan,
    Baseline,
    Previous,
    /// The lesion a lesion-level let or a target rule is being computed for.
    CurLesion,
    CaseField(CaseField),
    ScanField(ScanField, Box<Expr>),
    /// A scan-level let as computed on the given scan.
    ScanLet(u32, Box<Expr>),
    /// A summary let.
    SummaryLet(u32),
    /// `response` / `decision` of the given scan.
    ScanOutput(Output, Box<Expr>),
    /// `response` / `decision` of the current scan, as set by an earlier table.
    CurOutput(Output),
    State(u32),
    LesionField(LesionField, Box<Expr>),
    /// A lesion-level let on the given lesion.
    LesionLet(u32, Box<Expr>),
    Unary(UnKind, Box<Expr>),
    Binary(BinKind, Box<Expr>, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Match {
        scrutinee: Box<Expr>,
        arms: Vec<(Vec<u16>, Expr)>,
        default: Option<Box<Expr>>,
    },
    InSet(Box<Expr>, Vec<Value>),
    Call(Builtin, Vec<Expr>),
    Aggregate(Box<Aggregate>),
}

#[derive(Debug, Clone)]
pub struct EnumDef {
    pub name: String,
    pub variants: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ParamInfo {
    pub name: String,
    pub ty: Ty,
    /// The type as written (`percent`, `days`, `{a, b}`), for messages and `--set`.
    pub type_text: String,
    pub value: Value,
    pub default: Value,
    /// Set with `--set` for this run.
    pub overridden: bool,
    pub cite: String,
    pub doc: String,
    /// Criterion id of the file that declared it (or last overrode its default).
    pub declared_in: String,
    pub src: Src,
    /// `range LOW to HIGH`: inclusive bounds every value must respect.
    pub range: Option<(Bound, Bound)>,
}

/// `param group KEY { NAME, ... }`: one key, as the criteria notes name it, that sets
/// several parameters (`--set KEY=V1,V2` sets each member in order).
#[derive(Debug, Clone)]
pub struct ParamGroupInfo {
    pub name: String,
    /// Indexes into [`Program::params`], in the written order.
    pub members: Vec<u32>,
    /// `: days`: the unit a bare number given for the group is read in.
    pub unit: Option<String>,
    pub cite: String,
    pub doc: String,
    /// Criterion id of the file that declared it.
    pub declared_in: String,
    pub src: Src,
}

/// One bound of a parameter's `range`: a value, or another parameter (by index), whose
/// value as set for the run (`--set` included) is the bound (`range confirm_min_days to
/// 365 days`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    Value(Value),
    Param(u32),
}

impl Bound {
    /// The bound's value, with the parameters as set for the run.
    pub fn value(self, params: &[ParamInfo]) -> Value {
        match self {
            Bound::Value(v) => v,
            Bound::Param(j) => params.get(j as usize).map_or(Value::Null, |p| p.value),
        }
    }

    /// Both bounds when they are written as numbers (no parameter named).
    pub fn literal_numbers(range: Option<(Bound, Bound)>) -> Option<(Rational, Rational)> {
        match range? {
            (Bound::Value(Value::Num(a)), Bound::Value(Value::Num(b))) => Some((a, b)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct LetInfo {
    pub name: String,
    pub expr: Expr,
    pub cite: String,
    /// `doc "..."`: what the value means (empty when not given).
    pub doc: String,
    pub src: Src,
    /// The expression as written (before defs are inlined).
    pub value_src: Src,
    /// The value depends on a state variable (directly or through other lets): it is
    /// recomputed after every table that changes state.
    pub reads_state: bool,
}

#[derive(Debug, Clone)]
pub struct TargetSpec {
    pub candidate: Expr,
    /// Key and `descending`.
    pub rank: Vec<(Expr, bool)>,
    pub max: Expr,
    /// Group key and the maximum per group.
    pub max_per: Vec<(Expr, Expr)>,
    /// `eligible:` (over `lesion` on the baseline scan): lesions that fail it are neither
    /// targets nor non-targets, whatever role the case gives them.
    pub eligible: Option<Expr>,
    pub cite: String,
    pub src: Src,
}

/// The columns of a CSV assessment row before the `show` values (docs/case-format.md).
pub const ROW_COLUMNS_BEFORE_SHOWS: [&str; 4] = ["patient", "date", "day", "role"];
/// The columns of a CSV assessment row after the `show` values.
pub const ROW_COLUMNS_AFTER_SHOWS: [&str; 8] = [
    "response",
    "decision",
    "rule",
    "because",
    "response_native",
    "criterion",
    "version",
    "reason",
];
/// What follows a shown value's name in the key of its exact form (JSON `values`).
pub const EXACT_SUFFIX: &str = "_exact";

#[derive(Debug, Clone)]
pub struct ShowInfo {
    pub name: String,
    pub expr: Expr,
    /// The parameter whose choice named the value's unit (`unit match P { ... }`): read,
    /// so it is not reported as inert.
    pub unit_param: Option<u32>,
}

impl ShowInfo {
    /// The unit written after the value (`""` for a plain number or a non-number).
    pub fn unit(&self) -> &'static str {
        match self.expr.ty.base {
            crate::types::Base::Num(u) => u.suffix(),
            _ => "",
        }
    }

    /// Its CSV column: the name with the unit (`burden_mm2`; `/` spelt `_per_`).
    pub fn column(&self) -> String {
        match self.unit() {
            "" => self.name.clone(),
            unit => format!("{}_{}", self.name, unit.replace('/', "_per_")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct StateInfo {
    pub name: String,
    pub ty: Ty,
    pub initial: Expr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Response,
    Decision,
    State(u32),
    BestOverallResponse,
    FinalDecision,
}

#[derive(Debug, Clone)]
pub struct AssignInfo {
    pub target: Target,
    pub value: Expr,
}

#[derive(Debug, Clone)]
pub struct RuleInfo {
    pub id: String,
    /// `None` for `otherwise`.
    pub when: Option<Expr>,
    pub assigns: Vec<AssignInfo>,
    pub cite: String,
    pub because: Option<String>,
    pub src: Src,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    pub rules: Vec<RuleInfo>,
}

#[derive(Debug, Clone)]
pub struct StopInfo {
    pub when: Expr,
    pub because: String,
    pub cite: String,
}

/// `warn ID when EXPR because "..." cite "..."`: tested once per case after the scans are
/// graded, in the summary's context; when true, the run warns with `because`.
#[derive(Debug, Clone)]
pub struct WarnInfo {
    pub id: String,
    pub when: Expr,
    pub because: String,
    pub cite: String,
    pub src: Src,
}

#[derive(Debug, Clone)]
pub struct Program {
    pub id: String,
    pub version: String,
    pub title: String,
    /// The CDISC controlled-terminology value of the criterion (`cdisc_category`), for
    /// RSCAT of exported responses; absent when the file declares none.
    pub cdisc_category: Option<String>,
    pub cite: String,
    /// Criterion ids from the root to this one.
    pub lineage: Vec<String>,
    pub sources: Vec<SourceFile>,
    pub enums: Vec<EnumDef>,
    pub texts: Vec<String>,
    pub params: Vec<ParamInfo>,
    /// Keys that set several parameters at once (`param group`).
    pub param_groups: Vec<ParamGroupInfo>,
    pub baseline: Expr,
    pub baseline_cite: String,
    pub targets: TargetSpec,
    pub lesion_lets: Vec<LetInfo>,
    /// Scan-level lets; `let_order` is a dependency order to compute them in.
    pub lets: Vec<LetInfo>,
    pub let_order: Vec<u32>,
    /// The lets of `let_order` that read state, in the same order: what a table that
    /// changes state makes stale.
    pub state_let_order: Vec<u32>,
    /// The lets of `let_order` read on another scan than the one being graded
    /// (`previous.burden`, `s.burden` in an aggregate, the summary), in the same order:
    /// what must be computed before a scan ends.
    pub cross_scan_let_order: Vec<u32>,
    pub shows: Vec<ShowInfo>,
    /// `native labels`: the criterion's own name of each label, by label value (`None`
    /// where the papers use the declared name); empty when the criterion declares none.
    pub native_labels: Vec<Option<String>>,
    pub states: Vec<StateInfo>,
    pub tables: Vec<Table>,
    pub stop: Option<StopInfo>,
    /// `skip grading when`: tested on each scan after the baseline before its tables; a
    /// scan it holds for is reported not graded and is in no scan set but `scans`.
    pub skip: Option<StopInfo>,
    /// The criterion's warnings about a case's data, in declaration order.
    pub warnings: Vec<WarnInfo>,
    pub summary_lets: Vec<LetInfo>,
    pub summary_let_order: Vec<u32>,
    pub summary_tables: Vec<Table>,
    /// The state variables reported as `pd_date` and `pd_confirmed_on`.
    pub pd_date_state: Option<u32>,
    pub pd_confirmed_state: Option<u32>,
    /// Number of bound-variable slots evaluation needs: one per aggregate of the program.
    pub slots: u16,
    /// Helper functions (inlined where they are called), for the criterion map.
    pub defs: Vec<DefInfo>,
    /// What each file after the root adds, overrides or removes.
    pub changes: Vec<Change>,
}

/// A `def`, as declared (its body is inlined into what calls it).
#[derive(Debug, Clone)]
pub struct DefInfo {
    pub name: String,
    /// `(p: type, ...)` as written.
    pub signature: String,
    pub in_summary: bool,
    pub doc: String,
    /// The source cited for it (empty when none).
    pub cite: String,
    pub src: Src,
    /// Its body: every call inlines an expression with this source (an explanation names
    /// the def where it meets one).
    pub body_src: Src,
}

/// How a file of the chain changed the criterion it builds on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Overridden,
    Removed,
}

/// One declaration a file after the root adds, overrides or removes.
#[derive(Debug, Clone)]
pub struct Change {
    /// `param`, `let`, `def`, `show`, `state`, `rule`, `baseline`, `targets`, `stop grading`.
    pub kind: String,
    pub name: String,
    pub action: ChangeKind,
    pub src: Src,
}

impl Program {
    /// A parameter group as written: `NAME[: UNIT] = {MEMBER, ...}`.
    pub fn param_group_text(&self, g: &ParamGroupInfo) -> String {
        let members: Vec<&str> = self.param_group_members(g);
        let unit = g
            .unit
            .as_deref()
            .map_or(String::new(), |u| format!(": {u}"));
        format!("{}{unit} = {{{}}}", g.name, members.join(", "))
    }

    /// The names of a parameter group's members, in order.
    pub fn param_group_members(&self, g: &ParamGroupInfo) -> Vec<&str> {
        g.members
            .iter()
            .filter_map(|&i| self.params.get(i as usize).map(|m| m.name.as_str()))
            .collect()
    }

    /// The change a later file made to the declaration `kind name`, if any (the last one).
    pub fn change_of(&self, kind: &str, name: &str) -> Option<&Change> {
        self.changes
            .iter()
            .rev()
            .find(|c| c.kind == kind && c.name == name)
    }

    /// Whether a `remove` change still holds in the criterion: false for a rule or parameter
    /// removed and then added again (a rule moved that way, a parameter redeclared).
    pub fn still_removed(&self, c: &Change) -> bool {
        if c.action != ChangeKind::Removed {
            return false;
        }
        match c.kind.as_str() {
            "rule" => !self
                .tables
                .iter()
                .chain(&self.summary_tables)
                .any(|t| t.rules.iter().any(|r| r.id == c.name)),
            "param" => !self.params.iter().any(|q| q.name == c.name),
            _ => true,
        }
    }

    /// `file:line` of a place in the rule files.
    pub fn place(&self, src: Src) -> String {
        match self.sources.get(usize::from(src.file)) {
            Some(f) => {
                let (line, _) = crate::diag::line_col(&f.text, src.span.start);
                format!("{}:{line}", f.name)
            }
            None => "?".into(),
        }
    }

    /// A parameter value as users write it: `25%`, `14 days`, `0.75 mg/day`, a choice's
    /// name, `true`. One place, for results, traces, `params` and `show`.
    /// The bounds of a parameter's `range` as written: a value, or the name of the
    /// parameter a bound follows.
    pub fn range_text(&self, pi: &ParamInfo) -> Option<(String, String)> {
        let (lo, hi) = pi.range?;
        let bound = |b: Bound| match b {
            Bound::Param(j) => self
                .params
                .get(j as usize)
                .map(|o| o.name.clone())
                .unwrap_or_default(),
            Bound::Value(v) => self.param_text(pi, v),
        };
        Some((bound(lo), bound(hi)))
    }

    pub fn param_text(&self, pi: &ParamInfo, v: Value) -> String {
        use crate::types::{Base, Unit};
        match (v, pi.type_text.as_str()) {
            (Value::Num(r), "percent") => match r.checked_mul(Rational::from_int(100)) {
                Ok(x) => format!("{x}%"),
                Err(_) => r.to_string(),
            },
            (Value::Sym(s), _) => match pi.ty.base {
                Base::Enum(id) => self.enum_variant(id, s).to_string(),
                _ => s.to_string(),
            },
            (Value::Num(r), _) => match pi.ty.base {
                Base::Num(Unit::One) => r.to_string(),
                // `1 day`, `1 month`: the singular, as a rule file may write it
                Base::Num(u @ (Unit::Days | Unit::Months)) if r == Rational::ONE => {
                    format!("1 {}", u.suffix().trim_end_matches('s'))
                }
                Base::Num(u) => format!("{r} {}", u.suffix()),
                _ => r.to_string(),
            },
            (Value::Bool(b), _) => b.to_string(),
            (Value::Date(d), _) => d.to_string(),
            _ => "absent".into(),
        }
    }

    /// A type as written in rule files (`mm2`, `bool`, `scan?`).
    pub fn type_name(&self, ty: crate::types::Ty) -> String {
        crate::types::TyDisplay {
            ty,
            enums: &self.enums,
        }
        .to_string()
    }
}

impl Program {
    /// The source text an expression was written as (for explanations).
    pub fn text_of(&self, src: Src) -> &str {
        self.sources
            .get(usize::from(src.file))
            .and_then(|f| f.text.get(src.span.start..src.span.end))
            .unwrap_or("?")
    }

    pub fn enum_variant(&self, id: EnumId, v: u16) -> &str {
        self.enums
            .get(usize::from(id.0))
            .and_then(|e| e.variants.get(usize::from(v)))
            .map(String::as_str)
            .unwrap_or("?")
    }

    /// The label as the criterion's papers name it, when the criterion declares native
    /// labels (the declared name where it maps none); `None` when it declares none.
    pub fn label_native(&self, v: u16) -> Option<&str> {
        if self.native_labels.is_empty() {
            return None;
        }
        match self.native_labels.get(usize::from(v)) {
            Some(Some(n)) => Some(n),
            _ => Some(self.label_name(v)),
        }
    }

    /// Every name a label may be given by: the declared names, then the native ones.
    pub fn label_names(&self) -> Vec<&str> {
        let declared = self
            .enums
            .get(usize::from(crate::schema::LABEL.0))
            .map(|e| e.variants.iter().map(String::as_str).collect::<Vec<_>>())
            .unwrap_or_default();
        let native = self.native_labels.iter().flatten().map(String::as_str);
        declared.into_iter().chain(native).collect()
    }

    /// Every decision's name.
    pub fn decision_names(&self) -> Vec<&str> {
        self.enums
            .get(usize::from(crate::schema::DECISION.0))
            .map(|e| e.variants.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    pub fn label_name(&self, v: u16) -> &str {
        self.enum_variant(crate::schema::LABEL, v)
    }

    pub fn decision_name(&self, v: u16) -> &str {
        self.enum_variant(crate::schema::DECISION, v)
    }

    pub fn text(&self, i: u32) -> &str {
        self.texts.get(i as usize).map(String::as_str).unwrap_or("")
    }
}

impl Expr {
    /// The expressions directly below this one (aggregate sets, filters and values
    /// included), in source order.
    pub fn children(&self) -> Vec<&Expr> {
        let mut v: Vec<&Expr> = Vec::new();
        match &self.kind {
            ExprKind::Const(_)
            | ExprKind::Param(_)
            | ExprKind::Var(_)
            | ExprKind::CurScan
            | ExprKind::Baseline
            | ExprKind::Previous
            | ExprKind::CurLesion
            | ExprKind::CaseField(_)
            | ExprKind::SummaryLet(_)
            | ExprKind::CurOutput(_)
            | ExprKind::State(_) => {}
            ExprKind::ScanField(_, x)
            | ExprKind::ScanLet(_, x)
            | ExprKind::ScanOutput(_, x)
            | ExprKind::LesionField(_, x)
            | ExprKind::LesionLet(_, x)
            | ExprKind::Unary(_, x)
            | ExprKind::InSet(x, _) => v.push(x),
            ExprKind::Binary(_, a, b) => v.extend([&**a, &**b]),
            ExprKind::If(c, t, e) => v.extend([&**c, &**t, &**e]),
            ExprKind::Match {
                scrutinee,
                arms,
                default,
            } => {
                v.push(scrutinee);
                v.extend(arms.iter().map(|(_, x)| x));
                v.extend(default.as_deref());
            }
            ExprKind::Call(_, args) => v.extend(args.iter()),
            ExprKind::Aggregate(agg) => {
                match &agg.source {
                    SetExpr::Scans | SetExpr::Prior | SetExpr::Graded => {}
                    SetExpr::After(x)
                    | SetExpr::Targets(x)
                    | SetExpr::NonTargets(x)
                    | SetExpr::NewLesions(x)
                    | SetExpr::NewLesionsToDate(x)
                    | SetExpr::Lesions(x) => v.push(x),
                    SetExpr::Between(a, b) => v.extend([&**a, &**b]),
                }
                v.extend(agg.filter.as_ref());
                v.extend(agg.value.as_ref());
            }
        }
        v
    }

    /// Calls `f` on this expression and every expression below it, depth first; stops
    /// early when `f` returns true.
    pub fn any(&self, f: &mut impl FnMut(&Expr) -> bool) -> bool {
        f(self) || self.children().into_iter().any(|c| c.any(f))
    }
}

/// Marks the lets whose value depends on a state variable, directly or through another
/// let (scan- or lesion-level). Such a let is recomputed whenever a table changes state,
/// so that every later reader sees the state as it is at that point.
pub(crate) fn mark_state_readers(lets: &mut [LetInfo], lesion_lets: &mut [LetInfo]) {
    loop {
        let scan_flags: Vec<bool> = lets.iter().map(|l| l.reads_state).collect();
        let lesion_flags: Vec<bool> = lesion_lets.iter().map(|l| l.reads_state).collect();
        let reads = |e: &Expr| {
            e.any(&mut |x| match &x.kind {
                ExprKind::State(_) => true,
                ExprKind::ScanLet(i, _) => scan_flags.get(*i as usize).copied().unwrap_or(false),
                ExprKind::LesionLet(i, _) => {
                    lesion_flags.get(*i as usize).copied().unwrap_or(false)
                }
                _ => false,
            })
        };
        let mut changed = false;
        for l in lets.iter_mut().chain(lesion_lets.iter_mut()) {
            if !l.reads_state && reads(&l.expr) {
                l.reads_state = true;
                changed = true;
            }
        }
        if !changed {
            return;
        }
    }
}

/// The scan-level lets read on another scan than the one being graded (a `ScanLet` whose
/// scan is not the current one), in the program's dependency order.
pub(crate) fn lets_read_on_other_scans(p: &Program) -> Vec<u32> {
    let mut read = vec![false; p.lets.len()];
    p.for_each_expr(&mut |e| {
        e.any(&mut |x| {
            if let ExprKind::ScanLet(li, s) = &x.kind {
                if !matches!(s.kind, ExprKind::CurScan) {
                    if let Some(r) = read.get_mut(*li as usize) {
                        *r = true;
                    }
                }
            }
            false
        });
    });
    p.let_order
        .iter()
        .copied()
        .filter(|&li| read.get(li as usize).copied().unwrap_or(false))
        .collect()
}

impl Program {
    /// Calls `f` on every top-level expression of the program (lets, rules, targets,
    /// shows, states, the summary): everything evaluation can read.
    pub fn for_each_expr(&self, f: &mut impl FnMut(&Expr)) {
        for e in self.roots() {
            f(e);
        }
        for l in self
            .lesion_lets
            .iter()
            .chain(&self.lets)
            .chain(&self.summary_lets)
        {
            f(&l.expr);
        }
    }

    /// Which lets (scan, lesion, summary) evaluation can reach: those read, directly or
    /// through other lets, by the baseline, the targets, a show, a state's initial value, a
    /// rule or `stop grading`. A let nothing reaches (its reader removed by an amendment)
    /// is never computed.
    pub fn lets_reached(&self) -> [Vec<bool>; 3] {
        let mut reached = [
            vec![false; self.lets.len()],
            vec![false; self.lesion_lets.len()],
            vec![false; self.summary_lets.len()],
        ];
        let mut work: Vec<(usize, u32)> = Vec::new();
        let visit = |e: &Expr, work: &mut Vec<(usize, u32)>| {
            e.any(&mut |x| {
                match x.kind {
                    ExprKind::ScanLet(i, _) => work.push((0, i)),
                    ExprKind::LesionLet(i, _) => work.push((1, i)),
                    ExprKind::SummaryLet(i) => work.push((2, i)),
                    _ => {}
                }
                false
            });
        };
        for e in self.roots() {
            visit(e, &mut work);
        }
        while let Some((kind, i)) = work.pop() {
            let Some(slot) = reached.get_mut(kind).and_then(|r| r.get_mut(i as usize)) else {
                continue;
            };
            if *slot {
                continue;
            }
            *slot = true;
            let list = match kind {
                0 => &self.lets,
                1 => &self.lesion_lets,
                _ => &self.summary_lets,
            };
            if let Some(l) = list.get(i as usize) {
                visit(&l.expr, &mut work);
            }
        }
        reached
    }

    /// The lets evaluation never reaches that read parameter `param`, directly or through
    /// other such lets (by name): what still mentions a parameter nothing reads.
    /// The declarations whose written text names parameter `name` (`let burden`, `def
    /// confirmed_by`, `rule pd.size_increase`, ...), each with where it is written: what
    /// reads the parameter directly, as an author sees it. A def counts where its body is
    /// written (calls inline it), and a citation that names the parameter does not.
    pub fn param_readers(&self, name: &str) -> Vec<(String, Src)> {
        let mut out: Vec<(String, Src)> = Vec::new();
        let mut add = |what: String, at: Src, texts: &[Src]| {
            if texts.iter().any(|&t| names_word(self.text_of(t), name))
                && !out.iter().any(|(w, _)| *w == what)
            {
                out.push((what, at));
            }
        };
        add("baseline".into(), self.baseline.src, &[self.baseline.src]);
        let t = &self.targets;
        let mut target_srcs = vec![t.candidate.src, t.max.src];
        target_srcs.extend(t.rank.iter().map(|(e, _)| e.src));
        target_srcs.extend(t.max_per.iter().flat_map(|(a, b)| [a.src, b.src]));
        target_srcs.extend(t.eligible.iter().map(|e| e.src));
        add("targets".into(), t.src, &target_srcs);
        for l in &self.lesion_lets {
            add(format!("let lesion.{}", l.name), l.src, &[l.value_src]);
        }
        for l in &self.lets {
            add(format!("let {}", l.name), l.src, &[l.value_src]);
        }
        for l in &self.summary_lets {
            add(format!("summary let {}", l.name), l.src, &[l.value_src]);
        }
        for d in &self.defs {
            add(format!("def {}", d.name), d.src, &[d.body_src]);
        }
        for s in &self.shows {
            add(format!("show {}", s.name), s.expr.src, &[s.expr.src]);
        }
        for r in self
            .tables
            .iter()
            .chain(&self.summary_tables)
            .flat_map(|t| &t.rules)
        {
            let mut srcs: Vec<Src> = r.when.iter().map(|e| e.src).collect();
            srcs.extend(r.assigns.iter().map(|a| a.value.src));
            add(format!("rule {}", r.id), r.src, &srcs);
        }
        if let Some(s) = &self.stop {
            add("stop grading".into(), s.when.src, &[s.when.src]);
        }
        if let Some(s) = &self.skip {
            add("skip grading".into(), s.when.src, &[s.when.src]);
        }
        for w in &self.warnings {
            add(format!("warn {}", w.id), w.src, &[w.when.src]);
        }
        out
    }

    pub fn unreached_readers(&self, param: u32) -> Vec<String> {
        let reached = self.lets_reached();
        let lists = [&self.lets, &self.lesion_lets, &self.summary_lets];
        let mut found: [Vec<bool>; 3] = [
            vec![false; self.lets.len()],
            vec![false; self.lesion_lets.len()],
            vec![false; self.summary_lets.len()],
        ];
        loop {
            let mut changed = false;
            for (kind, list) in lists.iter().enumerate() {
                for (i, l) in list.iter().enumerate() {
                    let seen = |k: usize, j: u32| {
                        found
                            .get(k)
                            .and_then(|f| f.get(j as usize))
                            .copied()
                            .unwrap_or(false)
                    };
                    let unreached = !reached
                        .get(kind)
                        .and_then(|r| r.get(i))
                        .copied()
                        .unwrap_or(true);
                    if !unreached || seen(kind, i as u32) {
                        continue;
                    }
                    let reads = l.expr.any(&mut |x| match x.kind {
                        ExprKind::Param(j) => j == param,
                        ExprKind::ScanLet(j, _) => seen(0, j),
                        ExprKind::LesionLet(j, _) => seen(1, j),
                        ExprKind::SummaryLet(j) => seen(2, j),
                        _ => false,
                    });
                    if reads {
                        if let Some(f) = found.get_mut(kind).and_then(|f| f.get_mut(i)) {
                            *f = true;
                            changed = true;
                        }
                    }
                }
            }
            if !changed {
                break;
            }
        }
        lists
            .iter()
            .zip(&found)
            .flat_map(|(list, f)| list.iter().zip(f).filter(|(_, f)| **f))
            .map(|(l, _)| l.name.clone())
            .collect()
    }

    /// The expressions evaluation starts from: everything but the lets.
    fn roots(&self) -> Vec<&Expr> {
        let mut v: Vec<&Expr> = vec![&self.baseline, &self.targets.candidate, &self.targets.max];
        v.extend(self.targets.rank.iter().map(|(k, _)| k));
        for (k, m) in &self.targets.max_per {
            v.push(k);
            v.push(m);
        }
        v.extend(self.targets.eligible.as_ref());
        v.extend(self.shows.iter().map(|s| &s.expr));
        v.extend(self.states.iter().map(|s| &s.initial));
        for t in self.tables.iter().chain(&self.summary_tables) {
            for r in &t.rules {
                v.extend(r.when.as_ref());
                v.extend(r.assigns.iter().map(|a| &a.value));
            }
        }
        v.extend(self.stop.as_ref().map(|s| &s.when));
        v.extend(self.skip.as_ref().map(|s| &s.when));
        v.extend(self.warnings.iter().map(|w| &w.when));
        v
    }

    /// Every expression evaluation can start from or reach: the roots (rules, baseline,
    /// targets, shows, ...) and the lets they reach ([`Program::lets_reached`]).
    fn reachable_exprs(&self) -> Vec<&Expr> {
        let reached = self.lets_reached();
        let [scan, lesion, summary] = &reached;
        let lets = self
            .lets
            .iter()
            .zip(scan)
            .chain(self.lesion_lets.iter().zip(lesion))
            .chain(self.summary_lets.iter().zip(summary))
            .filter(|(_, r)| **r)
            .map(|(l, _)| &l.expr);
        self.roots().into_iter().chain(lets).collect()
    }

    /// Whether any reachable rule, let or def reads the case field `field` (a case that
    /// gives a field its criterion never reads is told so).
    pub fn reads_case_field(&self, field: CaseField) -> bool {
        self.reachable_exprs()
            .into_iter()
            .any(|e| e.any(&mut |x| matches!(x.kind, ExprKind::CaseField(f) if f == field)))
    }

    /// Which parameters evaluation can read (by index): those read by an expression it
    /// starts from or by a let it reaches ([`Program::lets_reached`]).
    pub fn params_read(&self) -> Vec<bool> {
        let mut read = vec![false; self.params.len()];
        for e in self.reachable_exprs() {
            e.any(&mut |x| {
                if let ExprKind::Param(i) = x.kind {
                    if let Some(r) = read.get_mut(i as usize) {
                        *r = true;
                    }
                }
                false
            });
        }
        for i in self.shows.iter().filter_map(|s| s.unit_param) {
            if let Some(r) = read.get_mut(i as usize) {
                *r = true;
            }
        }
        read
    }
}

/// Whether `text` names `word` as a whole name (not as part of a longer one: `pd_increase`
/// is not named by `irrc.pd_increase`).
pub(crate) fn names_word(text: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
    text.match_indices(word).any(|(i, _)| {
        let before = text.get(..i).and_then(|t| t.chars().next_back());
        let after = text.get(i + word.len()..).and_then(|t| t.chars().next());
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}
