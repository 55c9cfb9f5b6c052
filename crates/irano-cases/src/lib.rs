//! Case readers: YAML, JSON and JSON Lines files → validated [`Case`]s.
//!
//! ```text
//! text ─┬─ YAML (granit-parser events) ─┐
//!       └─ JSON / JSON Lines (tree.rs) ─┴→ node tree with spans → convert.rs → Vec<Case>
//! ```
//!
//! Every value keeps its source span, so each [`CaseError`] points at the offending value
//! (`file:line:column`). A reader collects all errors of a file and returns no case from a
//! file that has any error.

mod convert;
mod error;
pub mod model;
mod tree;

use std::collections::HashMap;
use std::path::Path;

use irano_exact::Rational;

pub use error::{is_utf16, CaseError};
pub use model::*;

use bumpalo::Bump;
use convert::{ReadCase, Reader};
use error::SourceFile;
use tree::{Node, NodeKind, TreeError, TreeErrorKind};

/// The syntax of a case file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
    /// One case per non-blank line.
    JsonLines,
}

impl Format {
    /// From a file extension: `.yaml`/`.yml`, `.json`, `.jsonl`/`.ndjson`.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            "jsonl" | "ndjson" => Some(Format::JsonLines),
            _ => None,
        }
    }
}

/// Reads the cases of one file's text. `file_name` is used in messages and [`Origin`].
pub fn read_str(text: &str, file_name: &str, format: Format) -> Result<Vec<Case>, Vec<CaseError>> {
    let src = SourceFile::new(file_name, text);
    let mut read = read_source(&src, format)?;
    let mut errors = Vec::new();
    check_unique(&mut read, &mut errors);
    if errors.is_empty() {
        Ok(read.into_iter().map(|(_, r)| r.case).collect())
    } else {
        Err(errors)
    }
}

/// The case files in a directory and its subdirectories, in path order (component by
/// component, names compared byte by byte: `a/z.yaml` before `a.yaml`), with their syntax. Hidden
/// entries (`.git`, `.DS_Store`) are skipped, and so are symbolic links to directories (a
/// link may loop); a symbolic link to a file is read.
pub fn case_files(dir: &Path) -> Result<Vec<(std::path::PathBuf, Format)>, Vec<CaseError>> {
    case_files_and_others(dir).map(|(files, _)| files)
}

/// [`case_files`], and the other files of the directory and its subdirectories (not hidden,
/// not case files: `notes.txt`, `cohort.csv`, `part1.jsonl.bak`), in path order, for a
/// command to say it left them out.
#[allow(clippy::type_complexity)]
pub fn case_files_and_others(
    dir: &Path,
) -> Result<(Vec<(std::path::PathBuf, Format)>, Vec<std::path::PathBuf>), Vec<CaseError>> {
    let shown = dir.display().to_string();
    let mut files = Vec::new();
    let mut others = Vec::new();
    let mut seen = Vec::new();
    collect_case_files(dir, &mut files, &mut others, &mut seen)?;
    files.sort_by(|a, b| a.0.components().cmp(b.0.components()));
    others.sort_by(|a, b| a.components().cmp(b.components()));
    if files.is_empty() {
        return Err(vec![CaseError::io(
            &shown,
            format!("no case files in `{shown}` or its subdirectories"),
            "put `.yaml`, `.yml`, `.json`, `.jsonl` or `.ndjson` case files in the directory",
        )]);
    }
    Ok((files, others))
}

/// `seen`: the directories read so far, canonical, so that a link back up the tree is read
/// once rather than for ever.
fn collect_case_files(
    dir: &Path,
    files: &mut Vec<(std::path::PathBuf, Format)>,
    others: &mut Vec<std::path::PathBuf>,
    seen: &mut Vec<std::path::PathBuf>,
) -> Result<(), Vec<CaseError>> {
    let shown = dir.display().to_string();
    if let Ok(real) = std::fs::canonicalize(dir) {
        if seen.contains(&real) {
            return Ok(());
        }
        seen.push(real);
    }
    let entries = std::fs::read_dir(dir).map_err(|e| {
        vec![CaseError::io(
            &shown,
            format!("cannot read directory `{shown}`: {}", lower(&e)),
            "check that the directory exists and is readable",
        )]
    })?;
    for entry in entries.flatten() {
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden {
            continue;
        }
        let p = entry.path();
        // links are followed (`is_dir` and `is_file` read through them); a link to
        // nothing that names a case file is an error, not a case left out in silence
        if p.is_dir() {
            collect_case_files(&p, files, others, seen)?;
        } else if p.is_file() {
            match Format::from_path(&p) {
                Some(f) => files.push((p, f)),
                None => others.push(p),
            }
        } else if Format::from_path(&p).is_some() {
            let name = p.display().to_string();
            return Err(vec![CaseError::io(
                &name,
                format!("`{name}` is a link to nothing (or cannot be read): its case is not read"),
                "fix the link, or remove it from the folder",
            )]);
        }
    }
    Ok(())
}

/// The syntax of a case file named on the command line: a missing path, a CSV file and
/// an unknown extension each get their own message.
pub fn case_file(path: &Path) -> Result<Format, Vec<CaseError>> {
    let shown = path.display().to_string();
    if let Err(e) = std::fs::metadata(path) {
        return Err(vec![if shown == "-" {
            CaseError::io(
                &shown,
                "`-` (standard input) is read by `eval` only, not by this command".to_string(),
                "save the cases to a file and name it (`irano-eval eval` reads `-`)",
            )
        } else {
            CaseError::io(
                &shown,
                format!("cannot read `{shown}`: {}", lower(&e)),
                "check the path",
            )
        }]);
    }
    if let Some(f) = Format::from_path(path) {
        return Ok(f);
    }
    let csv = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let compressed = path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        ["gz", "bz2", "xz", "zst", "zip"]
            .iter()
            .any(|c| e.eq_ignore_ascii_case(c))
    });
    Err(vec![if compressed {
        CaseError::io(
            &shown,
            format!("`{shown}` is a compressed file; cases are YAML, JSON or JSON Lines text"),
            "decompress it first; `irano-eval eval` also reads a pipe: `zcat cases.jsonl.gz | irano-eval eval --rules RULES -`",
        )
    } else if csv {
        CaseError::io(
            &shown,
            format!("`{shown}` is a CSV file; cases are YAML, JSON or JSON Lines"),
            "SDTM tumour data (TU/TR domains, CSV or XPT) become cases through `irano-eval import sdtm`; a CSV of another layout is first written as cases in the format of docs/case-format.md (one YAML or JSON object per patient)",
        )
    } else {
        CaseError::io(
            &shown,
            format!("`{shown}` is not a case file"),
            "name case files `.yaml`, `.yml`, `.json`, `.jsonl` or `.ndjson`",
        )
    }])
}

/// The syntax of a stream from its first bytes: `[` is JSON, `{` JSON Lines when the
/// first line holds a whole object (else JSON), anything else YAML; a brace followed by
/// an unquoted key (`{patient: P1, ...}`) is YAML in flow style, which JSON cannot be.
pub fn sniff(head: &[u8]) -> Format {
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    // JSON quotes its keys: `{patient: ...}` (or `[{patient: ...}]`) is YAML in flow style
    let key_unquoted = |after_brace: &str| {
        !matches!(
            after_brace.trim_start().chars().next(),
            Some('"' | '}') | None
        )
    };
    if let Some(rest) = t.strip_prefix('[') {
        return match rest.trim_start().strip_prefix('{') {
            Some(obj) if key_unquoted(obj) => Format::Yaml,
            _ => Format::Json,
        };
    }
    if let Some(obj) = t.strip_prefix('{') {
        if key_unquoted(obj) {
            return Format::Yaml;
        }
        let first = t.lines().next().unwrap_or("").trim_end();
        return if first.len() > 1 && first.ends_with('}') {
            Format::JsonLines
        } else {
            Format::Json
        };
    }
    Format::Yaml
}

/// The error for a JSON Lines file (or stream) without a case.
pub fn no_case(file_name: &str) -> CaseError {
    let src = SourceFile::new(file_name, "");
    CaseError::at(
        &src,
        0..0,
        "case::empty",
        format!("`{file_name}` holds no case"),
        "empty",
        "write a case (a mapping with `patient`, `setting`, `therapy_start` and `assessments`) or a list of cases",
    )
}

/// A case read from one line of a JSON Lines file, with the byte range of its `patient`
/// value in the line (for [`duplicate_patient`]).
#[derive(Debug)]
pub struct LineCase {
    pub case: Case,
    pub patient_span: std::ops::Range<usize>,
}

/// Reads line `line_no` (1-based) of the JSON Lines file `file_name` on its own, for
/// streaming: errors are located in the file. `Ok(None)` for a blank line.
pub fn read_json_line(
    text: &str,
    file_name: &str,
    line_no: usize,
) -> Result<Option<LineCase>, Vec<CaseError>> {
    let line = text.strip_suffix('\r').unwrap_or(text);
    // blank, or only the byte-order mark a file may start with
    let blank = if line_no == 1 {
        line.trim_start_matches('\u{feff}')
    } else {
        line
    };
    if blank.trim().is_empty() {
        return Ok(None);
    }
    let src = SourceFile::line(file_name, line, line_no);
    let mut reader = Reader::new(&src);
    let mut case = None;
    // the worker's arena, reused line after line
    thread_local! {
        static ARENA: std::cell::RefCell<Bump> = std::cell::RefCell::new(Bump::new());
    }
    ARENA.with_borrow_mut(|bump| {
        bump.reset();
        read_line_into(&mut reader, &mut case, line, bump);
        // a very long line leaves a large chunk behind: give it back rather than keep it
        if bump.allocated_bytes() > ARENA_KEEP_BYTES {
            *bump = Bump::new();
        }
    });
    let mut errors = reader.errors;
    match case {
        Some(r) if errors.is_empty() => Ok(Some(LineCase {
            case: r.case,
            patient_span: r.patient_span,
        })),
        _ => {
            errors.sort_by_key(CaseError::offset);
            Err(errors)
        }
    }
}

/// The most a worker's arena keeps between lines (a case line of a few kilobytes needs a
/// few tens of kilobytes).
const ARENA_KEEP_BYTES: usize = 4 << 20;

fn read_line_into(reader: &mut Reader<'_>, case: &mut Option<ReadCase>, line: &str, bump: &Bump) {
    match tree::parse_json(line, 0, bump) {
        Ok(doc) => {
            if let NodeKind::Map(_) = doc.kind {
                *case = reader.case(&doc);
            } else {
                let span = reader.head_span(&doc);
                reader.error(
                    span,
                    "case::wrong_type",
                    "each line of a JSON Lines file must hold one case (an object)",
                    "not an object",
                    "write one case object per line, e.g. `{\"patient\": \"P1\", ...}`",
                );
            }
        }
        Err(e) => {
            let mut err = tree_error(reader.src, &e, "json");
            if line.contains('\r') {
                // lines ended by a carriage return alone (old Mac files) read as one line
                err = err.with_help("this line holds carriage returns (`\\r`) without line feeds: the file's lines end the old Mac way, so they read as one line; convert the line ends (e.g. `tr '\\r' '\\n' < IN > OUT`)");
            }
            reader.errors.push(err);
        }
    }
}

/// When a text read as JSON Lines (`text` holds lines from `first_line_no` on) starts with a
/// line of YAML (`patient: P1`, `- date: ...`, `---`, a `#` comment) or with a JSON document
/// written over many lines (a line holding only `[` or `{`), the one error to report for the
/// file, instead of one syntax error per line.
pub fn misread_as_json_lines(
    text: &str,
    file_name: &str,
    first_line_no: usize,
) -> Option<CaseError> {
    let (i, raw) = text
        .split('\n')
        .enumerate()
        .find(|(_, l)| !l.trim().is_empty())?;
    let line = raw.strip_suffix('\r').unwrap_or(raw);
    let t = line.trim_start();
    if matches!(t.trim_end(), "[" | "{") {
        // a JSON document written over many lines (pretty-printed): one error, not one
        // per line
        let src = SourceFile::line(file_name, line, first_line_no + i);
        return Some(CaseError::at(
            &src,
            0..line.len(),
            "case::json_read_as_json_lines",
            format!("`{file_name}` is read as JSON Lines (one case per line), but it holds JSON written over many lines"),
            "a JSON value spread over lines",
            "rename the file `.json` (or give standard input `--input-format json`), or write one case per line (`jq -c '.[]' cases.json > cases.jsonl`)",
        ));
    }
    let key = t.split_once(':').is_some_and(|(k, rest)| {
        !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && (rest.is_empty() || rest.starts_with(' '))
    });
    let yaml = key || t.starts_with("- ") || t == "-" || t.starts_with("---") || t.starts_with('#');
    if !yaml || tree::parse_json(line, 0, &Bump::new()).is_ok() {
        return None;
    }
    let src = SourceFile::line(file_name, line, first_line_no + i);
    Some(CaseError::at(
        &src,
        0..line.len(),
        "case::yaml_read_as_json",
        format!("`{file_name}` is read as JSON Lines, but it holds YAML"),
        "YAML, not JSON",
        "rename the file `.yaml` (its `.jsonl` name says how it is read), or give standard input `--input-format yaml`",
    ))
}

/// The error for a second case of a patient, read from line `line_no` of a JSON Lines
/// file (`text` is that line); the first case is in `first_file` at `first_line`.
pub fn duplicate_patient(
    patient: &str,
    text: &str,
    file_name: &str,
    line_no: usize,
    patient_span: std::ops::Range<usize>,
    first_file: &str,
    first_line: usize,
) -> CaseError {
    let line = text.strip_suffix('\r').unwrap_or(text);
    let src = SourceFile::line(file_name, line, line_no);
    CaseError::at(
        &src,
        patient_span,
        "case::duplicate_patient",
        format!("patient `{patient}` appears in two cases"),
        "second case of this patient",
        format!(
            "give each case its own `patient` id (the first is in `{first_file}` at line {first_line})"
        ),
    )
}

/// Reads a file, or every case file (`.yaml`, `.yml`, `.json`, `.jsonl`, `.ndjson`) directly
/// inside a directory, in file-name order. Any error in any file: no case at all.
pub fn read_path(path: &Path) -> Result<Vec<Case>, Vec<CaseError>> {
    let files = if path.is_dir() {
        case_files(path)?
    } else {
        vec![(path.to_path_buf(), case_file(path)?)]
    };
    let mut all: Vec<(SourceFile, ReadCase)> = Vec::new();
    let mut errors = Vec::new();
    for (p, format) in files {
        let name = p.display().to_string();
        let text = match std::fs::read(&p) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(t) => t,
                Err(e) => {
                    errors.push(CaseError::not_utf8(&name, e.as_bytes()));
                    continue;
                }
            },
            Err(e) => {
                errors.push(CaseError::io(
                    &name,
                    format!("cannot read `{name}`: {}", lower(&e)),
                    "check that the file exists and is readable",
                ));
                continue;
            }
        };
        let src = SourceFile::new(&name, &text);
        match read_source(&src, format) {
            Ok(cases) => all.extend(cases),
            Err(e) => errors.extend(e),
        }
    }
    check_unique(&mut all, &mut errors);
    if errors.is_empty() {
        Ok(all.into_iter().map(|(_, r)| r.case).collect())
    } else {
        Err(errors)
    }
}

fn lower(e: &std::io::Error) -> String {
    let s = e.to_string();
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => s,
    }
}

/// `patient` must be unique among the cases one call returns.
fn check_unique(cases: &mut [(SourceFile, ReadCase)], errors: &mut Vec<CaseError>) {
    let mut first: HashMap<&str, (&str, usize)> = HashMap::new();
    for (src, r) in cases.iter() {
        let p = r.case.patient.as_str();
        match first.get(p) {
            Some((file, line)) => errors.push(CaseError::at(
                src,
                r.patient_span.clone(),
                "case::duplicate_patient",
                format!("patient `{p}` appears in two cases"),
                "second case of this patient",
                format!(
                    "give each case its own `patient` id (the first is in `{file}` at line {line})"
                ),
            )),
            None => {
                first.insert(p, (src.name.as_str(), r.case.origin.line));
            }
        }
    }
}

/// The innermost YAML flow collection (`{`/`[`) opened on an earlier line than `at` and
/// not closed before it, with its 1-based line: the likely cause of a syntax error there.
/// Quoted strings and comments are skipped.
fn unclosed_flow(text: &str, at: usize) -> Option<(usize, char)> {
    let before = text.get(..at)?;
    let mut open: Vec<(usize, char)> = Vec::new();
    let mut line = 1;
    let mut quote: Option<char> = None;
    let mut comment = false;
    let mut prev = ' ';
    for c in before.chars() {
        if c == '\n' {
            line += 1;
            comment = false;
            prev = c;
            continue;
        }
        if comment {
            continue;
        }
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                // a quoted scalar starts a value, not the middle of a word (`patient's`)
                '"' | '\''
                    if prev.is_whitespace() || matches!(prev, ':' | '[' | '{' | ',' | '-') =>
                {
                    quote = Some(c)
                }
                '#' if prev.is_whitespace() => comment = true,
                '{' | '[' => open.push((line, c)),
                '}' | ']' => {
                    open.pop();
                }
                _ => {}
            },
        }
        prev = c;
    }
    open.last().copied().filter(|(l, _)| *l < line)
}

fn tree_error(src: &SourceFile, e: &TreeError, what: &str) -> CaseError {
    let end = src
        .text
        .get(e.at..)
        .and_then(|s| s.chars().next())
        .map_or(e.at, |c| e.at + c.len_utf8());
    match e.kind {
        TreeErrorKind::Syntax => CaseError::at(
            src,
            e.at..end,
            "case::syntax",
            format!("invalid {what}: {}", e.message),
            "here",
            if let Some(h) = e.help {
                h
            } else if e.message.contains("tab") {
                "indent with spaces: YAML does not allow a tab in indentation (replace each tab by spaces)"
            } else if what == "json" {
                "check for a missing or extra `,`, `:`, quote or bracket at this point"
            } else if let Some((line, open)) = unclosed_flow(&src.text, e.at) {
                let close = if open == '{' { '}' } else { ']' };
                return CaseError::at(
                    src,
                    e.at..end,
                    "case::syntax",
                    format!("invalid {what}: {}", e.message),
                    "here",
                    format!("line {line} opens `{open}` and no `{close}` closes it before this point: close it at the end of that line"),
                );
            } else {
                "check the indentation, the `:` after each field name and the quoting at this point"
            },
        ),
        TreeErrorKind::TooDeep => CaseError::at(
            src,
            e.at..end,
            "case::too_deep",
            format!("the {what} is nested too deeply ({})", e.message),
            "too deep",
            "a case needs only a few levels of nesting: check for runaway brackets",
        ),
        TreeErrorKind::Alias => CaseError::at(
            src,
            e.at..end,
            "case::alias",
            e.message.clone(),
            "alias",
            "write the value out in full instead of using `*alias`",
        ),
    }
}

/// Reads and validates one file; `Err` when any error was found.
fn read_source(
    src: &SourceFile,
    format: Format,
) -> Result<Vec<(SourceFile, ReadCase)>, Vec<CaseError>> {
    let mut reader = Reader::new(src);
    let mut cases = Vec::new();
    let mut any_document = false;
    let mut bump = Bump::new();
    let whole_file_error = (format == Format::JsonLines)
        .then(|| misread_as_json_lines(&src.text, &src.name, 1))
        .flatten();
    match format {
        Format::Yaml => match tree::parse_yaml(&src.text, &bump) {
            Ok(docs) => {
                for doc in &docs {
                    if doc.is_null() {
                        continue;
                    }
                    any_document = true;
                    read_root(&mut reader, doc, &mut cases);
                }
            }
            Err(e) => reader.errors.push(tree_error(src, &e, "yaml")),
        },
        Format::Json | Format::JsonLines if yaml_not_json(&src.text) => {
            // one error, not one per line: the file is YAML read as JSON
            let first = src.text.len() - src.text.trim_start().len();
            let end = src.text[first..]
                .find('\n')
                .map_or(src.text.len(), |i| first + i);
            let (kind, ext) = if format == Format::Json {
                ("JSON", ".json")
            } else {
                ("JSON Lines", ".jsonl")
            };
            reader.errors.push(CaseError::at(
                src,
                first..end,
                "case::yaml_read_as_json",
                format!("`{}` is read as {kind}, but it holds YAML", src.name),
                "YAML, not JSON",
                format!("rename the file `.yaml` (a `{ext}` name, or `--input-format` for standard input, says how it is read), or give standard input `--input-format yaml`"),
            ));
            any_document = true;
        }
        Format::Json => {
            any_document = true;
            match tree::parse_json(&src.text, 0, &bump) {
                Ok(doc) => read_root(&mut reader, &doc, &mut cases),
                Err(e) => reader.errors.push(tree_error(src, &e, "json")),
            }
        }
        Format::JsonLines if whole_file_error.is_some() => {
            // one error for the file (JSON written over many lines), not one per line
            reader.errors.extend(whole_file_error);
            any_document = true;
        }
        Format::JsonLines => {
            let mut offset = 0;
            for raw_line in src.text.split('\n') {
                let start = offset;
                offset += raw_line.len() + 1;
                let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
                if line.trim().is_empty() {
                    continue;
                }
                any_document = true;
                bump.reset();
                match tree::parse_json(line, start, &bump) {
                    Ok(doc) => {
                        if let NodeKind::Map(_) = doc.kind {
                            if let Some(c) = reader.case(&doc) {
                                cases.push(c);
                            }
                        } else {
                            let span = reader.head_span(&doc);
                            reader.error(
                                span,
                                "case::wrong_type",
                                "each line of a JSON Lines file must hold one case (an object)",
                                "not an object",
                                "write one case object per line, e.g. `{\"patient\": \"P1\", ...}`",
                            );
                        }
                    }
                    Err(e) => reader.errors.push(tree_error(src, &e, "json")),
                }
            }
        }
    }
    let mut errors = reader.errors;
    if !any_document && errors.is_empty() {
        errors.push(CaseError::at(
            src,
            0..0,
            "case::empty",
            format!("`{}` holds no case", src.name),
            "empty",
            "write a case (a mapping with `patient`, `setting`, `therapy_start` and `assessments`) or a list of cases",
        ));
    }
    if errors.is_empty() {
        Ok(cases.into_iter().map(|c| (src.clone(), c)).collect())
    } else {
        errors.sort_by_key(CaseError::offset);
        Err(errors)
    }
}

/// Whether `text`, to be read as JSON, is YAML: its first character cannot start a JSON
/// object or list, and it parses as a YAML mapping or list.
fn yaml_not_json(text: &str) -> bool {
    // a byte-order mark (Windows tools write one) starts neither
    let t = text.trim_start_matches('\u{feff}').trim_start();
    !t.is_empty()
        && !t.starts_with(['{', '['])
        && tree::parse_yaml(text, &Bump::new()).is_ok_and(|docs| {
            docs.iter()
                .any(|d| matches!(d.kind, NodeKind::Map(_) | NodeKind::Seq(_)))
        })
}

/// A document: one case (a mapping) or a list of cases.
fn read_root(reader: &mut Reader<'_>, doc: &Node, cases: &mut Vec<ReadCase>) {
    match &doc.kind {
        NodeKind::Map(_) => cases.extend(reader.case(doc)),
        NodeKind::Seq(items) => {
            for item in items.iter() {
                if let NodeKind::Map(_) = item.kind {
                    cases.extend(reader.case(item));
                } else {
                    let span = reader.head_span(item);
                    reader.error(
                        span,
                        "case::wrong_type",
                        "a list of cases must hold only cases (mappings)",
                        "not a case",
                        "write each case as a mapping with `patient`, `setting`, `therapy_start` and `assessments`",
                    );
                }
            }
        }
        NodeKind::Scalar { .. } => {
            let span = reader.head_span(doc);
            reader.error(
                span,
                "case::wrong_type",
                "a case file must hold a case (a mapping) or a list of cases",
                "not a case",
                "write a case as `field: value` pairs starting with `patient:`",
            );
        }
    }
}

/// Below this, in mm, no lesion length of a whole case is plausible: the case format's unit
/// is mm, and a case measured in cm would read ten times too small. A check of the input's
/// unit, not of any criterion (no criterion decides anything on it).
pub const LENGTH_SANITY_MM: i64 = 5;

/// The largest lesion length of the case (diameters, longest diameters and short axes, mm)
/// when every one given is below [`LENGTH_SANITY_MM`]; `None` when one reaches it or none is
/// given.
pub fn lengths_look_like_cm(case: &Case) -> Option<Rational> {
    let limit = Rational::from_int(LENGTH_SANITY_MM);
    let mut largest: Option<Rational> = None;
    for o in case
        .assessments
        .iter()
        .flat_map(|a| a.lesions.iter().chain(&a.new_lesions))
    {
        for v in o.d.iter().flatten().chain(o.ld.iter()).chain(o.sa.iter()) {
            if *v >= limit {
                return None;
            }
            largest = Some(largest.map_or(*v, |m| m.max(*v)));
        }
    }
    largest.filter(|m| !m.is_zero())
}

/// The scans on which every lesion length given is below [`LENGTH_SANITY_MM`] while a lesion
/// of that scan measured at least twice that, and seven times the scan's largest, on the last
/// scan that measured it: one scan keyed in cm in a
/// case measured in mm (its lengths read ten times too small, and the next scan's as a
/// tenfold growth). `(scan index, its largest length, the earlier length)`, in scan order.
pub fn scans_look_like_cm(case: &Case) -> Vec<(usize, Rational, Rational)> {
    let limit = Rational::from_int(LENGTH_SANITY_MM);
    let earlier_limit = Rational::from_int(2 * LENGTH_SANITY_MM);
    // the largest non-zero length an observation gives (no allocation: run on every case)
    let largest = largest_length;
    // most cases have a length of 5 mm or more on every scan that measures anything
    let suspicious = case.assessments.iter().any(|a| {
        let mut measured = false;
        for o in a.lesions.iter().chain(&a.new_lesions) {
            if let Some(m) = largest(o) {
                if m >= limit {
                    return false;
                }
                measured = true;
            }
        }
        measured
    });
    if !suspicious {
        return Vec::new();
    }
    // each lesion's largest length on the last scan that measured it
    let mut last: Vec<Option<Rational>> = vec![None; case.lesions.len()];
    let mut out = Vec::new();
    for (i, a) in case.assessments.iter().enumerate() {
        let mut scan_max: Option<Rational> = None;
        let mut before: Option<Rational> = None;
        for o in a.lesions.iter().chain(&a.new_lesions) {
            let Some(v) = largest(o) else {
                continue;
            };
            scan_max = Some(scan_max.map_or(v, |m| m.max(v)));
            // only lesions measured on this scan compare with their last measurement
            if let Some(Some(b)) = last.get(o.lesion) {
                before = Some(before.map_or(*b, |m: Rational| m.max(*b)));
            }
        }
        if let (Some(m), Some(b)) = (scan_max, before) {
            // at least seven times smaller than before (a length in cm is ten times smaller):
            // a deep response measures 0 (gone) or is flagged too small, and a node that
            // returns to normal size shrinks less, rarely as much across every lesion
            let sevenfold = m.checked_mul(Rational::from_int(7)).is_ok_and(|x| x <= b);
            if m < limit && b >= earlier_limit && sevenfold {
                out.push((i, m, b));
            }
        }
        for o in a.lesions.iter().chain(&a.new_lesions) {
            let Some(slot) = last.get_mut(o.lesion) else {
                continue;
            };
            match largest(o) {
                Some(v) => *slot = Some(v),
                // gone: what reappears later is not compared with its size before
                None if reported_gone(o) => {
                    *slot = None;
                }
                None => {}
            }
        }
    }
    out
}

/// The largest non-zero length an observation gives (`d`, `ld`, `sa`; no allocation: the
/// unit checks run on every case).
fn largest_length(o: &Observation) -> Option<Rational> {
    let mut m: Option<Rational> = None;
    for v in o.d.iter().flatten().chain(o.ld.iter()).chain(o.sa.iter()) {
        if !v.is_zero() && m.is_none_or(|x| *v > x) {
            m = Some(*v);
        }
    }
    m
}

/// Whether an observation reports the lesion gone (`status: absent`, or `d: [0, 0]`): what
/// reappears later is not compared with its size before.
fn reported_gone(o: &Observation) -> bool {
    o.status == Some(MeasureStatus::Absent) || o.d.is_some_and(|d| d.iter().all(Rational::is_zero))
}

/// Lesions measured on one scan at a seventh or less of their length on the scans that
/// measured them just before and just after: one lesion keyed in cm among lesions in mm (a
/// lesion does not shrink sevenfold and regrow as much within two intervals).
/// `(scan index, lesion index, length, length before, length after)`.
pub fn lesions_look_like_cm(case: &Case) -> Vec<(usize, usize, Rational, Rational, Rational)> {
    let seven = Rational::from_int(7);
    // 7·x <= of, exactly: for x = a/b and of = c/d (denominators positive) 7·a·d <= c·b, in
    // 128-bit products; the reduced product only when those overflow (run on every case)
    let at_most_a_seventh = |x: Rational, of: Rational| {
        let scaled = x
            .numer()
            .checked_mul(7)
            .and_then(|n| n.checked_mul(of.denom()));
        match (scaled, of.numer().checked_mul(x.denom())) {
            (Some(l), Some(r)) => l <= r,
            _ => x.checked_mul(seven).is_ok_and(|y| y <= of),
        }
    };
    // per lesion: its last two measurements (scan, largest length), oldest first
    let mut seen: Vec<[Option<(usize, Rational)>; 2]> = vec![[None, None]; case.lesions.len()];
    let mut out = Vec::new();
    for (i, a) in case.assessments.iter().enumerate() {
        for o in a.lesions.iter().chain(&a.new_lesions) {
            let Some(slot) = seen.get_mut(o.lesion) else {
                continue;
            };
            let Some(v) = largest_length(o) else {
                if reported_gone(o) {
                    *slot = [None, None];
                }
                continue;
            };
            if let [Some((_, p)), Some((k, x))] = *slot {
                if at_most_a_seventh(x, p) && at_most_a_seventh(x, v) {
                    out.push((k, o.lesion, x, p, v));
                }
            }
            *slot = [slot[1], Some((i, v))];
        }
    }
    out
}

#[cfg(test)]
mod tests;
