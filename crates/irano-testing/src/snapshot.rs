//! Snapshot files: the reviewed text of a case's result, stored beside the case.
//!
//! A case `DIR/NAME.yaml` has its snapshot in `DIR/snapshots/NAME.snap`, in the layout
//! of insta's `.snap` files (a small YAML header between `---` lines, then the text), so
//! that a trial's snapshots and the repository's own corpus read the same. The header
//! holds no time and no absolute path: accepting the same result twice writes the same
//! bytes. Only the text below the header is compared.

use std::io;
use std::path::{Path, PathBuf};

/// The folder, next to the cases, that holds their snapshots.
pub const DIR: &str = "snapshots";

/// Where the snapshot of the case at `case` lives.
pub fn path_for(case: &Path) -> PathBuf {
    let stem = case
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    case.parent()
        .unwrap_or_else(|| Path::new(""))
        .join(DIR)
        .join(format!("{stem}.snap"))
}

/// The text as compared: Windows line ends read as `\n`, trailing blank space ignored
/// (as insta does).
pub fn normalize(text: &str) -> String {
    text.replace("\r\n", "\n").trim_end().to_string()
}

/// A YAML scalar for the header: plain when that is unambiguous, else double-quoted.
fn scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | '@'))
        && !s.starts_with(['-', '.', '@']);
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_else(|_| format!("\"{}\"", s.escape_default()))
    }
}

/// The whole snapshot file for the case at `case` whose result reads `body`.
pub fn file_text(case: &Path, body: &str) -> String {
    let name = case
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(
        "---\nsource: irano-eval test\nexpression: {}\ninput_file: {}\n---\n{}\n",
        scalar("x-title, then the result table"),
        scalar(&name),
        normalize(body)
    )
}

/// The text of a snapshot file below its header, normalized.
pub fn body_of(file_text: &str) -> String {
    let text = file_text.replace("\r\n", "\n");
    let body = match text.strip_prefix("---\n") {
        Some(rest) => {
            if let Some(end) = rest.strip_prefix("---\n") {
                end
            } else {
                match rest.find("\n---\n") {
                    Some(i) => rest.get(i + 5..).unwrap_or_default(),
                    None => rest,
                }
            }
        }
        None => text.as_str(),
    };
    normalize(body)
}

/// The stored snapshot's text below its header; `None` when there is no snapshot.
pub fn read(path: &Path) -> io::Result<Option<String>> {
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Ok(Some(body_of(&text))),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the snapshot is not UTF-8 text",
            )),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Writes `text` to `path` (creating its folder) through a temporary file beside it, so
/// that a failed write never leaves half a snapshot.
pub fn write(path: &Path, text: &str) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)?;
        }
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.irano-test.tmp"));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// One line of a unified diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffLine {
    /// `--- old` / `+++ new`.
    File(String),
    /// `@@ -a,b +c,d @@`.
    Hunk(String),
    Context(String),
    Removed(String),
    Added(String),
}

impl DiffLine {
    /// The line as in a unified diff, without colour.
    pub fn text(&self) -> String {
        match self {
            DiffLine::File(s) | DiffLine::Hunk(s) => s.clone(),
            DiffLine::Context(s) => format!(" {s}"),
            DiffLine::Removed(s) => format!("-{s}"),
            DiffLine::Added(s) => format!("+{s}"),
        }
    }
}

/// A unified diff (3 lines of context) from `old` to `new`, labelled with their names.
pub fn diff(old: &str, new: &str, old_name: &str, new_name: &str) -> Vec<DiffLine> {
    use similar::{ChangeTag, TextDiff};
    let old = with_final_newline(old);
    let new = with_final_newline(new);
    let d = TextDiff::from_lines(old.as_str(), new.as_str());
    let mut out = vec![
        DiffLine::File(format!("--- {old_name}")),
        DiffLine::File(format!("+++ {new_name}")),
    ];
    for hunk in d.unified_diff().context_radius(3).iter_hunks() {
        out.push(DiffLine::Hunk(hunk.header().to_string()));
        for change in hunk.iter_changes() {
            let line = change.value().trim_end_matches('\n').to_string();
            out.push(match change.tag() {
                ChangeTag::Equal => DiffLine::Context(line),
                ChangeTag::Delete => DiffLine::Removed(line),
                ChangeTag::Insert => DiffLine::Added(line),
            });
        }
    }
    out
}

fn with_final_newline(s: &str) -> String {
    if s.is_empty() || s.ends_with('\n') {
        s.to_string()
    } else {
        format!("{s}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_file_reads_back_as_its_body() {
        let case = Path::new("trial/cases/001 odd: name.yaml");
        assert_eq!(
            path_for(case),
            Path::new("trial/cases/snapshots/001 odd: name.snap")
        );
        let text = file_text(case, "title\n\ntable\r\n\n\n");
        assert_eq!(
            text,
            "---\nsource: irano-eval test\nexpression: \"x-title, then the result table\"\ninput_file: \"001 odd: name.yaml\"\n---\ntitle\n\ntable\n"
        );
        assert_eq!(body_of(&text), "title\n\ntable");
        assert_eq!(body_of(&text.replace('\n', "\r\n")), "title\n\ntable");
        // a body that holds a `---` line of its own, and a file without a header
        assert_eq!(body_of("---\na: b\n---\nx\n---\ny\n"), "x\n---\ny");
        assert_eq!(body_of("just text\n"), "just text");
    }

    #[test]
    fn diffs_are_unified_with_context() {
        let d = diff("a\nb\nc\n", "a\nB\nc", "old", "new");
        let text: Vec<String> = d.iter().map(DiffLine::text).collect();
        assert_eq!(
            text,
            [
                "--- old",
                "+++ new",
                "@@ -1,3 +1,3 @@",
                " a",
                "-b",
                "+B",
                " c"
            ]
        );
        assert_eq!(diff("same", "same", "o", "n").len(), 2);
    }
}
