//! A lexer that keeps every byte that matters: comments, strings (verbatim, escapes and
//! line breaks included) and, for each token, the whitespace that preceded it (how many
//! line breaks, and whether there was any space at all).

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An identifier, keyword or dotted name (`scan.date`); also the unit `mg/day`.
    Word,
    /// `12`, `12.5` (a unit that follows is a separate token).
    Number,
    /// A string literal with its quotes, exactly as written.
    Str,
    /// `.field` after an expression that is not a plain name (`(a ?? b).date`).
    Field,
    /// Operators and punctuation.
    Punct,
    /// `#` to the end of the line (the line break excluded).
    Comment,
    /// Anything else (never in a file that parses).
    Other,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Token<'a> {
    pub kind: Kind,
    pub text: &'a str,
    /// Line breaks in the whitespace before the token.
    pub newlines_before: usize,
    /// Whether any whitespace separates the token from the previous one.
    pub space_before: bool,
}

impl Token<'_> {
    pub(crate) fn is_punct(&self, p: &str) -> bool {
        self.kind == Kind::Punct && self.text == p
    }
    pub(crate) fn is_word(&self, w: &str) -> bool {
        self.kind == Kind::Word && self.text == w
    }
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Two-character operators, tried before the one-character ones.
const PUNCT2: &[&str] = &["==", "=>", "!=", "<=", ">=", "??"];
const PUNCT1: &[u8] = b"=<>?(){},:|+-*/%";

pub(crate) fn lex(src: &str) -> Vec<Token<'_>> {
    let bytes = src.as_bytes();
    let at = |i: usize| bytes.get(i).copied();
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut newlines = 0;
    let mut space = false;
    while let Some(b) = at(i) {
        if matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
            if b == b'\n' {
                newlines += 1;
            }
            space = true;
            i += 1;
            continue;
        }
        let start = i;
        let kind = if b == b'#' {
            while at(i).is_some_and(|c| c != b'\n') {
                i += 1;
            }
            Kind::Comment
        } else if b == b'"' {
            i += 1;
            while let Some(c) = at(i) {
                i += if c == b'\\' { 2 } else { 1 };
                if c == b'"' {
                    break;
                }
            }
            i = i.min(bytes.len());
            Kind::Str
        } else if b.is_ascii_digit() {
            while at(i).is_some_and(|c| c.is_ascii_digit()) {
                i += 1;
            }
            if at(i) == Some(b'.') && at(i + 1).is_some_and(|c| c.is_ascii_digit()) {
                i += 1;
                while at(i).is_some_and(|c| c.is_ascii_digit()) {
                    i += 1;
                }
            }
            Kind::Number
        } else if is_ident_start(b) {
            i = word_end(bytes, i);
            while at(i) == Some(b'.') && at(i + 1).is_some_and(is_ident_start) {
                i = word_end(bytes, i + 1);
            }
            // The unit `mg/day` is one token: spaces may never be put inside it.
            if src.get(start..i) == Some("mg")
                && src.get(i..i + 4) == Some("/day")
                && !at(i + 4).is_some_and(is_ident_char)
            {
                i += 4;
            }
            Kind::Word
        } else if b == b'.' && at(i + 1).is_some_and(is_ident_start) {
            i = word_end(bytes, i + 1);
            Kind::Field
        } else if let Some(p) = PUNCT2.iter().find(|p| src.get(i..i + 2) == Some(p)) {
            i += p.len();
            Kind::Punct
        } else if PUNCT1.contains(&b) {
            i += 1;
            Kind::Punct
        } else {
            i += src
                .get(i..)
                .and_then(|rest| rest.chars().next())
                .map_or(1, char::len_utf8);
            Kind::Other
        };
        tokens.push(Token {
            kind,
            text: src.get(start..i).unwrap_or(""),
            newlines_before: newlines,
            space_before: space,
        });
        newlines = 0;
        space = false;
    }
    tokens
}

fn word_end(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).copied().is_some_and(is_ident_char) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn texts(src: &str) -> Vec<&str> {
        lex(src).iter().map(|t| t.text).collect()
    }

    #[test]
    fn tokens() {
        assert_eq!(
            texts(r#"let a.b = (x ?? y).date >= 4 mg/day and "s \" # t" # c"#),
            [
                "let",
                "a.b",
                "=",
                "(",
                "x",
                "??",
                "y",
                ")",
                ".date",
                ">=",
                "4",
                "mg/day",
                "and",
                r#""s \" # t""#,
                "# c"
            ]
        );
        assert_eq!(texts("25% 1.5 1.x"), ["25", "%", "1.5", "1", ".x"]);
        let t = lex("a\n\n  b");
        assert_eq!(t.get(1).map(|t| t.newlines_before), Some(2));
    }
}
