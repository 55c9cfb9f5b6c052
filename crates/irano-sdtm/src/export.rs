//! Derived responses out: SDTM RS rows and an ADaM-style per-parameter dataset (CSV).

use irano_evaluate::CaseResult;

use crate::import::Imported;
use crate::mapping::Mapping;

/// What the export writes besides the results.
pub struct ExportSpec<'a> {
    /// RSCAT: the rule file's `cdisc_category`.
    pub rscat: &'a str,
    /// RSEVAL of every row (the mapping's `rseval`, e.g. `COMPUTER ALGORITHM`).
    pub rseval: &'a str,
}

fn csv_text(header: &[&str], rows: &[Vec<String>]) -> Result<String, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).map_err(|e| e.to_string())?;
    for r in rows {
        w.write_record(r).map_err(|e| e.to_string())?;
    }
    let bytes = w.into_inner().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

/// SDTM RS rows: one `OVRLRESP` per graded scan. `RSSPID` names the evaluator whose
/// TR records the response was derived from.
pub fn rs_rows(
    imported: &Imported,
    results: &[CaseResult],
    map: &Mapping,
    spec: &ExportSpec<'_>,
) -> Result<String, String> {
    let header = [
        "STUDYID", "DOMAIN", "USUBJID", "RSSEQ", "RSSPID", "RSTESTCD", "RSTEST", "RSCAT",
        "RSORRES", "RSSTRESC", "RSEVAL", "VISITNUM", "VISIT", "RSDTC", "RSDY",
    ];
    let mut rows = Vec::new();
    let mut seq: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (case, result) in imported.cases.iter().zip(results) {
        for (visit, a) in case.visits.iter().zip(&result.assessments) {
            let Some(label) = &a.response else {
                continue;
            };
            let n = seq.entry(case.usubjid.as_str()).or_insert(0);
            *n += 1;
            let value = written(map, label, a.response_native.as_deref());
            // SDTM study day: day 1 is the reference start (DM RFSTDTC, else the therapy
            // start), there is no day 0 (empty for a partial date: the day is not known)
            let day = match case.reference_start {
                Some(r) => irano_exact::days_between(r, visit.date),
                None => a.day,
            };
            // a date-time (`2024-02-12T10:30`) gives its day; a partial date does not
            let full_date = visit.dtc.get(..10) == Some(visit.date.to_string().as_str());
            let dy = if !full_date {
                String::new()
            } else if day >= 0 {
                (day + 1).to_string()
            } else {
                day.to_string()
            };
            rows.push(vec![
                case.studyid.clone(),
                "RS".into(),
                case.usubjid.clone(),
                n.to_string(),
                case.evaluator.clone(),
                map.response_test.clone(),
                map.response_test_name.clone(),
                spec.rscat.to_string(),
                value.clone(),
                value,
                spec.rseval.to_string(),
                visit.visitnum.clone(),
                visit.visit.clone(),
                visit.dtc.clone(),
                dy,
            ]);
        }
    }
    csv_text(&header, &rows)
}

/// The ADaM-style dataset: per case, `OVR` per graded visit, `CBOR` (the rule file's
/// best overall response as configured), `BOR` (from `unconfirmed`, when given) and
/// `PD` (Y/N with the progression date). `PARCAT2` and `PARCAT3` are the id and version
/// of the rule file that derived the row (an amendment's own, not its base's).
pub fn adam_rows(
    imported: &Imported,
    results: &[CaseResult],
    unconfirmed: Option<&[CaseResult]>,
    map: &Mapping,
    spec: &ExportSpec<'_>,
) -> Result<String, String> {
    let header = [
        "STUDYID", "USUBJID", "SRCEVAL", "PARAMCD", "PARAM", "PARCAT1", "AVALC", "ADT", "ADTF",
        "VISIT", "VISITNUM", "RULE", "PARCAT2", "PARCAT3",
    ];
    let mut rows = Vec::new();
    for (i, (case, result)) in imported.cases.iter().zip(results).enumerate() {
        // ADT, and its imputation flag when it was read from a partial TRDTC
        let row = |kind: &str,
                   avalc: String,
                   adt: Option<chrono::NaiveDate>,
                   visit: (&str, &str),
                   rule: String| {
            let flag = adt
                .and_then(|d| case.visits.iter().find(|v| v.date == d))
                .map_or("", |v| date_imputation_flag(&v.dtc));
            vec![
                case.studyid.clone(),
                case.usubjid.clone(),
                case.evaluator.clone(),
                map.adam_param(kind).0,
                map.adam_param(kind).1,
                spec.rscat.to_string(),
                avalc,
                adt.map(|d| d.to_string()).unwrap_or_default(),
                flag.to_string(),
                visit.0.to_string(),
                visit.1.to_string(),
                rule,
                result.criterion.id.clone(),
                result.criterion.version.clone(),
            ]
        };
        for (visit, a) in case.visits.iter().zip(&result.assessments) {
            if let Some(label) = &a.response {
                rows.push(row(
                    "ovr",
                    written(map, label, a.response_native.as_deref()),
                    Some(a.date),
                    (&visit.visit, &visit.visitnum),
                    a.rule.clone().unwrap_or_default(),
                ));
            }
        }
        let summary_rule = |r: &CaseResult, table: &str| {
            r.summary
                .iter()
                .find(|f| f.table == table)
                .map(|f| f.rule.clone())
                .unwrap_or_default()
        };
        if let Some(u) = unconfirmed.and_then(|u| u.get(i)) {
            rows.push(row(
                "bor",
                u.best_overall_response
                    .as_deref()
                    .map(|l| written(map, l, u.best_overall_response_native.as_deref()))
                    .unwrap_or_default(),
                None,
                ("", ""),
                summary_rule(u, "best_overall_response"),
            ));
        }
        rows.push(row(
            "cbor",
            result
                .best_overall_response
                .as_deref()
                .map(|l| written(map, l, result.best_overall_response_native.as_deref()))
                .unwrap_or_default(),
            None,
            ("", ""),
            summary_rule(result, "best_overall_response"),
        ));
        rows.push(row(
            "progression",
            if result.pd_date.is_some() { "Y" } else { "N" }.into(),
            result.pd_date,
            ("", ""),
            String::new(),
        ));
    }
    csv_text(&header, &rows)
}

/// The value a response is written with: the criterion's own name for it when the rule file
/// declares `native labels` (iRECIST's `iUPD`, `NON-iCR/NON-iUPD`: the CDISC terms), else
/// the mapping's value for the canonical label.
fn written(map: &Mapping, label: &str, native: Option<&str>) -> String {
    native.map_or_else(|| map.response_value(label).to_string(), str::to_string)
}

/// ADaM's date imputation flag for a date read from `dtc`: `D` when TRDTC gave no day
/// (`2014-02`, read as the last day of the month), `M` when it gave no month either
/// (`2014`), empty for a full date.
fn date_imputation_flag(dtc: &str) -> &'static str {
    let date = dtc.split('T').next().unwrap_or("");
    match date.len() {
        7 => "D",
        4 => "M",
        _ => "",
    }
}
