#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `irano-eval diff`, `explain` and `compare` as a user sees them: exit code, standard
//! output and standard error.

use std::path::Path;
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn exec(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_irano-eval"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .expect("irano-eval runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `irano-eval ARGS` from the repository root and renders what it printed.
fn run(args: &[&str]) -> String {
    let r = exec(args);
    format!(
        "$ irano-eval {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        r.code,
        r.stdout,
        r.stderr
    )
}

/// `file.rano:LINE:COL` -> `file.rano:L:C`: explanations name where each rule and
/// definition is written; the snapshots should not change with every line added to a
/// rule file (the tests check positions separately).
fn without_positions(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(".rano:") {
        let (head, tail) = rest.split_at(i + ".rano:".len());
        out.push_str(head);
        let line = tail.len() - tail.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let after = &tail[line..];
        let col = after
            .strip_prefix(':')
            .map(|a| a.len() - a.trim_start_matches(|c: char| c.is_ascii_digit()).len())
            .unwrap_or(0);
        if line > 0 && col > 0 {
            out.push_str("L:C");
            rest = &after[1 + col..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

const HGG: &str = "rules/rano-hgg-2010.rano";
const HGG_CASES: &str = "tests/worked/rano-hgg-2010";
const EXAMPLE: &str = "examples/irano-worked-example.yaml";
const TIMELINE: &str = "tests/worked/rano-hgg-2010/040-same-timeline-three-criteria.yaml";

// ------------------------------------------------------------------------------ diff

/// `diff` of the worked RANO-HGG cases with progression at +20 % instead of +25 %.
const DIFF_PD_20: [&str; 6] = [
    "diff",
    "--rules",
    HGG,
    "--set-new",
    "pd_increase=20%",
    HGG_CASES,
];

#[test]
fn diff_of_a_parameter_change_lists_the_changed_patients() {
    let args = DIFF_PD_20;
    let r = exec(&args);
    assert_eq!(r.code, 1, "something changed: exit 1\n{}", r.stderr);
    // the warning that five worked cases carry an x-set, which diff does not apply, and
    // the two that `eval` gives on these cases (targets marked that the criterion would
    // not choose), once each although both sides evaluate them
    assert!(
        r.stderr.contains("eval::x_set_ignored") && r.stderr.contains("(and in 4 other cases)"),
        "{}",
        r.stderr
    );
    assert_eq!(
        r.stderr
            .matches("eval::marked_target_not_candidate")
            .count(),
        2,
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.matches("::").count(), 3, "{}", r.stderr);
    assert!(r.stdout.contains("pd_increase = 20% (default 25%)"));
    insta::assert_snapshot!(run(&args));
}

#[test]
fn diff_is_the_same_whatever_the_number_of_threads() {
    let base = DIFF_PD_20;
    let one = exec(&[&base[..], &["-j", "1"]].concat());
    assert_eq!(one.code, 1, "{}", one.stderr);
    for jobs in ["2", "3", "64"] {
        let many = exec(&[&base[..], &["-j", jobs]].concat());
        assert_eq!(many.code, 1, "-j {jobs}: {}", many.stderr);
        assert_eq!(many.stdout, one.stdout, "-j {jobs}");
        assert_eq!(many.stderr, one.stderr, "-j {jobs}");
    }
}

/// An amendment that keeps every label but gives some scans another deciding rule: `diff`
/// says there is no difference and how many scans changed their reason; `--rule-changes`
/// lists them (exit 1), in the JSON too.
#[test]
fn diff_rule_changes_lists_a_change_of_reason_with_the_same_label() {
    let base = [
        "diff",
        "--rules",
        HGG,
        "--rules",
        "tests/cli/amendment-sd-reason.rano",
        "--include",
        "rules",
        HGG_CASES,
    ];
    let quiet = exec(&base);
    assert_eq!(quiet.code, 0, "no label changed: exit 0\n{}", quiet.stderr);
    assert!(quiet.stdout.contains("no differences\n(19 scans keep their response under another deciding rule; `--rule-changes` lists them)"), "{}", quiet.stdout);

    let mut args = base.to_vec();
    args.push("--rule-changes");
    let r = exec(&args);
    assert_eq!(
        r.code, 1,
        "a change of reason is a change: exit 1\n{}",
        r.stderr
    );
    assert!(r
        .stdout
        .contains("of which 19 keep their value and were decided by another rule"));
    assert!(!r.stdout.contains("`--rule-changes` lists them"));
    let rows: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.contains("sd.on_replacement_steroids"))
        .collect();
    assert_eq!(rows.len(), 19, "{}", r.stdout);
    assert!(
        rows.iter()
            .all(|l| l.split_whitespace().collect::<Vec<_>>()[2..6]
                == ["response", "SD", "SD", "sd"]),
        "{rows:#?}"
    );

    args.extend(["--format", "json"]);
    let j = exec(&args);
    let v: serde_json::Value = serde_json::from_str(&j.stdout).expect("JSON");
    assert_eq!(v["summary"]["rule_only_changes"], 19);
    assert_eq!(v["changes"].as_array().map(Vec::len), Some(19));
    assert!(v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["old"] == c["new"] && c["old_rule"] == "sd"));
}

#[test]
fn diff_json_has_the_documented_shape() {
    let r = exec(&[
        "diff",
        "--rules",
        HGG,
        "--set-new",
        "pd_increase=20%",
        "--format",
        "json",
        HGG_CASES,
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    let patients = v["patients"].as_u64().unwrap();
    let changed = v["changed"].as_u64().unwrap();
    let changes = v["changes"].as_array().unwrap();
    let cases = std::fs::read_dir(repo().join(HGG_CASES)).unwrap().count() as u64;
    assert_eq!(patients, cases, "every case compared");
    assert!(changed > 0 && changed < patients);
    // a response change carries the values the rules compared, on both sides
    let first = changes
        .iter()
        .find(|c| c["field"] == "response")
        .expect("a response change");
    assert_eq!(first["old_values"]["change_vs_nadir_pct"], 24.98, "{first}");
    assert!(first["new_values"]["burden"].is_number(), "{first}");
    assert!(changes
        .iter()
        .filter(|c| c["field"] != "response")
        .all(|c| c.get("old_values").is_none()));
    let mut who: Vec<&str> = Vec::new();
    for c in changes {
        let o = c.as_object().unwrap();
        for k in ["patient", "field", "old", "new", "old_rule", "new_rule"] {
            assert!(o.contains_key(k), "`{k}` in {c}");
        }
        assert_ne!(c["old"], c["new"], "only differences are listed: {c}");
        let field = c["field"].as_str().unwrap();
        assert!(
            [
                "response",
                "decision",
                "best_overall_response",
                "pd_date",
                "pd_confirmed_on",
                "final_decision",
                "targets"
            ]
            .contains(&field),
            "{field}"
        );
        // per-scan fields carry their scan's date
        assert_eq!(
            o.contains_key("date"),
            field == "response" || field == "decision",
            "{c}"
        );
        let p = c["patient"].as_str().unwrap();
        if !who.contains(&p) {
            who.push(p);
        }
    }
    assert_eq!(
        who.len() as u64,
        changed,
        "`changed` counts the patients listed"
    );
    // a lower threshold only moves progression earlier
    let s = &v["summary"];
    assert!(s["pd_date"]["shifted"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["days"].as_i64().unwrap() < 0));
    let moved: u64 = s["best_overall_response"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["patients"].as_u64().unwrap())
        .sum();
    assert_eq!(
        moved, patients,
        "the transition matrix covers every patient"
    );
}

#[test]
fn diff_of_identical_criteria_changes_nothing() {
    let args = ["diff", "--rules", HGG, "--rules", HGG, HGG_CASES];
    let r = exec(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!(run(&args));
}

#[test]
fn diff_with_a_bad_rule_file_is_exit_2_with_its_diagnostics() {
    let args = [
        "diff",
        "--include",
        "rules",
        "--rules",
        HGG,
        "--rules",
        "tests/cli/amendment-typo.rano",
        HGG_CASES,
    ];
    let r = exec(&args);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty(), "no report on bad input");
    insta::assert_snapshot!(run(&args));
}

#[test]
fn diff_with_a_bad_override_or_three_rule_files_is_exit_2() {
    let r = exec(&[
        "diff",
        "--rules",
        HGG,
        "--set-new",
        "no_such_parameter=1",
        HGG_CASES,
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("no_such_parameter"), "{}", r.stderr);
    let r = exec(&[
        "diff", "--rules", HGG, "--rules", HGG, "--rules", HGG, HGG_CASES,
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cli::diff_rules"), "{}", r.stderr);
    // one rule file and nothing set on either side: nothing to compare, said so
    let r = exec(&["diff", "--rules", HGG, "--set", "max_targets=3", HGG_CASES]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("nothing to compare"), "{}", r.stderr);
    // standard input is for `eval`: the message says what to do
    let r = exec(&["diff", "--rules", HGG, "--set-new", "max_targets=3", "-"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("save the cases to a file"),
        "{}",
        r.stderr
    );
}

// --------------------------------------------------------------------------- explain

#[test]
fn explain_one_scan_shows_every_rule_tried_untruncated() {
    let args = [
        "explain",
        "--rules",
        "rules/irano-2015.rano",
        EXAMPLE,
        "--date",
        "2024-06-10",
    ];
    let r = exec(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = &r.stdout;
    // rules that did not fire, with why; the rule that fired; rules after it
    assert!(out.contains("rule ne.not_evaluable: not fired"));
    assert!(out.contains("rule irano.pd.confirmed: FIRED"));
    assert!(out.contains("not reached (an earlier rule fired)"));
    // untruncated: the definitions below the trace's depth are derived too, down to the
    // case's own measurements
    assert!(out.contains("nadir_scan = scan of 2024-03-04"));
    assert!(out.contains("lesion.d1 = 25 mm"));
    assert!(!out.contains("..."));
    // every rule and definition says where it is written
    assert!(out.contains("rule irano.pd.confirmed: FIRED  (rules/irano-2015-core.rano:"));
    insta::assert_snapshot!(without_positions(&run(&args)));
}

#[test]
fn explain_json_records_conditions_values_and_definitions() {
    let r = exec(&[
        "explain",
        "--rules",
        "rules/irano-2015.rano",
        EXAMPLE,
        "--date",
        "2024-06-10",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert_eq!(v["patient"], "EXAMPLE-IRANO-1");
    assert_eq!(v["criterion"]["id"], "irano-2015");
    let scans = v["scans"].as_array().unwrap();
    assert_eq!(scans.len(), 1);
    let scan = &scans[0];
    assert_eq!(scan["assessment"]["date"], "2024-06-10");
    assert_eq!(scan["assessment"]["response"], "PD");
    let tables = scan["tables"].as_array().unwrap();
    let response = tables.iter().find(|t| t["table"] == "response").unwrap();
    assert_eq!(response["fired"], "irano.pd.confirmed");
    let rules = response["rules"].as_array().unwrap();
    let mut seen_fired = false;
    for rule in rules {
        let outcome = rule["outcome"].as_str().unwrap();
        assert!(rule["cite"].as_str().is_some_and(|c| !c.is_empty()));
        match outcome {
            "not_fired" => {
                assert!(!seen_fired);
                assert_eq!(rule["condition"]["value"], "false", "{rule}");
            }
            "fired" => {
                seen_fired = true;
                assert!(rule["explain"].as_str().is_some());
                assert!(!rule["set"].as_array().unwrap().is_empty());
            }
            "not_reached" => {
                assert!(seen_fired);
                assert!(rule.get("condition").is_none());
            }
            x => panic!("outcome {x}"),
        }
    }
    // every definition a condition read is derived once, with its value and citation
    let defs = response["definitions"].as_array().unwrap();
    assert!(!defs.is_empty());
    for d in defs {
        assert_eq!(d["value"], d["derivation"]["value"], "{d}");
        assert!(d["cite"].as_str().is_some());
        assert!(d["location"].as_str().unwrap().contains(".rano:"));
    }
    assert!(defs.iter().any(|d| d["name"] == "nadir_scan"));
    assert!(v.get("summary").is_none(), "one scan: no summary");
}

#[test]
fn explain_every_scan_ends_with_the_summary() {
    let r = exec(&["explain", "--rules", "rules/irano-2015.rano", EXAMPLE]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.matches("\nscan ").count(), 4);
    assert!(r.stdout.contains("\nsummary\n"));
    assert!(r
        .stdout
        .contains("table best_overall_response: bor.pd fired"));
    assert!(r
        .stdout
        .contains("progression date: 2024-03-04  ·  confirmed on: 2024-06-10"));
}

#[test]
fn explain_a_date_without_a_scan_is_exit_2() {
    insta::assert_snapshot!(run(&[
        "explain",
        "--rules",
        "rules/irano-2015.rano",
        EXAMPLE,
        "--date",
        "2024-06-11",
    ]));
}

// --------------------------------------------------------------------------- compare

#[test]
fn compare_one_timeline_under_three_criteria() {
    let args = [
        "compare",
        "--rules",
        "rules/rano-hgg-2010.rano",
        "--rules",
        "rules/irano-2015.rano",
        "--rules",
        "rules/irrc-2009.rano",
        TIMELINE,
    ];
    let r = exec(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!(run(&args));
}

#[test]
fn compare_json_has_a_result_per_scan_and_criterion() {
    let r = exec(&[
        "compare",
        "--rules",
        "rules/rano-hgg-2010.rano",
        "--rules",
        "rules/irano-2015.rano",
        "--rules",
        "rules/irrc-2009.rano",
        "--format",
        "json",
        TIMELINE,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    let criteria: Vec<&str> = v["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(criteria, ["rano-hgg-2010", "irano-2015", "irrc-2009"]);
    let p = &v["patients"][0];
    assert_eq!(p["patient"], "GBM-040");
    for s in p["scans"].as_array().unwrap() {
        assert_eq!(s["results"].as_array().unwrap().len(), 3);
    }
    // the outcomes each 040 case's x-expect states
    let bor: Vec<&str> = p["summary"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["best_overall_response"].as_str().unwrap())
        .collect();
    assert_eq!(bor, ["PD", "SD", "PR"]);
    assert_eq!(p["scans"][1]["results"][0]["response"], "PD");
    assert_eq!(p["scans"][1]["results"][0]["rule"], "pd.new_lesion");
}

/// A change of the target lesions chosen at baseline is a change of its own (the burden
/// itself changes), listed by lesion id.
#[test]
fn diff_lists_a_change_of_targets() {
    let r = exec(&[
        "diff",
        "--rules",
        "rules/recist-1.1.rano",
        "--set-new",
        "max_targets=2",
        "tests/worked/recist-1.1",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let row = r
        .stdout
        .lines()
        .find(|l| l.starts_with("RECIST-016"))
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert_eq!(
        row.split_whitespace().collect::<Vec<_>>(),
        [
            "RECIST-016",
            "-",
            "targets",
            "L1,",
            "L2,",
            "P1,",
            "P2,",
            "N1",
            "L1,",
            "L2",
            "-",
            "-"
        ]
    );
    assert!(
        r.stdout.contains("final_decision 0, targets 3"),
        "{}",
        r.stdout
    );
}

/// `diff` and `compare` JSON carry canonical labels, as the result contract's `response`
/// does, with a criterion's own names beside them: RECIST 1.1's SD and iRECIST's iSD are the
/// same best overall response, and a pooled reader sees `UPD`, not `iUPD`.
#[test]
fn diff_and_compare_json_labels_are_canonical_with_native_names_beside() {
    let case = "tests/worked/irecist-2017/001-iupd-by-target-growth-icpd-exactly-5mm-further-at-exactly-4-weeks.yaml";
    let args = |cmd: &'static str| {
        vec![
            cmd,
            "--format",
            "json",
            "--rules",
            "rules/recist-1.1.rano",
            "--rules",
            "rules/irecist-2017.rano",
            case,
        ]
    };
    let d = exec(&args("diff"));
    assert_eq!(d.code, 1, "{}", d.stderr);
    let v: serde_json::Value = serde_json::from_str(&d.stdout).unwrap();
    let bor = &v["summary"]["best_overall_response"];
    assert_eq!(
        bor[0]["old"], bor[0]["new"],
        "SD and iSD are one label: {bor}"
    );
    assert_eq!(v["summary"]["changes_by_field"]["best_overall_response"], 0);
    let upd = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == "response" && c["new_native"] == "iUPD")
        .unwrap_or_else(|| panic!("a response change to iUPD: {}", d.stdout));
    assert_eq!(upd["new"], "UPD");
    assert_eq!(upd["old"], "PD");
    assert!(
        upd.get("old_native").is_none(),
        "RECIST 1.1 has no native names"
    );

    let c = exec(&args("compare"));
    assert_eq!(c.code, 0, "{}", c.stderr);
    let v: serde_json::Value = serde_json::from_str(&c.stdout).unwrap();
    let p = &v["patients"][0];
    let irecist = &p["summary"][1];
    assert_eq!(
        irecist["best_overall_response"],
        p["summary"][0]["best_overall_response"]
    );
    assert_eq!(irecist["best_overall_response_native"], "iSD");
    let cells: Vec<&serde_json::Value> = p["scans"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["results"].get(1))
        .collect();
    assert!(cells
        .iter()
        .any(|x| x["response"] == "UPD" && x["response_native"] == "iUPD"));
    assert!(cells
        .iter()
        .all(|x| x["response"].as_str().is_none_or(|r| !r.starts_with('i'))));
}

/// `diff --set KEY=VALUE` applies to both files: a key only one of them declares is named
/// with its side and the flag that sets it there (the checker alone said "there is no
/// parameter" of a key the new file has).
#[test]
fn diff_set_of_a_key_one_side_lacks_names_the_side_and_the_flag() {
    let r = exec(&[
        "diff",
        "--rules",
        "rules/recist-1.1.rano",
        "--rules",
        "rules/irecist-2017.rano",
        "--set",
        "irecist.confirm_window_max_days=70 days",
        "tests/worked/irecist-2017/001-iupd-by-target-growth-icpd-exactly-5mm-further-at-exactly-4-weeks.yaml",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.contains("is a parameter of the new one only"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("--set-new irecist.confirm_window_max_days=70"),
        "{}",
        r.stderr
    );
}

/// `explain` under an amendment names the parameters it changed, with their value and the
/// line that set them (an explanation shows only the value under the parameter's name), and
/// what it adds.
#[test]
fn explain_names_the_parameters_an_amendment_changed() {
    let r = exec(&[
        "explain",
        "--include",
        "rules",
        "--rules",
        "examples/amendment/trial-xyz-irano.rano",
        "examples/amendment/cases/001-progression-confirmed-8-weeks-later.yaml",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(
            "parameter irano.confirm_days = 56 days (overridden at examples/amendment/trial-xyz-irano.rano:13)"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("parameter irano.confirm_interval = fixed_days (overridden at "),
        "{}",
        r.stdout
    );
    // and what it adds: its own parameter, with its value, and its rules
    assert!(
        r.stdout.contains(
            "parameter xyz.max_evaluable_dex_mg = 4 mg/day (added at examples/amendment/trial-xyz-irano.rano:"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("rule xyz.ne.dexamethasone (added at "),
        "{}",
        r.stdout
    );
    // a shipped criterion's own file adds nothing worth listing here
    let r = exec(&[
        "explain",
        "--include",
        "rules",
        "--rules",
        "rules/irano-2015.rano",
        "examples/amendment/cases/001-progression-confirmed-8-weeks-later.yaml",
    ]);
    assert!(!r.stdout.contains("(added at "), "{}", r.stdout);
}

/// A case with many new lesions, each compared with every other (irRC's per-organ caps),
/// explains in bounded size: a def or lesion let derived before on the same values is not
/// derived again, and a set shows its first 20 elements in full (a robustness run had
/// irRC's explain of 200 new lesions use 9.8 GB and abort).
#[test]
fn explain_of_many_new_lesions_stays_small() {
    let lesions = |n: usize, grow: f64| {
        (0..n)
            .map(|k| {
                format!(
                    "{{\"id\": \"N{k}\", \"d\": [{}, 5], \"component\": \"enhancing\", \"organ\": \"brain\"}}",
                    5.0 + grow + k as f64 / 100.0
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let case = format!(
        "{{\"patient\": \"MANY\", \"setting\": \"recurrent\", \"therapy_start\": \"2025-03-03\", \"assessments\": [\
         {{\"date\": \"2025-02-24\", \"scan\": \"pretreatment\", \"lesions\": [{{\"id\": \"T1\", \"role\": \"target\", \"organ\": \"brain\", \"d\": [20, 15]}}]}},\
         {{\"date\": \"2025-04-28\", \"scan\": \"followup\", \"lesions\": [{{\"id\": \"T1\", \"d\": [20, 15]}}], \"new_lesions\": [{}]}},\
         {{\"date\": \"2025-07-28\", \"scan\": \"followup\", \"lesions\": [{{\"id\": \"T1\", \"d\": [20, 15]}}], \"new_lesions\": [{}]}}]}}",
        lesions(30, 0.0),
        lesions(30, 1.0)
    );
    let dir = std::env::temp_dir().join(format!("irano-many-new-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("many.json");
    std::fs::write(&file, case).unwrap();
    let r = exec(&[
        "explain",
        "--rules",
        "rules/irrc-2009.rano",
        file.to_str().unwrap(),
    ]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.len() < 10_000_000,
        "explain wrote {} bytes",
        r.stdout.len()
    );
    assert!(
        r.stdout.contains("more element(s) not shown"),
        "{}",
        &r.stdout[..2000]
    );
    assert!(r.stdout.contains("derived above on the same values"));
}
