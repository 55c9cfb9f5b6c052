//! Snapshot corpus: `tests/syntax/ok/*.rano` must parse (their AST is snapshotted as
//! s-expressions), and so must `rules/*.rano`; `tests/syntax/err/*.rano` each hold one mistake
//! (the diagnostic is snapshotted).

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test helpers

mod common;

use std::fs;

#[test]
fn ok_files_parse() {
    insta::glob!("../../../tests/syntax", "ok/*.rano", |path| {
        let src = fs::read_to_string(path).unwrap();
        let file = match irano_syntax::parse(&src) {
            Ok(f) => f,
            Err(errors) => panic!(
                "{} does not parse:\n{}",
                path.display(),
                common::render_errors(&src, &errors)
            ),
        };
        common::check_spans(&src, &file);
        insta::assert_snapshot!(common::file(&file));
    });
}

/// Every criterion shipped in `rules/` parses, with sound spans. These files change
/// while the criteria are written, so they have no snapshot here; a frozen copy of
/// `rano-hgg-2010.rano` is in `tests/syntax/ok/`.
#[test]
fn rule_files_parse() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    let mut paths: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rano"))
        .collect();
    paths.sort();
    assert!(
        paths.iter().any(|p| p.ends_with("rano-hgg-2010.rano")),
        "rules/rano-hgg-2010.rano is missing"
    );
    for path in paths {
        let src = fs::read_to_string(&path).unwrap();
        let file = match irano_syntax::parse(&src) {
            Ok(f) => f,
            Err(errors) => panic!(
                "{} does not parse:\n{}",
                path.display(),
                common::render_errors(&src, &errors)
            ),
        };
        common::check_spans(&src, &file);
        assert!(!file.items.is_empty(), "{}", path.display());
    }
}

#[test]
fn err_files_fail() {
    insta::glob!("../../../tests/syntax", "err/*.rano", |path| {
        let src = fs::read_to_string(path).unwrap();
        match irano_syntax::parse(&src) {
            Ok(_) => panic!("{} parses but should not", path.display()),
            Err(errors) => {
                assert!(!errors.is_empty());
                insta::assert_snapshot!(common::render_errors(&src, &errors));
            }
        }
    });
}
