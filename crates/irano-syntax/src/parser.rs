//! pest parser (`grammar.pest`) and its lowering to the AST. Everything pest stays in
//! this module: `Rule` and `Pair` are not visible outside the crate.

use std::sync::LazyLock;

use irano_exact::Rational;
use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser as _;

use crate::ast::{
    AggKind, Assign, BaselineDecl, BinOp, DefDecl, Expr, ExprKind, File, Item, LetDecl, MatchArm,
    Name, NativeLabelsDecl, ParamDecl, ParamGroupDecl, Position, RankKey, RemoveParamDecl,
    ShowDecl, ShowUnit, Span, StateDecl, StopDecl, Str, SummaryDecl, TableDecl, TableItem,
    TargetsDecl, TypeExpr, TypeKind, UnOp, UnitSuffix, WarnDecl,
};
use crate::error::{SyntaxError, SyntaxErrorKind};

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
struct RanoParser;

/// Deepest expression tree accepted (counted conservatively: every operator of an
/// operator chain counts one level).
const MAX_EXPR_DEPTH: usize = 256;

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left)
            | Op::infix(Rule::op_in, Assoc::Left))
        .op(Op::infix(Rule::op_coalesce, Assoc::Right))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left) | Op::infix(Rule::op_div, Assoc::Left))
        .op(Op::prefix(Rule::op_neg))
        .op(Op::postfix(Rule::field_op))
});

type Fatal<T> = Result<T, SyntaxError>;

/// Parses a whole file (after `prescan`).
pub(crate) fn parse_file(src: &str) -> Result<File, Vec<SyntaxError>> {
    let mut pairs = RanoParser::parse(Rule::file, src).map_err(|e| vec![pest_error(src, e)])?;
    let Some(file) = pairs.next() else {
        return Err(vec![internal(Span::new(0, 0))]);
    };
    let mut lowerer = Lowerer { errors: Vec::new() };
    let result = lowerer.file(file);
    let mut errors = lowerer.errors;
    match result {
        Ok(f) if errors.is_empty() => return Ok(f),
        Ok(_) => {}
        Err(e) => errors.push(e),
    }
    errors.sort_by_key(|e| e.span().start);
    Err(errors)
}

fn internal(span: Span) -> SyntaxError {
    SyntaxError::new(
        SyntaxErrorKind::Unexpected,
        span,
        "the parser could not read this text",
        "here",
        "this is a bug in irano-syntax; please report it with the file",
    )
}

fn too_deep(span: Span) -> SyntaxError {
    SyntaxError::new(
        SyntaxErrorKind::TooDeep,
        span,
        format!("expression is nested deeper than {MAX_EXPR_DEPTH} levels"),
        "nested too deeply",
        "split the expression with `let` or `def`",
    )
}

/// The span of a pair without the whitespace or comments pest may include at its end
/// (after an optional part that did not match).
fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let start = pair.as_span().start();
    let mut end = pair.as_span().end();
    let mut cur = pair.clone();
    while !matches!(cur.as_rule(), Rule::string | Rule::field_op) {
        match cur.clone().into_inner().last() {
            Some(last) => {
                end = last.as_span().end();
                cur = last;
            }
            None => break,
        }
    }
    Span::new(start, end)
}

fn name(pair: &Pair<'_, Rule>) -> Name {
    Name {
        text: pair.as_str().to_string(),
        span: span_of(pair),
    }
}

fn is_operator(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::op_or
            | Rule::op_and
            | Rule::op_not
            | Rule::op_eq
            | Rule::op_ne
            | Rule::op_lt
            | Rule::op_le
            | Rule::op_gt
            | Rule::op_ge
            | Rule::op_in
            | Rule::op_coalesce
            | Rule::op_add
            | Rule::op_sub
            | Rule::op_mul
            | Rule::op_div
            | Rule::op_neg
            | Rule::field_op
    )
}

fn binop(rule: Rule) -> Option<BinOp> {
    Some(match rule {
        Rule::op_or => BinOp::Or,
        Rule::op_and => BinOp::And,
        Rule::op_eq => BinOp::Eq,
        Rule::op_ne => BinOp::Ne,
        Rule::op_lt => BinOp::Lt,
        Rule::op_le => BinOp::Le,
        Rule::op_gt => BinOp::Gt,
        Rule::op_ge => BinOp::Ge,
        Rule::op_in => BinOp::In,
        Rule::op_coalesce => BinOp::Coalesce,
        Rule::op_add => BinOp::Add,
        Rule::op_sub => BinOp::Sub,
        Rule::op_mul => BinOp::Mul,
        Rule::op_div => BinOp::Div,
        _ => return None,
    })
}

fn agg_kind(text: &str) -> Option<AggKind> {
    Some(match text {
        "any" => AggKind::Any,
        "all" => AggKind::All,
        "count" => AggKind::Count,
        "sum" => AggKind::Sum,
        "min" => AggKind::Min,
        "max" => AggKind::Max,
        "argmin" => AggKind::ArgMin,
        "argmax" => AggKind::ArgMax,
        "first" => AggKind::First,
        "last" => AggKind::Last,
        _ => return None,
    })
}

fn unit_suffix(text: &str) -> Option<UnitSuffix> {
    Some(match text {
        "mm" => UnitSuffix::Mm,
        "mm2" => UnitSuffix::Mm2,
        "ml" => UnitSuffix::Ml,
        "mg/day" => UnitSuffix::MgPerDay,
        "day" | "days" => UnitSuffix::Days,
        "week" | "weeks" => UnitSuffix::Weeks,
        "month" | "months" => UnitSuffix::Months,
        "%" => UnitSuffix::Percent,
        _ => return None,
    })
}

/// The `unit ...` clause of a `show`.
fn show_unit(pair: &Pair<'_, Rule>) -> Fatal<ShowUnit> {
    let span = span_of(pair);
    let mut param = None;
    let mut fixed = None;
    let mut arms = Vec::new();
    for p in pair.clone().into_inner() {
        match p.as_rule() {
            Rule::unit => fixed = unit_suffix(p.as_str()),
            Rule::name => param = Some(name(&p)),
            Rule::unit_arm => {
                let arm_span = span_of(&p);
                let mut choice = None;
                let mut unit = None;
                for q in p.into_inner() {
                    match q.as_rule() {
                        Rule::choice_word => choice = Some(name(&q)),
                        Rule::unit => unit = unit_suffix(q.as_str()),
                        _ => {}
                    }
                }
                arms.push((need(choice, arm_span)?, need(unit, arm_span)?));
            }
            _ => {}
        }
    }
    Ok(match param {
        Some(param) => ShowUnit::ByChoice { param, arms, span },
        None => ShowUnit::Fixed(need(fixed, span)?, span),
    })
}

/// Takes a required part of a node, which the grammar guarantees.
fn need<T>(value: Option<T>, span: Span) -> Fatal<T> {
    value.ok_or_else(|| internal(span))
}

struct Lowerer {
    /// Errors that do not stop the lowering (bad literals, duplicate clauses).
    errors: Vec<SyntaxError>,
}

impl Lowerer {
    // ------------------------------------------------------------ leaves

    fn string(&mut self, pair: &Pair<'_, Rule>) -> Str {
        let span = span_of(pair);
        let inner = pair.clone().into_inner().next();
        let (raw, raw_start) = match &inner {
            Some(p) => (p.as_str(), p.as_span().start()),
            None => ("", span.start),
        };
        let mut value = String::with_capacity(raw.len());
        let mut chars = raw.char_indices();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                value.push(c);
                continue;
            }
            match chars.next() {
                Some((_, '"')) => value.push('"'),
                Some((_, '\\')) => value.push('\\'),
                Some((j, other)) => {
                    let at = Span::new(raw_start + i, raw_start + j + other.len_utf8());
                    let shown: String = if other.is_control() {
                        format!("\\u{{{:x}}}", u32::from(other))
                    } else {
                        format!("\\{other}")
                    };
                    self.errors.push(SyntaxError::new(
                        SyntaxErrorKind::BadString,
                        at,
                        format!("unknown escape `{shown}` in a string"),
                        "unknown escape",
                        "only `\\\"` (a quote) and `\\\\` (a backslash) are escapes",
                    ));
                    value.push(other);
                }
                None => value.push('\\'),
            }
        }
        Str { value, span }
    }

    /// The condition, `because` and `cite` of an item written `... when EXPR because "..."
    /// cite "..."` (`stop grading`, `skip grading`, `warn`).
    fn when_clauses(
        &mut self,
        children: &[Pair<'_, Rule>],
        owner: &str,
    ) -> Fatal<(Option<Expr>, Option<Str>, Option<Str>)> {
        let (mut when, mut because, mut cite) = (None, None, None);
        for p in children {
            match p.as_rule() {
                Rule::expr => when = Some(self.expr(p.clone(), 0)?),
                Rule::because_clause => self.clause(&mut because, p, owner),
                Rule::cite_clause => self.clause(&mut cite, p, owner),
                _ => {}
            }
        }
        Ok((when, because, cite))
    }

    fn clause(&mut self, slot: &mut Option<Str>, pair: &Pair<'_, Rule>, owner: &str) {
        let word = match pair.as_rule() {
            Rule::cite_clause => "cite",
            Rule::doc_clause => "doc",
            _ => "because",
        };
        let Some(text) = pair
            .clone()
            .into_inner()
            .find(|p| p.as_rule() == Rule::string)
        else {
            return;
        };
        let value = self.string(&text);
        if slot.is_some() {
            self.errors.push(SyntaxError::new(
                SyntaxErrorKind::DuplicateClause,
                span_of(pair),
                format!("a {owner} has more than one `{word}`"),
                format!("second `{word}`"),
                format!("give one `{word}`; several sources can share one string"),
            ));
        } else {
            *slot = Some(value);
        }
    }

    fn number(&mut self, pair: &Pair<'_, Rule>) -> ExprKind {
        let span = span_of(pair);
        let mut text = "";
        let mut unit = None;
        for p in pair.clone().into_inner() {
            match p.as_rule() {
                Rule::number => text = p.as_str(),
                Rule::unit => unit = unit_suffix(p.as_str()),
                _ => {}
            }
        }
        let value = text.parse::<Rational>().ok().and_then(|v| match unit {
            Some(UnitSuffix::Percent) => v.checked_div(Rational::from_int(100)).ok(),
            Some(UnitSuffix::Weeks) => v.checked_mul(Rational::from_int(7)).ok(),
            _ => Some(v),
        });
        let value = match value {
            Some(v) => v,
            None => {
                self.errors.push(SyntaxError::new(
                    SyntaxErrorKind::BadNumber,
                    span,
                    format!("number `{text}` cannot be represented exactly"),
                    "number out of range",
                    "a number has at most 30 digits and must fit a 128-bit fraction",
                ));
                Rational::ZERO
            }
        };
        ExprKind::Number { value, unit }
    }

    // ------------------------------------------------------------ expressions

    /// Lowers an `expr` pair. `used` is the depth of the node that holds it.
    fn expr(&mut self, pair: Pair<'_, Rule>, used: usize) -> Fatal<Expr> {
        let mut ops = 0usize;
        for p in pair.clone().into_inner() {
            if is_operator(p.as_rule()) {
                ops += 1;
                if used + ops + 1 > MAX_EXPR_DEPTH {
                    return Err(too_deep(span_of(&p)));
                }
            }
        }
        if used + 1 > MAX_EXPR_DEPTH {
            return Err(too_deep(span_of(&pair)));
        }
        let below = used + ops + 1;
        PRATT
            .map_primary(|p| self.primary(p, below))
            .map_prefix(|op, rhs| {
                let rhs = rhs?;
                let un = if op.as_rule() == Rule::op_not {
                    UnOp::Not
                } else {
                    UnOp::Neg
                };
                let span = span_of(&op).join(rhs.span);
                Ok(Expr {
                    kind: ExprKind::Unary(un, Box::new(rhs)),
                    span,
                })
            })
            .map_postfix(|lhs, op| {
                let lhs = lhs?;
                let op_span = span_of(&op);
                let field = op.into_inner().next();
                let field = need(field.as_ref().map(name), op_span)?;
                let span = lhs.span.join(op_span);
                Ok(Expr {
                    kind: ExprKind::Field(Box::new(lhs), field),
                    span,
                })
            })
            .map_infix(|lhs, op, rhs| {
                let (lhs, rhs) = (lhs?, rhs?);
                let bin = need(binop(op.as_rule()), span_of(&op))?;
                let span = lhs.span.join(rhs.span);
                Ok(Expr {
                    kind: ExprKind::Binary(bin, Box::new(lhs), Box::new(rhs)),
                    span,
                })
            })
            .parse(pair.into_inner())
    }

    /// Lowers one primary; `used` is its own depth.
    fn primary(&mut self, pair: Pair<'_, Rule>, used: usize) -> Fatal<Expr> {
        let span = span_of(&pair);
        let inner_used = used + 1;
        let kind = match pair.as_rule() {
            Rule::number_lit => self.number(&pair),
            Rule::lit_true => ExprKind::Bool(true),
            Rule::lit_false => ExprKind::Bool(false),
            Rule::lit_null => ExprKind::Null,
            Rule::string => ExprKind::Text(self.string(&pair).value),
            Rule::expr_name => ExprKind::Name(name(&pair)),
            Rule::paren => {
                let inner = pair.into_inner().find(|p| p.as_rule() == Rule::expr);
                // The parentheses add no node: the inner expression takes their span.
                let e = self.expr(need(inner, span)?, used.saturating_sub(1))?;
                e.kind
            }
            Rule::set => {
                let mut items = Vec::new();
                for p in pair.into_inner() {
                    if p.as_rule() == Rule::expr {
                        items.push(self.expr(p, inner_used)?);
                    }
                }
                ExprKind::Set(items)
            }
            Rule::call => {
                let mut callee = None;
                let mut args = Vec::new();
                for p in pair.into_inner() {
                    match p.as_rule() {
                        Rule::expr_name => callee = Some(name(&p)),
                        Rule::expr => args.push(self.expr(p, inner_used)?),
                        _ => {}
                    }
                }
                ExprKind::Call(need(callee, span)?, args)
            }
            Rule::aggregate => self.aggregate(pair, span, inner_used)?,
            Rule::if_expr => return self.if_expr(pair, used),
            Rule::match_expr => self.match_expr(pair, span, inner_used)?,
            _ => return Err(internal(span)),
        };
        Ok(Expr { kind, span })
    }

    fn aggregate(&mut self, pair: Pair<'_, Rule>, span: Span, used: usize) -> Fatal<ExprKind> {
        let mut kind = None;
        let mut var = None;
        let mut source = None;
        let mut filter = None;
        let mut value = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::agg_kind => kind = agg_kind(p.as_str()),
                Rule::ident => var = Some(name(&p)),
                Rule::expr => source = Some(Box::new(self.expr(p, used)?)),
                Rule::agg_where | Rule::agg_value => {
                    let is_where = p.as_rule() == Rule::agg_where;
                    let p_span = span_of(&p);
                    let e = p.into_inner().find(|q| q.as_rule() == Rule::expr);
                    let e = Box::new(self.expr(need(e, p_span)?, used)?);
                    if is_where {
                        filter = Some(e);
                    } else {
                        value = Some(e);
                    }
                }
                _ => {}
            }
        }
        Ok(ExprKind::Aggregate {
            kind: need(kind, span)?,
            var: need(var, span)?,
            source: need(source, span)?,
            filter,
            value,
        })
    }

    /// `if c then a else if d then b else e`: the `else if` chain is flat in the
    /// grammar and folded here into nested `If` from the right.
    fn if_expr(&mut self, pair: Pair<'_, Rule>, used: usize) -> Fatal<Expr> {
        let span = span_of(&pair);
        let children: Vec<Pair<'_, Rule>> = pair.into_inner().collect();
        let chain = children
            .iter()
            .filter(|p| p.as_rule() == Rule::else_if)
            .count()
            + 1;
        if used + chain > MAX_EXPR_DEPTH {
            return Err(too_deep(span));
        }
        let inner_used = used + chain;
        // (start of `if`, condition, then-branch) for each link of the chain.
        let mut links: Vec<(usize, Expr, Expr)> = Vec::new();
        let mut exprs: Vec<Expr> = Vec::new();
        for p in children {
            match p.as_rule() {
                Rule::expr => exprs.push(self.expr(p, inner_used)?),
                Rule::else_if => {
                    let p_span = span_of(&p);
                    let start = p
                        .clone()
                        .into_inner()
                        .find(|q| q.as_rule() == Rule::kw_if)
                        .map_or(p_span.start, |q| q.as_span().start());
                    let mut parts = Vec::new();
                    for q in p.into_inner() {
                        if q.as_rule() == Rule::expr {
                            parts.push(self.expr(q, inner_used)?);
                        }
                    }
                    let mut parts = parts.into_iter();
                    let cond = need(parts.next(), p_span)?;
                    let then = need(parts.next(), p_span)?;
                    links.push((start, cond, then));
                }
                _ => {}
            }
        }
        // exprs holds: condition, then-branch, else-branch of the first link.
        let mut exprs = exprs.into_iter();
        let cond = need(exprs.next(), span)?;
        let then = need(exprs.next(), span)?;
        let mut acc = need(exprs.next(), span)?;
        links.insert(0, (span.start, cond, then));
        while let Some((start, cond, then)) = links.pop() {
            let link_span = Span::new(start, span.end);
            acc = Expr {
                kind: ExprKind::If(Box::new(cond), Box::new(then), Box::new(acc)),
                span: link_span,
            };
        }
        Ok(acc)
    }

    fn match_expr(&mut self, pair: Pair<'_, Rule>, span: Span, used: usize) -> Fatal<ExprKind> {
        let mut scrutinee = None;
        let mut arms = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::expr => scrutinee = Some(Box::new(self.expr(p, used)?)),
                Rule::arm => {
                    let arm_span = span_of(&p);
                    let mut patterns = Vec::new();
                    let mut value = None;
                    for q in p.into_inner() {
                        match q.as_rule() {
                            Rule::choice_word => patterns.push(name(&q)),
                            Rule::expr => value = Some(self.expr(q, used)?),
                            _ => {}
                        }
                    }
                    arms.push(MatchArm {
                        patterns,
                        value: need(value, arm_span)?,
                        span: arm_span,
                    });
                }
                _ => {}
            }
        }
        Ok(ExprKind::Match {
            scrutinee: need(scrutinee, span)?,
            arms,
        })
    }

    // ------------------------------------------------------------ types

    fn type_expr(&mut self, pair: &Pair<'_, Rule>) -> Fatal<TypeExpr> {
        let span = span_of(pair);
        let mut kind = None;
        let mut optional = false;
        for p in pair.clone().into_inner() {
            match p.as_rule() {
                Rule::type_name | Rule::type_mg_day => {
                    kind = Some(TypeKind::Named(p.as_str().to_string()))
                }
                Rule::type_choice => {
                    let names = p
                        .into_inner()
                        .filter(|q| q.as_rule() == Rule::choice_word)
                        .map(|q| name(&q))
                        .collect();
                    kind = Some(TypeKind::Choice(names));
                }
                Rule::question => optional = true,
                _ => {}
            }
        }
        Ok(TypeExpr {
            kind: need(kind, span)?,
            optional,
            span,
        })
    }

    // ------------------------------------------------------------ items

    fn file(&mut self, pair: Pair<'_, Rule>) -> Fatal<File> {
        let mut strings = Vec::new();
        let mut with = Vec::new();
        let mut items = Vec::new();
        let mut start = None;
        let mut end = 0;
        let mut kind = crate::ast::FileKind::Criterion;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::kw_criterion => start = Some(p.as_span().start()),
                Rule::kw_overlay => {
                    start = Some(p.as_span().start());
                    kind = crate::ast::FileKind::Overlay;
                }
                Rule::string => strings.push(self.string(&p)),
                Rule::with_list => {
                    for q in p.into_inner() {
                        if q.as_rule() == Rule::string {
                            with.push(self.string(&q));
                        }
                    }
                }
                Rule::rbrace => end = p.as_span().end(),
                Rule::EOI | Rule::kw_extends | Rule::kw_with | Rule::lbrace => {}
                _ => items.push(self.item(p)?),
            }
        }
        let span = Span::new(start.unwrap_or(0), end);
        let mut strings = strings.into_iter();
        Ok(File {
            kind,
            id: need(strings.next(), span)?,
            extends: strings.next(),
            with,
            items,
            span,
        })
    }

    fn item(&mut self, pair: Pair<'_, Rule>) -> Fatal<Item> {
        let span = span_of(&pair);
        let rule = pair.as_rule();
        let children: Vec<Pair<'_, Rule>> = pair.into_inner().collect();
        let is_override = children.iter().any(|p| p.as_rule() == Rule::kw_override);
        let first = |r: Rule| children.iter().find(|p| p.as_rule() == r);
        let decl_name = first(Rule::name).map(name);
        let ty = match first(Rule::type_expr) {
            Some(t) => Some(self.type_expr(t)?),
            None => None,
        };
        let item = match rule {
            Rule::version_item | Rule::title_item | Rule::cdisc_category_item | Rule::cite_item => {
                let s = self.string(need(first(Rule::string), span)?);
                match rule {
                    Rule::version_item => Item::Version(s),
                    Rule::title_item => Item::Title(s),
                    Rule::cdisc_category_item => Item::CdiscCategory(s),
                    _ => Item::Cite(s),
                }
            }
            Rule::labels_item | Rule::decisions_item => {
                let names = children
                    .iter()
                    .filter(|p| p.as_rule() == Rule::ident)
                    .map(name)
                    .collect();
                if rule == Rule::labels_item {
                    Item::Labels(names, span)
                } else {
                    Item::Decisions(names, span)
                }
            }
            Rule::native_labels_item => {
                let mut cite = None;
                let mut names = Vec::new();
                for p in &children {
                    match p.as_rule() {
                        Rule::cite_clause => self.clause(&mut cite, p, "native labels"),
                        Rule::native_label => {
                            let parts: Vec<Pair<'_, Rule>> = p.clone().into_inner().collect();
                            let label = parts.iter().find(|x| x.as_rule() == Rule::ident);
                            let text = parts.iter().find(|x| x.as_rule() == Rule::string);
                            names.push((name(need(label, span)?), self.string(need(text, span)?)));
                        }
                        _ => {}
                    }
                }
                Item::NativeLabels(NativeLabelsDecl {
                    is_override,
                    names,
                    cite,
                    span,
                })
            }
            Rule::param_item => {
                let mut cite = None;
                let mut doc = None;
                let mut default = None;
                let mut range = None;
                for p in &children {
                    match p.as_rule() {
                        Rule::expr => default = Some(self.expr(p.clone(), 0)?),
                        Rule::cite_clause => self.clause(&mut cite, p, "param"),
                        Rule::doc_clause => self.clause(&mut doc, p, "param"),
                        Rule::range_clause => {
                            let mut bounds = Vec::new();
                            for b in p.clone().into_inner() {
                                if b.as_rule() == Rule::expr {
                                    bounds.push(self.expr(b, 0)?);
                                }
                            }
                            let hi = bounds.pop();
                            let lo = bounds.pop();
                            if range.is_some() {
                                self.errors.push(SyntaxError::new(
                                    SyntaxErrorKind::DuplicateClause,
                                    span_of(p),
                                    "a param has more than one `range`",
                                    "second `range`",
                                    "give one `range LOW to HIGH`",
                                ));
                            }
                            range = Some((need(lo, span)?, need(hi, span)?));
                        }
                        _ => {}
                    }
                }
                Item::Param(ParamDecl {
                    is_override,
                    name: need(decl_name, span)?,
                    ty,
                    default: need(default, span)?,
                    cite,
                    doc,
                    range,
                    span,
                })
            }
            Rule::param_group_item => {
                let mut cite = None;
                let mut doc = None;
                for p in &children {
                    match p.as_rule() {
                        Rule::cite_clause => self.clause(&mut cite, p, "param group"),
                        Rule::doc_clause => self.clause(&mut doc, p, "param group"),
                        _ => {}
                    }
                }
                let members = children
                    .iter()
                    .filter(|p| p.as_rule() == Rule::name)
                    .skip(1)
                    .map(name)
                    .collect();
                Item::ParamGroup(ParamGroupDecl {
                    name: need(decl_name, span)?,
                    unit: first(Rule::type_name)
                        .or_else(|| first(Rule::type_mg_day))
                        .map(name),
                    members,
                    cite,
                    doc,
                    span,
                })
            }
            Rule::remove_param_item => {
                let mut cite = None;
                for p in &children {
                    if p.as_rule() == Rule::cite_clause {
                        self.clause(&mut cite, p, "remove param");
                    }
                }
                Item::RemoveParam(RemoveParamDecl {
                    name: need(decl_name, span)?,
                    cite,
                    span,
                })
            }
            Rule::let_item => {
                let mut cite = None;
                let mut doc = None;
                let mut value = None;
                for p in &children {
                    match p.as_rule() {
                        Rule::expr => value = Some(self.expr(p.clone(), 0)?),
                        Rule::cite_clause => self.clause(&mut cite, p, "let"),
                        Rule::doc_clause => self.clause(&mut doc, p, "let"),
                        _ => {}
                    }
                }
                Item::Let(LetDecl {
                    is_override,
                    name: need(decl_name, span)?,
                    ty,
                    value: need(value, span)?,
                    cite,
                    doc,
                    span,
                })
            }
            Rule::def_item => {
                let mut params = Vec::new();
                let mut body = None;
                let mut cite = None;
                let mut doc = None;
                for p in &children {
                    match p.as_rule() {
                        Rule::def_param => {
                            let p_span = span_of(p);
                            let mut pname = None;
                            let mut pty = None;
                            for q in p.clone().into_inner() {
                                match q.as_rule() {
                                    Rule::ident => pname = Some(name(&q)),
                                    Rule::type_expr => pty = Some(self.type_expr(&q)?),
                                    _ => {}
                                }
                            }
                            params.push((need(pname, p_span)?, need(pty, p_span)?));
                        }
                        Rule::expr => body = Some(self.expr(p.clone(), 0)?),
                        Rule::cite_clause => self.clause(&mut cite, p, "def"),
                        Rule::doc_clause => self.clause(&mut doc, p, "def"),
                        _ => {}
                    }
                }
                Item::Def(DefDecl {
                    is_override,
                    name: need(decl_name, span)?,
                    params,
                    body: need(body, span)?,
                    cite,
                    doc,
                    span,
                })
            }
            Rule::state_item => Item::State(StateDecl {
                name: need(decl_name, span)?,
                ty: need(ty, span)?,
                initial: self.expr(need(first(Rule::expr), span)?.clone(), 0)?,
                span,
            }),
            Rule::baseline_item => {
                let mut cite = None;
                if let Some(c) = first(Rule::cite_clause) {
                    self.clause(&mut cite, c, "baseline");
                }
                Item::Baseline(BaselineDecl {
                    is_override,
                    value: self.expr(need(first(Rule::expr), span)?.clone(), 0)?,
                    cite,
                    span,
                })
            }
            Rule::targets_item => {
                let mut exprs = Vec::new();
                let mut rank = Vec::new();
                let mut max_per = Vec::new();
                let mut eligible = None;
                let mut cite = None;
                for p in &children {
                    match p.as_rule() {
                        Rule::expr => exprs.push(self.expr(p.clone(), 0)?),
                        Rule::rank_key => {
                            let k_span = span_of(p);
                            let mut descending = false;
                            let mut key = None;
                            for q in p.clone().into_inner() {
                                match q.as_rule() {
                                    Rule::expr => key = Some(self.expr(q, 0)?),
                                    Rule::direction => descending = q.as_str() == "desc",
                                    _ => {}
                                }
                            }
                            rank.push(RankKey {
                                key: need(key, k_span)?,
                                descending,
                                span: k_span,
                            });
                        }
                        Rule::max_per => {
                            let m_span = span_of(p);
                            let mut parts = Vec::new();
                            for q in p.clone().into_inner() {
                                if q.as_rule() == Rule::expr {
                                    parts.push(self.expr(q, 0)?);
                                }
                            }
                            let mut parts = parts.into_iter();
                            max_per
                                .push((need(parts.next(), m_span)?, need(parts.next(), m_span)?));
                        }
                        Rule::eligible_item => {
                            let e_span = span_of(p);
                            let e = p.clone().into_inner().find(|q| q.as_rule() == Rule::expr);
                            eligible = Some(self.expr(need(e, e_span)?, 0)?);
                        }
                        Rule::cite_clause => self.clause(&mut cite, p, "targets block"),
                        _ => {}
                    }
                }
                let mut exprs = exprs.into_iter();
                Item::Targets(TargetsDecl {
                    is_override,
                    candidate: need(exprs.next(), span)?,
                    rank,
                    max: need(exprs.next(), span)?,
                    max_per,
                    eligible,
                    cite,
                    span,
                })
            }
            Rule::show_item => Item::Show(ShowDecl {
                is_override,
                name: need(decl_name, span)?,
                value: self.expr(need(first(Rule::expr), span)?.clone(), 0)?,
                unit: match first(Rule::show_unit) {
                    Some(u) => Some(show_unit(u)?),
                    None => None,
                },
                span,
            }),
            Rule::stop_item | Rule::skip_item => {
                let owner = if rule == Rule::skip_item {
                    "skip"
                } else {
                    "stop"
                };
                let (when, because, cite) = self.when_clauses(&children, owner)?;
                let decl = StopDecl {
                    is_override,
                    when: need(when, span)?,
                    because,
                    cite,
                    span,
                };
                if rule == Rule::skip_item {
                    Item::SkipGrading(decl)
                } else {
                    Item::StopGrading(decl)
                }
            }
            Rule::warn_item => {
                let (when, because, cite) = self.when_clauses(&children, "warn")?;
                Item::Warn(WarnDecl {
                    is_override,
                    name: need(decl_name, span)?,
                    when: need(when, span)?,
                    because,
                    cite,
                    span,
                })
            }
            Rule::table_item => {
                let mut position = None;
                let mut items = Vec::new();
                for p in &children {
                    match p.as_rule() {
                        Rule::position => position = Some(self.position(p)?),
                        Rule::rule_decl => items.push(TableItem::Rule(self.rule(p)?)),
                        Rule::remove_rule => {
                            let id = p.clone().into_inner().find(|q| q.as_rule() == Rule::name);
                            let mut cite = None;
                            for q in p.clone().into_inner() {
                                if q.as_rule() == Rule::cite_clause {
                                    self.clause(&mut cite, &q, "remove rule");
                                }
                            }
                            items.push(TableItem::Remove(
                                need(id.as_ref().map(name), span_of(p))?,
                                cite,
                            ));
                        }
                        Rule::move_rule => {
                            let id = p.clone().into_inner().find(|q| q.as_rule() == Rule::name);
                            let mut cite = None;
                            let mut place = None;
                            for q in p.clone().into_inner() {
                                match q.as_rule() {
                                    Rule::cite_clause => self.clause(&mut cite, &q, "move rule"),
                                    Rule::position => place = Some(self.position(&q)?),
                                    _ => {}
                                }
                            }
                            items.push(TableItem::Move(
                                need(id.as_ref().map(name), span_of(p))?,
                                need(place, span_of(p))?,
                                cite,
                            ));
                        }
                        _ => {}
                    }
                }
                Item::Table(TableDecl {
                    name: need(decl_name, span)?,
                    position,
                    items,
                    span,
                })
            }
            Rule::summary_item => {
                let mut items = Vec::new();
                for p in children {
                    match p.as_rule() {
                        Rule::kw_summary | Rule::lbrace | Rule::rbrace => {}
                        _ => items.push(self.item(p)?),
                    }
                }
                Item::Summary(SummaryDecl { items, span })
            }
            _ => return Err(internal(span)),
        };
        Ok(item)
    }

    fn position(&mut self, pair: &Pair<'_, Rule>) -> Fatal<Position> {
        let span = span_of(pair);
        let mut before = false;
        let mut other = None;
        for p in pair.clone().into_inner() {
            match p.as_rule() {
                Rule::kw_before => before = true,
                Rule::name => other = Some(name(&p)),
                _ => {}
            }
        }
        let other = need(other, span)?;
        Ok(if before {
            Position::Before(other)
        } else {
            Position::After(other)
        })
    }

    fn rule(&mut self, pair: &Pair<'_, Rule>) -> Fatal<crate::ast::Rule> {
        let span = span_of(pair);
        let mut is_override = false;
        let mut id = None;
        let mut position = None;
        let mut when = None;
        let mut then = Vec::new();
        let mut cite = None;
        let mut because = None;
        for p in pair.clone().into_inner() {
            match p.as_rule() {
                Rule::kw_override => is_override = true,
                Rule::name => id = Some(name(&p)),
                Rule::position => position = Some(self.position(&p)?),
                Rule::expr => when = Some(self.expr(p, 0)?),
                Rule::assign => then.push(self.assign(&p)?),
                Rule::cite_clause => self.clause(&mut cite, &p, "rule"),
                Rule::because_clause => self.clause(&mut because, &p, "rule"),
                _ => {}
            }
        }
        Ok(crate::ast::Rule {
            is_override,
            id: need(id, span)?,
            position,
            when,
            then,
            cite,
            because,
            span,
        })
    }

    fn assign(&mut self, pair: &Pair<'_, Rule>) -> Fatal<Assign> {
        let span = span_of(pair);
        let mut is_set = false;
        let mut target = None;
        let mut value = None;
        for p in pair.clone().into_inner() {
            match p.as_rule() {
                Rule::kw_set => is_set = true,
                Rule::name => target = Some(name(&p)),
                Rule::expr => value = Some(self.expr(p, 0)?),
                _ => {}
            }
        }
        Ok(Assign {
            is_set,
            target: need(target, span)?,
            value: need(value, span)?,
            span,
        })
    }
}

// ---------------------------------------------------------------- pest errors

/// What the parser expected, in words, with a sort key.
fn describe(rule: Rule) -> (u8, &'static str) {
    use self::Rule as R;
    match rule {
        R::kw_criterion | R::file => (0, "`criterion`"),
        R::kw_extends => (0, "`extends`"),
        R::kw_overlay => (0, "`overlay`"),
        R::kw_with | R::with_list => (0, "`with`"),
        R::kw_version | R::version_item => (0, "`version`"),
        R::kw_title | R::title_item => (0, "`title`"),
        R::kw_cdisc_category | R::cdisc_category_item => (0, "`cdisc_category`"),
        R::kw_cite | R::cite_clause | R::cite_item => (0, "`cite`"),
        R::kw_labels | R::labels_item => (0, "`labels`"),
        R::kw_decisions | R::decisions_item => (0, "`decisions`"),
        R::kw_native | R::native_labels_item | R::native_label => (0, "`native`"),
        R::kw_param | R::param_item => (0, "`param`"),
        R::kw_let | R::let_item => (0, "`let`"),
        R::kw_def | R::def_item => (0, "`def`"),
        R::kw_state | R::state_item => (0, "`state`"),
        R::kw_baseline | R::baseline_item => (0, "`baseline`"),
        R::kw_targets | R::targets_item => (0, "`targets`"),
        R::kw_show | R::show_item => (0, "`show`"),
        R::kw_stop | R::stop_item => (0, "`stop`"),
        R::kw_skip | R::skip_item => (0, "`skip`"),
        R::kw_warn | R::warn_item => (0, "`warn`"),
        R::kw_grading => (0, "`grading`"),
        R::kw_table | R::table_item => (0, "`table`"),
        R::kw_summary | R::summary_item => (0, "`summary`"),
        R::kw_rule | R::rule_decl => (0, "`rule`"),
        R::kw_override => (0, "`override`"),
        R::kw_before | R::position => (0, "`before`"),
        R::kw_after => (0, "`after`"),
        R::kw_remove | R::remove_rule | R::remove_param_item => (0, "`remove`"),
        R::kw_range | R::range_clause => (0, "`range`"),
        R::kw_to => (0, "`to`"),
        R::kw_when => (0, "`when`"),
        R::kw_otherwise => (0, "`otherwise`"),
        R::kw_then => (0, "`then`"),
        R::kw_set => (0, "`set`"),
        R::kw_because | R::because_clause => (0, "`because`"),
        R::kw_doc | R::doc_clause => (0, "`doc`"),
        R::kw_if => (0, "`if`"),
        R::kw_else | R::else_if => (0, "`else`"),
        R::kw_match => (0, "`match`"),
        R::kw_unit | R::show_unit => (0, "`unit`"),
        R::kw_in => (0, "`in`"),
        R::kw_where | R::agg_where => (0, "`where`"),
        R::kw_candidate => (0, "`candidate`"),
        R::kw_rank => (0, "`rank`"),
        R::kw_max => (0, "`max`"),
        R::kw_max_per | R::max_per => (0, "`max_per`"),
        R::kw_eligible | R::eligible_item => (0, "`eligible`"),
        R::direction => (0, "`asc` or `desc`"),
        R::ident | R::name | R::def_param => (1, "a name"),
        R::string | R::string_inner => (1, "a string"),
        R::type_expr | R::type_name | R::type_mg_day | R::type_choice => (1, "a type"),
        R::arm | R::wildcard | R::unit_arm => (1, "a match arm"),
        R::assign => (1, "an assignment"),
        R::expr
        | R::rank_key
        | R::number_lit
        | R::number
        | R::lit_true
        | R::lit_false
        | R::lit_null
        | R::if_expr
        | R::match_expr
        | R::aggregate
        | R::agg_kind
        | R::call
        | R::expr_name
        | R::set
        | R::paren
        | R::op_not
        | R::op_neg => (1, "an expression"),
        R::unit => (2, "a unit"),
        R::op_or
        | R::op_and
        | R::op_eq
        | R::op_ne
        | R::op_lt
        | R::op_le
        | R::op_gt
        | R::op_ge
        | R::op_in
        | R::op_coalesce
        | R::op_add
        | R::op_sub
        | R::op_mul
        | R::op_div
        | R::field_op
        | R::field_name => (3, "an operator"),
        R::lparen => (4, "`(`"),
        R::rparen => (4, "`)`"),
        R::lbrace => (4, "`{`"),
        R::rbrace => (4, "`}`"),
        R::comma => (4, "`,`"),
        R::colon | R::agg_value => (4, "`:`"),
        R::eq => (4, "`=`"),
        R::arrow => (4, "`=>`"),
        R::bar => (4, "`|`"),
        R::question => (4, "`?`"),
        R::EOI => (5, "the end of the file"),
        // Silent rules are never reported.
        _ => (1, "an expression"),
    }
}

/// Where an expression may start, these are said as "an expression".
const EXPRESSION_STARTS: &[&str] = &["`if`", "`match`", "a string", "`(`", "`{`"];

/// For a number followed by a unit the language does not have (`0.5 cm`), the same
/// quantity in one it has (`write 5 mm`), converted exactly by moving the decimal point.
fn unit_conversion(src: &str, pos: usize, unit: &str) -> Option<String> {
    let (shift, to) = match unit {
        "cm" => (1, "mm"),
        "cm2" => (2, "mm2"),
        "cm3" | "cc" | "mL" | "ML" => (0, "ml"),
        "mg" => return Some("a dose is a daily dose, written `mg/day`".to_string()),
        "d" => return Some("days are written `day` or `days`".to_string()),
        "w" | "wk" | "wks" => return Some("weeks are written `week` or `weeks`".to_string()),
        _ => return None,
    };
    let before = src.get(..pos)?.trim_end_matches([' ', '\t']);
    let start = before
        .trim_end_matches(|c: char| c.is_ascii_digit() || c == '.')
        .len();
    let number = before.get(start..)?;
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    // move the decimal point `shift` places to the right
    let mut digits = format!("{int}{frac}");
    let point = int.len() + shift;
    while digits.len() < point {
        digits.push('0');
    }
    let (i, f) = digits.split_at(point);
    let (i, f) = (i.trim_start_matches('0'), f.trim_end_matches('0'));
    let converted = match (i.is_empty(), f.is_empty()) {
        (true, true) => "0".to_string(),
        (true, false) => format!("0.{f}"),
        (false, true) => i.to_string(),
        (false, false) => format!("{i}.{f}"),
    };
    Some(format!("write `{number} {unit}` as `{converted} {to}`"))
}

/// Whether a number ends right before `pos` on the same line (`10 cm`).
fn number_before(src: &str, pos: usize) -> bool {
    let before = src.get(..pos).unwrap_or("");
    let before = before.trim_end_matches([' ', '\t']);
    before.ends_with(|c: char| c.is_ascii_digit())
}

/// Keywords that start a declaration; where any declaration may start they are said
/// as "a declaration".
pub(crate) const DECLARATION_WORDS: &[&str] = &[
    "`version`",
    "`title`",
    "`cdisc_category`",
    "`cite`",
    "`labels`",
    "`decisions`",
    "`native`",
    "`param`",
    "`let`",
    "`def`",
    "`state`",
    "`baseline`",
    "`targets`",
    "`show`",
    "`stop`",
    "`skip`",
    "`warn`",
    "`table`",
    "`summary`",
    "`override`",
    "`remove`",
];

pub(crate) const KEYWORDS: &[&str] = &[
    "criterion",
    "overlay",
    "extends",
    "with",
    "version",
    "title",
    "cdisc_category",
    "cite",
    "labels",
    "native",
    "decisions",
    "param",
    "let",
    "def",
    "state",
    "baseline",
    "targets",
    "show",
    "stop",
    "grading",
    "table",
    "summary",
    "rule",
    "override",
    "before",
    "after",
    "remove",
    "when",
    "otherwise",
    "then",
    "set",
    "because",
    "doc",
    "if",
    "else",
    "match",
    "in",
    "where",
    "and",
    "or",
    "not",
    "true",
    "false",
    "null",
];

/// The token at `pos`, for the label: its span and how to say it.
fn found_at(src: &str, pos: usize) -> (Span, String, Option<&str>) {
    let rest = src.get(pos..).unwrap_or("");
    let Some(c) = rest.chars().next() else {
        return (Span::new(pos, pos), "the end of the file".to_string(), None);
    };
    let len = if c.is_ascii_alphanumeric() || c == '_' {
        rest.find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_' || ch == '.'))
            .unwrap_or(rest.len())
    } else if c == '"' {
        return (Span::new(pos, pos + 1), "a string".to_string(), None);
    } else if ["==", "!=", "<=", ">=", "??", "=>"]
        .iter()
        .any(|op| rest.starts_with(op))
    {
        2
    } else {
        c.len_utf8()
    };
    let text = rest.get(..len).unwrap_or("");
    let word = if KEYWORDS.contains(&text) {
        Some(text)
    } else {
        None
    };
    (Span::new(pos, pos + len), format!("`{text}`"), word)
}

/// The `{` that opened the criterion and the `}` that closed it, the last such pair before
/// `pos` (strings and comments skipped): where a file's content goes on after its criterion
/// has ended, that `}` is most often one whose own opening line was deleted.
fn criterion_braces(src: &str, pos: usize) -> Option<(usize, usize)> {
    braces_before(src, pos).1
}

/// The `{` still open at `pos` (outermost first) and the last pair that closed the
/// criterion (the outermost), strings and comments skipped.
fn braces_before(src: &str, pos: usize) -> (Vec<usize>, Option<(usize, usize)>) {
    let Some(bytes) = src.as_bytes().get(..pos) else {
        return (Vec::new(), None);
    };
    let mut open: Vec<usize> = Vec::new();
    let mut pair = None;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'#' => {
                while bytes.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    if c == b'"' || c == b'\n' {
                        break;
                    }
                    // `\"` inside a string
                    i += if c == b'\\' { 2 } else { 1 };
                }
            }
            b'{' => open.push(i),
            b'}' => {
                if let Some(o) = open.pop() {
                    if open.is_empty() {
                        pair = Some((o, i));
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    (open, pair)
}

/// The 1-based line of byte offset `pos`.
fn line_of(src: &str, pos: usize) -> usize {
    src.get(..pos).map_or(0, |t| t.matches('\n').count()) + 1
}

/// The word around the `/` at `pos` (`mg/d`), when a word ends right before it.
fn slashed_word(src: &str, pos: usize) -> Option<(Span, &str)> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let before = src.get(..pos)?;
    let start = before.trim_end_matches(is_word).len();
    let after = src.get(pos + 1..)?;
    let end = pos + 1 + (after.len() - after.trim_start_matches(is_word).len());
    if start == pos {
        return None;
    }
    Some((Span::new(start, end), src.get(start..end)?))
}

fn join_words(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn pest_error(src: &str, err: pest::error::Error<Rule>) -> SyntaxError {
    use pest::error::{ErrorVariant, InputLocation};
    let pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let (span, found, keyword) = found_at(src, pos);
    let positives = match err.variant {
        ErrorVariant::ParsingError { positives, .. } => positives,
        ErrorVariant::CustomError { .. } => {
            // pest's own call or stack limit.
            return SyntaxError::new(
                SyntaxErrorKind::TooDeep,
                span,
                "the file is nested too deeply to be read",
                "nested too deeply",
                "split the expression with `let` or `def`",
            );
        }
    };
    let mut wants: Vec<(u8, &'static str)> = positives.into_iter().map(describe).collect();
    if wants.contains(&(0, "`before`")) {
        // `position` stands for both words.
        wants.push((0, "`after`"));
    }
    let at_item = wants.contains(&(0, "`version`"));
    if at_item {
        // Where any declaration may start, name them as one.
        wants.retain(|(_, w)| !DECLARATION_WORDS.contains(w));
        wants.push((1, "a declaration"));
    }
    let has_want = |wants: &[(u8, &str)], w: &str| wants.iter().any(|(_, x)| *x == w);
    if has_want(&wants, "an expression") {
        // The words that start an expression are said as "an expression".
        wants.retain(|(_, w)| !EXPRESSION_STARTS.contains(w));
    }
    if has_want(&wants, "an operator") {
        // `name(` would be a call: not worth saying next to "an operator".
        wants.retain(|(_, w)| *w != "`(`");
    }
    if !number_before(src, pos) {
        // "a unit" is worth saying only right after a number (`10 cm`).
        wants.retain(|(_, w)| *w != "a unit");
    }
    wants.sort();
    wants.dedup();
    let words: Vec<&str> = wants.iter().map(|(_, w)| *w).collect();
    let has = |w: &str| words.contains(&w);
    // `mg/d` where a type is written (only a type is followed by `?`): the whole word
    if found == "`/`" && has("`?`") {
        if let Some((span, word)) = slashed_word(src, pos) {
            let help = if crate::edit_distance(word, "mg/day") <= 3 {
                "did you mean `mg/day`? a dose is typed `mg/day` (docs/language.md, Types and units)"
            } else {
                "a type is a name such as `number`, `mm` or `mg/day`, or a choice `{a, b}` (docs/language.md, Types and units)"
            };
            return SyntaxError::new(
                SyntaxErrorKind::Unexpected,
                span,
                format!("unknown type `{word}`"),
                format!("found `{word}`"),
                help,
            );
        }
    }
    // a rule written at the top level of a criterion (a table's rule outside its table)
    let rule_outside_table = found == "`rule`" && (has("a declaration") || has("`param`"));
    let message = if rule_outside_table {
        "a rule outside a table".to_string()
    } else if words.is_empty() {
        format!("unexpected {found}")
    } else {
        format!("expected {}", join_words(&words))
    };
    let label = format!("found {found}");
    let at_eof = pos >= src.len();
    // a declaration where a block's contents were expected: that block's `}` is missing
    let unclosed_block = match keyword {
        // (only where the block could have ended: `}` is one of the words expected)
        Some(k) if DECLARATION_WORDS.contains(&format!("`{k}`").as_str()) && has("`}`") => {
            let (open, _) = braces_before(src, pos);
            match open.as_slice() {
                [_, .., inner] => Some(format!(
                    "{} is not closed: add its `}}` before this line",
                    opening_line(src, *inner)
                )),
                _ => None,
            }
        }
        _ => None,
    };
    // `0.5 cm`: the same quantity in a unit the language has, instead of a near word
    let conversion = has("a unit")
        .then(|| unit_conversion(src, pos, found.trim_matches('`')))
        .flatten();
    const UNITS: &str =
        "the units are `mm`, `mm2`, `ml`, `mg/day`, `day(s)`, `week(s)`, `month(s)` and `%`";
    let help = if let Some(h) = unclosed_block {
        h
    } else if let (Some(k), true) = (keyword, has("an expression")) {
        format!("an expression is missing before `{k}` (a keyword cannot be a name)")
    } else if let (Some(k), true) = (
        found
            .trim_matches('`')
            .split_once('.')
            .map(|(first, _)| first)
            .filter(|first| KEYWORDS.contains(first)),
        has("a name"),
    ) {
        let rest = found
            .trim_matches('`')
            .split_once('.')
            .map_or("", |(_, r)| r);
        format!(
            "`{k}` is a keyword and cannot start a name: drop it (`{rest}`) or begin with another word (`trial.{rest}`)"
        )
    } else if let (Some(k), true) = (keyword, has("a name")) {
        format!("`{k}` is a keyword and cannot be used as a name")
    } else if has("`criterion`") {
        "a rule file starts with `criterion \"id\" {`".to_string()
    } else if at_eof && has("`}`") {
        // the innermost block still open at the end of the file
        match braces_before(src, pos).0.as_slice() {
            [inner] => format!(
                "{} is not closed: add its `}}` at the end",
                opening_line(src, *inner)
            ),
            [outer, inner] => format!(
                "{} is not closed, nor is {}: add a `}}` for each",
                opening_line(src, *inner),
                opening_line(src, *outer)
            ),
            [outer, middle @ .., inner] => format!(
                "{} is not closed, nor are the {} blocks around it, out to {}: add a `}}` for each",
                opening_line(src, *inner),
                middle.len() + 1,
                opening_line(src, *outer)
            ),
            [] => "check that every `{` is closed by a `}`".to_string(),
        }
    } else if at_eof && has("`)`") {
        "check that every `(` is closed by a `)`".to_string()
    } else if found == "`=`" && has("an operator") {
        "a comparison is written `==` (a single `=` assigns, after `then`): `when x == 1 then ...`"
            .to_string()
    } else if let (true, Some(hint)) = (has("a unit"), &conversion) {
        // a near unit after a number (`4 mg/d` in a condition) says more than `then`
        format!("{hint}; {UNITS}")
    } else if has("`then`") {
        "write `then` after a condition: `when CONDITION then ...` or `if C then A else B`"
            .to_string()
    } else if has("`else`") {
        "an `if` always has an `else`: `if C then A else B`".to_string()
    } else if has("`when`") && has("`otherwise`") {
        "a rule reads `rule ID when CONDITION then ...` or `rule ID otherwise then ...`".to_string()
    } else if has("`=`") && found == "`==`" {
        "an assignment is written with a single `=`".to_string()
    } else if has("a unit") {
        match &conversion {
            Some(hint) => format!("{hint}; {UNITS}"),
            None => UNITS.to_string(),
        }
    } else if has("a match arm") {
        "a match arm reads `a | b => VALUE` or `_ => VALUE`".to_string()
    } else if has("the end of the file") {
        match criterion_braces(src, pos) {
            Some((open, close)) => format!(
                "the criterion's `{{` (line {}) is closed by the `}}` on line {}: if that `}}` closes a block whose opening line is missing (`table NAME {{`, `summary {{`, `targets {{`), restore it; a file holds exactly one `criterion \"id\" {{ ... }}`",
                line_of(src, open),
                line_of(src, close)
            ),
            None => "a file holds exactly one `criterion \"id\" { ... }`".to_string(),
        }
    } else if rule_outside_table {
        "a rule belongs to a table: write it inside the table it is part of, e.g. `table response { override rule ID when ... then ... cite \"...\" }` (`irano-eval show` lists every table and its rules)"
            .to_string()
    } else if has("`param`") && !at_item {
        "`override` applies to `param`, `let`, `def`, `baseline`, `targets`, `show`, `stop grading`, `skip grading`, `warn`, `native labels` and `rule`"
            .to_string()
    } else if has("a declaration") {
        "a criterion holds declarations such as `param`, `let`, `def`, `state`, `table` or `summary`"
            .to_string()
    } else if has("`rule`") {
        "a table holds `rule ID when CONDITION then ...` and `remove rule ID`".to_string()
    } else if has("an expression") {
        "an expression starts with a literal, a name, a call, `(`, `{`, `if`, `match`, `not` or `-`"
            .to_string()
    } else if has("`)`") {
        "check that every `(` is closed by a `)`".to_string()
    } else if has("`}`") {
        "check that every `{` is closed by a `}`".to_string()
    } else {
        "see the grammar in docs/language.md".to_string()
    };
    let help = match suggestion(&found, &words) {
        Some(s) if conversion.is_none() => format!("did you mean `{s}`? {help}"),
        _ => help,
    };
    SyntaxError::new(SyntaxErrorKind::Unexpected, span, message, label, help)
}

/// The line that opens the block whose `{` is at `brace`, as an error names it:
/// `` `table response {` (line 12) ``.
fn opening_line(src: &str, brace: usize) -> String {
    let line_start = src
        .get(..brace)
        .map_or(0, |t| t.rfind('\n').map_or(0, |n| n + 1));
    let opener = src.get(line_start..brace).unwrap_or("").trim();
    format!("`{opener} {{` (line {})", line_of(src, brace))
}

const UNIT_WORDS: &[&str] = &[
    "mm", "mm2", "ml", "mg/day", "days", "day", "weeks", "week", "months", "month",
];

/// A likely intended word for a misspelt keyword (`overide`) or unit (`mg/d`, `mgs`).
fn suggestion(found: &str, wanted: &[&str]) -> Option<&'static str> {
    let word = found.strip_prefix('`')?.strip_suffix('`')?;
    if word.is_empty()
        || !word.starts_with(|c: char| c.is_ascii_alphabetic())
        || KEYWORDS.contains(&word)
    {
        return None;
    }
    let want = |w: &str| wanted.iter().any(|x| x.trim_matches('`') == w);
    if wanted.contains(&"a unit") {
        if let Some(u) = UNIT_WORDS
            .iter()
            .find(|u| u.starts_with(word) && **u != word)
        {
            return Some(u);
        }
    }
    let at_item = wanted.contains(&"a declaration");
    KEYWORDS
        .iter()
        .filter(|k| want(k) || (at_item && DECLARATION_WORDS.contains(&format!("`{k}`").as_str())))
        .map(|k| (crate::edit_distance(word, k), *k))
        .filter(|(d, k)| *d > 0 && *d <= 2 && *d < k.len())
        .min()
        .map(|(_, k)| k)
}
