#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The citations of the rule files resolve inside the project.
//!
//! Rule files cite the criteria notes by file and section: `rano-hgg-2010.md §7.3`,
//! `irano-2015.md §4, §10`, `rano-hgg-2010.md §1-2`. The notes ship as
//! `docs/criteria/<id>.md`; a section is a heading whose first word is its number
//! (`## 5. Timepoint response` is §5, `### 7.3 ...` is §7.3). The scheme is documented in
//! `docs/criteria/README.md`:
//!
//! - a bare `§N` refers to the file named last before it in the same citation string; in a
//!   `cite "..."` string (printed on its own as a source) a `§` must follow a file name; in
//!   a `#` comment, a bare `§` refers to the notes file named in the rule file's header;
//! - a bare `<name>.md` is `docs/criteria/<name>.md`, else `docs/<name>.md` (so
//!   `case-format.md` is `docs/case-format.md`); `shared/criteria/<id>.md` (the rule files'
//!   headers) is `docs/criteria/<id>.md`; a path starting with `../` is relative to the
//!   citing file, any other path with a `/` relative to the repository root.
//!
//! Every reference that does not resolve is printed with `file:line`.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// Where the notes the rule files cite by section live, relative to the repository root.
const CRITERIA_DIR: &str = "docs/criteria";
/// The location of the notes outside the repository, as the rule files' headers name it.
const SHARED_CRITERIA_PREFIX: &str = "shared/criteria/";
/// The pages every shipped criterion needs.
const CRITERIA_PAGES: [&str; 7] = [
    "rano-hgg-2010.md",
    "rano-lgg-2011.md",
    "rano-bm-2015.md",
    "irrc-2009.md",
    "irano-2015.md",
    "rano-2.0-2023.md",
    "mrano-2017.md",
];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Path relative to the repository root, for messages.
fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

// ------------------------------------------------------------------ rule file text

/// Where a citation is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A string literal (`cite "..."`, `doc "..."`): shown on its own, names its file.
    Str,
    /// A `#` comment: read in the context of its rule file.
    Comment,
}

/// A string literal or comment of a rule file, with the 1-based line it starts on.
#[derive(Debug)]
struct Region {
    kind: Kind,
    line: usize,
    text: String,
}

/// The string literals and comments of a rule file (the language's `"..."` strings with
/// `\` escapes, and `#` comments to the end of the line).
fn regions(source: &str) -> Vec<Region> {
    let mut out = Vec::new();
    let mut line = 1;
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            '#' => {
                let mut text = String::new();
                while let Some(&n) = chars.peek() {
                    if n == '\n' {
                        break;
                    }
                    text.push(n);
                    chars.next();
                }
                out.push(Region {
                    kind: Kind::Comment,
                    line,
                    text,
                });
            }
            '"' => {
                let start = line;
                let mut text = String::new();
                while let Some(n) = chars.next() {
                    match n {
                        '"' => break,
                        '\\' => {
                            if let Some(escaped) = chars.next() {
                                if escaped == '\n' {
                                    line += 1;
                                }
                                text.push(escaped);
                            }
                        }
                        _ => {
                            if n == '\n' {
                                line += 1;
                            }
                            text.push(n);
                        }
                    }
                }
                out.push(Region {
                    kind: Kind::Str,
                    line: start,
                    text,
                });
            }
            _ => {}
        }
    }
    out
}

// ------------------------------------------------------------------- references

/// One reference inside a citation, at a byte offset of its text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A file name ending in `.md`, as written.
    File(String),
    /// A `§` reference: the sections it names (a range expanded), and the text as written.
    Section {
        written: String,
        sections: Result<Vec<String>, String>,
    },
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')
}

/// A section number at the start of `s` (`7`, `7.3`): its parts and its length in bytes.
fn section_number(s: &str) -> Option<(Vec<u32>, usize)> {
    let bytes = s.as_bytes();
    let mut parts = Vec::new();
    let mut i = 0;
    loop {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None; // only reached before the first digit: a `§` that is prose
        }
        parts.push(s[start..i].parse().ok()?);
        // A dot continues the number only when a digit follows (`§7.3`, not `§4.`).
        if i + 1 < bytes.len() && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
            i += 1;
        } else {
            return Some((parts, i));
        }
    }
}

fn join(parts: &[u32]) -> String {
    parts
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// The sections of `§start-end`: `1-2` is 1 and 2, `7.3-5` and `7.3-7.5` are 7.3 to 7.5.
fn expand_range(start: &[u32], end: &[u32]) -> Result<Vec<String>, String> {
    let (prefix, first) = start.split_at(start.len() - 1);
    let (end_prefix, last) = if end.len() == 1 {
        (prefix, end)
    } else {
        end.split_at(end.len() - 1)
    };
    if end_prefix != prefix || last[0] < first[0] {
        return Err(format!("malformed range {}-{}", join(start), join(end)));
    }
    Ok((first[0]..=last[0])
        .map(|n| {
            let mut parts = prefix.to_vec();
            parts.push(n);
            join(&parts)
        })
        .collect())
}

/// The file names and `§` references of a citation text, in order of appearance.
fn tokens(text: &str) -> Vec<(usize, Token)> {
    let mut found = Vec::new();
    // File names: `<name chars>.md`, not followed by another letter or digit.
    for (at, _) in text.match_indices(".md") {
        let after = text[at + 3..].chars().next();
        if after.is_some_and(|c| c.is_ascii_alphanumeric()) {
            continue;
        }
        let start = text[..at]
            .char_indices()
            .rev()
            .take_while(|&(_, c)| is_name_char(c))
            .last()
            .map_or(at, |(i, _)| i);
        if start < at {
            found.push((start, Token::File(text[start..at + 3].to_string())));
        }
    }
    // Section references: `§N`, `§N.M`, `§N-M`; a `§` without a number is prose.
    for (at, _) in text.match_indices('§') {
        let rest = &text[at + '§'.len_utf8()..];
        let Some((start, mut len)) = section_number(rest) else {
            continue;
        };
        let mut sections = Ok(vec![join(&start)]);
        let tail = &rest[len..];
        if let Some(dash) = tail.chars().next().filter(|&c| c == '-' || c == '–') {
            if let Some((end, end_len)) = section_number(&tail[dash.len_utf8()..]) {
                sections = expand_range(&start, &end);
                len += dash.len_utf8() + end_len;
            }
        }
        let written = format!("§{}", &rest[..len]);
        found.push((at, Token::Section { written, sections }));
    }
    found.sort_by_key(|&(at, _)| at);
    found
}

// ------------------------------------------------------------------- resolution

/// The file a name refers to, cited from a file in `dir`.
fn resolve_file(root: &Path, dir: &Path, name: &str) -> Option<PathBuf> {
    let candidates = if let Some(rest) = name.strip_prefix(SHARED_CRITERIA_PREFIX) {
        vec![root.join(CRITERIA_DIR).join(rest)]
    } else if name.starts_with("../") || name.starts_with("./") {
        vec![dir.join(name)]
    } else if name.contains('/') {
        vec![root.join(name)]
    } else {
        vec![
            root.join(CRITERIA_DIR).join(name),
            root.join("docs").join(name),
        ]
    };
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .map(|p| p.canonicalize().unwrap())
}

/// The section numbers of a Markdown page: headings whose first word is a number
/// (`## 5. Title` is "5", `### 7.3 Title` is "7.3"), outside fenced code.
fn sections(markdown: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut in_fence = false;
    for (i, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence || !trimmed.starts_with('#') {
            continue;
        }
        let level = trimmed.chars().take_while(|&c| c == '#').count();
        let Some(title) = trimmed[level..].strip_prefix(' ') else {
            continue;
        };
        let word = title.split_whitespace().next().unwrap_or("");
        let number = word.strip_suffix('.').unwrap_or(word);
        if !number.is_empty()
            && number
                .split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        {
            out.push((i + 1, level, number.to_string()));
        }
    }
    out
}

fn section_set(path: &Path) -> BTreeSet<String> {
    let text = fs::read_to_string(path).unwrap();
    sections(&text).into_iter().map(|(_, _, n)| n).collect()
}

/// The notes file a rule file's header names ("Restated in shared/criteria/<id>.md; §
/// below refers to it"): the first `.md` reference of the leading comment lines that is a
/// criteria page.
fn header_default(root: &Path, dir: &Path, source: &str) -> Option<PathBuf> {
    let criteria = root.join(CRITERIA_DIR).canonicalize().unwrap();
    source
        .lines()
        .map(str::trim)
        .take_while(|l| l.is_empty() || l.starts_with('#'))
        .flat_map(|l| tokens(l).into_iter().map(|(_, t)| t))
        .filter_map(|t| match t {
            Token::File(name) => resolve_file(root, dir, &name),
            Token::Section { .. } => None,
        })
        .find(|p| p.starts_with(&criteria))
}

/// Checks one citation text; returns the number of references checked.
#[allow(clippy::too_many_arguments)]
fn check_text(
    root: &Path,
    dir: &Path,
    shown_file: &str,
    line: usize,
    text: &str,
    default: Option<&Path>,
    bare_reason: &str,
    problems: &mut Vec<String>,
) -> usize {
    let mut checked = 0;
    // The file a bare `§` refers to: Some(None) after a file that did not resolve.
    let mut current: Option<Option<PathBuf>> = default.map(|d| Some(d.to_path_buf()));
    let excerpt = text.trim();
    for (at, token) in tokens(text) {
        let at_line = line + text[..at].matches('\n').count();
        checked += 1;
        match token {
            Token::File(name) => {
                let resolved = resolve_file(root, dir, &name);
                if resolved.is_none() {
                    problems.push(format!(
                        "{shown_file}:{at_line}: {name}: no such file (looked for a criteria page \
                         in {CRITERIA_DIR}/, then docs/, or a path from the repository root)\n    \
                         in: \"{excerpt}\""
                    ));
                }
                current = Some(resolved);
            }
            Token::Section { written, sections } => match (&current, sections) {
                (_, Err(why)) => problems.push(format!(
                    "{shown_file}:{at_line}: {written}: {why}\n    in: \"{excerpt}\""
                )),
                (None, Ok(_)) => problems.push(format!(
                    "{shown_file}:{at_line}: {written}: {bare_reason}\n    in: \"{excerpt}\""
                )),
                (Some(None), Ok(_)) => {} // the file was reported already
                (Some(Some(path)), Ok(sections)) => {
                    let have = section_set(path);
                    for s in sections.iter().filter(|s| !have.contains(*s)) {
                        problems.push(format!(
                            "{shown_file}:{at_line}: {written}: {} has no section §{s}\n    \
                             in: \"{excerpt}\"",
                            shown(root, path)
                        ));
                    }
                }
            },
        }
    }
    checked
}

fn rule_files(root: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(root.join("rules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rano"))
        .collect();
    files.sort();
    files
}

// ------------------------------------------------------------------------- tests

#[test]
fn rule_file_citations_resolve() {
    let root = repo_root();
    let files = rule_files(&root);
    assert!(
        files.iter().any(|f| f.ends_with("irano-2015-core.rano")),
        "the overlay rules/irano-2015-core.rano was not found"
    );
    let mut problems = Vec::new();
    let mut summary = String::new();
    for file in &files {
        let source = fs::read_to_string(file).unwrap();
        let dir = file.parent().unwrap();
        let shown_file = shown(&root, file);
        let default = header_default(&root, dir, &source);
        let mut checked = 0;
        for region in regions(&source) {
            let (default, bare_reason) = match region.kind {
                Kind::Str => (
                    None,
                    "a section with no file named before it in this string (a cite string is \
                     shown on its own; name the file, e.g. `<id>.md §N`)",
                ),
                Kind::Comment => (
                    default.as_deref(),
                    "a section with no file named before it, and the file's header names no \
                     criteria notes",
                ),
            };
            checked += check_text(
                &root,
                dir,
                &shown_file,
                region.line,
                &region.text,
                default,
                bare_reason,
                &mut problems,
            );
        }
        let _ = writeln!(summary, "{shown_file}: {checked} references");
        // Guard against a scanner that silently finds nothing.
        if source.contains('§') {
            assert!(
                checked > 0,
                "{shown_file}: has § but no reference was found"
            );
        }
    }
    println!("{summary}");
    assert!(
        problems.is_empty(),
        "{} unresolved citation(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn criteria_pages_cross_references_resolve() {
    let root = repo_root();
    let dir = root.join(CRITERIA_DIR);
    let mut problems = Vec::new();
    for page in CRITERIA_PAGES {
        let path = dir.join(page);
        let text =
            fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", shown(&root, &path)));
        let own = path.canonicalize().unwrap();
        let shown_file = shown(&root, &path);
        for (i, line) in text.lines().enumerate() {
            // On a page, a bare § refers to the page itself.
            check_text(
                &root,
                &dir,
                &shown_file,
                i + 1,
                line,
                Some(&own),
                "unreachable",
                &mut problems,
            );
        }
    }
    assert!(
        problems.is_empty(),
        "{} unresolved reference(s) in the criteria pages:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn criteria_pages_are_numbered_and_indexed() {
    let root = repo_root();
    let dir = root.join(CRITERIA_DIR);
    let readme = fs::read_to_string(dir.join("README.md")).unwrap();
    let mut problems = Vec::new();
    for page in CRITERIA_PAGES {
        let path = dir.join(page);
        let text =
            fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", shown(&root, &path)));
        if !readme.contains(&format!("]({page})")) {
            problems.push(format!("{CRITERIA_DIR}/README.md does not link {page}"));
        }
        let mut top = 0_u32;
        let mut sub = 0_u32;
        for (line, level, number) in sections(&text) {
            let parts: Vec<u32> = number.split('.').map(|p| p.parse().unwrap()).collect();
            let at = format!("{CRITERIA_DIR}/{page}:{line}");
            match (level, parts.as_slice()) {
                (2, [n]) => {
                    if *n != top + 1 {
                        problems.push(format!("{at}: section {n} follows section {top}"));
                    }
                    top = *n;
                    sub = 0;
                }
                (3, [n, m]) => {
                    if *n != top {
                        problems.push(format!("{at}: sub-section {number} inside section {top}"));
                    }
                    if *m != sub + 1 {
                        problems.push(format!("{at}: sub-section {number} follows {top}.{sub}"));
                    }
                    sub = *m;
                }
                _ => problems.push(format!(
                    "{at}: numbered heading {number} at level {level} (use `## N.` or `### N.M`)"
                )),
            }
        }
        if top == 0 {
            problems.push(format!("{CRITERIA_DIR}/{page}: no numbered sections"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_scanner_reads_the_citation_forms() {
    let sections_of = |text: &str| -> Vec<String> {
        tokens(text)
            .into_iter()
            .map(|(_, t)| match t {
                Token::File(name) => format!("file {name}"),
                Token::Section { sections, .. } => sections.unwrap().join(" "),
            })
            .collect()
    };
    assert_eq!(
        sections_of("Wen 2010, PD; rano-hgg-2010.md §5 [V]"),
        ["file rano-hgg-2010.md", "5"]
    );
    assert_eq!(
        sections_of("rano-hgg-2010.md §7.3, §7.6 [C]: for imaging, §7.4 only."),
        ["file rano-hgg-2010.md", "7.3", "7.6", "7.4"]
    );
    assert_eq!(
        sections_of("(rano-hgg-2010.md §1-2 [V]) and §7.3-5, §10."),
        ["file rano-hgg-2010.md", "1 2", "7.3 7.4 7.5", "10"]
    );
    assert_eq!(
        sections_of("Restated in shared/criteria/irrc-2009.md; § below refers to it."),
        ["file shared/criteria/irrc-2009.md"]
    );
    assert_eq!(
        sections_of("see rules/README.md and case-format.md, not foo.mdx"),
        ["file rules/README.md", "file case-format.md"]
    );

    let source = "# header\ncite \"a \\\"q\\\" §1\" # c §2\n  doc \"x\ny\"\n";
    let found: Vec<(Kind, usize, String)> = regions(source)
        .into_iter()
        .map(|r| (r.kind, r.line, r.text))
        .collect();
    assert_eq!(
        found,
        [
            (Kind::Comment, 1, " header".to_string()),
            (Kind::Str, 2, "a \"q\" §1".to_string()),
            (Kind::Comment, 2, " c §2".to_string()),
            (Kind::Str, 3, "x\ny".to_string()),
        ]
    );

    let headings: Vec<String> = sections("# T\n## 1. A\n### 1.1 B\n```\n## 9. no\n```\n## 2 C\n")
        .into_iter()
        .map(|(_, _, n)| n)
        .collect();
    assert_eq!(headings, ["1", "1.1", "2"]);
}
