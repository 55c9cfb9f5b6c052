//! The case model: one patient's timeline, validated and normalised.
//!
//! Field names and meanings follow `shared/spec/case-format.md` (the case contract).
//! Readers build these types only after the whole file validated; the evaluator
//! never sees a half-read case.

use chrono::NaiveDate;
use irano_exact::Rational;

/// Where a case came from, for messages (`cases/p1.yaml`, case 3 of a list, line 12 of a JSONL file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file name as given on the command line (or `<stdin>`).
    pub file: String,
    /// 1-based line where the case starts.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub patient: String,
    pub setting: Setting,
    /// Day 0 for every day count.
    pub therapy_start: NaiveDate,
    pub chemoradiation_end: Option<NaiveDate>,
    /// Last day of radiotherapy given for the recurrence (re-irradiation), recurrent
    /// disease; no shipped criterion reads it (an amendment may open a window after it).
    pub reirradiation_end: Option<NaiveDate>,
    /// Every lesion of the timeline, baseline lesions first (in order of first appearance),
    /// then new lesions (in order of first appearance). Observations refer to it by index.
    pub lesions: Vec<LesionInfo>,
    /// In strictly increasing date order.
    pub assessments: Vec<Assessment>,
    pub origin: Origin,
    /// The case's top-level `x-` keys (users' own annotations), in the order written. The
    /// readers do not interpret them; tools that do (`irano-eval test`) find them here.
    pub annotations: Vec<Annotation>,
}

/// A top-level `x-` key of a case and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    /// The key, e.g. `x-expect`.
    pub key: String,
    /// 1-based line and column of the key.
    pub line: usize,
    pub column: usize,
    /// Byte range of the key in the file text.
    pub span: std::ops::Range<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    Recurrent,
    NewlyDiagnosed,
}

/// What is fixed about a lesion for the whole timeline: given once, where it first appears.
#[derive(Debug, Clone, PartialEq)]
pub struct LesionInfo {
    pub id: String,
    /// `true` for a lesion listed under `new_lesions`.
    pub is_new: bool,
    /// `None` for new lesions (they have no role).
    pub role: Option<Role>,
    pub component: Option<Component>,
    pub organ: Option<String>,
    /// Index of the assessment where the lesion first appears.
    pub first_seen: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Target,
    NonTarget,
    Auto,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    Enhancing,
    NonEnhancing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanKind {
    Pretreatment,
    Postop,
    PostRt,
    Followup,
}

/// `stable | improved | worse`, used by `t2_flair` and `clinical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    Stable,
    Improved,
    Worse,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enhancement {
    None,
    Stable,
    NewOrIncreased,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclineCause {
    Tumour,
    Comorbid,
    Medication,
    /// Attributed to an effect of treatment (radiation necrosis, pseudoprogression).
    TreatmentEffect,
}

impl DeclineCause {
    /// The name the case format gives it.
    pub const fn as_str(self) -> &'static str {
        match self {
            DeclineCause::Tumour => "tumour",
            DeclineCause::Comorbid => "comorbid",
            DeclineCause::Medication => "medication",
            DeclineCause::TreatmentEffect => "treatment_effect",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pathology {
    TumourPredominant,
    TreatmentEffect,
    Mixed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeasureStatus {
    Present,
    Absent,
    TooSmall,
    NotAssessed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NtStatus {
    Present,
    Absent,
    UnequivocalProgression,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Steroids {
    /// Dexamethasone-equivalent mg/day at the scan.
    pub dose_mg: Rational,
    /// Date of the most recent dose change, when known.
    pub changed_on: Option<NaiveDate>,
    /// `Some(true)`: physiological replacement; `None`: not stated.
    pub replacement: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub date: NaiveDate,
    pub scan: ScanKind,
    /// Default `true`.
    pub evaluable: bool,
    /// Observations of baseline lesions (index into `Case::lesions`).
    pub lesions: Vec<Observation>,
    /// Observations of new lesions (index into `Case::lesions`).
    pub new_lesions: Vec<Observation>,
    pub t2_flair: Option<Trend>,
    pub enhancement: Option<Enhancement>,
    pub steroids: Option<Steroids>,
    pub clinical: Option<Trend>,
    pub decline_cause: Option<DeclineCause>,
    /// 0 to 5.
    pub irae_grade: Option<u8>,
    pub pathology: Option<Pathology>,
    /// Default `false`.
    pub unscheduled: bool,
    /// Default `false`.
    pub symptom_driven: bool,
    /// 1-based line of the assessment in its file, for messages.
    pub line: usize,
}

/// One lesion as seen on one scan.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// Index into `Case::lesions`.
    pub lesion: usize,
    /// `[longest, perpendicular]` in mm.
    pub d: Option<[Rational; 2]>,
    pub ld: Option<Rational>,
    pub sa: Option<Rational>,
    pub vol_ml: Option<Rational>,
    /// `None` when not given (the contract's default is `present`).
    pub status: Option<MeasureStatus>,
    pub nt_status: Option<NtStatus>,
    pub equivocal: Option<bool>,
    pub outside_radiation_field: Option<bool>,
}
