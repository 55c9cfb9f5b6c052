//! A linear scan of the source before pest runs.
//!
//! pest recurses once per nesting level of the grammar, so an input such as 100 000
//! `(` would overflow the stack. The grammar recurses only through brackets
//! (`(`, `{`, `[`) and through `if` / `match` (whose condition, branches and
//! scrutinee are expressions); `else if` chains are a repetition. This scan skips
//! strings and comments and bounds a conservative estimate of that depth:
//!
//! * every open bracket counts one level;
//! * every `if` (except one right after `else`) and every `match` counts one level
//!   until the end of the expression that holds it, which is at latest the next `,`,
//!   `:`, single `=`, closing bracket or item/clause keyword at the same bracket level.
//!
//! It also reports strings not closed on their own line (every one of them), which pest
//! would only see at the next quote, lines later, or at the end of the file.

use crate::ast::Span;
use crate::error::{SyntaxError, SyntaxErrorKind};

/// Deepest accepted nesting of brackets plus `if` / `match` levels.
pub(crate) const MAX_NESTING: usize = 64;

/// Words that cannot appear inside an expression: an expression ends before them.
const EXPRESSION_ENDS: &[&str] = &[
    "criterion",
    "extends",
    "version",
    "title",
    "cdisc_category",
    "cite",
    "labels",
    "decisions",
    "param",
    "let",
    "def",
    "state",
    "show",
    "stop",
    "grading",
    "table",
    "summary",
    "rule",
    "override",
    "remove",
    "when",
    "otherwise",
    "set",
    "because",
    "doc",
];

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

pub(crate) fn prescan(src: &str) -> Result<(), Vec<SyntaxError>> {
    let bytes = src.as_bytes();
    // strings left open, in source order
    let mut strings: Vec<SyntaxError> = Vec::new();
    // One counter of open `if`/`match` levels per bracket level; the first entry is
    // the text outside every bracket.
    let mut frames: Vec<usize> = vec![0];
    // Sum of `frames` plus the number of open brackets.
    let mut depth: usize = 0;
    let mut prev_word_is_else = false;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'#' => {
                while let Some(&c) = bytes.get(i) {
                    if c == b'\n' {
                        break;
                    }
                    i += 1;
                }
                continue;
            }
            b'"' => {
                // a string ends on its own line: one left open is reported at its quote,
                // not at the next quote of the file, and the scan goes on from the end
                // of the line so that every such string is reported
                let start = i;
                i += 1;
                let mut closed = false;
                while let Some(&c) = bytes.get(i) {
                    match c {
                        b'\\' if bytes.get(i + 1) != Some(&b'\n') => i += 2,
                        b'"' => {
                            i += 1;
                            closed = true;
                            break;
                        }
                        b'\n' => break,
                        _ => i += 1,
                    }
                }
                if !closed {
                    strings.push(unclosed_string(start, bytes.get(i).is_some()));
                }
                prev_word_is_else = false;
                continue;
            }
            b'(' | b'{' | b'[' => {
                frames.push(0);
                depth += 1;
                if depth > MAX_NESTING {
                    let bracket = char::from(b);
                    strings.push(too_deep(
                        Span::new(i, i + 1),
                        format!("this `{bracket}` is nested too deeply"),
                    ));
                    return Err(strings);
                }
            }
            // A closing bracket with nothing open is left for pest to report.
            b')' | b'}' | b']' if frames.len() > 1 => {
                let open = frames.pop().unwrap_or(0);
                depth = depth.saturating_sub(open + 1);
            }
            b',' | b':' => end_expression(&mut frames, &mut depth),
            b'=' => match bytes.get(i + 1) {
                Some(b'=' | b'>') => i += 1,
                _ => end_expression(&mut frames, &mut depth),
            },
            b'<' | b'>' | b'!' if bytes.get(i + 1) == Some(&b'=') => i += 1,
            _ if is_ident_start(b) => {
                let start = i;
                while bytes.get(i).is_some_and(|&c| is_ident_char(c)) {
                    i += 1;
                }
                let after_dot = start > 0 && bytes.get(start - 1) == Some(&b'.');
                let word = src.get(start..i).unwrap_or("");
                if !after_dot {
                    if (word == "if" && !prev_word_is_else) || word == "match" {
                        if let Some(open) = frames.last_mut() {
                            *open += 1;
                        }
                        depth += 1;
                        if depth > MAX_NESTING {
                            strings.push(too_deep(
                                Span::new(start, i),
                                format!("this `{word}` is nested too deeply"),
                            ));
                            return Err(strings);
                        }
                    } else if EXPRESSION_ENDS.contains(&word) {
                        end_expression(&mut frames, &mut depth);
                    }
                }
                prev_word_is_else = !after_dot && word == "else";
                continue;
            }
            _ => {}
        }
        if !b.is_ascii_whitespace() {
            prev_word_is_else = false;
        }
        i += 1;
    }
    if strings.is_empty() {
        Ok(())
    } else {
        Err(strings)
    }
}

/// The source with every string of `unclosed` (their opening quotes) closed at the end of
/// its line, its text blanked and the line break turned into the closing quote, so that
/// the parser can report the file's other mistakes at their own offsets.
pub(crate) fn close_strings(src: &str, unclosed: &[usize]) -> Option<String> {
    let mut text = src.as_bytes().to_vec();
    for &start in unclosed {
        let mut i = start + 1;
        loop {
            match text.get_mut(i) {
                Some(b) if *b == b'\n' => {
                    *b = b'"';
                    break;
                }
                Some(b) => *b = b' ',
                None => {
                    text.push(b'"');
                    break;
                }
            }
            i += 1;
        }
    }
    String::from_utf8(text).ok()
}

/// A string whose line (or file) ends before its closing quote.
fn unclosed_string(start: usize, line_ends: bool) -> SyntaxError {
    SyntaxError::new(
        SyntaxErrorKind::BadString,
        Span::new(start, start + 1),
        "unterminated string",
        if line_ends {
            "this string is not closed on its line"
        } else {
            "this string is never closed"
        },
        "add the closing `\"` on the same line (a string cannot span lines); write `\\\"` for a quote inside a string",
    )
}

/// The expression at the current bracket level has ended: its `if`/`match` levels
/// are closed.
fn end_expression(frames: &mut [usize], depth: &mut usize) {
    if let Some(open) = frames.last_mut() {
        *depth = depth.saturating_sub(*open);
        *open = 0;
    }
}

fn too_deep(span: Span, label: String) -> SyntaxError {
    SyntaxError::new(
        SyntaxErrorKind::TooDeep,
        span,
        format!("nesting is deeper than {MAX_NESTING} levels"),
        label,
        "split the expression with `let` or `def`",
    )
}
