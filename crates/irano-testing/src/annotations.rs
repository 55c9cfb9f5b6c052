//! The `x-` keys through which a case carries its expected outcome.
//!
//! The case readers (`irano-cases`) skip top-level `x-` keys and list them in
//! [`irano_cases::Case::annotations`]; this module gives the ones `irano-eval test` reads
//! a meaning, and reads their values with serde (YAML through serde-saphyr, JSON through
//! serde_json).

use serde::{Deserialize, Deserializer};

/// Every `x-` key a tested case may hold, with what it holds. Any other `x-` key is an
/// error (a misspelt `x-expect` must not leave a case untested).
pub const KEYS: &[(&str, &str)] = &[
    (
        "x-title",
        "one line saying what the case shows; the first line of its snapshot",
    ),
    (
        "x-exercises",
        "the rules the case is about; each must be a rule of the criterion",
    ),
    (
        "x-rules",
        "the criterion's rule file, relative to the case file",
    ),
    (
        "x-set",
        "parameter overrides for this case, `[KEY=VALUE, ...]`",
    ),
    ("x-expect", "the outcome derived by hand (required)"),
    ("x-why", "how the outcome was derived (free text)"),
    ("x-source", "where the expectation comes from (free text)"),
    ("x-note", "any other remark (free text)"),
];

/// The names of [`KEYS`].
pub fn key_names() -> impl Iterator<Item = &'static str> {
    KEYS.iter().map(|(k, _)| *k)
}

/// The annotations of one case. Free-text keys (`x-why`, `x-source`, `x-note`) are not
/// read.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Annotations {
    #[serde(rename = "x-title", default)]
    pub title: Option<String>,
    #[serde(rename = "x-exercises", default)]
    pub exercises: Vec<String>,
    /// The rule file, relative to the case file.
    #[serde(rename = "x-rules", default)]
    pub rules: Option<String>,
    /// `KEY=VALUE` parameter overrides, as with `irano-eval eval --set`.
    #[serde(rename = "x-set", default)]
    pub set: Vec<String>,
    #[serde(rename = "x-expect", default)]
    pub expect: Option<Expect>,
}

/// The outcome derived by hand. A field that is absent is not checked; `null` expects
/// no value (no response on the baseline scan, no progression date, ...).
///
/// The fields of `x-expect`, as [`Expect`] names them.
pub const EXPECT_FIELDS: [&str; 8] = [
    "responses",
    "decisions",
    "rules",
    "best_overall_response",
    "pd_date",
    "pd_confirmed_on",
    "final_decision",
    "warnings",
];

/// `responses` and `decisions` list one entry per scan of the case, in order; `rules`
/// too, where `null` leaves a scan's rule unchecked.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub responses: Option<Vec<Option<String>>>,
    #[serde(default)]
    pub decisions: Option<Vec<Option<String>>>,
    #[serde(default)]
    pub rules: Option<Vec<Option<String>>>,
    #[serde(default, deserialize_with = "given")]
    pub best_overall_response: Option<Option<String>>,
    #[serde(default, deserialize_with = "given")]
    pub pd_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "given")]
    pub pd_confirmed_on: Option<Option<String>>,
    #[serde(default, deserialize_with = "given")]
    pub final_decision: Option<Option<String>>,
    /// The ids of the criterion's `warn` declarations expected to hold on the case, all of
    /// them (`[]`: none).
    #[serde(default)]
    pub warnings: Option<Vec<String>>,
}

/// A field that is present, possibly `null`: `Some(None)`; an absent one stays `None`
/// through `#[serde(default)]`.
fn given<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

impl Expect {
    /// Whether it checks anything at all.
    pub fn is_empty(&self) -> bool {
        self.responses.is_none()
            && self.decisions.is_none()
            && self.rules.is_none()
            && self.best_overall_response.is_none()
            && self.pd_date.is_none()
            && self.pd_confirmed_on.is_none()
            && self.final_decision.is_none()
            && self.warnings.is_none()
    }

    /// Whether every per-scan response and every summary output is spelt out (the
    /// repository's worked corpus requires it).
    pub fn is_complete(&self) -> bool {
        self.responses.is_some()
            && self.best_overall_response.is_some()
            && self.pd_date.is_some()
            && self.pd_confirmed_on.is_some()
            && self.final_decision.is_some()
    }
}

/// A problem reading the annotations' values, with the 1-based line and column serde
/// reported, when it did.
#[derive(Debug, Clone)]
pub struct ReadError {
    pub message: String,
    pub at: Option<(usize, usize)>,
}

/// Reads the annotations of a YAML (`json == false`) or JSON case file's text.
pub fn read(text: &str, json: bool) -> Result<Annotations, ReadError> {
    if json {
        serde_json::from_str(text).map_err(|e| {
            let message = e.to_string();
            // serde_json appends " at line L column C"; the position is reported apart
            let message = match message.rfind(" at line ") {
                Some(i) => message.get(..i).unwrap_or(&message).to_string(),
                None => message,
            };
            ReadError {
                message,
                at: (e.line() > 0).then(|| (e.line(), e.column().max(1))),
            }
        })
    } else {
        serde_saphyr::from_str(text).map_err(|e| {
            let at = e.location().and_then(|l| {
                let line = usize::try_from(l.line()).ok()?;
                let col = usize::try_from(l.column()).ok()?;
                (line > 0).then_some((line, col.max(1)))
            });
            ReadError {
                message: first_line(&e.to_string()),
                at,
            }
        })
    }
}

/// The message alone: serde-saphyr starts it with `error: line L column C: ` and may add
/// a source excerpt; the diagnostic shows its own.
fn first_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or_default().trim();
    let line = line.strip_prefix("error: ").unwrap_or(line);
    match line
        .strip_prefix("line ")
        .and_then(|rest| rest.split_once(": "))
    {
        Some((position, message)) if position.contains(" column ") => message.to_string(),
        _ => line.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn absent_is_unchecked_and_null_expects_none() {
        let a = read(
            "x-expect:\n  pd_date: null\n  best_overall_response: SD\npatient: P\nx-set: [a=1]\n",
            false,
        )
        .unwrap();
        let e = a.expect.unwrap();
        assert_eq!(e.pd_date, Some(None));
        assert_eq!(e.best_overall_response, Some(Some("SD".into())));
        assert_eq!(e.final_decision, None);
        assert!(!e.is_empty() && !e.is_complete());
        assert_eq!(a.set, ["a=1"]);
        let j = read(
            r#"{"x-expect": {"responses": [null, "PD"]}, "patient": "P"}"#,
            true,
        )
        .unwrap();
        assert_eq!(
            j.expect.unwrap().responses,
            Some(vec![None, Some("PD".into())])
        );
    }

    #[test]
    fn errors_have_a_position_and_a_plain_message() {
        let e = read("patient: P\nx-expect:\n  responces: []\n", false).unwrap_err();
        assert_eq!(e.at, Some((3, 3)));
        assert!(
            e.message.starts_with("unknown field `responces`"),
            "{}",
            e.message
        );
        let e = read("{\"x-expect\": {\"responces\": []}}", true).unwrap_err();
        assert!(e.at.is_some());
        assert!(
            e.message.starts_with("unknown field `responces`"),
            "{}",
            e.message
        );
    }
}
