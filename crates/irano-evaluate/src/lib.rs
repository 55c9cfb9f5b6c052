//! The evaluator: a checked [`Program`] applied to a [`Case`]. Pure — no I/O, no
//! globals, no criterion knowledge: every threshold, label and rule comes from the
//! program. The same program and case always give the same result.
//!
//! One pass over the scans in date order: lets are computed, the tables run (first
//! matching rule per table), state is updated; then the summary runs once.

mod access;
mod derive;
mod explain;
mod expr;
mod result;

use std::cmp::Ordering;

use chrono::NaiveDate;
use irano_cases::{self as cases, Case};
use irano_check::program::*;
use irano_exact::{days_between, push_iso_date};

use access::lesion_id;
use explain::{location, show_param, shown_value};
use expr::{compare_values, sym, values_equal};

pub use derive::{
    explain_case, explain_scan, Assignment, CaseDerivation, Definition, Outcome, RuleTrial,
    ScanDerivation, Step, SummaryDerivation, TableDerivation, TargetChoice,
};
pub use result::*;
pub mod warnings;

/// Evaluation failed for one case: a rule computed something impossible (overflow, a
/// division by zero, a date out of range). The rule file needs a fix or a guard.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    pub patient: String,
    /// The scan being evaluated, if any.
    pub date: Option<NaiveDate>,
    pub message: String,
    /// The rule-file text that failed, as `file:line:column`.
    pub location: String,
    /// What to change in the rule file (or the case) so that it cannot happen.
    pub help: &'static str,
}

/// Evaluates one case.
pub fn evaluate(program: &Program, case: &Case) -> Result<CaseResult, EvalError> {
    let mut ev = Evaluator::new(program);
    ev.evaluate(case)
}

/// The parameters changed for this run (`--set`), with their values and defaults, as
/// every result lists them.
pub fn overrides(p: &Program) -> Vec<ParamValue> {
    p.params
        .iter()
        .filter(|x| x.overridden)
        .map(|x| ParamValue {
            name: x.name.clone(),
            value: show_param(p, x, x.value),
            default: show_param(p, x, x.default),
        })
        .collect()
}

/// The unit of each `show` value that has one, in the criterion's order.
pub fn units(p: &Program) -> Vec<(String, &'static str)> {
    p.shows
        .iter()
        .filter(|s| !s.unit().is_empty())
        .map(|s| (s.name.clone(), s.unit()))
        .collect()
}

/// Reusable evaluation buffers: evaluate many cases with one `Evaluator` and the hot
/// loop allocates only what the result itself holds.
pub struct Evaluator<'p> {
    p: &'p Program,
    /// Scan-level let values, `scan * lets + let`, computed on demand (see `let_done`).
    lets: Vec<Value>,
    /// Which entries of `lets` hold their value.
    let_done: Vec<bool>,
    /// The scan whose lets may be computed on demand now (the scan being graded).
    lazy_scan: Option<usize>,
    /// The state as of the last point where eager evaluation would have computed the lets
    /// (the scan's start, or after a table that changed state): what a let reads.
    let_state: Vec<Value>,
    /// Lets computing on demand, nested (state is then read from `let_state`).
    let_depth: u32,
    slots: Vec<Value>,
    state: Vec<Value>,
    outputs: Vec<(Option<u16>, Option<u16>)>,
    graded: Vec<bool>,
    /// Per scan: skipped by `skip grading when` (in no scan set but `scans`).
    skipped: Vec<bool>,
    /// Whether any scan of the case was skipped (sets test `skipped` only then).
    any_skipped: bool,
    summary_lets: Vec<Value>,
    targets: Vec<u32>,
    non_targets: Vec<u32>,
    /// A table assigned a state variable a new value (its state-reading lets are stale).
    state_changed: bool,
    /// The first table that can assign `response`: shown values are computed just before
    /// it (found once per program, not per scan).
    response_table: Option<usize>,
    /// How deep the trace of a fired rule expands the definitions it read (`usize::MAX`:
    /// untruncated, for `explain_scan`).
    explain_depth: usize,
    /// Set by `explain_scan` / `explain_case`: where the full derivations are collected.
    derive: Option<derive::Sink>,
    /// The tables now running record every rule they try (see `derive`).
    deriving: bool,
    /// How much explanation to record.
    trace: Trace,
    /// The summary tables are running (their fired rules go to `summary_fired`).
    in_summary_tables: bool,
    /// The values a fired rule assigns (reused).
    assign_buf: Vec<Value>,
    /// The outcome of the last case evaluated.
    out: Evaluated,
    /// Lesion measurements (`d`, `ld`, `sa`, `vol_ml`) the last case's rules read, as bits
    /// of [`MEASUREMENTS`], and whether any read found a value.
    measurements_read: u8,
    measurement_found: bool,
    /// Per lesion of the last case: the measurement bits its rules read for it, and
    /// [`READ_FOUND`] once one of those reads found a value.
    lesion_reads: Vec<u8>,
    /// The last case's lesions marked `role: target` (and followed) when there are more of
    /// them than the targets block's `max`: `(marked, max)`.
    marked_targets_over_max: Option<(usize, i128)>,
    /// After a case: lesions marked `role: target` that share one group of a `max_per`
    /// limit beyond it: `(marked in the group, limit, the group's key as text)`.
    marked_targets_over_group_limit: Option<(usize, i128, String)>,
    /// After a case: lesions a `max_per` limit left out of the targets while the group key
    /// read a lesion field the lesion does not give: `(lesion id, field names)`.
    grouped_without_field: Vec<(String, Vec<&'static str>)>,
    /// The lesion fields each `max_per` group key reads, with their names (decided once,
    /// from the program).
    group_key_fields: Vec<Vec<(LesionField, &'static str)>>,
    /// After a case: the ids of lesions marked `role: target` (and followed as targets)
    /// that the targets' `candidate` condition turns down (below the criterion's
    /// measurable size, say).
    /// Lesions marked `role: target` the `candidate` condition refuses, each with the
    /// source text of the first of its `and`-ed conditions that is false.
    marked_targets_not_candidates: Vec<(String, String)>,
    /// After a case: the lesions it marks `role: target` that the targets' `eligible:`
    /// condition turns down (a normal lymph node under RECIST 1.1, say): not followed.
    marked_targets_not_eligible: Vec<(String, String)>,
    /// After a case: `role: auto` lesions the targets' `candidate` turned down while it
    /// read a lesion field (not a measurement) the lesion does not give: `(lesion id,
    /// field names)`.
    not_candidate_without_field: Vec<(String, Vec<&'static str>)>,
    /// The lesion fields the `candidate` condition reads that a case may leave out by
    /// mistake, with their names (decided once, from the program: [`candidate_fields`]).
    candidate_fields: Vec<(LesionField, &'static str)>,
    /// Whether the program reads `case.chemoradiation_end` and `case.reirradiation_end`
    /// anywhere (decided once, from the program).
    reads_optional_case_fields: [bool; 2],
}

/// In [`Evaluator::lesion_reads`]: a read of one of the lesion's measurements found a value.
pub(crate) const READ_FOUND: u8 = 16;

/// The lesion measurements a case may give and a rule may read, by field name; bit `i` of
/// `measurements_read` stands for `MEASUREMENTS[i]`.
const MEASUREMENTS: [&str; 4] = ["d", "ld", "sa", "vol_ml"];

/// The bit of `measurements_read` a lesion field sets (the index of its name in
/// [`MEASUREMENTS`]), 0 for a field that is not a measurement.
#[inline(always)]
pub(crate) fn measurement_bit(f: LesionField) -> u8 {
    match f {
        LesionField::D1 | LesionField::D2 => 1,
        LesionField::Ld => 2,
        LesionField::Sa => 4,
        LesionField::VolMl => 8,
        _ => 0,
    }
}

/// The lesion measurements a case gives somewhere, named as in [`MEASUREMENTS`].
pub fn measurements_given(case: &Case) -> Vec<&'static str> {
    let given = case
        .assessments
        .iter()
        .flat_map(|a| a.lesions.iter().chain(&a.new_lesions))
        .fold(0, |m, o| m | measurement_mask(o));
    measurement_names(given)
}

/// The measurements an observation gives, as bits of [`MEASUREMENTS`].
fn measurement_mask(o: &cases::Observation) -> u8 {
    u8::from(o.d.is_some())
        | u8::from(o.ld.is_some()) << 1
        | u8::from(o.sa.is_some()) << 2
        | u8::from(o.vol_ml.is_some()) << 3
}

/// The names of the measurements whose bits are set in `mask`.
fn measurement_names(mask: u8) -> Vec<&'static str> {
    MEASUREMENTS
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect()
}

/// How much of the explanation evaluation records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Trace {
    /// Every rule that fired, what it compared and what it assigned (`explain`, `fired`).
    #[default]
    Full,
    /// The deciding rule of each output only.
    Rules,
    /// Labels and values only.
    None,
}

/// What one scan got, as indexes into the program (no text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanOutcome {
    pub role: ScanRole,
    /// Index of the label (`Program::label_name`).
    pub response: Option<u16>,
    /// Index of the decision (`Program::decision_name`).
    pub decision: Option<u16>,
    /// The rule that set the response: (table, rule) indexes in `Program::tables`.
    pub rule: Option<(u32, u32)>,
    /// Whether the scan has `show` values (every scan from the baseline on).
    pub shown: bool,
    /// The scan's records in `Evaluated::fired` (full trace).
    fired: (u32, u32),
    response_fired: Option<u32>,
}

impl ScanOutcome {
    fn new(role: ScanRole) -> Self {
        ScanOutcome {
            role,
            response: None,
            decision: None,
            rule: None,
            shown: false,
            fired: (0, 0),
            response_fired: None,
        }
    }
}

/// The compact outcome of one case ([`Evaluator::run`]): reused from case to case.
#[derive(Debug, Default)]
pub struct Evaluated {
    /// One per assessment, in order.
    pub scans: Vec<ScanOutcome>,
    /// The `show` values: `Program::shows.len()` per assessment (`Null` where absent).
    pub shown: Vec<Value>,
    /// The baseline scan, if one qualifies.
    pub base: Option<usize>,
    /// The scan after which grading stopped.
    pub stopped: Option<usize>,
    /// The summary rules that fired: (table, rule) indexes in `Program::summary_tables`.
    pub summary: Vec<(u32, u32)>,
    pub best_overall_response: Option<u16>,
    pub final_decision: Option<u16>,
    pub pd_date: Option<NaiveDate>,
    pub pd_confirmed_on: Option<NaiveDate>,
    /// The criterion's `warn` declarations whose condition held (indexes in
    /// `Program::warnings`), each with the values its comparisons compared.
    pub warnings: Vec<(u32, String)>,
    /// Evaluation stopped early (`explain_scan`).
    partial: bool,
    fired: Vec<Fired>,
    summary_fired: Vec<Fired>,
}

/// How deep the trace of a fired rule (`Fired::explain`) expands the definitions it read.
const TRACE_DEPTH: usize = 4;

/// Whether some rule of the table assigns the scan's `response`.
fn assigns_response(table: &Table) -> bool {
    table
        .rules
        .iter()
        .any(|r| r.assigns.iter().any(|a| a.target == Target::Response))
}

/// Results of evaluation. The failure is boxed: it is rare, and a value returned at every
/// node should not be made larger by it.
type R<T> = Result<T, Box<Fail>>;

/// An evaluation failure before it is given the case's context.
#[derive(Debug)]
struct Fail {
    message: String,
    src: Src,
    help: &'static str,
}

impl Fail {
    fn new(message: impl Into<String>, src: Src, help: &'static str) -> Box<Fail> {
        Box::new(Fail {
            message: message.into(),
            src,
            help,
        })
    }
}

fn fail<T>(message: impl Into<String>, src: Src, help: &'static str) -> R<T> {
    Err(Fail::new(message, src, help))
}

struct Cx<'a> {
    p: &'a Program,
    case: &'a Case,
    base: usize,
    /// The scan being evaluated; in the summary, the number of scans.
    cur: usize,
    in_summary: bool,
    cur_out: (Option<u16>, Option<u16>),
    cur_lesion: Option<Value>,
}

impl<'p> Evaluator<'p> {
    pub fn new(p: &'p Program) -> Self {
        Evaluator {
            p,
            lets: Vec::new(),
            let_done: Vec::new(),
            lazy_scan: None,
            let_state: Vec::new(),
            let_depth: 0,
            slots: vec![Value::Null; usize::from(p.slots)],
            state: Vec::new(),
            outputs: Vec::new(),
            graded: Vec::new(),
            skipped: Vec::new(),
            any_skipped: false,
            summary_lets: Vec::new(),
            targets: Vec::new(),
            non_targets: Vec::new(),
            state_changed: false,
            response_table: p.tables.iter().position(assigns_response),
            explain_depth: TRACE_DEPTH,
            derive: None,
            deriving: false,
            trace: Trace::Full,
            in_summary_tables: false,
            assign_buf: Vec::new(),
            out: Evaluated::default(),
            measurements_read: 0,
            measurement_found: false,
            lesion_reads: Vec::new(),
            marked_targets_over_max: None,
            marked_targets_over_group_limit: None,
            grouped_without_field: Vec::new(),
            group_key_fields: p
                .targets
                .max_per
                .iter()
                .map(|(key, _)| lesion_fields_read(key))
                .collect(),
            not_candidate_without_field: Vec::new(),
            marked_targets_not_candidates: Vec::new(),
            marked_targets_not_eligible: Vec::new(),
            candidate_fields: candidate_fields(p),
            reads_optional_case_fields: [
                p.reads_case_field(CaseField::ChemoradiationEnd),
                p.reads_case_field(CaseField::ReirradiationEnd),
            ],
        }
    }

    /// After a case: the lesions it marks `role: target` that the criterion's `candidate`
    /// condition would not take (they are followed as targets, as marked).
    pub fn marked_targets_not_candidates(&self) -> &[(String, String)] {
        &self.marked_targets_not_candidates
    }

    /// After a case: the target lesions (indexes into `Case::lesions`).
    pub(crate) fn target_lesions(&self) -> &[u32] {
        &self.targets
    }

    /// After a case: the lesions it marks `role: target` that the criterion's `eligible:`
    /// condition turns down (they are not followed, whatever the case marks).
    /// Each with the part of the condition that turned it down (as for
    /// [`Self::marked_targets_not_candidates`]).
    pub fn marked_targets_not_eligible(&self) -> &[(String, String)] {
        &self.marked_targets_not_eligible
    }

    /// After a case: the scans `skip grading when` left ungraded, by index, with the reason
    /// the criterion gives.
    pub fn skipped_scans(&self) -> Vec<(usize, &str)> {
        let because = self.p.skip.as_ref().map_or("", |s| s.because.as_str());
        self.skipped
            .iter()
            .enumerate()
            .filter(|(_, s)| **s)
            .map(|(i, _)| (i, because))
            .collect()
    }

    /// After a case: how many lesions it marks `role: target`, and the criterion's limit,
    /// when it marks more than the limit (all of them are followed as targets, as marked).
    pub fn marked_targets_over_max(&self) -> Option<(usize, i128)> {
        self.marked_targets_over_max
    }

    /// After a case: the lesion measurements its rules read when not one read found a value
    /// (a volumetric criterion on a case measured by diameters only); empty otherwise.
    pub fn measurements_never_found(&self) -> Vec<&'static str> {
        if self.measurement_found {
            return Vec::new();
        }
        measurement_names(self.measurements_read)
    }

    /// After a case: whether the rules read both a longest diameter `ld` and the diameters
    /// of `d`, as criteria do that take the first of `d` for the longest diameter (RANO-BM,
    /// RECIST 1.1): the order of `d` then matters.
    pub fn read_d_as_longest_first(&self) -> bool {
        self.measurements_read & measurement_bit(LesionField::Ld) != 0
            && self.measurements_read & measurement_bit(LesionField::D1) != 0
    }

    /// After a case: lesions marked `role: target` in one group of a `max_per` limit beyond
    /// it (all are followed, as marked): `(marked in the group, limit, group key)`.
    pub fn marked_targets_over_group_limit(&self) -> Option<&(usize, i128, String)> {
        self.marked_targets_over_group_limit.as_ref()
    }

    /// After a case: lesions left out of the targets by a `max_per` limit whose group key
    /// read a lesion field they do not give (so they were grouped under the key's
    /// fallback), with those fields' names.
    pub fn grouped_without_field(&self) -> &[(String, Vec<&'static str>)] {
        &self.grouped_without_field
    }

    /// After a case: the `role: auto` lesions the targets' `candidate` condition turned
    /// down while it read a lesion field they do not give (a BM lesion without
    /// `component`), with those fields' names.
    pub fn not_candidate_without_field(&self) -> &[(String, Vec<&'static str>)] {
        &self.not_candidate_without_field
    }

    /// The optional case-level fields `case` gives that no rule, let or def of this
    /// criterion ever reads (they change nothing), by field name.
    pub fn case_fields_not_read(&self, case: &Case) -> Vec<&'static str> {
        let given = [
            ("chemoradiation_end", case.chemoradiation_end.is_some()),
            ("reirradiation_end", case.reirradiation_end.is_some()),
        ];
        given
            .iter()
            .zip(self.reads_optional_case_fields)
            .filter(|((_, given), read)| *given && !*read)
            .map(|((name, _), _)| *name)
            .collect()
    }

    /// Whether the criterion reads `case.chemoradiation_end` (its window after first-line
    /// chemoradiation, say).
    pub fn reads_chemoradiation_end(&self) -> bool {
        self.reads_optional_case_fields[0]
    }

    /// After a case: the lesions whose measurements the rules read without ever finding a
    /// value while the case gives the lesion another measurement (a node given `ld` where
    /// the criterion reads `sa`): `(lesion id, fields read, fields given)`.
    pub fn lesions_measured_otherwise(
        &self,
        case: &Case,
    ) -> Vec<(String, Vec<&'static str>, Vec<&'static str>)> {
        let mut out = Vec::new();
        for (li, &read) in self.lesion_reads.iter().enumerate() {
            if read & READ_FOUND != 0 || read == 0 {
                continue;
            }
            let given = case
                .assessments
                .iter()
                .flat_map(|a| a.lesions.iter().chain(&a.new_lesions))
                .filter(|o| o.lesion == li)
                .fold(0, |m, o| m | measurement_mask(o));
            if given & !read == 0 {
                continue;
            }
            out.push((
                lesion_id(case, li as u32).to_string(),
                measurement_names(read),
                measurement_names(given),
            ));
        }
        out
    }

    /// The criterion's `warn` declarations (indexes in `Program::warnings`) whose condition
    /// held on the last case run, each with the values its comparisons compared.
    pub fn warnings_fired(&self) -> &[(u32, String)] {
        &self.out.warnings
    }

    /// The program this evaluator runs.
    pub fn program(&self) -> &'p Program {
        self.p
    }

    /// How much explanation evaluation records (default: [`Trace::Full`]).
    pub fn with_trace(mut self, trace: Trace) -> Self {
        self.trace = trace;
        self
    }

    /// Evaluates one case into the full result ([`CaseResult`]), with the explanations
    /// the evaluator's [`Trace`] asks for.
    pub fn evaluate(&mut self, case: &Case) -> Result<CaseResult, EvalError> {
        self.run(case)?;
        Ok(self.result(case))
    }

    /// Evaluates one case into the evaluator's reusable [`Evaluated`] buffers: labels,
    /// deciding rules and shown values as indexes and values, no text. With
    /// [`Trace::None`] or [`Trace::Rules`] the scan loop allocates nothing per scan.
    pub fn run(&mut self, case: &Case) -> Result<&Evaluated, EvalError> {
        self.run_case(case, false)
    }

    /// `relative`: the case's lesions are already read relative to the baseline.
    fn run_case(&mut self, case: &Case, relative: bool) -> Result<&Evaluated, EvalError> {
        let p = self.p;
        let n = case.assessments.len();
        let mut cx = Cx {
            p,
            case,
            base: 0,
            cur: 0,
            in_summary: false,
            cur_out: (None, None),
            cur_lesion: None,
        };
        let wrap = |f: Box<Fail>, date: Option<NaiveDate>| EvalError {
            patient: case.patient.clone(),
            date,
            message: f.message,
            location: location(p, f.src),
            help: f.help,
        };
        let full = self.trace == Trace::Full;
        self.measurements_read = 0;
        self.measurement_found = false;
        self.lesion_reads.clear();
        self.lesion_reads.resize(case.lesions.len(), 0);
        self.marked_targets_over_max = None;
        self.marked_targets_over_group_limit = None;
        self.grouped_without_field.clear();
        self.not_candidate_without_field.clear();
        self.marked_targets_not_candidates.clear();
        self.marked_targets_not_eligible.clear();
        self.lets.clear();
        self.lets.resize(n * p.lets.len(), Value::Null);
        self.let_done.clear();
        self.let_done.resize(n * p.lets.len(), false);
        self.lazy_scan = None;
        self.let_depth = 0;
        self.outputs.clear();
        self.outputs.resize(n, (None, None));
        self.graded.clear();
        self.graded.resize(n, false);
        self.skipped.clear();
        self.skipped.resize(n, false);
        self.any_skipped = false;
        self.targets.clear();
        self.non_targets.clear();
        self.state.clear();
        let out = &mut self.out;
        out.scans.clear();
        out.shown.clear();
        out.shown.resize(n * p.shows.len(), Value::Null);
        out.fired.clear();
        out.summary.clear();
        out.summary_fired.clear();
        out.warnings.clear();
        out.base = None;
        out.stopped = None;
        out.best_overall_response = None;
        out.final_decision = None;
        out.pd_date = None;
        out.pd_confirmed_on = None;
        for s in &p.states {
            let v = self.eval(&mut cx, &s.initial).map_err(|f| wrap(f, None))?;
            self.state.push(v);
        }

        // 1. the baseline
        cx.cur = n;
        let base = match self.eval(&mut cx, &p.baseline).map_err(|f| wrap(f, None))? {
            Value::Scan(i) => Some(i as usize),
            _ => None,
        };
        let Some(base) = base else {
            for _ in &case.assessments {
                self.out.scans.push(ScanOutcome::new(ScanRole::NotGraded));
            }
            return Ok(&self.out);
        };
        if !relative {
            if let Some(c) = relative_to_baseline(case, base) {
                return self.run_case(&c, true);
            }
        }
        cx.base = base;
        self.out.base = Some(base);

        // 2. target lesions
        cx.cur = base;
        self.choose_targets(&mut cx)
            .map_err(|f| wrap(f, case.assessments.get(base).map(|a| a.date)))?;
        if self.derive.as_ref().is_some_and(|d| d.wants_scan(base)) {
            self.derive_targets(&mut cx)
                .map_err(|f| wrap(f, case.assessments.get(base).map(|a| a.date)))?;
        }

        // 3. the scans
        for (i, a) in case.assessments.iter().enumerate() {
            if i < base {
                self.out.scans.push(ScanOutcome::new(ScanRole::PreBaseline));
                continue;
            }
            cx.cur = i;
            cx.cur_out = (None, None);
            let date = Some(a.date);
            // lets are computed when first read, as of this point (docs/language.md,
            // evaluation order); those read on later scans at the end of this one
            self.open_scan_lets(i);
            let mut so = ScanOutcome::new(ScanRole::Followup);
            so.fired = (self.out.fired.len() as u32, self.out.fired.len() as u32);
            so.shown = true;
            if i == base || self.out.stopped.is_some() {
                self.shows(&mut cx, i).map_err(|f| wrap(f, date))?;
            }
            if i == base {
                so.role = ScanRole::Baseline;
                self.close_scan_lets(&mut cx).map_err(|f| wrap(f, date))?;
                self.out.scans.push(so);
                continue;
            }
            if self.out.stopped.is_some() {
                so.role = ScanRole::NotGraded;
                self.close_scan_lets(&mut cx).map_err(|f| wrap(f, date))?;
                self.out.scans.push(so);
                continue;
            }
            // `skip grading when`: tested before the tables; a skipped scan is reported
            // not graded, with its shown values, and is in no scan set but `scans`
            if let Some(skip) = &p.skip {
                if self.eval(&mut cx, &skip.when).map_err(|f| wrap(f, date))? == Value::Bool(true) {
                    if let Some(s) = self.skipped.get_mut(i) {
                        *s = true;
                    }
                    self.any_skipped = true;
                    self.shows(&mut cx, i).map_err(|f| wrap(f, date))?;
                    so.role = ScanRole::NotGraded;
                    self.lazy_scan = None;
                    self.out.scans.push(so);
                    continue;
                }
            }
            // Shown values are those the response is decided on: computed just before
            // the first table that can assign `response`. Every table sees the state as
            // the tables before it left it: lets that read state are recomputed after a
            // table changes it (docs/language.md, evaluation order).
            let mut shown = false;
            self.deriving = self.derive.as_ref().is_some_and(|d| d.wants_scan(i));
            if self.deriving {
                self.begin_scan_derivation(&cx);
            }
            for (ti, table) in p.tables.iter().enumerate() {
                if !shown && self.response_table == Some(ti) {
                    self.shows(&mut cx, i).map_err(|f| wrap(f, date))?;
                    shown = true;
                }
                self.state_changed = false;
                if let Some(ri) = self.run_table(&mut cx, table).map_err(|f| wrap(f, date))? {
                    // the last rule that fired and assigned the response decided it: a
                    // later table's assignment replaces an earlier one's label
                    if self.assigns_response(ti, ri) {
                        so.rule = Some((ti as u32, ri as u32));
                        if full || self.deriving {
                            so.response_fired = Some(self.out.fired.len() as u32 - 1);
                        }
                    }
                }
                if self.state_changed {
                    self.state_lets_stale(i);
                }
            }
            so.fired.1 = self.out.fired.len() as u32;
            let derived = std::mem::take(&mut self.deriving);
            if derived {
                self.end_scan_derivation(&cx, i);
            }
            if !shown {
                self.shows(&mut cx, i).map_err(|f| wrap(f, date))?;
            }
            if let Some(o) = self.outputs.get_mut(i) {
                *o = cx.cur_out;
            }
            if let Some(g) = self.graded.get_mut(i) {
                *g = true;
            }
            so.response = cx.cur_out.0;
            so.decision = cx.cur_out.1;
            if let Some(stop) = &p.stop {
                if self.eval(&mut cx, &stop.when).map_err(|f| wrap(f, date))? == Value::Bool(true) {
                    self.out.stopped = Some(i);
                }
            }
            self.close_scan_lets(&mut cx).map_err(|f| wrap(f, date))?;
            self.out.scans.push(so);
            if derived && self.derive.as_ref().is_some_and(|d| d.done_after(i)) {
                // `explain_scan`: the scans after the one explained cannot change it
                self.out.partial = true;
                return Ok(&self.out);
            }
        }
        self.out.partial = false;

        // 4. the summary
        cx.cur = n;
        cx.in_summary = true;
        cx.cur_out = (None, None);
        self.summary_lets.clear();
        self.summary_lets.resize(p.summary_lets.len(), Value::Null);
        self.compute_summary_lets(&mut cx)
            .map_err(|f| wrap(f, None))?;
        let mut bor = None;
        let mut fin = None;
        self.deriving = self.derive.as_ref().is_some_and(|d| d.wants_summary());
        self.in_summary_tables = true;
        for (ti, table) in p.summary_tables.iter().enumerate() {
            let before = cx.cur_out;
            cx.cur_out = (None, None);
            self.state_changed = false;
            let fired = self.run_table(&mut cx, table);
            let o = cx.cur_out;
            cx.cur_out = before;
            if self.state_changed && fired.is_ok() {
                // as on a scan: the next table reads lets computed from the new state
                // (a let that does not read state computes the same value again)
                self.compute_summary_lets(&mut cx)
                    .map_err(|f| wrap(f, None))?;
            }
            if let Some(ri) = fired.map_err(|f| wrap(f, None))? {
                bor = o.0.or(bor);
                fin = o.1.or(fin);
                self.out.summary.push((ti as u32, ri as u32));
            }
        }
        self.in_summary_tables = false;
        self.deriving = false;
        self.out.best_overall_response = bor;
        self.out.final_decision = fin;
        let state_date = |ix: Option<u32>| match ix.and_then(|i| self.state.get(i as usize)) {
            Some(Value::Date(d)) => Some(*d),
            _ => None,
        };
        self.out.pd_date = state_date(p.pd_date_state);
        self.out.pd_confirmed_on = state_date(p.pd_confirmed_state);
        // 5. the criterion's warnings about the case's data (they change no result)
        for (wi, w) in p.warnings.iter().enumerate() {
            if self.eval(&mut cx, &w.when).map_err(|f| wrap(f, None))? == Value::Bool(true) {
                let values = self.compared_values(&mut cx, &w.when);
                self.out.warnings.push((wi as u32, values));
            }
        }
        Ok(&self.out)
    }

    /// Computes the summary lets, in dependency order, from the state as it is now.
    fn compute_summary_lets(&mut self, cx: &mut Cx<'_>) -> R<()> {
        let p = self.p;
        for &li in &p.summary_let_order {
            let Some(l) = p.summary_lets.get(li as usize) else {
                continue;
            };
            let v = self.eval(cx, &l.expr)?;
            if let Some(slot) = self.summary_lets.get_mut(li as usize) {
                *slot = v;
            }
        }
        Ok(())
    }

    /// Whether rule `ri` of scan table `ti` assigns the response.
    fn assigns_response(&self, ti: usize, ri: usize) -> bool {
        self.p
            .tables
            .get(ti)
            .and_then(|t| t.rules.get(ri))
            .is_some_and(|r| r.assigns.iter().any(|a| a.target == Target::Response))
    }

    /// The last case [`Evaluator::run`] evaluated, as the full result (the text is made
    /// here, from the compact outcome and the recorded trace).
    pub fn result(&mut self, case: &Case) -> CaseResult {
        let p = self.p;
        let out = &mut self.out;
        let full = self.trace == Trace::Full;
        let rules = self.trace != Trace::None;
        let mut fired = std::mem::take(&mut out.fired).into_iter();
        let mut result = CaseResult {
            patient: case.patient.clone(),
            criterion: CriterionRef {
                id: p.id.clone(),
                version: p.version.clone(),
            },
            assessments: Vec::with_capacity(out.scans.len()),
            best_overall_response: out
                .best_overall_response
                .map(|v| p.label_name(v).to_string()),
            best_overall_response_native: out
                .best_overall_response
                .and_then(|v| p.label_native(v).map(str::to_string)),
            pd_date: out.pd_date,
            pd_confirmed_on: out.pd_confirmed_on,
            final_decision: out.final_decision.map(|v| p.decision_name(v).to_string()),
            summary: Vec::new(),
            lesions: None,
            overrides: overrides(p),
            units: units(p),
        };
        // reasons are built with `push_str`: `format!` was a third of their cost
        let reason = |before: &[&str], date: Option<usize>, after: &str| {
            let mut s = String::with_capacity(80);
            for part in before {
                s.push_str(part);
            }
            if let Some(a) = date.and_then(|i| case.assessments.get(i)) {
                push_iso_date(&mut s, a.date);
            }
            s.push_str(after);
            s
        };
        let Some(base) = out.base else {
            for (a, so) in case.assessments.iter().zip(&out.scans) {
                result.assessments.push(AssessmentResult {
                    date: a.date,
                    day: days_between(case.therapy_start, a.date),
                    role: so.role,
                    response: None,
                    response_native: None,
                    decision: None,
                    rule: None,
                    explain: None,
                    reason: rules.then(|| {
                        format!(
                            "not graded: no scan qualifies as baseline ({})",
                            p.baseline_cite
                        )
                    }),
                    because: None,
                    values: Vec::new(),
                    fired: Vec::new(),
                });
            }
            if rules {
                result.summary.push(Fired {
                    table: "baseline".into(),
                    rule: "baseline".into(),
                    cite: p.baseline_cite.clone(),
                    because: Some("no scan qualifies as baseline; nothing can be graded".into()),
                    // the choice as written, and what it found
                    explain: {
                        let text = explain::squash(p.text_of(p.baseline.src));
                        if text.contains(' ') {
                            format!("({text}) = absent")
                        } else {
                            format!("{text} = absent")
                        }
                    },
                    set: Vec::new(),
                });
            }
            return result;
        };
        result.lesions = Some(LesionChoice {
            targets: self
                .targets
                .iter()
                .map(|&l| lesion_id(case, l).to_string())
                .collect(),
            non_targets: self
                .non_targets
                .iter()
                .map(|&l| lesion_id(case, l).to_string())
                .collect(),
            rule: p.targets.cite.clone(),
        });
        let k = p.shows.len();
        for (i, (a, so)) in case.assessments.iter().zip(&out.scans).enumerate() {
            let mut ar = AssessmentResult {
                date: a.date,
                day: days_between(case.therapy_start, a.date),
                role: so.role,
                response: so.response.map(|v| p.label_name(v).to_string()),
                response_native: so
                    .response
                    .and_then(|v| p.label_native(v).map(str::to_string)),
                decision: so.decision.map(|v| p.decision_name(v).to_string()),
                rule: None,
                explain: None,
                reason: None,
                because: None,
                values: Vec::new(),
                fired: Vec::new(),
            };
            if so.shown {
                let values = out.shown.get(i * k..(i + 1) * k).unwrap_or_default();
                ar.values = Vec::with_capacity(k);
                for (j, (s, v)) in p.shows.iter().zip(values).enumerate() {
                    // a value often repeats from one scan to the next (the nadir, a stable
                    // burden): its texts are copied rather than worked out again
                    let previous = i.checked_sub(1).zip(result.assessments.last());
                    let same = previous.and_then(|(pi, pa)| {
                        (out.shown.get(pi * k + j) == Some(v))
                            .then(|| pa.values.get(j).cloned())
                            .flatten()
                    });
                    ar.values
                        .push(same.unwrap_or_else(|| shown_value(p, case, &s.name, *v, s.expr.ty)));
                }
            }
            if rules {
                ar.reason = match so.role {
                    ScanRole::PreBaseline => Some(reason(
                        &["not graded: before the baseline scan of "],
                        Some(base),
                        "",
                    )),
                    ScanRole::Baseline => {
                        Some(reason(&["baseline scan (", &p.baseline_cite], None, ")"))
                    }
                    ScanRole::NotGraded if self.skipped.get(i).copied().unwrap_or(false) => {
                        Some(reason(
                            &[
                                "not graded: ",
                                p.skip.as_ref().map(|s| s.because.as_str()).unwrap_or(""),
                            ],
                            None,
                            "",
                        ))
                    }
                    ScanRole::NotGraded => Some(reason(
                        &[
                            "not graded: ",
                            p.stop.as_ref().map(|s| s.because.as_str()).unwrap_or(""),
                            " (after the scan of ",
                        ],
                        out.stopped,
                        ")",
                    )),
                    ScanRole::Followup if so.response.is_none() => {
                        Some("no rule assigned a response".into())
                    }
                    ScanRole::Followup => None,
                };
                let deciding = so.rule.and_then(|(ti, ri)| {
                    p.tables
                        .get(ti as usize)
                        .and_then(|t| t.rules.get(ri as usize))
                });
                ar.rule = deciding.map(|r| r.id.clone());
                ar.because = deciding.and_then(|r| r.because.clone());
            }
            if full {
                let count = so.fired.1.saturating_sub(so.fired.0) as usize;
                ar.fired = fired.by_ref().take(count).collect();
                if let Some(f) = so
                    .response_fired
                    .and_then(|x| ar.fired.get((x - so.fired.0) as usize))
                {
                    ar.explain = Some(f.explain.clone());
                }
            }
            result.assessments.push(ar);
        }
        if full {
            result.summary = std::mem::take(&mut out.summary_fired);
        } else if rules {
            result.summary = out
                .summary
                .iter()
                .filter_map(|&(ti, ri)| {
                    let t = p.summary_tables.get(ti as usize)?;
                    let r = t.rules.get(ri as usize)?;
                    Some(Fired {
                        table: t.name.clone(),
                        rule: r.id.clone(),
                        cite: r.cite.clone(),
                        because: r.because.clone(),
                        explain: String::new(),
                        // what it assigned, by name (the values are the result's own)
                        set: r
                            .assigns
                            .iter()
                            .map(|a| target_name(p, a.target).to_string())
                            .collect(),
                    })
                })
                .collect();
        }
        result
    }

    /// Scan `i` is being graded: its lets compute when first read, as of now.
    fn open_scan_lets(&mut self, i: usize) {
        self.lazy_scan = Some(i);
        self.let_state.clone_from(&self.state);
    }

    /// A table changed state: the lets of scan `i` that read state are computed again
    /// when next read, from the state as it is now (as if recomputed here).
    fn state_lets_stale(&mut self, i: usize) {
        let n = self.p.lets.len();
        for &li in &self.p.state_let_order {
            if let Some(d) = self.let_done.get_mut(i * n + li as usize) {
                *d = false;
            }
        }
        self.let_state.clone_from(&self.state);
    }

    /// The end of the scan being graded: the lets later scans or the summary read are
    /// computed now, and no let of it computes afterwards.
    fn close_scan_lets(&mut self, cx: &mut Cx<'_>) -> R<()> {
        if self.lazy_scan.is_none() {
            return Ok(());
        }
        let p = self.p;
        let r = p
            .cross_scan_let_order
            .iter()
            .try_for_each(|&li| self.scan_let(cx, cx.cur, li).map(|_| ()));
        self.lazy_scan = None;
        r
    }

    /// The value of let `li` on scan `i`: stored, or computed now when `i` is the scan being
    /// graded and it has not been computed since it was last made stale.
    #[inline]
    pub(crate) fn scan_let(&mut self, cx: &mut Cx<'_>, i: usize, li: u32) -> R<Value> {
        let ix = i * self.p.lets.len() + li as usize;
        if self.lazy_scan == Some(i)
            && cx.cur == i
            && !cx.in_summary
            && self.let_done.get(ix).copied() == Some(false)
        {
            return self.compute_scan_let(cx, ix, li);
        }
        Ok(self.lets.get(ix).copied().unwrap_or(Value::Null))
    }

    /// Computes let `li` of the scan being graded (entry `ix`), as eager evaluation would.
    #[inline(never)]
    fn compute_scan_let(&mut self, cx: &mut Cx<'_>, ix: usize, li: u32) -> R<Value> {
        let Some(l) = self.p.lets.get(li as usize) else {
            return Ok(Value::Null);
        };
        // computed as eager evaluation would have: no lesion in scope, state as of the last
        // computation point. Its bound variables are its own: every aggregate of the
        // program has its own slot, so the reader's variables are left as they are.
        let lesion = cx.cur_lesion.take();
        self.let_depth += 1;
        let v = self.eval(cx, &l.expr);
        self.let_depth -= 1;
        cx.cur_lesion = lesion;
        let v = v?;
        if let Some(slot) = self.lets.get_mut(ix) {
            *slot = v;
        }
        if let Some(d) = self.let_done.get_mut(ix) {
            *d = true;
        }
        Ok(v)
    }

    /// Computes the criterion's `show` values on scan `i` into the outcome.
    fn shows(&mut self, cx: &mut Cx<'_>, i: usize) -> R<()> {
        let p = self.p;
        let k = p.shows.len();
        for (j, s) in p.shows.iter().enumerate() {
            let v = self.eval(cx, &s.expr)?;
            if let Some(slot) = self.out.shown.get_mut(i * k + j) {
                *slot = v;
            }
        }
        Ok(())
    }

    /// Runs `f` (a test of lesion `li` that the rules themselves do not make, for a warning)
    /// and puts back what it read, so that the warnings about which measurements the rules
    /// read tell only the rules' own reads.
    fn unrecorded<T>(&mut self, li: u32, f: impl FnOnce(&mut Self) -> T) -> T {
        let reads = (
            self.lesion_reads.get(li as usize).copied(),
            self.measurements_read,
            self.measurement_found,
        );
        let out = f(self);
        if let (Some(r), Some(before)) = (self.lesion_reads.get_mut(li as usize), reads.0) {
            *r = before;
        }
        (self.measurements_read, self.measurement_found) = (reads.1, reads.2);
        out
    }

    fn choose_targets(&mut self, cx: &mut Cx<'_>) -> R<()> {
        let p = self.p;
        let case = cx.case;
        let base = cx.base as u32;
        let mut candidates: Vec<(u32, Vec<Value>)> = Vec::new();
        for (li, info) in case.lesions.iter().enumerate() {
            if info.is_new {
                continue;
            }
            let li = li as u32;
            if let Some(eligible) = &p.targets.eligible {
                cx.cur_lesion = Some(Value::Lesion {
                    lesion: li,
                    scan: base,
                });
                if self.eval(cx, eligible)? != Value::Bool(true) {
                    // not followed by this criterion, whatever role the case gives it
                    if info.role == Some(cases::Role::Target) {
                        // which part turned it down (read again, unrecorded)
                        let why = self.unrecorded(li, |me| me.first_false_conjunct(cx, eligible));
                        self.marked_targets_not_eligible
                            .push((lesion_id(case, li).to_string(), why));
                    }
                    continue;
                }
            }
            match info.role {
                Some(cases::Role::Target) => {
                    // followed as marked; said when the criterion would not take it
                    cx.cur_lesion = Some(Value::Lesion {
                        lesion: li,
                        scan: base,
                    });
                    // (what this test reads is not what the rules read: unrecorded)
                    let refused =
                        self.unrecorded(li, |me| match me.eval(cx, &p.targets.candidate) {
                            Ok(Value::Bool(false)) => {
                                Some(me.first_false_conjunct(cx, &p.targets.candidate))
                            }
                            _ => None,
                        });
                    if let Some(why) = refused {
                        self.marked_targets_not_candidates
                            .push((lesion_id(case, li).to_string(), why));
                    }
                    self.targets.push(li);
                }
                Some(cases::Role::NonTarget) | None => self.non_targets.push(li),
                Some(cases::Role::Auto) => {
                    cx.cur_lesion = Some(Value::Lesion {
                        lesion: li,
                        scan: base,
                    });
                    // which measurements the choice read for this lesion
                    let before =
                        std::mem::take(self.lesion_reads.get_mut(li as usize).unwrap_or(&mut 0));
                    let ok = self.eval(cx, &p.targets.candidate)? == Value::Bool(true);
                    let read = self.lesion_reads.get(li as usize).copied().unwrap_or(0);
                    if let Some(r) = self.lesion_reads.get_mut(li as usize) {
                        *r |= before;
                    }
                    if ok {
                        let mut keys = Vec::with_capacity(p.targets.rank.len());
                        for (k, _) in &p.targets.rank {
                            keys.push(self.eval(cx, k)?);
                        }
                        candidates.push((li, keys));
                    } else {
                        let absent =
                            |f: LesionField| access::lesion_field(case, li, base, f) == Value::Null;
                        let missing: Vec<&'static str> = self
                            .candidate_fields
                            .iter()
                            .filter(|(f, _)| match f {
                                // a perpendicular diameter the longest one lacks
                                LesionField::D2 => {
                                    read & measurement_bit(LesionField::D2) != 0
                                        && absent(LesionField::D2)
                                        && !(absent(LesionField::Ld) && absent(LesionField::D1))
                                }
                                _ => absent(*f),
                            })
                            .map(|(_, name)| *name)
                            .collect();
                        if !missing.is_empty() {
                            self.not_candidate_without_field
                                .push((lesion_id(case, li).to_string(), missing));
                        }
                        self.non_targets.push(li);
                    }
                }
            }
        }
        // stable sort: ties keep the case's lesion order
        candidates.sort_by(|a, b| by_rank(cx, &p.targets.rank, &a.1, &b.1));
        cx.cur = cx.base;
        let max = lesion_count(self.eval(cx, &p.targets.max)?, p.targets.max.src, "`max`")?;
        let mut chosen_groups: Vec<Vec<Value>> = vec![Vec::new(); p.targets.max_per.len()];
        for ti in 0..self.targets.len() {
            let Some(&t) = self.targets.get(ti) else {
                continue;
            };
            cx.cur_lesion = Some(Value::Lesion {
                lesion: t,
                scan: base,
            });
            for (g, (key, _)) in p.targets.max_per.iter().enumerate() {
                let k = self.eval(cx, key)?;
                if let Some(v) = chosen_groups.get_mut(g) {
                    v.push(k);
                }
            }
        }
        let mut count = self.targets.len() as i128;
        if count > max {
            self.marked_targets_over_max = Some((self.targets.len(), max));
        }
        // marked targets beyond a per-group limit: followed as marked, and said
        for (g, (_, limit)) in p.targets.max_per.iter().enumerate() {
            let Some(keys) = chosen_groups.get(g) else {
                continue;
            };
            for (ti, k) in keys.iter().enumerate() {
                let in_group = keys
                    .iter()
                    .filter(|x| values_equal(cx, Some(x), Some(k)))
                    .count();
                let Some(&t) = self.targets.get(ti) else {
                    continue;
                };
                cx.cur_lesion = Some(Value::Lesion {
                    lesion: t,
                    scan: base,
                });
                let limit = lesion_count(self.eval(cx, limit)?, limit.src, "the `max_per` limit")?;
                if in_group as i128 > limit && self.marked_targets_over_group_limit.is_none() {
                    let group = match k {
                        Value::Text(t) => access::text_of(p, case, *t).to_string(),
                        _ => String::new(),
                    };
                    self.marked_targets_over_group_limit = Some((in_group, limit, group));
                }
            }
        }
        for (li, _) in candidates {
            let mut fits = count < max;
            let mut left_out_by: Option<usize> = None;
            let mut keys = Vec::with_capacity(p.targets.max_per.len());
            if fits {
                cx.cur_lesion = Some(Value::Lesion {
                    lesion: li,
                    scan: base,
                });
                // a limit may depend on the lesion (irRC: 10 visceral, 5 cutaneous)
                for (g, (key, limit)) in p.targets.max_per.iter().enumerate() {
                    let k = self.eval(cx, key)?;
                    let limit =
                        lesion_count(self.eval(cx, limit)?, limit.src, "the `max_per` limit")?;
                    let used = chosen_groups
                        .get(g)
                        .map(|v| {
                            v.iter()
                                .filter(|x| values_equal(cx, Some(x), Some(&k)))
                                .count()
                        })
                        .unwrap_or(0) as i128;
                    if used >= limit {
                        fits = false;
                        left_out_by.get_or_insert(g);
                    }
                    keys.push(k);
                }
            }
            if fits {
                for (g, k) in keys.into_iter().enumerate() {
                    if let Some(v) = chosen_groups.get_mut(g) {
                        v.push(k);
                    }
                }
                self.targets.push(li);
                count += 1;
            } else {
                if let Some(g) = left_out_by {
                    // grouped under the key's fallback because the lesion lacks a field?
                    let missing: Vec<&'static str> = self
                        .group_key_fields
                        .get(g)
                        .into_iter()
                        .flatten()
                        .filter(|(f, _)| access::lesion_field(case, li, base, *f) == Value::Null)
                        .map(|(_, name)| *name)
                        .collect();
                    if !missing.is_empty() {
                        self.grouped_without_field
                            .push((lesion_id(case, li).to_string(), missing));
                    }
                }
                self.non_targets.push(li);
            }
        }
        self.targets.sort_unstable();
        self.non_targets.sort_unstable();
        cx.cur_lesion = None;
        Ok(())
    }

    /// The comparisons among the `and`-ed conditions of `e`, each operand with its value
    /// (`baseline.date = 2025-01-02; case.therapy_start - bm.max_days = 2025-02-01`): what a
    /// warning compared, so that its message shows the values and not only its text.
    fn compared_values(&mut self, cx: &mut Cx<'_>, e: &Expr) -> String {
        let mut out: Vec<String> = Vec::new();
        let parts = conjuncts(e).into_iter().filter_map(|x| match &x.kind {
            ExprKind::Binary(
                BinKind::Lt | BinKind::Le | BinKind::Gt | BinKind::Ge | BinKind::Eq | BinKind::Ne,
                a,
                b,
            ) => Some((a.as_ref(), b.as_ref())),
            _ => None,
        });
        for (a, b) in parts {
            for side in [a, b] {
                if matches!(side.kind, ExprKind::Const(_)) {
                    continue;
                }
                let text = crate::explain::squash(self.p.text_of(side.src));
                let v = self.eval(cx, side).unwrap_or(Value::Null);
                let shown = crate::explain::show_value(self.p, cx.case, v, side.ty);
                let item = format!("{text} = {shown}");
                if !out.contains(&item) {
                    out.push(item);
                }
            }
        }
        out.join("; ")
    }

    /// The source text of the first condition of `e` (split at its top-level `and`s) that
    /// is false in `cx`: which part of a refusing condition refused.
    fn first_false_conjunct(&mut self, cx: &mut Cx<'_>, e: &Expr) -> String {
        let false_part = conjuncts(e)
            .into_iter()
            .find(|x| matches!(self.eval(cx, x), Ok(Value::Bool(false))))
            .unwrap_or(e);
        self.p.text_of(false_part.src).to_string()
    }

    /// Runs a table: the first rule whose condition holds assigns its values. Returns
    /// the index of the rule that fired; with [`Trace::Full`] (or while deriving) its
    /// [`Fired`] record is kept in the outcome.
    fn run_table(&mut self, cx: &mut Cx<'_>, table: &Table) -> R<Option<usize>> {
        if self.deriving {
            let fired = self.derive_table(cx, table)?;
            return Ok(fired.map(|(ri, f)| {
                self.keep_fired(f);
                ri
            }));
        }
        let full = self.trace == Trace::Full;
        for (ri, rule) in table.rules.iter().enumerate() {
            let fires = match &rule.when {
                None => true,
                Some(w) => self.eval(cx, w)? == Value::Bool(true),
            };
            if !fires {
                continue;
            }
            if !full {
                self.apply(cx, rule, false)?;
                return Ok(Some(ri));
            }
            let explain = match &rule.when {
                None => "otherwise".to_string(),
                Some(w) => {
                    let mut s = String::new();
                    self.explain(cx, w, &mut s, 0)?;
                    s
                }
            };
            let set = self.apply(cx, rule, true)?;
            self.keep_fired(Fired {
                table: table.name.clone(),
                rule: rule.id.clone(),
                cite: rule.cite.clone(),
                because: rule.because.clone(),
                explain,
                set,
            });
            return Ok(Some(ri));
        }
        Ok(None)
    }

    fn keep_fired(&mut self, f: Fired) {
        if self.in_summary_tables {
            self.out.summary_fired.push(f);
        } else {
            self.out.fired.push(f);
        }
    }

    /// Evaluates every assignment of a fired rule, then assigns them all; with `record`,
    /// returns what was assigned as text: `name = value` for a plain value, `name =` and
    /// the value's explanation for a computed one, `name = value (unchanged)` for a state
    /// that keeps its value.
    fn apply(&mut self, cx: &mut Cx<'_>, rule: &RuleInfo, record: bool) -> R<Vec<String>> {
        let mut values = std::mem::take(&mut self.assign_buf);
        values.clear();
        // with `record`, what each assignment is, read before any is assigned (an
        // assignment may read a state another one changes)
        let mut set = Vec::new();
        for a in &rule.assigns {
            let v = match self.eval(cx, &a.value) {
                Ok(v) => v,
                Err(e) => {
                    self.assign_buf = values;
                    return Err(e);
                }
            };
            values.push(v);
            if record {
                let mut text = format!("{} = ", target_name(self.p, a.target));
                let unchanged = match a.target {
                    Target::State(i) => self.state.get(i as usize) == Some(&v),
                    _ => false,
                };
                let explained = if unchanged {
                    // a state kept as it was: where its value came from is told where
                    // it was set
                    text.push_str(&self.show(cx, v, a.value.ty));
                    text.push_str(" (unchanged)");
                    Ok(())
                } else if explain::is_plain(&a.value) {
                    text.push_str(&self.show(cx, v, a.value.ty));
                    Ok(())
                } else {
                    self.explain_value(cx, &a.value, &mut text, 0)
                };
                if let Err(e) = explained {
                    self.assign_buf = values;
                    return Err(e);
                }
                set.push(text);
            }
        }
        for (a, &v) in rule.assigns.iter().zip(values.iter()) {
            match a.target {
                Target::Response | Target::BestOverallResponse => cx.cur_out.0 = sym(v),
                Target::Decision | Target::FinalDecision => cx.cur_out.1 = sym(v),
                Target::State(i) => {
                    if let Some(s) = self.state.get_mut(i as usize) {
                        if *s != v {
                            self.state_changed = true;
                        }
                        *s = v;
                    }
                }
            }
        }
        self.assign_buf = values;
        Ok(set)
    }

    // ------------------------------------------------------------- expressions
}

/// The conditions of `e` split at its top-level `and`s, in written order (`e` itself when
/// it is not an `and`).
fn conjuncts(e: &Expr) -> Vec<&Expr> {
    let mut parts = Vec::new();
    let mut stack = vec![e];
    while let Some(x) = stack.pop() {
        match &x.kind {
            ExprKind::Binary(BinKind::And, a, b) => {
                stack.push(b);
                stack.push(a);
            }
            _ => parts.push(x),
        }
    }
    parts
}

/// The name an assignment writes to: an output of the result contract or a state.
pub(crate) fn target_name(p: &Program, target: Target) -> &str {
    match target {
        Target::Response => "response",
        Target::BestOverallResponse => "best_overall_response",
        Target::Decision => "decision",
        Target::FinalDecision => "final_decision",
        Target::State(i) => p
            .states
            .get(i as usize)
            .map(|s| s.name.as_str())
            .unwrap_or("?"),
    }
}

/// The order of two target candidates by the `rank:` keys evaluated on them (each key
/// ascending or descending), for a stable sort: equal keys keep the case's lesion order.
pub(crate) fn by_rank(cx: &Cx<'_>, rank: &[(Expr, bool)], a: &[Value], b: &[Value]) -> Ordering {
    for (i, (_, desc)) in rank.iter().enumerate() {
        let o = compare_values(cx, a.get(i), b.get(i));
        let o = if *desc { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// The case with its lesions read relative to the criterion's baseline scan `base`, when
/// that differs from the lists the case gives them in (docs/case-format.md): a lesion
/// first seen after the baseline scan is new for this criterion wherever it is listed, and
/// a lesion listed under `new_lesions` on or before the baseline scan is baseline disease
/// (role `auto`). `None` when nothing moves (the usual case).
fn relative_to_baseline(case: &Case, base: usize) -> Option<Case> {
    let is_new = |l: &irano_cases::LesionInfo| l.first_seen > base;
    if case.lesions.iter().all(|l| l.is_new == is_new(l)) {
        return None;
    }
    let mut c = case.clone();
    for l in &mut c.lesions {
        let new = is_new(l);
        if l.is_new != new {
            l.is_new = new;
            l.role = if new {
                None
            } else {
                Some(irano_cases::Role::Auto)
            };
        }
    }
    let new_flags: Vec<bool> = c.lesions.iter().map(|l| l.is_new).collect();
    for a in &mut c.assessments {
        let listed = std::mem::take(&mut a.lesions)
            .into_iter()
            .chain(std::mem::take(&mut a.new_lesions));
        for o in listed {
            if new_flags.get(o.lesion).copied().unwrap_or(false) {
                a.new_lesions.push(o);
            } else {
                a.lesions.push(o);
            }
        }
        // in the order the lesions were first declared (the order ties are broken in)
        a.lesions.sort_by_key(|o| o.lesion);
        a.new_lesions.sort_by_key(|o| o.lesion);
    }
    Some(c)
}

/// A target-selection limit as a number of lesions: whole and not negative, else a failure
/// naming the value (a fraction was floored and a negative or absent limit allowed no
/// target, without a word).
fn lesion_count(v: Value, src: Src, what: &str) -> R<i128> {
    match v {
        Value::Num(r) if r.denom() == 1 && !r.is_negative() => Ok(r.numer()),
        Value::Num(r) => fail(
            format!(
                "{what} of the targets is `{r}`: a number of lesions is whole and not negative"
            ),
            src,
            "compute the limit so that it is a whole number, 0 or more (e.g. `floor(...)`)",
        ),
        _ => fail(
            format!("{what} of the targets is absent"),
            src,
            "give the limit a value for every case, e.g. with `??`",
        ),
    }
}

/// The lesion fields the targets' `candidate` condition reads that a case may leave out by
/// mistake: fields other than measurements that it reads itself (`lesion.component ==
/// enhancing`: one a lesion lacks fails the condition; one a lesion let reads, such as
/// RECIST's organ for lymph nodes, may not matter), and the perpendicular diameter `d2`,
/// also through lesion lets (a lesion given by its longest diameter alone; said only when
/// the condition read it for that lesion).
fn candidate_fields(p: &Program) -> Vec<(LesionField, &'static str)> {
    let mut out: Vec<(LesionField, &'static str)> = lesion_fields_read(&p.targets.candidate)
        .into_iter()
        .filter(|f| measurement_bit(f.0) == 0)
        .collect();
    let mut seen = vec![false; p.lesion_lets.len()];
    let mut work = vec![&p.targets.candidate];
    while let Some(e) = work.pop() {
        for f in lesion_fields_read(e) {
            if !out.contains(&f) && f.0 == LesionField::D2 {
                out.push(f);
            }
        }
        e.any(&mut |x| {
            if let ExprKind::LesionLet(i, _) = x.kind {
                if let Some(s) = seen.get_mut(i as usize).filter(|s| !**s) {
                    *s = true;
                    if let Some(l) = p.lesion_lets.get(i as usize) {
                        work.push(&l.expr);
                    }
                }
            }
            false
        });
    }
    out
}

/// The lesion fields an expression reads (a `max_per` group key), with their names.
fn lesion_fields_read(e: &Expr) -> Vec<(LesionField, &'static str)> {
    let mut out: Vec<(LesionField, &'static str)> = Vec::new();
    e.any(&mut |x| {
        if let ExprKind::LesionField(f, _) = &x.kind {
            let name = irano_check::schema::LESION_FIELDS
                .iter()
                .find(|n| irano_check::schema::lesion_field(n).is_some_and(|(g, _)| g == *f));
            if let Some(name) = name {
                if !out.iter().any(|(g, _)| g == f) {
                    out.push((*f, name));
                }
            }
        }
        false
    });
    out
}
