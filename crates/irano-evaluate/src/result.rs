//! The result of evaluating one case: the contract of `shared/spec/case-format.md`
//! ("Results"), plus the trace that explains every decision.

use chrono::NaiveDate;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseResult {
    pub patient: String,
    pub criterion: CriterionRef,
    pub assessments: Vec<AssessmentResult>,
    pub best_overall_response: Option<String>,
    /// `best_overall_response` as the criterion's papers name it (e.g. iRECIST's iBOR
    /// `iSD`), when the criterion declares native labels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_overall_response_native: Option<String>,
    pub pd_date: Option<NaiveDate>,
    pub pd_confirmed_on: Option<NaiveDate>,
    pub final_decision: Option<String>,
    /// The rules that decided the summary outputs.
    pub summary: Vec<Fired>,
    /// Target and non-target lesions chosen at baseline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lesions: Option<LesionChoice>,
    /// Parameters changed for this run with `--set`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<ParamValue>,
    /// The unit of each `show` value that has one (`"burden": "mm2"`): `values` holds
    /// plain numbers.
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "units_as_map")]
    pub units: Vec<(String, &'static str)>,
}

impl CaseResult {
    /// Every rule that fired, on the scans in order, then in the summary tables.
    pub fn fired_rules(&self) -> impl Iterator<Item = &Fired> {
        self.assessments
            .iter()
            .flat_map(|a| a.fired.iter())
            .chain(self.summary.iter())
    }

    /// The best overall response as a reader sees it: the native name where the
    /// criterion declares one, else the canonical label.
    pub fn best_overall_response_shown(&self) -> Option<&str> {
        self.best_overall_response_native
            .as_deref()
            .or(self.best_overall_response.as_deref())
    }
}

impl AssessmentResult {
    /// The response as a reader sees it: the native name where the criterion declares
    /// one, else the canonical label.
    pub fn response_shown(&self) -> Option<&str> {
        self.response_native.as_deref().or(self.response.as_deref())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriterionRef {
    pub id: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamValue {
    pub name: String,
    pub value: String,
    pub default: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LesionChoice {
    pub targets: Vec<String>,
    pub non_targets: Vec<String>,
    pub rule: String,
}

/// How an assessment took part in the evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanRole {
    /// Before the baseline scan: not graded.
    PreBaseline,
    Baseline,
    /// After the baseline, graded.
    Followup,
    /// Not graded: grading stopped (after progression), or no scan qualifies as baseline.
    NotGraded,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssessmentResult {
    pub date: NaiveDate,
    /// Days since therapy start (day 0).
    pub day: i64,
    pub role: ScanRole,
    pub response: Option<String>,
    /// `response` as the criterion's papers name it (e.g. `iUPD` for `UPD`), when the
    /// criterion declares native labels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_native: Option<String>,
    pub decision: Option<String>,
    /// The rule that set `response`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The values that rule compared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<String>,
    /// Why the scan has no response, when it has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The reason the deciding rule states for its response (its `because`), e.g. why a
    /// scan is not evaluable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub because: Option<String>,
    /// The criterion's `show` values, with units, in the criterion's order
    /// (a JSON object; `null` where a value is absent).
    #[serde(serialize_with = "values_as_map")]
    pub values: Vec<ShownValue>,
    /// Every rule that fired on this scan, in order.
    pub fired: Vec<Fired>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShownValue {
    pub name: String,
    /// As tables show it: with its unit, `~` before a value rounded to 2 places.
    pub value: Option<String>,
    /// The value as data (JSON, CSV): a number apart from its unit.
    #[serde(skip)]
    pub data: Data,
}

/// A shown value as data.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Data {
    /// Absent, or best written as the text of `ShownValue::value` (dates, labels).
    #[default]
    Text,
    Bool(bool),
    Number(Number),
}

/// A number for JSON and CSV readers: `value` in `unit` (empty for plain numbers and
/// percentages); `exact` when `value` is not exactly the rational number (a fraction
/// `p/q` for values rounded to 2 places, shown with `~` in tables, else the exact decimal).
#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    pub value: NumberValue,
    pub exact: Option<String>,
    pub unit: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NumberValue {
    Int(i64),
    Float(f64),
}

impl Number {
    /// The number as JSON writes it (`300`, `7.69`).
    pub fn json(&self) -> String {
        match self.value {
            NumberValue::Int(i) => i.to_string(),
            NumberValue::Float(f) => serde_json::to_string(&f).unwrap_or_else(|_| "null".into()),
        }
    }
}

/// One rule that fired: which table, which rule, its citation, what it compared and
/// what it assigned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fired {
    pub table: String,
    pub rule: String,
    pub cite: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub because: Option<String>,
    pub explain: String,
    pub set: Vec<String>,
}

/// Serialises `show` values as a JSON object: numbers as JSON numbers (their units are
/// in the result's `units`), booleans as booleans, dates and labels as strings, absent
/// values as `null`. A number that is not exactly its JSON form (one rounded to 2 places,
/// shown with `~` in tables) has its exact form beside it, under `NAME_exact`.
pub fn values_as_map<S: serde::Serializer>(values: &[ShownValue], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(None)?;
    for v in values {
        match (&v.data, &v.value) {
            (_, None) => m.serialize_entry(&v.name, &None::<()>)?,
            (Data::Bool(b), _) => m.serialize_entry(&v.name, b)?,
            (Data::Number(n), _) => {
                match n.value {
                    NumberValue::Int(i) => m.serialize_entry(&v.name, &i)?,
                    NumberValue::Float(f) => m.serialize_entry(&v.name, &f)?,
                }
                if let Some(x) = &n.exact {
                    m.serialize_entry(
                        &format!("{}{}", v.name, irano_check::program::EXACT_SUFFIX),
                        x,
                    )?;
                }
            }
            (Data::Text, Some(t)) => m.serialize_entry(&v.name, t)?,
        }
    }
    m.end()
}

/// Serialises `(name, unit)` pairs as a JSON object.
pub fn units_as_map<S: serde::Serializer>(
    units: &[(String, &'static str)],
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(units.len()))?;
    for (k, v) in units {
        m.serialize_entry(k, v)?;
    }
    m.end()
}
