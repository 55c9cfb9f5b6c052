#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The worked-case corpus: `tests/worked/<criterion>/*.yaml`.
//!
//! Each file is one case, evaluated with `rules/<criterion>.rano` (and the overrides in
//! its `x-set` list). The test asserts the outcome written by hand in `x-expect`
//! (derived from the criteria files, independently of the engine) and snapshots the
//! table a user sees, so that an amendment's effect shows as a reviewed diff.
//! A new case is a new file.

use std::path::{Path, PathBuf};

use irano_check::Program;
use irano_testing::Runner;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn program(criterion: &str) -> Program {
    let path = repo().join("rules").join(format!("{criterion}.rano"));
    irano_check::check_path(&path, &[repo().join("rules")], &[])
        .program
        .unwrap_or_else(|| panic!("{} does not check", path.display()))
}

#[test]
fn worked_cases() {
    let mut runner = Runner::new(vec![repo().join("rules")]);
    insta::glob!("../../../tests/worked", "*/*.yaml", |path| {
        insta::assert_snapshot!(check_case(&mut runner, path));
    });
}

/// The language corpus: small rule files that pin down the semantics of the language
/// itself (evaluation order, ...), each exercised by cases that name it in `x-rules`.
#[test]
fn language_cases() {
    let mut runner = Runner::new(vec![repo().join("rules")]);
    insta::glob!("../../../tests/language", "*.yaml", |path| {
        insta::assert_snapshot!(check_case(&mut runner, path));
    });
}

/// Runs a case through `irano-testing`, the code of `irano-eval test`: reads its `x-`
/// annotations, checks its criterion (`rules/<folder>.rano`, or its `x-rules`) with its
/// `x-set`, asserts its `x-expect`, and returns the title and the table a user sees, for
/// the snapshot (kept by insta here, not in a `snapshots/` folder beside the cases).
fn check_case(runner: &mut Runner, path: &Path) -> String {
    let criterion = path
        .parent()
        .and_then(|d| d.file_name())
        .and_then(|n| n.to_str())
        .unwrap();
    let rules = repo().join("rules").join(format!("{criterion}.rano"));
    let loaded = runner.load(path, Some(&rules)).unwrap_or_else(|| {
        panic!(
            "{}:\n  {}",
            path.display(),
            runner
                .problems
                .iter()
                .map(|p| p.message())
                .collect::<Vec<_>>()
                .join("\n  ")
        )
    });
    // the corpus is stricter than `irano-eval test`: every case has a title, names the
    // rules it exercises and spells out every response and summary output
    let title = loaded.annotations.title.clone().unwrap_or_default();
    assert!(
        !title.is_empty(),
        "{}: give it an `x-title`",
        path.display()
    );
    assert!(
        !loaded.annotations.exercises.is_empty(),
        "{}: name the rules it exercises",
        path.display()
    );
    assert!(
        loaded.expect.is_complete(),
        "{}: x-expect must give responses, best_overall_response, pd_date, pd_confirmed_on and final_decision",
        path.display()
    );
    let outcome = loaded.run(irano_cli::render::table);
    assert!(
        outcome.holds(),
        "{} ({title})\n  {}",
        path.display(),
        outcome
            .error
            .iter()
            .cloned()
            .chain(outcome.mismatches.iter().map(|m| m.to_string()))
            .collect::<Vec<_>>()
            .join("\n  ")
    );
    outcome.snapshot
}

/// The same input gives the same bytes, however often it is evaluated.
#[test]
fn evaluation_is_deterministic() {
    let program = program("irano-2015");
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
