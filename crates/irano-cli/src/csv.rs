//! Results as CSV (RFC 4180): one row per assessment (`--format csv`) and one row per
//! patient (`--summary FILE`). The criterion's `show` values are columns named after
//! them, with their unit in the name (`burden_mm2`); numbers are plain numbers (a value
//! that does not terminate is rounded to 2 places, as tables show it with `~`).

use std::fmt::Write as _;

use irano_check::program::{ROW_COLUMNS_AFTER_SHOWS, ROW_COLUMNS_BEFORE_SHOWS};
use irano_check::Program;
use irano_evaluate::{CaseResult, Data, ScanRole};

pub const SUMMARY_HEADER: &str =
    "patient,best_overall_response,pd_date,pd_confirmed_on,final_decision,best_overall_response_native,criterion,version,overrides\n";

pub fn assessment_header(p: &Program) -> String {
    let mut s = ROW_COLUMNS_BEFORE_SHOWS.join(",");
    for show in &p.shows {
        s.push(',');
        field(&mut s, &show.column());
    }
    for c in ROW_COLUMNS_AFTER_SHOWS {
        s.push(',');
        s.push_str(c);
    }
    s.push('\n');
    s
}

pub fn role(r: ScanRole) -> &'static str {
    match r {
        ScanRole::PreBaseline => "pre_baseline",
        ScanRole::Baseline => "baseline",
        ScanRole::Followup => "followup",
        ScanRole::NotGraded => "not_graded",
    }
}

pub fn assessment_rows(s: &mut String, p: &Program, r: &CaseResult) {
    for a in &r.assessments {
        field(s, &r.patient);
        let _ = write!(s, ",{},{},{}", a.date, a.day, role(a.role));
        for k in 0..p.shows.len() {
            s.push(',');
            let Some(v) = a.values.get(k) else { continue };
            match (&v.data, &v.value) {
                (_, None) => {}
                (Data::Number(n), _) => s.push_str(&n.json()),
                (Data::Bool(b), _) => s.push_str(if *b { "true" } else { "false" }),
                (Data::Text, Some(t)) => field(s, t),
            }
        }
        s.push(',');
        field(s, a.response.as_deref().unwrap_or(""));
        s.push(',');
        field(s, a.decision.as_deref().unwrap_or(""));
        s.push(',');
        field(s, a.rule.as_deref().unwrap_or(""));
        s.push(',');
        field(s, a.because.as_deref().unwrap_or(""));
        native_and_criterion(s, a.response_native.as_deref(), r);
        // why a scan has no response (before the baseline, not graded and why): last, so
        // that the columns before it keep their places
        s.push(',');
        field(s, a.reason.as_deref().unwrap_or(""));
        s.push('\n');
    }
}

pub fn summary_row(s: &mut String, r: &CaseResult) {
    field(s, &r.patient);
    s.push(',');
    field(s, r.best_overall_response.as_deref().unwrap_or(""));
    s.push(',');
    if let Some(d) = r.pd_date {
        let _ = write!(s, "{d}");
    }
    s.push(',');
    if let Some(d) = r.pd_confirmed_on {
        let _ = write!(s, "{d}");
    }
    s.push(',');
    field(s, r.final_decision.as_deref().unwrap_or(""));
    native_and_criterion(s, r.best_overall_response_native.as_deref(), r);
    s.push(',');
    // the parameters changed for the run, `name=value` joined by `;`
    let overrides: Vec<String> = r
        .overrides
        .iter()
        .map(|o| format!("{}={}", o.name, o.value))
        .collect();
    field(s, &overrides.join(";"));
    s.push('\n');
}

/// `,native,criterion,version`: the criterion's own label name (empty when it declares
/// none) and which rule file decided the row.
fn native_and_criterion(s: &mut String, native: Option<&str>, r: &CaseResult) {
    for v in [native.unwrap_or(""), &r.criterion.id, &r.criterion.version] {
        s.push(',');
        field(s, v);
    }
}

/// One field, quoted when it holds a comma, a quote or a line break, or starts or ends
/// with white space (R's `data.table::fread` strips it from unquoted fields, so ` S-1` and
/// `S-1` would read as one patient).
fn field(s: &mut String, v: &str) {
    if v.contains([',', '"', '\n', '\r']) || v.trim() != v {
        s.push('"');
        s.push_str(&v.replace('"', "\"\""));
        s.push('"');
    } else {
        s.push_str(v);
    }
}

#[cfg(test)]
mod tests {
    use super::field;

    fn quoted(v: &str) -> String {
        let mut s = String::new();
        field(&mut s, v);
        s
    }

    #[test]
    fn fields_are_quoted_when_a_reader_would_change_them() {
        assert_eq!(quoted("S-1"), "S-1");
        assert_eq!(quoted(" S-1"), "\" S-1\"");
        assert_eq!(quoted("S-1\t"), "\"S-1\t\"");
        assert_eq!(quoted("a,b"), "\"a,b\"");
        assert_eq!(quoted("say \"A\""), "\"say \"\"A\"\"\"");
        assert_eq!(quoted(""), "");
    }
}
