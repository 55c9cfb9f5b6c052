//! The one error type of the case readers: a located diagnostic with a stable code.

use std::fmt;
use std::sync::Arc;

use miette::{
    Diagnostic, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};

/// A file's name and text, shared by every error found in it, with the byte offset of
/// every line start so that a position's line is found by binary search (a cohort file
/// has one line per case; counting from the top for each would be quadratic).
#[derive(Debug, Clone)]
pub(crate) struct SourceFile {
    pub name: String,
    pub text: Arc<str>,
    line_starts: Arc<[usize]>,
    /// Lines of the file before `text` (a JSON Lines line read on its own).
    first_line: usize,
}

impl SourceFile {
    pub fn new(name: &str, text: &str) -> Self {
        let line_starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            name: name.to_string(),
            text: Arc::from(text),
            line_starts: Arc::from(line_starts),
            first_line: 0,
        }
    }

    /// Line `line` (1-based) of a file, read on its own: positions are reported in the file.
    pub fn line(name: &str, text: &str, line: usize) -> Self {
        SourceFile {
            name: name.to_string(),
            text: Arc::from(text),
            line_starts: Arc::from(vec![0]),
            first_line: line.saturating_sub(1),
        }
    }

    /// 1-based line of a byte offset (as [`SourceFile::line_col`], without the column).
    pub fn line_of(&self, at: usize) -> usize {
        let at = floor_char_boundary(&self.text, at);
        let line_index = self
            .line_starts
            .partition_point(|&s| s <= at)
            .saturating_sub(1);
        line_index + 1 + self.first_line
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, at: usize) -> (usize, usize) {
        let at = floor_char_boundary(&self.text, at);
        // index of the last line start <= at
        let line_index = self
            .line_starts
            .partition_point(|&s| s <= at)
            .saturating_sub(1);
        let line_start = self.line_starts.get(line_index).copied().unwrap_or(0);
        let column = self
            .text
            .get(line_start..at)
            .unwrap_or_default()
            .chars()
            .count()
            + 1;
        (line_index + 1 + self.first_line, column)
    }
}

/// The source text shown under an error, numbered as in the whole file.
#[derive(Debug, Clone)]
struct Shown {
    name: String,
    text: Arc<str>,
    first_line: usize,
    /// Characters of the line left out before `text` when only a window of a long line
    /// is shown (JSON Lines): added to the column the report prints.
    first_column: usize,
}

impl SourceCode for Shown {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        let (line, column) = if context_lines_before == 0 {
            // the report's `file:line:column`: in characters and at line feeds only, as
            // `--error-format json` gives it (miette counts bytes, and a lone `\r` as a line)
            let before = self.text.get(..span.offset()).unwrap_or_default();
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            (
                before.matches('\n').count(),
                before.get(line_start..).unwrap_or_default().chars().count(),
            )
        } else {
            (inner.line(), inner.column())
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            line + self.first_line,
            column + self.first_column,
            inner.line_count(),
        )))
    }
}

/// Longest line shown whole under a report; a longer one (a JSON Lines case) is shown as a
/// window of about this width around the error, so that the underline stays on screen.
const SHOWN_LINE_MAX: usize = 120;

/// The text a report shows for the error at `start..end` and the error's span in it: the
/// file, or for an error on one long line, that line's window around the error, marked
/// `…` where it was cut (the report's line and column stay those of the file). `line` is
/// the error's line, 1-based, as the report prints it.
fn window(src: &SourceFile, start: usize, end: usize, line: usize) -> (Shown, SourceSpan) {
    let whole = || {
        (
            Shown {
                name: src.name.clone(),
                text: Arc::clone(&src.text),
                first_line: src.first_line,
                first_column: 0,
            },
            SourceSpan::from(start..end),
        )
    };
    let text: &str = &src.text;
    let line_start = text
        .get(..start)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    let line_end = text
        .get(start..)
        .and_then(|t| t.find('\n'))
        .map_or(text.len(), |i| start + i);
    if line_end - line_start <= SHOWN_LINE_MAX || end > line_end {
        return whole();
    }
    let margin = SHOWN_LINE_MAX / 2;
    // a span wider than the window (a whole case missing a field) is shown by its start
    let end = if end - start > margin {
        let mut e = start + 1;
        while e < end && !text.is_char_boundary(e) {
            e += 1;
        }
        e
    } else {
        end
    };
    let from = floor_char_boundary(text, start.saturating_sub(margin).max(line_start));
    let to = floor_char_boundary(text, (end + margin).min(line_end));
    let Some(part) = text.get(from..to) else {
        return whole();
    };
    let (lead, trail) = (
        if from > line_start { "…" } else { "" },
        if to < line_end { "…" } else { "" },
    );
    let excerpt = format!("{lead}{part}{trail}");
    let at = lead.len() + (start - from);
    (
        Shown {
            name: src.name.clone(),
            text: Arc::from(excerpt),
            // the excerpt is the report's line `line` (1-based) on its own
            first_line: line.saturating_sub(1),
            // the report counts the column in characters from the start of the text shown,
            // where `…` (one character) stands in for what was left out
            first_column: text
                .get(line_start..from)
                .unwrap_or_default()
                .chars()
                .count()
                .saturating_sub(lead.chars().count()),
        },
        SourceSpan::from(at..at + (end - start)),
    )
}

fn floor_char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// One problem found in a case file.
///
/// Renders with [`miette`]: code, message, help and a label under the offending value,
/// so a report shows `file:line:column`.
#[derive(Clone, thiserror::Error)]
#[error("{message}")]
pub struct CaseError {
    code: &'static str,
    message: String,
    help: String,
    label: String,
    file: String,
    line: usize,
    column: usize,
    span: SourceSpan,
    source_code: Option<Shown>,
}

impl fmt::Debug for CaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {} [{}]",
            self.file, self.line, self.column, self.message, self.code
        )
    }
}

impl CaseError {
    /// An error located at `span` (byte range) in `src`.
    pub(crate) fn at(
        src: &SourceFile,
        span: std::ops::Range<usize>,
        code: &'static str,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        let len = src.text.len();
        let start = floor_char_boundary(&src.text, span.start.min(len));
        let end = floor_char_boundary(&src.text, span.end.clamp(start, len));
        let (line, column) = src.line_col(start);
        let (shown, span) = window(src, start, end, line);
        CaseError {
            code,
            message: message.into(),
            help: help.into(),
            label: label.into(),
            file: src.name.clone(),
            line,
            column,
            span,
            source_code: Some(shown),
        }
    }

    /// An error about a whole file, with no place in it: `code` says what kind.
    pub fn about_file(
        code: &'static str,
        file: &str,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        CaseError {
            code,
            ..CaseError::io(file, message, help)
        }
    }

    /// An error at a line of a file whose text is not at hand (column 1, nothing shown).
    pub fn at_line(
        code: &'static str,
        file: &str,
        line: usize,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        CaseError {
            code,
            line: line.max(1),
            column: 1,
            ..CaseError::io(file, message, help)
        }
    }

    /// A whole input whose bytes are not UTF-8 (`bytes`: its text): located at the line of
    /// the first byte that is not, and UTF-16 (a byte-order mark first) named as such.
    pub fn not_utf8(file: &str, bytes: &[u8]) -> Self {
        if is_utf16(bytes) {
            return CaseError::utf16(file);
        }
        let at = std::str::from_utf8(bytes)
            .err()
            .map_or(0, |e| e.valid_up_to());
        let line = 1 + bytes
            .get(..at)
            .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count());
        CaseError::at_line(
            "case::not_utf8",
            file,
            line,
            format!("`{file}` is not UTF-8 text (line {line})"),
            "save the file as UTF-8 (an export in Latin-1 or Windows-1252 writes accented letters as such bytes)",
        )
    }

    /// An input in UTF-16 (it starts with a UTF-16 byte-order mark).
    pub fn utf16(file: &str) -> Self {
        CaseError::at_line(
            "case::not_utf8",
            file,
            1,
            format!("`{file}` is UTF-16 text, not UTF-8"),
            "save it as UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8 IN > OUT`); spreadsheet programs write UTF-16 when asked for \"Unicode text\"",
        )
    }

    /// The same error with another help line.
    pub(crate) fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = help.into();
        self
    }

    /// A line of a JSON Lines input whose bytes are not UTF-8: the reader goes on with the
    /// next line.
    pub fn not_utf8_line(file: &str, line: usize) -> Self {
        CaseError::at_line(
            "case::not_utf8",
            file,
            line,
            format!("line {line} of `{file}` is not UTF-8 text"),
            "save the file as UTF-8 (an export in Latin-1 or Windows-1252 writes accented letters as such bytes)",
        )
    }

    /// An error about a whole file that could not be read (no source text to show).
    pub fn io(file: &str, message: impl Into<String>, help: impl Into<String>) -> Self {
        CaseError {
            code: "case::io",
            message: message.into(),
            help: help.into(),
            label: String::new(),
            file: file.to_string(),
            line: 0,
            column: 0,
            span: SourceSpan::from(0..0),
            source_code: None,
        }
    }

    /// A file or stream that could not be read: the system's reason, in lower case.
    pub fn io_error(file: &str, e: &std::io::Error) -> Self {
        let s = e.to_string();
        let mut c = s.chars();
        let reason: String = match c.next() {
            Some(f) => f.to_lowercase().chain(c).collect(),
            None => s,
        };
        CaseError::io(
            file,
            format!("cannot read `{file}`: {reason}"),
            "check that the file exists and is readable",
        )
    }

    /// The stable code, e.g. `case::unknown_field`.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The file name as given by the caller.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// 1-based line of the offending value (0 when the file could not be read).
    pub fn line(&self) -> usize {
        self.line
    }

    /// 1-based column, in characters (0 when the file could not be read).
    pub fn column(&self) -> usize {
        self.column
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn help(&self) -> &str {
        &self.help
    }

    /// Byte offset of the offending value in the file text.
    pub fn offset(&self) -> usize {
        self.span.offset()
    }
}

impl Diagnostic for CaseError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        if self.help.is_empty() {
            None
        } else {
            Some(Box::new(&self.help))
        }
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source_code.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source_code.as_ref()?;
        let label = (!self.label.is_empty()).then(|| self.label.clone());
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            label, self.span,
        ))))
    }
}

/// Whether `head`, the first bytes of an input, starts with a UTF-16 byte-order mark.
pub fn is_utf16(head: &[u8]) -> bool {
    head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff])
}
