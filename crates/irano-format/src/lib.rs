//! The canonical layout of irano rule files.
//!
//! [`format_source`] re-indents and re-spaces a rule file. It keeps every token, every
//! comment and the author's line breaks inside items; it never reflows an expression
//! and never touches the inside of a string. The result parses to the same tree as the
//! input (checked on every call), and formatting it again changes nothing.
//!
//! ```
//! let text = "criterion \"x\" {\n\n\n let a =1+2  # three\n    cite \"y\"\n}";
//! assert_eq!(
//!     irano_format::format_source(text).unwrap(),
//!     "criterion \"x\" {\n  let a = 1 + 2  # three\n    cite \"y\"\n}\n"
//! );
//! ```
//!
//! # Layout
//!
//! * **Blocks.** The bodies of `criterion`/`overlay`, `table`, `summary` and `targets`
//!   are indented two spaces per level. Each item starts on its own line; a block's
//!   `}` is on its own line at the indentation of the item that opened it (a block with
//!   nothing inside is written `{ }`). `targets` entries (`candidate:`, `rank:`,
//!   `max:`, `max_per`) are items of their block.
//! * **Clauses.** A line that starts with a clause of its item (`when`, `then`,
//!   `otherwise`, `cite`, `doc`, `because`, `range`) is indented two more than the
//!   item's first line.
//! * **Continuations.** Any other line inside an item continues an expression. Its
//!   indentation is found from the line where the innermost construct around it began
//!   (for a line that starts with an infix operator, the line where its left operand
//!   began; for `then`/`else` of an `if`, the line of that `if`, resp. of the first `if`
//!   of an `else if` chain): four more than the item's first line if that is the item's
//!   first line or a clause line; otherwise two more than that line, or four more if
//!   a bracket still open at the continuation was opened on that line.
//!   A line that starts with a closing bracket is indented like the line of its opening
//!   bracket (at least two more than the item). Entries of a multi-line `labels { }` or
//!   `decisions { }` are indented two more than the item, the `}` like the item.
//! * **Spaces.** One space between tokens, except none after `(` and before `)`, none
//!   inside the braces of a set or choice (`{CR, PR}`; the braces of `labels`,
//!   `decisions` and `match` have spaces: `{ CR PR }`), none before `,`, `:`, `?` (of a
//!   type) and `%`, none between a function, aggregate or `def` name and its `(`, none
//!   after a unary minus. `.field` after an expression stays attached or apart as
//!   written (`a .b` and `a.b` parse differently).
//! * **Comments.** Text kept as written (trailing spaces removed). A comment after code
//!   is separated from it by two spaces. A full-line comment is indented like the code
//!   line that follows it (one level deeper when that line closes a block), except a
//!   group of comment lines that directly follows an item's line and is followed by a
//!   blank line: it is a note on the item above and is indented like that item's
//!   clauses.
//! * **Blank lines.** Runs of blank lines become one; none at the start of the file,
//!   right after an opening brace or bracket (`{`, `(`) or right before a closing one.
//!   No trailing spaces; the file ends with exactly one line break. Line endings become
//!   `\n` (outside strings).

mod layout;
mod lex;
mod render;

/// Why a text could not be formatted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FormatError {
    /// What went wrong (for a syntax error, the parser's message).
    pub message: String,
    /// Byte offset in the input of the offending text.
    pub offset: usize,
    pub kind: FormatErrorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormatErrorKind {
    /// The text is not a rule file: it does not parse. The file is left as it is.
    Syntax,
    /// The formatter failed to keep the file's meaning (a bug in the formatter); the
    /// file is left as it is.
    Internal,
}

/// Formats the text of one rule file in the canonical layout (see the crate
/// documentation). Text that does not parse is refused with the first syntax error.
pub fn format_source(text: &str) -> Result<String, FormatError> {
    let before = irano_syntax::parse(text).map_err(|errors| match errors.first() {
        Some(e) => FormatError {
            message: e.message().to_string(),
            offset: e.span().start,
            kind: FormatErrorKind::Syntax,
        },
        None => FormatError {
            message: "the file does not parse".to_string(),
            offset: 0,
            kind: FormatErrorKind::Syntax,
        },
    })?;
    let tokens = lex::lex(text);
    let layout = layout::layout(&tokens);
    let formatted = render::render(&tokens, &layout);

    // The layout never changes what the file means; make sure of it.
    let internal = |message: String, offset: usize| FormatError {
        message,
        offset,
        kind: FormatErrorKind::Internal,
    };
    let after = irano_syntax::parse(&formatted).map_err(|errors| {
        let offset = errors.first().map_or(0, |e| e.span().start);
        internal(
            format!("internal error: the formatted text does not parse (at byte {offset} of it)"),
            0,
        )
    })?;
    if without_spans(&format!("{before:?}")) != without_spans(&format!("{after:?}")) {
        return Err(internal(
            "internal error: the formatted text would not mean the same".to_string(),
            0,
        ));
    }
    Ok(formatted)
}

/// The `Debug` text of a syntax tree with every `Span { start: N, end: M }` removed.
fn without_spans(debug: &str) -> String {
    const OPEN: &str = "Span { start: ";
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug;
    while let Some(at) = rest.find(OPEN) {
        out.push_str(rest.get(..at).unwrap_or(""));
        let tail = rest.get(at + OPEN.len()..).unwrap_or("");
        match tail.find('}') {
            Some(close) => rest = tail.get(close + 1..).unwrap_or(""),
            None => {
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn spans_are_removed() {
        assert_eq!(
            without_spans("Name { text: \"a\", span: Span { start: 1, end: 2 } }"),
            "Name { text: \"a\", span:  }"
        );
    }
}
