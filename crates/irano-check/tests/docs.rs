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

/// `docs/criteria.md` lists every parameter of every shipped criterion under the
/// criterion's heading, each row as the rule files say it (type, default, the file that
/// declared it or last changed its default, meaning): the tables cannot silently fall
/// behind the rule files.
#[test]
fn criteria_page_lists_every_parameter() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let page = std::fs::read_to_string(manifest.join("../../docs/criteria.md")).unwrap();
    let rules = files_with_extension(&manifest.join("../../rules"), "rano");
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
        // each row as `irano-eval params` says it: name, type, default, the file that
        // declared it (or last changed its default), meaning
        let mut rows: Vec<(&str, String)> = program
            .params
            .iter()
            .map(|p| {
                let row = format!(
                    "| `{}` | {} | `{}` | {} | {} |",
                    p.name,
                    p.type_text,
                    program.param_text(p, p.default),
                    p.declared_in,
                    p.doc
                );
                (p.name.as_str(), row)
            })
            .collect();
        for g in &program.param_groups {
            let members: Vec<&irano_check::program::ParamInfo> = g
                .members
                .iter()
                .filter_map(|&i| program.params.get(i as usize))
                .collect();
            let ty = g
                .unit
                .clone()
                .or_else(|| members.first().map(|m| m.type_text.clone()))
                .unwrap_or_default();
            let defaults: Vec<String> = members
                .iter()
                .map(|m| program.param_text(m, m.default))
                .collect();
            let row = format!(
                "| `{}` | group: {ty} | `{}` | {} | {} |",
                g.name,
                defaults.join(", "),
                g.declared_in,
                g.doc
            );
            rows.push((g.name.as_str(), row));
        }
        let stale: Vec<&(&str, String)> = rows
            .iter()
            .filter(|(_, row)| !section.lines().any(|l| l == row))
            .collect();
        for (name, row) in &stale {
            writeln!(missing, "{}: `{name}` should read:\n{row}", program.id).unwrap();
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

/// The `--set` groups written in a Markdown text: the overrides of one inline code span, or
/// of one command of a fenced block (lines joined at a trailing `\`), with the 1-based line.
/// Placeholders in capitals (`--set KEY=VALUE`) are left out.
fn set_examples(markdown: &str) -> Vec<(usize, Vec<String>)> {
    let mut groups = Vec::new();
    let mut in_block = false;
    let mut command = String::new();
    let mut command_line = 0;
    for (i, line) in markdown.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            if command.is_empty() {
                command_line = i + 1;
            }
            match line.trim_end().strip_suffix('\\') {
                Some(head) => command.push_str(head),
                None => {
                    command.push_str(line);
                    groups.push((command_line, std::mem::take(&mut command)));
                }
            }
        } else {
            for span in line.split('`').skip(1).step_by(2) {
                groups.push((i + 1, span.to_string()));
            }
        }
    }
    groups
        .into_iter()
        .filter_map(|(line, text)| {
            let words = shell_words(&text);
            let sets: Vec<String> = words
                .iter()
                .zip(words.iter().skip(1))
                .filter(|(flag, _)| matches!(flag.as_str(), "--set" | "--set-new" | "--set-old"))
                .map(|(_, kv)| kv.clone())
                .filter(|kv| !kv.starts_with(|c: char| c.is_ascii_uppercase()))
                .collect();
            (!sets.is_empty()).then_some((line, sets))
        })
        .collect()
}

/// Words of a command line, with double quotes removed.
fn shell_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Every `--set` the README and the docs show is accepted, as written together, by at least
/// one shipped criterion: a reader who copies one does not meet a diagnostic. The examples
/// shown as refused are refused.
#[test]
fn set_examples_in_the_docs_are_accepted() {
    // shown in the docs as what is refused (a bare number for a quantity)
    const REFUSED: &[&str] = &["irano.confirm_days=8"];
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.join("../..");
    let rules = files_with_extension(&root.join("rules"), "rano");
    let mut pages = vec![root.join("README.md")];
    for dir in ["docs", "docs/criteria"] {
        pages.extend(files_with_extension(&root.join(dir), "md"));
    }
    let accepted_by_some = |sets: &[String]| {
        let overrides: Vec<_> = sets
            .iter()
            .map(|s| irano_check::Override::parse(s).unwrap())
            .collect();
        rules.iter().any(|r| {
            let c = check_path(r, &[root.join("rules")], &overrides);
            c.program.is_some() && !c.diagnostics.iter().any(|d| d.is_error())
        })
    };
    let mut seen = 0;
    let mut wrong = String::new();
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        let name = page
            .strip_prefix(&root)
            .unwrap_or(page)
            .display()
            .to_string();
        for (line, sets) in set_examples(&text) {
            seen += 1;
            let refused = sets.iter().any(|s| REFUSED.contains(&s.as_str()));
            if accepted_by_some(&sets) == refused {
                let verdict = if refused {
                    "accepted"
                } else {
                    "refused by every criterion"
                };
                writeln!(
                    wrong,
                    "{name}:{line}: `--set {}` is {verdict}",
                    sets.join(" --set ")
                )
                .unwrap();
            }
        }
    }
    assert!(seen >= 8, "expected the docs' --set examples, found {seen}");
    assert!(wrong.is_empty(), "{wrong}");
}

#[test]
fn set_example_extraction() {
    let md = "a `--set x.y=\"56 days\" --set z=1` and `--set KEY=VALUE`\n```sh\nrun --set-new a=b \\\n  --set c=d\n```\n";
    assert_eq!(
        set_examples(md),
        vec![
            (1, vec!["x.y=56 days".to_string(), "z=1".to_string()]),
            (3, vec!["a=b".to_string(), "c=d".to_string()]),
        ]
    );
}

/// The files of `dir` (not below it) whose name ends in `.EXT`, sorted.
fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    found.sort();
    found
}
