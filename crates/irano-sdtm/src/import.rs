//! TU/TR (+ DM/EX for therapy start, CM for corticosteroids) -> one case per subject and
//! evaluator. Every problem is collected; nothing is returned when any is an error.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use irano_exact::Rational;

use crate::dataset::{Dataset, Row};
use crate::diag::{Location, SdtmDiagnostic};
use crate::json::{decimal_text, J};
use crate::mapping::{LesionRole, Mapping, Measure, State};

/// The datasets an import reads.
pub struct Sources<'a> {
    pub tu: &'a Dataset,
    pub tr: &'a Dataset,
    pub dm: Option<&'a Dataset>,
    pub ex: Option<&'a Dataset>,
    pub cm: Option<&'a Dataset>,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Import only this evaluator (TREVALID, else TREVAL).
    pub evaluator: Option<String>,
    /// Turn the documented errors into warnings (docs/sdtm.md).
    pub lenient: bool,
}

/// One scan of an imported case, with what SDTM says about its visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub date: NaiveDate,
    /// TRDTC as recorded (may be partial).
    pub dtc: String,
    pub visit: String,
    pub visitnum: String,
}

/// One imported case: a subject as read by one evaluator.
#[derive(Debug, Clone)]
pub struct SubjectCase {
    pub studyid: String,
    pub usubjid: String,
    /// TREVALID, else TREVAL; "" when TR names no evaluator.
    pub evaluator: String,
    /// The case, one line of JSON (the case format).
    pub json: String,
    pub case: irano_cases::Case,
    /// The scans in date order, as the case's assessments.
    pub visits: Vec<Visit>,
    /// DM RFSTDTC (the subject reference start date) when DM gives it in full: the day 1 of
    /// SDTM study days (`--DY`); the therapy start (day 0 of the case) otherwise.
    pub reference_start: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
pub struct Imported {
    pub cases: Vec<SubjectCase>,
    /// The warnings (errors made warnings by `--lenient`, and notes).
    pub warnings: Vec<SdtmDiagnostic>,
}

impl Imported {
    /// The cases as JSON Lines.
    pub fn jsonl(&self) -> String {
        let mut s = String::new();
        for c in &self.cases {
            s.push_str(&c.json);
            s.push('\n');
        }
        s
    }
}

/// The evaluator of a record: `--EVALID` when given, else `--EVAL`.
pub fn evaluator_of(ds: &Dataset, row: &Row, prefix: &str) -> String {
    let id = ds.get(row, &format!("{prefix}EVALID"));
    if id.is_empty() {
        ds.get(row, &format!("{prefix}EVAL")).to_string()
    } else {
        id.to_string()
    }
}

/// A full date (`2014-01-02`, a time part ignored), a partial one, or neither.
pub enum Dtc {
    Full(NaiveDate),
    /// `2014-02` or `2014`: the first and the last day of that month or year.
    Partial(NaiveDate, NaiveDate),
    Invalid,
}

impl Dtc {
    fn is_full(&self) -> bool {
        matches!(self, Dtc::Full(_))
    }
}

pub fn parse_dtc(text: &str) -> Dtc {
    let t = text.trim();
    let date = t.split('T').next().unwrap_or("");
    if let Ok(d) = NaiveDate::parse_from_str(date, "%Y-%m-%d") {
        if date.len() == 10 {
            return Dtc::Full(d);
        }
    }
    let parts: Vec<&str> = date.split('-').collect();
    let num = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_digit());
    match parts.as_slice() {
        [y] if num(y, 4) => {
            let Ok(y) = y.parse::<i32>() else {
                return Dtc::Invalid;
            };
            match (
                NaiveDate::from_ymd_opt(y, 1, 1),
                NaiveDate::from_ymd_opt(y, 12, 31),
            ) {
                (Some(a), Some(b)) => Dtc::Partial(a, b),
                _ => Dtc::Invalid,
            }
        }
        [y, m] if num(y, 4) && num(m, 2) => {
            let (Ok(y), Ok(m)) = (y.parse::<i32>(), m.parse::<u32>()) else {
                return Dtc::Invalid;
            };
            let next = if m == 12 {
                NaiveDate::from_ymd_opt(y + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(y, m + 1, 1)
            };
            match (
                NaiveDate::from_ymd_opt(y, m, 1),
                next.and_then(|d| d.pred_opt()),
            ) {
                (Some(a), Some(b)) => Dtc::Partial(a, b),
                _ => Dtc::Invalid,
            }
        }
        _ => Dtc::Invalid,
    }
}

#[derive(Debug, Clone)]
struct TuLesion {
    role: LesionRole,
    organ: Option<String>,
    loc: Location,
}

/// One value read from TR, with where it came from.
#[derive(Debug, Clone)]
struct Val<T> {
    v: T,
    loc: Location,
}

#[derive(Debug, Clone, Default)]
struct Meas {
    longest: Option<Val<String>>,
    perpendicular: Option<Val<String>>,
    short_axis: Option<Val<String>>,
    diameter: Option<Val<String>>,
    volume: Option<Val<String>>,
    state: Option<Val<State>>,
    not_assessed: bool,
}

#[derive(Debug, Clone)]
struct Scan {
    dtc: String,
    /// For a partial date: the first day of its period (the key is the last day).
    partial: Option<NaiveDate>,
    visit: String,
    visitnum: String,
    loc: Location,
    /// TRLNKID -> what was recorded.
    lesions: BTreeMap<String, Meas>,
}

#[derive(Debug, Default)]
struct Subject {
    studyid: String,
    scans: BTreeMap<NaiveDate, Scan>,
}

struct Ctx<'a> {
    map: &'a Mapping,
    lenient: bool,
    errors: Vec<SdtmDiagnostic>,
    warnings: Vec<SdtmDiagnostic>,
}

impl Ctx<'_> {
    fn push(&mut self, d: SdtmDiagnostic) {
        if d.is_error() {
            self.errors.push(d);
        } else {
            self.warnings.push(d);
        }
    }
    /// An error that `--lenient` makes a warning.
    fn soft(&mut self, d: SdtmDiagnostic) {
        let l = self.lenient;
        self.push(d.lenient(l));
    }
}

/// Imports the cases. `Err` holds every diagnostic (errors and warnings) when any is an error.
pub fn import(
    src: &Sources<'_>,
    map: &Mapping,
    opts: &Options,
) -> Result<Imported, Vec<SdtmDiagnostic>> {
    let mut cx = Ctx {
        map,
        lenient: opts.lenient,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let mut ok = src.tu.require(&["USUBJID", "TULNKID"], &mut cx.errors);
    if !src.tu.has("TUSTRESC") && !src.tu.has("TUORRES") {
        ok &= src.tu.require(&["TUSTRESC"], &mut cx.errors);
    }
    ok &= src
        .tr
        .require(&["USUBJID", "TRLNKID", "TRTESTCD", "TRDTC"], &mut cx.errors);
    if !src.tr.has("TRSTRESC") && !src.tr.has("TRSTRESN") && !src.tr.has("TRORRES") {
        ok &= src.tr.require(&["TRSTRESC"], &mut cx.errors);
    }
    if let Some(dm) = src.dm {
        ok &= dm.require(&["USUBJID", "RFXSTDTC"], &mut cx.errors);
    }
    if let Some(ex) = src.ex {
        ok &= ex.require(&["USUBJID", "EXSTDTC"], &mut cx.errors);
    }
    if let Some(cm) = src.cm {
        ok &= cm.require(&["USUBJID", "CMDOSE", "CMSTDTC"], &mut cx.errors);
    }
    if !ok {
        // a dataset whose every column is missing is said once (not comma-separated)
        let mut seen = BTreeSet::new();
        cx.errors.retain(|d| seen.insert(d.to_string()));
        return Err(cx.errors);
    }

    let tu = read_tu(&mut cx, src.tu, opts);
    let subjects = read_tr(&mut cx, src.tr, &tu, opts);
    let starts = therapy_starts(&mut cx, src, &subjects);

    // a subject (and evaluator) with TU records but no TR record has no scan: no case
    let mut without_tr: BTreeMap<(&str, &str), &TuLesion> = BTreeMap::new();
    for ((usubjid, evaluator, _), l) in &tu {
        if !subjects.contains_key(&(usubjid.clone(), evaluator.clone())) {
            without_tr.entry((usubjid, evaluator)).or_insert(l);
        }
    }
    for ((usubjid, evaluator), l) in without_tr {
        let who = if evaluator.is_empty() {
            format!("`{usubjid}`")
        } else {
            format!("`{usubjid}` ({evaluator})")
        };
        cx.push(
            SdtmDiagnostic::error(
                "sdtm::no_tr",
                format!("subject {who} has TU records but no TR record: no case"),
                "record the subject's tumour results in TR, or leave the subject out of TU",
            )
            .at(l.loc.clone())
            .lenient(true),
        );
    }

    // DM RFSTDTC, the reference of SDTM study days, where DM gives it in full
    let mut reference_starts: HashMap<String, NaiveDate> = HashMap::new();
    if let Some(dm) = src.dm.filter(|d| d.has("RFSTDTC")) {
        for row in &dm.rows {
            if let Dtc::Full(d) = parse_dtc(dm.get(row, "RFSTDTC")) {
                reference_starts
                    .entry(dm.get(row, "USUBJID").to_string())
                    .or_insert(d);
            }
        }
    }
    let mut cases = Vec::new();
    for ((usubjid, evaluator), subject) in &subjects {
        let Some(start) = starts.get(usubjid) else {
            continue;
        };
        if let Some(mut c) =
            build_case(&mut cx, src, usubjid, evaluator, subject, *start, &tu, opts)
        {
            c.reference_start = reference_starts.get(usubjid).copied();
            cases.push(c);
        }
    }
    if cx.errors.is_empty() && cases.is_empty() {
        cx.errors.push(
            SdtmDiagnostic::error(
                "sdtm::no_case",
                match &opts.evaluator {
                    Some(e) => format!("no TR record of evaluator `{e}`"),
                    None => "TR holds no tumour result".to_string(),
                },
                "check the TR dataset and the `--evaluator` name (TREVALID, else TREVAL)",
            )
            .at(src.tr.whole(None)),
        );
    }
    if !cx.errors.is_empty() {
        let mut all = cx.errors;
        all.extend(cx.warnings);
        return Err(all);
    }
    Ok(Imported {
        cases,
        warnings: cx.warnings,
    })
}

type TuIndex = HashMap<(String, String, String), TuLesion>;

fn read_tu(cx: &mut Ctx<'_>, tu: &Dataset, opts: &Options) -> TuIndex {
    let mut out: TuIndex = HashMap::new();
    let role_col = if tu.has("TUSTRESC") {
        "TUSTRESC"
    } else {
        "TUORRES"
    };
    for row in &tu.rows {
        let ev = evaluator_of(tu, row, "TU");
        if opts.evaluator.as_ref().is_some_and(|e| *e != ev) {
            continue;
        }
        let subj = tu.get(row, "USUBJID").to_string();
        let id = tu.get(row, "TULNKID").to_string();
        if subj.is_empty() || id.is_empty() {
            let col = if subj.is_empty() {
                "USUBJID"
            } else {
                "TULNKID"
            };
            cx.push(
                SdtmDiagnostic::error(
                    "sdtm::missing_value",
                    format!("{col} is empty"),
                    format!("every TU record needs {col}"),
                )
                .at(tu.at(row, Some(col))),
            );
            continue;
        }
        let mut value = tu.get(row, role_col);
        if value.is_empty() {
            value = tu.get(row, "TUORRES");
        }
        let Some(role) = cx.map.roles.get(&value.trim().to_uppercase()).copied() else {
            cx.push(
                SdtmDiagnostic::error(
                    "sdtm::unknown_value",
                    format!("`{value}` is not a lesion role the mapping knows"),
                    format!(
                        "map it under `roles:` in a --map file (known: {})",
                        cx.map.roles.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                )
                .at(tu.at(row, Some(role_col))),
            );
            continue;
        };
        let organ = cx.map.organ(tu.get(row, "TULOC"));
        let lesion = TuLesion {
            role,
            organ,
            loc: tu.at(row, Some("TULNKID")),
        };
        let k = (subj, ev, id);
        match out.get(&k) {
            Some(prev) if prev.role != lesion.role || prev.organ != lesion.organ => {
                cx.push(
                    SdtmDiagnostic::error(
                        "sdtm::tu_conflict",
                        format!(
                            "lesion `{}` is identified twice with a different role or location (first at {})",
                            k.2,
                            seq_text(&prev.loc)
                        ),
                        "identify each lesion once per evaluator, or give the second a new TULNKID",
                    )
                    .at(lesion.loc.clone()),
                );
            }
            Some(_) => {}
            None => {
                out.insert(k, lesion);
            }
        }
    }
    out
}

fn seq_text(l: &Location) -> String {
    match (&l.seq, l.line) {
        (Some(s), _) => format!("{}SEQ {s}", l.domain),
        (None, Some(n)) => format!("line {n}"),
        _ => l.file.clone(),
    }
}

type Subjects = BTreeMap<(String, String), Subject>;

fn read_tr(cx: &mut Ctx<'_>, tr: &Dataset, tu: &TuIndex, opts: &Options) -> Subjects {
    let mut subjects: Subjects = BTreeMap::new();
    // the full dates of each visit, to date a visit's partially dated records
    // (the evaluator's own first, else another evaluator's of the same subject and visit)
    let mut visit_dates: HashMap<(&str, String, &str), NaiveDate> = HashMap::new();
    let mut any_reader_dates: HashMap<(&str, &str), NaiveDate> = HashMap::new();
    for row in &tr.rows {
        let visitnum = tr.get(row, "VISITNUM");
        if let (Dtc::Full(d), false) = (parse_dtc(tr.get(row, "TRDTC")), visitnum.is_empty()) {
            visit_dates
                .entry((
                    tr.get(row, "USUBJID"),
                    evaluator_of(tr, row, "TR"),
                    visitnum,
                ))
                .or_insert(d);
            any_reader_dates
                .entry((tr.get(row, "USUBJID"), visitnum))
                .or_insert(d);
        }
    }
    for row in &tr.rows {
        let ev = evaluator_of(tr, row, "TR");
        if opts.evaluator.as_ref().is_some_and(|e| *e != ev) {
            continue;
        }
        let testcd = tr.get(row, "TRTESTCD").trim().to_uppercase();
        let Some(measure) = cx.map.tests.get(&testcd).copied() else {
            cx.soft(
                SdtmDiagnostic::error(
                    "sdtm::unknown_test",
                    format!("TRTESTCD `{testcd}` is not a test the mapping knows; the record is not read"),
                    "map it under `tests:` in a --map file (or `ignore` it); --lenient skips it",
                )
                .at(tr.at(row, Some("TRTESTCD"))),
            );
            continue;
        };
        if measure == Measure::Ignore {
            continue;
        }
        let subj = tr.get(row, "USUBJID").to_string();
        let id = tr.get(row, "TRLNKID").to_string();
        if subj.is_empty() || id.is_empty() {
            let col = if subj.is_empty() {
                "USUBJID"
            } else {
                "TRLNKID"
            };
            cx.push(
                SdtmDiagnostic::error(
                    "sdtm::missing_value",
                    format!("{col} is empty"),
                    format!("every TR record needs {col}"),
                )
                .at(tr.at(row, Some(col))),
            );
            continue;
        }
        let key = (subj.clone(), ev.clone(), id.clone());
        if !tu.contains_key(&key) {
            cx.soft(
                SdtmDiagnostic::error(
                    "sdtm::no_tu",
                    format!(
                        "TR result for lesion `{id}` of subject `{subj}`{} has no matching TU record",
                        if ev.is_empty() { String::new() } else { format!(" by `{ev}`") }
                    ),
                    "add the lesion to TU (same USUBJID, TULNKID and evaluator); --lenient leaves the record out",
                )
                .at(tr.at(row, Some("TRLNKID"))),
            );
            continue;
        }
        let dtc = tr.get(row, "TRDTC").to_string();
        let (date, partial) = match parse_dtc(&dtc) {
            Dtc::Full(d) => (d, None),
            Dtc::Partial(a, b) => {
                let visitnum = tr.get(row, "VISITNUM");
                let same_visit = visit_dates
                    .get(&(subj.as_str(), ev.clone(), visitnum))
                    .or_else(|| any_reader_dates.get(&(subj.as_str(), visitnum)))
                    .filter(|d| a <= **d && **d <= b);
                match same_visit {
                    Some(d) => {
                        cx.soft(
                            SdtmDiagnostic::error(
                                "sdtm::partial_date",
                                format!("partial date `{dtc}` where other records of the visit say {d}"),
                                format!("record the full scan date; --lenient takes the visit's date {d}"),
                            )
                            .at(tr.at(row, Some("TRDTC"))),
                        );
                        (*d, None)
                    }
                    None => (b, Some(a)),
                }
            }
            Dtc::Invalid => {
                cx.push(
                    SdtmDiagnostic::error(
                        "sdtm::bad_date",
                        if dtc.trim().is_empty() {
                            "the scan has no date (TRDTC is empty)".to_string()
                        } else {
                            format!("`{dtc}` is not an ISO 8601 date")
                        },
                        "write the scan date as YYYY-MM-DD",
                    )
                    .at(tr.at(row, Some("TRDTC"))),
                );
                continue;
            }
        };
        let subject = subjects.entry((subj, ev)).or_default();
        if partial.is_some() && !subject.scans.contains_key(&date) {
            cx.soft(
                SdtmDiagnostic::error(
                    "sdtm::partial_date",
                    format!("partial date `{dtc}`: the scan day is unknown"),
                    format!("record the full scan date; --lenient dates the scan on the therapy start when the period holds it and no other scan is dated before the therapy start, else on the last day of the period ({date}), and marks it not evaluable"),
                )
                .at(tr.at(row, Some("TRDTC"))),
            );
        }
        if subject.studyid.is_empty() {
            subject.studyid = tr.get(row, "STUDYID").to_string();
        }
        let scan = subject.scans.entry(date).or_insert_with(|| Scan {
            dtc: dtc.clone(),
            partial,
            visit: tr.get(row, "VISIT").to_string(),
            visitnum: tr.get(row, "VISITNUM").to_string(),
            loc: tr.at(row, Some("TRDTC")),
            lesions: BTreeMap::new(),
        });
        if scan.dtc != dtc
            && partial.is_none()
            && scan.partial.is_none()
            && parse_dtc(&scan.dtc).is_full()
            && parse_dtc(&dtc).is_full()
        {
            cx.push(
                SdtmDiagnostic::error(
                    "sdtm::date_clash",
                    format!(
                        "TRDTC `{dtc}` falls on the same day as `{}` ({}) but is written differently",
                        scan.dtc,
                        seq_text(&scan.loc)
                    ),
                    "give the records of one scan the same TRDTC",
                )
                .at(tr.at(row, Some("TRDTC"))),
            );
            continue;
        }
        let meas = scan.lesions.entry(id.clone()).or_default();
        let stat = tr.get(row, "TRSTAT").trim().to_uppercase();
        if !stat.is_empty() && cx.map.not_done.contains(&stat) {
            meas.not_assessed = true;
            // a result beside NOT DONE: the record contradicts itself
            let given = ["TRSTRESC", "TRSTRESN", "TRORRES"]
                .into_iter()
                .find(|c| !tr.get(row, c).trim().is_empty());
            if let Some(col) = given {
                cx.push(
                    SdtmDiagnostic::warning(
                        "sdtm::not_done_with_result",
                        format!(
                            "{testcd} of lesion `{id}` is TRSTAT `{stat}` but gives the result `{}`: the lesion is read as not assessed on this scan",
                            tr.get(row, col).trim()
                        ),
                        "if the lesion was measured, clear TRSTAT; if it was not, clear the result",
                    )
                    .at(tr.at(row, Some(col))),
                );
            }
            continue;
        }
        // the standardized result with its standard unit (the character result, else the
        // numeric one), else the original result with its original unit: a value is never
        // read with the other column's unit
        let (val_col, unit_col) = if !tr.get(row, "TRSTRESC").is_empty() {
            ("TRSTRESC", "TRSTRESU")
        } else if !tr.get(row, "TRSTRESN").trim().is_empty() {
            ("TRSTRESN", "TRSTRESU")
        } else {
            ("TRORRES", "TRORRESU")
        };
        let value = tr.get(row, val_col);
        let numeric = tr.get(row, "TRSTRESN").trim();
        if val_col == "TRSTRESC" && !numeric.is_empty() {
            let read = |t: &str| t.trim().parse::<irano_exact::Rational>().ok();
            if let (Some(c), Some(n)) = (read(value), read(numeric)) {
                if c != n {
                    cx.push(
                        SdtmDiagnostic::warning(
                            "sdtm::stresn_disagrees",
                            format!(
                                "{testcd} of lesion `{id}`: TRSTRESC `{}` and TRSTRESN `{numeric}` differ; TRSTRESC is read",
                                value.trim()
                            ),
                            "the two standardized results should be the same number: correct the one that is wrong",
                        )
                        .at(tr.at(row, Some("TRSTRESN"))),
                    );
                }
            }
        }
        if value.is_empty() {
            not_assessed(
                cx,
                meas,
                SdtmDiagnostic::error(
                    "sdtm::missing_result",
                    format!("no result for lesion `{id}` ({testcd}) and no TRSTAT"),
                    "record the result, or TRSTAT `NOT DONE`; --lenient marks the lesion not assessed on this scan",
                )
                .at(tr.at(row, Some(val_col))),
            );
            continue;
        }
        let loc = tr.at(row, Some(val_col));
        if measure == Measure::State {
            match cx.map.states.get(&value.trim().to_uppercase()).copied() {
                Some(s) => set(cx, &mut meas.state, s, loc, &id, &testcd),
                None => cx.push(
                    SdtmDiagnostic::error(
                        "sdtm::unknown_value",
                        format!("`{value}` is not a lesion state the mapping knows"),
                        format!(
                            "map it under `states:` in a --map file (known: {})",
                            cx.map.states.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    )
                    .at(loc),
                ),
            }
            continue;
        }
        let Some(number) = decimal_text(value) else {
            if let Some(s) = cx.map.states.get(&value.trim().to_uppercase()).copied() {
                set(cx, &mut meas.state, s, loc, &id, &testcd);
            } else {
                cx.push(
                    SdtmDiagnostic::error(
                        "sdtm::not_a_number",
                        format!("`{value}` is not a number ({testcd} of lesion `{id}`)"),
                        "write the measurement as a decimal number, or map the text under `states:`",
                    )
                    .at(loc),
                );
            }
            continue;
        };
        if number.starts_with('-') {
            cx.push(
                SdtmDiagnostic::error(
                    "sdtm::negative",
                    format!("{testcd} of lesion `{id}` is negative ({value})"),
                    "a size is zero or more",
                )
                .at(loc),
            );
            continue;
        }
        let unit = tr.get(row, unit_col).trim();
        if unit.is_empty() {
            not_assessed(
                cx,
                meas,
                SdtmDiagnostic::error(
                    "sdtm::unit",
                    format!("{testcd} of lesion `{id}` ({val_col} `{value}`) has no unit in {unit_col}"),
                    "give the unit of each result (--lenient marks the lesion not assessed on this scan)",
                )
                .at(tr.at(row, Some(unit_col))),
            );
            continue;
        }
        let units = if measure == Measure::Volume {
            &cx.map.volume_units
        } else {
            &cx.map.length_units
        };
        if !units.iter().any(|u| u.eq_ignore_ascii_case(unit)) {
            not_assessed(
                cx,
                meas,
                SdtmDiagnostic::error(
                    "sdtm::unit",
                    format!(
                        "{testcd} of lesion `{id}` is in `{unit}`, not {}",
                        units.join(" or ")
                    ),
                    "convert the result to the expected unit (--lenient marks the lesion not assessed on this scan)",
                )
                .at(tr.at(row, Some(unit_col))),
            );
            continue;
        }
        let slot = match measure {
            Measure::Longest => &mut meas.longest,
            Measure::Perpendicular => &mut meas.perpendicular,
            Measure::ShortAxis => &mut meas.short_axis,
            Measure::Diameter => &mut meas.diameter,
            _ => &mut meas.volume,
        };
        set(cx, slot, number, loc, &id, &testcd);
    }
    subjects
}

fn set<T: Clone + PartialEq>(
    cx: &mut Ctx<'_>,
    slot: &mut Option<Val<T>>,
    v: T,
    loc: Location,
    id: &str,
    testcd: &str,
) {
    match slot {
        Some(prev) if prev.v == v => cx.push(
            SdtmDiagnostic::warning(
                "sdtm::duplicate",
                format!(
                    "{testcd} of lesion `{id}` repeats the record at {} with the same value; read once",
                    seq_text(&prev.loc)
                ),
                "remove the repeated record",
            )
            .at(loc),
        ),
        Some(prev) => cx.push(
            SdtmDiagnostic::error(
                "sdtm::two_values",
                format!(
                    "two different {testcd} results for lesion `{id}` on one date (the first at {})",
                    seq_text(&prev.loc)
                ),
                "keep one result per lesion, test and date (a repeated read belongs to another evaluator or date)",
            )
            .at(loc),
        ),
        None => *slot = Some(Val { v, loc }),
    }
}

fn therapy_starts(
    cx: &mut Ctx<'_>,
    src: &Sources<'_>,
    subjects: &Subjects,
) -> HashMap<String, NaiveDate> {
    let wanted: BTreeSet<&str> = subjects.keys().map(|(s, _)| s.as_str()).collect();
    let mut out = HashMap::new();
    if let Some(dm) = src.dm {
        for row in &dm.rows {
            let s = dm.get(row, "USUBJID");
            if !wanted.contains(s) {
                continue;
            }
            let t = dm.get(row, "RFXSTDTC");
            if t.is_empty() {
                continue;
            }
            match parse_dtc(t) {
                Dtc::Full(d) => {
                    if let Some(&before) = out.get(s) {
                        if before != d {
                            // DM holds one record a subject; two starts leave day 0 unknown
                            cx.push(
                                SdtmDiagnostic::error(
                                    "sdtm::bad_start",
                                    format!("subject `{s}` has two DM records with different RFXSTDTC, {before} and {d}: day 0 is ambiguous"),
                                    "keep one DM record a subject (DM has one record per subject)",
                                )
                                .at(dm.at(row, Some("RFXSTDTC"))),
                            );
                        }
                        continue;
                    }
                    out.insert(s.to_string(), d);
                }
                _ => cx.push(
                    SdtmDiagnostic::error(
                        "sdtm::bad_start",
                        format!("RFXSTDTC `{t}` is not a full date: day 0 is unknown"),
                        "record the first exposure date in full (YYYY-MM-DD)",
                    )
                    .at(dm.at(row, Some("RFXSTDTC"))),
                ),
            }
        }
    }
    if let Some(ex) = src.ex {
        let mut first: HashMap<String, NaiveDate> = HashMap::new();
        for row in &ex.rows {
            let s = ex.get(row, "USUBJID");
            if !wanted.contains(s) || out.contains_key(s) {
                continue;
            }
            match parse_dtc(ex.get(row, "EXSTDTC")) {
                Dtc::Full(d) => {
                    let e = first.entry(s.to_string()).or_insert(d);
                    if d < *e {
                        *e = d;
                    }
                }
                _ => cx.push(
                    SdtmDiagnostic::error(
                        "sdtm::bad_start",
                        format!("EXSTDTC `{}` is not a full date", ex.get(row, "EXSTDTC")),
                        "record exposure start dates in full (YYYY-MM-DD)",
                    )
                    .at(ex.at(row, Some("EXSTDTC"))),
                ),
            }
        }
        out.extend(first);
    }
    for s in wanted {
        if !out.contains_key(s) {
            // the subject's DM record (its empty RFXSTDTC), else its first TR record
            let in_dm = src.dm.and_then(|dm| {
                let row = dm.rows.iter().find(|r| dm.get(r, "USUBJID") == s)?;
                Some(dm.at(row, Some("RFXSTDTC")))
            });
            let in_tr = || {
                let row = src.tr.rows.iter().find(|r| src.tr.get(r, "USUBJID") == s)?;
                Some(src.tr.at(row, Some("USUBJID")))
            };
            let at = in_dm.or_else(in_tr).unwrap_or_else(|| {
                src.dm
                    .or(src.ex)
                    .map_or_else(|| src.tr.whole(None), |d| d.whole(None))
            });
            cx.push(
                SdtmDiagnostic::error(
                    "sdtm::no_therapy_start",
                    format!("no therapy start for subject `{s}`"),
                    "give --dm with RFXSTDTC, or --ex with EXSTDTC, for every subject in TR",
                )
                .at(at),
            );
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn build_case(
    cx: &mut Ctx<'_>,
    src: &Sources<'_>,
    usubjid: &str,
    evaluator: &str,
    subject: &Subject,
    start: NaiveDate,
    tu: &TuIndex,
    opts: &Options,
) -> Option<SubjectCase> {
    let errors_before = cx.errors.len();
    let patient = if opts.evaluator.is_some() || evaluator.is_empty() {
        usubjid.to_string()
    } else {
        format!("{usubjid}/{evaluator}")
    };
    // every lesion of this subject and evaluator, in TULNKID order
    let mut lesions: Vec<(&String, &TuLesion)> = tu
        .iter()
        .filter(|((s, e, _), _)| s == usubjid && e == evaluator)
        .map(|((_, _, id), l)| (id, l))
        .collect();
    lesions.sort_by(|a, b| a.0.cmp(b.0));

    let mut declared: BTreeSet<&str> = BTreeSet::new();
    let mut assessments = Vec::new();
    let mut visits = Vec::new();
    // a partial date whose period holds the therapy start, when no other scan is on or
    // before the therapy start, is the subject's first scan: the pre-treatment scan of day
    // 0. Any other partial date is the last day of its period (its key). The scans are
    // then taken in the order of those dates.
    let pretreatment_dated = |key: &NaiveDate| {
        subject
            .scans
            .iter()
            .any(|(d, s)| d != key && s.partial.is_none() && *d <= start)
    };
    let mut dated: Vec<(NaiveDate, &Scan)> = subject
        .scans
        .iter()
        .map(|(key, scan)| match scan.partial {
            Some(from) if from <= start && start <= *key && !pretreatment_dated(key) => {
                (start, scan)
            }
            _ => (*key, scan),
        })
        .collect();
    dated.sort_by_key(|(d, _)| *d);
    // a partial date read as the last day of its period can fall after a later visit:
    // the scans are then out of VISITNUM order, which is said
    let visitnum = |s: &Scan| s.visitnum.trim().parse::<irano_exact::Rational>().ok();
    for (i, (date, scan)) in dated.iter().enumerate() {
        let Some(n) = visitnum(scan).filter(|_| scan.partial.is_some()) else {
            continue;
        };
        let later_visit = dated
            .get(..i)
            .unwrap_or_default()
            .iter()
            .find(|(_, s)| visitnum(s).is_some_and(|m| m > n));
        if let Some((other, s)) = later_visit {
            cx.push(
                SdtmDiagnostic::warning(
                    "sdtm::partial_date_out_of_order",
                    format!(
                        "the partial date `{}` of visit {} (VISITNUM {}) of `{patient}` is read as {date}, after visit {} (VISITNUM {}) of {other}: the scans are taken in date order",
                        scan.dtc,
                        if scan.visit.is_empty() { "-" } else { scan.visit.as_str() },
                        scan.visitnum,
                        if s.visit.is_empty() { "-" } else { s.visit.as_str() },
                        s.visitnum
                    ),
                    "record the full date of the scan: read as the last day of its period, it comes after a later visit (and is not graded if that visit was progression)",
                )
                .at(scan.loc.clone()),
            );
        }
    }
    // one visit (VISITNUM) recorded on two dates is read as two scans: said, since the
    // records of a time point taken over a few days are one assessment
    for (i, (date, scan)) in dated.iter().enumerate() {
        let earlier = dated
            .get(..i)
            .unwrap_or_default()
            .iter()
            .find(|(_, s)| !scan.visitnum.is_empty() && s.visitnum == scan.visitnum);
        if let Some((first, _)) = earlier {
            cx.push(
                SdtmDiagnostic::warning(
                    "sdtm::visit_on_two_dates",
                    format!(
                        "visit {} (VISITNUM {}) of `{patient}` has records dated {first} and {date}: they are read as two scans, each with the lesions recorded on its date",
                        if scan.visit.is_empty() { "-" } else { scan.visit.as_str() },
                        scan.visitnum
                    ),
                    "give every record of one assessment the same TRDTC (the date of the assessment), so that its lesions are read together",
                )
                .at(scan.loc.clone()),
            );
        }
    }
    for (date, scan) in &dated {
        let followup = *date > start;
        let mut base = Vec::new();
        let mut new = Vec::new();
        let evaluable = scan.partial.is_none();
        for (id, l) in &lesions {
            let Some(m) = scan.lesions.get(*id) else {
                // a baseline lesion once seen and now missing from the records
                if l.role != LesionRole::New && declared.contains(id.as_str()) {
                    cx.soft(
                        SdtmDiagnostic::error(
                            "sdtm::lesion_missing",
                            format!(
                                "lesion `{id}` of `{patient}` has no TR record on {} ({}), though it was recorded before",
                                scan.dtc,
                                if scan.visit.is_empty() { "no VISIT" } else { scan.visit.as_str() }
                            ),
                            "record the lesion on every scan (TRSTAT `NOT DONE` when it was not assessed); --lenient marks it not assessed on this scan",
                        )
                        .at(l.loc.clone()),
                    );
                }
                continue;
            };
            let first = declared.insert(id.as_str());
            if first && followup && l.role != LesionRole::New {
                cx.push(
                    SdtmDiagnostic::error(
                        "sdtm::lesion_after_start",
                        format!(
                            "{} lesion `{id}` of `{patient}` is first measured on {}, after therapy start {start}",
                            if l.role == LesionRole::Target { "target" } else { "non-target" },
                            scan.dtc
                        ),
                        "baseline lesions are measured on or before the therapy start (DM RFXSTDTC / EX); a lesion found later is NEW in TU",
                    )
                    .at(l.loc.clone()),
                );
            }
            let o = observation(cx, id, l, m, first);
            if l.role == LesionRole::New {
                new.push(o);
            } else {
                base.push(o);
            }
        }
        let mut fields: Vec<(&'static str, J)> = vec![
            ("date", J::Str(date.to_string())),
            (
                "scan",
                J::Str(if followup { "followup" } else { "pretreatment" }.into()),
            ),
        ];
        if !evaluable {
            fields.push(("evaluable", J::Bool(false)));
        }
        if !base.is_empty() {
            fields.push(("lesions", J::Arr(base)));
        }
        if !new.is_empty() {
            fields.push(("new_lesions", J::Arr(new)));
        }
        if let Some(cm) = src.cm {
            if let Some(s) = steroids(cx, cm, usubjid, *date) {
                fields.push(("steroids", s));
            }
        }
        assessments.push(J::Obj(fields));
        visits.push(Visit {
            date: *date,
            dtc: scan.dtc.clone(),
            visit: scan.visit.clone(),
            visitnum: scan.visitnum.clone(),
        });
    }
    // a baseline lesion TU declares that TR never measures would be left out of every sum;
    // a new lesion, left out of every scan, would hide a progression
    for (id, l) in &lesions {
        if l.role == LesionRole::New && !declared.contains(id.as_str()) {
            cx.soft(
                SdtmDiagnostic::error(
                    "sdtm::lesion_missing",
                    format!("new lesion `{id}` of `{patient}` is declared in TU but has no TR record: it is on no scan, and cannot make progression"),
                    "record it in TR on the scan that found it (its diameters, or TRTESTCD TUMSTATE `PRESENT`); --lenient leaves it out",
                )
                .at(l.loc.clone()),
            );
        }
        if l.role != LesionRole::New && !declared.contains(id.as_str()) {
            cx.soft(
                SdtmDiagnostic::error(
                    "sdtm::lesion_missing",
                    format!("lesion `{id}` of `{patient}` is declared in TU but has no TR record: it is in no sum"),
                    "record the lesion in TR (TRSTAT `NOT DONE` when it was not assessed), or remove it from TU; --lenient leaves it out",
                )
                .at(l.loc.clone()),
            );
        }
    }
    if cx.errors.len() > errors_before {
        return None;
    }
    let x = J::Obj(vec![
        ("studyid", J::Str(subject.studyid.clone())),
        ("usubjid", J::Str(usubjid.to_string())),
        ("evaluator", J::Str(evaluator.to_string())),
        (
            "visits",
            J::Arr(
                visits
                    .iter()
                    .map(|v| {
                        J::Obj(vec![
                            ("date", J::Str(v.date.to_string())),
                            ("dtc", J::Str(v.dtc.clone())),
                            ("visit", J::Str(v.visit.clone())),
                            ("visitnum", J::Str(v.visitnum.clone())),
                        ])
                    })
                    .collect(),
            ),
        ),
    ]);
    let case = J::Obj(vec![
        ("patient", J::Str(patient.clone())),
        ("setting", J::Str(cx.map.setting.clone())),
        ("therapy_start", J::Str(start.to_string())),
        ("assessments", J::Arr(assessments)),
        ("x-sdtm", x),
    ]);
    let mut json = String::new();
    case.write(&mut json);
    match irano_cases::read_str(&json, &patient, irano_cases::Format::JsonLines) {
        Ok(mut cs) if cs.len() == 1 => {
            let case = cs.pop()?;
            Some(SubjectCase {
                studyid: subject.studyid.clone(),
                usubjid: usubjid.to_string(),
                evaluator: evaluator.to_string(),
                json,
                case,
                reference_start: None,
                visits,
            })
        }
        Ok(_) => None,
        Err(errs) => {
            for e in errs {
                cx.push(
                    SdtmDiagnostic::error(
                        "sdtm::case",
                        format!(
                            "the case built for `{patient}` is not valid: {}",
                            e.message()
                        ),
                        format!("{} (check the TR records of this subject)", e.help()),
                    )
                    .at(src.tr.whole(None)),
                );
            }
            None
        }
    }
}

fn num(v: &Option<Val<String>>) -> Option<J> {
    v.as_ref().map(|x| J::Num(x.v.clone()))
}

/// A result that cannot be read: the problem is an error (a warning with `--lenient`), and
/// the lesion is not assessed on that scan.
fn not_assessed(cx: &mut Ctx<'_>, meas: &mut Meas, d: SdtmDiagnostic) {
    cx.soft(d);
    meas.not_assessed = true;
}

fn is_zero(v: &Val<String>) -> bool {
    v.v == "0"
}

/// A lesion with both a DIAMETER (the longest diameter, or a node's short axis) and the
/// two diameters LDIAM and LPERP: a criterion reads one or the other, so a disagreement is
/// said here, at the records.
fn diameters_agree(
    cx: &mut Ctx<'_>,
    id: &str,
    dm: &Val<String>,
    a: &Val<String>,
    b: &Val<String>,
    node: bool,
) {
    let parse = |v: &Val<String>| v.v.parse::<irano_exact::Rational>().ok();
    let (Some(x), Some(y), Some(z)) = (parse(dm), parse(a), parse(b)) else {
        return;
    };
    let (of_pair, which) = if node {
        (y.min(z), "the shorter of LDIAM and LPERP")
    } else {
        (y.max(z), "the longer of LDIAM and LPERP")
    };
    if x != of_pair {
        cx.push(
            SdtmDiagnostic::warning(
                "sdtm::diameters_disagree",
                format!(
                    "lesion `{id}`: DIAMETER {} differs from {which} ({}) on the same scan",
                    dm.v,
                    if of_pair == y { &a.v } else { &b.v }
                ),
                "the case keeps both (DIAMETER as `ld` or `sa`, LDIAM and LPERP as `d`) and a criterion reads the one it measures by, so results can differ between criteria; check which record is right",
            )
            .at(dm.loc.clone()),
        );
    }
}

/// The case-format observation of one lesion on one scan.
fn observation(cx: &mut Ctx<'_>, id: &str, l: &TuLesion, m: &Meas, first: bool) -> J {
    let mut f: Vec<(&'static str, J)> = vec![("id", J::Str(id.to_string()))];
    if first && l.role != LesionRole::New {
        f.push((
            "role",
            J::Str(
                if l.role == LesionRole::Target {
                    "target"
                } else {
                    "non_target"
                }
                .into(),
            ),
        ));
    }
    if first {
        if let Some(c) = &cx.map.component {
            f.push(("component", J::Str(c.clone())));
        }
        if let Some(o) = &l.organ {
            f.push(("organ", J::Str(o.clone())));
        }
    }
    if m.not_assessed {
        f.push(("status", J::Str("not_assessed".into())));
        return J::Obj(f);
    }
    let node = l.organ.as_deref() == Some("node");
    let mut ld = num(&m.longest);
    let mut sa = num(&m.short_axis);
    if let Some(d) = &m.diameter {
        if node {
            sa = Some(J::Num(d.v.clone()));
        } else {
            ld = Some(J::Num(d.v.clone()));
        }
    }
    match (&m.longest, &m.perpendicular) {
        (Some(a), Some(b)) => {
            if is_zero(a) != is_zero(b) {
                cx.soft(
                    SdtmDiagnostic::error(
                        "sdtm::one_zero",
                        format!(
                            "lesion `{id}` has one diameter 0 and the other {} on one scan",
                            if is_zero(a) { &b.v } else { &a.v }
                        ),
                        "0 means the lesion has gone: record both diameters as 0, or both measured; --lenient marks it not assessed on this scan",
                    )
                    .at(if is_zero(a) { a.loc.clone() } else { b.loc.clone() }),
                );
                f.push(("status", J::Str("not_assessed".into())));
                return J::Obj(f);
            }
            let longer = match (
                a.v.parse::<irano_exact::Rational>(),
                b.v.parse::<irano_exact::Rational>(),
            ) {
                (Ok(x), Ok(y)) => y > x,
                _ => false,
            };
            if longer {
                cx.soft(
                    SdtmDiagnostic::error(
                        "sdtm::perpendicular_longer",
                        format!(
                            "lesion `{id}`: the perpendicular diameter {} is longer than the longest diameter {}",
                            b.v, a.v
                        ),
                        "the longest diameter (LDIAM) is the longer one: check whether the two were swapped; --lenient marks the lesion not assessed on this scan",
                    )
                    .at(b.loc.clone()),
                );
                f.push(("status", J::Str("not_assessed".into())));
                return J::Obj(f);
            }
            f.push(("d", J::Arr(vec![J::Num(a.v.clone()), J::Num(b.v.clone())])));
            if let Some(dm) = &m.diameter {
                diameters_agree(cx, id, dm, a, b, node);
            }
            if m.diameter.is_some() && !node {
                if let Some(x) = ld.take() {
                    f.push(("ld", x));
                }
            }
        }
        (None, Some(b)) => {
            cx.soft(
                SdtmDiagnostic::error(
                    "sdtm::perpendicular_alone",
                    format!("lesion `{id}` has a perpendicular diameter without a longest diameter"),
                    "record the longest diameter (LDIAM) too; --lenient reads the lesion as not assessed on this scan",
                )
                .at(b.loc.clone()),
            );
            f.push(("status", J::Str("not_assessed".into())));
            return J::Obj(f);
        }
        _ => {
            if let Some(x) = ld.take() {
                f.push(("ld", x));
            }
        }
    }
    if let Some(x) = sa {
        f.push(("sa", x));
    }
    if let Some(x) = num(&m.volume) {
        f.push(("vol_ml", x));
    }
    if let Some(s) = &m.state {
        let text = |t: &str| J::Str(t.to_string());
        let bad = match (l.role, s.v) {
            (_, State::NotAssessed) => {
                f.push(("status", text("not_assessed")));
                false
            }
            (_, State::TooSmall) => {
                f.push(("status", text("too_small")));
                false
            }
            (LesionRole::NonTarget, State::Absent) => {
                f.push(("nt_status", text("absent")));
                false
            }
            (_, State::Absent) => {
                f.push(("status", text("absent")));
                false
            }
            (LesionRole::NonTarget, State::Present | State::Equivocal) => {
                f.push(("nt_status", text("present")));
                false
            }
            (LesionRole::NonTarget, State::Unequivocal) => {
                f.push(("nt_status", text("unequivocal_progression")));
                false
            }
            (LesionRole::New, State::Equivocal) => {
                f.push(("equivocal", J::Bool(true)));
                false
            }
            (LesionRole::New, State::Present | State::Unequivocal) => false,
            (LesionRole::Target, State::Present) => {
                f.push(("status", text("present")));
                false
            }
            (LesionRole::Target, _) => true,
        };
        if bad {
            cx.push(
                SdtmDiagnostic::error(
                    "sdtm::state_for_role",
                    format!("state of target lesion `{id}` is not one a target lesion can have"),
                    "a target lesion is measured, absent, too small or not assessed; progression of non-target disease belongs to NON-TARGET lesions",
                )
                .at(s.loc.clone()),
            );
        }
    }
    J::Obj(f)
}

/// Dexamethasone-equivalent mg/day at `date` from CM, and the date of the last change.
fn steroids(cx: &mut Ctx<'_>, cm: &Dataset, usubjid: &str, date: NaiveDate) -> Option<J> {
    let mut total = Rational::from_int(0);
    let mut changed: Option<NaiveDate> = None;
    for row in &cm.rows {
        if cm.get(row, "USUBJID") != usubjid {
            continue;
        }
        let mut name = cm.get(row, "CMDECOD");
        if name.is_empty() {
            name = cm.get(row, "CMTRT");
        }
        let Some(factor) = cx.map.steroids.get(&name.trim().to_uppercase()).copied() else {
            continue;
        };
        let from = match parse_dtc(cm.get(row, "CMSTDTC")) {
            Dtc::Full(d) => d,
            _ => {
                cx.push(
                    SdtmDiagnostic::error(
                        "sdtm::bad_date",
                        format!(
                            "corticosteroid start `{}` is not a full date",
                            cm.get(row, "CMSTDTC")
                        ),
                        "record CMSTDTC as YYYY-MM-DD",
                    )
                    .at(cm.at(row, Some("CMSTDTC"))),
                );
                continue;
            }
        };
        let end = cm.get(row, "CMENDTC");
        let to = if end.is_empty() {
            None
        } else {
            match parse_dtc(end) {
                Dtc::Full(d) => Some(d),
                _ => {
                    cx.push(
                        SdtmDiagnostic::error(
                            "sdtm::bad_date",
                            format!("corticosteroid end `{end}` is not a full date"),
                            "record CMENDTC as YYYY-MM-DD, or leave it empty while ongoing",
                        )
                        .at(cm.at(row, Some("CMENDTC"))),
                    );
                    continue;
                }
            }
        };
        if from > date || to.is_some_and(|t| t < date) {
            continue;
        }
        let dose = cm.get(row, "CMDOSE");
        let unit = cm.get(row, "CMDOSU");
        let Some(dose) = decimal_text(dose).and_then(|t| t.parse::<Rational>().ok()) else {
            cx.push(
                SdtmDiagnostic::error(
                    "sdtm::not_a_number",
                    format!("corticosteroid dose `{dose}` is not a number"),
                    "record CMDOSE as a decimal number of mg",
                )
                .at(cm.at(row, Some("CMDOSE"))),
            );
            continue;
        };
        if !unit.eq_ignore_ascii_case("mg") {
            cx.push(
                SdtmDiagnostic::error(
                    "sdtm::unit",
                    format!("corticosteroid dose unit is `{unit}`, not mg"),
                    "record CMDOSU as mg",
                )
                .at(cm.at(row, Some("CMDOSU"))),
            );
            continue;
        }
        let frq = cm.get(row, "CMDOSFRQ").trim().to_uppercase();
        let per_day = if frq.is_empty() {
            Rational::from_int(1)
        } else if let Some(n) = cx.map.frequencies.get(&frq) {
            *n
        } else {
            cx.push(
                SdtmDiagnostic::error(
                    "sdtm::unknown_value",
                    format!("dosing frequency `{frq}` is not one the mapping knows"),
                    "map it under `frequencies:` (administrations per day) in a --map file",
                )
                .at(cm.at(row, Some("CMDOSFRQ"))),
            );
            continue;
        };
        let add = dose
            .checked_mul(per_day)
            .and_then(|x| x.checked_mul(factor))
            .and_then(|x| total.checked_add(x));
        match add {
            Ok(t) => total = t,
            Err(_) => continue,
        }
        if changed.is_none_or(|c| from > c) {
            changed = Some(from);
        }
    }
    let mut f = vec![("dose_mg", J::Num(total.to_decimal_string(6)))];
    if let Some(c) = changed {
        f.push(("changed_on", J::Str(c.to_string())));
    }
    Some(J::Obj(f))
}
