//! Recorded (RS) against derived (the rule file on the imported cases): per subject,
//! evaluator and visit.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use irano_evaluate::{CaseResult, ScanRole};
use serde::Serialize;

use crate::dataset::Dataset;
use crate::diag::SdtmDiagnostic;
use crate::import::{evaluator_of, Imported};
use crate::mapping::Mapping;

/// Why a recorded response and the derived one differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// Both exist and differ.
    Differs,
    /// The criterion does not grade this scan (after progression, before baseline): `reason`.
    NotGraded,
    /// RS has a response on a visit with no TR scan of that evaluator.
    NoScan,
    /// RS has a response for a subject and evaluator with no TR records.
    NoCase,
}

#[derive(Debug, Clone, Serialize)]
pub struct Disagreement {
    pub usubjid: String,
    pub evaluator: String,
    pub visit: String,
    pub visitnum: String,
    /// RSDTC as recorded.
    pub date: String,
    pub rsseq: String,
    /// RSSTRESC as recorded.
    pub recorded: String,
    /// Its canonical label through the mapping (the recorded text when unmapped).
    pub recorded_label: String,
    pub derived: Option<String>,
    pub class: Class,
    /// The rule that set the derived response and the values it compared.
    pub rule: Option<String>,
    pub explain: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub visits: usize,
    pub agree: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub criterion: String,
    /// Recorded responses compared.
    pub visits: usize,
    pub agree: usize,
    pub disagreements: Vec<Disagreement>,
    /// Per evaluator.
    pub by_evaluator: BTreeMap<String, Counts>,
    /// Recorded label -> derived label (`-` for none) -> visits.
    pub matrix: BTreeMap<String, BTreeMap<String, usize>>,
    /// Disagreements per class.
    pub classes: BTreeMap<String, usize>,
}

/// The criterion a reconciliation derives with: its name and version for the report, and
/// its CDISC category (`cdisc_category`), which selects the RS records of that criterion.
#[derive(Debug, Clone, Copy)]
pub struct Criterion<'a> {
    pub name: &'a str,
    pub category: Option<&'a str>,
    /// (native name, canonical label) of the labels the rule file names natively
    /// (`iUPD` -> `UPD`): recorded values that are the criterion's own names.
    pub natives: &'a [(String, String)],
}

/// Compares every recorded overall response in `rs` with the derived one.
pub fn reconcile(
    imported: &Imported,
    results: &[CaseResult],
    rs: &Dataset,
    map: &Mapping,
    evaluator: Option<&str>,
    criterion: &Criterion<'_>,
    lenient: bool,
) -> Result<(Report, Vec<SdtmDiagnostic>), Vec<SdtmDiagnostic>> {
    let mut diags = Vec::new();
    rs.require(&["USUBJID", "RSTESTCD"], &mut diags);
    if !rs.has("RSSTRESC") && !rs.has("RSORRES") {
        rs.require(&["RSSTRESC"], &mut diags);
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    let val_col = if rs.has("RSSTRESC") {
        "RSSTRESC"
    } else {
        "RSORRES"
    };
    let index: HashMap<(&str, &str), usize> = imported
        .cases
        .iter()
        .enumerate()
        .map(|(i, c)| ((c.usubjid.as_str(), c.evaluator.as_str()), i))
        .collect();
    let mut report = Report {
        criterion: criterion.name.to_string(),
        visits: 0,
        agree: 0,
        disagreements: Vec::new(),
        by_evaluator: BTreeMap::new(),
        matrix: BTreeMap::new(),
        classes: BTreeMap::new(),
    };
    let is_response = |row: &_| {
        rs.get(row, "RSTESTCD")
            .trim()
            .eq_ignore_ascii_case(&map.response_test)
    };
    // RS holding responses of several criteria (RSCAT): only the criterion's are compared
    let categories: std::collections::BTreeSet<String> = rs
        .rows
        .iter()
        .filter(|r| is_response(r))
        .map(|r| rs.get(r, "RSCAT").trim().to_uppercase())
        .filter(|c| !c.is_empty())
        .collect();
    let keep_category = match criterion.category.map(|c| c.trim().to_uppercase()) {
        Some(c) if categories.len() > 1 && categories.contains(&c) => Some(c),
        Some(c) if categories.len() > 1 => {
            diags.push(
                SdtmDiagnostic::error(
                    "sdtm::other_category",
                    format!(
                        "RS holds responses of several categories ({}), none of them the criterion's `{c}`: all are compared",
                        categories.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                    "give the criterion's cdisc_category, or an RS of one category",
                )
                .lenient(true),
            );
            None
        }
        // one category in RS that is not the criterion's, or a criterion without one: all
        // are compared, and said (a new user compared an iRANO RS with an HGG amendment)
        Some(c) if !categories.is_empty() && !categories.contains(&c) => {
            diags.push(
                SdtmDiagnostic::error(
                    "sdtm::other_category",
                    format!(
                        "RS responses are of category {}, not the criterion's `{c}`: compared all the same",
                        categories.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                    "check that RS holds this criterion's responses (RSCAT), or give the rule file the cdisc_category they were recorded under",
                )
                .lenient(true),
            );
            None
        }
        None if !categories.is_empty() => {
            diags.push(
                SdtmDiagnostic::error(
                    "sdtm::no_category",
                    format!(
                        "`{}` declares no `cdisc_category`: the RS responses of every category ({}) are compared",
                        criterion.name,
                        categories.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                    "add `cdisc_category \"...\"` to the criterion's header (an amendment gives its own: it is not inherited), so that only its responses are compared; export needs it too",
                )
                .lenient(true),
            );
            None
        }
        _ => None,
    };
    let mut other_category = 0usize;
    // the responses `evaluator` left out, and their evaluators
    let mut left_out = 0usize;
    let mut other_evaluators: Vec<String> = Vec::new();
    let mut seen: HashMap<(String, String, String, String), String> = HashMap::new();
    for row in &rs.rows {
        if !is_response(row) {
            continue;
        }
        if let Some(c) = &keep_category {
            if !rs.get(row, "RSCAT").trim().eq_ignore_ascii_case(c) {
                other_category += 1;
                continue;
            }
        }
        let usubjid = rs.get(row, "USUBJID");
        let mut ev = evaluator_of(rs, row, "RS");
        // a derived response (export's RS: RSEVAL `COMPUTER ALGORITHM`) names the evaluator
        // whose records it was derived from in RSSPID: read back against that one
        let spid = rs.get(row, "RSSPID").trim();
        if !index.contains_key(&(usubjid, ev.as_str()))
            && !spid.is_empty()
            && index.contains_key(&(usubjid, spid))
        {
            ev = spid.to_string();
        }
        if evaluator.is_some_and(|e| e != ev) {
            if !other_evaluators.contains(&ev) {
                other_evaluators.push(ev.clone());
            }
            left_out += 1;
            continue;
        }
        let mut recorded = rs.get(row, val_col);
        if recorded.is_empty() {
            recorded = rs.get(row, "RSORRES");
        }
        // the mapping's terms, else the criterion's own names for its labels
        let native = || {
            criterion
                .natives
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(recorded.trim()))
                .map(|(_, c)| c.as_str())
        };
        let label = match map.response_label(recorded).or_else(native) {
            Some(l) => l.to_string(),
            None => {
                let d = SdtmDiagnostic::error(
                    "sdtm::unknown_response",
                    format!("recorded response `{recorded}` is not one the mapping knows"),
                    "map it under `responses:` in a --map file; --lenient compares the text as it is",
                )
                .at(rs.at(row, Some(val_col)))
                .lenient(lenient);
                diags.push(d);
                recorded.to_string()
            }
        };
        let visitnum = rs.get(row, "VISITNUM");
        let dtc = rs.get(row, "RSDTC");
        if !dtc.trim().is_empty()
            && matches!(crate::import::parse_dtc(dtc), crate::import::Dtc::Invalid)
        {
            diags.push(
                SdtmDiagnostic::error(
                    "sdtm::bad_date",
                    format!("RSDTC `{dtc}` is not an ISO 8601 date"),
                    "write the date as YYYY-MM-DD (or a partial YYYY-MM, YYYY); --lenient compares the record by its VISITNUM alone",
                )
                .at(rs.at(row, Some("RSDTC")))
                .lenient(lenient),
            );
        }
        // one recorded response a subject, evaluator and visit: a repeat is read once, a
        // conflicting one is an error
        let key = (
            usubjid.to_string(),
            ev.clone(),
            visit_number(visitnum),
            dtc.trim().to_string(),
        );
        match seen.get(&key) {
            Some(first) if first == &label => {
                diags.push(
                    SdtmDiagnostic::error(
                        "sdtm::duplicate",
                        format!("the response of `{usubjid}` ({ev}) on VISITNUM {visitnum} is recorded twice"),
                        "read once",
                    )
                    .at(rs.at(row, Some(val_col)))
                    .lenient(true),
                );
                continue;
            }
            Some(first) => {
                diags.push(
                    SdtmDiagnostic::error(
                        "sdtm::two_values",
                        format!("`{usubjid}` ({ev}) has two recorded responses on VISITNUM {visitnum}: {first} and {label}"),
                        "keep one record per subject, evaluator and visit; --lenient compares both",
                    )
                    .at(rs.at(row, Some(val_col)))
                    .lenient(lenient),
                );
            }
            None => {
                seen.insert(key, label.clone());
            }
        }
        let mut d = Disagreement {
            usubjid: usubjid.to_string(),
            evaluator: ev.clone(),
            visit: rs.get(row, "VISIT").to_string(),
            visitnum: visitnum.to_string(),
            date: dtc.to_string(),
            rsseq: rs.get(row, "RSSEQ").to_string(),
            recorded: recorded.to_string(),
            recorded_label: label.clone(),
            derived: None,
            class: Class::NoCase,
            rule: None,
            explain: None,
            reason: None,
        };
        let found = index
            .get(&(usubjid, ev.as_str()))
            .and_then(|&i| Some((imported.cases.get(i)?, results.get(i)?)));
        if let Some((case, result)) = found {
            let at = matching_visit(&case.visits, visitnum, dtc);
            match at.and_then(|i| result.assessments.get(i)) {
                Some(a) => {
                    d.derived = a.response.clone();
                    d.rule = a.rule.clone();
                    d.explain = a.explain.clone();
                    d.reason = a.reason.clone();
                    d.class = if a.response.is_none()
                        && matches!(
                            a.role,
                            ScanRole::NotGraded | ScanRole::PreBaseline | ScanRole::Baseline
                        ) {
                        Class::NotGraded
                    } else {
                        Class::Differs
                    };
                }
                None => d.class = Class::NoScan,
            }
        }
        report.visits += 1;
        let counts = report.by_evaluator.entry(ev).or_default();
        counts.visits += 1;
        let derived_text = d.derived.clone().unwrap_or_else(|| "-".into());
        *report
            .matrix
            .entry(label.clone())
            .or_default()
            .entry(derived_text)
            .or_default() += 1;
        if d.derived.as_deref() == Some(label.as_str()) {
            report.agree += 1;
            counts.agree += 1;
        } else {
            *report
                .classes
                .entry(class_name(d.class).into())
                .or_default() += 1;
            report.disagreements.push(d);
        }
    }
    if let (0, Some(e)) = (report.visits, evaluator) {
        if left_out > 0 {
            diags.push(
                SdtmDiagnostic::error(
                    "sdtm::no_recorded_response",
                    format!(
                        "none of the {left_out} recorded response(s) is by evaluator `{e}`: RS has {}",
                        other_evaluators
                            .iter()
                            .map(|x| format!("`{x}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    "name one of those with --evaluator, or leave it out to compare every evaluator",
                )
                .lenient(true),
            );
        }
    }
    if other_category > 0 {
        diags.push(
            SdtmDiagnostic::error(
                "sdtm::other_category",
                format!(
                    "{other_category} RS response(s) of other categories (RSCAT) left out: only `{}` is compared",
                    keep_category.as_deref().unwrap_or_default()
                ),
                "reconcile each category with its own rule file",
            )
            .lenient(true),
        );
    }
    if diags.iter().any(SdtmDiagnostic::is_error) {
        return Err(diags);
    }
    Ok((report, diags))
}

fn class_name(c: Class) -> &'static str {
    match c {
        Class::Differs => "differs",
        Class::NotGraded => "not_graded",
        Class::NoScan => "no_scan",
        Class::NoCase => "no_case",
    }
}

impl Report {
    /// The human-readable report: the totals, per evaluator, the agreement matrix, and
    /// every disagreement with the deciding rule and the values it compared.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let pct = |a: usize, n: usize| {
            if n == 0 {
                "-".to_string()
            } else {
                format!("{:.1}%", 100.0 * a as f64 / n as f64)
            }
        };
        let _ = writeln!(
            s,
            "reconcile ({}): {} of {} recorded responses agree ({}); {} disagree",
            self.criterion,
            self.agree,
            self.visits,
            pct(self.agree, self.visits),
            self.visits - self.agree
        );
        if !self.classes.is_empty() {
            let parts: Vec<String> = self
                .classes
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            let _ = writeln!(s, "  by class: {}", parts.join(", "));
        }
        let _ = writeln!(s, "\nper evaluator:");
        for (e, c) in &self.by_evaluator {
            let name = if e.is_empty() { "(none)" } else { e.as_str() };
            let _ = writeln!(
                s,
                "  {name:<24} {:>5} / {:<5} {}",
                c.agree,
                c.visits,
                pct(c.agree, c.visits)
            );
        }
        let mut cols: Vec<&String> = self.matrix.values().flat_map(|m| m.keys()).collect();
        cols.sort();
        cols.dedup();
        let _ = writeln!(s, "\nrecorded (rows) x derived (columns):");
        let _ = write!(s, "  {:<16}", "");
        for c in &cols {
            let _ = write!(s, "{c:>15}");
        }
        s.push('\n');
        for (r, m) in &self.matrix {
            let _ = write!(s, "  {r:<16}");
            for c in &cols {
                let n = m.get(*c).copied().unwrap_or(0);
                let _ = write!(
                    s,
                    "{:>15}",
                    if n == 0 {
                        ".".to_string()
                    } else {
                        n.to_string()
                    }
                );
            }
            s.push('\n');
        }
        if !self.disagreements.is_empty() {
            let _ = writeln!(s, "\ndisagreements:");
        }
        for d in &self.disagreements {
            let _ = writeln!(
                s,
                "  {} {} {} (VISITNUM {}, {}, RSSEQ {}): recorded {} derived {} [{}]",
                d.usubjid,
                if d.evaluator.is_empty() {
                    "-"
                } else {
                    d.evaluator.as_str()
                },
                d.visit,
                d.visitnum,
                d.date,
                d.rsseq,
                d.recorded,
                d.derived.as_deref().unwrap_or("-"),
                class_name(d.class),
            );
            if let Some(r) = &d.rule {
                let _ = writeln!(s, "      rule {r}: {}", d.explain.as_deref().unwrap_or(""));
            }
            if let Some(r) = &d.reason {
                let _ = writeln!(s, "      {r}");
            }
        }
        s
    }
}

/// The scan an RS record is compared with: the scan of its VISITNUM (compared as numbers,
/// `2` = `2.0`); when the subject has several scans of that VISITNUM, the one of the RS
/// date; without a VISITNUM, the scan of the RS date.
fn matching_visit(visits: &[crate::import::Visit], visitnum: &str, dtc: &str) -> Option<usize> {
    let same_date =
        |v: &crate::import::Visit| !dtc.is_empty() && (v.dtc == dtc || v.date.to_string() == dtc);
    if visitnum.trim().is_empty() {
        return visits.iter().position(same_date);
    }
    let wanted = visit_number(visitnum);
    let same_number = |v: &crate::import::Visit| visit_number(&v.visitnum) == wanted;
    let candidates: Vec<usize> = visits
        .iter()
        .enumerate()
        .filter(|(_, v)| same_number(v))
        .map(|(i, _)| i)
        .collect();
    match candidates.as_slice() {
        [] => None,
        [only] => Some(*only),
        several => several
            .iter()
            .copied()
            .find(|&i| visits.get(i).is_some_and(same_date))
            .or(several.first().copied()),
    }
}

/// A VISITNUM as a number where it is one (`2`, `2.0` and `2.00` are one visit), else its
/// trimmed text.
fn visit_number(text: &str) -> String {
    let t = text.trim();
    t.parse::<irano_exact::Rational>()
        .map_or_else(|_| t.to_string(), |r| r.to_string())
}
