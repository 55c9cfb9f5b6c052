#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! SAS transport (XPT v5) input, checked against files another tool wrote: tests/sdtm/xpt
//! holds tu.xpt and tr.xpt, written by pyreadstat from the RECIST CSV fixtures
//! (tests/sdtm/xpt/make.py, PROVENANCE.md). Importing them must give the same cases as
//! importing the CSVs.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fx(path: &str) -> String {
    repo().join("tests/sdtm").join(path).display().to_string()
}

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_irano-eval"))
        .current_dir(repo())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("irano-xpt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&d);
    d
}

/// `import sdtm --lenient` of `tu` and `tr` (with the CSV DM); the cases written, or the
/// exit code and stderr when it fails.
fn import(tu: &str, tr: &str, name: &str) -> Result<String, (i32, String)> {
    let out = tmp(name);
    let o = out.display().to_string();
    let dm = fx("recist/dm.csv");
    let (code, err) = run(&[
        "--error-format",
        "json",
        "import",
        "sdtm",
        "--lenient",
        "--tu",
        tu,
        "--tr",
        tr,
        "--dm",
        &dm,
        "--output",
        &o,
    ]);
    let text = std::fs::read_to_string(&out).ok();
    let _ = std::fs::remove_file(&out);
    match (code, text) {
        (0, Some(t)) => Ok(t),
        (code, t) => {
            assert!(t.is_none(), "nothing is written on error");
            Err((code, err))
        }
    }
}

#[test]
fn xpt_written_by_pyreadstat_imports_to_the_same_cases_as_the_csvs() {
    let csv = import(
        &fx("recist/tu_onco_recist.csv"),
        &fx("recist/tr_onco_recist.csv"),
        "csv.jsonl",
    )
    .unwrap();
    let xpt = import(&fx("xpt/tu.xpt"), &fx("xpt/tr.xpt"), "xpt.jsonl").unwrap();
    assert_eq!(csv.lines().count(), 24);
    assert_eq!(xpt, csv);
}

#[test]
fn a_truncated_or_corrupt_xpt_is_a_clean_diagnostic() {
    let good = std::fs::read(fx("xpt/tr.xpt")).unwrap();
    let tu = fx("xpt/tu.xpt");
    let cases: [(&str, Vec<u8>, &str); 3] = [
        // cut inside an observation record
        ("cut.xpt", good[..good.len() - 37].to_vec(), "truncated"),
        // cut inside the variable descriptions
        ("short.xpt", good[..900].to_vec(), "ends inside variable"),
        // not a transport file at all
        (
            "text.xpt",
            b"USUBJID,TRSEQ\n01,1\n".to_vec(),
            "not a SAS transport",
        ),
    ];
    for (name, bytes, says) in cases {
        let path = tmp(name);
        std::fs::write(&path, &bytes).unwrap();
        let p = path.display().to_string();
        let (code, err) = import(&tu, &p, &format!("{name}.jsonl")).unwrap_err();
        let _ = std::fs::remove_file(&path);
        assert_eq!(code, 2, "{name}: {err}");
        let d: serde_json::Value = serde_json::from_str(err.lines().next().unwrap()).unwrap();
        assert_eq!(d["code"], "sdtm::xpt", "{name}: {err}");
        let msg = d["message"].as_str().unwrap();
        assert!(
            msg.contains(says) && msg.contains(&p) && msg.contains("at byte"),
            "{name}: {msg}"
        );
    }
}
