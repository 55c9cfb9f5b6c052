//! Prints the tokens with their layout: indentation, single spaces, comments placed,
//! blank lines collapsed.

use crate::layout::{Layout, Role};
use crate::lex::{Kind, Token};

/// Space before a comment that follows code on the same line.
const BEFORE_TRAILING_COMMENT: &str = "  ";

pub(crate) fn render(toks: &[Token<'_>], layout: &[Layout]) -> String {
    let mut out = String::new();
    // Role of the last code token on the current output line.
    let mut last_code: Option<Role> = None;
    for (i, tok) in toks.iter().enumerate() {
        if tok.kind == Kind::Comment {
            let text = tok.text.trim_end();
            if i > 0 && tok.newlines_before == 0 {
                out.push_str(BEFORE_TRAILING_COMMENT);
                out.push_str(text);
                continue;
            }
            let blank = tok.newlines_before >= 2 && !last_code.is_some_and(opens);
            new_line(&mut out, blank, comment_indent(toks, layout, i));
            last_code = None;
            out.push_str(text);
        } else {
            let l = layout.get(i).copied().unwrap_or_default();
            if l.starts_line {
                let blank =
                    tok.newlines_before >= 2 && !last_code.is_some_and(opens) && !closes(l.role);
                new_line(&mut out, blank, l.indent);
            } else if l.space {
                out.push(' ');
            }
            out.push_str(tok.text);
            last_code = Some(l.role);
        }
    }
    out.push('\n');
    out
}

/// No blank line after an opening bracket or block...
fn opens(role: Role) -> bool {
    matches!(role, Role::BlockOpen | Role::OpenSpaced | Role::OpenTight)
}

/// ... nor before a closing one.
fn closes(role: Role) -> bool {
    matches!(
        role,
        Role::BlockClose | Role::CloseSpaced | Role::CloseTight
    )
}

fn new_line(out: &mut String, blank: bool, indent: usize) {
    if !out.is_empty() {
        out.push('\n');
        if blank {
            out.push('\n');
        }
    }
    out.extend(std::iter::repeat_n(' ', indent));
}

fn is_full_line_comment(toks: &[Token<'_>], k: usize) -> bool {
    toks.get(k)
        .is_some_and(|t| t.kind == Kind::Comment && (k == 0 || t.newlines_before > 0))
}

fn role(layout: &[Layout], k: usize) -> Option<Role> {
    layout.get(k).map(|l| l.role)
}

/// Indentation of the full-line comment `toks[i]`.
///
/// A group of comment lines is indented like the code line after it (one level deeper
/// when that line closes a block), except a group that hangs from the line above it
/// (no blank line between) and is followed by a blank line: it is a note on the item
/// above, indented like that item's clauses.
fn comment_indent(toks: &[Token<'_>], layout: &[Layout], i: usize) -> usize {
    let newlines = |k: usize| toks.get(k).map_or(0, |t| t.newlines_before);
    let is_code = |k: usize| toks.get(k).is_some_and(|t| t.kind != Kind::Comment);

    let mut first = i;
    while first > 0 && newlines(first) == 1 && is_full_line_comment(toks, first - 1) {
        first -= 1;
    }
    let mut last = i;
    while is_full_line_comment(toks, last + 1) && newlines(last + 1) == 1 {
        last += 1;
    }

    // The code token ending the line right above the group, if no blank line is between.
    let above = if first == 0 || newlines(first) != 1 {
        None
    } else if is_code(first - 1) {
        Some(first - 1)
    } else if first >= 2 && newlines(first - 1) == 0 && is_code(first - 2) {
        Some(first - 2)
    } else {
        None
    };
    let next = last + 1;
    let blank_after = toks.get(next).is_some_and(|t| t.newlines_before >= 2)
        && !(is_code(next) && role(layout, next).is_some_and(closes));
    if let Some(p) = above {
        let hangs = !matches!(
            role(layout, p),
            Some(Role::BlockOpen | Role::BlockClose) | None
        );
        if hangs && blank_after {
            return layout.get(p).map_or(0, |l| l.item_indent + 2);
        }
    }

    match (i + 1..toks.len()).find(|&k| is_code(k)) {
        Some(k) => {
            let l = layout.get(k).copied().unwrap_or_default();
            if l.role == Role::BlockClose {
                l.indent + 2
            } else {
                l.indent
            }
        }
        None => 0,
    }
}
