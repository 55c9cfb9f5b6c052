//! Precedence, literals, names and spans of expressions; nesting limits.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test helpers

mod common;

use irano_exact::Rational;
use irano_syntax::ast::{Expr, ExprKind, Item, Span, UnitSuffix};
use irano_syntax::{parse, SyntaxError};

/// Wraps `text` as the value of a `let` and returns the source and the expression.
fn parse_expr(text: &str) -> (String, Expr) {
    let src = format!("criterion \"t\" {{ let x = {text}\n}}");
    let file = match parse(&src) {
        Ok(f) => f,
        Err(e) => panic!(
            "{text:?} does not parse:\n{}",
            common::render_errors(&src, &e)
        ),
    };
    common::check_spans(&src, &file);
    match file.items.into_iter().next() {
        Some(Item::Let(l)) => (src, l.value),
        other => panic!("unexpected item {other:?}"),
    }
}

fn sexpr(text: &str) -> String {
    common::expr(&parse_expr(text).1)
}

fn errors(src: &str) -> Vec<SyntaxError> {
    match parse(src) {
        Ok(_) => panic!("{src:?} parses but should not"),
        Err(e) => e,
    }
}

fn span_text(src: &str, span: Span) -> &str {
    &src[span.start..span.end]
}

#[test]
fn logic_precedence() {
    assert_eq!(
        sexpr("a or b and not c == d"),
        "(or a (and b (not (== c d))))"
    );
    assert_eq!(sexpr("not a and b"), "(and (not a) b)");
    assert_eq!(sexpr("not not a"), "(not (not a))");
    assert_eq!(sexpr("a and b or c and d"), "(or (and a b) (and c d))");
    assert_eq!(sexpr("a or b or c"), "(or (or a b) c)");
}

#[test]
fn comparison_and_membership() {
    assert_eq!(sexpr("a + 1 < b * 2"), "(< (+ a 1) (* b 2))");
    assert_eq!(sexpr("x in {CR, PR} and y"), "(and (in x (set CR PR)) y)");
    assert_eq!(sexpr("a == b != c"), "(!= (== a b) c)");
    assert_eq!(
        sexpr("a <= b and c >= d and e < f and g > h"),
        "(and (and (and (<= a b) (>= c d)) (< e f)) (> g h))"
    );
    assert_eq!(sexpr("not x in {A}"), "(not (in x (set A)))");
}

#[test]
fn coalesce_is_right_associative_and_between_comparison_and_sum() {
    assert_eq!(sexpr("a ?? b ?? c"), "(?? a (?? b c))");
    assert_eq!(sexpr("a ?? b + 1"), "(?? a (+ b 1))");
    assert_eq!(sexpr("a + b ?? c"), "(?? (+ a b) c)");
    assert_eq!(sexpr("a ?? b >= c"), "(>= (?? a b) c)");
    assert_eq!(sexpr("(a ?? b) * c"), "(* (?? a b) c)");
}

#[test]
fn arithmetic_and_unary_minus() {
    assert_eq!(sexpr("a - b - c"), "(- (- a b) c)");
    assert_eq!(sexpr("a + b * c / d"), "(+ a (/ (* b c) d))");
    assert_eq!(sexpr("-a * b"), "(* (neg a) b)");
    assert_eq!(sexpr("- - 3"), "(neg (neg 3))");
    assert_eq!(sexpr("a - -b"), "(- a (neg b))");
    assert_eq!(sexpr("-f(x).y"), "(neg (. (call f x) y))");
}

#[test]
fn names_fields_and_calls() {
    assert_eq!(sexpr("scan.steroids.dose_mg"), "scan.steroids.dose_mg");
    assert_eq!(sexpr("lesion.status"), "lesion.status");
    assert_eq!(sexpr("s.index"), "s.index");
    assert_eq!(sexpr("x.in.not.then.if"), "x.in.not.then.if");
    assert_eq!(sexpr("baseline.targets"), "baseline.targets");
    assert_eq!(sexpr("f(x).burden"), "(. (call f x) burden)");
    assert_eq!(sexpr("(a ?? b).date"), "(. (?? a b) date)");
    assert_eq!(sexpr("f(x).a.b"), "(. (. (call f x) a) b)");
    assert_eq!(sexpr("given(x)"), "(call given x)");
    assert_eq!(sexpr("now()"), "(call now)");
    assert_eq!(sexpr("after(s)"), "(call after s)");
    assert_eq!(sexpr("irano.f(1, 2)"), "(call irano.f 1 2)");
}

#[test]
fn aggregates_versus_calls() {
    assert_eq!(sexpr("min(a, b)"), "(call min a b)");
    assert_eq!(sexpr("max(a in S, b)"), "(call max (in a S) b)");
    assert_eq!(
        sexpr("min(s in prior: s.burden)"),
        "(min s prior :value s.burden)"
    );
    assert_eq!(
        sexpr("count(l in lesions where l.is_new)"),
        "(count l lesions :where l.is_new)"
    );
    assert_eq!(
        sexpr("all(s in scans where s.index > 0: s.evaluable)"),
        "(all s scans :where (> s.index 0) :value s.evaluable)"
    );
    assert_eq!(sexpr("first(s in graded)"), "(first s graded)");
    assert_eq!(sexpr("count"), "count");
}

#[test]
fn if_and_match() {
    assert_eq!(sexpr("if a then b else c"), "(if a b c)");
    assert_eq!(
        sexpr("if a then 1 else if b then 2 else 3"),
        "(if a 1 (if b 2 3))"
    );
    // The else branch takes everything to its right.
    assert_eq!(sexpr("if a then b else c + 1"), "(if a b (+ c 1))");
    assert_eq!(sexpr("1 + if a then b else c"), "(+ 1 (if a b c))");
    assert_eq!(
        sexpr("match k { a | b => 1, _ => 2 }"),
        "(match k (a|b => 1) (_ => 2))"
    );
    assert_eq!(sexpr("match k { a => 1, }"), "(match k (a => 1))");
}

#[test]
fn else_if_spans() {
    let (src, e) = parse_expr("if a then 1 else if b then 2 else 3");
    assert_eq!(
        span_text(&src, e.span),
        "if a then 1 else if b then 2 else 3"
    );
    let ExprKind::If(_, _, inner) = &e.kind else {
        panic!("not an if: {e:?}")
    };
    assert_eq!(span_text(&src, inner.span), "if b then 2 else 3");
}

fn number(text: &str) -> (Rational, Option<UnitSuffix>) {
    match parse_expr(text).1.kind {
        ExprKind::Number { value, unit } => (value, unit),
        other => panic!("not a number: {other:?}"),
    }
}

fn q(n: i128, d: i128) -> Rational {
    Rational::new(n, d).unwrap()
}

#[test]
fn numbers_and_units() {
    assert_eq!(number("5"), (q(5, 1), None));
    assert_eq!(number("0.5"), (q(1, 2), None));
    assert_eq!(number("25%"), (q(1, 4), Some(UnitSuffix::Percent)));
    assert_eq!(number("125 %"), (q(5, 4), Some(UnitSuffix::Percent)));
    assert_eq!(number("4 weeks"), (q(28, 1), Some(UnitSuffix::Weeks)));
    assert_eq!(number("1 week"), (q(7, 1), Some(UnitSuffix::Weeks)));
    assert_eq!(number("28 days"), (q(28, 1), Some(UnitSuffix::Days)));
    assert_eq!(number("1 day"), (q(1, 1), Some(UnitSuffix::Days)));
    assert_eq!(number("6 months"), (q(6, 1), Some(UnitSuffix::Months)));
    assert_eq!(number("1 month"), (q(1, 1), Some(UnitSuffix::Months)));
    assert_eq!(number("10 mm"), (q(10, 1), Some(UnitSuffix::Mm)));
    assert_eq!(number("10mm"), (q(10, 1), Some(UnitSuffix::Mm)));
    assert_eq!(number("25 mm2"), (q(25, 1), Some(UnitSuffix::Mm2)));
    assert_eq!(number("2.5 ml"), (q(5, 2), Some(UnitSuffix::Ml)));
    assert_eq!(number("0.75 mg/day"), (q(3, 4), Some(UnitSuffix::MgPerDay)));
    // `13.0 * 15.6`: exact decimals.
    assert_eq!(number("15.6"), (q(78, 5), None));
}

#[test]
fn literals() {
    assert_eq!(
        sexpr("true and false or null"),
        "(or (and true false) null)"
    );
    let (_, e) = parse_expr(r#""a \"b\" \\ c""#);
    assert_eq!(e.kind, ExprKind::Text(r#"a "b" \ c"#.to_string()));
    assert_eq!(sexpr("{a, b, c}"), "(set a b c)");
}

#[test]
fn expression_spans() {
    let (src, e) = parse_expr("(lesion.d1 ?? 0 mm) >= 10 mm   # comment");
    assert_eq!(span_text(&src, e.span), "(lesion.d1 ?? 0 mm) >= 10 mm");
    let ExprKind::Binary(_, lhs, rhs) = &e.kind else {
        panic!()
    };
    assert_eq!(span_text(&src, lhs.span), "(lesion.d1 ?? 0 mm)");
    assert_eq!(span_text(&src, rhs.span), "10 mm");
    let ExprKind::Binary(_, name, zero) = &lhs.kind else {
        panic!()
    };
    assert_eq!(span_text(&src, name.span), "lesion.d1");
    assert_eq!(span_text(&src, zero.span), "0 mm");

    let (src, e) = parse_expr("not  -x.y");
    assert_eq!(span_text(&src, e.span), "not  -x.y");
    let (src, e) = parse_expr("f(a).b");
    assert_eq!(span_text(&src, e.span), "f(a).b");
    let ExprKind::Field(_, field) = &e.kind else {
        panic!()
    };
    assert_eq!(span_text(&src, field.span), "b");
}

#[test]
fn item_spans_and_names() {
    let src = "criterion \"t\" {\n  let lesion.product = 1 # c\n  param irano.window_months: months = 6 months cite \"x\"\n  table t { rule a.b otherwise then response = SD  }\n}\n";
    let file = parse(src).unwrap();
    common::check_spans(src, &file);
    assert_eq!(span_text(src, file.span), &src[..src.len() - 1]);
    let Item::Let(l) = &file.items[0] else {
        panic!()
    };
    assert_eq!(l.name.text, "lesion.product");
    assert_eq!(span_text(src, l.span), "let lesion.product = 1");
    let Item::Param(p) = &file.items[1] else {
        panic!()
    };
    assert_eq!(p.name.text, "irano.window_months");
    assert_eq!(
        span_text(src, p.span),
        "param irano.window_months: months = 6 months cite \"x\""
    );
    assert_eq!(span_text(src, p.cite.as_ref().unwrap().span), "\"x\"");
    let Item::Table(t) = &file.items[2] else {
        panic!()
    };
    let irano_syntax::ast::TableItem::Rule(r) = &t.items[0] else {
        panic!()
    };
    assert_eq!(
        span_text(src, r.span),
        "rule a.b otherwise then response = SD"
    );
    assert!(r.when.is_none());
}

#[test]
fn names_that_start_with_a_keyword() {
    assert_eq!(
        sexpr("index + iffy + notable + order + origin + android + overrides + nullable"),
        "(+ (+ (+ (+ (+ (+ (+ index iffy) notable) order) origin) android) overrides) nullable)"
    );
    assert_eq!(sexpr("truth or falsy"), "(or truth falsy)");
}

#[test]
fn crlf_line_endings() {
    let src = "criterion \"t\" {\r\n  let x = 1 # c\r\n  let y = x\r\n}\r\n";
    let file = parse(src).unwrap();
    common::check_spans(src, &file);
    assert_eq!(file.items.len(), 2);
}

#[test]
fn keywords_are_not_names() {
    for src in [
        "criterion \"t\" { let then = 1 }",
        "criterion \"t\" { let x = not }",
        "criterion \"t\" { let x = a + where }",
        "criterion \"t\" { labels { CR if } }",
        "criterion \"t\" { let if.x = 1 }",
    ] {
        let e = errors(src);
        assert_eq!(e[0].code(), "syntax::unexpected", "{src}");
    }
    // ...but `baseline`, `targets` and `after` are built-in names in expressions.
    assert_eq!(
        sexpr("count(l in targets) + count(s in after(baseline))"),
        "(+ (count l targets) (count s (call after baseline)))"
    );
}

#[test]
fn error_messages_are_readable() {
    let src = "criterion \"t\" { let x = if a b }";
    let e = &errors(src)[0];
    assert_eq!(e.code(), "syntax::unexpected");
    assert_eq!(e.message(), "expected `then` or an operator");
    assert_eq!(span_text(src, e.span()), "b");

    let src = "criterion \"t\" { let x = f(a b) }";
    let e = &errors(src)[0];
    assert_eq!(e.message(), "expected an operator, `)` or `,`");
}

// ------------------------------------------------------------------ nesting

/// Runs `f` on a thread with the default 2 MiB stack.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

fn codes(src: String) -> Vec<&'static str> {
    on_small_stack(move || match parse(&src) {
        Ok(_) => vec!["ok"],
        Err(e) => e.iter().map(|e| e.code()).collect(),
    })
}

#[test]
fn hundred_thousand_parentheses_are_refused() {
    let n = 100_000;
    let src = format!(
        "criterion \"t\" {{ let x = {}1{} }}",
        "(".repeat(n),
        ")".repeat(n)
    );
    assert_eq!(codes(src), ["syntax::too_deep"]);
    // Unbalanced, and without a criterion around them.
    assert_eq!(codes("(".repeat(n)), ["syntax::too_deep"]);
    assert_eq!(codes("{[(".repeat(n)), ["syntax::too_deep"]);
}

#[test]
fn hundred_thousand_prefix_operators_are_refused() {
    let n = 100_000;
    let src = format!("criterion \"t\" {{ let x = {}a }}", "not ".repeat(n));
    assert_eq!(codes(src), ["syntax::too_deep"]);
    let src = format!("criterion \"t\" {{ let x = {}a }}", "- ".repeat(n));
    assert_eq!(codes(src), ["syntax::too_deep"]);
    assert_eq!(codes("not ".repeat(n)), ["syntax::unexpected"]);
}

#[test]
fn long_operator_chains_are_refused() {
    let n = 100_000;
    for op in ["??", "+", "and", "=="] {
        let src = format!(
            "criterion \"t\" {{ let x = a{} }}",
            format!(" {op} a").repeat(n)
        );
        assert_eq!(codes(src), ["syntax::too_deep"], "{op}");
    }
    let src = format!("criterion \"t\" {{ let x = (a){} }}", ".f".repeat(n));
    assert_eq!(codes(src), ["syntax::too_deep"]);
}

#[test]
fn deep_if_and_match_are_refused() {
    let n = 100_000;
    let src = format!(
        "criterion \"t\" {{ let x = {}1{} }}",
        "if a then ".repeat(n),
        " else 2".repeat(n)
    );
    assert_eq!(codes(src), ["syntax::too_deep"]);
    let src = format!("criterion \"t\" {{ let x = {}1 }}", "if if ".repeat(n));
    assert_eq!(codes(src), ["syntax::too_deep"]);
    let src = format!("criterion \"t\" {{ let x = {}a }}", "match ".repeat(n));
    assert_eq!(codes(src), ["syntax::too_deep"]);
    // A long `else if` chain is flat in the grammar: refused only by the tree depth.
    let src = format!(
        "criterion \"t\" {{ let x = {}1 }}",
        "if a then 1 else ".repeat(n)
    );
    assert_eq!(codes(src), ["syntax::too_deep"]);
}

#[test]
fn nesting_up_to_the_limit_is_accepted() {
    // 64 brackets in all, counting the criterion's own `{`.
    let src = format!(
        "criterion \"t\" {{ let x = {}1{} }}",
        "(".repeat(63),
        ")".repeat(63)
    );
    assert_eq!(codes(src), ["ok"]);
    let src = format!(
        "criterion \"t\" {{ let x = {}1{} }}",
        "(".repeat(64),
        ")".repeat(64)
    );
    assert_eq!(codes(src), ["syntax::too_deep"]);
    // Deep mixes of brackets, `if`, `match`, sets and calls within the limit.
    let src = format!(
        "criterion \"t\" {{ let x = {}1{} }}",
        "f(if a then match b { c => {".repeat(12),
        "} } else 0)".repeat(12)
    );
    assert_eq!(codes(src), ["ok"]);
    let src = format!(
        "criterion \"t\" {{ let x = a{} }}",
        " and not - b ?? c".repeat(60)
    );
    assert_eq!(codes(src), ["ok"]);
    // Many `if`s one after the other (not nested) are fine.
    let src = format!(
        "criterion \"t\" {{ {} }}",
        "let x = if a then b else c\n".repeat(1000)
    );
    assert_eq!(codes(src), ["ok"]);
}

#[test]
fn brackets_in_strings_and_comments_do_not_count() {
    let src = format!(
        "criterion \"t\" {{ let x = \"{}\" # {}\n }}",
        "(".repeat(1000),
        "(".repeat(1000)
    );
    assert_eq!(codes(src), ["ok"]);
}

#[test]
fn error_is_a_miette_diagnostic() {
    use miette::Diagnostic;
    let e = &errors("criterion \"t\" { let x = }")[0];
    assert_eq!(
        Diagnostic::code(e).map(|c| c.to_string()).as_deref(),
        Some("syntax::unexpected")
    );
    assert!(Diagnostic::help(e).is_some());
    let labels: Vec<_> = Diagnostic::labels(e).unwrap().collect();
    assert_eq!(labels.len(), 1);
    assert_eq!(labels[0].offset(), e.span().start);
    assert_eq!(e.to_string(), e.message());
}
