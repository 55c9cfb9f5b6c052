#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The command line as a user sees it: exit code, standard output and standard error.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Runs `irano-eval ARGS` from the repository root and renders what it printed.
fn run(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_irano-eval"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .expect("irano-eval runs");
    format!(
        "$ irano-eval {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        out.status
            .code()
            .map(|c| c.to_string())
            .unwrap_or_else(|| "signal".into()),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `irano-eval ARGS`, asserts success and parses standard output as JSON; also
/// returns the raw text for snapshots.
fn json(args: &[&str]) -> (serde_json::Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_irano-eval"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("irano-eval runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (serde_json::from_str(&text).expect("JSON output"), text)
}

/// A fresh scratch folder `irano-TAG-PID` under the temporary folder, with `files`
/// (name, text) written into it.
/// The output with wrapped lines joined: words separated by one space, the diagnostics'
/// gutter left out, so that a test does not depend on where a message wraps.
fn flat(out: &str) -> String {
    out.split_whitespace()
        .filter(|w| *w != "│")
        .collect::<Vec<_>>()
        .join(" ")
}

/// `irano-eval eval ARGS FILE` on a case written to a scratch folder as `name` (removed
/// after the run).
fn eval_text(tag: &str, name: &str, case: &str, args: &[&str]) -> String {
    let dir = scratch(tag, &[(name, case)]);
    let file = dir.join(name);
    let mut all = vec!["eval"];
    all.extend_from_slice(args);
    all.push(file.to_str().unwrap());
    let out = run(&all);
    std::fs::remove_dir_all(&dir).unwrap();
    out
}

fn scratch(tag: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("irano-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    dir
}

#[test]
fn check_the_shipped_rules() {
    insta::assert_snapshot!(run(&[
        "check",
        "rules/rano-hgg-2010.rano",
        "rules/irano-2015.rano"
    ]));
}

#[test]
fn check_reports_every_error_with_its_place() {
    let out = run(&[
        "check",
        "--include",
        "rules",
        "tests/cli/amendment-typo.rano",
    ]);
    assert!(out.contains("exit: 2"));
    insta::assert_snapshot!(out);
}

#[test]
fn check_errors_as_json() {
    insta::assert_snapshot!(run(&[
        "check",
        "--error-format",
        "json",
        "--include",
        "rules",
        "tests/cli/amendment-typo.rano"
    ]));
}

#[test]
fn eval_table() {
    insta::assert_snapshot!(run(&[
        "eval",
        "--rules",
        "rules/irano-2015.rano",
        "examples/irano-worked-example.yaml"
    ]));
}

#[test]
fn eval_json_follows_the_result_contract() {
    let (v, text) = json(&[
        "eval",
        "--rules",
        "rules/irano-2015.rano",
        "--format",
        "json",
        "examples/irano-worked-example.yaml",
    ]);
    // the contract's fields (shared/spec/case-format.md, Results)
    assert_eq!(v["patient"], "EXAMPLE-IRANO-1");
    assert_eq!(v["criterion"]["id"], "irano-2015");
    assert_eq!(v["best_overall_response"], "PD");
    assert_eq!(v["pd_date"], "2024-03-04");
    assert_eq!(v["pd_confirmed_on"], "2024-06-10");
    assert_eq!(v["final_decision"], "DISCONTINUE");
    let a = v["assessments"].as_array().unwrap();
    assert_eq!(a.len(), 4, "every input scan appears");
    assert_eq!(a[0]["role"], "baseline");
    assert_eq!(a[0]["response"], serde_json::Value::Null);
    assert_eq!(a[1]["response"], "UPD");
    assert_eq!(a[1]["decision"], "CONTINUE");
    assert_eq!(a[1]["rule"], "irano.upd.initial");
    assert!(a[1]["explain"].as_str().unwrap().contains("390 mm2"));
    // values are JSON numbers, their units beside them; a rounded one has its exact form
    assert_eq!(a[1]["values"]["burden"], 390);
    assert_eq!(v["units"]["burden"], "mm2");
    assert_eq!(a[2]["values"]["change_vs_nadir_pct"], 7.69);
    assert_eq!(a[2]["values"]["change_vs_nadir_pct_exact"], "100/13");
    assert!(a[1]["values"].get("change_vs_nadir_pct_exact").is_none());
    insta::assert_snapshot!(text);
}

#[test]
fn eval_jsonl_one_line_per_case() {
    let out = run(&[
        "eval",
        "--rules",
        "rules/rano-hgg-2010.rano",
        "--format",
        "jsonl",
        "examples/rano-hgg-partial-response.yaml",
        "examples/irano-worked-example.yaml",
    ]);
    let stdout = out
        .split("--- stdout\n")
        .nth(1)
        .unwrap()
        .split("--- stderr")
        .next()
        .unwrap();
    assert_eq!(stdout.lines().count(), 2);
    for line in stdout.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
}

#[test]
fn set_changes_the_result() {
    let case = "tests/worked/irano-2015/032-confirm-interval-default.yaml";
    let default = run(&["eval", "--rules", "rules/irano-2015.rano", case]);
    let changed = run(&[
        "eval",
        "--rules",
        "rules/irano-2015.rano",
        "--set",
        "irano.confirm_interval=days_84",
        case,
    ]);
    assert!(default.contains("confirmed on: 2025-06-09"));
    assert!(changed.contains("confirmed on: 2025-05-26"));
    insta::assert_snapshot!(changed);
}

#[test]
fn set_with_a_wrong_key_or_value_is_a_diagnostic() {
    let out = run(&[
        "eval",
        "--rules",
        "rules/irano-2015.rano",
        "--set",
        "irano.confirm_intervall=days_84",
        "--set",
        "irano.window_months=six",
        "--set",
        "irano.confirm_interval=days_85",
        "--set",
        "noequals",
        "examples/irano-worked-example.yaml",
    ]);
    assert!(out.contains("exit: 2"));
    insta::assert_snapshot!(out);
}

/// Values that would be silently misread are refused: a percent without `%`, a value
/// outside the parameter's range, a parameter the criterion retired, a parameter that an
/// amendment left unread.
#[test]
fn set_refuses_values_that_would_be_misread_or_change_nothing() {
    let out = run(&[
        "eval",
        "--rules",
        "rules/irano-2015.rano",
        "--set",
        "pd_increase=0.25",
        "--set",
        "irano.steroid_window_days=-3 days",
        "--set",
        "irano.confirm_months=8 weeks",
        "examples/irano-worked-example.yaml",
    ]);
    assert!(out.contains("exit: 2"));
    assert!(out.contains("`25%`"), "{out}");
    insta::assert_snapshot!(out);
    // a value in the other unit names the parameter of that unit, as `check` does
    let json = run(&[
        "--error-format",
        "json",
        "eval",
        "--rules",
        "rules/irano-2015.rano",
        "--set",
        "irano.confirm_days=2 months",
        "--set",
        "irano.confirm_months=8 weeks",
        "examples/irano-worked-example.yaml",
    ]);
    assert!(
        json.contains("to count in calendar months use `--set irano.confirm_months=...`"),
        "{json}"
    );
    assert!(
        json.contains("to count in days or weeks use `--set irano.confirm_days=...`"),
        "{json}"
    );
    // a range bound that names another parameter holds with both values as set
    let window = run(&[
        "eval",
        "--rules",
        "rules/irecist-2017.rano",
        "--set",
        "irecist.confirm_window_min_days=60 days",
        "examples/irano-worked-example.yaml",
    ]);
    assert!(window.contains("exit: 2"), "{window}");
    assert!(window.contains("below its lower bound"), "{window}");
    assert!(
        window.contains("`irecist.confirm_window_min_days` = 60 days"),
        "{window}"
    );
    // a length in cm is converted, never read as mm
    let cm = run(&[
        "eval",
        "--rules",
        "rules/rano-bm-2015.rano",
        "--set",
        "bm.lesion_increase=0.3cm",
        "examples/irano-worked-example.yaml",
    ]);
    assert!(cm.contains("exit: 2"), "{cm}");
    assert!(cm.contains("0.3 cm is `3 mm`"), "{cm}");
    // an area for a length is told the square's side, not the same number in mm
    let area = run(&[
        "eval",
        "--rules",
        "rules/rano-hgg-2010.rano",
        "--set",
        "too_small_default=25 mm2",
        "examples/irano-worked-example.yaml",
    ]);
    assert!(area.contains("exit: 2"), "{area}");
    assert!(area.contains("a square of side `5"), "{area}");
    assert!(!area.contains("write `25 mm`"), "{area}");
    let removed = run(&[
        "eval",
        "--rules",
        "rules/rano-lgg-2011.rano",
        "--set",
        "pseudoprogression_window_days=90 days",
        "examples/irano-worked-example.yaml",
    ]);
    assert!(removed.contains("exit: 2"));
    assert!(
        removed.contains("remove param pseudoprogression_window_days"),
        "{removed}"
    );
    let inert = run(&[
        "eval",
        "--rules",
        "tests/cli/amendment-fixed-confirmation.rano",
        "--include",
        "rules",
        "--set",
        "irano.confirm_months=4 months",
        "examples/irano-worked-example.yaml",
    ]);
    assert!(inert.contains("exit: 2"));
    assert!(inert.contains("would change nothing"), "{inert}");
    insta::assert_snapshot!("set_of_an_inert_parameter", inert);
}

#[test]
fn a_bad_case_file_is_located_and_nothing_is_evaluated() {
    let out = run(&[
        "eval",
        "--rules",
        "rules/rano-hgg-2010.rano",
        "examples/rano-hgg-partial-response.yaml",
        "tests/cli/bad-case.yaml",
    ]);
    assert!(out.contains("exit: 2"));
    assert!(out.contains("--- stdout\n--- stderr"), "no partial output");
    insta::assert_snapshot!(out);
}

#[test]
fn case_errors_as_json() {
    insta::assert_snapshot!(run(&[
        "eval",
        "--error-format",
        "json",
        "--rules",
        "rules/rano-hgg-2010.rano",
        "tests/cli/bad-case.yaml"
    ]));
}

#[test]
fn params_lists_types_defaults_and_sources() {
    insta::assert_snapshot!(run(&["params", "rules/irano-2015.rano"]));
}

#[test]
fn params_and_show_take_the_rule_file_as_eval_does_too() {
    for cmd in ["params", "show"] {
        let positional = run(&[cmd, "rules/recist-1.1.rano"]);
        let flag = run(&[cmd, "--rules", "rules/recist-1.1.rano"]);
        assert!(
            positional.contains("recist.confirm_response"),
            "{cmd}:\n{positional}"
        );
        let body = |s: &str| s.split_once('\n').map(|(_, b)| b.to_string());
        assert_eq!(body(&positional), body(&flag), "{cmd}");
        assert!(flag.contains("exit: 0"), "{cmd}:\n{flag}");
    }
}

#[test]
fn an_override_without_a_doc_keeps_the_doc_of_the_criterion_it_overrides() {
    let out = run(&[
        "params",
        "--include",
        "rules",
        "tests/cli/override-param-without-doc.rano",
    ]);
    let doc = out
        .lines()
        .skip_while(|l| !l.starts_with("pd_increase "))
        .nth(1)
        .unwrap_or("");
    assert!(doc.contains("sum of longest diameters"), "{out}");
    assert!(out.contains("pd_increase : percent = 25%"), "{out}");
}

#[test]
fn a_mistyped_rule_file_suggests_the_one_beside_it() {
    let out = run(&[
        "eval",
        "--rules",
        "rules/rano-hgg-201.rano",
        "examples/rano-hgg-partial-response.yaml",
    ]);
    assert!(out.contains("exit: 2"), "{out}");
    assert!(
        out.contains("did you mean `rules/rano-hgg-2010.rano`?"),
        "{out}"
    );
}

#[test]
fn output_into_a_missing_folder_says_the_folder_is_missing() {
    let out = run(&[
        "eval",
        "--rules",
        "rules/rano-hgg-2010.rano",
        "examples/rano-hgg-partial-response.yaml",
        "-o",
        "target/no-such-folder-for-irano-tests/out.txt",
    ]);
    assert!(out.contains("exit: 1"), "{out}");
    assert!(out.contains("the output's folder does not exist"), "{out}");
}

#[test]
fn test_with_rules_replaces_the_cases_x_rules_and_says_so() {
    let out = run(&[
        "test",
        "--include",
        "rules",
        "--rules",
        "examples/amendment/trial-xyz-irano.rano",
        "examples/amendment",
    ]);
    // the cases name that very file: nothing is replaced, nothing to say
    assert!(out.contains("exit: 0"), "{out}");
    assert!(!out.contains("test::x_rules_replaced"), "{out}");
    // a different criterion on the command line is what the cases are tested against
    let out = run(&[
        "test",
        "--include",
        "rules",
        "--rules",
        "rules/irano-2015.rano",
        "examples/amendment",
    ]);
    assert!(!out.contains("exit: 0"), "{out}");
    assert!(out.contains("test::x_rules_replaced"), "{out}");
    assert!(out.contains("5 cases"), "{out}");
    assert!(out.contains("not a rule of `irano-2015`"), "{out}");
}

/// `--accept` with a `--rules` that replaces the cases' `x-rules` is refused before
/// anything runs: the snapshots hold the results of the criterion each case names, and
/// another criterion's results written over them would lose the reviewed ones.
#[test]
fn accept_with_another_criterion_is_refused_and_writes_nothing() {
    let dir = std::env::temp_dir().join(format!("irano-accept-other-{}", std::process::id()));
    let src = repo().join("examples/amendment");
    std::fs::create_dir_all(dir.join("cases/snapshots")).unwrap();
    std::fs::copy(
        src.join("trial-xyz-irano.rano"),
        dir.join("trial-xyz-irano.rano"),
    )
    .unwrap();
    for entry in std::fs::read_dir(src.join("cases")).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, dir.join("cases").join(p.file_name().unwrap())).unwrap();
        }
    }
    let snap = "001-progression-confirmed-8-weeks-later.snap";
    let before = std::fs::read_to_string(src.join("cases/snapshots").join(snap)).unwrap();
    std::fs::write(dir.join("cases/snapshots").join(snap), &before).unwrap();
    let cases = dir.join("cases");
    let out = run(&[
        "test",
        "--include",
        "rules",
        "--accept",
        "--rules",
        "rules/irano-2015.rano",
        cases.to_str().unwrap(),
    ]);
    let after = std::fs::read_to_string(dir.join("cases/snapshots").join(snap)).unwrap();
    let written = std::fs::read_dir(dir.join("cases/snapshots"))
        .unwrap()
        .count();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(out.contains("exit: 2"), "{out}");
    assert!(out.contains("test::accept_with_other_rules"), "{out}");
    assert!(out.contains("snapshots of 5"), "{out}");
    assert_eq!(before, after);
    assert_eq!(written, 1, "no snapshot was written");
}

#[test]
fn a_patient_twice_in_a_stream_is_refused_naming_both_places() {
    let out = run(&[
        "eval",
        "--rules",
        "rules/rano-hgg-2010.rano",
        "tests/cli/duplicate-patients.jsonl",
    ]);
    assert!(out.contains("exit: 2"), "{out}");
    assert!(out.contains("patient `A` appears in two cases"), "{out}");
    assert!(out.contains("duplicate-patients.jsonl:3:"), "{out}");
    assert!(out.contains("at line 1"), "{out}");
    assert!(!out.contains("patient `B` appears"), "{out}");
}

/// Two measurements of one lesion that disagree (`ld` against the longer of `d`), and a
/// non-target reported gone with a measurement, are warned: a criterion reads one of them,
/// and which one decides the result.
#[test]
fn lengths_that_disagree_and_a_measured_absent_non_target_are_warned() {
    let case = "patient: D1\nsetting: recurrent\ntherapy_start: 2025-01-06\nassessments:\n  - {date: 2025-01-02, scan: pretreatment, lesions: [{id: L1, role: target, organ: liver, d: [40, 20], ld: 30}, {id: N1, role: non_target, organ: lung, nt_status: present}]}\n  - {date: 2025-03-03, scan: followup, lesions: [{id: L1, ld: 30}, {id: N1, nt_status: absent, d: [15, 12]}]}\n";
    let args = ["--rules", "rules/recist-1.1.rano", "--trace", "none"];
    let out = eval_text("disagree", "d1.yaml", case, &args);
    assert!(out.contains("exit: 0"), "{out}");
    assert!(
        out.contains("eval::lengths_disagree")
            && out.contains("`ld: 30`")
            && out.contains("`d: [40, 20]`"),
        "{out}"
    );
    assert!(
        out.contains("eval::measured_lesion_with_status")
            && out.contains("`nt_status: absent`")
            && out.contains("a non-target that has gone"),
        "{out}"
    );
}

/// A folder's files that are not case files are named in a warning, never left out in
/// silence (a shard renamed `.bak`, a CSV export); the cases are evaluated all the same.
/// The snapshots `irano-eval test` keeps beside the cases are not named: they belong there
/// (a trial folder as docs/testing.md lays it out).
#[test]
fn files_of_a_folder_that_are_not_cases_are_named() {
    let dir = std::env::temp_dir().join(format!("irano-not-cases-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::create_dir_all(dir.join("snapshots")).unwrap();
    let case = std::fs::read_to_string(repo().join("tests/cases-ok/single.yaml")).unwrap();
    std::fs::write(dir.join("a.yaml"), &case).unwrap();
    std::fs::write(dir.join("snapshots/a.snap"), "---\n---\n").unwrap();
    std::fs::write(dir.join("notes.txt"), "not a case").unwrap();
    std::fs::write(dir.join("sub/part-2.jsonl.bak"), "{}").unwrap();
    let out = run(&[
        "eval",
        "--rules",
        "rules/rano-hgg-2010.rano",
        "--trace",
        "none",
        dir.to_str().unwrap(),
    ]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(out.contains("exit: 0"), "{out}");
    assert!(out.contains("case::files_not_read"), "{out}");
    assert!(out.contains("2 files in"), "{out}");
    assert!(
        out.contains("notes.txt") && out.contains("part-2.jsonl.bak"),
        "{out}"
    );
    assert!(!out.contains("a.snap"), "{out}");
}

/// The same patient in two case files of a folder is the same error as in a stream,
/// `case::duplicate_patient` (it was `case::io`), naming both files.
#[test]
fn a_patient_in_two_files_of_a_folder_is_a_duplicate_patient() {
    let dir = std::env::temp_dir().join(format!("irano-dup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let case = std::fs::read_to_string(repo().join("tests/cases-ok/single.yaml")).unwrap();
    std::fs::write(dir.join("a.yaml"), &case).unwrap();
    std::fs::write(dir.join("b.yaml"), &case).unwrap();
    let out = run(&[
        "eval",
        "--rules",
        "rules/rano-hgg-2010.rano",
        dir.to_str().unwrap(),
    ]);
    // the second case is located by file and line, in the message and in JSON
    let json_out = run(&[
        "--error-format",
        "json",
        "eval",
        "--rules",
        "rules/rano-hgg-2010.rano",
        dir.to_str().unwrap(),
    ]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(out.contains("exit: 2"), "{out}");
    assert!(out.contains("case::duplicate_patient"), "{out}");
    assert!(out.contains("b.yaml:1: patient `"), "{out}");
    assert!(out.contains("appears in two cases"), "{out}");
    assert!(out.contains("a.yaml` at line"), "{out}");
    assert!(!out.contains("case::io"), "{out}");
    let json_err = json_out.split("--- stderr\n").nth(1).unwrap_or("");
    let d: serde_json::Value = serde_json::from_str(json_err.lines().next().unwrap_or("")).unwrap();
    assert_eq!(d["code"], "case::duplicate_patient", "{json_err}");
    assert!(
        d["file"].as_str().is_some_and(|f| f.ends_with("b.yaml")),
        "{json_err}"
    );
    assert_eq!(d["line"], 1, "{json_err}");
    assert_eq!(d["column"], 1, "{json_err}");
}

#[test]
fn a_criterion_without_a_title_is_headed_by_id_and_version_alone() {
    for cmd in ["params", "show"] {
        let out = run(&[
            cmd,
            "--include",
            "tests/rules/base",
            "tests/rules/ok/aggregates.rano",
        ]);
        let first = out
            .lines()
            .find(|l| l.starts_with("aggregates"))
            .unwrap_or("");
        assert_eq!(first, "aggregates 1", "{cmd}:\n{out}");
    }
}

#[test]
fn help_shows_examples() {
    let out = run(&["--help"]);
    assert!(out.contains("Examples:"));
    insta::assert_snapshot!(out);
}

#[test]
fn missing_rule_file() {
    let out = run(&[
        "eval",
        "--rules",
        "rules/nope.rano",
        "examples/irano-worked-example.yaml",
    ]);
    assert!(out.contains("exit: 2"));
    insta::assert_snapshot!(out);
}

#[test]
fn criterion_id_for_a_rule_file_is_pointed_to_its_file() {
    // a user who names the criterion instead of its file is given the file
    for (given, file) in [
        ("irano-2015", "rules/irano-2015.rano"),
        ("rules/recist-11", "rules/recist-1.1.rano"),
        ("rules/irano-2105.rano", "rules/irano-2015.rano"),
    ] {
        let out = run(&[
            "eval",
            "--rules",
            given,
            "examples/irano-worked-example.yaml",
        ]);
        assert!(out.contains("exit: 2"), "{out}");
        assert!(
            out.contains(&format!("did you mean `{file}`?")),
            "{given}: {out}"
        );
    }
}

#[test]
fn a_parent_in_the_rules_folder_here_is_pointed_to() {
    // an amendment kept outside the repository, checked from its root without --include
    let dir = std::env::temp_dir().join(format!("irano-parent-hint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("trial.rano");
    std::fs::write(
        &file,
        "criterion \"trial\" extends \"rano-hgg-2010\" {\n  version \"1\"\n  title \"t\"\n  cite \"t\"\n}\n",
    )
    .unwrap();
    let out = run(&["--error-format", "json", "check", file.to_str().unwrap()]);
    assert!(out.contains("exit: 2"), "{out}");
    assert!(
        out.contains("`rules/rano-hgg-2010.rano` is here: add `--include rules`"),
        "{out}"
    );
    let out = run(&["check", "--include", "rules", file.to_str().unwrap()]);
    assert!(out.contains("exit: 0"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn eval_json_with_several_cases_is_one_array() {
    let (v, _) = json(&[
        "eval",
        "--rules",
        "rules/irano-2015.rano",
        "--format",
        "json",
        "examples/irano-worked-example.yaml",
        "examples/rano-hgg-partial-response.yaml",
    ]);
    let a = v.as_array().expect("a JSON array for several cases");
    assert_eq!(a.len(), 2);
    assert_eq!(a[0]["patient"], "EXAMPLE-IRANO-1");
    assert_eq!(a[1]["patient"], "EXAMPLE-HGG-1");
}

/// A criterion's own `warn` (RANO-BM: a baseline more than 4 weeks before therapy) is
/// printed for the case it holds for, and the case is still graded: 28 days before is
/// within the limit, 29 days is not.
#[test]
fn a_criterion_warning_names_the_patient_and_changes_no_result() {
    let out = run(&[
        "eval",
        "--rules",
        "rules/rano-bm-2015.rano",
        "--error-format",
        "json",
        "tests/cli/baseline-28-and-29-days-before-therapy.jsonl",
    ]);
    assert!(out.contains("exit: 0"), "{out}");
    assert_eq!(out.matches("eval::criterion_warning").count(), 1, "{out}");
    assert!(
        out.contains("patient `BASE-29`: the baseline scan is further before therapy start than bm.baseline_max_days_before_therapy allows (RANO-BM: no more than 4 weeks) (baseline.date = 2025-03-03; case.therapy_start - bm.baseline_max_days_before_therapy = 2025-03-04)"),
        "{out}"
    );
    assert!(
        out.contains("(warning `early_baseline` of rano-bm-2015)"),
        "{out}"
    );
    assert!(!out.contains("patient `BASE-28`: the baseline"), "{out}");
    // both cases are graded all the same
    assert_eq!(
        out.matches("best overall response: SD  (bor.sd)").count(),
        2,
        "{out}"
    );
    // an amendment's value moves the limit: at 30 days neither case is warned of
    let out = run(&[
        "eval",
        "--rules",
        "rules/rano-bm-2015.rano",
        "--set",
        "bm.baseline_max_days_before_therapy=30 days",
        "tests/cli/baseline-28-and-29-days-before-therapy.jsonl",
    ]);
    assert!(!out.contains("eval::criterion_warning"), "{out}");
    // on a cohort the first 10 are shown and the rest counted; `--max-errors 0` shows all
    let dir = std::env::temp_dir().join(format!("irano-warn-all-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cohort = dir.join("cohort.jsonl");
    let line = std::fs::read_to_string(
        repo().join("tests/cli/baseline-28-and-29-days-before-therapy.jsonl"),
    )
    .unwrap()
    .lines()
    .nth(1)
    .unwrap()
    .to_string();
    let lines: Vec<String> = (0..12)
        .map(|i| line.replace("BASE-29", &format!("BASE-29-{i}")))
        .collect();
    std::fs::write(&cohort, lines.join("\n") + "\n").unwrap();
    let args = |all: bool| {
        let mut a = vec![
            "eval",
            "--rules",
            "rules/rano-bm-2015.rano",
            "--error-format",
            "json",
            "--format",
            "jsonl",
        ];
        if all {
            a.extend(["--max-errors", "0"]);
        }
        a.push(cohort.to_str().unwrap());
        run(&a)
    };
    let some = args(false);
    assert_eq!(some.matches("patient `BASE-29-").count(), 10, "{some}");
    assert!(
        some.contains("2 more `eval::criterion_warning` warnings in the cases, not shown"),
        "{some}"
    );
    let all = args(true);
    assert_eq!(all.matches("patient `BASE-29-").count(), 12, "{all}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_case_without_a_baseline_is_reported_not_dropped() {
    let out = run(&[
        "eval",
        "--rules",
        "rules/rano-hgg-2010.rano",
        "tests/cli/no-baseline.yaml",
    ]);
    assert!(out.contains("exit: 0"));
    assert_eq!(
        out.matches("not graded: no scan qualifies as baseline")
            .count(),
        2
    );
    insta::assert_snapshot!(out);
    // and said on standard error, so that a cohort run does not hide it
    let json = run(&[
        "--error-format",
        "json",
        "eval",
        "--rules",
        "rules/rano-hgg-2010.rano",
        "tests/cli/no-baseline.yaml",
    ]);
    assert!(
        json.contains("\"code\":\"eval::no_baseline\"")
            && json.contains("tests/cli/no-baseline.yaml:2: patient `EDGE-2` (`setting: recurrent`): no scan qualifies as the baseline of rano-hgg-2010")
            && json.contains("the criterion's baseline: Wen 2010"),
        "{json}"
    );
    // the summary's explanation gives the choice as written and what it found
    let (v, _) = crate::json(&[
        "eval",
        "--format",
        "json",
        "--trace",
        "full",
        "--rules",
        "rules/rano-hgg-2010.rano",
        "tests/cli/no-baseline.yaml",
    ]);
    let explain = v["summary"][0]["explain"].as_str().unwrap_or_default();
    assert!(
        explain.starts_with("(if case.setting == newly_diagnosed then last(s in scans")
            && explain.ends_with(") = absent"),
        "{v}"
    );
}

/// A follow-up dated before therapy start is graded (the criterion decides), and the
/// contradiction is said with the scan's line and what to do.
#[test]
fn a_followup_before_therapy_start_is_graded_with_a_warning() {
    let out = run(&[
        "--error-format",
        "json",
        "eval",
        "--rules",
        "rules/rano-hgg-2010.rano",
        "tests/cli/followup-before-therapy.yaml",
    ]);
    assert!(out.contains("exit: 0"), "{out}");
    assert!(
        out.contains("eval::followup_before_therapy")
            && out.contains("followup-before-therapy.yaml:10: patient `EDGE-3`: the follow-up scan of 2025-02-24 is dated before therapy_start (2025-03-03)")
            && out.contains("scan: pretreatment"),
        "{out}"
    );
    // one warning: the scan after therapy start is not named
    assert_eq!(
        out.matches("eval::followup_before_therapy").count(),
        1,
        "{out}"
    );
}

/// The commands that evaluate cases other than `eval` (`diff`, `compare`, `explain`) give
/// the same warnings about them: a reviewer of an amendment sees the slip `eval` would show.
#[test]
fn diff_compare_and_explain_give_evals_case_warnings() {
    let case = "tests/cli/followup-before-therapy.yaml";
    let commands: [&[&str]; 3] = [
        &[
            "diff",
            "--rules",
            "rules/rano-hgg-2010.rano",
            "--set-new",
            "pd_increase=40%",
            case,
        ],
        &[
            "compare",
            "--rules",
            "rules/rano-hgg-2010.rano",
            "--rules",
            "rules/rano-2.0-2023.rano",
            case,
        ],
        &["explain", "--rules", "rules/rano-hgg-2010.rano", case],
    ];
    for args in commands {
        let out = run(args);
        assert!(!out.contains("exit: 2"), "{out}");
        assert_eq!(
            out.matches("eval::followup_before_therapy").count(),
            1,
            "{out}"
        );
        assert!(
            out.contains("patient `EDGE-3`: the follow-up scan of 2025-02-24"),
            "{out}"
        );
    }
}

/// Fields of one scan that contradict each other (a lesion gone or not assessed that gives
/// a measurement, a steroid change dated after the scan, a decline cause without a decline,
/// a decline on a scan the criterion does not grade)
/// are evaluated, each with a warning that names the scan's line; a consistent case has none.
#[test]
fn contradictory_fields_of_a_scan_are_warned() {
    let out = run(&[
        "--error-format",
        "json",
        "eval",
        "--rules",
        "rules/rano-hgg-2010.rano",
        "tests/cli/contradictory-records.yaml",
    ]);
    assert!(out.contains("exit: 0"), "{out}");
    for (code, count) in [
        ("eval::measured_lesion_with_status", 2),
        ("eval::steroid_change_after_scan", 1),
        ("eval::decline_cause_without_decline", 1),
    ] {
        assert_eq!(out.matches(code).count(), count, "{code}\n{out}");
    }
    assert!(
        out.contains("contradictory-records.yaml:12: patient `CONTRA-1`: lesion `T1` on the scan of 2025-03-03 is `status: absent`")
            && out.contains("contradictory-records.yaml:19: patient `CONTRA-1`: lesion `T1` on the scan of 2025-04-03 is `status: not_assessed`")
            && out.contains("contradictory-records.yaml:6: patient `CONTRA-1`: the steroid dose of the scan of 2024-12-30 was last changed on 2025-01-02"),
        "{out}"
    );
    // a new lesion a later scan leaves out is read differently by the criteria: said once
    let unlisted = run(&[
        "eval",
        "--rules",
        "rules/irano-2015.rano",
        "tests/worked/irano-2015/059-unlisted-new-lesion-as-not-assessed-under-the-parameter.yaml",
    ]);
    assert_eq!(
        unlisted.matches("eval::new_lesion_not_listed").count(),
        1,
        "{unlisted}"
    );
    // a scan that is not evaluable lists nothing: not a scan that left the lesion out
    let not_evaluable = run(&[
        "eval",
        "--rules",
        "rules/rano-hgg-2010.rano",
        "tests/cli/new-lesion-then-scan-not-evaluable.yaml",
    ]);
    assert!(not_evaluable.contains("exit: 0"), "{not_evaluable}");
    assert!(
        !not_evaluable.contains("new_lesion_not_listed"),
        "{not_evaluable}"
    );
    // a decline on a scan the criterion does not grade decides nothing: said, with the
    // criterion's reason for not grading it; the criterion that grades the scan is silent
    let skipped = run(&[
        "eval",
        "--rules",
        "rules/rano-2.0-2023.rano",
        "tests/cli/decline-on-skipped-scan.yaml",
    ]);
    assert!(
        skipped.contains("eval::decline_on_skipped_scan")
            && skipped.contains(
                "decline-on-skipped-scan.yaml:9: patient `SKIPPED-DECLINE`: the scan of 2025-02-10"
            )
            && skipped.contains("(decline_cause: tumour), but rano-2.0-2023 does not grade it (a"),
        "{skipped}"
    );
    let graded = run(&[
        "eval",
        "--rules",
        "rules/rano-hgg-2010.rano",
        "tests/cli/decline-on-skipped-scan.yaml",
    ]);
    assert!(
        graded.contains("exit: 0") && !graded.contains("decline_on_skipped_scan"),
        "{graded}"
    );
    // a newly diagnosed case without chemoradiation_end, under a criterion that reads it;
    // RECIST 1.1 does not read it and is silent
    for (rules, warned) in [
        ("rules/rano-2.0-2023.rano", true),
        ("rules/rano-hgg-2010.rano", true),
        ("rules/recist-1.1.rano", false),
    ] {
        let out = run(&[
            "--error-format",
            "json",
            "eval",
            "--rules",
            rules,
            "tests/cli/newly-diagnosed-without-chemoradiation-end.yaml",
        ]);
        assert_eq!(
            out.contains("eval::chemoradiation_end_not_given"),
            warned,
            "{out}"
        );
    }
    let pre = run(&[
        "--error-format",
        "json",
        "eval",
        "--rules",
        "rules/rano-2.0-2023.rano",
        "tests/cli/pretreatment-after-therapy.yaml",
    ]);
    assert!(
        pre.contains("eval::pretreatment_after_therapy")
            && pre.contains("pretreatment-after-therapy.yaml:9: patient `PRE-AFTER`: the scan of 2025-03-03 is `scan: pretreatment` but dated after therapy_start (2025-01-06)"),
        "{pre}"
    );
    // a program reading the warnings finds the file and line in fields of their own
    let w: serde_json::Value = pre
        .lines()
        .find(|l| l.contains("eval::pretreatment_after_therapy"))
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_default();
    assert_eq!(
        w["file"], "tests/cli/pretreatment-after-therapy.yaml",
        "{pre}"
    );
    assert_eq!(w["line"], 9, "{pre}");
    assert_eq!(w["severity"], "warning", "{pre}");
    let clean = run(&[
        "eval",
        "--rules",
        "rules/rano-hgg-2010.rano",
        "tests/cli/followup-before-therapy.yaml",
    ]);
    assert!(
        !clean.contains("measured_lesion_with_status")
            && !clean.contains("steroid_change_after_scan")
            && !clean.contains("decline_cause_without_decline")
            && !clean.contains("new_lesion_not_listed"),
        "{clean}"
    );
}

/// A case whose every length is below 5 mm was most likely measured in cm: it is graded,
/// with a warning that says how to convert.
#[test]
fn lengths_that_look_like_cm_are_graded_with_a_warning() {
    let out = run(&[
        "eval",
        "--rules",
        "rules/rano-hgg-2010.rano",
        "tests/cli/lengths-in-cm.yaml",
    ]);
    assert!(out.contains("exit: 0"), "{out}");
    assert!(out.contains("eval::lengths_look_like_cm"), "{out}");
    assert!(
        out.contains("largest is 2.9 mm); lengths are read in mm"),
        "{out}"
    );
    // a case measured in mm says nothing
    let mm = run(&[
        "eval",
        "--rules",
        "rules/rano-hgg-2010.rano",
        "examples/rano-hgg-partial-response.yaml",
    ]);
    assert!(!mm.contains("lengths_look_like_cm"), "{mm}");
    // nor does one whose lengths of 5 mm and more are short axes of nodes
    let nodes = run(&[
        "eval",
        "--rules",
        "rules/recist-1.1.rano",
        "tests/cli/nodes-only-in-mm.yaml",
    ]);
    assert!(nodes.contains("exit: 0"), "{nodes}");
    assert!(!nodes.contains("lengths_look_like_cm"), "{nodes}");
    // one scan keyed in cm among scans in mm: that scan is named
    let once = run(&[
        "eval",
        "--rules",
        "rules/rano-hgg-2010.rano",
        "tests/cli/one-scan-in-cm.yaml",
    ]);
    assert!(once.contains("exit: 0"), "{once}");
    assert!(
        once.contains("eval::scan_lengths_look_like_cm")
            && once.contains("one-scan-in-cm.yaml:11")
            && once.contains("largest is 1.4 mm"),
        "{once}"
    );
    assert_eq!(once.matches("look_like_cm").count(), 1, "{once}");
    // a response that shrinks the tumour in steps, or makes it vanish, says nothing
    assert!(!mm.contains("scan_lengths_look_like_cm"), "{mm}");
    assert!(!once.contains("lesion_length_looks_like_cm"), "{once}");
    // one lesion keyed in cm on one scan, the others in mm: that lesion and scan are named;
    // a lesion that shrinks sevenfold and stays small is a response, not named
    let lesion = run(&[
        "eval",
        "--rules",
        "rules/recist-1.1.rano",
        "tests/cli/one-lesion-in-cm.yaml",
    ]);
    assert!(lesion.contains("exit: 0"), "{lesion}");
    assert_eq!(
        lesion.matches("eval::lesion_length_looks_like_cm").count(),
        1,
        "{lesion}"
    );
    assert!(
        lesion.contains(
            "one-lesion-in-cm.yaml:9: patient `CLI-ONE-LESION-CM`: lesion `T1` measures 4 mm"
        ),
        "{lesion}"
    );
    assert!(!lesion.contains("lesion `T2`"), "{lesion}");
}

/// More lesions marked `role: target` than the criterion's targets `max`: all are followed,
/// as marked, with a warning that says so (a lesion list a criterion would cut is data to
/// query, not to cut silently).
#[test]
fn more_lesions_marked_target_than_the_limit_are_warned() {
    let args = [
        "eval",
        "--rules",
        "rules/rano-lgg-2011.rano",
        "--set",
        "lgg.max_targets=3",
        "tests/cli/four-targets-marked.yaml",
    ];
    let out = run(&args);
    assert!(out.contains("exit: 0"), "{out}");
    assert!(out.contains("eval::more_targets_than_max"), "{out}");
    assert!(
        out.contains("4 lesions are marked") && out.contains("more than this criterion's 3"),
        "{out}"
    );
    assert!(out.contains("targets: A, B, C, D"), "{out}");
    // within the limit: nothing said
    let ok = run(&[
        "eval",
        "--rules",
        "rules/rano-lgg-2011.rano",
        "tests/cli/four-targets-marked.yaml",
    ]);
    assert!(!ok.contains("more_targets_than_max"), "{ok}");
}

/// A lesion marked `role: target` that the criterion would not choose (a 12 mm node under
/// RECIST 1.1) is followed as marked and said; the same lesion at 15 mm is not.
#[test]
fn a_marked_target_the_criterion_would_not_choose_is_warned() {
    let out = run(&[
        "eval",
        "--rules",
        "rules/recist-1.1.rano",
        "tests/cli/node-marked-target-below-15mm.yaml",
    ]);
    assert!(out.contains("exit: 0"), "{out}");
    assert!(
        out.contains("eval::marked_target_not_candidate")
            && out.contains("lesion `L1` is marked")
            && out.contains("would not choose it"),
        "{out}"
    );
    assert!(out.contains("targets: T1, L1"), "{out}");
    // placed at the baseline scan that marks it (line 8), not at the patient (line 4)
    assert!(
        out.contains("node-marked-target-below-15mm.yaml:8: patient `NODE-12`: lesion `L1`"),
        "{out}"
    );
    let at_15 =
        std::fs::read_to_string(repo().join("tests/cli/node-marked-target-below-15mm.yaml"))
            .unwrap()
            .replace("sa: 12}", "sa: 15}");
    let dir = std::env::temp_dir().join(format!("irano-node15-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("node-15.yaml");
    std::fs::write(&f, at_15).unwrap();
    let ok = run(&[
        "eval",
        "--rules",
        "rules/recist-1.1.rano",
        f.to_str().unwrap(),
    ]);
    assert!(ok.contains("exit: 0"), "{ok}");
    assert!(!ok.contains("marked_target_not_candidate"), "{ok}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A target given only `nt_status` on a scan (a non-target's field) is not measured there;
/// a warning says so (a new user's case read NE throughout without a word).
#[test]
fn a_target_given_only_nt_status_is_warned() {
    let out = run(&[
        "eval",
        "--rules",
        "rules/recist-1.1.rano",
        "tests/cli/nt-status-on-target.yaml",
    ]);
    assert!(out.contains("exit: 0"), "{out}");
    assert!(
        out.contains("eval::nt_status_on_target")
            && out.contains("lesion `L2` is a target of")
            && out.contains("the scan of 2025-03-03 gives it only `nt_status`"),
        "{out}"
    );
}

/// A lesion marked `role: target` that the criterion does not follow at all (its targets
/// `eligible` is false: a normal lymph node under RECIST 1.1) is left out of the burden,
/// and said: a sum that counted it differs (found in the pharmaversesdtm data).
#[test]
fn a_marked_target_the_criterion_does_not_follow_is_warned() {
    let out = run(&[
        "eval",
        "--rules",
        "rules/recist-1.1.rano",
        "tests/cli/normal-node-marked-target.yaml",
    ]);
    assert!(out.contains("exit: 0"), "{out}");
    assert!(
        out.contains("eval::marked_target_not_followed")
            && out.contains("lesion `N1` is marked")
            && out.contains("baseline scan: `not lesion.normal_node` is false")
            && out.contains("left out of the targets and the burden"),
        "{out}"
    );
    assert!(out.contains("targets: T1  "), "{out}");
    assert!(!out.contains("marked_target_not_candidate"), "{out}");
}

/// Lesions the targets' `candidate` turns down because they lack a field it reads (RANO-BM
/// reads `component`) are said: without it, a whole case reads as non-target disease.
#[test]
fn lesions_turned_down_as_targets_for_a_missing_field_are_warned() {
    let out = run(&[
        "eval",
        "--rules",
        "rules/rano-bm-2015.rano",
        "tests/cli/lesions-without-component.yaml",
    ]);
    assert!(out.contains("exit: 0"), "{out}");
    assert!(
        out.contains("eval::not_a_target_without_field")
            && out.contains("lesions `T1`, `T2`")
            && out.contains("no `component`")
            && out.contains("its `component`"),
        "{out}"
    );
    assert!(out.contains("targets: none"), "{out}");
    // given: the lesions are targets and nothing is said
    let text = std::fs::read_to_string(repo().join("tests/cli/lesions-without-component.yaml"))
        .unwrap()
        .replace("role: auto,", "role: auto, component: enhancing,");
    let dir = std::env::temp_dir().join(format!("irano-test-component-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fixed = dir.join("with-component.yaml");
    std::fs::write(&fixed, text).unwrap();
    let fine = run(&[
        "eval",
        "--rules",
        "rules/rano-bm-2015.rano",
        fixed.to_str().unwrap(),
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!fine.contains("not_a_target_without_field"), "{fine}");
    assert!(fine.contains("targets: T1, T2"), "{fine}");
    // a longest diameter without the perpendicular one RANO-BM's measurability reads
    let ld = run(&[
        "eval",
        "--rules",
        "rules/rano-bm-2015.rano",
        "tests/cli/longest-diameter-only.yaml",
    ]);
    assert!(
        ld.contains("eval::not_a_target_without_field") && ld.contains("perpendicular diameter"),
        "{ld}"
    );
    // RECIST 1.1 measures it by that diameter: a target, nothing said
    let recist = run(&[
        "eval",
        "--rules",
        "rules/recist-1.1.rano",
        "tests/cli/longest-diameter-only.yaml",
    ]);
    assert!(!recist.contains("not_a_target_without_field"), "{recist}");
    assert!(recist.contains("targets: T1"), "{recist}");
    // turned down by its size, not for the organ it lacks: nothing said
    let small = run(&[
        "eval",
        "--rules",
        "rules/recist-1.1.rano",
        "tests/cli/small-lesion-without-organ.yaml",
    ]);
    assert!(small.contains("targets: A  ·  non-targets: B"), "{small}");
    assert!(!small.contains("not_a_target_without_field"), "{small}");
}

/// `d` is `[longest, perpendicular]`: a case that gives them the other way round is said
/// where the criterion reads the first as the longest diameter, and only there.
#[test]
fn diameters_given_shorter_first_are_warned_where_the_order_matters() {
    let bm = run(&[
        "eval",
        "--rules",
        "rules/rano-bm-2015.rano",
        "tests/cli/diameters-swapped.yaml",
    ]);
    assert!(bm.contains("exit: 0"), "{bm}");
    assert!(
        bm.contains("eval::diameters_out_of_order")
            && bm.contains("`d: [8, 14]`")
            && bm.contains("(and 1 other measurement)"),
        "{bm}"
    );
    let hgg = run(&[
        "eval",
        "--rules",
        "rules/rano-hgg-2010.rano",
        "tests/cli/diameters-swapped.yaml",
    ]);
    assert!(!hgg.contains("diameters_out_of_order"), "{hgg}");
}

/// A per-group target limit (RECIST 1.1: 2 per organ) is not applied silently where it
/// matters: lesions without the field the group is keyed by count as one group, and lesions
/// marked `role: target` beyond the limit are followed as marked; both are said.
#[test]
fn per_organ_target_limits_are_warned() {
    let out = run(&[
        "eval",
        "--rules",
        "rules/recist-1.1.rano",
        "tests/cli/targets-without-organ.yaml",
    ]);
    assert!(out.contains("exit: 0"), "{out}");
    assert!(
        out.contains("eval::targets_grouped_without_field")
            && out.contains("lesion `C`")
            && out.contains("no `organ`"),
        "{out}"
    );
    assert!(out.contains("targets: A, B"), "{out}");
    // explain names the full group, not the overall limit
    let why = run(&[
        "explain",
        "--rules",
        "rules/recist-1.1.rano",
        "tests/cli/targets-without-organ.yaml",
    ]);
    assert!(
        why.contains("not chosen, its `max_per` group `unspecified` already had its 2 target(s)"),
        "{why}"
    );
    let marked = run(&[
        "eval",
        "--rules",
        "rules/recist-1.1.rano",
        "tests/cli/targets-marked-in-one-organ.yaml",
    ]);
    assert!(
        marked.contains("eval::more_targets_than_max_per")
            && marked.contains("3 lesions")
            && marked.contains("(`liver`)"),
        "{marked}"
    );
    assert!(marked.contains("targets: A, B, C"), "{marked}");
    assert!(
        !marked.contains("targets_grouped_without_field"),
        "{marked}"
    );
    // organs given and within the limits: nothing said
    let fine = run(&[
        "eval",
        "--rules",
        "rules/recist-1.1.rano",
        "--set",
        "max_targets_per_organ=3",
        "tests/cli/targets-marked-in-one-organ.yaml",
    ]);
    assert!(!fine.contains("max_per"), "{fine}");
}

/// A lesion given a measurement the criterion does not read for it (a lymph node given
/// `ld`, where RECIST 1.1 reads its short axis): every scan is NE, and eval names the lesion
/// and the fields.
#[test]
fn a_lesion_measured_otherwise_than_the_criterion_reads_is_warned() {
    let out = run(&[
        "eval",
        "--rules",
        "rules/recist-1.1.rano",
        "tests/cli/node-given-ld.yaml",
    ]);
    assert!(out.contains("exit: 0"), "{out}");
    assert!(
        out.contains("eval::lesion_measured_otherwise")
            && out.contains("lesion `T2` is given `ld`")
            && out.contains("`sa`"),
        "{out}"
    );
    // measured as the criterion reads it: nothing said
    let fine = run(&[
        "eval",
        "--rules",
        "rules/recist-1.1.rano",
        "tests/cli/nodes-only-in-mm.yaml",
    ]);
    assert!(!fine.contains("lesion_measured_otherwise"), "{fine}");
}

/// `test` shows the warnings `eval` gives on a case (here: one scan keyed in cm), so that a
/// worked case built on a slip in the input is not accepted without a word.
#[test]
fn test_shows_the_warnings_eval_gives() {
    let dir = std::env::temp_dir().join(format!("irano-test-warnings-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let case = std::fs::read_to_string(repo().join("tests/cli/one-scan-in-cm.yaml")).unwrap();
    std::fs::write(
        dir.join("cm.yaml"),
        format!("x-expect:\n  responses: [null, PR, PD]\n{case}"),
    )
    .unwrap();
    let d = dir.display().to_string();
    let out = run(&[
        "test",
        "--rules",
        "rules/rano-hgg-2010.rano",
        "--accept",
        &d,
    ]);
    assert!(out.contains("exit: 0"), "{out}");
    assert!(out.contains("eval::scan_lengths_look_like_cm"), "{out}");
    assert!(!out.contains("test::jsonl_not_tested"), "{out}");
    // a JSON Lines file beside it is not read by `test`, and is said not to be
    std::fs::write(dir.join("cohort.jsonl"), "{}\n").unwrap();
    let out = run(&["test", "--rules", "rules/rano-hgg-2010.rano", &d]);
    assert!(
        out.contains("exit: 0")
            && out.contains("test::jsonl_not_tested")
            && out.contains("cohort.jsonl` is JSON Lines"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `check` takes a folder as `fmt` does: every `.rano` file under it.
#[test]
fn check_takes_a_folder() {
    let out = run(&["check", "rules"]);
    assert!(out.contains("exit: 0"), "{out}");
    assert!(
        out.contains("ok   rules/recist-1.1.rano") && out.contains("ok   rules/rano-hgg-2010.rano"),
        "{out}"
    );
    let empty = run(&["check", "docs/criteria"]);
    assert!(
        empty.contains("exit: 2") && empty.contains("no `.rano` rule file"),
        "{empty}"
    );
}

/// A case field the criterion never reads changes nothing, and is said to: `reirradiation_end`
/// under RANO 2.0 (read only once an amendment opens a window after it), and
/// `chemoradiation_end` in recurrent disease.
#[test]
fn case_fields_the_criterion_does_not_read_are_warned() {
    let out = run(&[
        "eval",
        "--rules",
        "rules/rano-2.0-2023.rano",
        "tests/cli/reirradiation.yaml",
    ]);
    assert!(out.contains("exit: 0"), "{out}");
    assert!(
        out.contains("eval::case_field_not_read")
            && out.contains("gives `reirradiation_end`, which")
            && out.contains("never reads"),
        "{out}"
    );
    // the progression is immediate: no window opened
    assert!(out.contains("pd.size_increase"), "{out}");
    let recurrent = run(&[
        "eval",
        "--rules",
        "rules/rano-2.0-2023.rano",
        "tests/cli/chemoradiation-in-recurrent.yaml",
    ]);
    assert!(
        recurrent.contains("eval::chemoradiation_end_in_recurrent_disease"),
        "{recurrent}"
    );
    assert!(!recurrent.contains("case_field_not_read"), "{recurrent}");
    // a criterion that never reads chemoradiation_end says so as well
    let lgg = run(&[
        "eval",
        "--rules",
        "rules/rano-lgg-2011.rano",
        "tests/cli/chemoradiation-in-recurrent.yaml",
    ]);
    assert!(
        lgg.contains("eval::case_field_not_read")
            && lgg.contains("gives `chemoradiation_end`, which"),
        "{lgg}"
    );
    // a case without either field says nothing
    let none = run(&[
        "eval",
        "--rules",
        "rules/rano-2.0-2023.rano",
        "examples/rano-hgg-partial-response.yaml",
    ]);
    assert!(
        !none.contains("case_field_not_read") && !none.contains("recurrent_disease"),
        "{none}"
    );
}

/// `fmt --check` reports a rule file out of layout (exit 1) and changes nothing; `fmt`
/// rewrites it (comments kept, still checks) and is then idempotent; a file that does not
/// parse is exit 2 and untouched.
#[test]
fn fmt_rewrites_rule_files_into_the_canonical_layout() {
    let dir = std::env::temp_dir().join(format!("irano-fmt-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("messy.rano");
    let messy = "criterion \"messy\" extends \"rano-hgg-2010\" {\n   version \"1\"\n      cite \"a trial\"   # the protocol\n\n\n  override param pd_increase = 40%   cite \"protocol §9\"\n}\n";
    std::fs::write(&file, messy).unwrap();
    let path = file.to_str().unwrap();

    let check = run(&["fmt", "--check", path]);
    assert!(check.contains("exit: 1"), "{check}");
    assert!(check.contains("would reformat"), "{check}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), messy);

    let fmt = run(&["fmt", path]);
    assert!(fmt.contains("exit: 0"), "{fmt}");
    let formatted = std::fs::read_to_string(&file).unwrap();
    assert_ne!(formatted, messy);
    assert!(formatted.contains("# the protocol"));
    assert!(!formatted.contains("\n\n\n"));
    assert!(run(&["fmt", "--check", path]).contains("exit: 0"));
    let checked = run(&["check", "--include", "rules", path]);
    assert!(checked.contains("exit: 0"), "{checked}");

    let broken = dir.join("broken.rano");
    std::fs::write(&broken, "criterion \"b\" {\n  param x: mm = \n}\n").unwrap();
    let out = run(&["fmt", broken.to_str().unwrap()]);
    assert!(out.contains("exit: 2"), "{out}");
    assert!(out.contains("broken.rano:3:1"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The shipped rule files are in the canonical layout.
#[test]
fn shipped_rule_files_are_formatted() {
    let out = run(&["fmt", "--check", "rules", "tests/language"]);
    assert!(
        out.contains("exit: 0"),
        "run `irano-eval fmt rules`:\n{out}"
    );
}

/// `show` prints the merged criterion in evaluation order, marking what each file after
/// the root added, overrode or removed; `--format json` says the same.
#[test]
fn show_maps_the_criterion_and_marks_amendments() {
    let out = run(&["show", "tests/language/evaluation-order.rano"]);
    assert!(out.contains("exit: 0"), "{out}");
    insta::assert_snapshot!(out);

    // a lesion let (declared `lesion.NAME`) an amendment overrides is marked too
    let mrano = run(&["show", "--include", "rules", "rules/mrano-2017.rano"]);
    assert!(
        mrano
            .lines()
            .any(|l| l.starts_with("  measurable : bool") && l.contains("[~ mrano-2017 at")),
        "{mrano}"
    );

    let amended = run(&[
        "show",
        "--include",
        "rules",
        "tests/cli/amendment-typo.rano",
    ]);
    assert!(
        amended.contains("exit: 2"),
        "a criterion that does not check is not mapped"
    );

    // an overridden declaration says where the override is written
    let trial = run(&[
        "show",
        "--include",
        "rules",
        "examples/amendment/trial-xyz-irano.rano",
    ]);
    assert!(
        trial.contains("[~ trial-xyz-irano at examples/amendment/trial-xyz-irano.rano:"),
        "{trial}"
    );

    let (v, _) = json(&["show", "--format", "json", "rules/irano-2015.rano"]);
    let lets = v["lets"].as_array().unwrap();
    let due = lets
        .iter()
        .find(|l| l["name"] == "confirmation_due_on")
        .expect("confirmation_due_on is listed");
    assert_eq!(due["type"], "date");
    assert_eq!(due["change"]["action"], "added");
    assert_eq!(due["change"]["by"], "irano-2015-core");
    let burden = lets.iter().find(|l| l["name"] == "burden").unwrap();
    assert_eq!(burden["change"]["action"], "overridden");
    let removed = v["removed"].as_array().unwrap();
    assert!(removed.iter().any(|r| r["name"] == "pd.clinical_decline"));
    let params = v["parameters"].as_array().unwrap();
    let pd = params.iter().find(|p| p["name"] == "pd_increase").unwrap();
    assert_eq!(pd["default"], "25%");
    assert_eq!(pd["range"][1], "100%");
}

// ------------------------------------------------------------------ irano-eval test

/// A copy of `examples/amendment` (the trial folder) in a fresh temporary folder.
fn trial_copy(name: &str) -> std::path::PathBuf {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let p = e.unwrap().path();
            let target = to.join(p.file_name().unwrap());
            if p.is_dir() {
                copy(&p, &target);
            } else {
                std::fs::copy(&p, &target).unwrap();
            }
        }
    }
    let dir = std::env::temp_dir().join(format!("irano-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy(&repo().join("examples/amendment"), &dir);
    dir
}

/// Runs `irano-eval ARGS` and shows the temporary folder `dir` as `TRIAL`.
fn run_in(dir: &Path, args: &[&str]) -> String {
    run(args).replace(dir.to_str().unwrap(), "TRIAL")
}

/// The trial folder of the README: every expectation holds, every snapshot matches.
#[test]
fn trial_folder_passes() {
    let out = run(&["test", "--include", "rules", "examples/amendment"]);
    assert!(out.contains("exit: 0"), "{out}");
    assert!(out.contains("5 passed, 0 failed"), "{out}");
    insta::assert_snapshot!(out);
}

/// One parameter changed in the amendment (confirmation 12 weeks instead of 8): the
/// cases that depended on it fail with the expectation, the rule that decided instead
/// and the snapshot's diff; nothing is accepted.
#[test]
fn trial_amendment_change_shows_failed_expectations_and_diffs() {
    let dir = trial_copy("changed-param");
    let rules = dir.join("trial-xyz-irano.rano");
    let text = std::fs::read_to_string(&rules).unwrap();
    assert!(text.contains("irano.confirm_days = 8 weeks"));
    std::fs::write(
        &rules,
        text.replace(
            "irano.confirm_days = 8 weeks",
            "irano.confirm_days = 12 weeks",
        ),
    )
    .unwrap();
    let path = dir.to_str().unwrap();
    let out = run_in(&dir, &["test", "--include", "rules", path]);
    assert!(out.contains("exit: 1"), "{out}");
    assert!(out.contains("3 passed, 2 failed"), "{out}");
    assert!(
        out.contains(
            "response of scan 3 (2025-04-28): expected PD, got UPD  (rule irano.upd.interim)"
        ),
        "{out}"
    );
    assert!(
        out.contains("pd_date: expected 2025-03-03, got none"),
        "{out}"
    );
    assert!(out.contains("+2025-04-28  112  follow-up"), "{out}");
    insta::assert_snapshot!(out);
    // --accept never accepts a case whose expectations fail
    let before = std::fs::read_dir(dir.join("cases/snapshots"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect::<Vec<_>>();
    let accept = run_in(&dir, &["test", "--accept", "--include", "rules", path]);
    assert!(accept.contains("exit: 1"), "{accept}");
    let after = std::fs::read_dir(dir.join("cases/snapshots"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect::<Vec<_>>();
    assert_eq!(before, after);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A new case is `new` until accepted; `--accept` writes its snapshot (insta's layout, no
/// time, no absolute path) but not that of a new case whose `x-expect` fails; a change
/// that keeps every expectation is `changed`, and accepted the same way.
#[test]
fn trial_accept_writes_new_and_changed_snapshots_never_failing_ones() {
    let dir = trial_copy("accept");
    let cases = dir.join("cases");
    let model = std::fs::read_to_string(
        cases.join("003-on-6-mg-since-baseline-ne-until-tapered-to-4.yaml"),
    )
    .unwrap();
    let good = model.replace("patient: XYZ-003", "patient: XYZ-006");
    std::fs::write(cases.join("006-new.yaml"), &good).unwrap();
    let bad = model
        .replace("patient: XYZ-003", "patient: XYZ-007")
        .replace("responses: [null, NE, SD]", "responses: [null, SD, SD]");
    std::fs::write(cases.join("007-new-failing.yaml"), &bad).unwrap();
    let path = dir.to_str().unwrap();

    let out = run_in(&dir, &["test", "--include", "rules", path]);
    assert!(out.contains("exit: 1"), "{out}");
    assert!(out.contains("5 passed, 1 failed, 1 new"), "{out}");
    assert!(out.contains("new     TRIAL/cases/006-new.yaml"), "{out}");
    assert!(
        out.contains(
            "response of scan 2 (2025-03-03): expected SD, got NE  (rule xyz.ne.dexamethasone)"
        ),
        "{out}"
    );
    assert!(!cases.join("snapshots/006-new.snap").exists());
    // a failing case with no snapshot shows its output, not a "differing" snapshot
    assert!(
        out.contains("this run's output (no snapshot yet; none is written while an expectation fails): TRIAL/cases/snapshots/007-new-failing.snap"),
        "{out}"
    );

    let out = run_in(&dir, &["test", "--accept", "--include", "rules", path]);
    assert!(
        out.contains("exit: 1"),
        "the failing case still fails: {out}"
    );
    assert!(
        out.contains("5 passed, 1 failed, 1 new (1 accepted)"),
        "{out}"
    );
    let snap = std::fs::read_to_string(cases.join("snapshots/006-new.snap")).unwrap();
    assert!(
        snap.starts_with(
            "---\nsource: irano-eval test\nexpression: \"x-title, then the result table\"\ninput_file: 006-new.yaml\n---\nOn 6 mg/day"
        ),
        "{snap}"
    );
    assert!(snap.contains("patient XYZ-006"), "{snap}");
    assert!(!snap.contains(path), "no absolute path in a snapshot");
    assert!(!cases.join("snapshots/007-new-failing.snap").exists());

    std::fs::remove_file(cases.join("007-new-failing.yaml")).unwrap();
    let out = run_in(&dir, &["test", "--include", "rules", path]);
    assert!(out.contains("exit: 0"), "{out}");
    assert!(out.contains("6 passed, 0 failed"), "{out}");

    // a change every expectation survives: changed, then accepted
    let rules = dir.join("trial-xyz-irano.rano");
    let text = std::fs::read_to_string(&rules).unwrap();
    std::fs::write(
        &rules,
        text.replace("version \"protocol-v3\"", "version \"protocol-v4\""),
    )
    .unwrap();
    let out = run_in(&dir, &["test", "--include", "rules", path]);
    assert!(out.contains("exit: 1"), "{out}");
    assert!(out.contains("0 passed, 0 failed, 6 changed"), "{out}");
    assert!(
        out.contains("-patient XYZ-006  ·  trial-xyz-irano protocol-v3"),
        "{out}"
    );
    assert!(
        out.contains("+patient XYZ-006  ·  trial-xyz-irano protocol-v4"),
        "{out}"
    );
    let out = run_in(&dir, &["test", "--accept", "--include", "rules", path]);
    assert!(out.contains("exit: 0"), "{out}");
    let out = run_in(&dir, &["test", "--include", "rules", path]);
    assert!(out.contains("6 passed, 0 failed\n"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A misspelt `x-` key is bad input (exit 2), located, with a suggestion; nothing runs.
#[test]
fn trial_unknown_x_key_is_bad_input() {
    let dir = trial_copy("bad-key");
    let case = dir.join("cases/001-progression-confirmed-8-weeks-later.yaml");
    let text = std::fs::read_to_string(&case).unwrap();
    std::fs::write(&case, text.replace("\nx-expect:", "\nx-expects:")).unwrap();
    let out = run_in(&dir, &["test", "--include", "rules", dir.to_str().unwrap()]);
    assert!(out.contains("exit: 2"), "{out}");
    assert!(out.contains("unknown annotation `x-expects`"), "{out}");
    assert!(out.contains("did you mean `x-expect`?"), "{out}");
    assert!(
        out.contains("TRIAL/cases/001-progression-confirmed-8-weeks-later.yaml:13:1"),
        "{out}"
    );
    assert!(
        out.contains("--- stdout\n--- stderr"),
        "nothing runs: {out}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Values in `x-expect` are checked against the criterion before anything runs: a label,
/// decision or rule it does not have, a date not written as YYYY-MM-DD, a per-scan list of
/// the wrong length or another misspelt `x-` key is bad input (exit 2) with a suggestion,
/// all in one run; nothing is reported as a failed expectation.
#[test]
fn trial_unknown_expected_values_are_bad_input() {
    let dir = trial_copy("bad-values");
    let case = dir.join("cases/001-progression-confirmed-8-weeks-later.yaml");
    let text = std::fs::read_to_string(&case).unwrap();
    let text = text
        .replace("x-title:", "x-titel:")
        .replace(
            "responses: [null, UPD, PD]",
            "responses: [null, UPD, PD, PD]",
        )
        .replace("best_overall_response: PD", "best_overall_response: PDD")
        .replace("pd_date: 2025-03-03", "pd_date: 2025-3-3")
        .replace("final_decision: DISCONTINUE", "final_decision: STOP")
        .replace(
            "[null, irano.upd.initial, irano.pd.confirmed]",
            "[null, irano.upd.initial, irano.pd.confirm]",
        )
        // a misspelt parameter in `x-set` does not hide the misspelt rule in `x-exercises`
        .replace(
            "x-exercises: [irano.upd.initial, irano.pd.confirmed]",
            "x-exercises: [irano.upd.initial, irano.pd.confirmd]\nx-set: [irano.confirm_dayz=56]",
        );
    std::fs::write(&case, &text).unwrap();
    let out = run_in(&dir, &["test", "--include", "rules", dir.to_str().unwrap()]);
    for needle in [
        "there is no parameter `irano.confirm_dayz`",
        "names `irano.pd.confirmd`, which is not a rule",
        "exit: 2",
        "unknown annotation `x-titel`",
        "`x-expect` gives 4 `responses` for the case's 3 scans",
        "`pd_date: 2025-3-3`, which is not a date",
        "names `PDD`, which is not a label",
        "did you mean `PD`?",
        "names `STOP`, which is not a decision",
        "names `irano.pd.confirm`, which is not a rule",
        "did you mean `irano.pd.confirmed`?",
        // the suggested command finds the parent criterion
        "`irano-eval show --include rules ",
    ] {
        assert!(flat(&out).contains(needle), "{needle}: {out}");
    }
    assert!(
        !out.contains("FAIL"),
        "not reported as failed expectations: {out}"
    );
    // each is located at the wrong value, not at the `x-expect` key
    for value in [
        "PDD",
        "2025-3-3",
        "STOP",
        "irano.pd.confirm]",
        "irano.pd.confirmd]",
        "irano.confirm_dayz=56",
    ] {
        let at = text.find(value).unwrap();
        let line = text[..at].matches('\n').count() + 1;
        let col = at - text[..at].rfind('\n').map_or(0, |n| n + 1) + 1;
        let place =
            format!("TRIAL/cases/001-progression-confirmed-8-weeks-later.yaml:{line}:{col}");
        assert!(out.contains(&place), "{value} at {place}: {out}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `eval` does not apply a case's `x-set`, and says so.
#[test]
fn eval_says_it_ignores_x_set() {
    let out = run(&[
        "eval",
        "--rules",
        "rules/irano-2015.rano",
        "tests/worked/irano-2015/033-confirm-interval-days_84.yaml",
    ]);
    assert!(out.contains("exit: 0"), "{out}");
    assert!(
        out.contains("x-set in tests/worked/irano-2015/033-confirm-interval-days_84.yaml:4:1 is ignored by eval; use"),
        "{out}"
    );
}

/// A parameter read only under another choice (`irano.confirm_days` under
/// `irano.confirm_interval = fixed_days`) cannot be set alone to no effect.
#[test]
fn set_of_a_parameter_the_current_choices_do_not_read_is_refused() {
    let out = run(&[
        "eval",
        "--rules",
        "rules/irano-2015.rano",
        "--set",
        "irano.confirm_days=56 days",
        "examples/irano-worked-example.yaml",
    ]);
    assert!(out.contains("exit: 2"), "{out}");
    assert!(out.contains("check::unselected_parameter"), "{out}");
    assert!(
        out.contains("`irano.confirm_interval = fixed_days`"),
        "{out}"
    );
    let both = run(&[
        "eval",
        "--rules",
        "rules/irano-2015.rano",
        "--set",
        "irano.confirm_interval=fixed_days",
        "--set",
        "irano.confirm_days=56 days",
        "examples/irano-worked-example.yaml",
    ]);
    assert!(both.contains("exit: 0"), "{both}");
}

#[test]
fn diff_compare_and_explain_name_labels_as_eval_does() {
    // iRECIST declares native labels (iUPD, iCPD): every command shows them, not UPD/PD
    let case = "tests/worked/irecist-2017/001-iupd-by-target-growth-icpd-exactly-5mm-further-at-exactly-4-weeks.yaml";
    let diff = run(&[
        "diff",
        "--rules",
        "rules/irecist-2017.rano",
        "--set-new",
        "irecist.confirm_increase_mm=10mm",
        case,
    ]);
    assert!(diff.contains("iCPD         iUPD"), "{diff}");
    let compare = run(&[
        "compare",
        "--rules",
        "rules/irecist-2017.rano",
        "--rules",
        "rules/recist-1.1.rano",
        case,
    ]);
    assert!(compare.contains("iCPD      DISCONTINUE"), "{compare}");
    assert!(compare.contains("iSD (bor.sd)"), "{compare}");
    let explain = run(&[
        "explain",
        "--rules",
        "rules/irecist-2017.rano",
        "--date",
        "2025-07-21",
        case,
    ]);
    assert!(explain.contains("response iCPD (icpd.target)"), "{explain}");
    let whole = run(&["explain", "--rules", "rules/irecist-2017.rano", case]);
    assert!(whole.contains("best overall response: iSD"), "{whole}");
}

/// explain on the baseline scan says how each lesion became a target or not, and why.
#[test]
fn explain_derives_the_choice_of_targets_on_the_baseline() {
    let case = "tests/worked/rano-bm-2015/006-auto-measurability-boundaries-five-targets-tie-pr-exactly-30.yaml";
    let text = run(&[
        "explain",
        "--rules",
        "rules/rano-bm-2015.rano",
        "--date",
        "2025-02-24",
        case,
    ]);
    assert!(text.contains("targets chosen on this scan:"), "{text}");
    assert!(
        text.contains("A1 (auto): target, `role: auto`, a candidate ranked 1 of 6: chosen (at most 5 targets)"),
        "{text}"
    );
    assert!(
        text.contains("A6 (auto): non-target, `role: auto`, a candidate ranked 6 of 6: not chosen"),
        "{text}"
    );
    assert!(
        text.contains("A7 (auto): non-target, `role: auto` and not a candidate"),
        "{text}"
    );
    let (json, _) = json(&[
        "explain",
        "--format",
        "json",
        "--rules",
        "rules/rano-bm-2015.rano",
        "--date",
        "2025-02-24",
        case,
    ]);
    let targets = json["scans"][0]["targets"]
        .as_array()
        .expect("targets on the baseline");
    let outcomes: Vec<&str> = targets
        .iter()
        .map(|t| t["outcome"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        outcomes,
        [
            "target",
            "target",
            "target",
            "target",
            "target",
            "non_target",
            "non_target",
            "non_target"
        ]
    );
    assert_eq!(targets[6]["candidate"]["value"], "false");
}

/// explain lists the rules the chain removed: they are tried nowhere, so no table shows them.
#[test]
fn explain_lists_removed_rules() {
    let case = "tests/worked/rano-lgg-2011";
    let out = run(&[
        "explain",
        "--rules",
        "rules/rano-lgg-2011.rano",
        "--patient",
        "RL-001",
        case,
    ]);
    assert!(
        out.contains("rule pd.t2_flair removed (rules/rano-lgg-2011.rano:"),
        "{out}"
    );
    // and the parameters it retired, which no explanation reads
    let mrano = run(&[
        "explain",
        "--rules",
        "rules/mrano-2017.rano",
        "tests/worked/mrano-2017/001-pr-exactly-50-percent-sd-at-49-7-confirmed.yaml",
    ]);
    assert!(
        mrano.contains("parameter rano2.component removed (rules/mrano-2017.rano:19"),
        "{mrano}"
    );
    // a patient id written differently gets the closest one
    let typo = run(&[
        "explain",
        "--rules",
        "rules/rano-lgg-2011.rano",
        "--patient",
        "RL-01",
        case,
    ]);
    assert!(typo.contains("exit: 2"), "{typo}");
    assert!(typo.contains("did you mean `--patient RL-001`?"), "{typo}");
}

/// A criterion that reads a measurement the case never gives (volumetric RANO 2.0 on a case
/// measured by diameters) grades every scan NE: eval says why, once per case.
#[test]
fn a_measurement_the_case_never_gives_is_warned() {
    let out = run(&[
        "eval",
        "--rules",
        "rules/rano-2.0-2023.rano",
        "--set",
        "rano2.measurement=volumetric",
        "tests/cli/diameters-only.yaml",
    ]);
    assert!(out.contains("exit: 0"), "{out}");
    assert_eq!(
        out.matches("eval::measurement_not_given").count(),
        1,
        "{out}"
    );
    assert!(out.contains("`vol_ml`"), "{out}");
    let bidimensional = run(&[
        "eval",
        "--rules",
        "rules/rano-2.0-2023.rano",
        "tests/cli/diameters-only.yaml",
    ]);
    assert!(
        !bidimensional.contains("measurement_not_given"),
        "{bidimensional}"
    );
}

/// A rule file that reads a later scan's let fails every case at the scan that reads it,
/// naming both scans and what to read instead, not a generic "guard the expression".
#[test]
fn a_let_of_a_later_scan_is_an_error_that_names_both_scans() {
    let out = run(&[
        "eval",
        "--include",
        "rules",
        "--rules",
        "tests/cli/look-ahead.rano",
        "tests/worked/rano-hgg-2010/001-pr-exactly-50-percent-confirmed-28-days.yaml",
    ]);
    assert!(out.contains("exit: 2"), "{out}");
    assert!(out.contains("eval::failed"), "{out}");
    // the message as one line: the wrapped lines joined, without the gutter
    let flat = flat(&out);
    // the case is named by its file and line (as a case error is)
    assert!(flat.contains("days.yaml:1), scan of 2025-02-24"), "{out}");
    assert!(
        flat.contains("`burden` of the scan of 2025-05-26 is read while the scan of 2025-02-24 is evaluated: a later scan's lets are not known yet"),
        "{out}"
    );
    assert!(
        flat.contains("every scan's lets are known in the summary"),
        "{out}"
    );
    assert!(!out.contains("test for zero"), "{out}");
    // for programs, the failure carries the case's file and line, as a warning about a case does
    let json = run(&[
        "--error-format",
        "json",
        "eval",
        "--include",
        "rules",
        "--rules",
        "tests/cli/look-ahead.rano",
        "tests/worked/rano-hgg-2010/001-pr-exactly-50-percent-confirmed-28-days.yaml",
    ]);
    assert!(
        json.contains(r#""file":"tests/worked/rano-hgg-2010/001-pr-exactly-50-percent-confirmed-28-days.yaml","#)
            && json.contains(r#""line":1,"#),
        "{json}"
    );
}

/// An `x-expect` list with more or fewer entries than the case has scans is a typo in the
/// expectation, bad input (exit 2), not a failure of the criterion (exit 1).
#[test]
fn an_expectation_list_of_the_wrong_length_is_bad_input() {
    let dir = trial_copy("wrong-length");
    let cases = dir.join("cases");
    let model = std::fs::read_to_string(
        cases.join("003-on-6-mg-since-baseline-ne-until-tapered-to-4.yaml"),
    )
    .unwrap();
    assert!(model.contains("responses: [null, NE, SD]"));
    std::fs::write(
        cases.join("003-on-6-mg-since-baseline-ne-until-tapered-to-4.yaml"),
        model.replace("responses: [null, NE, SD]", "responses: [null, NE]"),
    )
    .unwrap();
    let out = run_in(&dir, &["test", "--include", "rules", dir.to_str().unwrap()]);
    assert!(out.contains("exit: 2"), "{out}");
    assert!(
        out.contains("`x-expect` gives 2 `responses` for the case's 3 scans"),
        "{out}"
    );
}

#[test]
fn an_unknown_set_key_suggests_the_parameter_meant() {
    let set = |key: &str| {
        run(&[
            "eval",
            "--rules",
            "rules/irano-2015.rano",
            "--include",
            "rules",
            "--set",
            key,
            "examples/rano-hgg-partial-response.yaml",
        ])
    };
    // another case of the same name
    let out = set("CONFIRMATION_MIN_DAYS=8 weeks");
    assert!(out.contains("exit: 2"), "{out}");
    assert!(
        out.contains("did you mean `confirmation_min_days`?"),
        "{out}"
    );
    // the only parameter that contains what was written
    let out = set("window_months=3 months");
    assert!(out.contains("did you mean `irano.window_months`?"), "{out}");
    // several do: all of them
    let out = set("interrupt_dex=8 mg/day");
    assert!(
        out.contains("`irano.interrupt_dex_mg`, `irano.interrupt_dex_basis`"),
        "{out}"
    );
}

/// After the cases, `test` names the rules the amendment writes that no case made fire,
/// with their lines: without case 005, the amendment's confirmation rule is untested. It
/// does not change the exit status.
#[test]
fn trial_test_names_the_amendment_rules_no_case_made_fire() {
    let dir = trial_copy("reach");
    let cases = dir.join("cases");
    std::fs::remove_file(
        cases.join("005-confirmation-scan-on-6-mg-neither-confirms-nor-clears.yaml"),
    )
    .unwrap();
    let path = dir.to_str().unwrap();
    let out = run_in(&dir, &["test", "--include", "rules", path]);
    assert!(out.contains("exit: 0"), "{out}");
    assert!(
        out.contains("1 of the 2 rules written in TRIAL/trial-xyz-irano.rano fired in no case"),
        "{out}"
    );
    assert!(
        out.contains("line 23   xyz.confirmation.not_evaluable  (table confirmation)"),
        "{out}"
    );
    // with every case, every rule it writes fired
    let all = run(&["test", "--include", "rules", "examples/amendment"]);
    assert!(
        all.contains(
            "every rule written in examples/amendment/trial-xyz-irano.rano (2) fired in at least one case"
        ),
        "{all}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An amendment that only sets parameters writes no rule to reach: `test` says which
/// parameters it sets and how to find the cases that depend on them.
#[test]
fn test_of_a_parameter_only_amendment_names_its_parameters() {
    let dir = std::env::temp_dir().join(format!("irano-param-only-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("cases")).unwrap();
    std::fs::write(
        dir.join("param-only.rano"),
        "criterion \"param-only\" extends \"rano-hgg-2010\" {\n  version \"1\"\n  override param pd_increase = 40%\n    cite \"protocol\"\n}\n",
    )
    .unwrap();
    // a file that also overrides a definition is reported with it: the override may be
    // what changes the results
    std::fs::write(
        dir.join("with-def.rano"),
        "criterion \"with-def\" extends \"param-only\" {\n  version \"1\"\n  param trial.days: days = 56 days\n    cite \"protocol\"\n  override let t2_flair_progression = scan.t2_flair == worse and scan.date >= case.therapy_start + trial.days\n    cite \"protocol\"\n}\n",
    )
    .unwrap();
    let case =
        std::fs::read_to_string(repo().join("examples/rano-hgg-partial-response.yaml")).unwrap();
    std::fs::write(
        dir.join("cases/001.yaml"),
        format!("x-rules: ../param-only.rano\nx-expect:\n  best_overall_response: PR\n{case}"),
    )
    .unwrap();
    std::fs::write(
        dir.join("cases/002.yaml"),
        format!("x-rules: ../with-def.rano\nx-expect:\n  best_overall_response: PR\n{case}"),
    )
    .unwrap();
    let out = run(&["test", "--include", "rules", dir.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        out.contains("param-only.rano writes no rule of its own, but changes the criterion: it sets `pd_increase`;"),
        "{out}"
    );
    assert!(
        out.contains("with-def.rano writes no rule of its own, but changes the criterion: it declares param `trial.days`, overrides let `t2_flair_progression`;"),
        "{out}"
    );
    // the command it suggests finds the parent as the run did, and names its file
    assert!(
        out.contains("`irano-eval diff --include rules --rules rules/rano-hgg-2010.rano --rules"),
        "{out}"
    );
}

/// The `diff` sample in docs/comparing.md is the command's output: every line shown (all
/// but the `...` that stand for lines left out) is printed, in that order.
#[test]
fn the_diff_sample_in_the_docs_is_current() {
    let page = std::fs::read_to_string(repo().join("docs/comparing.md")).unwrap();
    let start = page
        .find("```text\n$ irano-eval diff ")
        .expect("the diff sample in docs/comparing.md");
    let block = &page[start + "```text\n".len()..];
    let block = &block[..block.find("```").unwrap()];
    let mut lines = block.lines();
    let command = lines.next().unwrap().trim_start_matches("$ irano-eval ");
    let args: Vec<&str> = command.split_whitespace().collect();
    let out = run(&args);
    let stdout = out
        .split("--- stdout\n")
        .nth(1)
        .and_then(|s| s.split("--- stderr\n").next())
        .unwrap_or("");
    let mut rest = stdout;
    for line in lines.filter(|l| l.trim() != "...") {
        match rest.find(&format!("{line}\n")) {
            Some(i) => rest = &rest[i + line.len()..],
            None => panic!("docs/comparing.md shows a line the command no longer prints, or out of order:\n{line}\n\n{stdout}"),
        }
    }
}

/// The sample output in the README is what the command prints (every line shown, the
/// elided `...` apart), so that a column added or a label changed updates it.
#[test]
fn the_readme_sample_output_is_current() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let command =
        "$ irano-eval eval --rules rules/irano-2015.rano examples/irano-worked-example.yaml";
    let sample: Vec<&str> = readme
        .lines()
        .skip_while(|l| *l != command)
        .skip(1)
        .take_while(|l| !l.starts_with("```"))
        .filter(|l| l.trim() != "...")
        .collect();
    assert!(
        sample.len() >= 8,
        "the README's sample is missing:\n{sample:?}"
    );
    let out = run(&[
        "eval",
        "--rules",
        "rules/irano-2015.rano",
        "examples/irano-worked-example.yaml",
    ]);
    for line in sample {
        assert!(
            out.lines().any(|l| l == line),
            "README line not in the output:\n{line}\n--- output\n{out}"
        );
    }
}

/// A parameter group (the notes' one key for several parameters) sets each member in order,
/// a bare number in the group's unit; the wrong number of values names the members.
#[test]
fn a_parameter_group_sets_its_members_in_order() {
    let ok = run(&[
        "eval",
        "--rules",
        "rules/irecist-2017.rano",
        "--set",
        "irecist.confirm_window_days=21,84",
        "--format",
        "json",
        "tests/worked/irecist-2017/001-iupd-by-target-growth-icpd-exactly-5mm-further-at-exactly-4-weeks.yaml",
    ]);
    assert!(ok.contains("exit: 0"), "{ok}");
    for (name, value) in [
        ("irecist.confirm_window_min_days", "21 days"),
        ("irecist.confirm_window_max_days", "84 days"),
    ] {
        assert!(
            ok.contains(&format!(
                "\"name\": \"{name}\",\n      \"value\": \"{value}\""
            )),
            "{name} = {value} not in:\n{ok}"
        );
    }
    let bad = run(&[
        "eval",
        "--rules",
        "rules/irecist-2017.rano",
        "--set",
        "irecist.confirm_window_days=28",
        "tests/worked/irecist-2017/001-iupd-by-target-growth-icpd-exactly-5mm-further-at-exactly-4-weeks.yaml",
    ]);
    assert!(bad.contains("exit: 2"), "{bad}");
    assert!(bad.contains("so it takes 2 values"), "{bad}");
    assert!(bad.contains("`irecist.confirm_window_max_days`"), "{bad}");
    // a member set through its group and again is refused, not silently the last value
    let twice = run(&[
        "eval",
        "--rules",
        "rules/irecist-2017.rano",
        "--set",
        "irecist.confirm_window_days=28,84",
        "--set",
        "irecist.confirm_window_max_days=90 days",
        "tests/worked/irecist-2017/001-iupd-by-target-growth-icpd-exactly-5mm-further-at-exactly-4-weeks.yaml",
    ]);
    assert!(twice.contains("exit: 2"), "{twice}");
    assert!(twice.contains("is set twice"), "{twice}");
}

/// A criterion without `version` (an amendment does not inherit its base's) checks, with
/// a warning: every result records the version that decided it, and it would be empty.
#[test]
fn a_criterion_without_a_version_is_warned_about() {
    let dir = scratch(
        "no-version",
        &[(
            "nv.rano",
            "criterion \"nv\" extends \"rano-hgg-2010\" {\n  override param pd_increase = 30%\n    cite \"protocol\"\n}\n",
        )],
    );
    let file = dir.join("nv.rano");
    let out = run(&["check", "--include", "rules", file.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(out.contains("exit: 0"), "{out}");
    assert!(out.contains("check::no_version"), "{out}");
    assert!(out.contains("(nv (no version),"), "{out}");
    // the shipped criteria all give one
    let out = run(&["check", "--include", "rules", "rules"]);
    assert!(!out.contains("check::no_version"), "{out}");
}

/// A misspelt field of `x-expect` is named with the field meant.
#[test]
fn a_misspelt_expectation_field_is_named_with_the_one_meant() {
    let case = std::fs::read_to_string(
        repo().join("examples/amendment/cases/001-progression-confirmed-8-weeks-later.yaml"),
    )
    .unwrap()
    .replace("  responses:", "  response:")
    .replace("x-rules: ../trial-xyz-irano.rano\n", "");
    assert!(case.contains("  response:"));
    let dir = scratch("misspelt-expect", &[("001.yaml", &case)]);
    let file = dir.join("001.yaml");
    let out = run(&[
        "test",
        "--include",
        "rules",
        "--rules",
        "examples/amendment/trial-xyz-irano.rano",
        file.to_str().unwrap(),
    ]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(out.contains("exit: 2"), "{out}");
    assert!(out.contains("unknown field `response`"), "{out}");
    assert!(out.contains("did you mean `responses`?"), "{out}");
}

/// A decision expected on a scan of a criterion that decides nothing per scan (RANO-HGG)
/// is a mistake in the expectation (exit 2), not a failure of the criterion (exit 1).
#[test]
fn a_scan_decision_expected_of_a_criterion_without_them_is_bad_input() {
    let dir = scratch(
        "no-decisions",
        &[(
            "hgg.yaml",
            "patient: P1\nsetting: recurrent\ntherapy_start: 2025-01-06\nx-expect:\n  decisions: [null, CONTINUE]\nassessments:\n  - date: 2025-01-01\n    scan: pretreatment\n    lesions:\n      - {id: T1, role: target, component: enhancing, d: [20, 10]}\n  - date: 2025-03-01\n    scan: followup\n    lesions:\n      - {id: T1, d: [20, 10]}\n",
        )],
    );
    let file = dir.join("hgg.yaml");
    let f = file.to_str().unwrap();
    let out = run(&["test", "--rules", "rules/rano-hgg-2010.rano", f]);
    let irano = run(&[
        "test",
        "--include",
        "rules",
        "--rules",
        "rules/irano-2015.rano",
        f,
    ]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(out.contains("exit: 2"), "{out}");
    assert!(out.contains("test::no_scan_decisions"), "{out}");
    // iRANO decides on every scan: the expectation is checked, and holds
    assert!(!irano.contains("test::no_scan_decisions"), "{irano}");
}

/// A message wrapped at the terminal width breaks between words, never inside a date at its
/// hyphens (an independent reader saw `2024-06-` at the end of one line and `28` on the next).
#[test]
fn wrapped_messages_never_split_a_date() {
    // patient ids of every length from 1 to 60, so that the scan's date falls on the wrap
    // column in some message whatever the length of the file's path
    let cohort: String = (1..=60)
        .map(|k| {
            format!(
                "{{\"patient\": \"W{}\", \"setting\": \"recurrent\", \"therapy_start\": \"2024-05-01\", \"assessments\": [{{\"date\": \"2024-04-28\", \"scan\": \"pretreatment\", \"lesions\": [{{\"id\": \"T1\", \"role\": \"target\", \"component\": \"enhancing\", \"d\": [20, 20]}}], \"steroids\": {{\"dose_mg\": 2}}, \"clinical\": \"stable\"}}, {{\"date\": \"2024-06-28\", \"scan\": \"followup\", \"lesions\": [{{\"id\": \"T1\", \"d\": [20, 20]}}], \"steroids\": {{\"dose_mg\": 4, \"changed_on\": \"2024-07-01\"}}, \"clinical\": \"stable\"}}]}}\n",
                "X".repeat(k)
            )
        })
        .collect();
    let args = [
        "--rules",
        "rules/rano-hgg-2010.rano",
        "--format",
        "jsonl",
        "--max-errors",
        "0",
    ];
    let out = eval_text("wrap-date", "w.jsonl", &cohort, &args);
    assert_eq!(
        out.matches("eval::steroid_change_after_scan").count(),
        60,
        "{out}"
    );
    assert!(
        !out.lines()
            .any(|l| l.trim_end().ends_with("2024-06-") || l.trim_end().ends_with("2024-")),
        "{out}"
    );
}

/// Measurements on a scan marked `evaluable: false` contradict it: said, with the lesions
/// named, at the scan's line (an independent reader found them ignored without a word).
#[test]
fn measurements_on_a_scan_not_evaluable_are_warned() {
    let case = "patient: NE-1\nsetting: recurrent\ntherapy_start: 2024-05-01\nassessments:\n  - {date: 2024-04-28, scan: pretreatment, lesions: [{id: T1, role: target, component: enhancing, d: [20, 20]}], steroids: {dose_mg: 0}, clinical: stable}\n  - {date: 2024-06-28, scan: followup, evaluable: false, lesions: [{id: T1, d: [30, 30]}], steroids: {dose_mg: 0}, clinical: stable}\n  - {date: 2024-08-28, scan: followup, evaluable: false, lesions: [{id: T1, status: not_assessed}], steroids: {dose_mg: 0}, clinical: stable}\n";
    let out = eval_text(
        "ne-measured",
        "ne.yaml",
        case,
        &["--rules", "rules/rano-hgg-2010.rano"],
    );
    assert!(out.contains("exit: 0"), "{out}");
    // once: the second scan not evaluable gives no measurement
    assert_eq!(
        out.matches("eval::measured_on_scan_not_evaluable").count(),
        1,
        "{out}"
    );
    let flat = flat(&out);
    assert!(
        flat.contains("ne.yaml:6: patient `NE-1`: the scan of 2024-06-28 is `evaluable: false` (missing or non-diagnostic) and gives measurements (`T1`)"),
        "{out}"
    );
}

/// A scan's expected rule is one of the per-scan rules: a summary rule (`bor.sd`) is bad
/// input with a help that says so, and a misspelt scan rule is never told to be one (a
/// statistician was told `did you mean bor.sd?` for `irano.sd`, then failed on `bor.sd`).
#[test]
fn a_summary_rule_expected_on_a_scan_is_bad_input() {
    let dir = trial_copy("summary-rule");
    let case = dir.join("cases/001-progression-confirmed-8-weeks-later.yaml");
    let text = std::fs::read_to_string(&case).unwrap();
    let old = "rules: [null, irano.upd.initial, irano.pd.confirmed]";
    assert!(text.contains(old));
    std::fs::write(&case, text.replace(old, "rules: [null, irano.sd, bor.sd]")).unwrap();
    let path = dir.to_str().unwrap();
    let out = run_in(&dir, &["test", "--include", "rules", path]);
    std::fs::remove_dir_all(&dir).unwrap();
    let flat = flat(&out);
    assert!(out.contains("exit: 2"), "{out}");
    assert!(
        flat.contains("names `irano.sd`, which is not a rule deciding a scan of `trial-xyz-irano`"),
        "{out}"
    );
    assert!(flat.contains("did you mean `sd`?"), "{out}");
    assert!(
        flat.contains("`bor.sd` decides the summary (best overall response, progression date or final decision), not a scan"),
        "{out}"
    );
    assert!(!flat.contains("did you mean `bor.sd`"), "{out}");
}

/// `test`, `diff`, `explain` and `compare` end their help with examples, and every example
/// runs as written on the bundled files (exit 0, or 1 where something changed or failed),
/// reading nothing that is not there.
#[test]
fn subcommand_examples_run_as_written() {
    for sub in ["test", "diff", "explain", "compare"] {
        let help = run(&[sub, "--help"]);
        assert!(help.contains("Examples:"), "{sub}: {help}");
        let file = repo().join(format!("crates/irano-cli/src/help-examples-{sub}.txt"));
        let text = std::fs::read_to_string(&file).unwrap();
        let examples: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("  irano-eval "))
            .collect();
        assert!(!examples.is_empty(), "{sub}");
        for example in examples {
            assert!(help.contains(example), "{sub} --help lacks {example}");
            // `--accept` would write snapshots into the repository: its run is the one above
            if example.contains("--accept") {
                continue;
            }
            let args: Vec<&str> = example.split_whitespace().collect();
            let out = run(&args);
            assert!(
                out.contains("exit: 0") || out.contains("exit: 1"),
                "{example}:\n{out}"
            );
            assert!(!out.contains('×'), "{example}:\n{out}");
        }
    }
}
