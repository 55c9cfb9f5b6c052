//! Syntax errors: a stable code, a message, the span of the offending text, a label
//! for that span and one line of help. The source text is not embedded; the caller
//! attaches it when rendering (`miette::Report::new(err).with_source_code(...)`).

use std::fmt;

use crate::ast::Span;

/// What went wrong; each kind has a stable diagnostic code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SyntaxErrorKind {
    /// The text does not follow the grammar (`syntax::unexpected`).
    Unexpected,
    /// Brackets, `if`/`match` or operators nested too deeply (`syntax::too_deep`).
    TooDeep,
    /// A number literal that cannot be represented exactly (`syntax::bad_number`).
    BadNumber,
    /// An unterminated string or an unknown escape (`syntax::bad_string`).
    BadString,
    /// A clause given twice, e.g. two `cite` on one rule (`syntax::duplicate_clause`).
    DuplicateClause,
}

impl SyntaxErrorKind {
    /// The stable diagnostic code, e.g. `syntax::unexpected`.
    pub fn code(self) -> &'static str {
        match self {
            SyntaxErrorKind::Unexpected => "syntax::unexpected",
            SyntaxErrorKind::TooDeep => "syntax::too_deep",
            SyntaxErrorKind::BadNumber => "syntax::bad_number",
            SyntaxErrorKind::BadString => "syntax::bad_string",
            SyntaxErrorKind::DuplicateClause => "syntax::duplicate_clause",
        }
    }
}

impl fmt::Display for SyntaxErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A syntax error in a rule file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SyntaxError {
    kind: SyntaxErrorKind,
    message: String,
    span: Span,
    label: String,
    help: String,
}

impl SyntaxError {
    pub(crate) fn new(
        kind: SyntaxErrorKind,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        SyntaxError {
            kind,
            message: message.into(),
            span,
            label: label.into(),
            help: help.into(),
        }
    }

    pub fn kind(&self) -> SyntaxErrorKind {
        self.kind
    }
    /// The same error with its span cut to the first `len` bytes (an error found in a text
    /// longer than the source, past its end, points at the end of the source).
    pub(crate) fn within(mut self, len: usize) -> Self {
        self.span = Span::new(self.span.start.min(len), self.span.end.min(len));
        self
    }
    /// The stable diagnostic code, e.g. `syntax::unexpected`.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
    /// Lower case, no final period, user text in backticks.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// Byte span of the offending text.
    pub fn span(&self) -> Span {
        self.span
    }
    /// Short text shown at the span (e.g. "found `foo`").
    pub fn label(&self) -> &str {
        &self.label
    }
    /// One line of advice.
    pub fn help(&self) -> &str {
        &self.help
    }
}

impl miette::Diagnostic for SyntaxError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.kind.code()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.help))
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_primary_with_span(Some(self.label.clone()), self.span),
        )))
    }
}
