#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `Differ` on a cohort generated here: `changed` counts exactly the patients with an
//! output that differs, every change is a real difference, and the summary adds up.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use irano_cases::Case;
use irano_check::{Override, Program};
use irano_compare::{Differ, Field};
use irano_evaluate::CaseResult;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn program(file: &str, set: &[&str]) -> Program {
    let set: Vec<Override> = set.iter().map(|s| Override::parse(s).unwrap()).collect();
    let checked = irano_check::check_path(&repo().join("rules").join(file), &[], &set);
    checked.program.expect("the shipped rules check")
}

/// A deterministic cohort: one target whose size moves by -20 % to +30 % per scan, an
/// automatic target, and now and then a new lesion, a worse T2/FLAIR or a missing scan,
/// so that a threshold change moves some patients and not others.
fn cohort(patients: usize) -> Vec<Case> {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut text = String::new();
    for i in 0..patients {
        let mut d1 = 200 + (next() % 100) as i64; // tenths of mm
        let d2 = 150 + (next() % 50) as i64;
        let _ = write!(
            text,
            r#"{{"patient":"G{i}","setting":"recurrent","therapy_start":"2025-01-06","assessments":[{{"date":"2024-12-30","scan":"pretreatment","lesions":[{{"id":"T1","role":"target","component":"enhancing","d":[{}.{},{}.{}]}},{{"id":"T2","role":"auto","component":"enhancing","d":[12.0,11.0]}}],"t2_flair":"stable","clinical":"stable"}}"#,
            d1 / 10,
            d1 % 10,
            d2 / 10,
            d2 % 10
        );
        let mut new_lesion = false;
        for k in 1..=5u32 {
            let factor = [8, 9, 10, 11, 12, 13][(next() % 6) as usize];
            d1 = (d1 * factor) / 10;
            let roll = next() % 40;
            let flair = if roll == 0 { "worse" } else { "stable" };
            let evaluable = roll != 1;
            new_lesion |= roll == 2;
            let new = if new_lesion {
                r#","new_lesions":[{"id":"X1","component":"enhancing","d":[11.0,10.0]}]"#
            } else {
                ""
            };
            let _ = write!(
                text,
                r#",{{"date":"2025-{:02}-10","scan":"followup","evaluable":{evaluable},"lesions":[{{"id":"T1","d":[{}.{},{}.{}]}},{{"id":"T2","d":[12.0,11.0]}}]{new},"t2_flair":"{flair}","clinical":"stable"}}"#,
                1 + 2 * k,
                d1 / 10,
                d1 % 10,
                d2 / 10,
                d2 % 10
            );
        }
        text.push_str("]}\n");
    }
    irano_cases::read_str(&text, "cohort.jsonl", irano_cases::Format::JsonLines).unwrap_or_else(
        |e| {
            panic!(
                "the generated cohort reads: {:?}",
                e.first().map(|x| x.message().to_string())
            )
        },
    )
}

/// Whether two results of one case differ in any output of the result contract,
/// computed here independently of `irano-compare`.
fn outputs_differ(a: &CaseResult, b: &CaseResult) -> bool {
    let scans = |r: &CaseResult| {
        r.assessments
            .iter()
            .map(|x| (x.date, x.response.clone(), x.decision.clone()))
            .collect::<Vec<_>>()
    };
    scans(a) != scans(b)
        || a.best_overall_response != b.best_overall_response
        || a.pd_date != b.pd_date
        || a.pd_confirmed_on != b.pd_confirmed_on
        || a.final_decision != b.final_decision
}

#[test]
fn changed_counts_exactly_the_patients_whose_outputs_differ() {
    let old = program("rano-hgg-2010.rano", &[]);
    let new = program("rano-hgg-2010.rano", &["pd_increase=20%"]);
    let cases = cohort(400);
    let mut differ = Differ::new(&old, &new);
    let mut expected = BTreeSet::new();
    for c in &cases {
        let a = irano_evaluate::evaluate(&old, c).unwrap();
        let b = irano_evaluate::evaluate(&new, c).unwrap();
        let differs = outputs_differ(&a, &b);
        if differs {
            expected.insert(c.patient.clone());
        }
        assert_eq!(differ.add(c).unwrap(), differs, "{}", c.patient);
    }
    let report = differ.finish();
    assert_eq!(report.patients, cases.len());
    assert_eq!(report.changed, expected.len());
    assert!(
        report.changed > 0 && report.changed < cases.len(),
        "the cohort exercises both: {} of {} changed",
        report.changed,
        cases.len()
    );
    let listed: BTreeSet<String> = report.changes.iter().map(|c| c.patient.clone()).collect();
    assert_eq!(listed, expected);

    // every change is a real difference, in input order, dated when per scan
    let order: Vec<&str> = cases.iter().map(|c| c.patient.as_str()).collect();
    let mut last = 0;
    for c in &report.changes {
        assert_ne!(c.old, c.new);
        assert_eq!(c.date.is_some(), c.field.per_scan());
        let at = order.iter().position(|p| *p == c.patient).unwrap();
        assert!(at >= last, "input order");
        last = at;
    }

    // the summary adds up
    let by_field: usize = report.summary.changes_by_field.values().sum();
    assert_eq!(by_field, report.changes.len());
    let bor: usize = report
        .summary
        .best_overall_response
        .iter()
        .map(|t| t.patients)
        .sum();
    assert_eq!(bor, cases.len());
    let moved_bor: usize = report
        .summary
        .best_overall_response
        .iter()
        .filter(|t| t.old != t.new)
        .map(|t| t.patients)
        .sum();
    assert_eq!(
        moved_bor,
        report
            .changes
            .iter()
            .filter(|c| c.field == Field::BestOverallResponse)
            .count()
    );
    let pd = &report.summary.pd_date;
    let shifted: usize = pd.shifted.iter().map(|s| s.patients).sum();
    assert_eq!(shifted + pd.gained + pd.lost + pd.unchanged, cases.len());
    assert_eq!(
        shifted + pd.gained + pd.lost,
        report
            .changes
            .iter()
            .filter(|c| c.field == Field::PdDate)
            .count()
    );
    // a lower threshold can only make progression earlier or new
    assert_eq!(pd.lost, 0);
    assert!(pd.shifted.iter().all(|s| s.days < 0));
    assert!(pd.min <= pd.median && pd.median <= pd.max);

    let text = report.to_text(&irano_compare::diff::Sides {
        old: "old",
        new: "new",
    });
    assert!(text.contains(&format!(
        "patients compared: {}  ·  changed: {}",
        cases.len(),
        expected.len()
    )));
}

#[test]
fn identical_programs_change_nothing() {
    let p = program("irano-2015.rano", &[]);
    let cases = cohort(100);
    let mut differ = Differ::new(&p, &p);
    for c in &cases {
        assert!(!differ.add(c).unwrap());
    }
    let report = differ.finish();
    assert_eq!((report.patients, report.changed), (100, 0));
    assert!(report.changes.is_empty());
    assert!(report
        .summary
        .best_overall_response
        .iter()
        .all(|t| t.old == t.new));
}

#[test]
fn two_criteria_are_compared_by_their_outputs() {
    // different criteria, different labels and rules: only outputs count
    let old = program("rano-hgg-2010.rano", &[]);
    let new = program("irano-2015.rano", &[]);
    let cases = cohort(150);
    let mut differ = Differ::new(&old, &new);
    let mut expected = 0;
    for c in &cases {
        let a = irano_evaluate::evaluate(&old, c).unwrap();
        let b = irano_evaluate::evaluate(&new, c).unwrap();
        expected += usize::from(outputs_differ(&a, &b));
        differ.add(c).unwrap();
    }
    let report = differ.finish();
    assert_eq!(report.changed, expected);
    // the rule that decided each side is named where one was
    for c in report.changes.iter().filter(|c| c.field == Field::Response) {
        assert_eq!(c.old_rule.is_some(), c.old.is_some(), "{c:?}");
        assert_eq!(c.new_rule.is_some(), c.new.is_some(), "{c:?}");
    }
}
