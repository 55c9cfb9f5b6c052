//! Results as JSON at each trace level: the full result (every fired rule and what it
//! compared), the deciding rules only, or labels and values only.

use chrono::NaiveDate;
use serde::Serialize;

use irano_evaluate::{
    values_as_map, CaseResult, CriterionRef, LesionChoice, ParamValue, ScanRole, ShownValue, Trace,
};

/// A result without the trace text.
#[derive(Serialize)]
struct Lean<'a> {
    patient: &'a str,
    criterion: &'a CriterionRef,
    assessments: Vec<LeanScan<'a>>,
    best_overall_response: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    best_overall_response_native: Option<&'a str>,
    pd_date: Option<NaiveDate>,
    pd_confirmed_on: Option<NaiveDate>,
    final_decision: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<Vec<LeanRule<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lesions: Option<&'a LesionChoice>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    overrides: &'a [ParamValue],
    #[serde(
        skip_serializing_if = "<[_]>::is_empty",
        serialize_with = "irano_evaluate::units_as_map"
    )]
    units: &'a [(String, &'static str)],
}

#[derive(Serialize)]
struct LeanScan<'a> {
    date: NaiveDate,
    day: i64,
    role: ScanRole,
    response: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_native: Option<&'a str>,
    decision: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    because: Option<&'a str>,
    #[serde(serialize_with = "values_as_map")]
    values: &'a [ShownValue],
}

#[derive(Serialize)]
struct LeanRule<'a> {
    table: &'a str,
    rule: &'a str,
}

fn lean(r: &CaseResult, trace: Trace) -> Lean<'_> {
    let rules = trace == Trace::Rules;
    Lean {
        patient: &r.patient,
        criterion: &r.criterion,
        assessments: r
            .assessments
            .iter()
            .map(|a| LeanScan {
                date: a.date,
                day: a.day,
                role: a.role,
                response: a.response.as_deref(),
                response_native: a.response_native.as_deref(),
                decision: a.decision.as_deref(),
                rule: a.rule.as_deref().filter(|_| rules),
                reason: a.reason.as_deref().filter(|_| rules),
                because: a.because.as_deref().filter(|_| rules),
                values: &a.values,
            })
            .collect(),
        best_overall_response: r.best_overall_response.as_deref(),
        best_overall_response_native: r.best_overall_response_native.as_deref(),
        pd_date: r.pd_date,
        pd_confirmed_on: r.pd_confirmed_on,
        final_decision: r.final_decision.as_deref(),
        summary: rules.then(|| {
            r.summary
                .iter()
                .map(|f| LeanRule {
                    table: &f.table,
                    rule: &f.rule,
                })
                .collect()
        }),
        lesions: r.lesions.as_ref(),
        overrides: &r.overrides,
        units: &r.units,
    }
}

/// The result as indented JSON.
pub fn pretty(r: &CaseResult, trace: Trace) -> String {
    let t = match trace {
        Trace::Full => serde_json::to_string_pretty(r),
        _ => serde_json::to_string_pretty(&lean(r, trace)),
    };
    t.unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// The result as one line of JSON through serde_json: what [`crate::compact::result`], which
/// writes the JSON Lines output, must write (its tests compare the two).
#[cfg(test)]
pub(crate) fn line_with_serde(s: &mut String, r: &CaseResult, trace: Trace) {
    let t = match trace {
        Trace::Full => serde_json::to_string(r),
        _ => serde_json::to_string(&lean(r, trace)),
    };
    s.push_str(&t.unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")));
}
