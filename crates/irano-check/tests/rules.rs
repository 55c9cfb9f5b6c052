//! Rule-file corpus for the checker.
//!
//! - `tests/rules/ok/*.rano` must check with no diagnostic at all;
//! - `tests/rules/err/*.rano` each hold one mistake; the diagnostics are snapshotted as a
//!   user sees them (code and `file:line:col` first, then miette's rendering);
//! - `tests/rules/warn/*.rano` each check with warnings only, snapshotted the same way;
//! - every criterion shipped in `rules/` checks with no diagnostic at all.
//!
//! Parents are looked up next to the file, then in `tests/rules/base/` (a frozen copy of
//! RANO-HGG, `frozen-hgg`, that most corpus files extend so that their snapshots do not
//! follow edits of the shipped criteria), then in `rules/`.
//!
//! Paths are given relative to the repository root (the tests run from there), so the file
//! names in diagnostics and snapshots do not depend on the machine.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use irano_check::{check_path, Checked, Diagnostic};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Makes the repository root the working directory and returns the include list
/// (`tests/rules/base/`, `rules/`, relative). Every test calls this first; they all set the same directory,
/// so running them in parallel is harmless.
fn at_repo_root() -> Vec<PathBuf> {
    std::env::set_current_dir(repo_root()).unwrap();
    vec![PathBuf::from("tests/rules/base"), PathBuf::from("rules")]
}

/// `path` (absolute, from `insta::glob!`) relative to the repository root.
fn relative(path: &Path) -> PathBuf {
    path.canonicalize()
        .unwrap()
        .strip_prefix(repo_root())
        .unwrap()
        .to_path_buf()
}

/// One diagnostic as the CLI shows it, headed by its code and position.
fn render(d: &Diagnostic) -> String {
    let mut out = String::new();
    let severity = if d.is_error() { "error" } else { "warning" };
    match d.position() {
        Some((file, line, col)) => {
            writeln!(out, "{severity} {} at {file}:{line}:{col}", d.code).unwrap();
        }
        None => writeln!(out, "{severity} {} (no location)", d.code).unwrap(),
    }
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(100);
    handler
        .render_report(&mut out, &d.clone().with_source())
        .unwrap();
    out
}

fn render_all(checked: &Checked) -> String {
    checked
        .diagnostics
        .iter()
        .map(render)
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_clean(path: &Path, include: &[PathBuf]) {
    let checked = check_path(path, include, &[]);
    assert!(
        checked.diagnostics.is_empty(),
        "{} should check with no diagnostics, got:\n{}",
        path.display(),
        render_all(&checked)
    );
    assert!(
        checked.program.is_some() || checked.overlay.is_some(),
        "{} has no diagnostics but no program",
        path.display()
    );
}

#[test]
fn ok_files_check_clean() {
    let include = at_repo_root();
    let mut n = 0;
    insta::glob!("../../../tests/rules", "ok/*.rano", |path| {
        assert_clean(&relative(path), &include);
        n += 1;
    });
    assert!(
        n >= 8,
        "expected at least 8 files in tests/rules/ok, found {n}"
    );
}

#[test]
fn err_files_report() {
    let include = at_repo_root();
    let mut n = 0;
    insta::glob!("../../../tests/rules", "err/*.rano", |path| {
        let path = relative(path);
        let checked = check_path(&path, &include, &[]);
        assert!(
            checked.diagnostics.iter().any(Diagnostic::is_error),
            "{} should have an error, got:\n{}",
            path.display(),
            render_all(&checked)
        );
        assert!(checked.program.is_none(), "{}", path.display());
        insta::assert_snapshot!(render_all(&checked));
        n += 1;
    });
    assert!(
        n >= 24,
        "expected at least 24 files in tests/rules/err, found {n}"
    );
}

/// `tests/rules/warn/*.rano` each check (a program comes out) with at least one warning;
/// the diagnostics are snapshotted.
#[test]
fn warn_files_check_with_a_warning() {
    let include = at_repo_root();
    let mut n = 0;
    insta::glob!("../../../tests/rules", "warn/*.rano", |path| {
        let path = relative(path);
        let checked = check_path(&path, &include, &[]);
        assert!(
            checked.program.is_some()
                && !checked.diagnostics.is_empty()
                && !checked.diagnostics.iter().any(Diagnostic::is_error),
            "{} should check with warnings only, got:\n{}",
            path.display(),
            render_all(&checked)
        );
        insta::assert_snapshot!(render_all(&checked));
        n += 1;
    });
    assert!(n >= 1, "expected files in tests/rules/warn, found {n}");
}

#[test]
fn frozen_base_checks_clean() {
    let include = at_repo_root();
    let path = Path::new("tests/rules/base/frozen-hgg.rano");
    assert_clean(path, &include);
    let checked = check_path(path, &include, &[]);
    assert!(checked.overlay.is_none());
}

/// Every file in `rules/` (criteria and overlays) checks with no diagnostic at all,
/// warnings included.
#[test]
fn shipped_rules_check_clean() {
    let include = at_repo_root();
    let mut paths: Vec<PathBuf> = std::fs::read_dir("rules")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rano"))
        .collect();
    paths.sort();
    assert!(
        paths.iter().any(|p| p.ends_with("rano-hgg-2010.rano")),
        "rules/rano-hgg-2010.rano is missing"
    );
    for path in &paths {
        assert_clean(path, &include);
    }
}
