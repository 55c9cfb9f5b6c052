//! The abstract syntax tree of a rule file.
//!
//! Every node that a diagnostic may point at carries a [`Span`] (byte offsets into the
//! file's text). Spans are plain data; rendering happens at the edge (the CLI).

use irano_exact::Rational;

/// Byte range `start..end` in the source text of one rule file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The smallest span covering both.
    pub fn join(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        miette::SourceSpan::new(s.start.into(), s.len())
    }
}

/// A name as written, with its span. Dotted names (`irano.window_months`, `scan.date`,
/// `pd.spd_increase`) are kept whole; the checker decides what each segment means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

/// A string literal with its span (quotes removed, escapes `\"` and `\\` resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Str {
    pub value: String,
    pub span: Span,
}

/// `criterion "id" extends "parent" with "overlay", ... { items }` or `overlay "id" { items }`.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub kind: FileKind,
    pub id: Str,
    pub extends: Option<Str>,
    /// Overlays applied, in order, on top of the parent before this file's own items.
    pub with: Vec<Str>,
    pub items: Vec<Item>,
    pub span: Span,
}

/// A criterion, or an overlay: a reusable set of changes applied to criteria with
/// `extends "base" with "overlay"` (iRANO's rules on the HGG, LGG and BM bases).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Criterion,
    Overlay,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `version "2010.1"`
    Version(Str),
    /// `title "..."`
    Title(Str),
    /// `cdisc_category "..."`: the CDISC controlled-terminology value naming the
    /// criterion (RSCAT of exported responses).
    CdiscCategory(Str),
    /// `cite "..."` at criterion level: the primary source.
    Cite(Str),
    /// `labels { CR PR SD PD NE }`: the response labels, best first (the order is the
    /// best-overall-response order).
    Labels(Vec<Name>, Span),
    /// `decisions { CONTINUE ... }`
    Decisions(Vec<Name>, Span),
    /// `native labels { LABEL = "name" ... } cite "..."`: the criterion's own names for
    /// declared labels.
    NativeLabels(NativeLabelsDecl),
    Param(ParamDecl),
    /// `param group KEY { NAME, ... } cite "..." doc "..."`: one key that sets several
    /// parameters at once.
    ParamGroup(ParamGroupDecl),
    /// `remove param NAME cite "..."`: the parameter is retired (nothing reads it).
    RemoveParam(RemoveParamDecl),
    Let(LetDecl),
    Def(DefDecl),
    State(StateDecl),
    Baseline(BaselineDecl),
    Targets(TargetsDecl),
    Show(ShowDecl),
    StopGrading(StopDecl),
    /// `skip grading when EXPR because "..." cite "..."`
    SkipGrading(StopDecl),
    /// `warn ID when EXPR because "..." cite "..."`
    Warn(WarnDecl),
    Table(TableDecl),
    Summary(SummaryDecl),
}

/// `[override] native labels { LABEL = "native name" ... } cite "..."`.
#[derive(Debug, Clone, PartialEq)]
pub struct NativeLabelsDecl {
    pub is_override: bool,
    /// (declared label, the name the criterion's papers use), in written order.
    pub names: Vec<(Name, Str)>,
    pub cite: Option<Str>,
    pub span: Span,
}

/// `param NAME: TYPE = DEFAULT cite "..." doc "..."`, or with `override` and no type:
/// `override param NAME = NEW_DEFAULT cite "..."`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamDecl {
    pub is_override: bool,
    pub name: Name,
    pub ty: Option<TypeExpr>,
    pub default: Expr,
    pub cite: Option<Str>,
    pub doc: Option<Str>,
    /// `range LOW to HIGH`: the inclusive bounds a value must lie within.
    pub range: Option<(Expr, Expr)>,
    pub span: Span,
}

/// `param group KEY { NAME, NAME } cite "..." doc "..."`: `--set KEY=V1,V2` sets each
/// member parameter in order (a key of the criteria notes that stands for several
/// parameters, such as a window's two bounds).
#[derive(Debug, Clone, PartialEq)]
pub struct ParamGroupDecl {
    pub name: Name,
    /// `: days`: the unit a bare number given for the group is read in (every member has
    /// it).
    pub unit: Option<Name>,
    pub members: Vec<Name>,
    pub cite: Option<Str>,
    pub doc: Option<Str>,
    pub span: Span,
}

/// `remove param NAME cite "..."`.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoveParamDecl {
    pub name: Name,
    pub cite: Option<Str>,
    pub span: Span,
}

/// `let NAME[: TYPE] = EXPR [cite "..."]` (also `override let`).
/// Lesion-level lets (computed lesion fields) are written `let lesion.NAME = EXPR`:
/// i.e. `name.text` starts with `lesion.`.
#[derive(Debug, Clone, PartialEq)]
pub struct LetDecl {
    pub is_override: bool,
    pub name: Name,
    pub ty: Option<TypeExpr>,
    pub value: Expr,
    pub cite: Option<Str>,
    /// `doc "..."`: what the value means, for the criterion map.
    pub doc: Option<Str>,
    pub span: Span,
}

/// `def NAME(p: TYPE, ...) = EXPR` — a non-recursive helper, inlined by the checker.
#[derive(Debug, Clone, PartialEq)]
pub struct DefDecl {
    pub is_override: bool,
    pub name: Name,
    pub params: Vec<(Name, TypeExpr)>,
    pub body: Expr,
    /// `cite "..."`: the source of the definition, when it encodes a reading of one.
    pub cite: Option<Str>,
    /// `doc "..."`: what the function computes, for the criterion map.
    pub doc: Option<Str>,
    pub span: Span,
}

/// `state NAME: TYPE = INITIAL`
#[derive(Debug, Clone, PartialEq)]
pub struct StateDecl {
    pub name: Name,
    pub ty: TypeExpr,
    pub initial: Expr,
    pub span: Span,
}

/// `baseline = EXPR cite "..."` (also `override baseline = ...`).
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineDecl {
    pub is_override: bool,
    pub value: Expr,
    pub cite: Option<Str>,
    pub span: Span,
}

/// ```text
/// targets {
///   candidate: lesion.component == enhancing and lesion.d1 >= 10 mm and lesion.d2 >= 10 mm
///   rank: lesion.d1 * lesion.d2 desc, lesion.id asc
///   max: 5
///   max_per lesion.organ: 5          # optional, repeatable
///   eligible: lesion.component == enhancing   # optional
/// } cite "..."
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TargetsDecl {
    pub is_override: bool,
    pub candidate: Expr,
    pub rank: Vec<RankKey>,
    pub max: Expr,
    pub max_per: Vec<(Expr, Expr)>,
    /// Lesions (of any role) that fail it are neither targets nor non-targets.
    pub eligible: Option<Expr>,
    pub cite: Option<Str>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RankKey {
    pub key: Expr,
    pub descending: bool,
    pub span: Span,
}

/// `show NAME = EXPR` — a per-scan value reported in the table and in JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct ShowDecl {
    pub is_override: bool,
    pub name: Name,
    pub value: Expr,
    /// `unit ...`: the unit the value is reported in, when its type does not carry it.
    pub unit: Option<ShowUnit>,
    pub span: Span,
}

/// `unit mm2`, or `unit match PARAM { choice => mm2, ... }`: a unit chosen by an
/// enumeration parameter (fixed for a run, so the unit is too).
#[derive(Debug, Clone, PartialEq)]
pub enum ShowUnit {
    Fixed(UnitSuffix, Span),
    ByChoice {
        param: Name,
        arms: Vec<(Name, UnitSuffix)>,
        span: Span,
    },
}

/// `stop grading when EXPR because "..." cite "..."`, or `skip grading when ...` (same parts)
#[derive(Debug, Clone, PartialEq)]
pub struct StopDecl {
    pub is_override: bool,
    pub when: Expr,
    pub because: Option<Str>,
    pub cite: Option<Str>,
    pub span: Span,
}

/// `[override] warn ID when EXPR because "..." cite "..."`: a warning about a case's data
/// (a baseline older than the criterion allows, say), tested once per case in the summary's
/// context; it changes no result.
#[derive(Debug, Clone, PartialEq)]
pub struct WarnDecl {
    pub is_override: bool,
    pub name: Name,
    pub when: Expr,
    pub because: Option<Str>,
    pub cite: Option<Str>,
    pub span: Span,
}

/// `table NAME [before|after OTHER] { rules }`
#[derive(Debug, Clone, PartialEq)]
pub struct TableDecl {
    pub name: Name,
    pub position: Option<Position>,
    pub items: Vec<TableItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Position {
    Before(Name),
    After(Name),
}

#[derive(Debug, Clone, PartialEq)]
pub enum TableItem {
    Rule(Rule),
    /// `remove rule ID cite "..."` (the cite is required by the checker)
    Remove(Name, Option<Str>),
    /// `move rule ID before|after OTHER cite "..."`: an inherited rule, unchanged, tried
    /// elsewhere (the cite is required by the checker)
    Move(Name, Position, Option<Str>),
}

/// ```text
/// [override] rule ID [before|after OTHER]
///   when CONDITION | otherwise
///   then TARGET = EXPR, set STATE = EXPR, ...
///   cite "..."
///   because "..."
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub is_override: bool,
    pub id: Name,
    pub position: Option<Position>,
    /// `None` for `otherwise`.
    pub when: Option<Expr>,
    pub then: Vec<Assign>,
    pub cite: Option<Str>,
    pub because: Option<Str>,
    pub span: Span,
}

/// `NAME = EXPR` (an output) or `set NAME = EXPR` (a state variable).
#[derive(Debug, Clone, PartialEq)]
pub struct Assign {
    pub is_set: bool,
    pub target: Name,
    pub value: Expr,
    pub span: Span,
}

/// `summary { let ...; def ...; table ... }` — evaluated once per case, after the scans.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryDecl {
    pub items: Vec<Item>,
    pub span: Span,
}

/// A type as written: `mm2`, `days`, `bool`, `date?`, `label`, `{a, b, c}`.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeKind,
    pub optional: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypeKind {
    /// A named type: a unit (`mm`, `mm2`, `ml`, `mg/day`, `days`, `months`, `percent`,
    /// `number`, `count`), or `bool`, `date`, `scan`, `lesion`, `label`, `decision`,
    /// `text`, or a case enumeration (`trend`, `setting`, ...).
    Named(String),
    /// `{a, b, c}`: an enumerated choice.
    Choice(Vec<Name>),
}

/// Units that may follow a number literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitSuffix {
    Mm,
    Mm2,
    Ml,
    MgPerDay,
    Days,
    /// Converted to days (x 7) by the parser.
    Weeks,
    Months,
    /// `25%` — the literal's value is divided by 100 by the parser.
    Percent,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `x in {a, b}`
    In,
    /// `x ?? fallback`
    Coalesce,
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Not,
    Neg,
}

/// `any`, `all`, `count`, `sum`, `min`, `max`, `argmin`, `argmax`, `first`, `last`.
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

impl AggKind {
    /// The aggregate's name as written.
    pub fn name(self) -> &'static str {
        match self {
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
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A number, exact; `unit` as written. Percent and weeks are already converted
    /// (`25%` is 1/4 with `Percent`; `4 weeks` is 28 with `Weeks`).
    Number {
        value: Rational,
        unit: Option<UnitSuffix>,
    },
    Bool(bool),
    /// `null`: an absent value.
    Null,
    Text(String),
    /// A (possibly dotted) name: a parameter, let, state variable, bound variable,
    /// enumeration literal, or field access on one of those.
    Name(Name),
    /// `EXPR.field` where EXPR is not a plain name (e.g. `(a ?? b).date`, `f(x).burden`).
    Field(Box<Expr>, Name),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `if c then a else b`
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `match e { a | b => x, c => y, _ => z }`
    Match {
        scrutinee: Box<Expr>,
        arms: Vec<MatchArm>,
    },
    /// `f(a, b)`: a built-in function or a `def`.
    Call(Name, Vec<Expr>),
    /// `{a, b, c}` (only meaningful on the right of `in`).
    Set(Vec<Expr>),
    /// `agg(var in source [where cond] [: value])`
    Aggregate {
        kind: AggKind,
        var: Name,
        source: Box<Expr>,
        filter: Option<Box<Expr>>,
        value: Option<Box<Expr>>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct MatchArm {
    /// Enumeration literals; empty for the wildcard `_`.
    pub patterns: Vec<Name>,
    pub value: Expr,
    pub span: Span,
}
