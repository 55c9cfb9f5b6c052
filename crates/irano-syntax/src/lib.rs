//! The irano rule language: grammar and abstract syntax tree.
//!
//! [`parse`] reads one rule file into an [`ast::File`] whose nodes carry byte
//! [`ast::Span`]s; the checker (`irano-check`) resolves names, types and units.
//!
//! ```
//! let file = irano_syntax::parse(r#"criterion "x" { let a = 1 + 2 * 3 }"#).unwrap();
//! assert_eq!(file.id.value, "x");
//! ```

// `ast` is the contract with the checker; its layout is kept as designed.
#[allow(clippy::large_enum_variant)]
pub mod ast;
mod error;
mod parser;
mod prescan;

pub use error::{SyntaxError, SyntaxErrorKind};

/// Parses the text of one rule file.
///
/// Nesting of brackets, `if` and `match` deeper than 64 levels, and expression trees
/// deeper than 256 levels, are refused with `syntax::too_deep` before they can
/// exhaust the stack. On error, every error found is returned (at least one), in
/// source order; the errors do not hold the source text.
pub fn parse(source: &str) -> Result<ast::File, Vec<SyntaxError>> {
    if let Err(mut errors) = prescan::prescan(source) {
        // strings left open: the rest of the file is still read, each string closed at
        // the end of its line (offsets kept), so that one run reports every mistake
        let unclosed: Vec<usize> = errors
            .iter()
            .filter(|e| e.kind() == SyntaxErrorKind::BadString)
            .map(|e| e.span().start)
            .collect();
        let too_deep = errors.len() > unclosed.len();
        if let (false, Some(closed)) = (too_deep, prescan::close_strings(source, &unclosed)) {
            if let Err(more) = parser::parse_file(&closed) {
                // a string open at the very end was closed by one more byte
                errors.extend(
                    recover(&closed, more)
                        .into_iter()
                        .map(|e| e.within(source.len())),
                );
            }
            errors.sort_by_key(|e| e.span().start);
        }
        return Err(errors);
    }
    parser::parse_file(source).map_err(|errors| recover(source, errors))
}

/// How many declarations recovery may skip in one file.
const MAX_RECOVERIES: usize = 20;

/// Words that start a header declaration only at the top level of a criterion.
const HEADER_WORDS: &[&str] = &[
    "version",
    "title",
    "cdisc_category",
    "cite",
    "labels",
    "decisions",
];

/// One mistake should not hide the next: after a syntax error, the declaration that holds
/// it is blanked out (offsets kept) and the file parsed again, so that one run reports the
/// syntax errors of every declaration. Only errors after the blanked text are new.
fn recover(source: &str, mut errors: Vec<SyntaxError>) -> Vec<SyntaxError> {
    let mut text = source.as_bytes().to_vec();
    // (position, the error stands where a declaration should start)
    let first = |errs: &[SyntaxError]| -> Vec<(usize, bool)> {
        errs.iter()
            .filter(|e| e.kind() == SyntaxErrorKind::Unexpected)
            .map(|e| (e.span().start, e.message().contains("a declaration")))
            .collect()
    };
    let mut batch = first(&errors);
    for _ in 0..MAX_RECOVERIES {
        let Some(&(pos, at_declaration)) = batch.first() else {
            break;
        };
        let Some((start, end)) = std::str::from_utf8(&text)
            .ok()
            .and_then(|t| declaration_around(t, pos, at_declaration))
        else {
            break;
        };
        for b in text.iter_mut().take(end).skip(start) {
            if *b != b'\n' {
                *b = b' ';
            }
        }
        let Ok(blanked) = std::str::from_utf8(&text) else {
            break;
        };
        match parser::parse_file(blanked) {
            Ok(_) => break,
            Err(more) => {
                let new: Vec<SyntaxError> =
                    more.into_iter().filter(|e| e.span().start >= end).collect();
                if new.is_empty() {
                    break;
                }
                batch = first(&new);
                errors.extend(new);
            }
        }
    }
    errors
}

/// The declaration (or rule) that holds byte `pos`: from the start of its first line to
/// the start of the next declaration at the same or an outer brace depth. When the error
/// stands where a declaration should start (a misspelt keyword), its line starts one.
fn declaration_around(text: &str, pos: usize, at_declaration: bool) -> Option<(usize, usize)> {
    // starts of lines whose first word begins a declaration, with the brace depth there
    let mut starts: Vec<(usize, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut in_comment = false;
    let mut line_start = true;
    // header words (`cite`, ...) come before the first declaration of a criterion; after
    // one, a `cite` at the top level is a clause of what precedes it (a misplaced rule's)
    let mut in_body = false;
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(&c) = bytes.get(i) {
        if in_comment {
            if c == b'\n' {
                in_comment = false;
                line_start = true;
            }
            i += 1;
            continue;
        }
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match c {
            b'\n' => {
                line_start = true;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            _ => {}
        }
        if line_start && depth >= 1 {
            let word: String = text
                .get(i..)
                .unwrap_or("")
                .chars()
                .take_while(|ch| ch.is_ascii_alphanumeric() || *ch == '_')
                .collect();
            // the line of the error starts a declaration too (a misspelt keyword)
            let error_line =
                at_declaration && i <= pos && !text.get(i..pos).unwrap_or("").contains('\n');
            // `cite`, `version`, ... begin a declaration only at the top of a criterion;
            // deeper they are clauses of the declaration above
            let header = HEADER_WORDS.contains(&word.as_str());
            if (starts_declaration(&word) && (!header || (depth == 1 && !in_body)))
                || misspelt_declaration(&word)
                || error_line
            {
                starts.push((i, depth));
            }
            if depth == 1 && starts_declaration(&word) && !header {
                in_body = true;
            }
        }
        line_start = false;
        match c {
            b'"' => in_string = true,
            b'#' => in_comment = true,
            b'{' | b'(' => depth += 1,
            b'}' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    let (k, &(start, d)) = starts.iter().enumerate().rfind(|(_, (s, _))| *s <= pos)?;
    let end = starts
        .iter()
        .skip(k + 1)
        .find(|(_, dd)| *dd <= d)
        .map(|(s, _)| *s)?;
    (end > pos).then_some((start, end))
}

/// Edit distance between two words, in characters (Levenshtein, with a swap of two
/// adjacent characters counted as one edit): how "did you mean" decides which name is
/// close, here and in the checker.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // three rows of the optimal-string-alignment table: an adjacent swap (`UDP` for `UPD`)
    // costs one edit, as a typist makes it
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    let at = |row: &[usize], k: usize| row.get(k).copied().unwrap_or(0);
    for (i, ca) in a.iter().enumerate() {
        if let Some(c0) = cur.first_mut() {
            *c0 = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let mut best = (at(&prev, j) + usize::from(ca != cb))
                .min(at(&prev, j + 1) + 1)
                .min(at(&cur, j) + 1);
            let swapped =
                i > 0 && j > 0 && a.get(i - 1) == Some(cb) && b.get(j - 1) == Some(ca) && ca != cb;
            if swapped {
                best = best.min(at(&before, j - 1) + 1);
            }
            if let Some(c) = cur.get_mut(j + 1) {
                *c = best;
            }
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.last().copied().unwrap_or(0)
}

/// Whether a line whose first word is `word` starts a declaration (or a rule): the words
/// the parser names as "a declaration", and `rule`.
fn starts_declaration(word: &str) -> bool {
    word == "rule"
        || parser::DECLARATION_WORDS
            .iter()
            .any(|w| w.trim_matches('`') == word)
}

/// A word that is no keyword but one edit from a declaration keyword (`lett`, `overide`):
/// a misspelt declaration, so that recovery ends the declaration before it at its line
/// and reports its own error instead of blanking it with the one before.
fn misspelt_declaration(word: &str) -> bool {
    word.len() >= 3
        && !parser::KEYWORDS.contains(&word)
        && parser::DECLARATION_WORDS
            .iter()
            .map(|w| w.trim_matches('`'))
            .chain(["rule"])
            .any(|w| edit_distance(word, w) == 1)
}

#[cfg(test)]
mod tests {
    use super::edit_distance;

    #[test]
    fn edit_distance_counts_a_swap_of_neighbours_as_one_edit() {
        assert_eq!(edit_distance("UDP", "UPD"), 1);
        assert_eq!(edit_distance("overide", "override"), 1);
        assert_eq!(edit_distance("steroid", "steroids"), 1);
        assert_eq!(edit_distance("UDP", "PD"), 2);
        assert_eq!(edit_distance("abc", "cab"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
