#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

//! The formatter on every shipped and test rule file (idempotent, same syntax tree,
//! comments kept, independent of the input's indentation and spacing), and on small
//! inputs.

use std::path::{Path, PathBuf};

use irano_format::{format_source, FormatErrorKind};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rano") {
            out.push(path);
        }
    }
}

/// Every `.rano` file under `rules/` and `tests/` (`tests/rules/{ok,base,err}`,
/// `tests/language`, and the syntax and CLI corpora).
fn rano_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    collect(&workspace().join("rules"), &mut files);
    collect(&workspace().join("tests"), &mut files);
    files.sort();
    for required in [
        "rules",
        "tests/rules/ok",
        "tests/rules/base",
        "tests/rules/err",
        "tests/language",
    ] {
        let dir = workspace().join(required);
        assert!(
            files.iter().any(|f| f.starts_with(&dir)),
            "no .rano file found under {}",
            dir.display()
        );
    }
    files
}

/// The `Debug` text of a syntax tree without any `Span { start: N, end: M }`.
fn without_spans(debug: &str) -> String {
    let mut out = String::new();
    let mut rest = debug;
    while let Some(at) = rest.find("Span { start: ") {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let close = tail.find('}').expect("a span ends with `}`");
        rest = &tail[close + 1..];
    }
    out.push_str(rest);
    out
}

fn tree(text: &str) -> String {
    let file = irano_syntax::parse(text).expect("parses");
    without_spans(&format!("{file:?}"))
}

/// The comments of a text (from `#` to the end of the line, outside strings), trimmed.
fn comments(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '#' => {
                let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                found.push(text[i..end].trim().to_string());
                while chars.peek().is_some_and(|&(j, _)| j < end) {
                    chars.next();
                }
            }
            _ => {}
        }
    }
    found
}

/// The same file with its layout scrambled: indentation removed, spaces doubled, spaces
/// added inside brackets and before commas, blank lines doubled (outside strings and
/// comments). The formatted result must not change.
fn scrambled(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    let mut line_start = true;
    while let Some(c) = chars.next() {
        if line_start && (c == ' ' || c == '\t') {
            continue;
        }
        line_start = false;
        match c {
            '"' => {
                out.push(c);
                while let Some(c) = chars.next() {
                    out.push(c);
                    match c {
                        '\\' => out.extend(chars.next()),
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '#' => {
                out.push(c);
                while let Some(&c) = chars.peek() {
                    if c == '\n' {
                        break;
                    }
                    out.push(c);
                    chars.next();
                }
            }
            '\n' => {
                out.push('\n');
                if chars.peek() == Some(&'\n') {
                    out.push('\n');
                }
                line_start = true;
            }
            ' ' => out.push_str("  "),
            '(' => out.push_str("( "),
            ')' => out.push_str(" )"),
            ',' => out.push_str(" ,"),
            _ => out.push(c),
        }
    }
    out
}

/// The same file with its line breaks moved (outside strings and comments): `join`
/// puts every line that has no comment on one line with the next, `!join` breaks the
/// line at every space.
fn rebroken(text: &str, join: bool) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    let mut comment_on_line = false;
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push(c);
                while let Some(c) = chars.next() {
                    out.push(c);
                    match c {
                        '\\' => out.extend(chars.next()),
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '#' => {
                comment_on_line = true;
                out.push(c);
                while let Some(&c) = chars.peek() {
                    if c == '\n' {
                        break;
                    }
                    out.push(c);
                    chars.next();
                }
            }
            '\n' => {
                out.push(if join && !comment_on_line { ' ' } else { '\n' });
                comment_on_line = false;
            }
            ' ' if !join => out.push('\n'),
            _ => out.push(c),
        }
    }
    out
}

#[test]
fn every_rule_file() {
    let mut formatted = 0;
    for path in rano_files() {
        let name = path.display();
        let text = std::fs::read_to_string(&path).unwrap();
        if irano_syntax::parse(&text).is_err() {
            let err = format_source(&text).expect_err(&format!("{name}: does not parse"));
            assert_eq!(err.kind, FormatErrorKind::Syntax, "{name}");
            assert!(err.offset <= text.len(), "{name}");
            continue;
        }
        let out = format_source(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        formatted += 1;

        // (a) idempotent
        let again = format_source(&out).unwrap_or_else(|e| panic!("{name}, formatted: {e}"));
        assert_eq!(again, out, "{name}: formatting twice changes the text");

        // (b) the same syntax tree
        assert_eq!(tree(&out), tree(&text), "{name}: the syntax tree changed");

        // (c) every comment kept
        let out_lines: Vec<&str> = out.lines().map(str::trim).collect();
        for line in text.lines().map(str::trim).filter(|l| l.starts_with('#')) {
            assert!(
                out_lines.contains(&line),
                "{name}: comment line lost: {line}"
            );
        }
        let out_comments = comments(&out);
        assert_eq!(out_comments, comments(&text), "{name}: comments changed");

        // (d) one layout whatever the input's indentation and spacing
        let messy = scrambled(&text);
        assert_eq!(
            tree(&messy),
            tree(&text),
            "{name}: scrambling changed the tree"
        );
        assert_eq!(
            format_source(&messy).unwrap_or_else(|e| panic!("{name}, scrambled: {e}")),
            out,
            "{name}: the layout depends on the input's spacing"
        );

        // Any line breaks: still the same tree (checked by `format_source`), and stable.
        for join in [true, false] {
            let moved = rebroken(&text, join);
            let once = format_source(&moved).unwrap_or_else(|e| panic!("{name}, rebroken: {e}"));
            assert_eq!(tree(&once), tree(&text), "{name}: rebroken");
            assert_eq!(
                format_source(&once).unwrap(),
                once,
                "{name}: rebroken, twice"
            );
        }

        // The text is clean.
        assert!(
            out.ends_with('\n') && !out.ends_with("\n\n"),
            "{name}: final newline"
        );
        assert!(!out.contains("\n\n\n"), "{name}: a run of blank lines");
        assert!(
            out.lines().all(|l| !l.ends_with(' ') && !l.ends_with('\t')),
            "{name}: trailing whitespace"
        );
    }
    assert!(formatted >= 20, "only {formatted} files formatted");
}

fn fmt(text: &str) -> String {
    format_source(text).unwrap_or_else(|e| panic!("{e} at {}", e.offset))
}

#[test]
fn comments_are_kept() {
    let text = "# head\ncriterion \"c\" { # on the brace\n  # before x\n  let x = 1 # after x\n    # inside\n    cite \"s\"\n# last\n}\n# end\n";
    assert_eq!(
        fmt(text),
        "# head\ncriterion \"c\" {  # on the brace\n  # before x\n  let x = 1  # after x\n    # inside\n    cite \"s\"\n  # last\n}\n# end\n"
    );
}

#[test]
fn a_note_under_an_item_stays_with_it() {
    let text = "criterion \"c\" {\n  show a = 1\n    # about a\n\n  # about b\n  show b = 2\n}\n";
    assert_eq!(fmt(text), text);
}

#[test]
fn blank_lines_collapse() {
    let text = "\n\ncriterion \"c\" {\n\n\n  let a = 1\n\n\n\n  let b = 2\n  let c = 3\n\n}\n\n\n";
    assert_eq!(
        fmt(text),
        "criterion \"c\" {\n  let a = 1\n\n  let b = 2\n  let c = 3\n}\n"
    );
}

#[test]
fn indentation_is_fixed() {
    let text = "criterion \"c\" {\n        let a = b\n and c\n          cite \"s\"\n\ttable t {\nrule r\n when a\n then x = 1,\n set y = a\n and b\n cite \"s\"\n      }\n  }";
    assert_eq!(
        fmt(text),
        "criterion \"c\" {\n  let a = b\n      and c\n    cite \"s\"\n  table t {\n    rule r\n      when a\n      then x = 1,\n        set y = a\n          and b\n      cite \"s\"\n  }\n}\n"
    );
}

#[test]
fn if_chains_and_match_arms() {
    let text = "criterion \"c\" {\nlet a = if p then 1\nelse if q\nthen 2\nelse 3\nlet b = match k {\nx => 1,\n_ => 2 }\n}\n";
    assert_eq!(
        fmt(text),
        "criterion \"c\" {\n  let a = if p then 1\n      else if q\n        then 2\n      else 3\n  let b = match k {\n      x => 1,\n      _ => 2 }\n}\n"
    );
}

#[test]
fn spaces_are_normalised() {
    let text = "criterion \"c\"{let a=1+2*( 3 -x )\nlet b = f (x , y)  in { CR , PR } and not(z)\nparam p : {u,v}= u cite \"s\"\nparam q: percent = 25 %\n  cite \"s\"\nstate s :date ? = null\nlet d = 4 mg/day\nlabels {A  B}\n}";
    assert_eq!(
        fmt(text),
        "criterion \"c\" {\n  let a = 1 + 2 * (3 - x)\n  let b = f(x, y) in {CR, PR} and not (z)\n  param p: {u, v} = u cite \"s\"\n  param q: percent = 25%\n    cite \"s\"\n  state s: date? = null\n  let d = 4 mg/day\n  labels { A B }\n}\n"
    );
}

#[test]
fn a_field_keeps_its_space() {
    // `(a).b` is a field of `(a)`; `a .b` a field of `a`, `a.b` a dotted name.
    let text = "criterion \"c\" {\n  let x = (a ?? b).date\n  let y = a .b\n  let z = a.b\n}\n";
    assert_eq!(fmt(text), text);
}

#[test]
fn items_and_blocks_get_their_own_lines() {
    let text = "criterion \"c\" { version \"1\" title \"t\"\n  table e {\n  }\n  summary { let z = 1 param p: count = 2 }\n  targets { candidate: true rank: x desc max: 5 } cite \"s\" }";
    assert_eq!(
        fmt(text),
        "criterion \"c\" {\n  version \"1\"\n  title \"t\"\n  table e { }\n  summary {\n    let z = 1\n    param p: count = 2\n  }\n  targets {\n    candidate: true\n    rank: x desc\n    max: 5\n  } cite \"s\"\n}\n"
    );
}

#[test]
fn strings_are_untouched() {
    let text = "criterion \"c\" {\n  title   \"a  b # not a comment \\\" (x , y )\"\n  cite \"two  lines\"   doc\n}\n";
    let out = format_source(text);
    // `doc` is not an item: this does not parse
    assert!(out.is_err());
    let text = "criterion \"c\" {\n  title   \"a  b # not a comment \\\" (x , y )\"\n  cite \"two  lines ,( \"  \n}\n";
    assert_eq!(
        fmt(text),
        "criterion \"c\" {\n  title \"a  b # not a comment \\\" (x , y )\"\n  cite \"two  lines ,( \"\n}\n"
    );
    // a string ends on its line
    assert!(format_source("criterion \"c\" {\n  cite \"two\n lines\"\n}\n").is_err());
}

#[test]
fn text_that_does_not_parse_is_refused() {
    for text in [
        "",
        "criterion \"c\" {",
        "criterion \"c\" { let = 1 }",
        "criterion \"c\" { let a = \"open }",
        "criterion \"c\" { let a = ((((1 }",
        "}}}",
        "criterion \"c\" { let a = 1 } trailing",
    ] {
        let err = format_source(text).expect_err(text);
        assert_eq!(err.kind, FormatErrorKind::Syntax, "{text}");
        assert!(err.offset <= text.len(), "{text}");
        assert!(!err.message.is_empty());
    }
    let err = format_source("criterion \"c\" {\n  let a = 1 +\n}").unwrap_err();
    assert_eq!(err.offset, "criterion \"c\" {\n  let a = 1 +\n".len());
}

#[test]
fn crlf_and_tabs() {
    let text = "criterion \"c\" {\r\n\tlet a = 1 # x \r\n}\r\n";
    assert_eq!(fmt(text), "criterion \"c\" {\n  let a = 1  # x\n}\n");
}

/// `override native labels { ... } cite` stays one item (it was split into `override
/// native`, `labels { ... }` and a stray-looking `cite`), and `unit %` keeps its space.
#[test]
fn override_native_labels_and_a_percent_unit() {
    let text = "criterion \"c\" extends \"b\" {\n  override native labels { PD = \"iPD\" } cite \"s\"\n  show x = number(y) unit %\n}\n";
    assert_eq!(fmt(text), text);
}
