//! Decides, for every code token, whether it starts a line, at which indentation, and
//! whether a space separates it from the token before it.
//!
//! A light recursive-descent reading of the token stream: blocks and items as in the
//! grammar, expressions with operator precedence. It never fails: a token it does not
//! expect is laid out with the defaults (one space before it, continuation indentation),
//! so a grammar extension degrades the layout, not the text. Indentation rules are in
//! the crate documentation.

use crate::lex::{Kind, Token};

/// How a code token is printed.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Layout {
    pub starts_line: bool,
    /// Indentation of the line, when the token starts one.
    pub indent: usize,
    /// One space before the token, when it does not start a line.
    pub space: bool,
    pub role: Role,
    /// Indentation of the item the token belongs to.
    pub item_indent: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Role {
    #[default]
    Plain,
    /// `(` and the `{` of a set or choice: nothing after it.
    OpenTight,
    /// `)` and the `}` of a set or choice: nothing before it.
    CloseTight,
    /// The `{` of `labels`, `decisions` and `match`.
    OpenSpaced,
    CloseSpaced,
    BlockOpen,
    BlockClose,
    /// A function, aggregate or `def` name right before its `(`.
    Callee,
    UnaryMinus,
    Comma,
    Colon,
    /// `?` of an optional type.
    Question,
    Percent,
    Field,
}

/// Where a token goes when it starts a line.
#[derive(Debug, Clone, Copy)]
enum Place {
    /// The first token of an item: always on a new line, at this indentation.
    Item(usize),
    /// A clause keyword (`when`, `then`, `cite`, ...): item + 2.
    Clause,
    /// Continuation of the innermost open construct.
    Cont,
    /// Continuation of the construct that began on this line.
    After(usize),
    /// Closing bracket of a bracket opened on this line.
    Close(usize),
    /// A block's `{`.
    BlockOpen,
    /// A block's `}`: always on a new line, at this indentation.
    BlockClose(usize),
    /// An entry of `labels { }` / `decisions { }`.
    ListItem,
    ListClose,
    /// Never starts a line (the `}` of an empty block).
    Inline,
}

/// Which items a block holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Items,
    Targets,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ItemKind {
    /// `criterion` / `overlay`
    Header,
    Param,
    Let,
    Baseline,
    Targets,
    Stop,
    Rule,
    RemoveParam,
    /// `remove rule ID cite "..."`
    RemoveRule,
    /// `def NAME(...) = EXPR cite "..." doc "..."`
    Def,
    Table,
    Summary,
    Labels,
    /// `native labels { LABEL = "name" ... } cite "..."`
    NativeLabels,
    /// An item that takes no `cite` clause.
    Plain,
    /// A word this formatter does not know: assume it takes clauses.
    Unknown,
}

impl ItemKind {
    fn of(first: Option<&str>, second: Option<&str>) -> ItemKind {
        let word = match first {
            Some("override") => second,
            // `move rule ID before OTHER cite "..."`: shaped as `remove rule`
            Some("move") if second == Some("rule") => return ItemKind::RemoveRule,
            // `skip grading when ...`: shaped as `stop grading`
            Some("skip") if second == Some("grading") => return ItemKind::Stop,
            Some("remove") => {
                return match second {
                    Some("param") => ItemKind::RemoveParam,
                    Some("rule") => ItemKind::RemoveRule,
                    _ => ItemKind::Plain,
                }
            }
            w => w,
        };
        match word {
            Some("criterion" | "overlay") => ItemKind::Header,
            Some("param") => ItemKind::Param,
            Some("let") => ItemKind::Let,
            Some("def") => ItemKind::Def,
            Some("baseline") => ItemKind::Baseline,
            Some("targets") => ItemKind::Targets,
            // `warn ID when ... because ... cite ...`: shaped as `stop grading`
            Some("stop" | "skip" | "warn") => ItemKind::Stop,
            Some("rule") => ItemKind::Rule,
            Some("table") => ItemKind::Table,
            Some("summary") => ItemKind::Summary,
            Some("labels" | "decisions") => ItemKind::Labels,
            Some("native") => ItemKind::NativeLabels,
            Some(
                "version" | "title" | "cdisc_category" | "cite" | "state" | "show" | "candidate"
                | "rank" | "max" | "max_per" | "eligible",
            ) => ItemKind::Plain,
            _ => ItemKind::Unknown,
        }
    }

    /// Whether a `cite` after `cites` earlier ones belongs to this item (else it starts
    /// a criterion-level `cite` item), as the grammar decides it.
    fn accepts_cite(self, cites: usize) -> bool {
        match self {
            ItemKind::Param | ItemKind::Stop | ItemKind::Rule | ItemKind::Unknown => true,
            ItemKind::Let
            | ItemKind::Baseline
            | ItemKind::Targets
            | ItemKind::RemoveParam
            | ItemKind::RemoveRule
            | ItemKind::Def
            | ItemKind::NativeLabels => cites == 0,
            _ => false,
        }
    }

    fn block(self) -> Option<Ctx> {
        match self {
            ItemKind::Header | ItemKind::Table | ItemKind::Summary => Some(Ctx::Items),
            ItemKind::Targets => Some(Ctx::Targets),
            _ => None,
        }
    }
}

/// Words that begin an item in a block of items.
const ITEM_WORDS: &[&str] = &[
    "criterion",
    "overlay",
    "version",
    "title",
    "cdisc_category",
    "labels",
    "decisions",
    "param",
    "let",
    "def",
    "state",
    "baseline",
    "targets",
    "show",
    "stop",
    "table",
    "summary",
    "rule",
    "override",
    "remove",
];

/// Words that begin an entry of `targets { }`.
const TARGET_WORDS: &[&str] = &["candidate", "rank", "max", "max_per", "eligible"];

/// Reserved words that cannot be an operand (`true`, `false`, `null`, `if`, `match`,
/// `not` are operands or start one; `baseline`, `targets`, `before`, `after` are
/// names inside expressions).
const NOT_OPERANDS: &[&str] = &[
    "criterion",
    "overlay",
    "extends",
    "with",
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
    "then",
    "set",
    "because",
    "doc",
    "else",
    "in",
    "where",
    "and",
    "or",
];

const UNITS: &[&str] = &[
    "mm2", "mm", "ml", "mg/day", "days", "day", "weeks", "week", "months", "month",
];

/// Binding power of an infix operator and whether it groups to the right.
fn infix(t: &Token<'_>) -> Option<(u8, bool)> {
    match (t.kind, t.text) {
        (Kind::Word, "or") => Some((1, false)),
        (Kind::Word, "and") => Some((2, false)),
        (Kind::Word, "in") | (Kind::Punct, "==" | "!=" | "<" | "<=" | ">" | ">=") => {
            Some((4, false))
        }
        (Kind::Punct, "??") => Some((5, true)),
        (Kind::Punct, "+" | "-") => Some((6, false)),
        (Kind::Punct, "*" | "/") => Some((7, false)),
        _ => None,
    }
}

/// `not` binds looser than comparisons; unary minus tighter than `*`.
const NOT_OPERAND_POWER: u8 = 4;
const NEG_OPERAND_POWER: u8 = 8;

#[derive(Debug, Clone, Copy)]
struct Line {
    indent: usize,
    /// The first line of an item or a clause line: continuations go to item + 4.
    item_level: bool,
}

struct Parser<'t, 'a> {
    toks: &'t [Token<'a>],
    /// Indices (into `toks`) of the tokens that are not comments.
    code: Vec<usize>,
    pos: usize,
    layout: Vec<Layout>,
    lines: Vec<Line>,
    prev_role: Option<Role>,
    item_indent: usize,
    /// Lines where the constructs enclosing the current token began, innermost last.
    anchors: Vec<usize>,
    /// Lines where the open brackets of the current item were opened.
    brackets: Vec<usize>,
}

/// Lays out every code token of `toks` (comments keep the default layout; the renderer
/// places them).
pub(crate) fn layout(toks: &[Token<'_>]) -> Vec<Layout> {
    let mut p = Parser {
        toks,
        code: (0..toks.len())
            .filter(|&i| toks.get(i).is_some_and(|t| t.kind != Kind::Comment))
            .collect(),
        pos: 0,
        layout: vec![Layout::default(); toks.len()],
        lines: Vec::new(),
        prev_role: None,
        item_indent: 0,
        anchors: Vec::new(),
        brackets: Vec::new(),
    };
    p.items(0, Ctx::Items);
    // Only a stray `}` can be left; keep it.
    while p.peek().is_some() {
        p.bump(Place::Item(0), Role::Plain);
    }
    p.layout
}

impl<'a> Parser<'_, 'a> {
    fn peek_n(&self, n: usize) -> Option<Token<'a>> {
        self.code
            .get(self.pos + n)
            .and_then(|&i| self.toks.get(i))
            .copied()
    }

    fn peek(&self) -> Option<Token<'a>> {
        self.peek_n(0)
    }

    fn peek_word(&self, w: &str) -> bool {
        self.peek().is_some_and(|t| t.is_word(w))
    }

    fn peek_punct(&self, p: &str) -> bool {
        self.peek().is_some_and(|t| t.is_punct(p))
    }

    fn cur_line(&self) -> usize {
        self.lines.len().saturating_sub(1)
    }

    /// Indentation of a continuation of the construct that began on `line`.
    fn continuation(&self, line: usize) -> usize {
        let item_cont = self.item_indent + 4;
        match self.lines.get(line) {
            Some(l) if !l.item_level => {
                let step = if self.brackets.contains(&line) { 4 } else { 2 };
                (l.indent + step).max(item_cont)
            }
            _ => item_cont,
        }
    }

    /// Consumes the next code token; returns the line it is on.
    /// Whether the code token before the next one is the word `w`.
    fn previous_is_word(&self, w: &str) -> bool {
        self.pos
            .checked_sub(1)
            .and_then(|p| self.code.get(p))
            .and_then(|&ti| self.toks.get(ti))
            .is_some_and(|t| t.kind == Kind::Word && t.text == w)
    }

    fn bump(&mut self, place: Place, role: Role) -> Option<usize> {
        let &ti = self.code.get(self.pos)?;
        let tok = *self.toks.get(ti)?;
        self.pos += 1;
        let forced = matches!(place, Place::Item(_) | Place::BlockClose(_));
        let starts_line = match place {
            Place::Inline => self.lines.is_empty(),
            _ => forced || tok.newlines_before > 0 || self.lines.is_empty(),
        };
        let mut indent = 0;
        if starts_line {
            let i = self.item_indent;
            let (ind, item_level) = match place {
                Place::Item(n) | Place::BlockClose(n) => (n, true),
                Place::Clause => (i + 2, true),
                Place::Cont => {
                    let anchor = self.anchors.last().copied().unwrap_or(usize::MAX);
                    (self.continuation(anchor), false)
                }
                Place::After(line) => (self.continuation(line), false),
                Place::Close(line) => {
                    let opener = self.lines.get(line).map_or(0, |l| l.indent);
                    (opener.max(i + 2), false)
                }
                Place::BlockOpen | Place::ListClose | Place::Inline => (i, true),
                Place::ListItem => (i + 2, false),
            };
            indent = ind;
            self.lines.push(Line { indent, item_level });
        }
        let space = !starts_line
            && self
                .prev_role
                .is_some_and(|prev| space_between(prev, role, &tok));
        if let Some(l) = self.layout.get_mut(ti) {
            *l = Layout {
                starts_line,
                indent,
                space,
                role,
                item_indent: self.item_indent,
            };
        }
        self.prev_role = Some(role);
        Some(self.cur_line())
    }

    // ---------------------------------------------------------------- blocks, items

    fn items(&mut self, indent: usize, ctx: Ctx) {
        while let Some(t) = self.peek() {
            if t.is_punct("}") {
                break;
            }
            self.item(indent, ctx);
        }
    }

    fn starts_item(
        t: &Token<'_>,
        next: Option<Token<'_>>,
        ctx: Ctx,
        kind: ItemKind,
        cites: usize,
    ) -> bool {
        if t.kind != Kind::Word {
            return false;
        }
        match ctx {
            Ctx::Targets => TARGET_WORDS.contains(&t.text),
            Ctx::Items => {
                ITEM_WORDS.contains(&t.text)
                    || (t.text == "cite" && !kind.accepts_cite(cites))
                    // `native` is not reserved: an item only before `labels`
                    || (t.text == "native" && next.is_some_and(|n| n.text == "labels"))
                    // nor is `move`: an item only before `rule`
                    || (t.text == "move" && next.is_some_and(|n| n.text == "rule"))
                    // nor is `skip`: an item only before `grading`
                    || (t.text == "skip" && next.is_some_and(|n| n.text == "grading"))
                    // nor is `warn`: an item only before its id (a name, not an operator)
                    || (t.text == "warn"
                        && next.is_some_and(|n| {
                            n.kind == Kind::Word
                                && !matches!(
                                    n.text,
                                    "and" | "or" | "in" | "where" | "then" | "else" | "when"
                                )
                        }))
            }
        }
    }

    fn item(&mut self, indent: usize, ctx: Ctx) {
        let saved_indent = std::mem::replace(&mut self.item_indent, indent);
        let saved_anchors = std::mem::take(&mut self.anchors);
        let saved_brackets = std::mem::take(&mut self.brackets);

        let first = self.peek().filter(|t| t.kind == Kind::Word).map(|t| t.text);
        let second = self
            .peek_n(1)
            .filter(|t| t.kind == Kind::Word)
            .map(|t| t.text);
        let kind = ItemKind::of(first, second);
        if let Some(line) = self.bump(Place::Item(indent), Role::Plain) {
            self.anchors.push(line);
        }
        // `override native labels { ... }`: the words before the list are the item's head
        if kind == ItemKind::NativeLabels {
            while self
                .peek()
                .is_some_and(|t| t.kind == Kind::Word && matches!(t.text, "native" | "labels"))
            {
                self.bump(Place::Cont, Role::Plain);
            }
        }
        let mut expect = true;
        let mut cites = 0;
        let mut block_done = false;
        while let Some(t) = self.peek() {
            if t.is_punct("}") {
                break;
            }
            if t.kind == Kind::Word {
                if !expect && Self::starts_item(&t, self.peek_n(1), ctx, kind, cites) {
                    break;
                }
                let clause = match t.text {
                    "when" | "then" | "otherwise" | "because" | "doc" => true,
                    "cite" => kind.accepts_cite(cites),
                    "range" => kind == ItemKind::Param && !expect,
                    _ => false,
                };
                if clause {
                    self.bump(Place::Clause, Role::Plain);
                    cites += usize::from(t.text == "cite");
                    expect = t.text != "otherwise";
                    continue;
                }
            }
            if t.is_punct("{") {
                if let (Some(inner), false) = (kind.block(), block_done) {
                    self.block(inner);
                    block_done = true;
                    expect = false;
                    continue;
                }
                if matches!(kind, ItemKind::Labels | ItemKind::NativeLabels) {
                    self.list();
                    expect = false;
                    continue;
                }
            }
            if expect && self.expr(0).is_some() {
                expect = false;
                continue;
            }
            if t.is_punct("(") || t.is_punct("{") {
                self.bracket();
                expect = false;
                continue;
            }
            // `unit %` names a unit: spaced, not a percent sign glued to a number
            let role = if t.is_punct("%") && self.previous_is_word("unit") {
                Role::Plain
            } else {
                role_of(&t)
            };
            self.bump(Place::Cont, role);
            expect = expects_operand_after(&t);
        }

        self.item_indent = saved_indent;
        self.anchors = saved_anchors;
        self.brackets = saved_brackets;
    }

    /// `{ items }` of a criterion, overlay, table, summary or `targets`.
    fn block(&mut self, ctx: Ctx) {
        let indent = self.item_indent;
        let open = self.code.get(self.pos).copied();
        self.bump(Place::BlockOpen, Role::BlockOpen);
        // Nothing at all inside (not even a comment): `{ }` on one line.
        let next = self.code.get(self.pos).copied();
        if next.is_some() && next == open.map(|i| i + 1) && self.peek_punct("}") {
            self.bump(Place::Inline, Role::BlockClose);
            return;
        }
        self.items(indent + 2, ctx);
        if self.peek_punct("}") {
            self.bump(Place::BlockClose(indent), Role::BlockClose);
        }
    }

    /// `{ CR PR SD }` of `labels` and `decisions`.
    fn list(&mut self) {
        self.bump(Place::Cont, Role::OpenSpaced);
        while let Some(t) = self.peek() {
            if t.is_punct("}") {
                self.bump(Place::ListClose, Role::CloseSpaced);
                break;
            }
            self.bump(Place::ListItem, role_of(&t));
        }
    }

    // ---------------------------------------------------------------- expressions

    /// An expression whose operators bind at least `min_power`; returns the line of
    /// its first token, or `None` (nothing consumed) if no operand starts here.
    fn expr(&mut self, min_power: u8) -> Option<usize> {
        let start = self.operand()?;
        while let Some(t) = self.peek() {
            let Some((power, right)) = infix(&t) else {
                break;
            };
            if power < min_power {
                break;
            }
            self.bump(Place::After(start), Role::Plain);
            self.anchors.push(start);
            let rhs = self.expr(if right { power } else { power + 1 });
            self.anchors.pop();
            if rhs.is_none() {
                break;
            }
        }
        Some(start)
    }

    /// Prefix operators, a primary, and `.field`s.
    fn operand(&mut self) -> Option<usize> {
        let t = self.peek()?;
        let (prefix, power) = if t.is_word("not") {
            (Role::Plain, NOT_OPERAND_POWER)
        } else if t.is_punct("-") {
            (Role::UnaryMinus, NEG_OPERAND_POWER)
        } else {
            let start = self.primary()?;
            while self.peek().is_some_and(|t| t.kind == Kind::Field) {
                self.bump(Place::After(start), Role::Field);
            }
            return Some(start);
        };
        let line = self.bump(Place::Cont, prefix)?;
        self.anchors.push(line);
        self.expr(power);
        self.anchors.pop();
        Some(line)
    }

    fn primary(&mut self) -> Option<usize> {
        let t = self.peek()?;
        match t.kind {
            Kind::Number => {
                let line = self.bump(Place::Cont, Role::Plain)?;
                match self.peek() {
                    Some(u) if u.kind == Kind::Word && UNITS.contains(&u.text) => {
                        self.bump(Place::Cont, Role::Plain);
                    }
                    Some(u) if u.is_punct("%") => {
                        self.bump(Place::Cont, Role::Percent);
                    }
                    _ => {}
                }
                Some(line)
            }
            Kind::Str => self.bump(Place::Cont, Role::Plain),
            Kind::Word if t.text == "if" => self.if_expr(),
            Kind::Word if t.text == "match" => self.match_expr(),
            Kind::Word if NOT_OPERANDS.contains(&t.text) => None,
            Kind::Word => {
                if self.peek_n(1).is_some_and(|n| n.is_punct("(")) {
                    let line = self.bump(Place::Cont, Role::Callee)?;
                    self.bracket();
                    Some(line)
                } else {
                    self.bump(Place::Cont, Role::Plain)
                }
            }
            Kind::Punct if t.text == "(" || t.text == "{" => self.bracket(),
            _ => None,
        }
    }

    /// `if c then a else if d then b else e`.
    fn if_expr(&mut self) -> Option<usize> {
        let first = self.bump(Place::Cont, Role::Plain)?;
        let mut link = first;
        loop {
            self.anchors.push(link);
            self.expr(0);
            self.anchors.pop();
            if !self.peek_word("then") {
                break;
            }
            let Some(then_line) = self.bump(Place::After(link), Role::Plain) else {
                break;
            };
            self.anchors.push(then_line);
            self.expr(0);
            self.anchors.pop();
            if !self.peek_word("else") {
                break;
            }
            let Some(else_line) = self.bump(Place::After(first), Role::Plain) else {
                break;
            };
            if self.peek_word("if") {
                match self.bump(Place::Cont, Role::Plain) {
                    Some(l) => link = l,
                    None => break,
                }
                continue;
            }
            self.anchors.push(else_line);
            self.expr(0);
            self.anchors.pop();
            break;
        }
        Some(first)
    }

    /// `match e { a | b => x, _ => y }`.
    fn match_expr(&mut self) -> Option<usize> {
        let line = self.bump(Place::Cont, Role::Plain)?;
        self.anchors.push(line);
        self.expr(0);
        self.anchors.pop();
        if self.peek_punct("{") {
            self.bracket_of(true);
        }
        Some(line)
    }

    /// `( ... )` (parentheses, call arguments, `def` parameters) or `{ ... }` (a set,
    /// a choice type, the arms of a `match`); returns the line of the opening bracket.
    fn bracket(&mut self) -> Option<usize> {
        self.bracket_of(false)
    }

    /// A bracket; `spaced` for the arms of a `match` (`{ a => 1, _ => 2 }`).
    fn bracket_of(&mut self, spaced: bool) -> Option<usize> {
        let open = self.peek()?;
        let (close, open_role, close_role) = if open.is_punct("(") {
            (")", Role::OpenTight, Role::CloseTight)
        } else if spaced {
            ("}", Role::OpenSpaced, Role::CloseSpaced)
        } else {
            ("}", Role::OpenTight, Role::CloseTight)
        };
        let open_line = self.bump(Place::Cont, open_role)?;
        self.anchors.push(open_line);
        self.brackets.push(open_line);
        let depth = self.anchors.len();
        let mut expect = true;
        while let Some(t) = self.peek() {
            if t.is_punct(")") || t.is_punct("}") {
                break;
            }
            if t.is_punct(",") {
                self.anchors.truncate(depth);
                self.bump(Place::Cont, Role::Comma);
                expect = true;
                continue;
            }
            if expect {
                if let Some(line) = self.expr(0) {
                    if self.anchors.len() == depth {
                        // Continuations inside this element hang from its first line.
                        self.anchors.push(line);
                    }
                    expect = false;
                    continue;
                }
            }
            if t.is_punct("(") || t.is_punct("{") {
                self.bracket();
                expect = false;
                continue;
            }
            self.bump(Place::Cont, role_of(&t));
            expect = expects_operand_after(&t);
        }
        self.anchors.truncate(depth.saturating_sub(1));
        self.brackets.pop();
        if self.peek_punct(close) {
            self.bump(Place::Close(open_line), close_role);
        }
        Some(open_line)
    }
}

fn role_of(t: &Token<'_>) -> Role {
    match (t.kind, t.text) {
        (Kind::Punct, ",") => Role::Comma,
        (Kind::Punct, ":") => Role::Colon,
        (Kind::Punct, "?") => Role::Question,
        (Kind::Punct, "%") => Role::Percent,
        (Kind::Punct, ")") => Role::CloseTight,
        (Kind::Field, _) => Role::Field,
        _ => Role::Plain,
    }
}

/// After a token read without structure, whether an operand is expected next.
fn expects_operand_after(t: &Token<'_>) -> bool {
    match t.kind {
        Kind::Punct => !matches!(t.text, "?" | "%" | ")" | "}"),
        Kind::Word => !matches!(t.text, "asc" | "desc" | "otherwise"),
        Kind::Other => true,
        _ => false,
    }
}

/// Whether one space separates two tokens on the same line.
fn space_between(prev: Role, role: Role, tok: &Token<'_>) -> bool {
    match prev {
        Role::OpenTight => return false,
        Role::UnaryMinus => return tok.is_punct("-"),
        _ => {}
    }
    match role {
        Role::CloseTight | Role::Comma | Role::Colon | Role::Question | Role::Percent => false,
        Role::OpenTight if prev == Role::Callee => false,
        // `a .b` and `a.b` differ (field of `a` / dotted name): keep what was written.
        Role::Field => tok.space_before,
        _ => true,
    }
}
