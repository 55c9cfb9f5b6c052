#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The SDTM import diagnostics corpus: `tests/sdtm/bad/<case>/` holds a `tr.csv` (and
//! a `map.yaml` when the mapping is the problem) read with the shared `tu.csv` and `dm.csv`
//! of `tests/sdtm/bad/`. Each case is imported strictly and with `--lenient`; the snapshot
//! shows the exit code, whether the output was written, every diagnostic, and the cases
//! `--lenient` wrote (the documented effect, docs/sdtm.md "Diagnostics"). A new case is a
//! new directory.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rel(p: &Path) -> String {
    let root = repo().canonicalize().unwrap();
    p.canonicalize()
        .unwrap()
        .strip_prefix(&root)
        .unwrap()
        .display()
        .to_string()
}

fn import(dir: &Path, lenient: bool) -> String {
    let out = std::env::temp_dir().join(format!(
        "irano-sdtm-bad-{}-{}-{lenient}.jsonl",
        std::process::id(),
        dir.file_name().unwrap().to_string_lossy()
    ));
    let _ = std::fs::remove_file(&out);
    let bad = dir.parent().unwrap();
    let mut args = vec![
        "--error-format".to_string(),
        "json".into(),
        "import".into(),
        "sdtm".into(),
        "--tu".into(),
        rel(&bad.join("tu.csv")),
        "--tr".into(),
        rel(&dir.join("tr.csv")),
        "--dm".into(),
        rel(&bad.join("dm.csv")),
        "--output".into(),
        out.display().to_string(),
    ];
    if dir.join("map.yaml").exists() {
        args.extend(["--map".into(), rel(&dir.join("map.yaml"))]);
    }
    if lenient {
        args.push("--lenient".into());
    }
    let o = Command::new(env!("CARGO_BIN_EXE_irano-eval"))
        .current_dir(repo())
        .args(&args)
        .output()
        .unwrap();
    let mut s = format!(
        "$ import sdtm{}\nexit {}; output {}\n",
        if lenient { " --lenient" } else { "" },
        o.status.code().unwrap_or(-1),
        if out.exists() {
            "written"
        } else {
            "not written"
        }
    );
    for line in String::from_utf8(o.stderr).unwrap().lines() {
        let Ok(d) = serde_json::from_str::<serde_json::Value>(line) else {
            s.push_str(&line.replace(&out.display().to_string(), "OUTPUT"));
            s.push('\n');
            continue;
        };
        s.push_str(&format!(
            "{} {} (line {}): {}\n",
            d["severity"].as_str().unwrap(),
            d["code"].as_str().unwrap(),
            d["line"],
            d["message"].as_str().unwrap()
        ));
    }
    if let Ok(text) = std::fs::read_to_string(&out) {
        s.push_str(&text);
    }
    let _ = std::fs::remove_file(&out);
    s
}

#[test]
fn sdtm_import_diagnostics() {
    insta::glob!("../../../tests/sdtm/bad", "*/tr.csv", |path| {
        let dir = path.parent().unwrap();
        let strict = import(dir, false);
        // Strict import never writes a file when it reports an error.
        assert!(strict.contains("output not written"), "{strict}");
        insta::assert_snapshot!(format!("{strict}\n{}", import(dir, true)));
    });
}
