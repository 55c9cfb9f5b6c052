//! Diagnostics about SDTM input: each names the dataset, the row (by its `--SEQ` and
//! its line in the file) and the column.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// Where in a dataset a diagnostic points.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// The file as given on the command line.
    pub file: String,
    /// The domain (`TR`, `TU`, ...).
    pub domain: String,
    /// 1-based line of the record in the file (CSV; the header is line 1), or 1-based
    /// row number for Dataset-JSON.
    pub line: Option<usize>,
    /// The record's `--SEQ` value, when the dataset has one.
    pub seq: Option<String>,
    /// The column the problem is in.
    pub column: Option<String>,
}

/// One problem with the input. Collected, never raised one at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdtmDiagnostic {
    pub severity: Severity,
    /// Stable code, e.g. `sdtm::partial_date`.
    pub code: &'static str,
    pub location: Option<Box<Location>>,
    pub message: String,
    pub help: String,
    /// An error `--lenient` would make a warning (set by [`Self::lenient`] whatever it is
    /// given), so that a failed run can say whether `--lenient` helps.
    pub lenient_allowed: bool,
}

impl SdtmDiagnostic {
    pub fn error(code: &'static str, message: impl Into<String>, help: impl Into<String>) -> Self {
        SdtmDiagnostic {
            severity: Severity::Error,
            code,
            location: None,
            message: message.into(),
            help: help.into(),
            lenient_allowed: false,
        }
    }

    pub fn warning(
        code: &'static str,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        SdtmDiagnostic {
            severity: Severity::Warning,
            ..SdtmDiagnostic::error(code, message, help)
        }
    }

    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(Box::new(location));
        self
    }

    /// An error that `--lenient` turns into a warning.
    pub fn lenient(mut self, lenient: bool) -> Self {
        self.lenient_allowed = true;
        if lenient {
            self.severity = Severity::Warning;
        }
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `tr.csv, TRSEQ 49 (line 50), column TRDTC`
    pub fn place(&self) -> Option<String> {
        let l = self.location.as_ref()?;
        let mut s = l.file.clone();
        match (&l.seq, l.line) {
            (Some(seq), Some(line)) => {
                s.push_str(&format!(", {}SEQ {seq} (line {line})", l.domain))
            }
            (None, Some(line)) => s.push_str(&format!(", line {line}")),
            (Some(seq), None) => s.push_str(&format!(", {}SEQ {seq}", l.domain)),
            (None, None) => {}
        }
        if let Some(c) = &l.column {
            s.push_str(&format!(", column {c}"));
        }
        Some(s)
    }
}

impl fmt::Display for SdtmDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.place() {
            Some(p) => write!(f, "{p}: {}", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

impl std::error::Error for SdtmDiagnostic {}

impl miette::Diagnostic for SdtmDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.help.as_str()))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Warning => miette::Severity::Warning,
            Severity::Error => miette::Severity::Error,
        })
    }
}
