//! Shared test helpers: a compact s-expression printer for the AST, a span checker
//! and a renderer for syntax errors.

#![allow(dead_code)]

use std::fmt::Write as _;

use irano_syntax::ast::*;
use irano_syntax::SyntaxError;

// ------------------------------------------------------------------ expressions

pub fn expr(e: &Expr) -> String {
    let mut out = String::new();
    write_expr(&mut out, e);
    out
}

fn unit(u: UnitSuffix) -> &'static str {
    match u {
        UnitSuffix::Mm => "mm",
        UnitSuffix::Mm2 => "mm2",
        UnitSuffix::Ml => "ml",
        UnitSuffix::MgPerDay => "mg/day",
        UnitSuffix::Days => "days",
        UnitSuffix::Weeks => "weeks",
        UnitSuffix::Months => "months",
        UnitSuffix::Percent => "percent",
    }
}

fn binop(op: BinOp) -> &'static str {
    match op {
        BinOp::Or => "or",
        BinOp::And => "and",
        BinOp::Eq => "==",
        BinOp::Ne => "!=",
        BinOp::Lt => "<",
        BinOp::Le => "<=",
        BinOp::Gt => ">",
        BinOp::Ge => ">=",
        BinOp::In => "in",
        BinOp::Coalesce => "??",
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
    }
}

fn agg(k: AggKind) -> &'static str {
    k.name()
}

fn write_expr(out: &mut String, e: &Expr) {
    match &e.kind {
        ExprKind::Number { value, unit: u } => {
            let _ = write!(out, "{value}");
            if let Some(u) = u {
                let _ = write!(out, ":{}", unit(*u));
            }
        }
        ExprKind::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        ExprKind::Null => out.push_str("null"),
        ExprKind::Text(t) => {
            let _ = write!(out, "{t:?}");
        }
        ExprKind::Name(n) => out.push_str(&n.text),
        ExprKind::Field(base, f) => {
            out.push_str("(. ");
            write_expr(out, base);
            let _ = write!(out, " {})", f.text);
        }
        ExprKind::Unary(op, x) => {
            out.push_str(match op {
                UnOp::Not => "(not ",
                UnOp::Neg => "(neg ",
            });
            write_expr(out, x);
            out.push(')');
        }
        ExprKind::Binary(op, a, b) => {
            let _ = write!(out, "({} ", binop(*op));
            write_expr(out, a);
            out.push(' ');
            write_expr(out, b);
            out.push(')');
        }
        ExprKind::If(c, a, b) => {
            out.push_str("(if ");
            write_expr(out, c);
            out.push(' ');
            write_expr(out, a);
            out.push(' ');
            write_expr(out, b);
            out.push(')');
        }
        ExprKind::Match { scrutinee, arms } => {
            out.push_str("(match ");
            write_expr(out, scrutinee);
            for arm in arms {
                out.push_str(" (");
                if arm.patterns.is_empty() {
                    out.push('_');
                } else {
                    let pats: Vec<&str> = arm.patterns.iter().map(|p| p.text.as_str()).collect();
                    out.push_str(&pats.join("|"));
                }
                out.push_str(" => ");
                write_expr(out, &arm.value);
                out.push(')');
            }
            out.push(')');
        }
        ExprKind::Call(f, args) => {
            let _ = write!(out, "(call {}", f.text);
            for a in args {
                out.push(' ');
                write_expr(out, a);
            }
            out.push(')');
        }
        ExprKind::Set(items) => {
            out.push_str("(set");
            for a in items {
                out.push(' ');
                write_expr(out, a);
            }
            out.push(')');
        }
        ExprKind::Aggregate {
            kind,
            var,
            source,
            filter,
            value,
        } => {
            let _ = write!(out, "({} {} ", agg(*kind), var.text);
            write_expr(out, source);
            if let Some(f) = filter {
                out.push_str(" :where ");
                write_expr(out, f);
            }
            if let Some(v) = value {
                out.push_str(" :value ");
                write_expr(out, v);
            }
            out.push(')');
        }
    }
}

// ------------------------------------------------------------------ items

fn ty(t: &TypeExpr) -> String {
    let mut s = match &t.kind {
        TypeKind::Named(n) => n.clone(),
        TypeKind::Choice(names) => {
            let names: Vec<&str> = names.iter().map(|n| n.text.as_str()).collect();
            format!("{{{}}}", names.join(", "))
        }
    };
    if t.optional {
        s.push('?');
    }
    s
}

fn ov(is_override: bool) -> &'static str {
    if is_override {
        "override "
    } else {
        ""
    }
}

fn opt_str(out: &mut String, key: &str, s: &Option<Str>) {
    if let Some(s) = s {
        let _ = write!(out, " ({key} {:?})", s.value);
    }
}

fn position(p: &Option<Position>) -> String {
    match p {
        None => String::new(),
        Some(Position::Before(n)) => format!(" :before {}", n.text),
        Some(Position::After(n)) => format!(" :after {}", n.text),
    }
}

fn write_item(out: &mut String, item: &Item, indent: usize) {
    let pad = "  ".repeat(indent);
    out.push_str(&pad);
    match item {
        Item::Version(s) => {
            let _ = write!(out, "(version {:?})", s.value);
        }
        Item::Title(s) => {
            let _ = write!(out, "(title {:?})", s.value);
        }
        Item::CdiscCategory(s) => {
            let _ = write!(out, "(cdisc_category {:?})", s.value);
        }
        Item::Cite(s) => {
            let _ = write!(out, "(cite {:?})", s.value);
        }
        Item::Labels(names, _) | Item::Decisions(names, _) => {
            let word = if matches!(item, Item::Labels(..)) {
                "labels"
            } else {
                "decisions"
            };
            let names: Vec<&str> = names.iter().map(|n| n.text.as_str()).collect();
            let _ = write!(out, "({word} {})", names.join(" "));
        }
        Item::NativeLabels(n) => {
            let pairs: Vec<String> = n
                .names
                .iter()
                .map(|(l, s)| format!("{}={:?}", l.text, s.value))
                .collect();
            let ov = if n.is_override { "override " } else { "" };
            let _ = write!(out, "({ov}native-labels {})", pairs.join(" "));
            if let Some(c) = &n.cite {
                let _ = write!(out, " :cite {:?}", c.value);
            }
        }
        Item::Param(p) => {
            let _ = write!(out, "({}param {}", ov(p.is_override), p.name.text);
            if let Some(t) = &p.ty {
                let _ = write!(out, " : {}", ty(t));
            }
            let _ = write!(out, " = {}", expr(&p.default));
            if let Some((lo, hi)) = &p.range {
                let _ = write!(out, " range {} to {}", expr(lo), expr(hi));
            }
            opt_str(out, "cite", &p.cite);
            opt_str(out, "doc", &p.doc);
            out.push(')');
        }
        Item::ParamGroup(g) => {
            let _ = write!(out, "(param group {}", g.name.text);
            if let Some(u) = &g.unit {
                let _ = write!(out, " : {}", u.text);
            }
            let members: Vec<&str> = g.members.iter().map(|n| n.text.as_str()).collect();
            let _ = write!(out, " {{{}}}", members.join(" "));
            opt_str(out, "cite", &g.cite);
            opt_str(out, "doc", &g.doc);
            out.push(')');
        }
        Item::RemoveParam(r) => {
            let _ = write!(out, "(remove param {}", r.name.text);
            opt_str(out, "cite", &r.cite);
            out.push(')');
        }
        Item::Let(l) => {
            let _ = write!(out, "({}let {}", ov(l.is_override), l.name.text);
            if let Some(t) = &l.ty {
                let _ = write!(out, " : {}", ty(t));
            }
            let _ = write!(out, " = {}", expr(&l.value));
            opt_str(out, "cite", &l.cite);
            out.push(')');
        }
        Item::Def(d) => {
            let params: Vec<String> = d
                .params
                .iter()
                .map(|(n, t)| format!("{}: {}", n.text, ty(t)))
                .collect();
            let _ = write!(
                out,
                "({}def {}({}) = {})",
                ov(d.is_override),
                d.name.text,
                params.join(", "),
                expr(&d.body)
            );
        }
        Item::State(s) => {
            let _ = write!(
                out,
                "(state {} : {} = {})",
                s.name.text,
                ty(&s.ty),
                expr(&s.initial)
            );
        }
        Item::Baseline(b) => {
            let _ = write!(out, "({}baseline = {}", ov(b.is_override), expr(&b.value));
            opt_str(out, "cite", &b.cite);
            out.push(')');
        }
        Item::Targets(t) => {
            let _ = write!(out, "({}targets", ov(t.is_override));
            let _ = write!(out, "\n{pad}  (candidate {})", expr(&t.candidate));
            let keys: Vec<String> = t
                .rank
                .iter()
                .map(|k| {
                    format!(
                        "{} {}",
                        expr(&k.key),
                        if k.descending { "desc" } else { "asc" }
                    )
                })
                .collect();
            let _ = write!(out, "\n{pad}  (rank {})", keys.join(", "));
            let _ = write!(out, "\n{pad}  (max {})", expr(&t.max));
            for (k, m) in &t.max_per {
                let _ = write!(out, "\n{pad}  (max_per {} {})", expr(k), expr(m));
            }
            if let Some(c) = &t.cite {
                let _ = write!(out, "\n{pad}  (cite {:?})", c.value);
            }
            out.push(')');
        }
        Item::Show(s) => {
            let _ = write!(
                out,
                "({}show {} = {}",
                ov(s.is_override),
                s.name.text,
                expr(&s.value)
            );
            match &s.unit {
                Some(ShowUnit::Fixed(u, _)) => {
                    let _ = write!(out, " (unit {u:?})");
                }
                Some(ShowUnit::ByChoice { param, arms, .. }) => {
                    let arms: Vec<String> = arms
                        .iter()
                        .map(|(c, u)| format!("{} => {u:?}", c.text))
                        .collect();
                    let _ = write!(out, " (unit match {} {})", param.text, arms.join(", "));
                }
                None => {}
            }
            out.push(')');
        }
        Item::StopGrading(s) | Item::SkipGrading(s) => {
            let word = if matches!(item, Item::SkipGrading(_)) {
                "skip"
            } else {
                "stop"
            };
            let _ = write!(
                out,
                "({}{word}-grading {}",
                ov(s.is_override),
                expr(&s.when)
            );
            opt_str(out, "because", &s.because);
            opt_str(out, "cite", &s.cite);
            out.push(')');
        }
        Item::Warn(w) => {
            let _ = write!(
                out,
                "({}warn {} {}",
                ov(w.is_override),
                w.name.text,
                expr(&w.when)
            );
            opt_str(out, "because", &w.because);
            opt_str(out, "cite", &w.cite);
            out.push(')');
        }
        Item::Table(t) => {
            let _ = write!(out, "(table {}{}", t.name.text, position(&t.position));
            for ti in &t.items {
                match ti {
                    TableItem::Remove(n, cite) => {
                        let _ = write!(out, "\n{pad}  (remove-rule {}", n.text);
                        opt_str(out, "cite", cite);
                        out.push(')');
                    }
                    TableItem::Move(n, place, cite) => {
                        let _ = write!(
                            out,
                            "\n{pad}  (move-rule {}{}",
                            n.text,
                            position(&Some(place.clone()))
                        );
                        opt_str(out, "cite", cite);
                        out.push(')');
                    }
                    TableItem::Rule(r) => {
                        let _ = write!(
                            out,
                            "\n{pad}  ({}rule {}{}",
                            ov(r.is_override),
                            r.id.text,
                            position(&r.position)
                        );
                        match &r.when {
                            Some(w) => {
                                let _ = write!(out, "\n{pad}    (when {})", expr(w));
                            }
                            None => {
                                let _ = write!(out, "\n{pad}    (otherwise)");
                            }
                        }
                        for a in &r.then {
                            let _ = write!(
                                out,
                                "\n{pad}    ({} {} {})",
                                if a.is_set { "set" } else { "=" },
                                a.target.text,
                                expr(&a.value)
                            );
                        }
                        if let Some(c) = &r.cite {
                            let _ = write!(out, "\n{pad}    (cite {:?})", c.value);
                        }
                        if let Some(b) = &r.because {
                            let _ = write!(out, "\n{pad}    (because {:?})", b.value);
                        }
                        out.push(')');
                    }
                }
            }
            out.push(')');
        }
        Item::Summary(s) => {
            out.push_str("(summary");
            for i in &s.items {
                out.push('\n');
                write_item(out, i, indent + 1);
            }
            out.push(')');
        }
    }
}

pub fn file(f: &File) -> String {
    let mut out = format!("(criterion {:?}", f.id.value);
    if let Some(p) = &f.extends {
        let _ = write!(out, " extends {:?}", p.value);
    }
    for item in &f.items {
        out.push('\n');
        write_item(&mut out, item, 1);
    }
    out.push_str(")\n");
    out
}

// ------------------------------------------------------------------ spans

/// Checks that every span points at plausible text: names at their own text,
/// strings at a quoted literal, expressions and items at trimmed, non-empty text.
pub fn check_spans(src: &str, f: &File) {
    let text = |s: Span| -> &str {
        src.get(s.start..s.end)
            .unwrap_or_else(|| panic!("span {s:?} is outside the source or not on a char boundary"))
    };
    let trimmed = |s: Span, what: &str| {
        let t = text(s);
        assert!(!t.is_empty(), "empty span for {what}");
        assert_eq!(
            t,
            t.trim(),
            "span of {what} has surrounding whitespace: {t:?}"
        );
        assert!(!t.ends_with('#'), "{what}");
    };
    let name = |n: &Name| assert_eq!(text(n.span), n.text, "name span");
    let string = |s: &Str| {
        let t = text(s.span);
        assert!(t.starts_with('"') && t.ends_with('"'), "string span {t:?}");
    };
    fn walk(e: &Expr, f: &mut dyn FnMut(&Expr)) {
        f(e);
        match &e.kind {
            ExprKind::Field(b, _) | ExprKind::Unary(_, b) => walk(b, f),
            ExprKind::Binary(_, a, b) => {
                walk(a, f);
                walk(b, f);
            }
            ExprKind::If(a, b, c) => {
                walk(a, f);
                walk(b, f);
                walk(c, f);
            }
            ExprKind::Match { scrutinee, arms } => {
                walk(scrutinee, f);
                for a in arms {
                    walk(&a.value, f);
                }
            }
            ExprKind::Call(_, args) | ExprKind::Set(args) => {
                for a in args {
                    walk(a, f);
                }
            }
            ExprKind::Aggregate {
                source,
                filter,
                value,
                ..
            } => {
                walk(source, f);
                if let Some(x) = filter {
                    walk(x, f);
                }
                if let Some(x) = value {
                    walk(x, f);
                }
            }
            _ => {}
        }
    }
    let mut check_expr = |e: &Expr| {
        walk(e, &mut |x: &Expr| {
            trimmed(x.span, "expression");
            match &x.kind {
                ExprKind::Name(n) => {
                    name(n);
                    assert_eq!(n.span, x.span);
                }
                ExprKind::Field(_, n) => name(n),
                ExprKind::Call(n, _) => name(n),
                ExprKind::Aggregate { var, .. } => name(var),
                ExprKind::Match { arms, .. } => {
                    for a in arms {
                        trimmed(a.span, "arm");
                        a.patterns.iter().for_each(name);
                    }
                }
                ExprKind::Text(_) => assert!(text(x.span).starts_with('"')),
                _ => {}
            }
        })
    };
    fn items(
        list: &[Item],
        check_expr: &mut dyn FnMut(&Expr),
        trimmed: &dyn Fn(Span, &str),
        name: &dyn Fn(&Name),
        string: &dyn Fn(&Str),
    ) {
        for item in list {
            match item {
                Item::Version(s) | Item::Title(s) | Item::CdiscCategory(s) | Item::Cite(s) => {
                    string(s)
                }
                Item::Labels(ns, sp) | Item::Decisions(ns, sp) => {
                    trimmed(*sp, "labels");
                    ns.iter().for_each(name);
                }
                Item::NativeLabels(n) => {
                    trimmed(n.span, if n.is_override { "override" } else { "native" });
                    for (l, s) in &n.names {
                        name(l);
                        string(s);
                    }
                    n.cite.iter().for_each(string);
                }
                Item::Param(p) => {
                    trimmed(p.span, "param");
                    name(&p.name);
                    check_expr(&p.default);
                    if let Some((lo, hi)) = &p.range {
                        check_expr(lo);
                        check_expr(hi);
                    }
                    p.cite.iter().chain(p.doc.iter()).for_each(string);
                }
                Item::ParamGroup(g) => {
                    trimmed(g.span, "param");
                    name(&g.name);
                    g.unit.iter().for_each(name);
                    g.members.iter().for_each(name);
                    g.cite.iter().chain(g.doc.iter()).for_each(string);
                }
                Item::RemoveParam(r) => {
                    trimmed(r.span, "remove param");
                    name(&r.name);
                    r.cite.iter().for_each(string);
                }
                Item::Let(l) => {
                    trimmed(l.span, "let");
                    name(&l.name);
                    check_expr(&l.value);
                    l.cite.iter().for_each(string);
                }
                Item::Def(d) => {
                    trimmed(d.span, "def");
                    name(&d.name);
                    for (n, t) in &d.params {
                        name(n);
                        trimmed(t.span, "type");
                    }
                    check_expr(&d.body);
                }
                Item::State(s) => {
                    trimmed(s.span, "state");
                    trimmed(s.ty.span, "type");
                    name(&s.name);
                    check_expr(&s.initial);
                }
                Item::Baseline(b) => {
                    trimmed(b.span, "baseline");
                    check_expr(&b.value);
                }
                Item::Targets(t) => {
                    trimmed(t.span, "targets");
                    check_expr(&t.candidate);
                    check_expr(&t.max);
                    for k in &t.rank {
                        trimmed(k.span, "rank key");
                        check_expr(&k.key);
                    }
                    for (a, b) in &t.max_per {
                        check_expr(a);
                        check_expr(b);
                    }
                }
                Item::Show(s) => {
                    trimmed(s.span, "show");
                    name(&s.name);
                    check_expr(&s.value);
                    if let Some(ShowUnit::ByChoice { param, arms, span }) = &s.unit {
                        trimmed(*span, "show unit");
                        name(param);
                        arms.iter().for_each(|(c, _)| name(c));
                    }
                }
                Item::StopGrading(s) => {
                    trimmed(s.span, "stop");
                    check_expr(&s.when);
                    s.because.iter().chain(s.cite.iter()).for_each(string);
                }
                Item::SkipGrading(s) => {
                    trimmed(s.span, "skip");
                    check_expr(&s.when);
                    s.because.iter().chain(s.cite.iter()).for_each(string);
                }
                Item::Warn(w) => {
                    trimmed(w.span, "warn");
                    name(&w.name);
                    check_expr(&w.when);
                    w.because.iter().chain(w.cite.iter()).for_each(string);
                }
                Item::Table(t) => {
                    trimmed(t.span, "table");
                    name(&t.name);
                    for ti in &t.items {
                        match ti {
                            TableItem::Remove(n, _) => name(n),
                            TableItem::Move(n, Position::Before(o) | Position::After(o), _) => {
                                name(n);
                                name(o);
                            }
                            TableItem::Rule(r) => {
                                trimmed(r.span, "rule");
                                name(&r.id);
                                if let Some(w) = &r.when {
                                    check_expr(w);
                                }
                                for a in &r.then {
                                    trimmed(a.span, "assign");
                                    name(&a.target);
                                    check_expr(&a.value);
                                }
                                r.cite.iter().chain(r.because.iter()).for_each(string);
                            }
                        }
                    }
                }
                Item::Summary(s) => {
                    trimmed(s.span, "summary");
                    items(&s.items, check_expr, trimmed, name, string);
                }
            }
        }
    }
    string(&f.id);
    trimmed(f.span, "file");
    items(&f.items, &mut check_expr, &trimmed, &name, &string);
}

// ------------------------------------------------------------------ errors

pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let before = src.get(..offset).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

pub fn render_error(src: &str, e: &SyntaxError) -> String {
    let span = e.span();
    let (line, col) = line_col(src, span.start);
    let source_line = src.lines().nth(line - 1).unwrap_or("");
    let width = src
        .get(span.start..span.end)
        .map_or(1, |t| t.lines().next().unwrap_or("").chars().count().max(1));
    format!(
        "{code} at {line}:{col}\n  message: {msg}\n  label:   {label}\n  help:    {help}\n  | {source_line}\n  | {pad}{marks}\n",
        code = e.code(),
        msg = e.message(),
        label = e.label(),
        help = e.help(),
        pad = " ".repeat(col - 1),
        marks = "^".repeat(width),
    )
}

pub fn render_errors(src: &str, errors: &[SyntaxError]) -> String {
    errors.iter().map(|e| render_error(src, e)).collect()
}
