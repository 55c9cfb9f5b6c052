#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `docs/amending.md` is a cookbook of amendments: every `rano` block there is written to
//! a file, checked against the shipped rules with no diagnostic, and the `yaml` case that
//! follows it is evaluated and must meet its `x-expect`. A recipe that stops working fails
//! here, not in a reader's hands.

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The fenced blocks of a Markdown text: (language, 1-based line, text).
fn blocks(markdown: &str) -> Vec<(String, usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(String, usize, String)> = None;
    for (i, line) in markdown.lines().enumerate() {
        let t = line.trim_start();
        match current.as_mut() {
            None => {
                if let Some(info) = t.strip_prefix("```") {
                    current = Some((info.trim().to_string(), i + 1, String::new()));
                }
            }
            Some((_, _, text)) => {
                if t.starts_with("```") {
                    out.push(current.take().unwrap());
                } else {
                    text.push_str(line);
                    text.push('\n');
                }
            }
        }
    }
    assert!(
        current.is_none(),
        "docs/amending.md: a code block is not closed"
    );
    out
}

#[test]
fn every_recipe_checks_and_meets_its_expectations() {
    let text = std::fs::read_to_string(repo().join("docs/amending.md")).unwrap();
    let all = blocks(&text);
    let dir = std::env::temp_dir().join(format!("irano-amending-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut recipes = 0;
    for (k, (lang, line, body)) in all.iter().enumerate() {
        if lang != "rano" {
            continue;
        }
        let id = body
            .split('"')
            .nth(1)
            .unwrap_or_else(|| panic!("docs/amending.md:{line}: no criterion id"));
        let file = dir.join(format!("{id}.rano"));
        std::fs::write(&file, body).unwrap();
        let checked = irano_check::check_path(&file, &[repo().join("rules")], &[]);
        let problems: Vec<String> = checked
            .diagnostics
            .iter()
            .map(|d| format!("{}: {}", d.code, d.message))
            .collect();
        assert!(
            problems.is_empty(),
            "docs/amending.md:{line} ({id}) does not check:\n{}",
            problems.join("\n")
        );
        let program = checked.program.unwrap();

        let cases_after: Vec<&(String, usize, String)> = all
            .iter()
            .skip(k + 1)
            .take_while(|(lang, _, _)| lang == "yaml")
            .collect();
        assert!(
            !cases_after.is_empty(),
            "docs/amending.md:{line}: a recipe needs a yaml case after it"
        );
        for (_, case_line, case_text) in cases_after {
            let notes = irano_testing::annotations::read(case_text, false).unwrap_or_else(|e| {
                panic!("docs/amending.md:{case_line}: bad x- annotations: {e:?}")
            });
            let expect = notes.expect.unwrap_or_else(|| {
                panic!("docs/amending.md:{case_line}: a recipe's case needs x-expect")
            });
            assert!(
                expect.responses.is_some(),
                "docs/amending.md:{case_line}: x-expect must give the responses"
            );
            let cases = irano_cases::read_str(case_text, "amending.md", irano_cases::Format::Yaml)
                .unwrap_or_else(|e| {
                    panic!(
                        "docs/amending.md:{case_line}: {:?}",
                        e.iter()
                            .map(|x| x.message().to_string())
                            .collect::<Vec<_>>()
                    )
                });
            let result = irano_evaluate::evaluate(&program, &cases[0]).unwrap();
            let mismatches = irano_testing::expect::check(&expect, &result);
            assert!(
                mismatches.is_empty(),
                "docs/amending.md:{case_line} ({id}):\n{}",
                mismatches
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
        recipes += 1;
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        recipes >= 10,
        "expected the cookbook's recipes, found {recipes}"
    );
}
