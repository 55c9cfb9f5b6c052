#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The worked-case corpus: `tests/worked/<criterion>/*.yaml`.
//!
//! Each file is one case, evaluated with `rules/<criterion>.rano` (and the overrides in
//! its `x-set` list). The test asserts the outcome written by hand in `x-expect`
//! (derived from the criteria files, independently of the engine) and snapshots the
//! table a user sees, so that an amendment's effect shows as a reviewed diff.
//! A new case is a new file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use irano_check::{Override, Program};
use serde::Deserialize;

#[derive(Deserialize)]
struct Annotations {
    #[serde(rename = "x-title")]
    title: String,
    #[serde(rename = "x-exercises")]
    exercises: Vec<String>,
    #[serde(rename = "x-expect")]
    expect: Expect,
    #[serde(rename = "x-set", default)]
    set: Vec<String>,
    /// The rule file, relative to the case (language cases); worked cases use their folder's criterion.
    #[serde(rename = "x-rules", default)]
    rules: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    responses: Vec<Option<String>>,
    #[serde(default)]
    decisions: Option<Vec<Option<String>>>,
    #[serde(default)]
    rules: Option<Vec<Option<String>>>,
    best_overall_response: Option<String>,
    pd_date: Option<String>,
    pd_confirmed_on: Option<String>,
    final_decision: Option<String>,
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Checked programs, one per criterion and override set.
static PROGRAMS: Mutex<BTreeMap<String, Program>> = Mutex::new(BTreeMap::new());

fn program(criterion: &str, set: &[String]) -> Program {
    program_at(&repo().join("rules").join(format!("{criterion}.rano")), set)
}

fn program_at(path: &Path, set: &[String]) -> Program {
    let key = format!("{} {}", path.display(), set.join(" "));
    let mut cache = PROGRAMS.lock().unwrap();
    if let Some(p) = cache.get(&key) {
        return p.clone();
    }
    let overrides: Vec<Override> = set.iter().map(|s| Override::parse(s).unwrap()).collect();
    let checked = irano_check::check_path(path, &[repo().join("rules")], &overrides);
    let errors: Vec<String> = checked
        .diagnostics
        .iter()
        .map(|d| d.message.clone())
        .collect();
    let p = checked
        .program
        .unwrap_or_else(|| panic!("{} does not check: {errors:?}", path.display()));
    cache.insert(key, p.clone());
    p
}

#[test]
fn worked_cases() {
    insta::glob!("../../../tests/worked", "*/*.yaml", |path| {
        insta::assert_snapshot!(check_case(path));
    });
}

/// The language corpus: small rule files that pin down the semantics of the language
/// itself (evaluation order, ...), each exercised by cases that name it in `x-rules`.
#[test]
fn language_cases() {
    insta::glob!("../../../tests/language", "*.yaml", |path| {
        insta::assert_snapshot!(check_case(path));
    });
}

/// Checks a case's `x-expect` and returns the table a user sees, for the snapshot.
fn check_case(path: &Path) -> String {
    {
        let text = std::fs::read_to_string(path).unwrap();
        let notes: Annotations = serde_saphyr::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: bad x- annotations: {e}", path.display()));
        assert!(
            !notes.exercises.is_empty(),
            "{}: name the rules it exercises",
            path.display()
        );
        let program = match &notes.rules {
            Some(rel) => program_at(&path.parent().unwrap().join(rel), &notes.set),
            None => {
                let criterion = path
                    .parent()
                    .and_then(|d| d.file_name())
                    .and_then(|n| n.to_str())
                    .unwrap()
                    .to_string();
                program(&criterion, &notes.set)
            }
        };
        let cases = irano_cases::read_path(path).unwrap_or_else(|e| {
            panic!(
                "{}: {:?}",
                path.display(),
                e.iter()
                    .map(|x| x.message().to_string())
                    .collect::<Vec<_>>()
            )
        });
        assert_eq!(cases.len(), 1, "{}: one case per file", path.display());
        let result = irano_evaluate::evaluate(&program, &cases[0]).unwrap();

        // every rule named in x-exercises must exist in the criterion
        let ids: Vec<&str> = program
            .tables
            .iter()
            .chain(program.summary_tables.iter())
            .flat_map(|t| t.rules.iter().map(|r| r.id.as_str()))
            .collect();
        for r in &notes.exercises {
            assert!(
                ids.contains(&r.as_str()),
                "{}: x-exercises names unknown rule `{r}`",
                path.display()
            );
        }

        let mut problems = Vec::new();
        let e = &notes.expect;
        let got: Vec<Option<String>> = result
            .assessments
            .iter()
            .map(|a| a.response.clone())
            .collect();
        if got != e.responses {
            problems.push(format!(
                "responses: expected {:?}, got {got:?}",
                e.responses
            ));
        }
        if let Some(want) = &e.decisions {
            let got: Vec<Option<String>> = result
                .assessments
                .iter()
                .map(|a| a.decision.clone())
                .collect();
            if &got != want {
                problems.push(format!("decisions: expected {want:?}, got {got:?}"));
            }
        }
        if let Some(want) = &e.rules {
            let got: Vec<Option<String>> =
                result.assessments.iter().map(|a| a.rule.clone()).collect();
            for (i, (w, g)) in want.iter().zip(&got).enumerate() {
                if w.is_some() && w != g {
                    problems.push(format!("rule of scan {i}: expected {w:?}, got {g:?}"));
                }
            }
        }
        let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string());
        let pairs = [
            (
                "best_overall_response",
                &e.best_overall_response,
                result.best_overall_response.clone(),
            ),
            ("pd_date", &e.pd_date, date(result.pd_date)),
            (
                "pd_confirmed_on",
                &e.pd_confirmed_on,
                date(result.pd_confirmed_on),
            ),
            (
                "final_decision",
                &e.final_decision,
                result.final_decision.clone(),
            ),
        ];
        for (name, want, got) in pairs {
            if want != &got {
                problems.push(format!("{name}: expected {want:?}, got {got:?}"));
            }
        }
        assert!(
            problems.is_empty(),
            "{} ({})\n  {}",
            path.display(),
            notes.title,
            problems.join("\n  ")
        );

        let mut table = String::new();
        irano_cli::render::table(&mut table, &result);
        format!("{}\n\n{table}", notes.title)
    }
}

/// The same input gives the same bytes, however often it is evaluated.
#[test]
fn evaluation_is_deterministic() {
    let program = program("irano-2015", &[]);
    let cases = irano_cases::read_path(&repo().join("tests/worked/irano-2015")).unwrap();
    let first: Vec<String> = cases
        .iter()
        .map(|c| serde_json::to_string(&irano_evaluate::evaluate(&program, c).unwrap()).unwrap())
        .collect();
    let mut ev = irano_evaluate::Evaluator::new(&program);
    for _ in 0..3 {
        let again: Vec<String> = cases
            .iter()
            .map(|c| serde_json::to_string(&ev.evaluate(c).unwrap()).unwrap())
            .collect();
        assert_eq!(first, again);
    }
}
