//! Loading a rule file with its `extends` chain and merging the chain into one
//! criterion: the parent's declarations, changed only where the child says so.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use irano_syntax::ast::{self, Item, Name, Position, TableItem};

use crate::diag::{backticked, closest, Diagnostic, SourceText};

/// Finds the text of a parent criterion.
pub trait Loader {
    /// The file that holds criterion `id`, extended from the file named `from`.
    /// Returns the display name and the text, or what went wrong and what to do (the
    /// diagnostic's help).
    fn load(&self, id: &str, from: &str) -> Result<(String, String), String>;
}

/// Looks for `<id>.rano` in the directory of the extending file, then in each of
/// `search` in order (the CLI's `--include DIR`).
#[derive(Debug, Clone, Default)]
pub struct FsLoader {
    pub search: Vec<PathBuf>,
}

impl Loader for FsLoader {
    fn load(&self, id: &str, from: &str) -> Result<(String, String), String> {
        let stem = Path::new(id)
            .file_name()
            .and_then(|f| f.to_str())
            .map(|f| f.strip_suffix(".rano").unwrap_or(f))
            .unwrap_or(id);
        if id.is_empty() || id.contains(['/', '\\']) || id.starts_with('.') {
            let folder = Path::new(id)
                .parent()
                .map(|p| p.display().to_string())
                .filter(|p| !p.is_empty());
            return Err(match folder {
                Some(f) => format!(
                    "`{id}` is a path, not a criterion id: write `extends \"{stem}\"` and name its folder with `--include {f}`"
                ),
                None => format!("`{id}` is not a criterion id"),
            });
        }
        if let Some(bare) = id.strip_suffix(".rano") {
            return Err(format!(
                "a criterion is named by its id, without `.rano`: write `extends \"{bare}\"`"
            ));
        }
        let dir = Path::new(from).parent().unwrap_or(Path::new(""));
        let file = format!("{id}.rano");
        let mut tried = Vec::new();
        let mut known: Vec<String> = Vec::new();
        for d in std::iter::once(dir).chain(self.search.iter().map(PathBuf::as_path)) {
            let path: PathBuf = d.join(&file);
            match std::fs::read_to_string(&path) {
                Ok(text) => return Ok((path.display().to_string(), text)),
                Err(_) => tried.push(format!("`{}`", path.display())),
            }
            // the criteria that folder does hold, for a suggestion
            let here = if d.as_os_str().is_empty() {
                Path::new(".")
            } else {
                d
            };
            if let Ok(entries) = std::fs::read_dir(here) {
                known.extend(entries.flatten().filter_map(|e| {
                    let name = e.file_name().into_string().ok()?;
                    name.strip_suffix(".rano").map(str::to_string)
                }));
            }
        }
        known.sort();
        known.dedup();
        // a folder `rules` under the working directory that holds it (a run from the
        // repository's root, the usual case for the shipped criteria) is named
        let local = Path::new("rules").join(&file);
        let fix = if local.is_file() && !self.search.iter().any(|d| d == Path::new("rules")) {
            format!("`{}` is here: add `--include rules`", local.display())
        } else {
            format!("put `{file}` next to this file or name its folder with `--include DIR` (the criteria shipped with irano are in the `rules/` folder of its repository)")
        };
        let looked = format!("looked for {}; {fix}", tried.join(", "));
        Err(match closest(id, known.iter().map(String::as_str)) {
            Some(c) => format!("did you mean `{c}`? ({looked})"),
            None => looked,
        })
    }
}

/// A declaration and the file (index into `Chain::files`) it was written in.
#[derive(Debug)]
pub struct At<'a, T> {
    pub node: &'a T,
    pub file: u16,
}

impl<T> Clone for At<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for At<'_, T> {}

#[derive(Debug)]
pub struct MergedParam<'a> {
    /// The declaration that gave the type.
    pub decl: At<'a, ast::ParamDecl>,
    /// The last `override param` (default, cite), if any.
    pub last: At<'a, ast::ParamDecl>,
    /// The declaration `last` overrode (its value before the last override), if any.
    pub before_last: Option<At<'a, ast::ParamDecl>>,
    /// The last declaration that gave a `range`.
    pub range: Option<At<'a, ast::ParamDecl>>,
    /// The last declaration that gave a `doc`: an override without one keeps the doc of
    /// the criterion it overrides, not the first declaration's.
    pub doc: Option<At<'a, ast::ParamDecl>>,
}

/// A parameter an amendment retired with `remove param`.
#[derive(Debug, Clone)]
pub struct RemovedParam {
    pub name: String,
    pub file: u16,
    pub span: ast::Span,
    /// The reason the `remove param` cites (often names what replaces the parameter).
    pub cite: Option<String>,
}

#[derive(Debug)]
pub struct MergedTable<'a> {
    pub name: String,
    pub decl: At<'a, ast::TableDecl>,
    pub rules: Vec<At<'a, ast::Rule>>,
    /// Rules an amendment removed (and did not add again): the id, the file and the span of
    /// the `remove rule`, so that a later reference says who removed it.
    pub removed: Vec<(String, u16, ast::Span)>,
    /// The `remove rule` or `override rule` of an amendment that took the table's
    /// `otherwise` rule away (file, span, what it wrote), to report a table left without
    /// one at that line rather than in the parent.
    pub lost_otherwise: Option<(u16, ast::Span, String)>,
    /// New rules whose place could not be found (an unknown `before`/`after` rule, or none
    /// given in an inherited table): already an error, kept last in `rules` so that the
    /// mistakes in their bodies are reported in the same run, and not themselves reported
    /// as unreachable there.
    pub unplaced: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Section<'a> {
    pub lets: Vec<At<'a, ast::LetDecl>>,
    pub defs: Vec<At<'a, ast::DefDecl>>,
    pub tables: Vec<MergedTable<'a>>,
}

#[derive(Debug, Default)]
pub struct Merged<'a> {
    pub id: String,
    pub version: Option<String>,
    pub title: Option<String>,
    pub cdisc_category: Option<String>,
    pub cite: Option<String>,
    /// Declared names, the file and the span of the declaration.
    pub labels: Option<(&'a [Name], u16, ast::Span)>,
    pub decisions: Option<(&'a [Name], u16, ast::Span)>,
    pub native_labels: Option<At<'a, ast::NativeLabelsDecl>>,
    pub params: Vec<MergedParam<'a>>,
    pub removed_params: Vec<RemovedParam>,
    /// `param group KEY { ... }`: keys that set several parameters at once.
    pub param_groups: Vec<At<'a, ast::ParamGroupDecl>>,
    pub states: Vec<At<'a, ast::StateDecl>>,
    pub baseline: Option<At<'a, ast::BaselineDecl>>,
    pub targets: Option<At<'a, ast::TargetsDecl>>,
    pub shows: Vec<At<'a, ast::ShowDecl>>,
    pub stop: Option<At<'a, ast::StopDecl>>,
    pub skip: Option<At<'a, ast::StopDecl>>,
    /// `warn ID when ...`, by id.
    pub warns: Vec<At<'a, ast::WarnDecl>>,
    /// Lets whose name starts with `lesion.`.
    pub lesion_lets: Vec<At<'a, ast::LetDecl>>,
    pub scan: Section<'a>,
    pub summary: Section<'a>,
}

impl<'a> Merged<'a> {
    /// Every let of the criterion: the scan's, the summary's and the lesion lets.
    pub fn all_lets(&self) -> impl Iterator<Item = &At<'a, ast::LetDecl>> {
        self.scan
            .lets
            .iter()
            .chain(&self.summary.lets)
            .chain(&self.lesion_lets)
    }
}

/// The files of an `extends` chain, root first, parsed.
pub struct Chain {
    pub files: Vec<Arc<SourceText>>,
    pub asts: Vec<ast::File>,
}

const MAX_CHAIN: usize = 32;

/// Reads and parses one file, collecting its syntax errors.
fn parse_file(
    name: String,
    text: String,
    diags: &mut Vec<Diagnostic>,
) -> Option<(Arc<SourceText>, ast::File)> {
    let file = Arc::new(SourceText { name, text });
    match irano_syntax::parse(&file.text) {
        Ok(ast) => Some((file, ast)),
        Err(errors) => {
            for e in errors {
                let mut d = Diagnostic::error(e.code(), e.message())
                    .at(&file, e.span())
                    .label(e.label());
                if !e.help().is_empty() {
                    d = d.help(e.help());
                }
                diags.push(d);
            }
            None
        }
    }
}

/// Reads `name`/`text`, every parent it extends and every overlay applied along the way.
/// The chain is root first; each file's overlays come just before it. Collects syntax
/// errors of every file.
pub fn load_chain(
    name: &str,
    text: String,
    loader: &dyn Loader,
    diags: &mut Vec<Diagnostic>,
) -> Option<Chain> {
    // built leaf first, reversed at the end
    let mut files = Vec::new();
    let mut asts: Vec<ast::File> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    // where each overlay was applied (the chain is read leaf first): a second application,
    // further up, is reported at this one, which the author of the leaf can drop
    let mut applied: Vec<(String, Arc<SourceText>, ast::Span)> = Vec::new();
    let mut next = Some((name.to_string(), text));
    let mut failed = false;
    while let Some((name, text)) = next.take() {
        let (file, ast) = parse_file(name, text, diags)?;
        if seen.contains(&ast.id.value) {
            diags.push(
                Diagnostic::error(
                    "check::extends_cycle",
                    format!(
                        "criterion `{}` extends itself: {}",
                        ast.id.value,
                        backticked(seen.iter().chain(std::iter::once(&ast.id.value)), " extends ")
                    ),
                )
                .at(&file, ast.id.span)
                .help("remove one `extends` so that the chain ends at a criterion that extends nothing"),
            );
            return None;
        }
        if seen.len() >= MAX_CHAIN {
            diags.push(
                Diagnostic::error(
                    "check::extends_too_long",
                    format!("more than {MAX_CHAIN} criteria in one `extends` chain"),
                )
                .at(&file, ast.id.span),
            );
            return None;
        }
        seen.push(ast.id.value.clone());
        if let Some(parent) = &ast.extends {
            match loader.load(&parent.value, &file.name) {
                Ok((pname, ptext)) => next = Some((pname, ptext)),
                Err(why) => {
                    diags.push(
                        Diagnostic::error(
                            "check::unknown_parent",
                            format!("cannot find criterion `{}`", parent.value),
                        )
                        .at(&file, parent.span)
                        .label("extended here")
                        .help(why),
                    );
                    return None;
                }
            }
        }
        let mut overlays = Vec::new();
        for w in &ast.with {
            let loaded = match loader.load(&w.value, &file.name) {
                Ok((oname, otext)) => parse_file(oname, otext, diags),
                Err(why) => {
                    diags.push(
                        Diagnostic::error("check::unknown_overlay", format!("cannot find overlay `{}`", w.value))
                            .at(&file, w.span)
                            .label("applied here")
                            .help(format!(
                                "{why}; put `{}.rano` next to this file or name its folder with `--include DIR`",
                                w.value
                            )),
                    );
                    failed = true;
                    continue;
                }
            };
            let Some((ofile, oast)) = loaded else {
                failed = true;
                continue;
            };
            if oast.kind != ast::FileKind::Overlay {
                diags.push(
                    Diagnostic::error("check::not_an_overlay", format!("`{}` is a criterion, not an overlay", w.value))
                        .at(&file, w.span)
                        .help("`with` applies files that begin with `overlay \"id\"`; a criterion is extended with `extends`"),
                );
                failed = true;
                continue;
            }
            if oast.id.value != w.value {
                diags.push(
                    Diagnostic::error(
                        "check::wrong_id",
                        format!("`{}` holds overlay `{}`", ofile.name, oast.id.value),
                    )
                    .at(&ofile, oast.id.span)
                    .help("name the file after the id it declares"),
                );
                failed = true;
                continue;
            }
            if seen.contains(&oast.id.value) {
                let here = file.place(w.span.start);
                let earlier = applied
                    .iter()
                    .find(|(id, f, _)| *id == oast.id.value && f.name != file.name);
                let d = match earlier {
                    // the later file of the chain applies again what a parent applies
                    Some((_, at_file, at_span)) => Diagnostic::error(
                        "check::extends_cycle",
                        format!(
                            "overlay `{}` is applied twice: here, and by `{}` ({here}) further up the chain",
                            w.value, ast.id.value
                        ),
                    )
                    .at(at_file, *at_span)
                    .help("drop it here: the parent already applies it"),
                    None => Diagnostic::error(
                        "check::extends_cycle",
                        format!("overlay `{}` is applied twice", w.value),
                    )
                    .at(&file, w.span)
                    .help("apply an overlay once in a chain"),
                };
                diags.push(d);
                failed = true;
                continue;
            }
            seen.push(oast.id.value.clone());
            applied.push((oast.id.value.clone(), file.clone(), w.span));
            overlays.push((ofile, oast));
        }
        files.push(file);
        asts.push(ast);
        for (ofile, oast) in overlays.into_iter().rev() {
            files.push(ofile);
            asts.push(oast);
        }
    }
    if failed {
        return None;
    }
    files.reverse();
    asts.reverse();
    if let (Some(root), Some(rfile)) = (asts.first(), files.first()) {
        if root.kind == ast::FileKind::Overlay && asts.len() > 1 {
            diags.push(
                Diagnostic::error(
                    "check::overlay_extended",
                    format!("`{}` extends an overlay", rfile.name),
                )
                .at(rfile, root.id.span)
                .help("extend a criterion and apply the overlay with `with`"),
            );
            return None;
        }
    }
    Some(Chain { files, asts })
}

struct MergeCx<'c> {
    files: &'c [Arc<SourceText>],
    diags: &'c mut Vec<Diagnostic>,
}

impl MergeCx<'_> {
    /// The 1-based line of `span` in file `file`.
    fn line_of(&self, file: u16, span: ast::Span) -> usize {
        self.files
            .get(usize::from(file))
            .map_or(0, |f| crate::diag::line_col(&f.text, span.start).0)
    }

    /// `FILE:LINE:COLUMN` of `span` in file `file`.
    fn place(&self, file: u16, span: ast::Span) -> String {
        self.files
            .get(usize::from(file))
            .map_or_else(|| "?".into(), |f| f.place(span.start))
    }

    fn err(&mut self, file: u16, span: ast::Span, code: &'static str, msg: String, help: &str) {
        if let Some(f) = self.files.get(usize::from(file)) {
            self.diags
                .push(Diagnostic::error(code, msg).at(f, span).help(help));
        }
    }

    fn warn(&mut self, file: u16, span: ast::Span, code: &'static str, msg: String, help: &str) {
        if let Some(f) = self.files.get(usize::from(file)) {
            self.diags
                .push(Diagnostic::warning(code, msg).at(f, span).help(help));
        }
    }
}

/// Merges a chain, root first, into one criterion.
pub fn merge<'a>(chain: &'a Chain, diags: &mut Vec<Diagnostic>) -> Merged<'a> {
    let mut m = Merged::default();
    let mut cx = MergeCx {
        files: &chain.files,
        diags,
    };
    for (i, file) in chain.asts.iter().enumerate() {
        let fi = u16::try_from(i).unwrap_or(u16::MAX);
        m.id = file.id.value.clone();
        let is_root = i == 0;
        // the leaf's header wins; a child without `version` has none of its own
        if !is_root && file.kind == ast::FileKind::Criterion {
            m.version = None;
            m.title = None;
            m.cdisc_category = None;
        }
        merge_items(&mut m, &file.items, fi, is_root, false, &mut cx);
    }
    unreadable_names(&m, &mut cx);
    m
}

/// A let or state whose name a parameter (or, for a let, a state variable) already has:
/// names are looked up parameters first, then state, then lets (docs/language.md), so it
/// would never be read. An amendment that writes `let pd_increase = 40%` for
/// `override param` would change nothing without a word.
fn unreadable_names(m: &Merged<'_>, cx: &mut MergeCx<'_>) {
    let param = |name: &str| m.params.iter().find(|p| p.decl.node.name.text == name);
    let is_state = |name: &str| m.states.iter().any(|s| s.node.name.text == name);
    // (the name, where it is declared, "let" or "state variable")
    let lets = m.all_lets().map(|l| (&l.node.name, l.file, "let"));
    let states = m
        .states
        .iter()
        .map(|s| (&s.node.name, s.file, "state variable"));
    for (name, file, kind) in states.chain(lets) {
        let (file, span, message, help) = match param(&name.text) {
            // a parameter an amendment adds with the name of a parent's let or state: the
            // new name is the mistake, so it is reported where the parameter is declared
            Some(p) if p.decl.file > file => (
                p.decl.file,
                p.decl.node.name.span,
                format!(
                    "`{}` is already a {kind}: with a parameter of that name the {kind} could never be read",
                    name.text
                ),
                "give the parameter another name".to_string(),
            ),
            Some(_) => (
                file,
                name.span,
                format!(
                    "`{}` is already a parameter: this {kind} could never be read",
                    name.text
                ),
                if kind == "let" {
                    format!("to change the parameter, write `override param {} = VALUE cite \"...\"`; otherwise give the let another name", name.text)
                } else {
                    "give the state variable another name".to_string()
                },
            ),
            None if kind == "let" && is_state(&name.text) => (
                file,
                name.span,
                format!(
                    "`{}` is already a state variable: this let could never be read",
                    name.text
                ),
                "give the let another name".to_string(),
            ),
            None => continue,
        };
        cx.err(file, span, "check::redeclared", message, &help);
    }
}

fn merge_items<'a>(
    m: &mut Merged<'a>,
    items: &'a [Item],
    fi: u16,
    is_root: bool,
    in_summary: bool,
    cx: &mut MergeCx<'_>,
) {
    // header items of this file, to refuse one given twice: a stray `cite` after a
    // declaration that takes none would otherwise replace the criterion's citation
    let mut header: Vec<(&str, ast::Span)> = Vec::new();
    for item in items {
        let header_item = match item {
            Item::Version(s) => Some(("version", s)),
            Item::Title(s) => Some(("title", s)),
            Item::CdiscCategory(s) => Some(("cdisc_category", s)),
            Item::Cite(s) => Some(("cite", s)),
            _ => None,
        };
        if let Some((word, s)) = header_item {
            if let Some((_, first)) = header.iter().find(|(w, _)| *w == word) {
                let line = cx.line_of(fi, *first);
                cx.err(
                    fi,
                    s.span,
                    "check::duplicate_header",
                    format!("`{word}` is given twice in this file (first on line {line})"),
                    "keep one in the criterion's header; a `cite` that belongs to a declaration goes right after it (param, let, def, baseline, targets and rules take one; state does not)",
                );
                continue;
            }
            header.push((word, s.span));
        }
        match item {
            Item::Version(s) => m.version = Some(s.value.clone()),
            Item::Title(s) => m.title = Some(s.value.clone()),
            Item::CdiscCategory(s) => m.cdisc_category = Some(s.value.clone()),
            Item::Cite(s) => m.cite = Some(s.value.clone()),
            Item::Labels(names, span) | Item::Decisions(names, span) => {
                let is_labels = matches!(item, Item::Labels(..));
                let what = if is_labels { "labels" } else { "decisions" };
                if !is_root {
                    cx.err(
                        fi,
                        *span,
                        "check::redeclared",
                        format!("`{what}` are declared by the root criterion"),
                        "an extending criterion inherits the labels and decisions; remove this declaration",
                    );
                    continue;
                }
                let slot = if is_labels {
                    &mut m.labels
                } else {
                    &mut m.decisions
                };
                if slot.is_some() {
                    cx.err(
                        fi,
                        *span,
                        "check::redeclared",
                        format!("`{what}` declared twice"),
                        "keep one declaration",
                    );
                    continue;
                }
                *slot = Some((names.as_slice(), fi, *span));
            }
            Item::Param(p) => merge_param(m, p, fi, cx),
            Item::RemoveParam(r) => remove_param(m, r, fi, cx),
            Item::ParamGroup(g) => {
                if g.cite.is_none() {
                    cx.err(
                        fi,
                        g.span,
                        "check::missing_cite",
                        format!("`param group {}` does not cite its source", g.name.text),
                        "add `cite \"...\"`: where the key comes from (the criteria notes' configuration table, say)",
                    );
                }
                if let Some(first) = m
                    .param_groups
                    .iter()
                    .find(|q| q.node.name.text == g.name.text)
                {
                    let line = cx.line_of(first.file, first.node.span);
                    cx.err(
                        fi,
                        g.name.span,
                        "check::redeclared",
                        format!(
                            "`param group {}` is declared twice (first on line {line})",
                            g.name.text
                        ),
                        "keep one declaration of the group",
                    );
                } else {
                    m.param_groups.push(At { node: g, file: fi });
                }
            }
            Item::Let(l) => {
                if l.cite.is_none() {
                    if l.is_override {
                        override_without_cite(cx, fi, &l.name, "let");
                    } else {
                        let_without_cite(cx, fi, &l.name);
                    }
                }
                if l.name.text.starts_with("lesion.") {
                    let list = &mut m.lesion_lets;
                    merge_named(list, l, fi, l.is_override, &l.name, "let", cx);
                } else if l.is_override && lesion_let_meant(m, &l.name.text) {
                    // `override let counts_as_new` for the lesion let `lesion.counts_as_new`
                    cx.err(
                        fi,
                        l.name.span,
                        "check::nothing_to_override",
                        format!("there is no `{}` to override", l.name.text),
                        &format!(
                            "did you mean the lesion let `lesion.{0}`? write `override let lesion.{0} = ...` (a lesion let is named with `lesion.`, and its body reads the lesion as `lesion`)",
                            l.name.text
                        ),
                    );
                } else {
                    let (sec, other) = sides(m, in_summary);
                    let at = Placed::new("let", fi, in_summary);
                    merge_in_section(
                        &mut sec.lets,
                        &other.lets,
                        l,
                        l.is_override,
                        &l.name,
                        at,
                        cx,
                    );
                }
            }
            Item::Def(d) => {
                if d.is_override && d.cite.is_none() {
                    override_without_cite(cx, fi, &d.name, "def");
                }
                let (sec, other) = sides(m, in_summary);
                let at = Placed::new("def", fi, in_summary);
                merge_in_section(
                    &mut sec.defs,
                    &other.defs,
                    d,
                    d.is_override,
                    &d.name,
                    at,
                    cx,
                );
            }
            Item::State(s) => {
                if m.states.iter().any(|p| p.node.name.text == s.name.text) {
                    cx.err(
                        fi,
                        s.name.span,
                        "check::redeclared",
                        format!("state `{}` is already declared", s.name.text),
                        "state variables cannot be overridden; use another name",
                    );
                } else {
                    m.states.push(At { node: s, file: fi });
                }
            }
            Item::Baseline(b) => merge_single(
                &mut m.baseline,
                b,
                fi,
                b.is_override,
                b.span,
                "baseline",
                cx,
            ),
            Item::NativeLabels(n) => merge_single(
                &mut m.native_labels,
                n,
                fi,
                n.is_override,
                n.span,
                "native labels",
                cx,
            ),
            Item::Targets(t) => {
                merge_single(&mut m.targets, t, fi, t.is_override, t.span, "targets", cx)
            }
            Item::StopGrading(s) => merge_single(
                &mut m.stop,
                s,
                fi,
                s.is_override,
                s.span,
                "stop grading",
                cx,
            ),
            Item::SkipGrading(s) => merge_single(
                &mut m.skip,
                s,
                fi,
                s.is_override,
                s.span,
                "skip grading",
                cx,
            ),
            Item::Show(s) => merge_named(&mut m.shows, s, fi, s.is_override, &s.name, "show", cx),
            Item::Warn(w) => {
                if in_summary {
                    cx.err(
                        fi,
                        w.span,
                        "check::misplaced",
                        "`warn` inside `summary`".into(),
                        "write `warn ID when ...` at the top level of the criterion (it is tested once per case, in the summary's context)",
                    );
                } else {
                    merge_named(&mut m.warns, w, fi, w.is_override, &w.name, "warn", cx)
                }
            }
            Item::Table(t) => {
                let sec = if in_summary {
                    &mut m.summary
                } else {
                    &mut m.scan
                };
                merge_table(&mut sec.tables, t, fi, cx);
            }
            Item::Summary(s) => {
                if in_summary {
                    cx.err(
                        fi,
                        s.span,
                        "check::misplaced",
                        "`summary` inside `summary`".into(),
                        "write one summary block at the top level",
                    );
                } else {
                    merge_items(m, &s.items, fi, is_root, true, cx);
                }
            }
        }
    }
}

trait Named {
    fn name(&self) -> &str;
}
impl Named for ast::LetDecl {
    fn name(&self) -> &str {
        &self.name.text
    }
}
impl Named for ast::DefDecl {
    fn name(&self) -> &str {
        &self.name.text
    }
}
impl Named for ast::ShowDecl {
    fn name(&self) -> &str {
        &self.name.text
    }
}
impl Named for ast::WarnDecl {
    fn name(&self) -> &str {
        &self.name.text
    }
}

/// An `override let` or `override def` changes what the criterion computes: like every
/// other change of an amendment, it should say where the change comes from.
fn override_without_cite(cx: &mut MergeCx<'_>, fi: u16, name: &Name, what: &str) {
    cx.warn(
        fi,
        name.span,
        "check::override_without_cite",
        format!("`override {what} {}` does not cite its source", name.text),
        "add `cite \"protocol §...\"` after the expression: the source of the change, shown by `show` and `explain`",
    );
}

/// A let or def as written: its kind (`let`, `def`), its file, and whether inside
/// `summary { }`.
#[derive(Clone, Copy)]
struct Placed {
    what: &'static str,
    fi: u16,
    in_summary: bool,
}

impl Placed {
    fn new(what: &'static str, fi: u16, in_summary: bool) -> Self {
        Placed {
            what,
            fi,
            in_summary,
        }
    }
}

/// Whether `name`, overridden as a scan or summary let and declared as neither, is a lesion
/// let written without its `lesion.` prefix.
fn lesion_let_meant(m: &Merged<'_>, name: &str) -> bool {
    let declared = |s: &Section<'_>| s.lets.iter().any(|o| o.node.name() == name);
    !declared(&m.scan)
        && !declared(&m.summary)
        && m.lesion_lets
            .iter()
            .any(|o| o.node.name().strip_prefix("lesion.") == Some(name))
}

/// The section a declaration is written in (inside `summary { }` or not), and the other.
fn sides<'m, 'a>(
    m: &'m mut Merged<'a>,
    in_summary: bool,
) -> (&'m mut Section<'a>, &'m Section<'a>) {
    if in_summary {
        (&mut m.summary, &m.scan)
    } else {
        (&mut m.scan, &m.summary)
    }
}

/// A let or def merged into its side of `summary { }` (`here`); an `override` of a name
/// declared only on the other side (`other`) is reported as written on the wrong side.
fn merge_in_section<'a, T: Named>(
    here: &mut Vec<At<'a, T>>,
    other: &[At<'a, T>],
    node: &'a T,
    is_override: bool,
    name: &Name,
    at: Placed,
    cx: &mut MergeCx<'_>,
) {
    let declared = |list: &[At<'a, T>]| list.iter().any(|o| o.node.name() == name.text);
    if is_override && declared(other) && !declared(here) {
        override_in_other_section(cx, at.fi, name, at.what, at.in_summary);
    } else {
        merge_named(here, node, at.fi, is_override, name, at.what, cx);
    }
}

/// `override let|def NAME` on the wrong side of `summary { }`: the parent declares NAME on
/// the other side, where the override must be written to replace it.
fn override_in_other_section(
    cx: &mut MergeCx<'_>,
    fi: u16,
    name: &Name,
    what: &str,
    in_summary: bool,
) {
    let (here, there) = if in_summary {
        ("inside", "outside")
    } else {
        ("outside", "inside")
    };
    cx.err(
        fi,
        name.span,
        "check::nothing_to_override",
        format!("there is no `{}` {here} `summary {{ }}` to override", name.text),
        &format!(
            "the parent declares {what} `{}` {there} `summary {{ ... }}`: write this `override {what}` {there} it",
            name.text
        ),
    );
}

/// A new `let` is a value rules read: like a rule, it should say where it comes from.
fn let_without_cite(cx: &mut MergeCx<'_>, fi: u16, name: &Name) {
    cx.warn(
        fi,
        name.span,
        "check::let_without_cite",
        format!("`let {}` does not cite its source", name.text),
        "add `cite \"protocol §...\"` after the expression: the source of the value (a protocol section, a paper's table), shown by `show` and `explain`",
    );
}

fn merge_named<'a, T: Named>(
    list: &mut Vec<At<'a, T>>,
    node: &'a T,
    fi: u16,
    is_override: bool,
    name: &Name,
    what: &str,
    cx: &mut MergeCx<'_>,
) {
    let existing = list.iter().position(|p| p.node.name() == name.text);
    match (existing, is_override) {
        (Some(i), true) if list.get(i).is_some_and(|p| p.file == fi) => {
            twice_in_file(cx, fi, name.span, &format!("{what} `{}`", name.text));
        }
        (Some(i), true) => {
            if let Some(slot) = list.get_mut(i) {
                *slot = At { node, file: fi };
            }
        }
        (Some(i), false) => {
            let same_file = list.get(i).is_some_and(|p| p.file == fi);
            let help = if same_file {
                "each name is declared once; rename one of them".to_string()
            } else {
                format!(
                    "to replace the parent's `{}`, write `override {what} {}`",
                    name.text, name.text
                )
            };
            cx.err(
                fi,
                name.span,
                "check::redeclared",
                format!("`{}` is already declared", name.text),
                &help,
            );
        }
        (None, true) => {
            let names: Vec<&str> = list.iter().map(|p| p.node.name()).collect();
            let help = match closest(&name.text, names) {
                Some(c) => format!("did you mean `{c}`? `override` replaces a declaration of the parent"),
                None => "`override` replaces a declaration of the parent; remove `override` to declare a new one".into(),
            };
            cx.err(
                fi,
                name.span,
                "check::nothing_to_override",
                format!("there is no `{}` to override", name.text),
                &help,
            );
        }
        (None, false) => list.push(At { node, file: fi }),
    }
}

fn merge_single<'a, T>(
    slot: &mut Option<At<'a, T>>,
    node: &'a T,
    fi: u16,
    is_override: bool,
    span: ast::Span,
    what: &str,
    cx: &mut MergeCx<'_>,
) {
    match (slot.is_some(), is_override) {
        (true, true) if slot.as_ref().is_some_and(|s| s.file == fi) => {
            twice_in_file(cx, fi, span, &format!("`{what}`"));
        }
        (true, false) => cx.err(
            fi,
            span,
            "check::redeclared",
            format!("`{what}` is already declared"),
            &format!("to replace the parent's, write `override {what}`"),
        ),
        (false, true) => cx.err(
            fi,
            span,
            "check::nothing_to_override",
            format!("there is no `{what}` to override"),
            "remove `override`",
        ),
        _ => *slot = Some(At { node, file: fi }),
    }
}

/// An `override` of something this same file already declared or overrode: the later one
/// would replace the earlier without a word (two `override skip grading` lines, one per
/// reason, kept only the last).
fn twice_in_file(cx: &mut MergeCx<'_>, fi: u16, span: ast::Span, what: &str) {
    twice_in_file_at(cx, fi, span, what, None);
}

/// [`twice_in_file`] where the earlier declaration is known (its span in the same file):
/// the help names its line.
fn twice_in_file_at(
    cx: &mut MergeCx<'_>,
    fi: u16,
    span: ast::Span,
    what: &str,
    earlier: Option<ast::Span>,
) {
    let help = match earlier {
        Some(e) => format!(
            "state the change once: keep one of the two (the other is on line {}); a parameter has one value",
            cx.line_of(fi, e)
        ),
        None => "state the change once: combine both into one declaration (conditions joined with `or`, say)".to_string(),
    };
    cx.err(
        fi,
        span,
        "check::overridden_twice",
        format!(
            "{what} is already declared or overridden in this file; this override would replace it"
        ),
        &help,
    );
}

fn remove_param(m: &mut Merged<'_>, r: &ast::RemoveParamDecl, fi: u16, cx: &mut MergeCx<'_>) {
    if r.cite.is_none() {
        cx.err(
            fi,
            r.span,
            "check::missing_cite",
            format!("`remove param {}` does not cite its reason", r.name.text),
            "add `cite \"...\"`: why this criterion does not use the parameter",
        );
    }
    match m
        .params
        .iter()
        .position(|q| q.decl.node.name.text == r.name.text)
    {
        Some(i) => {
            m.params.remove(i);
            m.removed_params.push(RemovedParam {
                name: r.name.text.clone(),
                file: fi,
                span: r.span,
                cite: r.cite.as_ref().map(|c| c.value.clone()),
            });
        }
        None => {
            let names: Vec<&str> = m
                .params
                .iter()
                .map(|q| q.decl.node.name.text.as_str())
                .collect();
            let help = match closest(&r.name.text, names) {
                Some(c) => format!("did you mean `{c}`?"),
                None => "only a parameter the parent declares can be removed".into(),
            };
            cx.err(
                fi,
                r.name.span,
                "check::nothing_to_remove",
                format!("there is no parameter `{}` to remove", r.name.text),
                &help,
            );
        }
    }
}

fn merge_param<'a>(m: &mut Merged<'a>, p: &'a ast::ParamDecl, fi: u16, cx: &mut MergeCx<'_>) {
    let existing = m
        .params
        .iter()
        .position(|q| q.decl.node.name.text == p.name.text);
    match (existing, p.is_override) {
        (Some(i), true)
            if m.params
                .get(i)
                .is_some_and(|q| q.last.file == fi || q.decl.file == fi) =>
        {
            let earlier = m.params.get(i).map(|q| {
                if q.last.file == fi {
                    q.last.node.name.span
                } else {
                    q.decl.node.name.span
                }
            });
            twice_in_file_at(
                cx,
                fi,
                p.name.span,
                &format!("parameter `{}`", p.name.text),
                earlier,
            );
        }
        (Some(i), true) => {
            if p.ty.is_some() {
                cx.err(
                    fi,
                    p.span,
                    "check::override_type",
                    format!(
                        "an override keeps the type `{}` was declared with, and does not restate it",
                        p.name.text
                    ),
                    &format!(
                        "write `override param {} = VALUE` without a type",
                        p.name.text
                    ),
                );
            }
            if p.cite.is_none() {
                cx.err(
                    fi,
                    p.name.span,
                    "check::missing_cite",
                    format!("`override param {}` does not cite its source", p.name.text),
                    "add `cite \"protocol §...\"`: the source of the new value",
                );
            }
            if let Some(mp) = m.params.get_mut(i) {
                mp.before_last = Some(mp.last);
                mp.last = At { node: p, file: fi };
                if p.range.is_some() {
                    mp.range = Some(At { node: p, file: fi });
                }
                if p.doc.is_some() {
                    mp.doc = Some(At { node: p, file: fi });
                }
            }
        }
        (Some(_), false) => cx.err(
            fi,
            p.name.span,
            "check::redeclared",
            format!("parameter `{}` is already declared", p.name.text),
            &format!(
                "to change its default, write `override param {} = VALUE cite \"...\"`",
                p.name.text
            ),
        ),
        (None, true) => {
            let names: Vec<&str> = m
                .params
                .iter()
                .map(|q| q.decl.node.name.text.as_str())
                .collect();
            let removed = m
                .removed_params
                .iter()
                .rev()
                .find(|r| r.name == p.name.text);
            let (msg, help) = match (removed, closest(&p.name.text, names)) {
                (Some(r), _) => (
                    format!(
                        "there is no parameter `{}` to override: `remove param {}` at {} retired it",
                        p.name.text,
                        p.name.text,
                        cx.place(r.file, r.span)
                    ),
                    format!("to use it again, declare it anew: `param {}: TYPE = VALUE cite \"...\"` (without `override`)", p.name.text),
                ),
                (None, Some(c)) => (
                    format!("there is no parameter `{}` to override", p.name.text),
                    format!("did you mean `{c}`?"),
                ),
                (None, None) => (
                    format!("there is no parameter `{}` to override", p.name.text),
                    "remove `override` and give a type to declare a new parameter".into(),
                ),
            };
            cx.err(fi, p.name.span, "check::nothing_to_override", msg, &help);
        }
        (None, false) => {
            if p.ty.is_none() {
                cx.err(
                    fi,
                    p.name.span,
                    "check::missing_type",
                    format!("parameter `{}` needs a type", p.name.text),
                    "write `param NAME: TYPE = DEFAULT`, e.g. `param scan_interval: days = 7 days`",
                );
            }
            let at = At { node: p, file: fi };
            m.params.push(MergedParam {
                decl: at,
                last: at,
                before_last: None,
                range: p.range.as_ref().map(|_| at),
                doc: p.doc.as_ref().map(|_| at),
            });
        }
    }
}

fn merge_table<'a>(
    tables: &mut Vec<MergedTable<'a>>,
    t: &'a ast::TableDecl,
    fi: u16,
    cx: &mut MergeCx<'_>,
) {
    let existing = tables.iter().position(|x| x.name == t.name.text);
    let mut table = match existing {
        Some(i) => {
            if t.position.is_some() {
                cx.err(
                    fi,
                    t.name.span,
                    "check::misplaced",
                    format!("table `{}` already has a place", t.name.text),
                    "`before`/`after` places a new table; remove it when changing an inherited one",
                );
            }
            tables.remove(i)
        }
        None => MergedTable {
            name: t.name.text.clone(),
            decl: At { node: t, file: fi },
            rules: Vec::new(),
            removed: Vec::new(),
            lost_otherwise: None,
            unplaced: Vec::new(),
        },
    };
    let inherited = existing.is_some();
    // for a table that is new here, the tables it may have been meant to change
    let others: Vec<String> = tables.iter().map(|x| x.name.clone()).collect();
    // the table that does have a rule of that name, when it is another one
    let rule_elsewhere = |name: &str| {
        tables
            .iter()
            .find(|x| x.rules.iter().any(|r| r.node.id.text == name))
            .map(|x| x.name.clone())
    };
    let suggest_rule = |table: &MergedTable<'_>, name: &str| {
        if let Some(home) = rule_elsewhere(name) {
            return format!(
                "`{name}` is a rule of table `{home}`, not of `{}`: write this inside `table {home} {{ ... }}`",
                table.name
            );
        }
        if inherited || !table.rules.is_empty() {
            return suggest_rule(table, name);
        }
        match closest(&t.name.text, others.iter().map(String::as_str)) {
            Some(c) => format!(
                "there is no table `{}` to change, so this one is new and has no rules yet: did you mean table `{c}`?",
                t.name.text
            ),
            None => format!(
                "there is no table `{}` to change, so this one is new and has no rules yet; the tables here are {} (a summary table is changed inside `summary {{ ... }}`)",
                t.name.text,
                backticked(&others, ", ")
            ),
        }
    };
    // a rule the table does not have, named by this item: reported with a suggestion
    let not_found = |cx: &mut MergeCx<'_>,
                     table: &MergedTable<'_>,
                     name: &Name,
                     code: &'static str,
                     msg: String| {
        let suggestion = suggest_rule(table, &name.text);
        unknown_rule(
            cx, table, &t.items, fi, name.span, &name.text, code, msg, suggestion,
        );
    };
    // the rule at `i` leaves its place for one before (or after) `other`, replaced by `new`
    // (an override) or unchanged (a move); it stays where it was when `other` is unknown
    let relocate = |cx: &mut MergeCx<'_>,
                    table: &mut MergedTable<'a>,
                    i: usize,
                    new: Option<At<'a, ast::Rule>>,
                    place: &Position| {
        let (Position::Before(other) | Position::After(other)) = place;
        let Some(old) = table.rules.get(i).copied() else {
            return;
        };
        let id = &old.node.id.text;
        if other.text == *id {
            cx.err(
                fi,
                other.span,
                "check::misplaced",
                format!("rule `{id}` is placed relative to itself"),
                "name another rule of the table",
            );
            return;
        }
        table.rules.remove(i);
        let after = matches!(place, Position::After(_));
        let moved = new.is_none();
        if place_rule(table, new.unwrap_or(old), other, after).is_err() {
            table.rules.insert(i, old);
            not_found(
                cx,
                table,
                other,
                "check::unknown_rule",
                format!("table `{}` has no rule `{}`", t.name.text, other.text),
            );
        } else if table.rules.get(i).is_some_and(|r| r.node.id.text == *id) {
            // the rule is back at its own place: the author meant another one
            let word = if after { "after" } else { "before" };
            let (what, fix) = if moved {
                ("move", "remove the `move`")
            } else {
                (
                    "place",
                    "remove the place (an override keeps the rule where it is)",
                )
            };
            let msg = format!(
                "rule `{id}` is already {word} `{}`: the {what} changes nothing",
                other.text
            );
            let help = format!("{fix}, or name the rule it should be tried before or after");
            cx.warn(fi, other.span, "check::place_changes_nothing", msg, &help);
        }
    };
    for item in &t.items {
        match item {
            TableItem::Remove(name, cite) => {
                if cite.is_none() {
                    cx.err(
                        fi,
                        name.span,
                        "check::missing_cite",
                        format!("`remove rule {}` does not cite its reason", name.text),
                        "add `cite \"...\"`: why this criterion drops the rule (e.g. the protocol section)",
                    );
                }
                match table.rules.iter().position(|r| r.node.id.text == name.text) {
                    Some(i) => {
                        let r = table.rules.remove(i);
                        if r.node.when.is_none() {
                            table.lost_otherwise =
                                Some((fi, name.span, format!("remove rule {}", name.text)));
                        }
                        table.removed.push((name.text.clone(), fi, name.span));
                    }
                    None => {
                        not_found(
                            cx,
                            &table,
                            name,
                            "check::unknown_rule",
                            format!("table `{}` has no rule `{}`", t.name.text, name.text),
                        );
                    }
                }
            }
            TableItem::Move(name, place, cite) => {
                if cite.is_none() {
                    cx.err(
                        fi,
                        name.span,
                        "check::missing_cite",
                        format!("`move rule {}` does not cite its reason", name.text),
                        "add `cite \"...\"`: why this criterion tries the rule elsewhere (e.g. the protocol section)",
                    );
                }
                match table.rules.iter().position(|r| r.node.id.text == name.text) {
                    Some(i) => relocate(cx, &mut table, i, None, place),
                    None => {
                        not_found(
                            cx,
                            &table,
                            name,
                            "check::unknown_rule",
                            format!(
                                "table `{}` has no rule `{}` to move",
                                t.name.text, name.text
                            ),
                        );
                    }
                }
            }
            TableItem::Rule(rule) => {
                let at = At {
                    node: rule,
                    file: fi,
                };
                let pos = table
                    .rules
                    .iter()
                    .position(|r| r.node.id.text == rule.id.text);
                if rule.is_override {
                    match pos {
                        // an override with a place moves the rule there; without one it
                        // keeps the place of the rule it replaces
                        Some(i) => match &rule.position {
                            Some(place) => relocate(cx, &mut table, i, Some(at), place),
                            None => {
                                if let Some(slot) = table.rules.get_mut(i) {
                                    if slot.node.when.is_none() && rule.when.is_some() {
                                        table.lost_otherwise = Some((
                                            fi,
                                            rule.id.span,
                                            format!("override rule {} when ...", rule.id.text),
                                        ));
                                    }
                                    *slot = at;
                                }
                            }
                        },
                        None => {
                            not_found(
                                cx,
                                &table,
                                &rule.id,
                                "check::nothing_to_override",
                                format!(
                                    "table `{}` has no rule `{}` to override",
                                    t.name.text, rule.id.text
                                ),
                            );
                        }
                    }
                    continue;
                }
                if pos.is_some() {
                    cx.err(
                        fi,
                        rule.id.span,
                        "check::redeclared",
                        format!(
                            "rule `{}` is already in table `{}`",
                            rule.id.text, t.name.text
                        ),
                        &format!("to replace it, write `override rule {}`", rule.id.text),
                    );
                    continue;
                }
                match &rule.position {
                    Some(place @ (Position::Before(other) | Position::After(other))) => {
                        let after = matches!(place, Position::After(_));
                        match place_rule(&mut table, at, other, after) {
                            Ok(()) => table.removed.retain(|(n, _, _)| *n != rule.id.text),
                            Err(_) => {
                                not_found(
                                    cx,
                                    &table,
                                    other,
                                    "check::unknown_rule",
                                    format!("table `{}` has no rule `{}`", t.name.text, other.text),
                                );
                                table.unplaced.push(rule.id.text.clone());
                                table.rules.push(at);
                            }
                        }
                    }
                    None if inherited => {
                        cx.err(
                            fi,
                            rule.id.span,
                            "check::rule_needs_position",
                            format!(
                                "new rule `{}` in inherited table `{}` needs a place",
                                rule.id.text, t.name.text
                            ),
                            "rules are tried in order; write `rule ID before OTHER` or `rule ID after OTHER`",
                        );
                        table.unplaced.push(rule.id.text.clone());
                        table.rules.push(at);
                    }
                    None => {
                        table.rules.push(at);
                        table.removed.retain(|(n, _, _)| *n != rule.id.text);
                    }
                }
            }
        }
    }
    let index = match (&t.position, existing) {
        (_, Some(i)) => i,
        (Some(Position::Before(o)), None) | (Some(Position::After(o)), None) => {
            match tables.iter().position(|x| x.name == o.text) {
                Some(i) => {
                    if matches!(t.position, Some(Position::After(_))) {
                        i + 1
                    } else {
                        i
                    }
                }
                None => {
                    let help = match closest(&o.text, tables.iter().map(|x| x.name.as_str())) {
                        Some(c) => format!("did you mean table `{c}`?"),
                        None => "name a table declared earlier or by the parent".to_string(),
                    };
                    cx.err(
                        fi,
                        o.span,
                        "check::unknown_table",
                        format!("there is no table `{}`", o.text),
                        &help,
                    );
                    tables.len()
                }
            }
        }
        (None, None) => {
            // among tables a parent declared, a new table states its place: without one, a
            // misspelt table name would silently add a table that runs last
            let inherited = tables.iter().any(|x| x.decl.file != fi);
            if let (true, Some(last)) = (inherited, others.last()) {
                let help = match closest(&t.name.text, others.iter().map(String::as_str)) {
                    Some(c) => format!(
                        "to change the inherited table, write `table {c}`; a new table states where it runs, e.g. `table {} after {c}`",
                        t.name.text
                    ),
                    None => format!(
                        "a new table states where it runs among the inherited ones ({}), e.g. `table {} after {last}`",
                        others.join(", "),
                        t.name.text,
                    ),
                };
                cx.err(
                    fi,
                    t.name.span,
                    "check::misplaced",
                    format!(
                        "there is no inherited table `{}`, and a new table needs a place",
                        t.name.text
                    ),
                    &help,
                );
            }
            tables.len()
        }
    };
    tables.insert(index.min(tables.len()), table);
}

/// Inserts `at` before (or `after`) rule `other` of the table; gives `at` back when the
/// table has no such rule.
fn place_rule<'a>(
    table: &mut MergedTable<'a>,
    at: At<'a, ast::Rule>,
    other: &Name,
    after: bool,
) -> Result<(), At<'a, ast::Rule>> {
    match table
        .rules
        .iter()
        .position(|r| r.node.id.text == other.text)
    {
        Some(j) => {
            table.rules.insert(if after { j + 1 } else { j }, at);
            Ok(())
        }
        None => Err(at),
    }
}

/// A rule the table does not have, named by `remove rule`, `override rule` or a place: said
/// to be removed (and where) when an amendment removed it, to be added further down when
/// the same table adds it later, else a suggestion.
#[allow(clippy::too_many_arguments)]
fn unknown_rule(
    cx: &mut MergeCx<'_>,
    table: &MergedTable<'_>,
    items: &[TableItem],
    fi: u16,
    span: ast::Span,
    name: &str,
    code: &'static str,
    msg: String,
    suggestion: String,
) {
    if let Some((_, rf, rs)) = table.removed.iter().rev().find(|(n, _, _)| n == name) {
        let place = cx.place(*rf, *rs);
        // a second `remove rule` of it has nothing left to do
        let removing = items
            .iter()
            .any(|it| matches!(it, TableItem::Remove(n, _) if n.span == span));
        let help = if removing {
            "it is already removed: drop this line".to_string()
        } else {
            format!("to bring it back, add it again with its place: `rule {name} before OTHER when ... then ...`")
        };
        cx.err(
            fi,
            span,
            code,
            format!("{msg}: `remove rule {name}` at {place} removed it"),
            &help,
        );
        return;
    }
    let later = items.iter().any(|it| match it {
        TableItem::Rule(r) => r.id.text == name && r.id.span.start > span.start,
        TableItem::Remove(..) | TableItem::Move(..) => false,
    });
    let help = if later {
        format!("rule `{name}` is added further down this table; a place or an override names a rule already in the table, so declare `{name}` first")
    } else if code == "check::nothing_to_override" {
        format!("{suggestion} To add a new rule instead, drop `override` and give its place: `rule {name} before OTHER when ... then ...`")
    } else {
        suggestion
    };
    cx.err(fi, span, code, msg, &help);
}

fn suggest_rule(table: &MergedTable<'_>, name: &str) -> String {
    let ids: Vec<&str> = table
        .rules
        .iter()
        .map(|r| r.node.id.text.as_str())
        .collect();
    match closest(name, ids.iter().copied()) {
        Some(c) => format!("did you mean `{c}`?"),
        None => format!("its rules are: {}.", backticked(&ids, ", ")),
    }
}
