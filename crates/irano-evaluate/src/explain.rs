//! Explanations: what a rule's condition compared, with the values, for the trace.

use std::fmt::Write as _;

use irano_cases::Case;
use irano_check::program::*;
use irano_check::types::{Base, Ty, Unit};

use crate::access::{lesion_id, text_of};
use crate::expr::match_arm;
use crate::{Cx, Data, Evaluator, Number, NumberValue, ShownValue, R};

impl Evaluator<'_> {
    /// Writes what a condition compared, for the rule that fired.
    pub(crate) fn explain(
        &mut self,
        cx: &mut Cx<'_>,
        e: &Expr,
        out: &mut String,
        depth: usize,
    ) -> R<()> {
        let p = self.p;
        match &e.kind {
            ExprKind::Binary(BinKind::And, a, b) => {
                self.explain(cx, a, out, depth)?;
                out.push_str("; ");
                self.explain(cx, b, out, depth)?;
            }
            ExprKind::Binary(BinKind::Or, a, b) => {
                if self.eval(cx, a)? == Value::Bool(true) {
                    self.explain(cx, a, out, depth)?;
                } else {
                    self.explain(cx, b, out, depth)?;
                }
            }
            ExprKind::Binary(
                op @ (BinKind::Eq
                | BinKind::Ne
                | BinKind::Lt
                | BinKind::Le
                | BinKind::Gt
                | BinKind::Ge),
                a,
                b,
            ) => {
                let sym = match op {
                    BinKind::Eq => "==",
                    BinKind::Ne => "!=",
                    BinKind::Lt => "<",
                    BinKind::Le => "<=",
                    BinKind::Gt => ">",
                    _ => ">=",
                };
                let va = self.eval(cx, a)?;
                let vb = self.eval(cx, b)?;
                self.operand(cx, a, va, out);
                let _ = write!(out, " {sym} ");
                self.operand(cx, b, vb, out);
            }
            ExprKind::If(c, t, f) if e.ty == Ty::BOOL => {
                // the condition, then the branch it chose
                let taken = self.eval(cx, c)? == Value::Bool(true);
                if taken || !is_comparison(c) {
                    self.explain(cx, c, out, depth)?;
                    out.push_str(if taken { ", so: " } else { ", otherwise: " });
                } else {
                    out.push('(');
                    self.explain(cx, c, out, depth)?;
                    out.push_str(") = false, otherwise: ");
                }
                self.explain(cx, if taken { t } else { f }, out, depth)?;
            }
            ExprKind::Match {
                scrutinee,
                arms,
                default,
            } => {
                // explain the arm that was taken
                let v = self.eval(cx, scrutinee)?;
                let arm = match_arm(v, arms, default.as_deref());
                self.operand(cx, scrutinee, v, out);
                out.push_str(": ");
                if let Some(arm) = arm {
                    self.explain(cx, arm, out, depth)?;
                }
            }
            ExprKind::ScanLet(li, s)
                if depth < self.explain_depth
                    && e.ty == Ty::BOOL
                    && matches!(s.kind, ExprKind::CurScan) =>
            {
                let Some(l) = p.lets.get(*li as usize) else {
                    return Ok(());
                };
                let v = self.eval(cx, e)?;
                let _ = write!(out, "{} = {}", l.name, self.show(cx, v, e.ty));
                // a let defined as a constant (`override let t2_not_worse = true`): its
                // definition would only repeat the value
                if matches!(l.expr.kind, ExprKind::Const(_)) {
                    return Ok(());
                }
                out.push_str(" (");
                self.explain(cx, &l.expr, out, depth + 1)?;
                out.push(')');
            }
            _ => {
                let v = self.eval(cx, e)?;
                self.operand(cx, e, v, out);
            }
        }
        Ok(())
    }

    /// Writes where an assigned value came from, for a rule's `set` in the trace: the
    /// branch an `if` or `match` took, the side of a `??` that gave the value, and a let of
    /// the scan opened onto its definition, down to the operands (`pd_date = imaging_pd_date =
    /// 2024-03-04 (...)`), so that a back-dated date says which date it took and why.
    pub(crate) fn explain_value(
        &mut self,
        cx: &mut Cx<'_>,
        e: &Expr,
        out: &mut String,
        depth: usize,
    ) -> R<()> {
        let p = self.p;
        match &e.kind {
            ExprKind::ScanLet(li, s)
                if depth < self.explain_depth && matches!(s.kind, ExprKind::CurScan) =>
            {
                let Some(l) = p.lets.get(*li as usize) else {
                    return Ok(());
                };
                let v = self.eval(cx, e)?;
                let _ = write!(out, "{} = {}", l.name, self.show(cx, v, e.ty));
                if is_plain(&l.expr) {
                    return Ok(());
                }
                out.push_str(" (");
                self.explain_value(cx, &l.expr, out, depth + 1)?;
                out.push(')');
            }
            ExprKind::If(c, t, f) => {
                let taken = self.eval(cx, c)? == Value::Bool(true);
                if taken || !is_comparison(c) {
                    self.explain(cx, c, out, depth)?;
                    out.push_str(if taken { ", so: " } else { ", otherwise: " });
                } else {
                    out.push('(');
                    self.explain(cx, c, out, depth)?;
                    out.push_str(") = false, otherwise: ");
                }
                self.explain_value(cx, if taken { t } else { f }, out, depth)?;
            }
            ExprKind::Match {
                scrutinee,
                arms,
                default,
            } => {
                let v = self.eval(cx, scrutinee)?;
                let arm = match_arm(v, arms, default.as_deref());
                self.operand(cx, scrutinee, v, out);
                out.push_str(": ");
                if let Some(arm) = arm {
                    self.explain_value(cx, arm, out, depth)?;
                }
            }
            ExprKind::Call(b @ (Builtin::Min2 | Builtin::Max2), args) if args.len() == 2 => {
                // both candidates, each with where it came from, then the one taken
                out.push_str(if *b == Builtin::Min2 { "min(" } else { "max(" });
                for (k, a) in args.iter().enumerate() {
                    if k > 0 {
                        out.push_str("; ");
                    }
                    self.explain_value(cx, a, out, depth)?;
                }
                let v = self.eval(cx, e)?;
                let _ = write!(out, ") = {}", self.show(cx, v, e.ty));
            }
            ExprKind::Binary(BinKind::Coalesce, a, b) => {
                let va = self.eval(cx, a)?;
                if va == Value::Null {
                    let _ = write!(out, "{} absent, so: ", squash(self.p.text_of(a.src)));
                    self.explain_value(cx, b, out, depth)?;
                } else {
                    self.explain_value(cx, a, out, depth)?;
                }
            }
            _ => {
                let v = self.eval(cx, e)?;
                self.operand(cx, e, v, out);
            }
        }
        Ok(())
    }

    pub(crate) fn operand(&self, cx: &Cx<'_>, e: &Expr, v: Value, out: &mut String) {
        let text = self.p.text_of(e.src);
        let shown = match (&e.kind, v) {
            (ExprKind::Param(i), v) => match self.p.params.get(*i as usize) {
                Some(pi) => show_param(self.p, pi, v),
                None => self.show(cx, v, e.ty),
            },
            _ => self.show(cx, v, e.ty),
        };
        if matches!(e.kind, ExprKind::Const(_)) || text == shown {
            out.push_str(&shown);
        } else if matches!(e.kind, ExprKind::Binary(BinKind::Coalesce, ..))
            && text.contains("??")
            && !(text.starts_with('(') && text.ends_with(')'))
        {
            // `x ?? false = true` would read as `x ?? (false = true)`
            let _ = write!(out, "({}) = {shown}", squash(text));
        } else {
            let _ = write!(out, "{} = {shown}", squash(text));
        }
    }

    pub(crate) fn show(&self, cx: &Cx<'_>, v: Value, ty: Ty) -> String {
        show_value(self.p, cx.case, v, ty)
    }
}

/// A comparison, whose explanation reads as a claim (`80 >= 100`) and so is said false
/// when it is (a named condition already shows its value, `x = false`).
fn is_comparison(c: &Expr) -> bool {
    matches!(
        c.kind,
        ExprKind::Binary(
            BinKind::Eq | BinKind::Ne | BinKind::Lt | BinKind::Le | BinKind::Gt | BinKind::Ge,
            ..
        ) | ExprKind::InSet(..)
    )
}

/// An expression whose value needs no account of where it came from: a constant or the
/// current scan, or a field read off it.
pub(crate) fn is_plain(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Const(_) | ExprKind::CurScan | ExprKind::Param(_) => true,
        ExprKind::ScanField(_, s) => matches!(s.kind, ExprKind::CurScan),
        _ => false,
    }
}

pub(crate) fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(crate) fn location(p: &Program, src: Src) -> String {
    match p.sources.get(usize::from(src.file)) {
        Some(f) => {
            let (l, c) = irano_check::diag::line_col(&f.text, src.span.start);
            format!("{}:{l}:{c}", f.name)
        }
        None => "?".into(),
    }
}

/// Renders a value with its unit for results and explanations.
pub(crate) fn show_value(p: &Program, case: &Case, v: Value, ty: Ty) -> String {
    match v {
        Value::Null => "absent".into(),
        Value::Bool(b) => b.to_string(),
        Value::Num(r) => match ty.base {
            Base::Num(Unit::One) | Base::Null => r.to_string(),
            Base::Num(u) => format!("{r} {}", u.suffix()),
            _ => r.to_string(),
        },
        Value::Date(d) => d.to_string(),
        Value::Sym(s) => match ty.base {
            Base::Enum(id) => p.enum_variant(id, s).to_string(),
            _ => s.to_string(),
        },
        Value::Scan(i) => match case.assessments.get(i as usize) {
            Some(a) => format!("scan of {}", a.date),
            None => "scan".into(),
        },
        Value::Lesion { lesion, .. } => format!("lesion {}", lesion_id(case, lesion)),
        Value::Text(t) => format!("\"{}\"", text_of(p, case, t)),
    }
}

pub(crate) fn show_param(p: &Program, pi: &ParamInfo, v: Value) -> String {
    p.param_text(pi, v)
}

/// A `show` value (or a state, for derivations) with its text and its data.
pub(crate) fn shown_value(p: &Program, case: &Case, name: &str, v: Value, ty: Ty) -> ShownValue {
    let (value, data) = match (v, ty.base) {
        (Value::Null, _) => (None, Data::Text),
        (Value::Bool(b), _) => (Some(show_value(p, case, v, ty)), Data::Bool(b)),
        (Value::Num(r), base) => {
            // the rational's text once, for the table text and the data (as `show_value`)
            let text = r.to_display_string();
            let data = Data::Number(number(
                r,
                &text,
                match base {
                    Base::Num(u) => u.suffix(),
                    _ => "",
                },
            ));
            let shown = match base {
                Base::Num(Unit::One) | Base::Null => text,
                Base::Num(u) => {
                    let mut t = text;
                    t.push(' ');
                    t.push_str(u.suffix());
                    t
                }
                _ => text,
            };
            (Some(shown), data)
        }
        // the text itself, as dates and labels are (quotes mark text only in explanations)
        (Value::Text(t), _) => (Some(text_of(p, case, t).to_string()), Data::Text),
        _ => (Some(show_value(p, case, v, ty)), Data::Text),
    };
    ShownValue {
        name: name.to_string(),
        value,
        data,
    }
}

/// Significant digits of a decimal text (`-0.0125` has 3).
fn significant_digits(decimal: &str) -> usize {
    decimal
        .bytes()
        .filter(u8::is_ascii_digit)
        .skip_while(|&b| b == b'0')
        .count()
}

/// A rational as a JSON number: an integer, or the nearest binary float to its decimal
/// (rounded to 2 places when it does not terminate, as tables show it), with the exact
/// form beside it when the float is not exactly the number. `text` is `r.to_string()`.
fn number(r: irano_exact::Rational, text: &str, unit: &'static str) -> Number {
    if r.denom() == 1 {
        if let Ok(i) = i64::try_from(r.numer()) {
            return Number {
                value: NumberValue::Int(i),
                exact: None,
                unit,
            };
        }
    }
    // a terminating decimal too long for the table's text is written in full; only a
    // fraction that does not terminate is rounded, with the fraction beside it
    let full;
    let (decimal, mut exact) = match text.strip_prefix('~') {
        Some(rounded) => match r.exact_decimal() {
            Some(d) => {
                full = d;
                (full.as_str(), None)
            }
            None => (rounded, Some(fraction_text(r))),
        },
        None => (text, None),
    };
    let f: f64 =
        short_decimal_to_f64(decimal).unwrap_or_else(|| decimal.parse().unwrap_or(f64::NAN));
    // a decimal of at most 15 significant digits is the shortest text of its nearest
    // float, so it reads back as written; longer ones are checked by writing the float
    if exact.is_none() && significant_digits(decimal) > 15 && format!("{f}") != decimal {
        exact = Some(decimal.to_string());
    }
    Number {
        value: NumberValue::Float(f),
        exact,
        unit,
    }
}

/// `numer/denom`, in 64-bit arithmetic when both fit (formatting 128-bit integers is slow).
fn fraction_text(r: irano_exact::Rational) -> String {
    match (i64::try_from(r.numer()), i64::try_from(r.denom())) {
        (Ok(n), Ok(d)) => {
            let mut s = String::with_capacity(24);
            irano_exact::push_i64(&mut s, n);
            s.push('/');
            irano_exact::push_i64(&mut s, d);
            s
        }
        _ => format!("{}/{}", r.numer(), r.denom()),
    }
}

/// Powers of ten that a float holds exactly.
const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// The float nearest a decimal text (`-12.345`) of at most 15 digits, without a float
/// parser: its digits as an integer (below 2^53, so exact in a float) divided by a power
/// of ten (exact too); IEEE division rounds to nearest, so this is the float that parsing
/// the text gives. `None` for anything else.
fn short_decimal_to_f64(decimal: &str) -> Option<f64> {
    let (neg, body) = match decimal.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, decimal),
    };
    let mut m: u64 = 0;
    let mut digits = 0usize;
    let mut places = 0usize;
    let mut point = false;
    for b in body.bytes() {
        match b {
            b'0'..=b'9' => {
                m = m * 10 + u64::from(b - b'0');
                digits += 1;
                if point {
                    places += 1;
                }
                if digits > 15 {
                    return None;
                }
            }
            b'.' if !point => point = true,
            _ => return None,
        }
    }
    if digits == 0 {
        return None;
    }
    let v = m as f64 / POW10.get(places).copied()?;
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The float of a short decimal text is the one the float parser gives, and the
    /// fraction text is the 128-bit one.
    #[test]
    fn short_decimals_become_the_parsed_float() {
        let mut checked = 0;
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for k in 0..200_000u64 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let digits = 1 + (k % 15) as u32;
            let m = seed % 10u64.pow(digits);
            let places = (seed >> 40) as usize % (digits as usize + 1);
            let text = format!("{m:0width$}", width = digits as usize);
            let (int, frac) = text.split_at(text.len() - places);
            let int = if int.is_empty() { "0" } else { int };
            let dec = if places == 0 {
                int.to_string()
            } else {
                format!("{int}.{frac}")
            };
            for t in [dec.clone(), format!("-{dec}")] {
                let want: f64 = t.parse().unwrap_or(f64::NAN);
                if let Some(got) = short_decimal_to_f64(&t) {
                    assert_eq!(got.to_bits(), want.to_bits(), "{t}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 300_000, "{checked}");
        assert_eq!(short_decimal_to_f64("1234567890123456"), None);
        assert_eq!(short_decimal_to_f64("1e5"), None);
        assert_eq!(short_decimal_to_f64(""), None);
        for (n, d) in [
            (1i128, 3i128),
            (-140_000, 8737),
            (i128::from(i64::MIN), 3),
            (i128::from(i64::MAX), 9),
            (-9, 10),
            (i128::from(i64::MAX) + 1, 7),
        ] {
            if let Ok(r) = irano_exact::Rational::new(n, d) {
                assert_eq!(fraction_text(r), format!("{}/{}", r.numer(), r.denom()));
            }
        }
    }

    /// The digit count decides only what writing the float back would have decided.
    #[test]
    fn the_exact_form_is_given_exactly_when_the_float_does_not_read_back() {
        let mut checked = 0;
        for num in [
            1i128,
            3,
            7,
            25,
            12_345,
            227_129,
            99_999_999_999_999,
            123_456_789_012_345_678,
        ] {
            for den in [
                1i128,
                2,
                4,
                5,
                8,
                10,
                16,
                100,
                1_000,
                1 << 20,
                10_i128.pow(12),
            ] {
                for sign in [1, -1] {
                    let Ok(r) = irano_exact::Rational::new(sign * num, den) else {
                        continue;
                    };
                    let text = r.to_string();
                    let n = number(r, &text, "");
                    // the exact decimal, also of one the table rounds (`~0` for 2^-20);
                    // none for a fraction that does not terminate
                    let decimal = match text.strip_prefix('~') {
                        Some(_) => r.exact_decimal(),
                        None => Some(text.clone()),
                    };
                    let reads_back = match (&n.value, &decimal) {
                        (NumberValue::Int(_), _) => true,
                        (NumberValue::Float(f), Some(d)) => format!("{f}") == *d,
                        (NumberValue::Float(_), None) => false,
                    };
                    assert_eq!(n.exact.is_none(), reads_back, "{text}");
                    if let (Some(exact), Some(d)) = (&n.exact, &decimal) {
                        assert_eq!(exact, d, "a terminating decimal is given in full");
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 100);
        assert_eq!(significant_digits("-0.0125"), 3);
        assert_eq!(significant_digits("2271.29"), 6);
    }
}
