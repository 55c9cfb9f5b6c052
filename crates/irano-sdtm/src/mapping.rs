//! The mapping from SDTM values to the case model: the bundled defaults
//! (`default-map.yaml`) with a user's `--map` file laid over them.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::diag::{Location, SdtmDiagnostic};

const DEFAULT: &str = include_str!("default-map.yaml");

/// What a TR test code measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    Longest,
    Perpendicular,
    ShortAxis,
    Diameter,
    Volume,
    State,
    Ignore,
}

/// A lesion state read from TR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Present,
    Absent,
    Unequivocal,
    Equivocal,
    TooSmall,
    NotAssessed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LesionRole {
    Target,
    NonTarget,
    New,
}

/// The file format: every field optional, so that a user's file names only what it changes.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MapFile {
    setting: Option<String>,
    #[serde(default)]
    component: Option<String>,
    #[serde(default)]
    roles: BTreeMap<String, String>,
    #[serde(default)]
    tests: BTreeMap<String, String>,
    #[serde(default)]
    states: BTreeMap<String, String>,
    not_done: Option<Vec<String>>,
    #[serde(default)]
    organs: BTreeMap<String, String>,
    length_units: Option<Vec<String>>,
    volume_units: Option<Vec<String>>,
    response_test: Option<String>,
    response_test_name: Option<String>,
    #[serde(default)]
    responses: BTreeMap<String, String>,
    rseval: Option<String>,
    #[serde(default)]
    adam_params: BTreeMap<String, String>,
    #[serde(default)]
    adam_param_names: BTreeMap<String, String>,
    #[serde(default)]
    steroids: BTreeMap<String, String>,
    #[serde(default)]
    frequencies: BTreeMap<String, String>,
}

/// The mapping in force. Keys are upper-case.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub setting: String,
    pub component: Option<String>,
    pub roles: BTreeMap<String, LesionRole>,
    pub tests: BTreeMap<String, Measure>,
    pub states: BTreeMap<String, State>,
    pub not_done: Vec<String>,
    pub organs: BTreeMap<String, String>,
    pub length_units: Vec<String>,
    pub volume_units: Vec<String>,
    pub response_test: String,
    /// RSTEST of exported rows.
    pub response_test_name: String,
    /// Recorded value (upper case) -> canonical label.
    pub responses: BTreeMap<String, String>,
    pub rseval: String,
    /// ADaM-style rows: `ovr`, `bor`, `cbor`, `progression` -> PARAMCD, and -> PARAM.
    pub adam_params: BTreeMap<String, String>,
    pub adam_param_names: BTreeMap<String, String>,
    /// CMDECOD -> dexamethasone mg per mg, as decimal text.
    pub steroids: BTreeMap<String, irano_exact::Rational>,
    pub frequencies: BTreeMap<String, irano_exact::Rational>,
}

fn key(s: &str) -> String {
    s.trim().to_uppercase()
}

impl Mapping {
    /// The defaults, with `file` (when given) laid over them.
    pub fn load(file: Option<&Path>) -> Result<Mapping, Vec<SdtmDiagnostic>> {
        let mut errors = Vec::new();
        let mut base = parse(DEFAULT, "<default mapping>", &mut errors);
        // A value the defaults do not have comes from the user's file: name it.
        let source = file.map_or_else(
            || "<default mapping>".to_string(),
            |p| p.display().to_string(),
        );
        if let Some(p) = file {
            let name = p.display().to_string();
            match std::fs::read_to_string(p) {
                Ok(text) => {
                    if let Some(user) = parse(&text, &name, &mut errors) {
                        if let Some(b) = base.as_mut() {
                            overlay(b, user);
                        }
                    }
                }
                Err(e) => errors.push(
                    SdtmDiagnostic::error(
                        "sdtm::io",
                        format!("cannot read the mapping file `{name}`: {e}"),
                        "check that the file exists and is readable",
                    )
                    .at(map_loc(&name, None)),
                ),
            }
        }
        let m = match base {
            Some(b) if errors.is_empty() => resolve(b, &source, &mut errors),
            _ => None,
        };
        match m {
            Some(m) if errors.is_empty() => Ok(m),
            _ => Err(errors),
        }
    }

    /// The canonical label of a recorded response value.
    pub fn response_label(&self, recorded: &str) -> Option<&str> {
        self.responses.get(&key(recorded)).map(String::as_str)
    }

    /// The recorded (CDISC) value of a canonical label: the first table entry that maps to it.
    pub fn response_value<'a>(&'a self, label: &'a str) -> &'a str {
        self.responses
            .iter()
            .find(|(_, v)| v.as_str() == label)
            .map_or(label, |(k, _)| k.as_str())
    }

    /// PARAMCD and PARAM of an ADaM-style row kind (`ovr`, `bor`, `cbor`, `progression`).
    pub fn adam_param(&self, kind: &str) -> (String, String) {
        (
            self.adam_params
                .get(kind)
                .cloned()
                .unwrap_or_else(|| kind.to_uppercase()),
            self.adam_param_names.get(kind).cloned().unwrap_or_default(),
        )
    }

    pub fn organ(&self, tuloc: &str) -> Option<String> {
        let k = key(tuloc);
        if k.is_empty() {
            return None;
        }
        Some(
            self.organs
                .get(&k)
                .cloned()
                .unwrap_or_else(|| tuloc.trim().to_lowercase()),
        )
    }
}

fn map_loc(file: &str, column: Option<&str>) -> Location {
    Location {
        file: file.to_string(),
        domain: "mapping".into(),
        line: None,
        seq: None,
        column: column.map(str::to_string),
    }
}

fn parse(text: &str, name: &str, errors: &mut Vec<SdtmDiagnostic>) -> Option<MapFile> {
    match serde_saphyr::from_str::<MapFile>(text) {
        Ok(m) => Some(m),
        Err(e) => {
            // serde-saphyr's text starts `error: line L column C: ` and may append a
            // source excerpt; the diagnostic carries the line itself.
            let text = e.without_snippet().to_string();
            let first = text.lines().next().unwrap_or_default();
            let message = match first.split_once(": ") {
                Some((_, rest)) if first.starts_with("error: ") => match rest.split_once(": ") {
                    Some((at, msg)) if at.starts_with("line ") => msg,
                    _ => rest,
                },
                _ => first,
            };
            let message = message
                .rfind(" at line ")
                .map_or(message, |i| &message[..i]);
            let mut at = map_loc(name, None);
            at.line = e
                .location()
                .and_then(|l| usize::try_from(l.line()).ok())
                .filter(|l| *l > 0);
            // serde's "unknown field `x`, expected one of `a`, `b`": the closest known key
            let near = message
                .split_once("unknown field `")
                .and_then(|(_, rest)| rest.split_once('`'))
                .and_then(|(key, rest)| {
                    let known = rest.split_once("expected one of ")?.1;
                    let names = known.split(',').map(|k| k.trim().trim_matches('`'));
                    irano_check::diag::closest(key, names)
                });
            let help = match near {
                Some(k) => format!("did you mean `{k}`? see docs/sdtm.md for the mapping file format; unknown keys are errors"),
                None => "see docs/sdtm.md for the mapping file format; unknown keys are errors".to_string(),
            };
            errors.push(
                SdtmDiagnostic::error(
                    "sdtm::mapping",
                    format!("the mapping file does not read: {message}"),
                    help,
                )
                .at(at),
            );
            None
        }
    }
}

fn overlay(base: &mut MapFile, user: MapFile) {
    if user.setting.is_some() {
        base.setting = user.setting;
    }
    if user.component.is_some() {
        base.component = user.component;
    }
    base.roles.extend(user.roles);
    base.tests.extend(user.tests);
    base.states.extend(user.states);
    if user.not_done.is_some() {
        base.not_done = user.not_done;
    }
    base.organs.extend(user.organs);
    if user.length_units.is_some() {
        base.length_units = user.length_units;
    }
    if user.volume_units.is_some() {
        base.volume_units = user.volume_units;
    }
    if user.response_test.is_some() {
        base.response_test = user.response_test;
    }
    if user.response_test_name.is_some() {
        base.response_test_name = user.response_test_name;
    }
    base.responses.extend(user.responses);
    if user.rseval.is_some() {
        base.rseval = user.rseval;
    }
    base.adam_params.extend(user.adam_params);
    base.adam_param_names.extend(user.adam_param_names);
    base.steroids.extend(user.steroids);
    base.frequencies.extend(user.frequencies);
}

fn table<T: Copy>(
    file: &str,
    src: BTreeMap<String, String>,
    section: &str,
    choices: &[(&str, T)],
    errors: &mut Vec<SdtmDiagnostic>,
) -> BTreeMap<String, T> {
    let mut out = BTreeMap::new();
    for (k, v) in src {
        match choices.iter().find(|(n, _)| *n == v.trim()) {
            Some((_, t)) => {
                out.insert(key(&k), *t);
            }
            None => errors.push(
                SdtmDiagnostic::error(
                    "sdtm::mapping",
                    format!("`{section}: {k}: {v}` is not one of the choices"),
                    format!(
                        "write one of {}",
                        choices
                            .iter()
                            .map(|(n, _)| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .at(map_loc(file, Some(section))),
            ),
        }
    }
    out
}

fn numbers(
    file: &str,
    src: BTreeMap<String, String>,
    section: &str,
    errors: &mut Vec<SdtmDiagnostic>,
) -> BTreeMap<String, irano_exact::Rational> {
    let mut out = BTreeMap::new();
    for (k, v) in src {
        match v.trim().parse::<irano_exact::Rational>() {
            Ok(r) if !r.is_negative() => {
                out.insert(key(&k), r);
            }
            _ => errors.push(
                SdtmDiagnostic::error(
                    "sdtm::mapping",
                    format!("`{section}: {k}: {v}` is not a non-negative decimal number"),
                    "write a decimal number such as `1` or `0.15`",
                )
                .at(map_loc(file, Some(section))),
            ),
        }
    }
    out
}

/// Unit names that are not another name of the unit a case holds (mm for lengths, ml for
/// volumes): listed under `length_units` or `volume_units`, their values would be read
/// unconverted, ten or a thousand times off.
const OTHER_LENGTHS: &[&str] = &[
    "cm", "m", "dm", "um", "µm", "nm", "in", "inch", "inches", "ft",
];
const OTHER_VOLUMES: &[&str] = &["l", "dl", "ul", "µl", "mm3", "m3", "dm3"];

fn check_unit_names(file: &str, m: &MapFile, errors: &mut Vec<SdtmDiagnostic>) {
    for (section, names, others, unit) in [
        ("length_units", &m.length_units, OTHER_LENGTHS, "mm"),
        ("volume_units", &m.volume_units, OTHER_VOLUMES, "ml"),
    ] {
        for n in names.iter().flatten() {
            if others.iter().any(|o| o.eq_ignore_ascii_case(n.trim())) {
                errors.push(
                    SdtmDiagnostic::error(
                        "sdtm::mapping",
                        format!("`{section}` lists `{n}`, which is not {unit}: its values would be read as {unit}, unconverted"),
                        format!("`{section}` names the spellings of {unit} only; convert the results to {unit} (TRSTRESC/TRSTRESU) before import"),
                    )
                    .at(map_loc(file, Some(section))),
                );
            }
        }
    }
}

fn resolve(m: MapFile, file: &str, errors: &mut Vec<SdtmDiagnostic>) -> Option<Mapping> {
    check_unit_names(file, &m, errors);
    let roles = table(
        file,
        m.roles,
        "roles",
        &[
            ("target", LesionRole::Target),
            ("non_target", LesionRole::NonTarget),
            ("new", LesionRole::New),
        ],
        errors,
    );
    let tests = table(
        file,
        m.tests,
        "tests",
        &[
            ("longest", Measure::Longest),
            ("perpendicular", Measure::Perpendicular),
            ("short_axis", Measure::ShortAxis),
            ("diameter", Measure::Diameter),
            ("volume", Measure::Volume),
            ("state", Measure::State),
            ("ignore", Measure::Ignore),
        ],
        errors,
    );
    let states = table(
        file,
        m.states,
        "states",
        &[
            ("present", State::Present),
            ("absent", State::Absent),
            ("unequivocal", State::Unequivocal),
            ("equivocal", State::Equivocal),
            ("too_small", State::TooSmall),
            ("not_assessed", State::NotAssessed),
        ],
        errors,
    );
    let steroids = numbers(file, m.steroids, "steroids", errors);
    let frequencies = numbers(file, m.frequencies, "frequencies", errors);
    Some(Mapping {
        setting: m.setting.unwrap_or_default(),
        component: m.component,
        roles,
        tests,
        states,
        not_done: m
            .not_done
            .unwrap_or_default()
            .iter()
            .map(|s| key(s))
            .collect(),
        organs: m.organs.into_iter().map(|(k, v)| (key(&k), v)).collect(),
        length_units: m.length_units.unwrap_or_default(),
        volume_units: m.volume_units.unwrap_or_default(),
        response_test: key(&m.response_test.unwrap_or_default()),
        response_test_name: m.response_test_name.unwrap_or_default(),
        responses: m.responses.into_iter().map(|(k, v)| (key(&k), v)).collect(),
        rseval: m.rseval.unwrap_or_default(),
        adam_params: m.adam_params,
        adam_param_names: m.adam_param_names,
        steroids,
        frequencies,
    })
}
