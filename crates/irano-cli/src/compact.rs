//! Results as one line of JSON, written straight into the output text: the bytes
//! `serde_json::to_string` gives for the same result (the tests below compare the two on
//! every kind of field), without serde's per-field machinery and with a string escape
//! that copies clean runs whole. A cohort's JSON Lines output is mostly this.

use chrono::NaiveDate;
use irano_evaluate::{
    CaseResult, Data, Fired, LesionChoice, NumberValue, ParamValue, ScanRole, ShownValue, Trace,
};
use serde_json::ser::Formatter;

/// The result as one line of compact JSON (no newline) at the given trace level: the
/// full result, or the lean view of `crate::json` (rule ids and reasons for `rules`,
/// neither for `none`).
pub fn result(s: &mut String, r: &CaseResult, trace: Trace) {
    let full = trace == Trace::Full;
    let rules = trace == Trace::Rules;
    str_field(s, true, "patient", &r.patient);
    key(s, false, "criterion");
    str_field(s, true, "id", &r.criterion.id);
    str_field(s, false, "version", &r.criterion.version);
    s.push('}');
    key(s, false, "assessments");
    list(s, &r.assessments, |s, a| {
        key(s, true, "date");
        date(s, a.date);
        key(s, false, "day");
        int(s, a.day);
        key(s, false, "role");
        s.push_str(role(a.role));
        opt_field(s, "response", a.response.as_deref());
        if let Some(n) = &a.response_native {
            str_field(s, false, "response_native", n);
        }
        opt_field(s, "decision", a.decision.as_deref());
        for (name, v, on) in [
            ("rule", &a.rule, full || rules),
            ("explain", &a.explain, full),
            ("reason", &a.reason, full || rules),
            ("because", &a.because, full || rules),
        ] {
            if let Some(v) = v.as_deref().filter(|_| on) {
                str_field(s, false, name, v);
            }
        }
        key(s, false, "values");
        values(s, &a.values);
        if full {
            key(s, false, "fired");
            list(s, &a.fired, fired);
        }
        s.push('}');
    });
    opt_field(
        s,
        "best_overall_response",
        r.best_overall_response.as_deref(),
    );
    if let Some(n) = &r.best_overall_response_native {
        str_field(s, false, "best_overall_response_native", n);
    }
    key(s, false, "pd_date");
    opt_date(s, r.pd_date);
    key(s, false, "pd_confirmed_on");
    opt_date(s, r.pd_confirmed_on);
    opt_field(s, "final_decision", r.final_decision.as_deref());
    if full {
        key(s, false, "summary");
        list(s, &r.summary, fired);
    } else if rules {
        key(s, false, "summary");
        list(s, &r.summary, |s, f| {
            str_field(s, true, "table", &f.table);
            str_field(s, false, "rule", &f.rule);
            s.push('}');
        });
    }
    if let Some(l) = &r.lesions {
        key(s, false, "lesions");
        lesions(s, l);
    }
    if !r.overrides.is_empty() {
        key(s, false, "overrides");
        list(s, &r.overrides, param);
    }
    if !r.units.is_empty() {
        key(s, false, "units");
        for (k, (name, unit)) in r.units.iter().enumerate() {
            s.push(if k == 0 { '{' } else { ',' });
            string(s, name);
            s.push(':');
            string(s, unit);
        }
        s.push('}');
    }
    s.push('}');
}

/// `"name":` after the `{` that opens an object (`first`) or after a `,`; `name` is one of
/// the result's field names, which need no escaping.
fn key(s: &mut String, first: bool, name: &str) {
    s.push_str(if first { "{\"" } else { ",\"" });
    s.push_str(name);
    s.push_str("\":");
}

fn str_field(s: &mut String, first: bool, name: &str, v: &str) {
    key(s, first, name);
    string(s, v);
}

/// A later field that is `null` when absent.
fn opt_field(s: &mut String, name: &str, v: Option<&str>) {
    key(s, false, name);
    match v {
        Some(v) => string(s, v),
        None => s.push_str("null"),
    }
}

/// `[a,b,...]`, each element written by `each`.
fn list<T>(s: &mut String, items: &[T], mut each: impl FnMut(&mut String, &T)) {
    s.push('[');
    for (k, x) in items.iter().enumerate() {
        if k > 0 {
            s.push(',');
        }
        each(s, x);
    }
    s.push(']');
}

fn role(r: ScanRole) -> &'static str {
    match r {
        ScanRole::PreBaseline => "\"pre_baseline\"",
        ScanRole::Baseline => "\"baseline\"",
        ScanRole::Followup => "\"followup\"",
        ScanRole::NotGraded => "\"not_graded\"",
    }
}

fn fired(s: &mut String, f: &Fired) {
    str_field(s, true, "table", &f.table);
    str_field(s, false, "rule", &f.rule);
    str_field(s, false, "cite", &f.cite);
    if let Some(b) = &f.because {
        str_field(s, false, "because", b);
    }
    str_field(s, false, "explain", &f.explain);
    key(s, false, "set");
    list(s, &f.set, |s, x| string(s, x));
    s.push('}');
}

fn lesions(s: &mut String, l: &LesionChoice) {
    key(s, true, "targets");
    list(s, &l.targets, |s, x| string(s, x));
    key(s, false, "non_targets");
    list(s, &l.non_targets, |s, x| string(s, x));
    str_field(s, false, "rule", &l.rule);
    s.push('}');
}

fn param(s: &mut String, p: &ParamValue) {
    str_field(s, true, "name", &p.name);
    str_field(s, false, "value", &p.value);
    str_field(s, false, "default", &p.default);
    s.push('}');
}

/// As `irano_evaluate::values_as_map`.
fn values(s: &mut String, values: &[ShownValue]) {
    s.push('{');
    for (k, v) in values.iter().enumerate() {
        if k > 0 {
            s.push(',');
        }
        string(s, &v.name);
        s.push(':');
        match (&v.data, &v.value) {
            (_, None) => s.push_str("null"),
            (Data::Bool(b), _) => s.push_str(if *b { "true" } else { "false" }),
            (Data::Number(n), _) => {
                match n.value {
                    NumberValue::Int(i) => int(s, i),
                    NumberValue::Float(f) => float(s, f),
                }
                if let Some(x) = &n.exact {
                    s.push_str(",\"");
                    escaped(s, &v.name);
                    s.push_str(irano_check::program::EXACT_SUFFIX);
                    s.push_str("\":");
                    string(s, x);
                }
            }
            (Data::Text, Some(t)) => string(s, t),
        }
    }
    s.push('}');
}

fn opt_date(s: &mut String, d: Option<NaiveDate>) {
    match d {
        Some(d) => date(s, d),
        None => s.push_str("null"),
    }
}

/// `"YYYY-MM-DD"`, quoted, as serde writes a chrono date.
fn date(s: &mut String, d: NaiveDate) {
    s.push('"');
    irano_exact::push_iso_date(s, d);
    s.push('"');
}

fn int(s: &mut String, i: i64) {
    formatted(s, |w| serde_json::ser::CompactFormatter.write_i64(w, i));
}

/// A float as serde_json writes it (its own formatter); `null` when not finite.
fn float(s: &mut String, f: f64) {
    if f.is_finite() {
        formatted(s, |w| serde_json::ser::CompactFormatter.write_f64(w, f));
    } else {
        s.push_str("null");
    }
}

/// The text one of serde_json's number writers gives, through a stack buffer.
fn formatted(
    s: &mut String,
    write: impl FnOnce(&mut std::io::Cursor<&mut [u8]>) -> std::io::Result<()>,
) {
    let mut buf = [0u8; 40];
    let mut w = std::io::Cursor::new(&mut buf[..]);
    if write(&mut w).is_ok() {
        let n = w.position() as usize;
        s.push_str(std::str::from_utf8(buf.get(..n).unwrap_or_default()).unwrap_or_default());
    }
}

fn string(s: &mut String, v: &str) {
    s.push('"');
    escaped(s, v);
    s.push('"');
}

/// True when an 8-byte word holds a byte below 0x20, a `"` or a `\`.
fn needs_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // a byte below `n` sets its high bit in `(x - n) & !x` (no false negative)
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x;
    // a byte equal to `b` is a zero byte of `w ^ b`, i.e. below 1
    let equal = |b: u8| below(w ^ (ONES * u64::from(b)), 1);
    (below(w, 0x20) | equal(b'"') | equal(b'\\')) & HIGH != 0
}

/// The text of a JSON string, escaped as serde_json escapes it: `"`, `\` and control
/// characters only (`\b \f \n \r \t`, others `\u00XX`).
fn escaped(s: &mut String, v: &str) {
    let bytes = v.as_bytes();
    // the clean prefix, eight bytes at a time (a word test can report a byte that is
    // clean; the byte loop below then decides)
    let mut clean = 0;
    while let Some(Ok(w)) = bytes.get(clean..clean + 8).map(<[u8; 8]>::try_from) {
        if needs_escape(u64::from_le_bytes(w)) {
            break;
        }
        clean += 8;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate().skip(clean) {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        s.push_str(v.get(start..i).unwrap_or_default());
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            s.push_str("\\u00");
            s.push(char::from(
                HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0'),
            ));
            s.push(char::from(
                HEX.get(usize::from(b & 15)).copied().unwrap_or(b'0'),
            ));
        } else {
            s.push_str(esc);
        }
        start = i + 1;
    }
    s.push_str(v.get(start..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;
    use irano_evaluate::{AssessmentResult, CriterionRef, Number};

    fn texts() -> Vec<String> {
        let mut t: Vec<String> = vec![
            String::new(),
            "plain".into(),
            "exactly8".into(),
            "a \"quoted\" word and a back\\slash".into(),
            "line\nbreak\r\ttab\u{8}\u{c}\u{1}\u{1f}\u{7f} end".into(),
            "é ü 中文 🙂 and \"".into(),
            "0123456789abcdef\"0123456789abcdef\\".into(),
        ];
        for b in 0u8..0x80 {
            t.push(format!("prefix-{}-suffix", char::from(b)));
            t.push(format!("{}", char::from(b)).repeat(9));
        }
        t
    }

    fn shown(name: &str, value: Option<&str>, data: Data) -> ShownValue {
        ShownValue {
            name: name.into(),
            value: value.map(str::to_string),
            data,
        }
    }

    fn number(value: NumberValue, exact: Option<&str>) -> Data {
        Data::Number(Number {
            value,
            exact: exact.map(str::to_string),
            unit: "",
        })
    }

    fn sample(text: &str, d: NaiveDate) -> CaseResult {
        let fired = Fired {
            table: "response".into(),
            rule: text.into(),
            cite: format!("cite {text}"),
            because: Some(text.into()),
            explain: format!("{text} = 1"),
            set: vec![text.into(), "pd_date = 2025-01-02".into()],
        };
        let mut quiet = fired.clone();
        quiet.because = None;
        quiet.set = Vec::new();
        let values = vec![
            shown("absent", None, Data::Text),
            shown("flag", Some("true"), Data::Bool(true)),
            shown("off", Some("false"), Data::Bool(false)),
            shown("bool_without_text", None, Data::Bool(true)),
            shown("count", Some("3"), number(NumberValue::Int(-3), None)),
            shown("big", Some("x"), number(NumberValue::Int(i64::MIN), None)),
            shown(
                "burden",
                Some("524.22 mm2"),
                number(NumberValue::Float(524.22), None),
            ),
            shown(
                "change",
                Some("~16.02"),
                number(NumberValue::Float(16.02), Some("140000/8737")),
            ),
            shown("tiny", Some("x"), number(NumberValue::Float(1e-7), None)),
            shown("huge", Some("x"), number(NumberValue::Float(1.5e300), None)),
            shown(
                "neg_zero",
                Some("x"),
                number(NumberValue::Float(-0.0), None),
            ),
            shown("nan", Some("x"), number(NumberValue::Float(f64::NAN), None)),
            shown(
                "inf",
                Some("x"),
                number(NumberValue::Float(f64::INFINITY), None),
            ),
            shown(text, Some(text), Data::Text),
        ];
        let scan = |role, response: Option<&str>, native: Option<&str>| AssessmentResult {
            date: d,
            day: -7,
            role,
            response: response.map(str::to_string),
            response_native: native.map(str::to_string),
            decision: Some("CONTINUE".into()),
            rule: Some(text.into()),
            explain: Some(format!("explained: {text}")),
            reason: Some(format!("reason: {text}")),
            because: Some(format!("because: {text}")),
            values: values.clone(),
            fired: vec![fired.clone(), quiet.clone()],
        };
        let mut bare = scan(ScanRole::NotGraded, None, None);
        bare.decision = None;
        bare.rule = None;
        bare.explain = None;
        bare.reason = None;
        bare.because = None;
        bare.values = Vec::new();
        bare.fired = Vec::new();
        CaseResult {
            patient: text.into(),
            criterion: CriterionRef {
                id: "crit".into(),
                version: text.into(),
            },
            assessments: vec![
                scan(ScanRole::PreBaseline, None, None),
                scan(ScanRole::Baseline, Some("SD"), None),
                scan(ScanRole::Followup, Some("UPD"), Some("iUPD")),
                bare,
            ],
            best_overall_response: Some(text.into()),
            best_overall_response_native: Some("iSD".into()),
            pd_date: Some(d),
            pd_confirmed_on: None,
            final_decision: None,
            summary: vec![fired, quiet],
            lesions: Some(LesionChoice {
                targets: vec![text.into(), "T2".into()],
                non_targets: Vec::new(),
                rule: text.into(),
            }),
            overrides: vec![ParamValue {
                name: text.into(),
                value: "1".into(),
                default: "2".into(),
            }],
            units: vec![("burden".into(), "mm2"), (text.into(), "mm")],
        }
    }

    fn bare(r: &CaseResult) -> CaseResult {
        let mut r = r.clone();
        r.best_overall_response = None;
        r.best_overall_response_native = None;
        r.pd_date = None;
        r.final_decision = Some("DISCONTINUE".into());
        r.summary = Vec::new();
        r.lesions = None;
        r.overrides = Vec::new();
        r.units = Vec::new();
        r
    }

    /// Every field, every trace level, every escape class and odd dates and numbers:
    /// the same bytes as serde_json.
    #[test]
    fn writes_what_serde_json_writes() {
        let dates = [
            NaiveDate::from_ymd_opt(2025, 3, 4),
            NaiveDate::from_ymd_opt(1, 1, 1),
            NaiveDate::from_ymd_opt(9999, 12, 31),
            NaiveDate::from_ymd_opt(10000, 1, 1),
            NaiveDate::from_ymd_opt(-44, 3, 15),
        ];
        let mut compared = 0;
        for d in dates.into_iter().flatten() {
            for t in texts() {
                let r = sample(&t, d);
                for r in [r.clone(), bare(&r)] {
                    for trace in [Trace::Full, Trace::Rules, Trace::None] {
                        let mut mine = String::new();
                        result(&mut mine, &r, trace);
                        let mut theirs = String::new();
                        crate::json::line_with_serde(&mut theirs, &r, trace);
                        assert_eq!(mine, theirs, "{trace:?} {t:?} {d}");
                        compared += 1;
                    }
                }
            }
        }
        assert!(compared > 1000, "{compared}");
    }

    /// The word test finds each byte that needs escaping at every position of a word.
    #[test]
    fn the_word_test_finds_every_byte_that_needs_escaping() {
        for b in 0u8..=255 {
            for at in 0..8 {
                let mut w = [b'a'; 8];
                if let Some(x) = w.get_mut(at) {
                    *x = b;
                }
                let must = b < 0x20 || b == b'"' || b == b'\\';
                if must {
                    assert!(needs_escape(u64::from_le_bytes(w)), "{b:#x} at {at}");
                }
            }
        }
        assert!(!needs_escape(u64::from_le_bytes(*b"abcdefgh")));
    }
}
