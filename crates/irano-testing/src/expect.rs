//! Checking a result against the outcome a case expects (`x-expect`).

use std::fmt;

use irano_evaluate::{CaseResult, Fired};

use crate::annotations::Expect;

/// One expectation that does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// What was compared: `best_overall_response`, `response of scan 3 (2025-05-26)`, ...
    pub what: String,
    pub expected: String,
    pub got: String,
    /// What decided the value that was got: `rule irano.upd.interim`, `not graded: ...`.
    pub decided_by: Option<String>,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.got.is_empty() {
            // a statement of its own (`x-exercises`), not a value against a value
            write!(f, "{}: {}", self.what, self.expected)?;
        } else {
            write!(
                f,
                "{}: expected {}, got {}",
                self.what, self.expected, self.got
            )?;
        }
        if let Some(d) = &self.decided_by {
            write!(f, "  ({d})")?;
        }
        Ok(())
    }
}

fn shown(v: Option<&str>) -> String {
    v.unwrap_or("none").to_string()
}

/// The key of a `set` entry of a fired rule (`pd_date = 2024-03-04` -> `pd_date`).
fn sets(f: &Fired, key: &str) -> bool {
    f.set
        .iter()
        .any(|s| s.split_once(" = ").is_some_and(|(k, _)| k == key))
}

/// Compares `r` with `e`; every expectation that does not hold, in the order of
/// [`Expect`]'s fields.
pub fn check(e: &Expect, r: &CaseResult) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let n = r.assessments.len();
    let scan = |i: usize| {
        let date = r
            .assessments
            .get(i)
            .map(|a| a.date.to_string())
            .unwrap_or_default();
        format!("scan {} ({date})", i + 1)
    };
    let count = |field: &str, want: usize, out: &mut Vec<Mismatch>| {
        if want != n {
            out.push(Mismatch {
                what: field.to_string(),
                expected: format!("{want} entries, one per scan"),
                got: format!("{n} scans in the case"),
                decided_by: None,
            });
        }
    };

    if let Some(want) = &e.responses {
        count("responses", want.len(), &mut out);
        for (i, (w, a)) in want.iter().zip(&r.assessments).enumerate() {
            // a label may be expected by its declared or its native name
            let native =
                a.response_native.is_some() && w.as_deref() == a.response_native.as_deref();
            if w.as_deref() != a.response.as_deref() && !native {
                let decided_by = match (&a.rule, &a.reason) {
                    (Some(rule), _) => Some(format!("rule {rule}")),
                    (None, Some(reason)) => Some(reason.clone()),
                    _ => None,
                };
                out.push(Mismatch {
                    what: format!("response of {}", scan(i)),
                    expected: shown(w.as_deref()),
                    got: shown(a.response.as_deref()),
                    decided_by,
                });
            }
        }
    }
    if let Some(want) = &e.decisions {
        count("decisions", want.len(), &mut out);
        for (i, (w, a)) in want.iter().zip(&r.assessments).enumerate() {
            if w.as_deref() != a.decision.as_deref() {
                let decided_by = a
                    .fired
                    .iter()
                    .find(|f| sets(f, "decision"))
                    .map(|f| format!("rule {}", f.rule));
                out.push(Mismatch {
                    what: format!("decision of {}", scan(i)),
                    expected: shown(w.as_deref()),
                    got: shown(a.decision.as_deref()),
                    decided_by,
                });
            }
        }
    }
    if let Some(want) = &e.rules {
        count("rules", want.len(), &mut out);
        for (i, (w, a)) in want.iter().zip(&r.assessments).enumerate() {
            if w.is_some() && w.as_deref() != a.rule.as_deref() {
                out.push(Mismatch {
                    what: format!("rule of {}", scan(i)),
                    expected: shown(w.as_deref()),
                    got: shown(a.rule.as_deref()),
                    decided_by: a.response.as_ref().map(|x| format!("response {x}")),
                });
            }
        }
    }

    // summary outputs: the rule that decided each
    let summary_rule = |key: &str| {
        r.summary
            .iter()
            .rev()
            .find(|f| sets(f, key))
            .map(|f| format!("rule {}", f.rule))
    };
    // state set on scans, possibly changed by the summary: the last rule that set it
    let state_rule = |key: &str| {
        let on_scans = r.assessments.iter().rev().find_map(|a| {
            a.fired
                .iter()
                .rev()
                .find(|f| sets(f, key))
                .map(|f| format!("rule {} on {}", f.rule, a.date))
        });
        summary_rule(key)
            .or(on_scans)
            .or_else(|| Some("no rule set it".to_string()))
    };
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string());
    // (field, expected, got, what decided it)
    let summary = [
        (
            "best_overall_response",
            &e.best_overall_response,
            r.best_overall_response.clone(),
            summary_rule("best_overall_response"),
        ),
        (
            "pd_date",
            &e.pd_date,
            date(r.pd_date),
            state_rule("pd_date"),
        ),
        (
            "pd_confirmed_on",
            &e.pd_confirmed_on,
            date(r.pd_confirmed_on),
            state_rule("pd_confirmed_on"),
        ),
        (
            "final_decision",
            &e.final_decision,
            r.final_decision.clone(),
            summary_rule("final_decision"),
        ),
    ];
    for (what, want, got, decided_by) in summary {
        if let Some(want) = want {
            let native = what == "best_overall_response"
                && r.best_overall_response_native.is_some()
                && want == &r.best_overall_response_native;
            if want != &got && !native {
                out.push(Mismatch {
                    what: what.to_string(),
                    expected: shown(want.as_deref()),
                    got: shown(got.as_deref()),
                    decided_by,
                });
            }
        }
    }
    out
}

/// The rules `x-exercises` names that fired on no scan and in no summary table of `r`: a
/// case that claims to exercise a rule the criterion never reached tests something else.
pub fn not_exercised(exercises: &[String], r: &CaseResult) -> Vec<Mismatch> {
    exercises
        .iter()
        .filter(|id| !r.fired_rules().any(|f| f.rule == **id))
        .map(|id| Mismatch {
            what: "x-exercises".to_string(),
            expected: format!(
                "rule {id} fired on no scan and in no summary table; name only rules the case makes fire"
            ),
            got: String::new(),
            decided_by: None,
        })
        .collect()
}
