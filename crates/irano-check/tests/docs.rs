//! Every fenced block marked `rano` in `docs/language.md` checks with no diagnostic.
//!
//! Each block is written to a temporary directory as `<criterion id>.rano`, so that
//! `extends "example-base"` finds the block that declares `example-base`. A block that is
//! a fragment (no `criterion "..."` header) is wrapped in a criterion extending
//! `example-base` first.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use irano_check::check_path;

/// The base every fragment is wrapped in.
const FRAGMENT_BASE: &str = "example-base";

/// The `rano` blocks of a Markdown text, with the 1-based line of their opening fence.
fn rano_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    let mut fence = "";
    for (i, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        match current.as_mut() {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    if info.trim() == "rano" {
                        current = Some((i + 1, String::new()));
                        fence = "```";
                    }
                } else if let Some(info) = trimmed.strip_prefix("~~~") {
                    if info.trim() == "rano" {
                        current = Some((i + 1, String::new()));
                        fence = "~~~";
                    }
                }
            }
            Some((_, text)) => {
                if trimmed.starts_with(fence) && trimmed.trim_start_matches(fence).trim().is_empty()
                {
                    blocks.push(current.take().unwrap());
                } else {
                    text.push_str(line);
                    text.push('\n');
                }
            }
        }
    }
    assert!(
        current.is_none(),
        "docs/language.md: a ```rano block is not closed"
    );
    blocks
}

/// The id of the criterion a block declares, if it is a whole criterion.
fn criterion_id(block: &str) -> Option<&str> {
    let code = block
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))?;
    let rest = code.strip_prefix("criterion")?.trim_start();
    let rest = rest.strip_prefix('"')?;
    rest.split('"').next()
}

#[test]
fn language_reference_examples_check_clean() {
    check_markdown("docs/language.md");
}

/// The amendment examples of the README and the rules guide extend the shipped rules.
#[test]
fn readme_examples_check_clean() {
    check_markdown("README.md");
    check_markdown("rules/README.md");
}

fn check_markdown(rel: &str) {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rules = manifest.join("../../rules");
    let doc = manifest.join("../..").join(rel);
    let markdown = std::fs::read_to_string(&doc).unwrap();
    let blocks = rano_blocks(&markdown);
    assert!(
        !blocks.is_empty(),
        "{rel} has no ```rano block: nothing would be checked"
    );

    let dir = std::env::temp_dir().join(format!(
        "irano-check-docs-{}-{}",
        std::process::id(),
        rel.replace('/', "-")
    ));
    std::fs::create_dir_all(&dir).unwrap();

    // Write every block first: a block may extend one that comes later.
    let mut files: Vec<(usize, PathBuf)> = Vec::new();
    for (n, (line, block)) in blocks.iter().enumerate() {
        let (id, text) = match criterion_id(block) {
            Some(id) => (id.to_string(), block.clone()),
            None => {
                let id = format!("docs-fragment-{}", n + 1);
                let text =
                    format!("criterion \"{id}\" extends \"{FRAGMENT_BASE}\" {{\n{block}}}\n");
                (id, text)
            }
        };
        let path = dir.join(format!("{id}.rano"));
        assert!(
            !path.exists(),
            "{rel}:{line}: criterion `{id}` is declared by two blocks"
        );
        std::fs::write(&path, text).unwrap();
        files.push((*line, path));
    }

    let mut failures = String::new();
    for (line, path) in &files {
        let checked = check_path(path, std::slice::from_ref(&rules), &[]);
        if !checked.diagnostics.is_empty() || checked.program.is_none() {
            writeln!(failures, "{rel}:{line} ({}):", path.display()).unwrap();
            for d in &checked.diagnostics {
                let (file, l, c) = d.position().unwrap_or(("?", 0, 0));
                writeln!(
                    failures,
                    "  {} at {file}:{l}:{c}: {} ({})",
                    d.code,
                    d.message,
                    d.help.as_deref().unwrap_or("")
                )
                .unwrap();
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        failures.is_empty(),
        "examples that do not check:\n{failures}"
    );
}

#[test]
fn block_extraction() {
    let md = "text\n```rano\ncriterion \"a\" {\n}\n```\n```text\nnot rano\n```\n  ```rano\n# c\nlet x = 1\n  ```\n";
    let blocks = rano_blocks(md);
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[0].0, 2);
    assert_eq!(criterion_id(&blocks[0].1), Some("a"));
    assert_eq!(criterion_id(&blocks[1].1), None);
    assert_eq!(blocks[1].1, "# c\nlet x = 1\n");
}

/// `docs/criteria.md` lists every parameter of every shipped criterion, with its default,
/// under the criterion's heading: the tables cannot silently fall behind the rule files.
#[test]
fn criteria_page_lists_every_parameter() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let page = std::fs::read_to_string(manifest.join("../../docs/criteria.md")).unwrap();
    let mut rules: Vec<PathBuf> = std::fs::read_dir(manifest.join("../../rules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rano"))
        .collect();
    rules.sort();
    let mut checked = 0;
    let mut missing = String::new();
    for path in &rules {
        let c = check_path(path, &[], &[]);
        let Some(program) = c.program else {
            assert!(c.overlay.is_some(), "{} does not check", path.display());
            continue;
        };
        checked += 1;
        let heading = format!("### `{}`", program.id);
        let Some(start) = page.find(&heading) else {
            writeln!(missing, "no section {heading}").unwrap();
            continue;
        };
        let section = &page[start + heading.len()..];
        let section = &section[..section
            .find("\n### ")
            .or_else(|| section.find("\n## "))
            .unwrap_or(section.len())];
        for p in &program.params {
            if !section.contains(&format!("| `{}` |", p.name)) {
                writeln!(
                    missing,
                    "{}: parameter `{}` is not listed",
                    program.id, p.name
                )
                .unwrap();
            }
        }
    }
    assert!(
        checked >= 7,
        "expected the seven shipped criteria, checked {checked}"
    );
    assert!(
        missing.is_empty(),
        "docs/criteria.md is behind the rule files:\n{missing}"
    );
}

/// Each criterion's own page (`docs/criteria/<id>.md`) names every parameter its rule file
/// declares or re-defaults, and those of any overlay it applies (a file with no page of its
/// own, e.g. `irano-2015-core` on the iRANO page): a reader of the page finds each switch.
#[test]
fn criterion_pages_name_their_parameters() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pages = manifest.join("../../docs/criteria");
    let mut checked = 0;
    let mut missing = String::new();
    let mut ids: Vec<String> = std::fs::read_dir(&pages)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .filter_map(|p| Some(p.file_stem()?.to_str()?.to_string()))
        .filter(|id| id != "README")
        .collect();
    ids.sort();
    for id in &ids {
        let rules = manifest.join(format!("../../rules/{id}.rano"));
        if !rules.exists() {
            continue;
        }
        let page = std::fs::read_to_string(pages.join(format!("{id}.md"))).unwrap();
        let program = check_path(&rules, &[manifest.join("../../rules")], &[])
            .program
            .unwrap_or_else(|| panic!("{} does not check", rules.display()));
        checked += 1;
        for p in &program.params {
            let own = p.declared_in == *id || !ids.contains(&p.declared_in);
            if own && !page.contains(&format!("`{}`", p.name)) {
                writeln!(
                    missing,
                    "docs/criteria/{id}.md does not name `{}` (from {})",
                    p.name, p.declared_in
                )
                .unwrap();
            }
        }
    }
    assert!(
        checked >= 9,
        "expected the criteria pages, checked {checked}"
    );
    assert!(missing.is_empty(), "{missing}");
}
