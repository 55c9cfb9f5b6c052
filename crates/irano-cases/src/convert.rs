//! Validation and normalisation: document tree → [`Case`], collecting every error.

use std::collections::HashMap;
use std::ops::Range;

use chrono::NaiveDate;
use irano_exact::Rational;

use crate::error::{CaseError, SourceFile};
use crate::model::*;
use crate::tree::{Node, NodeKind};

const CASE_FIELDS: &[&str] = &[
    "patient",
    "setting",
    "therapy_start",
    "chemoradiation_end",
    "reirradiation_end",
    "assessments",
];
const ASSESSMENT_FIELDS: &[&str] = &[
    "date",
    "scan",
    "evaluable",
    "lesions",
    "new_lesions",
    "t2_flair",
    "enhancement",
    "steroids",
    "clinical",
    "decline_cause",
    "irae_grade",
    "pathology",
    "unscheduled",
    "symptom_driven",
];
const LESION_FIELDS: &[&str] = &[
    "id",
    "role",
    "component",
    "organ",
    "d",
    "ld",
    "sa",
    "vol_ml",
    "status",
    "nt_status",
    "equivocal",
    "outside_radiation_field",
];
const NEW_LESION_FIELDS: &[&str] = &[
    "id",
    "component",
    "organ",
    "d",
    "ld",
    "sa",
    "vol_ml",
    "status",
    "nt_status",
    "equivocal",
    "outside_radiation_field",
];
const STEROID_FIELDS: &[&str] = &["dose_mg", "changed_on", "replacement"];

const SETTINGS: &[(&str, Setting)] = &[
    ("recurrent", Setting::Recurrent),
    ("newly_diagnosed", Setting::NewlyDiagnosed),
];
const SCANS: &[(&str, ScanKind)] = &[
    ("pretreatment", ScanKind::Pretreatment),
    ("postop", ScanKind::Postop),
    ("post_rt", ScanKind::PostRt),
    ("followup", ScanKind::Followup),
];
const TRENDS: &[(&str, Trend)] = &[
    ("stable", Trend::Stable),
    ("improved", Trend::Improved),
    ("worse", Trend::Worse),
];
const ENHANCEMENTS: &[(&str, Enhancement)] = &[
    ("none", Enhancement::None),
    ("stable", Enhancement::Stable),
    ("new_or_increased", Enhancement::NewOrIncreased),
];
const DECLINE_CAUSES: &[(&str, DeclineCause)] = &[
    (DeclineCause::Tumour.as_str(), DeclineCause::Tumour),
    (DeclineCause::Comorbid.as_str(), DeclineCause::Comorbid),
    (DeclineCause::Medication.as_str(), DeclineCause::Medication),
    (
        DeclineCause::TreatmentEffect.as_str(),
        DeclineCause::TreatmentEffect,
    ),
];
const PATHOLOGIES: &[(&str, Pathology)] = &[
    ("tumour_predominant", Pathology::TumourPredominant),
    ("treatment_effect", Pathology::TreatmentEffect),
    ("mixed", Pathology::Mixed),
];
const ROLES: &[(&str, Role)] = &[
    ("target", Role::Target),
    ("non_target", Role::NonTarget),
    ("auto", Role::Auto),
];
const COMPONENTS: &[(&str, Component)] = &[
    ("enhancing", Component::Enhancing),
    ("non_enhancing", Component::NonEnhancing),
];
const MEASURE_STATUSES: &[(&str, MeasureStatus)] = &[
    ("present", MeasureStatus::Present),
    ("absent", MeasureStatus::Absent),
    ("too_small", MeasureStatus::TooSmall),
    ("not_assessed", MeasureStatus::NotAssessed),
];
const NT_STATUSES: &[(&str, NtStatus)] = &[
    ("present", NtStatus::Present),
    ("absent", NtStatus::Absent),
    ("unequivocal_progression", NtStatus::UnequivocalProgression),
];

/// A case read from a file, with the span of its `patient` value (for cross-case checks).
pub(crate) struct ReadCase {
    pub case: Case,
    pub patient_span: Range<usize>,
}

/// A map keyed by lesion id: a short list searched in order (a case names a handful of
/// lesions), a hash map once it holds many.
struct IdMap<K, V> {
    few: Vec<(K, V)>,
    many: Option<HashMap<K, V>>,
}

impl<K, V> Default for IdMap<K, V> {
    fn default() -> Self {
        IdMap {
            few: Vec::new(),
            many: None,
        }
    }
}

impl<K: std::borrow::Borrow<str> + Eq + std::hash::Hash, V> IdMap<K, V> {
    const FEW: usize = 32;

    fn get(&self, id: &str) -> Option<&V> {
        match &self.many {
            Some(m) => m.get(id),
            None => self
                .few
                .iter()
                .find(|(k, _)| k.borrow() == id)
                .map(|(_, v)| v),
        }
    }

    /// The ids, in no particular order.
    fn keys(&self) -> Box<dyn Iterator<Item = &str> + '_> {
        match &self.many {
            Some(m) => Box::new(m.keys().map(|k| k.borrow())),
            None => Box::new(self.few.iter().map(|(k, _)| k.borrow())),
        }
    }

    /// Adds `id`, which is not in the map yet.
    fn insert(&mut self, id: K, v: V) {
        match &mut self.many {
            Some(m) => {
                m.insert(id, v);
            }
            None if self.few.len() < Self::FEW => self.few.push((id, v)),
            None => {
                let mut m: HashMap<K, V> = self.few.drain(..).collect();
                m.insert(id, v);
                self.many = Some(m);
            }
        }
    }
}

/// The fields of one mapping, after unknown and duplicate keys were reported.
struct Fields<'n> {
    node: &'n Node<'n>,
    what: &'static str,
    entries: Vec<(&'n str, &'n Node<'n>, &'n Node<'n>)>,
    /// The allowed names that unknown fields were taken to be misspellings of (their error
    /// already says "did you mean"): a required one of them is not reported missing too.
    misspelt: Vec<String>,
}

/// `a == b` for field names, inline: names are short, and most that differ differ in
/// length or first byte, so this beats a call to `memcmp` for each candidate.
#[inline(always)]
fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y)
}

impl<'n> Fields<'n> {
    /// The value of `name`, `None` when absent.
    fn raw(&self, name: &str) -> Option<&'n Node<'n>> {
        self.entries
            .iter()
            .find(|(k, _, _)| same_name(k, name))
            .map(|(_, _, v)| *v)
    }

    /// The key node of `name`, for pointing at a field that must not be there.
    fn key(&self, name: &str) -> Option<&'n Node<'n>> {
        self.entries
            .iter()
            .find(|(k, _, _)| same_name(k, name))
            .map(|(_, k, _)| *k)
    }

    /// The value of `name`, `None` when absent or `null`.
    fn opt(&self, name: &str) -> Option<&'n Node<'n>> {
        self.raw(name).filter(|n| !n.is_null())
    }
}

/// Text of a node shortened for a message.
fn shorten(text: &str) -> String {
    let mut s: String = text.chars().take(40).collect();
    if s.len() < text.len() {
        s.push('…');
    }
    s.replace('`', "'")
}

fn describe(node: &Node) -> String {
    match &node.kind {
        NodeKind::Map(_) => "a mapping".to_string(),
        NodeKind::Seq(_) => "a list".to_string(),
        NodeKind::Scalar { .. } if node.is_null() => "null".to_string(),
        NodeKind::Scalar { text, plain: true } if is_bool_text(text).is_some() => {
            format!("`{}`", shorten(text))
        }
        NodeKind::Scalar { text, plain: true } if text.parse::<Rational>().is_ok() => {
            format!("the number `{}`", shorten(text))
        }
        NodeKind::Scalar { text, .. } if text.trim().is_empty() => "empty text".to_string(),
        NodeKind::Scalar { text, .. } => format!("the text `{}`", shorten(text)),
    }
}

fn is_bool_text(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Levenshtein distance, for "did you mean" hints.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    let near = candidates
        .iter()
        .map(|c| (distance(word, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c);
    // else another form of the same word: `worsened` for `worse`, `improving` for `improved`
    near.or_else(|| {
        let shared = |c: &str| {
            word.chars()
                .zip(c.chars())
                .take_while(|(a, b)| a.eq_ignore_ascii_case(b))
                .count()
        };
        candidates
            .iter()
            .map(|c| (shared(c), *c))
            .filter(|(n, c)| *n >= c.chars().count().min(5) && *n >= 4)
            .max_by_key(|(n, _)| *n)
            .map(|(_, c)| c)
    })
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn missing_help(field: &str) -> String {
    match field {
        "patient" => {
            "add `patient:` with the patient's identifier, e.g. `patient: SUBJ-0042`".into()
        }
        "setting" => "add `setting: recurrent` or `setting: newly_diagnosed`".into(),
        "therapy_start" => {
            "add `therapy_start: YYYY-MM-DD`, the first day of therapy (day 0)".into()
        }
        "assessments" => "add `assessments:` with the scans, in date order".into(),
        "date" => "add `date: YYYY-MM-DD`, the date of the scan".into(),
        "scan" => format!("add `scan:` with one of {}", list(&names(SCANS))),
        "id" => "add `id:` with the lesion's identifier, e.g. `id: T1`".into(),
        "dose_mg" => "add `dose_mg:` with the dexamethasone-equivalent dose in mg/day".into(),
        other => format!("add `{other}`"),
    }
}

/// `an assessment`, `a case`, `` `steroids` ``.
fn with_article(noun: &str) -> String {
    match noun.chars().next() {
        Some('`') => noun.to_string(),
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {noun}"),
        _ => format!("a {noun}"),
    }
}

fn names<T>(table: &[(&'static str, T)]) -> Vec<&'static str> {
    table.iter().map(|(n, _)| *n).collect()
}

pub(crate) struct Reader<'s> {
    pub(crate) src: &'s SourceFile,
    pub errors: Vec<CaseError>,
    /// While reading one case's scans: whether a scan that is not a follow-up (one that
    /// introduces lesions) came before, and whether its absence has been said.
    reference_scan: ReferenceScan,
    /// While reading one case's scans: a scan's `lesions` or `new_lesions` was not a list,
    /// so the lesions it meant to introduce are unknown to the scans after it.
    lesion_list_unreadable: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum ReferenceScan {
    Seen,
    NotYet,
    AbsenceSaid,
}

/// What is known about a lesion id while reading one case.
struct Declared {
    is_new: bool,
    local: usize,
    /// Line of the entry that declared it.
    line: usize,
}

impl<'s> Reader<'s> {
    pub fn new(src: &'s SourceFile) -> Self {
        Reader {
            src,
            errors: Vec::new(),
            reference_scan: ReferenceScan::NotYet,
            lesion_list_unreadable: false,
        }
    }

    pub fn error(
        &mut self,
        span: Range<usize>,
        code: &'static str,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.errors
            .push(CaseError::at(self.src, span, code, message, label, help));
    }

    fn line_of(&self, node: &Node) -> usize {
        self.src.line_of(node.span.start)
    }

    /// Where to point for a whole mapping or list: its first line.
    pub fn head_span(&self, node: &Node) -> Range<usize> {
        let start = node.span.start;
        let text = self.src.text.get(node.span.clone()).unwrap_or_default();
        let first = text.split('\n').next().unwrap_or_default().trim_end();
        start..start + first.len()
    }

    fn wrong_type(&mut self, node: &Node, field: &str, expected: &str, help: &str) {
        let span = match node.kind {
            NodeKind::Scalar { .. } => node.span.clone(),
            _ => self.head_span(node),
        };
        self.error(
            span,
            "case::wrong_type",
            format!("`{field}` must be {expected}, found {}", describe(node)),
            format!("expected {expected}"),
            help,
        );
    }

    /// The fields of a mapping; reports unknown and duplicate keys.
    fn fields<'n>(
        &mut self,
        node: &'n Node<'n>,
        allowed: &[&str],
        what: &'static str,
        top_level: bool,
    ) -> Option<Fields<'n>> {
        let NodeKind::Map(pairs) = &node.kind else {
            // (`what` may be quoted already, as `steroids` is: quoted once)
            self.wrong_type(
                node,
                what.trim_matches('`'),
                "a mapping",
                &format!("write the {what} as `field: value` pairs"),
            );
            return None;
        };
        let mut entries: Vec<(&'n str, &'n Node<'n>, &'n Node<'n>)> =
            Vec::with_capacity(pairs.len());
        let mut misspelt = Vec::new();
        for (k, v) in pairs.iter() {
            let NodeKind::Scalar { text, .. } = &k.kind else {
                let span = self.head_span(k);
                self.error(
                    span,
                    "case::wrong_type",
                    format!("a field name in {} must be plain text", with_article(what)),
                    "not a field name",
                    format!("allowed fields: {}", list(allowed)),
                );
                continue;
            };
            let name: &str = text;
            if top_level && name.starts_with("x-") {
                continue;
            }
            if !allowed.iter().any(|a| same_name(a, name)) {
                // a whole case nested one level down (`case:` or `data:` above its fields)
                if let (true, NodeKind::Map(inner)) = (top_level, &v.kind) {
                    let nested = inner.iter().filter(|(ik, _)| {
                        matches!(&ik.kind, NodeKind::Scalar { text, .. } if allowed.iter().any(|a| same_name(a, text)))
                    });
                    if nested.count() >= 2 {
                        misspelt.extend(allowed.iter().map(|a| a.to_string()));
                        self.error(
                            k.span.clone(),
                            "case::unknown_field",
                            format!(
                                "unknown field `{}` in a case: the case's fields are nested under it",
                                shorten(name)
                            ),
                            "the case's fields are under this key",
                            if self.json_syntax() {
                                format!(
                                    "move the fields inside `\"{}\"` to the case's own object: `{{\"patient\": ..., \"assessments\": [...]}}`",
                                    shorten(name)
                                )
                            } else {
                                format!(
                                    "move the fields under `{}:` to the top level (`patient`, `setting`, `therapy_start`, `assessments` start at the beginning of the line) and delete the `{}:` line",
                                    shorten(name),
                                    shorten(name)
                                )
                            },
                        );
                        continue;
                    }
                }
                let mut help = match closest(name, allowed) {
                    Some(c) => {
                        misspelt.push(c.to_string());
                        format!("did you mean `{c}`? allowed fields: {}", list(allowed))
                    }
                    None => format!("allowed fields: {}", list(allowed)),
                };
                if top_level {
                    help.push_str("; keep your own annotations under keys starting with `x-`");
                } else if name.starts_with("x-") {
                    help.push_str("; `x-` annotations are allowed only at the top level of a case");
                }
                self.error(
                    k.span.clone(),
                    "case::unknown_field",
                    format!(
                        "unknown field `{}` in {}",
                        shorten(name),
                        with_article(what)
                    ),
                    "unknown field",
                    help,
                );
                continue;
            }
            if let Some((_, first, _)) = entries.iter().find(|(n, _, _)| same_name(n, name)) {
                let line = self.line_of(first);
                self.error(
                    k.span.clone(),
                    "case::duplicate_field",
                    format!("field `{name}` is given twice in {}", with_article(what)),
                    "given again here",
                    if what == "case" && name == "patient" {
                        // most often two case files joined (`cat a.yaml b.yaml`)
                        format!("keep one `{name}` (the first is on line {line}); several cases in one YAML file or stream are separated by a line `---`")
                    } else {
                        format!("keep one `{name}` (the first is on line {line})")
                    },
                );
                continue;
            }
            entries.push((name, k, v));
        }
        Some(Fields {
            node,
            what,
            entries,
            misspelt,
        })
    }

    /// A required field; reports it when absent.
    fn req<'n>(&mut self, f: &Fields<'n>, name: &str) -> Option<&'n Node<'n>> {
        let found = f.raw(name);
        // a misspelling of it was reported with "did you mean" already
        if found.is_none() && !f.misspelt.iter().any(|m| m == name) {
            let span = self.head_span(f.node);
            self.error(
                span,
                "case::missing_field",
                format!("missing field `{name}` in {}", with_article(f.what)),
                format!("this {} has no `{name}`", f.what),
                missing_help(name),
            );
        }
        found
    }

    fn string(&mut self, node: &Node, field: &str) -> Option<String> {
        self.string_ok(node, field)?;
        match &node.kind {
            NodeKind::Scalar { text, .. } => Some(text.to_string()),
            _ => None,
        }
    }

    /// `Some` when `node` is text `string` accepts (reporting it otherwise), without a copy.
    fn string_ok(&mut self, node: &Node, field: &str) -> Option<()> {
        match &node.kind {
            NodeKind::Scalar { text, plain }
                if !(node.is_null()
                    || text.is_empty()
                    || (*plain && is_bool_text(text).is_some())) =>
            {
                Some(())
            }
            NodeKind::Scalar { text, .. } if text.trim().is_empty() && !node.is_null() => {
                self.wrong_type(
                    node,
                    field,
                    "text",
                    &format!("`{field}` is empty: give it a value, or leave the field out where it is optional"),
                );
                None
            }
            _ => {
                self.wrong_type(
                    node,
                    field,
                    "text",
                    &format!(
                        "give `{field}` as text, quoted if it could be read as something else"
                    ),
                );
                None
            }
        }
    }

    fn date(&mut self, node: &Node, field: &str) -> Option<NaiveDate> {
        let NodeKind::Scalar { text, .. } = &node.kind else {
            self.wrong_type(
                node,
                field,
                "a date",
                "write dates as `YYYY-MM-DD`, e.g. `2025-03-03`",
            );
            return None;
        };
        if node.is_null() {
            self.wrong_type(
                node,
                field,
                "a date",
                "write dates as `YYYY-MM-DD`, e.g. `2025-03-03`",
            );
            return None;
        }
        let b = text.as_bytes();
        let shape_ok = b.len() == 10
            && b.iter().enumerate().all(|(i, c)| {
                if i == 4 || i == 7 {
                    *c == b'-'
                } else {
                    c.is_ascii_digit()
                }
            });
        let parts = shape_ok
            .then(|| {
                let y = text.get(0..4)?.parse::<i32>().ok()?;
                let m = text.get(5..7)?.parse::<u32>().ok()?;
                let d = text.get(8..10)?.parse::<u32>().ok()?;
                Some((y, m, d))
            })
            .flatten();
        let Some((y, m, d)) = parts else {
            // a timestamp (`2024-01-08T10:00:00`, `2024-01-08 10:00`) is a date with a time
            let date_part = text
                .get(..10)
                .filter(|_| matches!(text.as_bytes().get(10), Some(b'T' | b't' | b' ')));
            let (message, help) = match date_part {
                Some(dp) => (
                    format!(
                        "`{}` is a timestamp, not a plain date (YYYY-MM-DD)",
                        shorten(text)
                    ),
                    format!("keep the date only: `{dp}`"),
                ),
                None => (
                    format!("`{}` is not a plain date (YYYY-MM-DD)", shorten(text)),
                    "write dates as `YYYY-MM-DD`, e.g. `2025-03-03`".to_string(),
                ),
            };
            self.error(
                node.span.clone(),
                "case::bad_date",
                message,
                "not a `YYYY-MM-DD` date",
                help,
            );
            return None;
        };
        match NaiveDate::from_ymd_opt(y, m, d) {
            Some(date) => Some(date),
            None => {
                let (why, label) = if (1..=12).contains(&m) {
                    let days = (28..=31)
                        .rev()
                        .find(|dd| NaiveDate::from_ymd_opt(y, m, *dd).is_some())
                        .unwrap_or(28);
                    let month = NaiveDate::from_ymd_opt(y, m, 1)
                        .map(|x| x.format("%B %Y").to_string())
                        .unwrap_or_default();
                    (format!("{month} has {days} days"), "no such day")
                } else {
                    (format!("there is no month {m}"), "no such month")
                };
                self.error(
                    node.span.clone(),
                    "case::bad_date",
                    format!("`{text}` is not a real date: {why}"),
                    label,
                    "check the day and the month (dates are `YYYY-MM-DD`, year first, then month)",
                );
                None
            }
        }
    }

    fn choice<T: Copy>(
        &mut self,
        node: &Node,
        field: &str,
        table: &[(&'static str, T)],
    ) -> Option<T> {
        if let NodeKind::Scalar { text, .. } = &node.kind {
            if let Some((_, v)) = table.iter().find(|(n, _)| n == text) {
                return Some(*v);
            }
        }
        // not an allowed value: the names are listed only for the message
        let allowed = names(table);
        let text = match &node.kind {
            NodeKind::Scalar { text, .. } if !node.is_null() => text,
            _ => {
                self.wrong_type(
                    node,
                    field,
                    "one of the allowed values",
                    &format!("allowed values: {}", list(&allowed)),
                );
                return None;
            }
        };
        let help = match closest(text, &allowed) {
            Some(c) => format!("did you mean `{c}`? allowed values: {}", list(&allowed)),
            // the scan a criterion takes as baseline is a scan before therapy
            None if field == "scan" && text.trim().eq_ignore_ascii_case("baseline") => format!(
                "the criterion chooses the baseline among the scans before therapy: write `pretreatment` (or `postop`, `post_rt` for a post-operative or post-radiotherapy scan); allowed values: {}",
                list(&allowed)
            ),
            None => format!("allowed values: {}", list(&allowed)),
        };
        self.error(
            node.span.clone(),
            "case::unknown_value",
            format!("`{}` is not a valid `{field}`", shorten(text)),
            "not an allowed value",
            help,
        );
        None
    }

    fn boolean(&mut self, node: &Node, field: &str) -> Option<bool> {
        match &node.kind {
            NodeKind::Scalar { text, plain: true } => {
                if let Some(b) = is_bool_text(text) {
                    return Some(b);
                }
            }
            NodeKind::Scalar { .. } | NodeKind::Map(_) | NodeKind::Seq(_) => {}
        }
        self.wrong_type(
            node,
            field,
            "`true` or `false`",
            &format!("write `{field}: true` or `{field}: false`, without quotes"),
        );
        None
    }

    /// A non-negative exact decimal (a size, a volume or a dose).
    fn measure(&mut self, node: &Node, field: &str) -> Option<Rational> {
        let (text, plain) = match &node.kind {
            NodeKind::Scalar { text, plain } if !node.is_null() => (text, *plain),
            _ => {
                self.wrong_type(
                    node,
                    field,
                    "a number",
                    &format!("give `{field}` as a decimal number, e.g. `12.5`"),
                );
                return None;
            }
        };
        if !plain {
            self.error(
                node.span.clone(),
                "case::wrong_type",
                format!(
                    "`{field}` must be a number, found the quoted text `{}`",
                    shorten(text)
                ),
                "expected a number",
                quoted_number_help(text, field),
            );
            return None;
        }
        let value = match text.parse::<Rational>() {
            Ok(v) => v,
            Err(_) => {
                // well-formed (`-12.5`, `1e400`): a number, just too long or too large
                let numeric = well_formed_number(text);
                self.error(
                    node.span.clone(),
                    "case::bad_number",
                    if numeric {
                        format!(
                            "`{}` has too many digits or is too large to hold exactly",
                            shorten(text)
                        )
                    } else {
                        format!("`{}` is not a decimal number", shorten(text))
                    },
                    if numeric { "too large" } else { "not a number" },
                    unit_help(text, field).unwrap_or_else(|| {
                        format!(
                            "give `{field}` as a decimal with at most 30 digits, e.g. `12.5` or `1.25e1`"
                        )
                    }),
                );
                return None;
            }
        };
        if value.is_negative() {
            self.error(
                node.span.clone(),
                "case::negative_measure",
                format!("`{field}` must not be negative, found `{text}`"),
                "negative",
                "sizes, volumes and doses are zero or more; for a lesion that is gone use `status: absent`",
            );
            return None;
        }
        Some(value)
    }

    fn irae_grade(&mut self, node: &Node) -> Option<u8> {
        if let NodeKind::Scalar { text, plain: true } = &node.kind {
            if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
                return match text.parse::<u8>() {
                    Ok(g) if g <= 5 => Some(g),
                    _ => {
                        self.error(
                            node.span.clone(),
                            "case::out_of_range",
                            format!("`irae_grade` must be from 0 to 5, found `{}`", shorten(text)),
                            "not a CTCAE grade",
                            "give the worst immune-related adverse event grade, a whole number from 0 to 5",
                        );
                        None
                    }
                };
            }
        }
        self.wrong_type(
            node,
            "irae_grade",
            "a whole number from 0 to 5",
            "give the worst immune-related adverse event grade, e.g. `irae_grade: 2`",
        );
        None
    }

    /// One case from its mapping.
    pub fn case(&mut self, node: &Node) -> Option<ReadCase> {
        let before = self.errors.len();
        let f = self.fields(node, CASE_FIELDS, "case", true)?;
        let patient_node = self.req(&f, "patient");
        let patient = patient_node.and_then(|n| self.string(n, "patient"));
        let setting = self
            .req(&f, "setting")
            .and_then(|n| self.choice(n, "setting", SETTINGS));
        let therapy_start = self
            .req(&f, "therapy_start")
            .and_then(|n| self.date(n, "therapy_start"));
        let chemoradiation_end = f
            .opt("chemoradiation_end")
            .and_then(|n| self.date(n, "chemoradiation_end"));
        let reirradiation_end = f
            .opt("reirradiation_end")
            .and_then(|n| self.date(n, "reirradiation_end"));
        let (lesions, assessments) = match self.req(&f, "assessments") {
            Some(n) => self.assessments(n)?,
            None => return None,
        };
        if self.errors.len() > before {
            return None;
        }
        let (Some(patient), Some(patient_node), Some(setting), Some(therapy_start)) =
            (patient, patient_node, setting, therapy_start)
        else {
            return None;
        };
        Some(ReadCase {
            case: Case {
                patient,
                setting,
                therapy_start,
                chemoradiation_end,
                reirradiation_end,
                lesions,
                assessments,
                origin: Origin {
                    file: self.src.name.clone(),
                    line: self.line_of(node),
                },
                annotations: self.annotations(node),
            },
            patient_span: patient_node.span.clone(),
        })
    }

    /// The top-level `x-` keys of a case's mapping (skipped by [`Reader::fields`]).
    fn annotations(&self, node: &Node) -> Vec<Annotation> {
        let NodeKind::Map(pairs) = &node.kind else {
            return Vec::new();
        };
        pairs
            .iter()
            .filter_map(|(k, _)| match &k.kind {
                NodeKind::Scalar { text, .. } if text.starts_with("x-") => {
                    let (line, column) = self.src.line_col(k.span.start);
                    Some(Annotation {
                        key: text.to_string(),
                        line,
                        column,
                        span: k.span.clone(),
                    })
                }
                _ => None,
            })
            .collect()
    }

    /// Whether the case is written in JSON syntax (a JSON or JSON Lines file, or YAML in
    /// flow style, which reads the same): help then shows JSON, not YAML's block style.
    fn json_syntax(&self) -> bool {
        self.src.text.trim_start().starts_with(['{', '['])
    }

    fn assessments(&mut self, node: &Node) -> Option<(Vec<LesionInfo>, Vec<Assessment>)> {
        let NodeKind::Seq(items) = &node.kind else {
            let help = if self.json_syntax() {
                "write the scans as a JSON array, one object per scan: `\"assessments\": [{\"date\": \"YYYY-MM-DD\", ...}, ...]`"
            } else {
                "write each scan as a list item starting with `- date: YYYY-MM-DD`"
            };
            self.wrong_type(node, "assessments", "a list", help);
            return None;
        };
        if items.is_empty() {
            let span = self.head_span(node);
            self.error(
                span,
                "case::no_assessments",
                "`assessments` is empty",
                "no scans",
                "list the scans of the case, starting with the baseline scan",
            );
            return None;
        }
        let mut reg: IdMap<String, Declared> = IdMap::default();
        let mut baseline: Vec<LesionInfo> = Vec::new();
        let mut new: Vec<LesionInfo> = Vec::new();
        let mut out = Vec::new();
        let mut ok = true;
        let mut prev: Option<(NaiveDate, usize, usize)> = None;
        let before = self.errors.len();
        self.reference_scan = ReferenceScan::NotYet;
        self.lesion_list_unreadable = false;
        for (index, item) in items.iter().enumerate() {
            let a = self.assessment(item, index, &mut reg, &mut baseline, &mut new, &mut prev);
            match a {
                Some(a) => out.push(a),
                None => ok = false,
            }
        }
        if !ok {
            // lesions are identified in the order the scans are listed: with the scans out
            // of date order, an unknown lesion is a consequence, and only the order is said
            let new_errors = self.errors.get(before..).unwrap_or_default();
            // likewise when a scan's lesion list could not be read (a mapping, say): the
            // lesions it meant to introduce are unknown later only because of that
            if self.lesion_list_unreadable
                || new_errors.iter().any(|e| e.code() == "case::date_order")
            {
                let mut i = 0;
                self.errors.retain(|e| {
                    let keep = i < before
                        || !matches!(e.code(), "case::unknown_lesion" | "case::no_baseline_scan");
                    i += 1;
                    keep
                });
            }
            return None;
        }
        // New lesions come after the baseline lesions in `Case::lesions`.
        let offset = baseline.len();
        for a in &mut out {
            for o in &mut a.new_lesions {
                o.lesion += offset;
            }
        }
        baseline.extend(new);
        Some((baseline, out))
    }

    fn assessment<'n>(
        &mut self,
        node: &'n Node<'n>,
        index: usize,
        reg: &mut IdMap<String, Declared>,
        baseline: &mut Vec<LesionInfo>,
        new: &mut Vec<LesionInfo>,
        prev: &mut Option<(NaiveDate, usize, usize)>,
    ) -> Option<Assessment> {
        let before = self.errors.len();
        let f = self.fields(node, ASSESSMENT_FIELDS, "assessment", false)?;
        let line = self.line_of(node);
        let date_node = self.req(&f, "date");
        let date = date_node.and_then(|n| self.date(n, "date"));
        if let (Some(d), Some(dn)) = (date, date_node) {
            // the other assessment by its place in the list, and its line when that is
            // another line (a JSON Lines case has all of them on one)
            let other = |k: usize, pline: usize| {
                if pline == line {
                    format!("assessment {}, on this line", k + 1)
                } else {
                    format!("assessment {}, on line {pline}", k + 1)
                }
            };
            match *prev {
                Some((p, pline, k)) if d == p => self.error(
                    dn.span.clone(),
                    "case::duplicate_date",
                    format!("two assessments on `{d}`"),
                    format!("same date as {}", other(k, pline)),
                    format!(
                        "merge the two scans into one assessment, or correct the date (the other is {})",
                        other(k, pline)
                    ),
                ),
                Some((p, pline, k)) if d < p => self.error(
                    dn.span.clone(),
                    "case::date_order",
                    format!("assessment on `{d}` is listed after the later assessment on `{p}`"),
                    "earlier than the previous assessment",
                    format!(
                        "list assessments in increasing date order (the previous one is {})",
                        other(k, pline)
                    ),
                ),
                _ => {}
            }
            *prev = Some((d, line, index));
        }
        let scan = self
            .req(&f, "scan")
            .and_then(|n| self.choice(n, "scan", SCANS));
        // a scan whose kind is missing or misspelt (already an error) may be the baseline:
        // no knock-on "no baseline scan" for the lesions after it
        if scan.is_none_or(|k| k != ScanKind::Followup) {
            self.reference_scan = ReferenceScan::Seen;
        }
        let evaluable = f
            .opt("evaluable")
            .and_then(|n| self.boolean(n, "evaluable"));
        let t2_flair = f
            .opt("t2_flair")
            .and_then(|n| self.choice(n, "t2_flair", TRENDS));
        let enhancement = f
            .opt("enhancement")
            .and_then(|n| self.choice(n, "enhancement", ENHANCEMENTS));
        let clinical = f
            .opt("clinical")
            .and_then(|n| self.choice(n, "clinical", TRENDS));
        let decline_cause = f
            .opt("decline_cause")
            .and_then(|n| self.choice(n, "decline_cause", DECLINE_CAUSES));
        if clinical == Some(Trend::Worse) && f.opt("decline_cause").is_none() {
            if let Some(c) = f.opt("clinical") {
                self.error(
                    c.span.clone(),
                    "case::missing_decline_cause",
                    "`clinical: worse` needs a `decline_cause`",
                    "no `decline_cause` for this decline",
                    format!(
                        "add `decline_cause:` with one of {}",
                        list(&names(DECLINE_CAUSES))
                    ),
                );
            }
        }
        let irae_grade = f.opt("irae_grade").and_then(|n| self.irae_grade(n));
        let pathology = f
            .opt("pathology")
            .and_then(|n| self.choice(n, "pathology", PATHOLOGIES));
        let unscheduled = f
            .opt("unscheduled")
            .and_then(|n| self.boolean(n, "unscheduled"));
        let symptom_driven = f
            .opt("symptom_driven")
            .and_then(|n| self.boolean(n, "symptom_driven"));
        let steroids = f.opt("steroids").and_then(|n| self.steroids(n));

        let mut seen: IdMap<&str, (usize, bool)> = IdMap::default();
        let listed = |name: &str| match f.opt(name).map(|n| &n.kind) {
            Some(NodeKind::Seq(entries)) => entries.len(),
            _ => 0,
        };
        let mut lesions = Vec::with_capacity(listed("lesions"));
        let mut new_lesions = Vec::with_capacity(listed("new_lesions"));
        for (field, is_new_list, out) in [
            ("lesions", false, &mut lesions),
            ("new_lesions", true, &mut new_lesions),
        ] {
            let Some(list_node) = f.opt(field) else {
                continue;
            };
            let NodeKind::Seq(entries) = &list_node.kind else {
                // one lesion written without the `- ` of its list item
                let one_lesion = matches!(&list_node.kind, NodeKind::Map(pairs)
                    if pairs.iter().any(|(k, _)| matches!(&k.kind, NodeKind::Scalar { text, .. } if *text == "id")));
                let help = if self.json_syntax() {
                    "write the lesions as a JSON array, one object per lesion, e.g. `[{\"id\": \"T1\", \"d\": [31.5, 22.0]}]`"
                } else if one_lesion
                    && self
                        .src
                        .text
                        .get(list_node.span.clone())
                        .is_some_and(|t| t.starts_with('{'))
                {
                    "this is one lesion without the list around it: write `[{id: T1, ...}]`, with `[` and `]`"
                } else if one_lesion {
                    "this is one lesion written without the `- ` that starts a list item: write `- id: T1` and indent its other fields by two more spaces, or `- {id: T1, d: [31.5, 22.0]}`"
                } else {
                    "write each lesion as a list item, e.g. `- {id: T1, d: [31.5, 22.0]}`"
                };
                self.wrong_type(list_node, field, "a list", help);
                self.lesion_list_unreadable = true;
                continue;
            };
            for entry in entries.iter() {
                let ctx = LesionCtx {
                    index,
                    scan,
                    is_new_list,
                };
                if let Some(o) = self.lesion(entry, &ctx, reg, baseline, new, &mut seen) {
                    out.push(o);
                }
            }
        }

        if self.errors.len() > before {
            return None;
        }
        Some(Assessment {
            date: date?,
            scan: scan?,
            evaluable: evaluable.unwrap_or(true),
            lesions,
            new_lesions,
            t2_flair,
            enhancement,
            steroids,
            clinical,
            decline_cause,
            irae_grade,
            pathology,
            unscheduled: unscheduled.unwrap_or(false),
            symptom_driven: symptom_driven.unwrap_or(false),
            line,
        })
    }

    fn steroids(&mut self, node: &Node) -> Option<Steroids> {
        let f = self.fields(node, STEROID_FIELDS, "`steroids`", false)?;
        let dose_mg = self
            .req(&f, "dose_mg")
            .and_then(|n| self.measure(n, "dose_mg"));
        let changed_on = f.opt("changed_on").and_then(|n| self.date(n, "changed_on"));
        let replacement = f
            .opt("replacement")
            .and_then(|n| self.boolean(n, "replacement"));
        Some(Steroids {
            dose_mg: dose_mg?,
            changed_on,
            replacement,
        })
    }

    fn lesion<'n>(
        &mut self,
        node: &'n Node<'n>,
        ctx: &LesionCtx,
        reg: &mut IdMap<String, Declared>,
        baseline: &mut Vec<LesionInfo>,
        new: &mut Vec<LesionInfo>,
        seen: &mut IdMap<&'n str, (usize, bool)>,
    ) -> Option<Observation> {
        let (allowed, what) = if ctx.is_new_list {
            (NEW_LESION_FIELDS, "new lesion")
        } else {
            (LESION_FIELDS, "lesion")
        };
        let list_name = if ctx.is_new_list {
            "new_lesions"
        } else {
            "lesions"
        };
        let f = self.fields(node, allowed, what, false)?;
        let id_node = self.req(&f, "id")?;
        // the id as written (`string` accepts it only as a scalar's text); copied only
        // where the lesion is first listed
        self.string_ok(id_node, "id")?;
        let id: &'n str = match &id_node.kind {
            NodeKind::Scalar { text, .. } => text,
            _ => return None,
        };
        let line = self.line_of(node);
        if let Some(&(first, first_new)) = seen.get(id) {
            let (message, help) = if first_new == ctx.is_new_list {
                (
                    format!("lesion `{}` is listed twice in one assessment", shorten(id)),
                    format!(
                        "keep one entry for `{}` (the first is on line {first})",
                        shorten(id)
                    ),
                )
            } else {
                (
                    format!(
                        "lesion `{}` is listed in both `lesions` and `new_lesions` of one assessment",
                        shorten(id)
                    ),
                    format!(
                        "a lesion is either followed from the baseline (`lesions`) or new (`new_lesions`): give the new lesion an id of its own (the other entry is on line {first})"
                    ),
                )
            };
            self.error(
                id_node.span.clone(),
                "case::duplicate_lesion",
                message,
                "listed again here",
                help,
            );
            return None;
        }
        seen.insert(id, (line, ctx.is_new_list));

        let local = match reg.get(id) {
            Some(d) if d.is_new != ctx.is_new_list => {
                let (message, help) = if d.is_new {
                    (
                        format!(
                            "lesion `{}` is a new lesion (first listed under `new_lesions` on line {})",
                            shorten(id),
                            d.line
                        ),
                        "keep a new lesion under `new_lesions` at every scan, or give this lesion another id".to_string(),
                    )
                } else {
                    (
                        format!(
                            "lesion `{}` is a baseline lesion (first listed under `lesions` on line {})",
                            shorten(id),
                            d.line
                        ),
                        "keep a baseline lesion under `lesions` at every scan, or give the new lesion another id".to_string(),
                    )
                };
                self.error(
                    id_node.span.clone(),
                    "case::lesion_kind_conflict",
                    message,
                    format!("listed under `{list_name}` here"),
                    help,
                );
                return None;
            }
            Some(d) => {
                let (local, first_line) = (d.local, d.line);
                let first = if d.is_new {
                    new.get(local)
                } else {
                    baseline.get(local)
                };
                // Trial exports repeat `role`, `component` and `organ` on every visit: an
                // identical repeat is accepted, a different value is refused.
                for attr in ["role", "component", "organ"] {
                    let (Some(n), Some(first)) = (f.opt(attr), first) else {
                        continue;
                    };
                    let same = match attr {
                        "role" => self.choice(n, "role", ROLES).map(|v| Some(v) == first.role),
                        "component" => self
                            .choice(n, "component", COMPONENTS)
                            .map(|v| Some(v) == first.component),
                        _ => self
                            .string(n, "organ")
                            .map(|v| Some(organ_name(&v)) == first.organ),
                    };
                    if same == Some(false) {
                        let span = f
                            .key(attr)
                            .map(|k| k.span.clone())
                            .unwrap_or(n.span.clone());
                        self.error(
                            span,
                            "case::fixed_attribute",
                            format!(
                                "`{attr}` of lesion `{}` differs from where it first appears (line {first_line})",
                                shorten(id)
                            ),
                            "a different value here",
                            format!(
                                "`{attr}` is fixed where the lesion first appears (line {first_line}); repeat the same value or leave it out"
                            ),
                        );
                    }
                }
                local
            }
            None => {
                if !ctx.is_new_list
                    && ctx.scan == Some(ScanKind::Followup)
                    && self.reference_scan != ReferenceScan::Seen
                {
                    // every scan so far is a follow-up: the case has no baseline scan, which
                    // is said once, rather than every lesion as unknown
                    if self.reference_scan == ReferenceScan::NotYet {
                        self.reference_scan = ReferenceScan::AbsenceSaid;
                        self.error(
                            id_node.span.clone(),
                            "case::no_baseline_scan",
                            format!(
                                "lesion `{}` first appears on a follow-up scan, and no scan before it is a baseline",
                                shorten(id)
                            ),
                            "no `pretreatment`, `postop` or `post_rt` scan before this one",
                            "mark the baseline scan with `scan: pretreatment` (or `postop`, `post_rt`): lesions are identified on it and follow-up scans repeat them by id; a lesion first seen on a follow-up goes under `new_lesions`",
                        );
                    }
                    return None;
                }
                if !ctx.is_new_list && ctx.scan == Some(ScanKind::Followup) {
                    // the same id written otherwise (`t2` for `T2`, a stray space)
                    let written = id.trim().to_lowercase();
                    let meant = reg.keys().find(|k| k.trim().to_lowercase() == written);
                    let help = match meant {
                        Some(k) => format!(
                            "did you mean `{}`? lesion ids are compared exactly (case and spaces count); otherwise list it under `new_lesions` or add it to the baseline scan",
                            shorten(k)
                        ),
                        None => {
                            "list it under `new_lesions` or add it to the baseline scan".to_string()
                        }
                    };
                    self.error(
                        id_node.span.clone(),
                        "case::unknown_lesion",
                        format!("lesion `{}` was not seen at baseline", shorten(id)),
                        "unknown lesion id",
                        help,
                    );
                    return None;
                }
                let role = if ctx.is_new_list {
                    None
                } else {
                    match f.opt("role") {
                        Some(n) => self.choice(n, "role", ROLES),
                        None => {
                            let span = self.head_span(node);
                            self.error(
                                span,
                                "case::missing_field",
                                format!(
                                    "missing field `role` where lesion `{}` first appears",
                                    shorten(id)
                                ),
                                "this lesion has no `role`",
                                format!(
                                    "add `role:` with one of {} (it is given once, where the lesion first appears)",
                                    list(&names(ROLES))
                                ),
                            );
                            None
                        }
                    }
                };
                let component = f
                    .opt("component")
                    .and_then(|n| self.choice(n, "component", COMPONENTS));
                let organ = f
                    .opt("organ")
                    .and_then(|n| self.string(n, "organ"))
                    .map(|o| organ_name(&o));
                let info = LesionInfo {
                    id: id.to_string(),
                    is_new: ctx.is_new_list,
                    role,
                    component,
                    organ,
                    first_seen: ctx.index,
                };
                let target = if ctx.is_new_list { new } else { baseline };
                let local = target.len();
                target.push(info);
                reg.insert(
                    id.to_string(),
                    Declared {
                        is_new: ctx.is_new_list,
                        local,
                        line,
                    },
                );
                local
            }
        };

        let d_node = f.opt("d");
        let d = d_node.and_then(|n| self.pair(n));
        let ld = f.opt("ld").and_then(|n| self.measure(n, "ld"));
        let sa = f.opt("sa").and_then(|n| self.measure(n, "sa"));
        let vol_ml = f.opt("vol_ml").and_then(|n| self.measure(n, "vol_ml"));
        let status_node = f.opt("status");
        let mut status = status_node.and_then(|n| self.choice(n, "status", MEASURE_STATUSES));
        // A lesion measured 0 x 0 (or with a longest diameter of 0) has disappeared.
        let zero_pair = d.map(|[a, b]| (a.is_zero(), b.is_zero()));
        let gone = match (zero_pair, ld) {
            (Some((true, true)), _) => true,
            (None, Some(x)) => x.is_zero(),
            _ => false,
        };
        if let (Some((za, zb)), Some(n)) = (zero_pair, d_node) {
            if za != zb {
                let span = self.head_span(n);
                self.error(
                    span,
                    "case::one_zero_diameter",
                    "one diameter is 0 and the other is not",
                    "a 0 beside a non-zero diameter",
                    "a lesion that has disappeared is `d: [0, 0]` (or `status: absent`); one too small to measure is `status: too_small`; otherwise give both diameters",
                );
            }
        }
        if gone {
            match status {
                None => status = Some(MeasureStatus::Absent),
                Some(MeasureStatus::Present | MeasureStatus::TooSmall) => {
                    if let Some(n) = status_node {
                        let span = n.span.clone();
                        self.error(
                            span,
                            "case::zero_but_present",
                            "the lesion is measured 0 but its status says it is there",
                            "contradicts the 0 measurement",
                            "a lesion measured 0 has disappeared: drop `status` (or write `status: absent`), or give its real size",
                        );
                    }
                }
                Some(MeasureStatus::Absent | MeasureStatus::NotAssessed) => {}
            }
        }
        let nt_status = f
            .opt("nt_status")
            .and_then(|n| self.choice(n, "nt_status", NT_STATUSES));
        let equivocal = f
            .opt("equivocal")
            .and_then(|n| self.boolean(n, "equivocal"));
        let outside_radiation_field = f
            .opt("outside_radiation_field")
            .and_then(|n| self.boolean(n, "outside_radiation_field"));
        Some(Observation {
            lesion: local,
            d,
            ld,
            sa,
            vol_ml,
            status,
            nt_status,
            equivocal,
            outside_radiation_field,
        })
    }

    /// `d: [longest, perpendicular]`.
    fn pair(&mut self, node: &Node) -> Option<[Rational; 2]> {
        let NodeKind::Seq(items) = &node.kind else {
            self.wrong_type(
                node,
                "d",
                "a list of two numbers",
                "write `d: [longest, perpendicular]` in mm, e.g. `d: [31.5, 22.0]`",
            );
            return None;
        };
        if items.len() != 2 {
            let span = self.head_span(node);
            self.error(
                span,
                "case::wrong_length",
                format!(
                    "`d` must hold exactly two numbers, found {}",
                    items.len()
                ),
                match items.len() {
                    1 => "1 value".to_string(),
                    n => format!("{n} values"),
                },
                "write `d: [longest, perpendicular]` in mm, e.g. `d: [31.5, 22.0]`; use `ld` for a single diameter",
            );
            return None;
        }
        let mut values = items
            .iter()
            .map(|n| self.measure(n, "d"))
            .collect::<Vec<_>>();
        let second = values.pop().flatten();
        let first = values.pop().flatten();
        Some([first?, second?])
    }
}

struct LesionCtx {
    index: usize,
    scan: Option<ScanKind>,
    is_new_list: bool,
}

/// The help for a number written as quoted text: a value with a unit is converted to the
/// field's unit (lengths are in mm, so `"1.5 cm"` is `15`), else the quotes go.
fn quoted_number_help(text: &str, field: &str) -> String {
    unit_help(text, field).unwrap_or_else(|| "write the number without quotes, e.g. `12.5`".into())
}

/// For a number written with a unit (`1.5 cm`, `12 mm`): what to write instead. Lengths are
/// in mm, so a value in cm is converted; `None` when the text is not a number and a unit.
fn unit_help(text: &str, field: &str) -> Option<String> {
    let t = text.trim();
    let split = t
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
        .map_or(t.len(), |(i, _)| i);
    let (number, unit) = (t.get(..split)?, t.get(split..)?.trim());
    if !unit.chars().all(|c| c.is_ascii_alphabetic() || c == '/') {
        return None;
    }
    let value = number.parse::<Rational>().ok()?;
    let length = matches!(field, "d" | "ld" | "sa");
    Some(match unit {
        "" => return None,
        "cm" if length => {
            let mm = value
                .checked_mul(Rational::from_int(10))
                .map(|x| x.to_decimal_string(4))
                .unwrap_or_else(|_| format!("{number} x 10"));
            format!("lengths are in mm, written as bare numbers: {number} cm is `{mm}`")
        }
        "mm" if length => format!("lengths are in mm, written as bare numbers: write `{number}`"),
        _ => format!(
            "write the number alone, without quotes or unit, in the unit case-format.md gives `{field}` (e.g. `{number}` if it is already in that unit)"
        ),
    })
}

/// `[+-]DIGITS[.DIGITS][(e|E)[+-]DIGITS]` (a point may also start or end the mantissa).
fn well_formed_number(text: &str) -> bool {
    let unsigned = |t: &str| t.strip_prefix(['+', '-']).unwrap_or(t).to_string();
    let t = unsigned(text);
    let (mantissa, exponent) = match t.split_once(['e', 'E']) {
        Some((m, e)) => (m.to_string(), Some(unsigned(e))),
        None => (t, None),
    };
    let digits = |x: &str| !x.is_empty() && x.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((a, b)) => {
            (a.is_empty() || digits(a))
                && (b.is_empty() || digits(b))
                && !(a.is_empty() && b.is_empty())
        }
        None => digits(&mantissa),
    };
    mantissa_ok && exponent.is_none_or(|e| digits(&e))
}

/// An `organ` as criteria compare it: in lower case, without surrounding spaces, and with
/// the usual names of a lymph node read as `node` and of a skin lesion as `skin`, the names
/// the case format gives them (docs/case-format.md). `Liver` and `liver ` are one organ,
/// and `lymph node` is a node: written otherwise, a criterion would count them apart, or
/// measure a node as any other lesion, without a word.
pub(crate) fn organ_name(raw: &str) -> String {
    let name = raw.trim().to_ascii_lowercase();
    match name.as_str() {
        "lymph node" | "lymph nodes" | "lymph_node" | "lymph_nodes" | "lymph-node"
        | "lymph-nodes" | "lymphnode" | "lymphnodes" | "nodes" | "nodal" | "ln" => {
            "node".to_string()
        }
        "cutaneous" => "skin".to_string(),
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organs_are_read_in_lower_case_with_the_case_format_names() {
        assert_eq!(organ_name(" Liver "), "liver");
        assert_eq!(organ_name("LIVER"), "liver");
        assert_eq!(organ_name("Lymph node"), "node");
        assert_eq!(organ_name("LN"), "node");
        assert_eq!(organ_name("node"), "node");
        assert_eq!(organ_name("Cutaneous"), "skin");
        assert_eq!(organ_name("subcutaneous"), "subcutaneous");
        assert_eq!(organ_name("spinal cord"), "spinal cord");
    }

    #[test]
    fn closest_names() {
        assert_eq!(closest("patinet", CASE_FIELDS), Some("patient"));
        assert_eq!(closest("lesion", ASSESSMENT_FIELDS), Some("lesions"));
        assert_eq!(closest("zzzzzz", CASE_FIELDS), None);
        // another form of the word: a value read as the same word
        assert_eq!(
            closest("worsened", &["stable", "improved", "worse"]),
            Some("worse")
        );
        assert_eq!(
            closest("improving", &["stable", "improved", "worse"]),
            Some("improved")
        );
        assert_eq!(closest("stab", &["stable", "improved"]), Some("stable"));
        assert_eq!(closest("wo", &["worse"]), None);
    }
}
