//! Corpus tests: `tests/cases-err/*` must fail (the rendered diagnostics are snapshotted),
//! `tests/cases-ok/*` must read without a diagnostic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use irano_cases::{read_path, Case, CaseError};
use miette::{GraphicalReportHandler, GraphicalTheme};

fn render(errors: &[CaseError]) -> String {
    let handler =
        GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor()).with_width(100);
    let mut out = String::new();
    for e in errors {
        handler.render_report(&mut out, e).unwrap();
        out.push('\n');
    }
    out
}

/// File names relative to the repository root, so snapshots do not depend on the checkout.
fn relative(path: &Path) -> String {
    let name = path.file_name().unwrap().to_string_lossy();
    let dir = path
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy();
    format!("tests/{dir}/{name}")
}

fn read(path: &Path) -> Result<Vec<Case>, Vec<CaseError>> {
    let text = std::fs::read_to_string(path).unwrap();
    let format = irano_cases::Format::from_path(path).unwrap();
    irano_cases::read_str(&text, &relative(path), format)
}

#[test]
fn err_corpus() {
    insta::glob!("../../../tests/cases-err", "*.*", |path| {
        let errors = match read(path) {
            Ok(cases) => panic!("{} read without error: {cases:?}", path.display()),
            Err(e) => e,
        };
        for e in &errors {
            assert!(e.line() > 0 && e.column() > 0, "{e:?}");
            assert!(!e.help().is_empty(), "{e:?}");
            assert!(!e.message().ends_with('.'), "{e:?}");
        }
        let summary: String = errors
            .iter()
            .map(|e| format!("{}:{}:{} {}\n", e.file(), e.line(), e.column(), e.code()))
            .collect();
        insta::assert_snapshot!(format!("{summary}\n{}", render(&errors)));
    });
}

#[test]
fn ok_corpus() {
    let expected = [
        ("annotations.yaml", 1),
        ("cohort.jsonl", 3),
        ("list.yml", 2),
        ("role-repeated-identically.yaml", 1),
        ("single.json", 1),
        ("single.yaml", 1),
    ];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/cases-ok");
    for (name, count) in expected {
        let path = dir.join(name);
        match read(&path) {
            Ok(cases) => assert_eq!(cases.len(), count, "{name}"),
            Err(errors) => panic!("{name}:\n{}", render(&errors)),
        }
    }
    // The whole directory at once: every case, file-name order, unique patients.
    let all = read_path(&dir).unwrap_or_else(|e| panic!("{}", render(&e)));
    assert_eq!(all.len(), 9);
    let patients: Vec<_> = all.iter().map(|c| c.patient.as_str()).collect();
    assert_eq!(
        patients,
        [
            "SUBJ-0100",
            "L-001",
            "L-002",
            "L-003",
            "P-001",
            "P-002",
            "SUBJ-0020",
            "J-001",
            "SUBJ-0042"
        ]
    );
    assert_eq!(all[3].origin.line, 4);
    assert_eq!(all[5].origin.line, 27);
}

#[test]
fn err_directory_returns_nothing() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/cases-err");
    let errors = read_path(&dir).unwrap_err();
    let files: std::collections::BTreeSet<_> =
        errors.iter().map(|e| e.file().to_string()).collect();
    let count = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(files.len(), count);
}

#[test]
fn patients_are_unique_across_files() {
    let dir = std::env::temp_dir().join(format!("irano-cases-dup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let case = "patient: P\nsetting: recurrent\ntherapy_start: 2025-01-01\nassessments: [{date: 2025-01-01, scan: pretreatment}]\n";
    std::fs::write(dir.join("a.yaml"), case).unwrap();
    std::fs::write(dir.join("b.yml"), case).unwrap();
    std::fs::write(dir.join("notes.txt"), "ignored").unwrap();
    let errors = read_path(&dir).unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].code(), "case::duplicate_patient");
    assert!(errors[0].file().ends_with("b.yml"));
    assert_eq!((errors[0].line(), errors[0].column()), (1, 10));
    assert!(errors[0].help().contains("a.yaml"));
}

#[test]
fn unreadable_paths_are_errors() {
    let missing = Path::new(env!("CARGO_MANIFEST_DIR")).join("no-such-case.yaml");
    let errors = read_path(&missing).unwrap_err();
    assert_eq!(errors[0].code(), "case::io");
    assert!(errors[0].message().starts_with("cannot read"));
}

/// A `.json` case file that starts with a UTF-8 byte-order mark (Windows tools write one)
/// reads as JSON, as it does in `.yaml` and `.jsonl` files; it was refused as "YAML".
#[test]
fn json_with_a_byte_order_mark_reads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/cases-ok");
    let text = std::fs::read_to_string(dir.join("single.json")).unwrap();
    let tmp = std::env::temp_dir().join(format!("irano-bom-{}.json", std::process::id()));
    std::fs::write(&tmp, format!("\u{feff}{text}")).unwrap();
    let got = read(&tmp);
    let _ = std::fs::remove_file(&tmp);
    match got {
        Ok(cases) => assert_eq!(cases.len(), 1),
        Err(errors) => panic!("{}", render(&errors)),
    }
}
