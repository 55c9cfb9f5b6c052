//! `irano-eval fmt`: rewrite rule files in the canonical layout (`irano-format`), or with
//! `--check` report the files that are not in it.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::render::Output;

/// The `.rano` files named, and those under the folders named (sorted, recursively).
pub(crate) fn rule_files(paths: &[PathBuf], out: &mut Vec<PathBuf>) -> Result<(), String> {
    for p in paths {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("{}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            entries.sort();
            let (dirs, files): (Vec<PathBuf>, Vec<PathBuf>) =
                entries.into_iter().partition(|e| e.is_dir());
            out.extend(
                files
                    .into_iter()
                    .filter(|f| f.extension().is_some_and(|x| x == "rano")),
            );
            rule_files(&dirs, out)?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(())
}

/// Exit status: 0 all formatted (or rewritten), 1 `--check` found files to reformat or a
/// file could not be written, 2 a file could not be read or does not parse.
pub fn fmt(out: &mut Output, paths: &[PathBuf], check: bool) -> u8 {
    let mut files = Vec::new();
    if let Err(e) = rule_files(paths, &mut files) {
        let _ = writeln!(out.err, "error: cannot read {e}");
        return 2;
    }
    let mut bad_input = false;
    let mut changed = 0usize;
    let mut write_failed = false;
    for f in &files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                let _ = writeln!(out.err, "error: cannot read {}: {e}", f.display());
                bad_input = true;
                continue;
            }
        };
        match irano_format::format_source(&text) {
            Ok(formatted) if formatted == text => {}
            Ok(formatted) => {
                changed += 1;
                if check {
                    let _ = writeln!(out.out, "would reformat {}", f.display());
                } else if let Err(e) = crate::output::write_file(f, formatted.as_bytes()) {
                    let _ = writeln!(out.err, "error: cannot write {}: {e}", f.display());
                    write_failed = true;
                } else {
                    let _ = writeln!(out.out, "formatted {}", f.display());
                }
            }
            Err(e) => {
                let (line, col) = irano_check::diag::line_col(&text, e.offset);
                let _ = writeln!(
                    out.err,
                    "error: {}:{line}:{col}: {}\n  help: `irano-eval check {}` explains the problem; fix it, then format",
                    f.display(),
                    e.message,
                    f.display()
                );
                bad_input = true;
            }
        }
    }
    if bad_input {
        2
    } else if write_failed || (check && changed > 0) {
        1
    } else {
        if check {
            let _ = writeln!(
                out.out,
                "{} rule files in the canonical layout",
                files.len()
            );
        }
        0
    }
}
