//! Reading `--set KEY=VALUE` values in the parameter's type and unit.

use irano_exact::Rational;

use crate::diag::backticked;
use crate::program::{EnumDef, Value};
use crate::types::{Base, Ty, Unit};

/// Parses a `--set` value for a parameter of type `ty` written as `type_text`.
pub fn parse_override(
    text: &str,
    ty: Ty,
    type_text: &str,
    enums: &[EnumDef],
) -> Result<Value, String> {
    let t = text.trim();
    // a value in quotes, as a shell or a YAML habit writes it: said when the bare value reads
    let unquoted = t
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .or_else(|| t.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')));
    if let Some(inner) = unquoted {
        if parse_override(inner, ty, type_text, enums).is_ok() {
            return Err(format!(
                "write the value without quotes: `{}`",
                inner.trim()
            ));
        }
    }
    match ty.base {
        Base::Bool => match t {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err("expected `true` or `false`".into()),
        },
        Base::Num(u) => {
            let (num, suffix) = split_unit(t);
            let mut r: Rational = num.parse().map_err(|_| {
                let example = match type_text {
                    "percent" => "`40%`".to_string(),
                    "count" => "`3`".to_string(),
                    "weeks" => "`8 weeks`".to_string(),
                    _ if u == Unit::Days => "`28 days` or `8 weeks`".to_string(),
                    _ if u == Unit::Months => "`3 months`".to_string(),
                    _ if u == Unit::One => "`1.5`".to_string(),
                    _ => format!("`10 {}`", u.name()),
                };
                format!(
                    "expected a number{}, e.g. {example}",
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
                "" if percent => {
                    let as_pct = r
                        .checked_mul(Rational::from_int(100))
                        .map(|p| p.to_decimal_string(4))
                        .unwrap_or_else(|_| num.to_string());
                    let below_one = r < Rational::ONE;
                    return Err(if below_one {
                        format!("a percent is written with `%`: `{as_pct}%` for the fraction {num}, or `{num}%`")
                    } else if r > Rational::ONE {
                        // more than 1 is not a fraction: only one reading is plausible
                        format!("a percent is written with `%`: `{num}%`")
                    } else {
                        format!("a percent is written with `%`: `{num}%`, or `{as_pct}%` if {num} is a fraction")
                    });
                }
                // a quantity needs its unit, as in a rule file: `8` for a days parameter
                // meant as weeks would silently be 8 days
                "" if u != Unit::One && type_text != "weeks" => {
                    let unit = u.name();
                    return Err(if u == Unit::Days {
                        format!("give the unit: `{num} days` (a value in days also takes weeks: `8 weeks` is 56 days)")
                    } else {
                        format!("give the unit: `{num} {unit}`")
                    });
                }
                "" => {}
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
                "weeks" | "week" | "days" | "day" if u == Unit::Months => {
                    return Err(
                        "this parameter counts calendar months, which have no fixed number of days: give whole months (e.g. `3 months`)"
                            .into(),
                    )
                }
                "months" | "month" if u == Unit::Days => {
                    return Err(
                        "this parameter counts days: give days or weeks (e.g. `84 days` or `12 weeks`); a calendar month has no fixed number of days"
                            .into(),
                    )
                }
                "cm" if u == Unit::Mm => {
                    // a centimetre is exactly ten millimetres: say the converted value
                    let mm = r
                        .checked_mul(Rational::from_int(10))
                        .map(|x| x.to_decimal_string(4))
                        .unwrap_or_else(|_| format!("{num} x 10"));
                    return Err(format!(
                        "this parameter is in mm: {num} cm is `{mm} mm`"
                    ));
                }
                "mm2" if u == Unit::Mm => {
                    // an area for a length: a square's side is the likely meaning
                    return Err(match exact_square_root(r) {
                        Some(x) => format!(
                            "this parameter is a length in mm, not an area: an area of {num} mm2 is a square of side `{} mm`",
                            x.to_decimal_string(4)
                        ),
                        None => "this parameter is a length in mm, not an area: give a length, e.g. `5 mm`".into(),
                    });
                }
                s => {
                    // a unit of the language, of the wrong kind, or a word it does not know
                    const KNOWN: &[&str] = &[
                        "mm", "mm2", "ml", "mg/day", "day", "days", "week", "weeks", "month",
                        "months", "%",
                    ];
                    let what = if KNOWN.contains(&s) {
                        format!("`{s}` is not a unit of {type_text}")
                    } else {
                        format!("`{s}` is not a unit irano knows")
                    };
                    return Err(if u == Unit::One {
                        what
                    } else {
                        let unit = u.name();
                        if u == Unit::Days {
                            format!("{what}: a days parameter is written `{num} days` or `{num} weeks`")
                        } else {
                            format!("{what}: write `{num} {unit}`")
                        }
                    });
                }
            }
            if type_text == "count" && r.denom() != 1 {
                return Err("expected a whole number".into());
            }
            if matches!(u, Unit::Days | Unit::Months) && r.denom() != 1 {
                return Err(format!(
                    "days and months are whole numbers: `{}` {} is not (a week is 7 days)",
                    r.to_decimal_string(4),
                    u.name()
                ));
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
                None => Err(
                    match crate::diag::closest(t, variants.iter().map(String::as_str)) {
                        Some(c) => format!(
                            "did you mean `{c}`? expected one of {}",
                            backticked(variants, ", ")
                        ),
                        None => format!("expected one of {}", backticked(variants, ", ")),
                    },
                ),
            }
        }
        Base::Date => chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map(Value::Date)
            .map_err(|_| "expected a date YYYY-MM-DD".into()),
        _ => Err("this parameter cannot be set from the command line".into()),
    }
}

fn split_unit(t: &str) -> (&str, &str) {
    let mut end = t
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.' || *c == '-' || *c == '+'))
        .map(|(i, _)| i)
        .unwrap_or(t.len());
    // a decimal exponent belongs to the number (`1e1`, `2.5E-1`), as in case files
    if let Some(rest) = t.get(end..).and_then(|r| r.strip_prefix(['e', 'E'])) {
        let digits = rest.strip_prefix(['+', '-']).unwrap_or(rest);
        let n = digits.bytes().take_while(u8::is_ascii_digit).count();
        if n > 0 {
            end = t.len() - digits.len() + n;
        }
    }
    let (a, b) = t.split_at(end);
    (a.trim(), b.trim())
}

/// The exact square root of a non-negative rational whose numerator and denominator are
/// both perfect squares (`25` -> `5`, `6.25` -> `2.5`); `None` otherwise.
fn exact_square_root(r: Rational) -> Option<Rational> {
    fn isqrt(n: i128) -> Option<i128> {
        if n < 0 {
            return None;
        }
        // Newton's method on integers: x falls to the floor of the square root
        let (mut x, mut y) = (n, n / 2 + 1);
        while y < x {
            x = y;
            y = (x + n / x) / 2;
        }
        (x.checked_mul(x) == Some(n)).then_some(x)
    }
    Rational::new(isqrt(r.numer())?, isqrt(r.denom())?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::EnumId;

    fn num(text: &str, ty: Ty, type_text: &str) -> Result<Value, String> {
        parse_override(text, ty, type_text, &[])
    }

    fn r(s: &str) -> Value {
        Value::Num(s.parse().unwrap())
    }

    #[test]
    fn set_values_are_read_in_the_parameter_unit() {
        let days = Ty::num(Unit::Days);
        // a quantity without its unit is refused, as in a rule file (`8` meant as weeks)
        let e = num("28", days, "days").unwrap_err();
        assert!(e.contains("`28 days`") && e.contains("weeks"), "{e}");
        assert_eq!(num("28 days", days, "days"), Ok(r("28")));
        assert_eq!(num("4 weeks", days, "days"), Ok(r("28")));
        assert_eq!(num("8", days, "weeks"), Ok(r("56")));
        assert_eq!(num("8 weeks", days, "weeks"), Ok(r("56")));
        assert_eq!(num("56 days", days, "weeks"), Ok(r("56")));
        let pct = Ty::num(Unit::One);
        assert!(num("30", pct, "percent").is_err());
        assert!(num("0.25", pct, "percent").unwrap_err().contains("`25%`"));
        assert_eq!(num("30%", pct, "percent"), Ok(r("0.3")));
        assert!(num("2 weeks", Ty::num(Unit::Months), "months").is_err());
        assert!(num("1 month", days, "days").is_err());
        assert!(num("4.5", Ty::num(Unit::MgPerDay), "mg/day").is_err());
        assert_eq!(
            num("4.5 mg/day", Ty::num(Unit::MgPerDay), "mg/day"),
            Ok(r("4.5"))
        );
        // a wrong unit is answered with the right way to write the value
        assert_eq!(
            num("1.5mg", Ty::num(Unit::MgPerDay), "mg/day"),
            Err("`mg` is not a unit irano knows: write `1.5 mg/day`".into())
        );
        assert!(num("4 mm", days, "days").is_err());
        // an abbreviation of weeks is answered with both readings
        assert_eq!(
            num("8w", days, "days"),
            Err(
                "`w` is not a unit irano knows: a days parameter is written `8 days` or `8 weeks`"
                    .into()
            )
        );
        // a number above 1 is not a fraction: one suggestion
        assert_eq!(
            num("20", pct, "percent"),
            Err("a percent is written with `%`: `20%`".into())
        );
        assert!(num("six", Ty::num(Unit::Months), "months").is_err());
        assert!(num("2.5", pct, "count").is_err());
        // a date moves by whole days and months
        assert!(num("28.5 days", days, "days")
            .unwrap_err()
            .contains("whole"));
        assert!(num("4.5 weeks", days, "days").unwrap_err().contains("31.5"));
        assert_eq!(
            num("4.5 weeks", days, "weeks"),
            Err("days and months are whole numbers: `31.5` days is not (a week is 7 days)".into())
        );
        assert!(num("2.5", Ty::num(Unit::Months), "months").is_err());
        // an exponent is part of the number, as in case files; a unit may follow it
        assert_eq!(num("1e1", pct, "number"), Ok(r("10")));
        assert_eq!(num("2.5E-1", pct, "number"), Ok(r("0.25")));
        assert_eq!(
            num("1e1 mg/day", Ty::num(Unit::MgPerDay), "mg/day"),
            Ok(r("10"))
        );
        assert!(num("4 e", pct, "number").is_err());
        // a word or nothing is answered with an example in the parameter's unit
        assert_eq!(
            num("forty", pct, "percent"),
            Err("expected a number, e.g. `40%`".into())
        );
        assert_eq!(
            num("", days, "days"),
            Err("expected a number of days, e.g. `28 days` or `8 weeks`".into())
        );
        // quotes, as YAML or a shell writes them, are said when the bare value reads
        assert_eq!(
            num("\"40%\"", pct, "percent"),
            Err("write the value without quotes: `40%`".into())
        );
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
        assert_eq!(
            parse_override("days_183", ty, "{calendar, days_182}", &enums),
            Err("did you mean `days_182`? expected one of `calendar`, `days_182`".into())
        );
        assert_eq!(
            parse_override("'calendar'", ty, "{calendar, days_182}", &enums),
            Err("write the value without quotes: `calendar`".into())
        );
        assert_eq!(
            parse_override("true", Ty::BOOL, "bool", &[]),
            Ok(Value::Bool(true))
        );
        assert!(parse_override("yes", Ty::BOOL, "bool", &[]).is_err());
    }

    #[test]
    fn square_roots_are_exact_or_none() {
        let r = |t: &str| t.parse::<Rational>().unwrap();
        assert_eq!(super::exact_square_root(r("25")), Some(r("5")));
        assert_eq!(super::exact_square_root(r("6.25")), Some(r("2.5")));
        assert_eq!(super::exact_square_root(r("20")), None);
        assert_eq!(super::exact_square_root(r("-4")), None);
        assert_eq!(super::exact_square_root(r("0")), Some(r("0")));
        assert_eq!(super::exact_square_root(r("1")), Some(r("1")));
    }
}
