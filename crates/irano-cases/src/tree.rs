//! A small document tree with exact source spans, built from YAML (via `granit-parser`)
//! or from JSON (by a hand-written parser). Scalars keep their literal text, so numbers
//! reach [`irano_exact::Rational`] as written, never through a float.
//!
//! The tree lives in an arena ([`Bump`]) the caller owns: a node's members and elements
//! are one slice each, allocated in one bump of a pointer and freed all at once when the
//! arena is reset or dropped (a case line builds some 400 nodes; allocating and freeing
//! each list on its own was a sixth of reading a case).

use std::borrow::Cow;
use std::ops::Range;

use bumpalo::Bump;
use granit_parser::{ErrorKind, Event, Marker, Parser, ScalarStyle};

/// Deepest nesting of mappings and sequences accepted in a case file.
pub const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone)]
pub struct Node<'a> {
    pub kind: NodeKind<'a>,
    /// Byte range in the file text.
    pub span: Range<usize>,
}

#[derive(Debug, Clone)]
pub enum NodeKind<'a> {
    Map(&'a [(Node<'a>, Node<'a>)]),
    Seq(&'a [Node<'a>]),
    /// `plain`: written without quotes (so `31.5` is a number and `"31.5"` a string).
    Scalar {
        /// Borrowed from the input unless an escape had to be decoded (then in the arena).
        text: &'a str,
        plain: bool,
    },
}

impl Node<'_> {
    /// `null`, `~` or an empty plain scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { text, plain: true }
            if matches!(*text, "" | "~" | "null" | "Null" | "NULL"))
    }
}

/// A text the parser decoded, kept in the arena unless it is a slice of the input.
fn in_arena<'a>(bump: &'a Bump, text: Cow<'a, str>) -> &'a str {
    match text {
        Cow::Borrowed(s) => s,
        Cow::Owned(s) => bump.alloc_str(&s),
    }
}

/// Why a document could not be read as a tree.
#[derive(Debug, Clone)]
pub struct TreeError {
    pub kind: TreeErrorKind,
    pub message: String,
    /// A specific help line, when the parser knows the fix.
    pub help: Option<&'static str>,
    /// Byte offset in the file text.
    pub at: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeErrorKind {
    Syntax,
    TooDeep,
    Alias,
}

impl TreeError {
    fn syntax(message: impl Into<String>, at: usize) -> Self {
        TreeError {
            kind: TreeErrorKind::Syntax,
            message: message.into(),
            help: None,
            at,
        }
    }
    fn too_deep(at: usize) -> Self {
        TreeError {
            kind: TreeErrorKind::TooDeep,
            message: format!("nesting deeper than {MAX_DEPTH} levels"),
            help: None,
            at,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// YAML

/// An open mapping or sequence: where it starts, and where its items start on the
/// shared stack of items read.
enum Open {
    Map { start: usize, first: usize },
    Seq { start: usize, first: usize },
}

fn byte_of(text: &str, m: &Marker) -> usize {
    match m.byte_offset() {
        Some(b) => b.min(text.len()),
        None => text
            .char_indices()
            .nth(m.index())
            .map_or(text.len(), |(b, _)| b),
    }
}

/// Reads every YAML document of `text` (a file usually holds one) into `bump`.
pub fn parse_yaml<'a>(text: &'a str, bump: &'a Bump) -> Result<Vec<Node<'a>>, TreeError> {
    let mut docs = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut items: Vec<Node<'a>> = Vec::new();
    let options = granit_parser::options! {
        flow_nesting_limit: MAX_DEPTH,
        block_nesting_limit: MAX_DEPTH,
    };
    for next in Parser::new_from_str_with_options(text, options) {
        let (event, span) = match next {
            Ok(pair) => pair,
            Err(e) => {
                let at = byte_of(text, e.marker());
                if matches!(e.kind(), ErrorKind::RecursionLimitExceeded) {
                    return Err(TreeError::too_deep(at));
                }
                let info = e.info();
                let message = if info.is_empty() {
                    "invalid yaml".to_string()
                } else {
                    info
                };
                return Err(TreeError::syntax(message, at));
            }
        };
        let start = byte_of(text, &span.start);
        let end = byte_of(text, &span.end).max(start);
        let done: Option<Node> = match event {
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(TreeError::too_deep(start));
                }
                let first = items.len();
                stack.push(if matches!(event, Event::MappingStart(..)) {
                    Open::Map { start, first }
                } else {
                    Open::Seq { start, first }
                });
                None
            }
            Event::MappingEnd => match stack.pop() {
                Some(Open::Map { start: s, first }) => {
                    let mut pairs = Vec::with_capacity(items.len().saturating_sub(first) / 2);
                    let mut it = items.drain(first..);
                    while let Some(k) = it.next() {
                        let v = match it.next() {
                            Some(v) => v,
                            None => Node {
                                kind: NodeKind::Scalar {
                                    text: "",
                                    plain: true,
                                },
                                span: k.span.end..k.span.end,
                            },
                        };
                        pairs.push((k, v));
                    }
                    drop(it);
                    Some(Node {
                        kind: NodeKind::Map(bump.alloc_slice_fill_iter(pairs)),
                        span: s..end.max(s),
                    })
                }
                _ => return Err(TreeError::syntax("unbalanced mapping", start)),
            },
            Event::SequenceEnd => match stack.pop() {
                Some(Open::Seq { start: s, first }) => Some(Node {
                    kind: NodeKind::Seq(bump.alloc_slice_fill_iter(items.drain(first..))),
                    span: s..end.max(s),
                }),
                _ => return Err(TreeError::syntax("unbalanced sequence", start)),
            },
            Event::Scalar(value, style, _, tag) => {
                let quoted = !matches!(style, ScalarStyle::Plain)
                    || tag.as_ref().is_some_and(|t| t.suffix() == "str");
                Some(Node {
                    kind: NodeKind::Scalar {
                        text: in_arena(bump, value),
                        plain: !quoted,
                    },
                    span: start..end,
                })
            }
            Event::Alias(..) | Event::UnresolvedAlias(..) => {
                return Err(TreeError {
                    kind: TreeErrorKind::Alias,
                    message: "aliases are not supported in case files".to_string(),
                    help: None,
                    at: start,
                })
            }
            _ => None,
        };
        if let Some(node) = done {
            if stack.is_empty() {
                docs.push(node);
            } else {
                items.push(node);
            }
        }
    }
    Ok(docs)
}

// ---------------------------------------------------------------------------------------------
// JSON

struct JsonParser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Added to every offset (JSON Lines: the line's offset in the file).
    base: usize,
    bump: &'a Bump,
    /// The members of the objects open, innermost last (moved to the arena when an
    /// object closes).
    members: Vec<(Node<'a>, Node<'a>)>,
    /// The elements of the arrays open, innermost last.
    elements: Vec<Node<'a>>,
}

/// Reads one JSON value filling all of `text` (surrounding white space allowed) into
/// `bump`. Offsets are shifted by `base`.
pub fn parse_json<'a>(text: &'a str, base: usize, bump: &'a Bump) -> Result<Node<'a>, TreeError> {
    let mut p = JsonParser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        base,
        bump,
        members: Vec::new(),
        elements: Vec::new(),
    };
    if text.starts_with('\u{feff}') {
        p.pos = '\u{feff}'.len_utf8();
    }
    p.ws();
    if p.pos >= p.bytes.len() {
        return Err(p.err("expected a json value, found the end of the input"));
    }
    let node = p.value(0)?;
    let end = p.pos;
    p.ws();
    if p.pos < p.bytes.len() {
        let mut e = p.err(format!(
            "unexpected {} after the end of the json value",
            p.describe_here()
        ));
        // another object on a later line: JSON Lines in a file named as JSON
        let next_line = p.bytes.get(end..p.pos).is_some_and(|b| b.contains(&b'\n'));
        if next_line && p.peek() == Some(b'{') {
            e.help = Some(
                "this looks like JSON Lines (one case per line): name the file `.jsonl` (or give standard input `--input-format jsonl`), or make it one JSON array `[{...}, {...}]`",
            );
        }
        return Err(e);
    }
    Ok(node)
}

impl<'a> JsonParser<'a> {
    fn err(&self, message: impl Into<String>) -> TreeError {
        let mut e = TreeError::syntax(message, self.base + self.pos);
        if self.pos >= self.bytes.len() {
            // the text ran out, which is what a truncated file or line looks like
            e.help = Some(
                "the text ends before the JSON is complete: was the file or line cut off (an interrupted copy or export)? Otherwise check for a missing closing quote or bracket",
            );
        }
        e
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn describe_here(&self) -> String {
        match self.text.get(self.pos..).and_then(|s| s.chars().next()) {
            None => "end of input".to_string(),
            Some(c) if c.is_control() => format!("character U+{:04X}", u32::from(c)),
            Some(c) => format!("`{c}`"),
        }
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node<'a>, TreeError> {
        let start = self.pos;
        match self.peek() {
            Some(b'{') | Some(b'[') if depth >= MAX_DEPTH => {
                Err(TreeError::too_deep(self.base + start))
            }
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => {
                let text = self.string()?;
                Ok(self.node(start, NodeKind::Scalar { text, plain: false }))
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't' | b'f' | b'n') => {
                for word in ["true", "false", "null"] {
                    if self.bytes.get(self.pos..self.pos + word.len()) == Some(word.as_bytes()) {
                        self.pos += word.len();
                        return Ok(self.node(
                            start,
                            NodeKind::Scalar {
                                text: word,
                                plain: true,
                            },
                        ));
                    }
                }
                // the word as written, up to a delimiter: `fal` from a truncated line
                let rest = self.bytes.get(self.pos..).unwrap_or_default();
                let len = rest
                    .iter()
                    .take(16)
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                    .count();
                let word = String::from_utf8_lossy(rest.get(..len).unwrap_or_default());
                Err(self.err(format!(
                    "`{word}` is not a json value: expected `true`, `false` or `null` (a truncated line?)"
                )))
            }
            None => Err(self.err("expected a json value, found the end of the input")),
            Some(_) => Err(self.err(format!(
                "expected a json value, found {}",
                self.describe_here()
            ))),
        }
    }

    fn node(&self, start: usize, kind: NodeKind<'a>) -> Node<'a> {
        Node {
            kind,
            span: self.base + start..self.base + self.pos,
        }
    }

    fn object(&mut self, depth: usize) -> Result<Node<'a>, TreeError> {
        let start = self.pos;
        self.pos += 1;
        let first = self.members.len();
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(self.node(start, NodeKind::Map(&[])));
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.err(format!(
                    "expected a quoted member name, found {}",
                    self.describe_here()
                )));
            }
            let kstart = self.pos;
            let key = self.string()?;
            let knode = self.node(
                kstart,
                NodeKind::Scalar {
                    text: key,
                    plain: false,
                },
            );
            self.ws();
            if self.peek() != Some(b':') {
                return Err(self.err(format!(
                    "expected `:` after a member name, found {}",
                    self.describe_here()
                )));
            }
            self.pos += 1;
            self.ws();
            let v = self.value(depth + 1)?;
            self.members.push((knode, v));
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.trailing_comma(b'}')?;
                }
                Some(b'}') => {
                    self.pos += 1;
                    let pairs = self.bump.alloc_slice_fill_iter(self.members.drain(first..));
                    return Ok(self.node(start, NodeKind::Map(pairs)));
                }
                _ => {
                    return Err(self.err(format!(
                        "expected `,` or `}}` after an object member, found {}",
                        self.describe_here()
                    )))
                }
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Node<'a>, TreeError> {
        let start = self.pos;
        self.pos += 1;
        let first = self.elements.len();
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(self.node(start, NodeKind::Seq(&[])));
        }
        loop {
            self.ws();
            let item = self.value(depth + 1)?;
            self.elements.push(item);
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.trailing_comma(b']')?;
                }
                Some(b']') => {
                    self.pos += 1;
                    let items = self
                        .bump
                        .alloc_slice_fill_iter(self.elements.drain(first..));
                    return Ok(self.node(start, NodeKind::Seq(items)));
                }
                _ => {
                    return Err(self.err(format!(
                        "expected `,` or `]` after an array element, found {}",
                        self.describe_here()
                    )))
                }
            }
        }
    }

    /// At a `,`: steps over it, refusing a comma right before the closing `close`.
    fn trailing_comma(&mut self, close: u8) -> Result<(), TreeError> {
        let comma = self.pos;
        self.pos += 1;
        self.ws();
        if self.peek() == Some(close) {
            self.pos = comma;
            let mut e = self.err(format!(
                "trailing comma before `{}` (json allows no comma after the last element)",
                char::from(close)
            ));
            e.help = Some("remove this comma");
            return Err(e);
        }
        Ok(())
    }

    fn digits(&mut self) -> usize {
        let s = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - s
    }

    fn number(&mut self) -> Result<Node<'a>, TreeError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        let n = self.digits();
        if n == 0 {
            return Err(self.err("expected a digit in a json number"));
        }
        if n > 1 && self.bytes.get(int_start) == Some(&b'0') {
            self.pos = int_start + 1;
            return Err(self.err("json numbers must not have leading zeros"));
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.err("expected a digit after the decimal point"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.err("expected a digit in the exponent"));
            }
        }
        let text = self.text.get(start..self.pos).unwrap_or_default();
        Ok(self.node(start, NodeKind::Scalar { text, plain: true }))
    }

    fn hex4(&mut self) -> Result<u32, TreeError> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .filter(|s| s.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.err("expected four hex digits after `\\u`"))?;
        let v = u32::from_str_radix(digits, 16)
            .map_err(|_| self.err("expected four hex digits after `\\u`"))?;
        self.pos += 4;
        Ok(v)
    }

    /// At an opening quote; returns the decoded string.
    fn string(&mut self) -> Result<&'a str, TreeError> {
        // fast path: no escape and no control character before the closing quote (bytes
        // of multi-byte characters are all >= 0x80, so a byte scan finds both)
        let begin = self.pos + 1;
        let mut end = plain_run_end(self.bytes, begin);
        while let Some(&b) = self.bytes.get(end) {
            if b == b'"' {
                if let Some(s) = self.text.get(begin..end) {
                    self.pos = end + 1;
                    return Ok(s);
                }
                break;
            }
            if b == b'\\' || b < 0x20 {
                break;
            }
            end += 1;
        }
        let decoded = self.string_escaped()?;
        Ok(self.bump.alloc_str(&decoded))
    }

    fn string_escaped(&mut self) -> Result<String, TreeError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let rest = self.text.get(self.pos..).unwrap_or_default();
            let Some(c) = rest.chars().next() else {
                return Err(self.err("unterminated string"));
            };
            match c {
                '"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                '\\' => {
                    let esc_at = self.pos;
                    self.pos += 1;
                    let e = self.peek();
                    self.pos += 1;
                    match e {
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'/') => out.push('/'),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'n') => out.push('\n'),
                        Some(b'r') => out.push('\r'),
                        Some(b't') => out.push('\t'),
                        Some(b'u') => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                                    return Err(self.err("unpaired surrogate in `\\u` escape"));
                                }
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("unpaired surrogate in `\\u` escape"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            match char::from_u32(code) {
                                Some(ch) => out.push(ch),
                                None => return Err(self.err("unpaired surrogate in `\\u` escape")),
                            }
                        }
                        _ => {
                            self.pos = esc_at;
                            return Err(self.err("invalid escape in string"));
                        }
                    }
                }
                c if u32::from(c) < 0x20 => {
                    return Err(self.err("control character in string (escape it, e.g. `\\n`)"))
                }
                c => {
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }
}

/// The end of the run of bytes from `from` that need no attention inside a JSON string: the
/// index of the first `"`, `\\` or control character in the 8-byte words from `from`, or
/// where fewer than 8 bytes remain (the caller scans the rest byte by byte). Eight bytes at a time: a byte `b`
/// is flagged when `b ^ '"'`, `b ^ '\\'` or `b` itself is below `n` (1, 1, 0x20), with the
/// borrow trick `(x - n*0x01..) & !x & 0x80..`, whose lowest flagged byte is exact.
fn plain_run_end(bytes: &[u8], from: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
    let mut at = from;
    while let Some(word) = bytes.get(at..at + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let x = u64::from_le_bytes(w);
        let hit = below(x ^ (ONES * u64::from(b'"')), 1)
            | below(x ^ (ONES * u64::from(b'\\')), 1)
            | below(x, 0x20);
        if hit != 0 {
            return at + (hit.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_run_end_stops_where_the_byte_scan_would() {
        let naive = |b: &[u8], from: usize| {
            (from..b.len())
                .find(|&i| matches!(b[i], b'"' | b'\\' | 0..=0x1f))
                .unwrap_or(b.len())
        };
        // every special byte at every offset, among ASCII and multi-byte text
        let fillers: [&[u8]; 3] = [
            b"abcdefghijklmnopqrstuvwxyz0123",
            "é€𝄞 ok ü".as_bytes(),
            b"~~~~ !!!!",
        ];
        let specials = [b'"', b'\\', 0u8, 0x1f, b'\n', 0x7f, 0x20, 0xff, 0x80];
        for filler in fillers {
            for at in 0..filler.len() {
                for &sp in &specials {
                    let mut b = filler.to_vec();
                    b.insert(at, sp);
                    for from in 0..b.len() {
                        let fast = plain_run_end(&b, from);
                        let want = naive(&b, from);
                        // the fast scan stops at the first special byte or before the
                        // last partial word, never past a special byte
                        assert!(fast <= want, "{b:?} from {from}: {fast} > {want}");
                        assert!(
                            fast == want || b.len() - fast < 8,
                            "{b:?} from {from}: {fast}"
                        );
                        assert_eq!(naive(&b, fast), want);
                    }
                }
            }
        }
    }

    #[test]
    fn yaml_keeps_text_and_quotes() {
        let bump = Bump::new();
        let docs = parse_yaml("a: 31.5\nb: \"31.5\"\n", &bump).unwrap();
        let NodeKind::Map(pairs) = &docs[0].kind else {
            panic!()
        };
        assert!(
            matches!(&pairs[0].1.kind, NodeKind::Scalar { text, plain: true } if *text == "31.5")
        );
        assert!(
            matches!(&pairs[1].1.kind, NodeKind::Scalar { text, plain: false } if *text == "31.5")
        );
        assert_eq!(pairs[0].1.span, 3..7);
    }

    #[test]
    fn json_escapes_and_tabs() {
        let bump = Bump::new();
        let n = parse_json("{\t\"a\" :\t\"x\\u00e9\\ud83d\\ude00\\/\" }", 0, &bump).unwrap();
        let NodeKind::Map(pairs) = &n.kind else {
            panic!()
        };
        assert!(
            matches!(&pairs[0].1.kind, NodeKind::Scalar { text, .. } if *text == "x\u{e9}\u{1F600}/")
        );
    }

    #[test]
    fn json_deep_nesting_is_refused() {
        let text = "[".repeat(10_000);
        let bump = Bump::new();
        let e = parse_json(&text, 0, &bump).unwrap_err();
        assert_eq!(e.kind, TreeErrorKind::TooDeep);
        let e = parse_yaml(&text, &bump).unwrap_err();
        assert_eq!(e.kind, TreeErrorKind::TooDeep);
    }
}
