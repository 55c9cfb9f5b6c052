//! One timeline under several criteria, side by side: a row per scan, a column per
//! criterion, then each criterion's summary.

use std::fmt::Write as _;

use chrono::NaiveDate;
use irano_cases::Case;
use irano_check::program::{Program, Target};
use irano_check::Diagnostic;
use irano_evaluate::{CaseResult, EvalError, Evaluator, ScanRole};
use serde::Serialize;

use crate::table::{column_widths, write_rows};

/// A criterion being compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CriterionColumn {
    /// How the criterion is named in the columns: its id (its file, when two compared
    /// files have the same id).
    pub label: String,
    pub id: String,
    pub version: String,
    /// Whether the criterion decides treatment per scan (a decision column).
    pub decisions: bool,
}

impl CriterionColumn {
    /// The columns of the given programs; `files` names them when ids repeat.
    pub fn of(programs: &[&Program], files: &[String]) -> Vec<CriterionColumn> {
        programs
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let repeated = programs
                    .iter()
                    .enumerate()
                    .any(|(j, q)| j != i && q.id == p.id);
                CriterionColumn {
                    label: match (repeated, files.get(i)) {
                        (true, Some(f)) => f.clone(),
                        _ => p.id.clone(),
                    },
                    id: p.id.clone(),
                    version: p.version.clone(),
                    decisions: p.tables.iter().any(|t| {
                        t.rules
                            .iter()
                            .any(|r| r.assigns.iter().any(|a| a.target == Target::Decision))
                    }),
                }
            })
            .collect()
    }
}

/// One patient under every criterion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub patient: String,
    pub therapy_start: NaiveDate,
    pub scans: Vec<ScanRow>,
    /// One per criterion, in the criteria's order.
    pub summary: Vec<SummaryCell>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanRow {
    pub date: NaiveDate,
    pub day: i64,
    /// One per criterion, in the criteria's order.
    pub results: Vec<Cell>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    pub criterion: String,
    pub role: ScanRole,
    /// The canonical label (as `response` of the result contract).
    pub response: Option<String>,
    /// The criterion's own name of it, when it declares native labels (`iUPD`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_native: Option<String>,
    pub decision: Option<String>,
    /// The rule that set the response.
    pub rule: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummaryCell {
    pub criterion: String,
    pub best_overall_response: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_overall_response_native: Option<String>,
    pub best_overall_response_rule: Option<String>,
    pub pd_date: Option<NaiveDate>,
    pub pd_confirmed_on: Option<NaiveDate>,
    pub final_decision: Option<String>,
    pub final_decision_rule: Option<String>,
}

fn summary_rule(r: &CaseResult, prefix: &str) -> Option<String> {
    r.summary
        .iter()
        .find(|f| f.set.iter().any(|s| s.starts_with(prefix)))
        .map(|f| f.rule.clone())
}

/// Evaluates one case with each evaluator (one per criterion, in `columns`' order); adds
/// the warnings about the case (as `eval` gives them) to `warnings`.
pub fn compare_case(
    evaluators: &mut [Evaluator<'_>],
    columns: &[CriterionColumn],
    case: &Case,
    warnings: &mut Vec<Diagnostic>,
) -> Result<Comparison, EvalError> {
    let mut results = Vec::with_capacity(evaluators.len());
    for ev in evaluators.iter_mut() {
        results.push(ev.evaluate(case)?);
    }
    let evaluated: Vec<_> = evaluators.iter().zip(&results).collect();
    warnings.extend(irano_evaluate::warnings::for_case(case, &evaluated));
    let label = |i: usize| columns.get(i).map(|c| c.label.clone()).unwrap_or_default();
    let scans = case
        .assessments
        .iter()
        .enumerate()
        .map(|(k, a)| ScanRow {
            date: a.date,
            day: (a.date - case.therapy_start).num_days(),
            results: results
                .iter()
                .enumerate()
                .filter_map(|(i, r)| {
                    r.assessments.get(k).map(|x| Cell {
                        criterion: label(i),
                        role: x.role,
                        response: x.response.clone(),
                        response_native: x.response_native.clone(),
                        decision: x.decision.clone(),
                        rule: x.rule.clone(),
                    })
                })
                .collect(),
        })
        .collect();
    let summary = results
        .iter()
        .enumerate()
        .map(|(i, r)| SummaryCell {
            criterion: label(i),
            best_overall_response: r.best_overall_response.clone(),
            best_overall_response_native: r.best_overall_response_native.clone(),
            best_overall_response_rule: summary_rule(r, "best_overall_response ="),
            pd_date: r.pd_date,
            pd_confirmed_on: r.pd_confirmed_on,
            final_decision: r.final_decision.clone(),
            final_decision_rule: summary_rule(r, "final_decision ="),
        })
        .collect();
    Ok(Comparison {
        patient: case.patient.clone(),
        therapy_start: case.therapy_start,
        scans,
        summary,
    })
}

impl Comparison {
    /// The side-by-side table: scans, then the summaries.
    pub fn to_text(&self, columns: &[CriterionColumn]) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "patient {}  ·  therapy start {}",
            self.patient, self.therapy_start
        );
        // the columns of each criterion: response, and decision when it has decisions
        let span = |c: &CriterionColumn| if c.decisions { 2 } else { 1 };
        let mut head = vec!["date".to_string(), "day".into()];
        for c in columns {
            head.push("response".into());
            if c.decisions {
                head.push("decision".into());
            }
        }
        let mut rows = vec![head];
        for r in &self.scans {
            let mut row = vec![r.date.to_string(), r.day.to_string()];
            for (i, c) in columns.iter().enumerate() {
                let cell = r.results.get(i);
                let (resp, dec) = match cell {
                    Some(x) => match x.role {
                        ScanRole::Baseline => ("baseline".to_string(), String::new()),
                        ScanRole::PreBaseline => ("pre-baseline".to_string(), String::new()),
                        ScanRole::NotGraded => ("not graded".to_string(), String::new()),
                        ScanRole::Followup => (
                            x.response_native
                                .clone()
                                .or_else(|| x.response.clone())
                                .unwrap_or_else(|| "-".into()),
                            x.decision.clone().unwrap_or_else(|| "-".into()),
                        ),
                    },
                    None => ("-".to_string(), "-".to_string()),
                };
                row.push(resp);
                if c.decisions {
                    row.push(dec);
                }
            }
            rows.push(row);
        }
        // widen each criterion's last column so that its name fits above its columns
        let mut widths = column_widths(&rows, &[]);
        let mut at = 2;
        let mut groups = Vec::new();
        for c in columns {
            let n = span(c);
            let name = format!("{} {}", c.label, c.version);
            let have: usize = (at..at + n)
                .map(|k| widths.get(k).copied().unwrap_or(0))
                .sum::<usize>()
                + 2 * (n - 1);
            let need = name.chars().count();
            if need > have {
                if let Some(w) = widths.get_mut(at + n - 1) {
                    *w += need - have;
                }
            }
            groups.push((at, n, name));
            at += n;
        }
        let lead: usize =
            widths.first().copied().unwrap_or(0) + widths.get(1).copied().unwrap_or(0) + 4;
        let mut line = " ".repeat(lead);
        for (start, n, name) in &groups {
            let w: usize = (*start..start + n)
                .map(|k| widths.get(k).copied().unwrap_or(0))
                .sum::<usize>()
                + 2 * n;
            let _ = write!(line, "{name:<w$}");
        }
        let _ = writeln!(s, "{}", line.trim_end());
        write_rows(&mut s, &rows, &[1], &widths);

        // summaries, one column per criterion
        s.push('\n');
        let with_rule = |v: &Option<String>, r: &Option<String>| match (v, r) {
            (Some(v), Some(r)) => format!("{v} ({r})"),
            (Some(v), None) => v.clone(),
            (None, _) => "-".into(),
        };
        let date = |d: &Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_else(|| "-".into());
        let mut rows = vec![{
            let mut h = vec![String::new()];
            h.extend(columns.iter().map(|c| c.label.clone()));
            h
        }];
        let row = |name: &str, f: &dyn Fn(&SummaryCell) -> String| {
            let mut row = vec![name.to_string()];
            row.extend(self.summary.iter().map(f));
            row
        };
        rows.push(row("best overall response", &|x| {
            with_rule(
                &x.best_overall_response_native
                    .clone()
                    .or_else(|| x.best_overall_response.clone()),
                &x.best_overall_response_rule,
            )
        }));
        rows.push(row("progression date", &|x| date(&x.pd_date)));
        rows.push(row("confirmed on", &|x| date(&x.pd_confirmed_on)));
        rows.push(row("final decision", &|x| {
            with_rule(&x.final_decision, &x.final_decision_rule)
        }));
        write_rows(&mut s, &rows, &[], &[]);
        s
    }
}
