#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The SDTM door on the pharmaverse RECIST 1.1 fixtures (tests/sdtm/PROVENANCE.md):
//! import diagnostics, reconcile against the recorded responses, export against adrs_onco.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fx(name: &str) -> String {
    repo()
        .join("tests/sdtm/recist")
        .join(name)
        .display()
        .to_string()
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_irano-eval"))
        .current_dir(repo())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn inputs() -> Vec<String> {
    vec![
        "--tu".into(),
        fx("tu_onco_recist.csv"),
        "--tr".into(),
        fx("tr_onco_recist.csv"),
        "--dm".into(),
        fx("dm.csv"),
    ]
}

/// `irano-eval COMMAND --rules RULES` on the RECIST fixtures (TU, TR, DM), then `extra`.
fn on_fixtures(command: &[&str], rules: &str, extra: &[String]) -> (i32, String, String) {
    let mut a: Vec<String> = command.iter().map(|s| (*s).to_string()).collect();
    a.extend(["--rules".into(), rules.into()]);
    a.extend(inputs());
    a.extend_from_slice(extra);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    run(&a)
}

/// An output path in the temporary folder, removed when the test ends (passed or not).
struct Tmp(PathBuf);

impl std::ops::Deref for Tmp {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Tmp {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn tmp(name: &str) -> Tmp {
    let d = std::env::temp_dir().join(format!("irano-sdtm-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&d);
    Tmp(d)
}

#[test]
fn strict_import_reports_every_problem_by_row_and_writes_nothing() {
    let out = tmp("strict.jsonl");
    let mut args = vec!["--error-format", "json", "import", "sdtm"];
    let inp = inputs();
    args.extend(inp.iter().map(String::as_str));
    let o = out.display().to_string();
    args.extend(["--output", &o]);
    let (code, _, err) = run(&args);
    assert_eq!(code, 2);
    assert!(!out.exists(), "nothing is written on error");
    let diags: Vec<serde_json::Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let count = |code: &str, sev: &str| {
        diags
            .iter()
            .filter(|d| d["code"] == code && d["severity"] == sev)
            .count()
    };
    // 01-701-1015 week 6 is dated `2014-02` for each of the three evaluators
    assert_eq!(count("sdtm::partial_date", "error"), 3);
    // T02/T03 of 01-701-1015 at week 6, T01 of 01-701-1028 at week 6, T02 of
    // 01-701-1118 at week 9: each for three evaluators
    assert_eq!(count("sdtm::lesion_missing", "error"), 12);
    // 01-701-1034's non-target records are repeated with identical values
    assert!(count("sdtm::duplicate", "warning") > 0);
    let partial = diags
        .iter()
        .find(|d| d["code"] == "sdtm::partial_date")
        .unwrap();
    let msg = partial["message"].as_str().unwrap();
    assert!(msg.contains("TRSEQ 49 (line 50), column TRDTC"), "{msg}");
}

#[test]
fn lenient_import_writes_one_case_per_subject_and_evaluator() {
    let out = tmp("lenient.jsonl");
    let mut args = vec!["import", "sdtm", "--lenient"];
    let inp = inputs();
    args.extend(inp.iter().map(String::as_str));
    let o = out.display().to_string();
    args.extend(["--output", &o]);
    let (code, _, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    let cases: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(cases.len(), 24);
    let c = &cases[0];
    assert_eq!(c["patient"], "01-701-1015/INVESTIGATOR");
    assert_eq!(c["therapy_start"], "2014-01-02");
    // the partial-date scan: dated at the end of the month, not evaluable
    let a = &c["assessments"][2];
    assert_eq!(a["date"], "2014-02-28");
    assert_eq!(a["evaluable"], false);
    // a lymph node keeps both diameters exactly, with its organ
    assert!(text.contains(r#"{"id": "T02", "role": "target", "organ": "node", "d": [33.28, 32]}"#));
    let _ = std::fs::remove_file(&out);
    // `--output -` is standard output, byte for byte the file (it wrote a file named `-`)
    let mut args = vec!["import", "sdtm", "--lenient"];
    args.extend(inp.iter().map(String::as_str));
    args.extend(["--output", "-"]);
    let (code, stdout, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(stdout, text);
    assert!(err.contains("into standard output"), "{err}");
    assert!(!repo().join("-").exists());
}

#[test]
fn reconcile_on_the_recist_subjects() {
    let mut args = vec![
        "reconcile",
        "--rules",
        "rules/recist-1.1.rano",
        "--lenient",
        "--format",
        "json",
    ];
    let inp = inputs();
    args.extend(inp.iter().map(String::as_str));
    let rs = fx("rs_onco_recist.csv");
    args.extend(["--rs", &rs]);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["visits"], 66);
    assert_eq!(r["agree"], 63);
    let d = r["disagreements"].as_array().unwrap();
    let summary: Vec<String> = d
        .iter()
        .map(|x| {
            format!(
                "{} {} {} {} {} {}",
                x["usubjid"].as_str().unwrap(),
                x["evaluator"].as_str().unwrap(),
                x["visit"].as_str().unwrap(),
                x["recorded"].as_str().unwrap(),
                x["derived"].as_str().unwrap_or("-"),
                x["class"].as_str().unwrap()
            )
        })
        .collect();
    // Scans after a derived progression are not graded by the criterion (recorded SD
    // after PD), and RADIOLOGIST 2 records PR where a target reappears after an overall
    // CR, which RECIST 1.1 makes PD (docs/sdtm.md, "The RECIST subjects").
    assert_eq!(
        summary,
        [
            "01-701-1028 RADIOLOGIST 2 WEEK 9 SD - not_graded",
            "01-701-1028 INVESTIGATOR WEEK 9 SD - not_graded",
            "01-701-1133 RADIOLOGIST 2 WEEK 9 PR PD differs",
        ]
    );
    assert_eq!(d[2]["rule"], "pd.reappearance");
    assert!(d[2]["explain"]
        .as_str()
        .unwrap()
        .contains("last_response = CR"));
}

/// The two documented readings the recorded responses follow (docs/sdtm.md): grading the
/// visits after progression and measuring a lesion that reappears after CR. Each alone
/// resolves its own class; together all 66 agree.
#[test]
fn reconcile_with_the_readers_readings_agrees_on_all_66() {
    let reconcile = |sets: &[&str]| -> serde_json::Value {
        let mut args = vec![
            "reconcile",
            "--rules",
            "rules/recist-1.1.rano",
            "--lenient",
            "--format",
            "json",
        ];
        for s in sets {
            args.extend(["--set", s]);
        }
        let inp = inputs();
        args.extend(inp.iter().map(String::as_str));
        let rs = fx("rs_onco_recist.csv");
        args.extend(["--rs", &rs]);
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str(&out).unwrap()
    };
    let after = "recist.grade_after_progression=true";
    let measured = "recist.reappearance_after_cr=measured";
    let r = reconcile(&[after]);
    assert_eq!(r["agree"], 65);
    let d = &r["disagreements"][0];
    assert_eq!(
        (
            d["usubjid"].as_str(),
            d["evaluator"].as_str(),
            d["class"].as_str()
        ),
        (Some("01-701-1133"), Some("RADIOLOGIST 2"), Some("differs"))
    );
    let r = reconcile(&[measured]);
    assert_eq!(r["agree"], 64);
    assert!(r["disagreements"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["usubjid"] == "01-701-1028" && d["class"] == "not_graded"));
    let r = reconcile(&[after, measured]);
    assert_eq!(
        (r["visits"].as_u64(), r["agree"].as_u64()),
        (Some(66), Some(66))
    );
    assert_eq!(r["disagreements"].as_array().unwrap().len(), 0);
}

#[test]
fn export_matches_adrs_onco_bor_and_confirmed_bor() {
    export_matches_adrs_onco(&[]);
}

/// Grading after progression adds responses but moves no progression date, BOR or CBOR.
#[test]
fn export_grading_after_progression_still_matches_adrs_onco() {
    export_matches_adrs_onco(&["--set", "recist.grade_after_progression=true"]);
}

fn export_matches_adrs_onco(extra: &[&str]) {
    let rs_out = tmp(&format!("rs{}.csv", extra.len()));
    let adam_out = tmp(&format!("adrs{}.csv", extra.len()));
    let (r, a) = (rs_out.display().to_string(), adam_out.display().to_string());
    let mut args = vec![
        "export",
        "sdtm",
        "--rules",
        "rules/recist-1.1.rano",
        "--unconfirmed",
        "recist.confirm_response=false",
        "--lenient",
        "--evaluator",
        "INVESTIGATOR",
    ];
    args.extend(extra);
    let inp = inputs();
    args.extend(inp.iter().map(String::as_str));
    args.extend(["--rs-output", &r, "--adam-output", &a]);
    let (code, _, err) = run(&args);
    assert_eq!(code, 0, "{err}");

    let read = |p: &Path| -> Vec<std::collections::HashMap<String, String>> {
        let text = std::fs::read_to_string(p).unwrap();
        let mut lines = text.lines();
        let header: Vec<String> = lines
            .next()
            .unwrap()
            .split(',')
            .map(str::to_string)
            .collect();
        lines
            .map(|l| {
                header
                    .iter()
                    .cloned()
                    .zip(l.split(',').map(str::to_string))
                    .collect()
            })
            .collect()
    };
    let adrs = read(&repo().join("tests/sdtm/recist/adrs_onco.csv"));
    let ours = read(&adam_out);
    assert_eq!(adrs.len(), 16);
    for want in &adrs {
        let got = ours
            .iter()
            .find(|o| o["USUBJID"] == want["USUBJID"] && o["PARAMCD"] == want["PARAMCD"])
            .unwrap_or_else(|| panic!("no {} {}", want["USUBJID"], want["PARAMCD"]));
        assert_eq!(
            got["AVALC"], want["AVALC"],
            "{} {}",
            want["USUBJID"], want["PARAMCD"]
        );
    }
    // a date read from a partial TRDTC (`2014-02`, the last day of the month) is flagged
    let partial: Vec<_> = ours.iter().filter(|o| o["ADTF"] == "D").collect();
    assert!(
        partial
            .iter()
            .any(|o| o["USUBJID"] == "01-701-1015" && o["ADT"] == "2014-02-28"),
        "{partial:?}"
    );
    assert!(
        partial.iter().all(|o| o["ADT"].ends_with("-28")
            || o["ADT"].ends_with("-31")
            || o["ADT"].ends_with("-30")
            || o["ADT"].ends_with("-29")),
        "{partial:?}"
    );
    // every row names the rule file that derived it
    assert!(
        ours.iter()
            .all(|o| o["PARCAT2"] == "recist-1.1" && !o["PARCAT3"].is_empty()),
        "{ours:?}"
    );
    let rs = read(&rs_out);
    assert!(rs.iter().all(|r| r["RSCAT"] == "RECIST 1.1"
        && r["RSEVAL"] == "COMPUTER ALGORITHM"
        && r["RSTESTCD"] == "OVRLRESP"));
    let week6 = rs
        .iter()
        .find(|r| r["USUBJID"] == "01-701-1015" && r["VISITNUM"] == "3")
        .unwrap();
    assert_eq!(week6["VISIT"], "WEEK 6");
    assert_eq!(
        week6["RSDTC"], "2014-02",
        "the recorded (partial) date is carried"
    );
    assert_eq!(week6["RSSTRESC"], "NE");
    let _ = std::fs::remove_file(&rs_out);
    let _ = std::fs::remove_file(&adam_out);
}

fn irano_fx(name: &str) -> String {
    repo()
        .join("tests/sdtm/irano")
        .join(name)
        .display()
        .to_string()
}

/// The iRANO glioma fixture (tests/sdtm/irano/README.md): the imported case is evaluated
/// exactly as the hand-written case of the same timeline, steroid doses from CM included,
/// and reconcile agrees with the recorded iRANO responses.
#[test]
fn irano_fixture_imports_to_its_hand_written_case() {
    let (tu, tr, dm, cm, map, rs) = (
        irano_fx("tu.csv"),
        irano_fx("tr.csv"),
        irano_fx("dm.csv"),
        irano_fx("cm.csv"),
        irano_fx("map.yaml"),
        irano_fx("rs.csv"),
    );
    let inputs = [
        "--tu", &tu, "--tr", &tr, "--dm", &dm, "--cm", &cm, "--map", &map,
    ];
    let out = tmp("irano.jsonl");
    let o = out.display().to_string();
    let mut args = vec!["import", "sdtm", "--evaluator", "INVESTIGATOR"];
    args.extend(inputs);
    args.extend(["--output", &o]);
    let (code, _, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let imported: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&out).unwrap().trim()).unwrap();
    let doses: Vec<(String, String)> = imported["assessments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["steroids"]["dose_mg"].to_string(),
                a["steroids"]["changed_on"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        ("4", "2024-12-01"),
        ("6", "2025-02-24"),
        ("4", "2025-03-24"),
        ("4", "2025-03-24"),
        ("8", "2025-07-07"),
    ];
    assert_eq!(
        doses,
        want.map(|(d, c)| (d.to_string(), c.to_string())).to_vec(),
        "dexamethasone mg/day at each scan from CM (2 mg BID = 4; ondansetron ignored)"
    );

    let eval = |case: &str| -> serde_json::Value {
        let (code, out, err) = run(&[
            "eval",
            "--rules",
            "rules/irano-2015.rano",
            "--format",
            "json",
            case,
        ]);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str(&out).unwrap()
    };
    let from_sdtm = eval(&o);
    let by_hand = eval(&irano_fx("case.yaml"));
    assert_eq!(from_sdtm, by_hand);
    let responses: Vec<&str> = by_hand["assessments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["response"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(responses, ["-", "UPD", "UPD", "SD", "NE"]);
    assert_eq!(by_hand["best_overall_response"], "SD");

    let mut args = vec![
        "reconcile",
        "--rules",
        "rules/irano-2015.rano",
        "--format",
        "json",
        "--rs",
        &rs,
    ];
    args.extend(inputs);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (r["visits"].as_u64(), r["agree"].as_u64()),
        (Some(4), Some(4))
    );
    let _ = std::fs::remove_file(&out);
}

/// Export writes its outputs all or none: when one cannot be written, the other keeps its
/// old content (exit 1); two outputs naming one file, or an output naming an input, are
/// refused before anything is written (exit 2).
#[test]
fn export_writes_all_outputs_or_none_and_never_over_an_input() {
    let rs = tmp("all-or-none-rs.csv");
    std::fs::write(&rs, "old\n").unwrap();
    let missing =
        std::env::temp_dir().join(format!("irano-no-such-dir-{}/a.csv", std::process::id()));
    let mut args = vec![
        "export".to_string(),
        "sdtm".into(),
        "--rules".into(),
        "rules/recist-1.1.rano".into(),
    ];
    args.extend(inputs());
    args.push("--lenient".into());
    let with = |extra: &[String]| {
        let mut a = args.clone();
        a.extend_from_slice(extra);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        run(&a)
    };
    let rs_path = rs.display().to_string();
    let (code, _, err) = with(&[
        "--rs-output".into(),
        rs_path.clone(),
        "--adam-output".into(),
        missing.display().to_string(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(std::fs::read_to_string(&rs).unwrap(), "old\n");
    let (code, _, err) = with(&[
        "--rs-output".into(),
        rs_path.clone(),
        "--adam-output".into(),
        rs_path.clone(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("two outputs are the same file"), "{err}");
    assert_eq!(std::fs::read_to_string(&rs).unwrap(), "old\n");
    // one new file spelt two ways (neither exists yet) is one file too
    let fresh = tmp("all-or-none-new.csv");
    let _ = std::fs::remove_file(&fresh);
    let dir = fresh.parent().unwrap().display().to_string();
    let name = fresh.file_name().unwrap().to_str().unwrap().to_string();
    let (code, _, err) = with(&[
        "--rs-output".into(),
        fresh.display().to_string(),
        "--adam-output".into(),
        format!("{dir}/./{name}"),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("two outputs are the same file"), "{err}");
    assert!(!fresh.exists());
    let (code, _, err) = with(&["--rs-output".into(), fx("dm.csv")]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is the input"), "{err}");
}

/// An RS holding the responses of two criteria (RSCAT `RECIST 1.1` and `iRECIST`):
/// reconcile compares only the rule file's category and says how many it left out.
#[test]
fn reconcile_compares_only_the_criterion_s_category() {
    let (code, out, err) = on_fixtures(
        &["reconcile"],
        "rules/recist-1.1.rano",
        &[
            "--rs".into(),
            fx("rs_two_categories.csv"),
            "--lenient".into(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("18 of 18 recorded responses agree"), "{out}");
    assert!(
        err.contains("18 RS response(s) of other categories (RSCAT) left out"),
        "{err}"
    );
}

/// RSDY counts from DM's RFSTDTC (the SDTM reference start), which may precede the first
/// exposure (RFXSTDTC, the case's therapy start): 14 days earlier, every RSDY is 14 more.
#[test]
fn export_study_days_count_from_rfstdtc() {
    let dm = std::fs::read_to_string(fx("dm.csv")).unwrap();
    let shifted = dm.replace(
        "01-701-1015,1015,2014-01-02,2014-01-02",
        "01-701-1015,1015,2013-12-19,2014-01-02",
    );
    assert_ne!(dm, shifted, "the fixture's DM record of 01-701-1015");
    let dm2 = tmp("rfstdtc-dm.csv");
    std::fs::write(&dm2, shifted).unwrap();
    let export_with = |tr: &str, dm: &str, out: &Tmp| {
        let a = [
            "export",
            "sdtm",
            "--rules",
            "rules/recist-1.1.rano",
            "--tu",
            &fx("tu_onco_recist.csv"),
            "--tr",
            tr,
            "--dm",
            dm,
            "--lenient",
            "--rs-output",
            &out.display().to_string(),
        ]
        .map(str::to_string);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let (code, _, err) = run(&a);
        assert_eq!(code, 0, "{err}");
        std::fs::read_to_string(out).unwrap()
    };
    let export = |dm: &str, out: &Tmp| export_with(&fx("tr_onco_recist.csv"), dm, out);
    let days = |text: &str| -> Vec<i64> {
        text.lines()
            .filter(|l| l.contains(",01-701-1015,") && l.contains("INVESTIGATOR"))
            .filter_map(|l| l.rsplit(',').next()?.parse().ok())
            .collect()
    };
    let before = days(&export(&fx("dm.csv"), &tmp("rfstdtc-a.csv")));
    let after = days(&export(&dm2.display().to_string(), &tmp("rfstdtc-b.csv")));
    assert!(!before.is_empty());
    assert_eq!(after, before.iter().map(|d| d + 14).collect::<Vec<_>>());
    // a scan dated with its time of day has its study day too (only a partial date has none)
    let tr = std::fs::read_to_string(fx("tr_onco_recist.csv")).unwrap();
    let timed = tr.replace(",2014-01-02,", ",2014-01-02T10:30,");
    assert_ne!(tr, timed);
    let tr2 = tmp("timed-tr.csv");
    std::fs::write(&tr2, timed).unwrap();
    let with_time = export_with(
        &tr2.display().to_string(),
        &fx("dm.csv"),
        &tmp("rfstdtc-c.csv"),
    );
    assert_eq!(days(&with_time), before);
}

/// RS with one response recorded twice (read once, a warning) and one recorded twice with
/// two values (`sdtm::two_values`: an error, a warning comparing both under --lenient, which
/// this fixture's partial dates need).
#[test]
fn reconcile_reads_a_repeated_response_once_and_warns_of_two_values() {
    let rs = std::fs::read_to_string(fx("rs_onco_recist.csv")).unwrap();
    let first = rs.lines().nth(1).unwrap();
    assert!(
        first.contains(",SD,SD,"),
        "fixture's first RS record: {first}"
    );
    let with_extra = |extra: &str, name: &str| {
        let t = tmp(name);
        std::fs::write(&t, format!("{rs}{extra}\n")).unwrap();
        t
    };
    let repeated = with_extra(first, "rs-repeated.csv");
    let conflicting = with_extra(&first.replace(",SD,SD,", ",PD,PD,"), "rs-conflicting.csv");
    let original = with_extra("", "rs-original.csv");
    let reconcile = |rs: &Tmp| -> (i32, String, String) {
        let mut a = vec![
            "reconcile".to_string(),
            "--rules".into(),
            "rules/recist-1.1.rano".into(),
        ];
        a.extend(inputs());
        a.extend(["--rs".into(), rs.display().to_string(), "--lenient".into()]);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        run(&a)
    };
    let total = |out: &str| out.lines().next().unwrap_or("").to_string();
    let (_, plain, _) = reconcile(&original);
    let (code, out, err) = reconcile(&repeated);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("is recorded twice"), "{err}");
    assert_eq!(total(&out), total(&plain), "the repeat is read once");
    let (code, out, err) = reconcile(&conflicting);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("has two recorded responses"), "{err}");
    assert_ne!(total(&out), total(&plain), "both are compared: {out}");
}

/// An export derived with --set says that RS and ADaM carry no trace of the change.
#[test]
fn export_with_set_warns_that_the_outputs_do_not_record_it() {
    let out = tmp("set-rs.csv");
    let mut a = vec![
        "export".to_string(),
        "sdtm".into(),
        "--rules".into(),
        "rules/recist-1.1.rano".into(),
        "--set".into(),
        "recist.confirm_response=false".into(),
    ];
    a.extend(inputs());
    a.extend([
        "--lenient".into(),
        "--rs-output".into(),
        out.display().to_string(),
    ]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let (code, _, err) = run(&a);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("sdtm::overrides_not_in_output"), "{err}");
    assert!(err.contains("recist.confirm_response=false"), "{err}");
}

/// A criterion that names its labels natively (iRECIST: iCR, iUPD, NON-iCR/NON-iUPD, the
/// CDISC terms) exports them, and reconcile reads them back without a mapping.
#[test]
fn native_labels_are_exported_and_read_back() {
    let rs = tmp("irecist-rs.csv");
    let (code, _, err) = on_fixtures(
        &["export", "sdtm"],
        "rules/irecist-2017.rano",
        &[
            "--lenient".into(),
            "--rs-output".into(),
            rs.display().to_string(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&rs).unwrap();
    let terms = [
        "iCR",
        "iPR",
        "iSD",
        "iUPD",
        "iCPD",
        "NON-iCR/NON-iUPD",
        "NE",
    ];
    for line in text.lines().skip(1) {
        let value = line.split(',').nth(9).unwrap();
        assert!(terms.contains(&value), "RSSTRESC `{value}` in {line}");
    }
    assert!(text.contains(",iUPD,iUPD,"), "{text}");
    let (code, out, err) = on_fixtures(
        &["reconcile"],
        "rules/irecist-2017.rano",
        &[
            "--rs".into(),
            fx("rs_two_categories.csv"),
            "--lenient".into(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("unknown_response"), "{err}");
    assert!(out.contains("of 18 recorded responses"), "{out}");
}

/// A first scan dated only by the month holding the therapy start is, with `--lenient`, the
/// pre-treatment scan of the therapy start (docs/sdtm.md, `sdtm::partial_date`), even when
/// the month's last day falls after a later scan: it used to be dated 2014-01-31, after the
/// 2014-01-23 follow-up, and the import then failed (`sdtm::lesion_after_start`).
#[test]
fn a_partial_first_scan_holding_the_therapy_start_is_the_pretreatment_scan() {
    let dir = repo().join("tests/sdtm/partial-first");
    let f = |n: &str| Some(std::fs::read_to_string(dir.join(n)).unwrap());
    let (code, cases, diags) =
        import_with("partial-first", f("tu.csv"), f("tr.csv"), f("dm.csv"), true);
    assert_eq!(code, 0, "{diags:?}");
    assert!(!coded(&diags, "sdtm::partial_date").is_empty(), "{diags:?}");
    let case: serde_json::Value = serde_json::from_str(cases.trim()).unwrap();
    let dates: Vec<&str> = case["assessments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["date"].as_str().unwrap())
        .collect();
    assert_eq!(dates, ["2014-01-02", "2014-01-23", "2014-03-06"]);
    let first = &case["assessments"][0];
    assert_eq!(first["scan"], "pretreatment");
    assert_eq!(first["evaluable"], false);
}

/// What `export sdtm` writes, `reconcile` reads back: each derived response (RSEVAL
/// `COMPUTER ALGORITHM`) is matched to the evaluator RSSPID names, so the three readers'
/// derived responses agree with themselves, 64 of 64 (they were all `no_case`, or read once
/// as duplicates). An `--evaluator` no recorded response is by says so instead of "0 of 0".
#[test]
fn exported_responses_reconcile_back_and_an_evaluator_without_responses_is_named() {
    let rs = tmp("round-trip-rs.csv");
    let rs_path = rs.display().to_string();
    let (code, _, err) = on_fixtures(
        &["export", "sdtm"],
        "rules/recist-1.1.rano",
        &["--lenient".into(), "--rs-output".into(), rs_path.clone()],
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = on_fixtures(
        &["reconcile"],
        "rules/recist-1.1.rano",
        &["--lenient".into(), "--rs".into(), rs_path.clone()],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("reconcile (recist-1.1 1.1.1): 64 of 64 recorded responses agree"),
        "{out}"
    );
    assert!(!err.contains("recorded twice"), "{err}");

    // the recorded RS, its investigator's rows only, compared for a radiologist
    let only_investigator = tmp("investigator-rs.csv");
    let text = std::fs::read_to_string(fx("rs_onco_recist.csv")).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(i, l)| *i == 0 || l.contains(",INVESTIGATOR,"))
        .map(|(_, l)| l)
        .collect();
    std::fs::write(&only_investigator, kept.join("\n") + "\n").unwrap();
    let (code, out, err) = on_fixtures(
        &["reconcile"],
        "rules/recist-1.1.rano",
        &[
            "--lenient".into(),
            "--rs".into(),
            only_investigator.display().to_string(),
            "--evaluator".into(),
            "RADIOLOGIST 2".into(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("0 of 0"), "{out}");
    assert!(err.contains("sdtm::no_recorded_response"), "{err}");
    assert!(
        err.contains("none of the 22 recorded response(s) is by evaluator `RADIOLOGIST 2`"),
        "{err}"
    );
    assert!(err.contains("`INVESTIGATOR`"), "{err}");
}

/// `import` writes JSON Lines: an output named `.yaml` or `.json` is refused before anything
/// is read or written, with the name to use.
#[test]
fn import_refuses_an_output_named_as_yaml_or_json() {
    for name in ["cases.yaml", "cases.YML", "cases.json"] {
        let out = tmp(name);
        let o = out.display().to_string();
        let (tu, tr, dm) = (irano_fx("tu.csv"), irano_fx("tr.csv"), irano_fx("dm.csv"));
        let (code, _, err) = run(&[
            "import", "sdtm", "--tu", &tu, "--tr", &tr, "--dm", &dm, "--output", &o,
        ]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains("sdtm::output_not_jsonl"), "{name}: {err}");
        assert!(err.contains("`.jsonl`"), "{name}: {err}");
        assert!(!out.exists(), "{name} was written");
    }
}

/// One slip repeated on many records is shown ten times and then counted, so that it does
/// not bury the others: a TR with every record written twice gives 10 `sdtm::duplicate`
/// warnings in full and one line for the rest, and the import still succeeds.
#[test]
fn repeated_diagnostics_of_one_code_are_capped_and_counted() {
    let tr_text = std::fs::read_to_string(irano_fx("tr.csv")).unwrap();
    let mut lines = tr_text.lines();
    let header = lines.next().unwrap();
    let records: Vec<&str> = lines.filter(|l| !l.trim().is_empty()).collect();
    assert!(
        records.len() > 12,
        "the fixture has {} records",
        records.len()
    );
    let mut doubled = format!("{header}\n");
    for r in &records {
        doubled.push_str(&format!("{r}\n{r}\n"));
    }
    let tr = tmp("doubled-tr.csv");
    std::fs::write(&tr, doubled).unwrap();
    let out = tmp("doubled.jsonl");
    let (tu, dm, t, o) = (
        irano_fx("tu.csv"),
        irano_fx("dm.csv"),
        tr.display().to_string(),
        out.display().to_string(),
    );
    let (code, _, err) = run(&[
        "import", "sdtm", "--tu", &tu, "--tr", &t, "--dm", &dm, "--output", &o,
    ]);
    assert_eq!(code, 0, "{err}");
    let shown = err.matches("repeats the record at").count();
    assert_eq!(shown, 10, "{err}");
    let more = records.len() - 10;
    assert!(
        err.contains(&format!(
            "{more} more `sdtm::duplicate` warnings, not shown ({} in all)",
            records.len()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("({} warning(s))", records.len())),
        "{err}"
    );
    // a program reading `--error-format json` gets every one
    let (code, _, err) = run(&[
        "--error-format",
        "json",
        "import",
        "sdtm",
        "--tu",
        &tu,
        "--tr",
        &t,
        "--dm",
        &dm,
        "--output",
        &o,
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err.matches("\"sdtm::duplicate\"").count(),
        records.len(),
        "{err}"
    );
}

/// A misspelt column or mapping key gets a "did you mean", and the closing message says
/// whether `--lenient` would help: it does for the records of the strict import, not for a
/// missing column (a new user followed the old advice to pass --lenient, in vain).
#[test]
fn import_mistakes_say_what_was_meant_and_whether_lenient_helps() {
    let tr = tmp("tr-renamed.csv");
    let text = std::fs::read_to_string(fx("tr_onco_recist.csv")).unwrap();
    let (head, body) = text.split_once('\n').unwrap();
    std::fs::write(
        &tr.0,
        format!("{}\n{body}", head.replace("TRDTC", "TRDATE")),
    )
    .unwrap();
    let out = tmp("renamed.jsonl");
    let tu = fx("tu_onco_recist.csv");
    let (trp, o) = (tr.0.display().to_string(), out.0.display().to_string());
    // `import sdtm` with JSON diagnostics, the RECIST TU, and `more`
    let import = |more: &[&str]| {
        let mut args = vec!["--error-format", "json", "import", "sdtm", "--tu", &tu];
        args.extend_from_slice(more);
        args.extend(["--output", &o]);
        run(&args)
    };
    let (code, _, err) = import(&["--tr", &trp]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no column `TRDTC`") && err.contains("did you mean `TRDATE`?"),
        "{err}"
    );
    assert!(err.contains("`--lenient` does not apply"), "{err}");

    let map = tmp("map.yaml");
    std::fs::write(&map.0, "steriods: {DEXAMETHASONE: 1}\n").unwrap();
    let trr = fx("tr_onco_recist.csv");
    let m = map.0.display().to_string();
    let (code, _, err) = import(&["--tr", &trr, "--map", &m]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("did you mean `steroids`?"), "{err}");

    // the strict import of the RECIST subjects: every error is one --lenient allows
    let mut args = vec!["--error-format", "json", "import", "sdtm"];
    let inp = inputs();
    args.extend(inp.iter().map(String::as_str));
    args.extend(["--output", &o]);
    let (code, _, err) = run(&args);
    assert_eq!(code, 2);
    assert!(err.contains("or pass `--lenient`"), "{err}");
}

/// An amendment declares its own `cdisc_category` (it is not inherited): without one,
/// reconcile compares the responses of every category and says so, as export refuses to
/// guess RSCAT; a criterion whose category RS does not hold is said too.
#[test]
fn reconcile_says_when_it_cannot_select_the_criterion_s_category() {
    let dir = std::env::temp_dir().join(format!("irano-sdtm-cat-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let amendment = dir.join("trial-recist.rano");
    std::fs::write(
        &amendment,
        "criterion \"trial-recist\" extends \"recist-1.1\" {\n  version \"1\"\n  cite \"protocol\"\n}\n",
    )
    .unwrap();
    let rules = amendment.display().to_string();
    let (code, out, err) = on_fixtures(
        &["--error-format", "json", "--include", "rules", "reconcile"],
        &rules,
        &[
            "--rs".into(),
            fx("rs_two_categories.csv"),
            "--lenient".into(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("recorded responses agree"), "{out}");
    assert!(
        err.contains("sdtm::no_category")
            && err.contains("declares no `cdisc_category`: the RS responses of every category (IRECIST, RECIST 1.1) are compared"),
        "{err}"
    );
    // one category in RS, not the criterion's
    let text = std::fs::read_to_string(fx("rs_two_categories.csv")).unwrap();
    let one: String = text
        .lines()
        .enumerate()
        .filter(|(i, l)| *i == 0 || l.ends_with(",RECIST 1.1"))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let rs = dir.join("rs-recist.csv");
    std::fs::write(&rs, one).unwrap();
    let (_, _, err) = on_fixtures(
        &["--error-format", "json", "reconcile"],
        "rules/rano-hgg-2010.rano",
        &["--rs".into(), rs.display().to_string(), "--lenient".into()],
    );
    assert!(
        err.contains("sdtm::other_category")
            && err.contains("RS responses are of category RECIST 1.1, not the criterion's `RANO`"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `export sdtm` and `reconcile` report the warnings `eval` gives on the same cases: a
/// criterion that does not fit the data (RANO-HGG on RECIST lesions, which have no
/// `component`) says so, once per kind beyond the first few, instead of exporting in silence.
#[test]
fn export_and_reconcile_report_the_evaluation_warnings() {
    let rs = tmp("eval-warnings-rs.csv");
    let (code, _, err) = on_fixtures(
        &["export", "sdtm"],
        "rules/rano-hgg-2010.rano",
        &[
            "--lenient".into(),
            "--rs-output".into(),
            rs.display().to_string(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("eval::marked_target_not_candidate"), "{err}");
    assert!(
        err.contains("more `eval::marked_target_not_candidate` warnings"),
        "{err}"
    );
    // the count says how to see every one with an option this command has
    let words = err.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("`--error-format json` lists every one") && !words.contains("--max-errors"),
        "{err}"
    );
    let (code, _, err) = on_fixtures(
        &["reconcile"],
        "rules/rano-hgg-2010.rano",
        &["--lenient".into(), "--rs".into(), fx("rs_onco_recist.csv")],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("eval::marked_target_not_candidate"), "{err}");
}

/// A lesion with a DIAMETER and LDIAM x LPERP that disagree is said once, at the DIAMETER
/// record, with the SDTM names: RECIST reads the one, RANO the other. The cases' own `ld`
/// and `d` warning (`eval::lengths_disagree`), about fields an SDTM user never wrote, is
/// not given for imported cases.
#[test]
fn a_diameter_that_disagrees_with_ldiam_is_named_at_its_record() {
    let tr = tmp("tr_diameters.csv");
    let mut text = std::fs::read_to_string(fx("tr_onco_recist.csv")).unwrap();
    text.push_str("TR,CDISCPILOT01,01-701-1015,TARGET,T01,LPERP,Longest Perpendicular,10,mm,10,10,mm,1,SCREENING,INDEPENDENT ASSESSOR,RADIOLOGIST 1,Y,2014-01-02,9001\n");
    text.push_str("TR,CDISCPILOT01,01-701-1015,TARGET,T01,DIAMETER,Diameter,25,mm,25,25,mm,1,SCREENING,INDEPENDENT ASSESSOR,RADIOLOGIST 1,Y,2014-01-02,9002\n");
    std::fs::write(&tr, text).unwrap();
    let t = tr.display().to_string();
    let tu = fx("tu_onco_recist.csv");
    let dm = fx("dm.csv");
    let (_, _, err) = run(&[
        "--error-format",
        "json",
        "--include",
        "rules",
        "reconcile",
        "--rules",
        "rules/recist-1.1.rano",
        "--tu",
        &tu,
        "--tr",
        &t,
        "--dm",
        &dm,
        "--rs",
        &fx("rs_onco_recist.csv"),
        "--lenient",
    ]);
    let diags: Vec<serde_json::Value> = err
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let disagree: Vec<_> = diags
        .iter()
        .filter(|d| d["code"] == "sdtm::diameters_disagree")
        .collect();
    assert!(!disagree.is_empty(), "{err}");
    assert!(
        disagree.iter().all(|d| d["message"]
            .as_str()
            .unwrap()
            .contains("DIAMETER 25 differs from the longer of LDIAM and LPERP (21)")),
        "{err}"
    );
    assert!(
        !diags.iter().any(|d| d["code"] == "eval::lengths_disagree"),
        "{err}"
    );
}

/// `--error-format json` diagnostics, one object per line.
fn diagnostics(err: &str) -> Vec<serde_json::Value> {
    err.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The diagnostics of code `code`.
fn coded<'a>(diags: &'a [serde_json::Value], code: &str) -> Vec<&'a serde_json::Value> {
    diags.iter().filter(|d| d["code"] == code).collect()
}

/// `import sdtm` of the RECIST fixtures, with the text given in place of a fixture's TU, TR
/// or DM (`None`: the fixture): the exit code, the cases written and the diagnostics.
fn import_with(
    name: &str,
    tu: Option<String>,
    tr: Option<String>,
    dm: Option<String>,
    lenient: bool,
) -> (i32, String, Vec<serde_json::Value>) {
    let mut keep = Vec::new();
    let mut path = |kind: &str, text: Option<String>, fixture: &str| match text {
        Some(t) => {
            let f = tmp(&format!("{name}-{kind}.csv"));
            std::fs::write(&f, t).unwrap();
            let p = f.display().to_string();
            keep.push(f);
            p
        }
        None => fx(fixture),
    };
    let tu = path("tu", tu, "tu_onco_recist.csv");
    let tr = path("tr", tr, "tr_onco_recist.csv");
    let dm = path("dm", dm, "dm.csv");
    let out = tmp(&format!("{name}.jsonl"));
    let o = out.display().to_string();
    let mut args = vec![
        "--error-format",
        "json",
        "import",
        "sdtm",
        "--tu",
        &tu,
        "--tr",
        &tr,
        "--dm",
        &dm,
        "--output",
        &o,
    ];
    if lenient {
        args.push("--lenient");
    }
    let (code, _, err) = run(&args);
    let cases = std::fs::read_to_string(&out).unwrap_or_default();
    (code, cases, diagnostics(&err))
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(fx(name)).unwrap()
}

/// A new lesion TU declares but TR never records is an error (a warning with `--lenient`):
/// left out in silence, it would hide a progression.
#[test]
fn a_new_lesion_declared_only_in_tu_is_not_dropped_in_silence() {
    let mut tu = fixture("tu_onco_recist.csv");
    tu.push_str("TU,CDISCPILOT01,01-701-1015,WEEK 12,4,LIVER,TUMIDENT,Tumor Identification,NEW,NEW,CT SCAN,NEW01,INDEPENDENT ASSESSOR,RADIOLOGIST 1,Y,9001\n");
    for (lenient, code, severity) in [(true, 0, "warning"), (false, 2, "error")] {
        let (exit, _, diags) = import_with("new-only", Some(tu.clone()), None, None, lenient);
        let missing = coded(&diags, "sdtm::lesion_missing");
        let said = missing.iter().any(|d| {
            d["severity"] == severity
                && d["message"]
                    .as_str()
                    .unwrap()
                    .contains("new lesion `NEW01`")
        });
        assert!(said, "{diags:?}");
        assert_eq!(exit, code, "{diags:?}");
    }
}

/// TR's standardized numeric result is read when the character one is empty; the two
/// disagreeing, and a result beside TRSTAT `NOT DONE`, are each a warning at the record.
#[test]
fn trstresn_is_read_and_contradicting_records_are_warned_about() {
    let tr = fixture("tr_onco_recist.csv");
    let first = "TR,CDISCPILOT01,01-701-1015,TARGET,T01,LDIAM,Longest Diameter,21,mm,21,21,mm,1,SCREENING,INDEPENDENT ASSESSOR,RADIOLOGIST 1,Y,2014-01-02,1";
    assert!(tr.contains(first));
    let import = |name: &str, text: String| {
        let (_, cases, diags) = import_with(name, None, Some(text), None, true);
        let codes: Vec<String> = diags
            .iter()
            .filter_map(|d| Some(d["code"].as_str()?.to_string()))
            .collect();
        (cases, codes)
    };
    let (plain, _) = import("plain", tr.clone());
    assert!(!plain.is_empty());
    // the numeric result alone: the same cases
    let numeric_only = first.replace(",21,mm,21,21,mm,", ",,mm,,21,mm,");
    let (cases, codes) = import("stresn", tr.replace(first, &numeric_only));
    assert_eq!(cases, plain, "{codes:?}");
    assert!(
        !codes.contains(&"sdtm::missing_result".to_string()),
        "{codes:?}"
    );
    // the two standardized results disagree: TRSTRESC is read, and it is said
    let disagree = first.replace(",21,mm,21,21,mm,", ",21,mm,21,2.1,mm,");
    let (cases, codes) = import("disagree", tr.replace(first, &disagree));
    assert_eq!(cases, plain, "{codes:?}");
    assert!(
        codes.contains(&"sdtm::stresn_disagrees".to_string()),
        "{codes:?}"
    );
    // NOT DONE beside a result: not assessed, and said
    let mut with_stat = String::new();
    for (i, line) in tr.lines().enumerate() {
        with_stat.push_str(line);
        with_stat.push_str(match (i, line == first) {
            (0, _) => ",TRSTAT\n",
            (_, true) => ",NOT DONE\n",
            _ => ",\n",
        });
    }
    let (cases, codes) = import("not-done", with_stat);
    assert_ne!(cases, plain, "{codes:?}");
    assert!(
        codes.contains(&"sdtm::not_done_with_result".to_string()),
        "{codes:?}"
    );
}

/// A subject without a therapy start is named at its own record: its DM row (the empty
/// RFXSTDTC), not the header.
#[test]
fn no_therapy_start_points_at_the_subject_s_record() {
    let dm = fixture("dm.csv");
    let row = "CDISCPILOT01,DM,01-701-1028,1028,2013-07-19,2013-07-19";
    assert!(dm.contains(row));
    let line = 1 + dm.lines().position(|l| l == row).unwrap();
    let emptied = dm.replace(row, "CDISCPILOT01,DM,01-701-1028,1028,2013-07-19,");
    let (code, _, diags) = import_with("no-start", None, None, Some(emptied), true);
    assert_eq!(code, 2);
    let said = coded(&diags, "sdtm::no_therapy_start");
    assert_eq!(said.len(), 1, "{diags:?}");
    assert_eq!(said[0]["line"], line, "{diags:?}");
}

/// One visit whose records carry two dates is read as two scans, and a warning says so at
/// the later date's record.
#[test]
fn a_visit_recorded_on_two_dates_is_said() {
    let tr = fixture("tr_onco_recist.csv");
    let row = "TR,CDISCPILOT01,01-701-1028,TARGET,T03,LDIAM,Longest Diameter,19.8,mm,19.8,19.8,mm,4,WEEK 9,INDEPENDENT ASSESSOR,RADIOLOGIST 1,Y,2013-09-20,87";
    assert!(tr.contains(row));
    let split = tr.replace(row, &row.replace("2013-09-20", "2013-09-22"));
    let (_, _, diags) = import_with("split-visit", None, Some(split), None, true);
    let said = coded(&diags, "sdtm::visit_on_two_dates");
    assert_eq!(said.len(), 1, "{diags:?}");
    let message = said[0]["message"].as_str().unwrap();
    assert!(
        message.contains("visit WEEK 9 (VISITNUM 4) of `01-701-1028/RADIOLOGIST 1`")
            && message.contains("2013-09-20 and 2013-09-22"),
        "{message}"
    );
}

/// A partial date read as the last day of its month that falls after a later visit is
/// said: the scans are taken in date order, so the visits are out of their VISITNUM order.
#[test]
fn a_partial_date_read_after_a_later_visit_is_said() {
    let tr = fixture("tr_onco_recist.csv");
    // WEEK 9 of 01-701-1015 moved to 2014-02-20: WEEK 6's `2014-02` is read as 2014-02-28
    let moved: String = tr
        .lines()
        .map(|l| {
            if l.contains(",01-701-1015,") && l.contains(",4,WEEK 9,") {
                format!("{}\n", l.replace(",2014-03-06,", ",2014-02-20,"))
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    assert_ne!(moved, tr);
    let (_, _, diags) = import_with("partial-order", None, Some(moved), None, true);
    let said = coded(&diags, "sdtm::partial_date_out_of_order");
    assert!(!said.is_empty(), "{diags:?}");
    assert!(
        said[0]["message"]
            .as_str()
            .unwrap()
            .contains("after visit WEEK 9 (VISITNUM 4)"),
        "{diags:?}"
    );
}
