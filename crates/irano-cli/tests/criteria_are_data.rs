#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Criteria are data: no Rust source outside tests names a shipped criterion or writes a
//! response label or decision as a string. (Thresholds and windows cannot be found by
//! text search; they are kept out by review and by the evaluator's design.)

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs")
            && p.file_name().is_some_and(|n| n != "tests.rs")
        {
            out.push(p);
        }
    }
}

#[test]
fn no_criterion_in_the_rust_sources() {
    let rules = repo().join("rules");
    let mut ids: Vec<String> = std::fs::read_dir(&rules)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rano"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    ids.sort();
    assert!(
        ids.len() >= 8,
        "expected the shipped rule files, found {ids:?}"
    );
    // the declared labels and decisions, as string literals
    let root = std::fs::read_to_string(rules.join("rano-hgg-2010.rano")).unwrap();
    let mut words: Vec<String> = Vec::new();
    for decl in ["labels {", "decisions {"] {
        let start = root.find(decl).unwrap() + decl.len();
        let end = start + root[start..].find('}').unwrap();
        words.extend(
            root[start..end]
                .split_whitespace()
                .map(|w| format!("\"{w}\"")),
        );
    }
    assert!(words.len() >= 10);
    // the native label names every shipped criterion declares (`UPD = "iUPD"`), quoted
    let mut natives = 0;
    for id in &ids {
        let text = std::fs::read_to_string(rules.join(format!("{id}.rano"))).unwrap();
        let Some(start) = text.find("native labels {") else {
            continue;
        };
        let end = start + text[start..].find('}').unwrap();
        for quoted in text[start..end].split('"').skip(1).step_by(2) {
            words.push(format!("\"{quoted}\""));
            natives += 1;
        }
    }
    assert!(
        natives >= 6,
        "expected iRECIST's native labels, found {natives}"
    );

    let mut files = Vec::new();
    for krate in std::fs::read_dir(repo().join("crates")).unwrap() {
        let src = krate.unwrap().path().join("src");
        if src.is_dir() {
            rust_sources(&src, &mut files);
        }
    }
    assert!(files.len() > 10);
    let mut found = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        // unit tests at the bottom of a file may use criteria as examples
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for needle in ids.iter().chain(words.iter()) {
            if code.contains(needle.as_str()) {
                found.push(format!("{}: {needle}", f.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "criterion knowledge in Rust sources:\n{}",
        found.join("\n")
    );
}

/// The layering `cli -> evaluate -> check -> syntax`: the evaluator reads only the checked
/// program, never the syntax tree.
#[test]
fn the_evaluator_depends_on_the_checked_program_not_the_syntax() {
    let manifest =
        std::fs::read_to_string(repo().join("crates/irano-evaluate/Cargo.toml")).unwrap();
    assert!(
        !manifest.contains("irano-syntax"),
        "irano-evaluate must not depend on irano-syntax: read what it needs from irano_check::program"
    );
    let mut files = Vec::new();
    rust_sources(&repo().join("crates/irano-evaluate/src"), &mut files);
    assert!(!files.is_empty());
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(
            !text.contains("irano_syntax"),
            "{} imports irano_syntax",
            f.display()
        );
    }
}

/// Every definition an amendment may override says what it is: `irano-eval show` prints
/// the doc line of each let and def, and an amendment author reads it to choose.
#[test]
fn every_definition_has_a_doc_line() {
    let repo = repo().canonicalize().unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo.join("rules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rano"))
        // the overlay is checked through the criteria that apply it
        .filter(|p| p.file_name().is_some_and(|n| n != "irano-2015-core.rano"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 7,
        "expected the shipped rule files, found {files:?}"
    );
    // `file:line: what` -> the criteria in which it has no doc
    let mut missing: std::collections::BTreeMap<String, Vec<String>> =
        std::collections::BTreeMap::new();
    let prefix = format!("{}/", repo.display());
    for path in &files {
        let checked = irano_check::check_path(path, &[], &[]);
        assert!(
            checked.overlay.is_none(),
            "{} is an overlay",
            path.display()
        );
        let program = checked.program.unwrap_or_else(|| {
            panic!(
                "{} does not check: {:?}",
                path.display(),
                checked.diagnostics
            )
        });
        let place = |src| program.place(src).replace(&prefix, "");
        let lets = program
            .lesion_lets
            .iter()
            .map(|l| ("let lesion.", l))
            .chain(program.lets.iter().map(|l| ("let ", l)))
            .chain(program.summary_lets.iter().map(|l| ("let ", l)));
        let mut undocumented: Vec<String> = lets
            .filter(|(_, l)| l.doc.trim().is_empty())
            .map(|(kind, l)| format!("{}: {kind}{}", place(l.src), l.name))
            .collect();
        undocumented.extend(
            program
                .defs
                .iter()
                .filter(|d| d.doc.trim().is_empty())
                .map(|d| format!("{}: def {}{}", place(d.src), d.name, d.signature)),
        );
        for what in undocumented {
            missing.entry(what).or_default().push(program.id.clone());
        }
    }
    assert!(
        missing.is_empty(),
        "definitions without a doc line (add `doc \"...\"`: what the value is, for whoever overrides it):\n{}",
        missing
            .iter()
            .map(|(what, ids)| format!("{what}  (in {})", ids.join(", ")))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
