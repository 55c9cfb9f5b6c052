#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Derivations never disagree with evaluation: on every worked case, `explain_case` and
//! `explain_scan` give the result `evaluate` gives, and each table's derivation names the
//! rules that fired, in order, with every rule before them tried and none after.

use std::path::{Path, PathBuf};

use irano_check::Program;
use irano_evaluate::{Outcome, ScanDerivation, Step};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn worked() -> Vec<(Program, PathBuf)> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(repo().join("tests/worked"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_str().unwrap().to_string();
        let rules = repo().join("rules").join(format!("{name}.rano"));
        let Some(program) = irano_check::check_path(&rules, &[], &[]).program else {
            panic!("{} does not check", rules.display());
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        files.sort();
        for f in files {
            out.push((program.clone(), f));
        }
    }
    out
}

/// No part of a derivation is evaluated after one that decided it.
fn check_step(s: &Step) {
    if s.value.is_none() {
        assert!(s.note.is_some(), "a step without a value says why: {s:?}");
    }
    for p in &s.parts {
        check_step(p);
    }
}

fn check_scan(d: &ScanDerivation, what: &str) {
    let fired: Vec<&str> = d.assessment.fired.iter().map(|f| f.rule.as_str()).collect();
    let mut from_tables = Vec::new();
    for t in &d.tables {
        let mut after = false;
        for r in &t.rules {
            match r.outcome {
                Outcome::NotFired => {
                    assert!(!after, "{what}: {} tried after the rule that fired", r.rule);
                    let c = r.condition.as_ref().unwrap();
                    assert_ne!(c.value.as_deref(), Some("true"), "{what}: {}", r.rule);
                    check_step(c);
                }
                Outcome::Fired => {
                    assert!(!after, "{what}: two rules fired in {}", t.table);
                    after = true;
                    from_tables.push(r.rule.as_str());
                    assert_eq!(t.fired.as_deref(), Some(r.rule.as_str()));
                    if let Some(c) = &r.condition {
                        assert_eq!(c.value.as_deref(), Some("true"), "{what}: {}", r.rule);
                        check_step(c);
                    }
                    assert!(r.explain.is_some());
                }
                Outcome::NotReached => {
                    assert!(after, "{what}: {} not reached, nothing fired", r.rule);
                    assert!(r.condition.is_none());
                }
            }
        }
        for def in &t.definitions {
            assert_eq!(
                Some(&def.value),
                def.derivation.value.as_ref(),
                "{what}: {}",
                def.name
            );
            check_step(&def.derivation);
        }
    }
    assert_eq!(
        from_tables, fired,
        "{what}: the tables' derivations name the rules that fired"
    );
}

#[test]
fn derivations_agree_with_evaluation_on_every_worked_case() {
    let cases = worked();
    assert!(cases.len() > 100, "the worked corpus is found");
    for (program, file) in &cases {
        let what = file.display().to_string();
        let case = irano_cases::read_path(file).unwrap().remove(0);
        let result = irano_evaluate::evaluate(program, &case).unwrap();
        let all = irano_evaluate::explain_case(program, &case).unwrap();
        assert_eq!(all.scans.len(), result.assessments.len());
        assert_eq!(
            all.summary.best_overall_response, result.best_overall_response,
            "{what}"
        );
        assert_eq!(all.summary.pd_date, result.pd_date, "{what}");
        assert_eq!(
            all.summary.pd_confirmed_on, result.pd_confirmed_on,
            "{what}"
        );
        assert_eq!(all.summary.final_decision, result.final_decision, "{what}");
        let summary_fired: Vec<&str> = result.summary.iter().map(|f| f.rule.as_str()).collect();
        let summary_derived: Vec<&str> = all
            .summary
            .tables
            .iter()
            .filter_map(|t| t.fired.as_deref())
            .collect();
        if result.lesions.is_some() {
            assert_eq!(summary_derived, summary_fired, "{what}: summary");
        }
        for (i, (d, a)) in all.scans.iter().zip(&result.assessments).enumerate() {
            let what = format!("{what} scan {i}");
            // the same result; only the trace may be longer (untruncated)
            assert_eq!(d.assessment.response, a.response, "{what}");
            assert_eq!(d.assessment.decision, a.decision, "{what}");
            assert_eq!(d.assessment.rule, a.rule, "{what}");
            assert_eq!(d.assessment.role, a.role, "{what}");
            assert_eq!(d.assessment.values, a.values, "{what}");
            let rules = |x: &irano_evaluate::AssessmentResult| {
                x.fired
                    .iter()
                    .map(|f| (f.rule.clone(), f.set.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(rules(&d.assessment), rules(a), "{what}");
            for (full, short) in d.assessment.fired.iter().zip(&a.fired) {
                assert!(
                    full.explain.len() >= short.explain.len(),
                    "{what}: the untruncated trace is shorter"
                );
            }
            assert_eq!(
                d.tables.is_empty(),
                a.role != irano_evaluate::ScanRole::Followup,
                "{what}: tables run on graded scans only"
            );
            check_scan(d, &what);
            // one scan alone: the same derivation
            let one = irano_evaluate::explain_scan(program, &case, i)
                .unwrap()
                .unwrap();
            assert_eq!(&one, d, "{what}: explain_scan");
        }
        assert!(
            irano_evaluate::explain_scan(program, &case, all.scans.len())
                .unwrap()
                .is_none()
        );
    }
}
