//! Diagnostics: every problem found in rule files or `--set` overrides.

use std::fmt;
use std::sync::Arc;

use irano_syntax::ast::Span;
use miette::{LabeledSpan, NamedSource, SourceCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// A located problem with a stable code, a message and a help line.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub code: &'static str,
    pub message: String,
    pub help: Option<String>,
    pub severity: Severity,
    /// Label text under the span.
    pub label: String,
    pub location: Option<Location>,
    /// A file and 1-based line, for a diagnostic about a file whose text it does not hold
    /// (a case file): given to programs (`--error-format json`) beside the message, which
    /// names the place itself.
    pub line_at: Option<Box<(String, usize)>>,
}

/// Where a diagnostic points: a file's text and a span in it.
#[derive(Debug, Clone)]
pub struct Location {
    pub file: Arc<SourceText>,
    pub span: Span,
}

#[derive(Debug)]
pub struct SourceText {
    pub name: String,
    pub text: String,
}

impl SourceText {
    /// `FILE:LINE:COLUMN` of a byte offset, as messages name a place in another file.
    pub fn place(&self, offset: usize) -> String {
        let (line, col) = line_col(&self.text, offset);
        format!("{}:{line}:{col}", self.name)
    }
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            help: None,
            severity: Severity::Error,
            label: "here".into(),
            location: None,
            line_at: None,
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn at(mut self, file: &Arc<SourceText>, span: Span) -> Self {
        self.location = Some(Location {
            file: Arc::clone(file),
            span,
        });
        self
    }

    /// Points the diagnostic at a line of a file whose text it does not hold.
    pub fn at_line(mut self, file: &str, line: usize) -> Self {
        self.line_at = Some(Box::new((file.to_string(), line)));
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// File name, 1-based line and column, when the diagnostic has a location.
    pub fn position(&self) -> Option<(&str, usize, usize)> {
        let loc = self.location.as_ref()?;
        let (line, col) = line_col(&loc.file.text, loc.span.start);
        Some((loc.file.name.as_str(), line, col))
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut line = 1;
    let mut col = 1;
    for (i, ch) in text.char_indices() {
        if i >= offset {
            break;
        }
        if ch == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    (line, col)
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

/// Shares one file's text between diagnostics without copying it.
#[derive(Debug)]
struct SharedText(Arc<SourceText>);

impl SourceCode for SharedText {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let inner = self
            .0
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        if context_lines_before > 0 {
            return Ok(inner);
        }
        // the report's `file:line:column` in characters, as `--error-format json` gives it
        // (miette counts bytes: a `§` earlier on the line moved the column)
        let (line, column) = line_col(&self.0.text, span.offset());
        Ok(Box::new(miette::MietteSpanContents::new(
            inner.data(),
            *inner.span(),
            line - 1,
            column - 1,
            inner.line_count(),
        )))
    }
}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h.as_str()) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        None
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let loc = self.location.as_ref()?;
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some(self.label.clone()),
            loc.span,
        ))))
    }
}

/// A diagnostic together with its source, ready for a miette renderer.
#[derive(Debug)]
pub struct Rendered {
    diag: Diagnostic,
    source: Option<NamedSource<SharedText>>,
}

impl Diagnostic {
    /// Attach the source text so that a miette handler can show the underlined span.
    pub fn with_source(self) -> Rendered {
        let source = self.location.as_ref().map(|loc| {
            NamedSource::new(loc.file.name.clone(), SharedText(Arc::clone(&loc.file)))
                .with_language("rano")
        });
        Rendered { diag: self, source }
    }
}

impl fmt::Display for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.diag, f)
    }
}

impl std::error::Error for Rendered {}

impl miette::Diagnostic for Rendered {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diag.code()
    }
    fn severity(&self) -> Option<miette::Severity> {
        miette::Diagnostic::severity(&self.diag)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        miette::Diagnostic::help(&self.diag)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.diag.labels()
    }
}

/// Names in backticks, joined: `` `a`, `b` `` (user input in messages is always quoted so).
pub fn backticked<S: AsRef<str>>(items: impl IntoIterator<Item = S>, separator: &str) -> String {
    items
        .into_iter()
        .map(|s| format!("`{}`", s.as_ref()))
        .collect::<Vec<_>>()
        .join(separator)
}

/// The system's reason for an I/O error in lower case (`no such file or directory (os error
/// 2)`), to follow a colon in a message, as the case reader words it.
pub fn io_reason(e: &std::io::Error) -> String {
    let e = e.to_string();
    let mut c = e.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => e,
    }
}

/// Edit distance, for "did you mean" suggestions. A candidate that differs only by a dotted
/// prefix (`recist.pd_increase` for `pd_increase`, `counts_as_new` for
/// `lesion.counts_as_new`) is preferred to any other: the name was right, its prefix wrong.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let last = |s: &'a str| s.rsplit('.').next().unwrap_or(s);
    let name_last = name.rsplit('.').next().unwrap_or(name);
    let mut best: Option<(usize, &str)> = None;
    let mut prefixed: Option<(usize, &str)> = None;
    for c in candidates {
        let d = irano_syntax::edit_distance(name, c);
        if c != name
            && !name_last.is_empty()
            && dotted_name(name)
            && dotted_name(c)
            && (c == name_last || last(c) == name || last(c) == name_last)
            && prefixed.is_none_or(|(bd, bc)| d < bd || (d == bd && c < bc))
        {
            prefixed = Some((d, c));
        }
        let limit = (name.len().max(c.len()) / 3).max(2);
        // a suggestion must keep something of what was written (`n` is not "close" to `b`)
        if d <= limit
            && d < name.chars().count()
            && best.is_none_or(|(bd, bc)| d < bd || (d == bd && c < bc))
        {
            best = Some((d, c));
        }
    }
    prefixed.or(best).map(|(_, c)| c)
}

/// A name of the language, possibly with dotted prefixes (`recist.pd_increase`), not a path
/// or a file name (`rules/x.rano`, whose `.rano` is no prefix).
fn dotted_name(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}
