//! The checker: from rule files to a checked [`Program`].
//!
//! ```text
//! text --irano-syntax--> AST --merge (extends)--> merged criterion --lower--> Program
//! ```
//!
//! Every problem is collected as a [`Diagnostic`] with a stable code, a span and a help
//! line; the checker never stops at the first one. A [`Program`] is produced only when
//! there are no errors, and it is the only thing the evaluator accepts.

mod dead_rules;
pub mod diag;
mod lower;
pub mod merge;
pub mod program;
pub mod schema;
pub mod types;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use irano_syntax::ast;

pub use diag::{Diagnostic, Severity};
use lower::{Ctx2, Lowerer};
pub use merge::{FsLoader, Loader};
pub use program::Program;
use program::*;
use types::{Base, Ty};

/// A `--set KEY=VALUE` override, as written on the command line (or in a test case's
/// `x-set`).
#[derive(Debug, Clone)]
pub struct Override {
    pub key: String,
    pub value: String,
    /// Where it was written, as diagnostics name it: `--set`, or `x-set` for a case's.
    pub origin: &'static str,
}

impl Override {
    /// Reads `KEY=VALUE`.
    pub fn parse(text: &str) -> Result<Override, Box<Diagnostic>> {
        match text.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok(Override {
                key: k.trim().to_string(),
                value: v.trim().to_string(),
                origin: "--set",
            }),
            _ => Err(Box::new(
                Diagnostic::error("check::bad_override", format!("`{text}` is not KEY=VALUE"))
                    .help("write `--set KEY=VALUE`; `irano-eval params RULES` lists the keys"),
            )),
        }
    }

    /// The same override, as a test case's `x-set` gives it (for its diagnostics).
    pub fn from_case(mut self) -> Override {
        self.origin = "x-set";
        self
    }
}

/// What checking produced: the program (when there were no errors) and every diagnostic.
#[derive(Debug)]
pub struct Checked {
    pub program: Option<Program>,
    pub diagnostics: Vec<Diagnostic>,
    /// The file is an overlay: it parsed, and is checked as part of the criteria that
    /// apply it (`extends "base" with "overlay"`); it has no program of its own.
    pub overlay: Option<String>,
}

/// Checks the rule file at `path` (and its parents, looked up next to it and then in
/// `include`) with `overrides` applied.
pub fn check_path(path: &Path, include: &[std::path::PathBuf], overrides: &[Override]) -> Checked {
    let name = path.display().to_string();
    let loader = FsLoader {
        search: include.to_vec(),
    };
    match std::fs::read_to_string(path) {
        Ok(text) => check_source(&name, text, &loader, overrides),
        Err(e) => {
            let reason = diag::io_reason(&e);
            Checked {
                overlay: None,
                program: None,
                diagnostics: vec![Diagnostic::error(
                    "check::io",
                    format!("cannot read `{name}`: {reason}"),
                )
                .help(match nearby_rule_file(path, include) {
                    Some(p) => format!("did you mean `{p}`?"),
                    None => "give the path of a rule file, e.g. `rules/<criterion>.rano`".into(),
                })],
            }
        }
    }
}

/// For a rule file that is not there: a criterion id given for a path (`ID` for
/// `rules/ID.rano`, looked for beside it, in a `rules` folder there and in the include
/// folders), else the rule file of its folder with the closest name.
fn nearby_rule_file(path: &Path, include: &[std::path::PathBuf]) -> Option<String> {
    let wanted = path.file_name()?.to_str()?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    if !wanted.ends_with(".rano") {
        let file = format!("{wanted}.rano");
        let beside = path.parent().unwrap_or(Path::new(""));
        let found = [beside.join(&file), beside.join("rules").join(&file)]
            .into_iter()
            .chain(include.iter().map(|d| d.join(&file)))
            .find(|p| p.is_file());
        if let Some(p) = found {
            return Some(p.display().to_string());
        }
    }
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".rano"))
        .collect();
    names.sort();
    // a criterion id is compared with the ids of the folder's rule files
    let stem = |n: &str| n.strip_suffix(".rano").unwrap_or(n).to_string();
    let (wanted, names) = if wanted.ends_with(".rano") {
        (wanted.to_string(), names)
    } else {
        (stem(wanted), names.iter().map(|n| stem(n)).collect())
    };
    let best = diag::closest(&wanted, names.iter().map(String::as_str))?;
    let best = if best.ends_with(".rano") {
        best.to_string()
    } else {
        format!("{best}.rano")
    };
    Some(path.with_file_name(best).display().to_string())
}

/// Checks rule-file text; parents are found through `loader`.
pub fn check_source(
    name: &str,
    text: String,
    loader: &dyn Loader,
    overrides: &[Override],
) -> Checked {
    let mut diags = Vec::new();
    let mut overlay = None;
    let program = check_inner(name, text, loader, overrides, &mut diags, &mut overlay);
    let has_errors = diags.iter().any(Diagnostic::is_error);
    // the checked file's own problems first, then its parents', each in text order
    diags.sort_by_key(|d| {
        d.location
            .as_ref()
            .map(|l| (l.file.name != name, l.file.name.clone(), l.span.start))
            .unwrap_or_default()
    });
    // a def is checked where it is inlined: a mistake in its body, called twice, is one
    // mistake (the sort is stable, so the first report of each stays)
    let mut seen = std::collections::HashSet::new();
    diags.retain(|d| {
        let key = match &d.location {
            Some(l) => format!(
                "{}\0{}\0{}:{}-{}",
                d.code, d.message, l.file.name, l.span.start, l.span.end
            ),
            None => format!("{}\0{}", d.code, d.message),
        };
        seen.insert(key)
    });
    Checked {
        program: if has_errors { None } else { program },
        diagnostics: diags,
        overlay,
    }
}

/// Warns when a rule file's criterion id is not its file name: `extends` finds a parent by
/// file name, and results are labelled with the id, so the two names should be one.
fn id_matches_file_name(
    lw: &mut Lowerer,
    name: &str,
    leaf: &ast::File,
    file: Option<&Arc<diag::SourceText>>,
) {
    let Some(stem) = name.strip_suffix(".rano").map(|n| {
        Path::new(n)
            .file_name()
            .and_then(|s| s.to_str())
            .unwrap_or(n)
    }) else {
        return;
    };
    let (Some(file), id) = (file, &leaf.id.value) else {
        return;
    };
    if stem == id {
        return;
    }
    lw.push(
        Diagnostic::warning(
            "check::id_is_not_file_name",
            format!("criterion `{id}` is written in `{stem}.rano`"),
        )
        .at(file, leaf.id.span)
        .help(format!(
            "`extends \"{id}\"` looks for `{id}.rano`, and results carry the id `{id}`: rename the file to `{id}.rano` or the criterion to `\"{stem}\"`"
        )),
    );
}

fn check_inner(
    name: &str,
    text: String,
    loader: &dyn Loader,
    overrides: &[Override],
    diags: &mut Vec<Diagnostic>,
    overlay: &mut Option<String>,
) -> Option<Program> {
    let chain = merge::load_chain(name, text, loader, diags)?;
    if let Some(leaf) = chain.asts.last() {
        if leaf.kind == ast::FileKind::Overlay {
            *overlay = Some(leaf.id.value.clone());
            return None;
        }
    }
    let merged = merge::merge(&chain, diags);
    let program = lower_merged(name, &chain, &merged, overrides, diags);
    relocate_override_type_errors(&chain, &merged, diags);
    program
}

/// A type error in a parent file where the parent reads a let that a later file overrides
/// with a value of another type: the author of the override did not write the line the
/// error points at. The error is moved to the override (the parent's reader is named in
/// the help); several readers of one override make one error.
fn relocate_override_type_errors(
    chain: &merge::Chain,
    merged: &merge::Merged<'_>,
    diags: &mut Vec<Diagnostic>,
) {
    let files = &chain.files;
    let file_index = |loc: &diag::Location| files.iter().position(|f| Arc::ptr_eq(f, &loc.file));
    let mut moved: Vec<(u16, ast::Span)> = Vec::new();
    let mut out = Vec::with_capacity(diags.len());
    for d in diags.drain(..) {
        let relocated = (|| {
            if d.code != "check::type_mismatch" {
                return None;
            }
            let loc = d.location.as_ref()?;
            let at = file_index(loc)?;
            let text = loc.file.text.get(loc.span.start..loc.span.end)?;
            // `name`, `l.name`, `lesion.name`, `s.name`: the let read
            let name = text.rsplit('.').next()?;
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return None;
            }
            // lesion lets are named `lesion.NAME` in their declaration
            let over = merged.all_lets().find(|l| {
                let declared = l.node.name.text.as_str();
                (declared == name || declared.strip_prefix("lesion.") == Some(name))
                    && l.node.is_override
            })?;
            if usize::from(over.file) <= at {
                return None;
            }
            let file = files.get(usize::from(over.file))?;
            let reader = loc.file.place(loc.span.start);
            Some((
                over.file,
                over.node.name.span,
                file.clone(),
                reader,
                name.to_string(),
            ))
        })();
        match relocated {
            Some((fi, span, file, reader, name)) => {
                if moved.contains(&(fi, span)) {
                    continue;
                }
                moved.push((fi, span));
                out.push(
                    Diagnostic::error(
                        "check::type_mismatch",
                        format!(
                            "`override let {name}` changes its type: the parent reads it where {}",
                            d.message.strip_prefix("expected ").map_or_else(
                                || d.message.clone(),
                                |m| format!("it expects {m}")
                            )
                        ),
                    )
                    .at(&file, span)
                    .help(format!(
                        "an override keeps the type the parent's readers expect (one reads it at {reader}); to change what the value means, override those readers too, or declare a new let under another name"
                    )),
                );
            }
            None => out.push(d),
        }
    }
    *diags = out;
}

/// Lowers a merged chain to the checked program, reporting what is wrong with it.
fn lower_merged(
    name: &str,
    chain: &merge::Chain,
    merged: &merge::Merged<'_>,
    overrides: &[Override],
    diags: &mut Vec<Diagnostic>,
) -> Option<Program> {
    let ids: Vec<String> = chain.asts.iter().map(|a| a.id.value.clone()).collect();
    let files = &chain.files;
    let leaf_file = u16::try_from(files.len().saturating_sub(1)).unwrap_or(0);
    let leaf_ast = chain.asts.last()?;

    let mut lw = Lowerer::new(merged, files, diags);
    id_matches_file_name(&mut lw, name, leaf_ast, files.get(usize::from(leaf_file)));
    lw.declare_enums();
    lw.declare_params(&ids);
    let param_groups = lw.declare_param_groups(&ids);
    let expanded = expand_group_overrides(&mut lw, &param_groups, overrides);
    let overrides = expanded.as_slice();
    apply_overrides(&mut lw, overrides);
    lw.check_param_bounds();
    lw.declare_states();

    // structural requirements
    let mut missing: Vec<(&str, &str)> = Vec::new();
    if merged.labels.is_none() {
        missing.push((
            "labels",
            "declare the response labels, best first: `labels { CR PR SD PD NE }`",
        ));
    }
    if merged.decisions.is_none() {
        missing.push((
            "decisions",
            "declare the decisions: `decisions { CONTINUE DISCONTINUE }`",
        ));
    }
    if merged.baseline.is_none() {
        missing.push((
            "baseline",
            "choose the baseline scan: `baseline = last(s in scans where ...) cite \"...\"`",
        ));
    }
    if merged.targets.is_none() {
        missing.push(("targets", "choose the target lesions: `targets { candidate: ... rank: ... max: ... } cite \"...\"`"));
    }
    let mut program_ok = true;
    for (what, help) in &missing {
        program_ok = false;
        let d = Diagnostic::error(
            "check::missing_output",
            format!("criterion `{}` has no `{what}`", merged.id),
        )
        .at(&files[usize::from(leaf_file)], leaf_ast.id.span)
        .help(*help);
        lw.push(d);
    }

    let native_labels = lw.native_labels();
    if let Some(n) = merged.native_labels {
        require_cite(
            &mut lw,
            files,
            n.file,
            n.node.span,
            n.node.cite.as_ref(),
            "native labels",
        );
    }

    // baseline
    let baseline = merged.baseline.and_then(|b| {
        require_cite(&mut lw, files, b.file, b.node.span, b.node.cite.as_ref(), "the baseline choice");
        let e = lw.lower_in(Ctx2::Case, b.file, &b.node.value, Some(Ty::SCAN.optional()))?;
        if e.ty.base != Base::Scan {
            lw.push(
                Diagnostic::error("check::type_mismatch", "`baseline` must choose a scan")
                    .at(&files[usize::from(b.file)], b.node.value.span)
                    .help("write e.g. `last(s in scans where s.kind != followup and s.date <= case.therapy_start)`"),
            );
            return None;
        }
        Some((e, b.node.cite.as_ref().map(|c| c.value.clone()).unwrap_or_default()))
    });

    // targets
    let targets = merged.targets.and_then(|t| {
        let n = t.node;
        require_cite(
            &mut lw,
            files,
            t.file,
            n.span,
            n.cite.as_ref(),
            "target selection",
        );
        let candidate = lw.lower_in(Ctx2::Lesion, t.file, &n.candidate, Some(Ty::BOOL));
        let candidate = candidate.filter(|c| {
            expect_ty(
                &mut lw,
                files,
                t.file,
                n.candidate.span,
                c.ty,
                Ty::BOOL,
                "`candidate` must be a condition",
            )
        });
        let mut rank = Vec::new();
        for k in &n.rank {
            if let Some(e) = lw.lower_in(Ctx2::Lesion, t.file, &k.key, None) {
                if matches!(e.ty.base, Base::Num(_) | Base::Date | Base::Text) && !e.ty.opt {
                    rank.push((e, k.descending));
                } else {
                    lw.push(
                        Diagnostic::error(
                            "check::type_mismatch",
                            "a rank key must be a present number, date or text",
                        )
                        .at(&files[usize::from(t.file)], k.key.span)
                        .help("rank by e.g. `lesion.product desc`; use `??` for absent values"),
                    );
                }
            }
        }
        let max = lw.lower_in(Ctx2::Case, t.file, &n.max, None).filter(|e| {
            expect_ty(
                &mut lw,
                files,
                t.file,
                n.max.span,
                e.ty,
                Ty::num(types::Unit::One),
                "`max` must be a count",
            )
        });
        let max = max.filter(|e| whole_count(&mut lw, t.file, e, "`max`"));
        let mut max_per = Vec::new();
        for (g, mx) in &n.max_per {
            let ge = lw.lower_in(Ctx2::Lesion, t.file, g, None);
            let me = lw.lower_in(Ctx2::Lesion, t.file, mx, None).filter(|e| {
                expect_ty(
                    &mut lw,
                    files,
                    t.file,
                    mx.span,
                    e.ty,
                    Ty::num(types::Unit::One),
                    "the limit must be a count",
                )
            });
            let me = me.filter(|e| whole_count(&mut lw, t.file, e, "the `max_per` limit"));
            if let (Some(ge), Some(me)) = (ge, me) {
                max_per.push((ge, me));
            }
        }
        let eligible = match &n.eligible {
            Some(el) => Some(
                lw.lower_in(Ctx2::Lesion, t.file, el, Some(Ty::BOOL))
                    .filter(|e| {
                        expect_ty(
                            &mut lw,
                            files,
                            t.file,
                            el.span,
                            e.ty,
                            Ty::BOOL,
                            "`eligible` must be a condition",
                        )
                    })?,
            ),
            None => None,
        };
        Some(TargetSpec {
            candidate: candidate?,
            rank,
            max: max?,
            max_per,
            eligible,
            cite: n.cite.as_ref().map(|c| c.value.clone()).unwrap_or_default(),
            src: Src {
                file: t.file,
                span: n.span,
            },
        })
    });

    let (mut lesion_lets, _) = lw.finish_lets(Ctx2::Lesion);
    let (mut lets, let_order) = lw.finish_lets(Ctx2::Scan);
    program::mark_state_readers(&mut lets, &mut lesion_lets);
    let state_let_order: Vec<u32> = let_order
        .iter()
        .copied()
        .filter(|&i| lets.get(i as usize).is_some_and(|l| l.reads_state))
        .collect();

    let mut shows = Vec::new();
    for s in &merged.shows {
        if let Some(mut e) = lw.lower_in(Ctx2::Scan, s.file, &s.node.value, None) {
            let mut unit_param = None;
            if let Some(unit) = &s.node.unit {
                match lw.show_unit(s.file, unit, e.ty) {
                    Some((ty, param)) => {
                        e.ty = ty;
                        unit_param = param;
                    }
                    None => continue,
                }
            }
            shows.push(ShowInfo {
                name: s.node.name.text.clone(),
                expr: e,
                unit_param,
            });
        }
    }
    refuse_clashing_show_names(&mut lw, &merged.shows, &shows);

    let tables = lower_tables(&mut lw, files, &merged.scan.tables, false);
    let stop = merged
        .stop
        .and_then(|s| lower_grading(&mut lw, files, &s, "stop", "grading stopped"));
    let skip = merged
        .skip
        .and_then(|s| lower_grading(&mut lw, files, &s, "skip", "skipped"));

    let (summary_lets, summary_let_order) = lw.finish_lets(Ctx2::Summary);
    let summary_tables = lower_tables(&mut lw, files, &merged.summary.tables, true);
    let warnings = merged
        .warns
        .iter()
        .filter_map(|w| lower_warn(&mut lw, files, w))
        .collect();

    // every contract output must be assigned, by a table that ends with `otherwise`
    let outputs: [(&str, Target, &[Table]); 3] = [
        ("response", Target::Response, &tables),
        (
            "best_overall_response",
            Target::BestOverallResponse,
            &summary_tables,
        ),
        ("final_decision", Target::FinalDecision, &summary_tables),
    ];
    // where a table is declared, for a diagnostic about it
    let merged_table = |name: &str| {
        merged
            .scan
            .tables
            .iter()
            .chain(merged.summary.tables.iter())
            .find(|mt| mt.name == name)
    };
    let table_at = |name: &str| {
        merged_table(name)
            .map(|mt| (mt.decl.file, mt.decl.node.name.span))
            .unwrap_or((leaf_file, leaf_ast.id.span))
    };
    for (name, target, ts) in outputs {
        // a table that ends with `otherwise ... {name} = ...` assigns it on every scan
        let always_assigns = |t: &Table| {
            t.rules
                .iter()
                .any(|r| r.when.is_none() && r.assigns.iter().any(|a| a.target == target))
        };
        let assigning: Vec<&Table> = ts
            .iter()
            .filter(|t| {
                t.rules
                    .iter()
                    .any(|r| r.assigns.iter().any(|a| a.target == target))
            })
            .collect();
        if assigning.is_empty() {
            program_ok = false;
            let d = Diagnostic::error("check::missing_output", format!("no rule assigns `{name}`"))
                .at(&files[usize::from(leaf_file)], leaf_ast.id.span)
                .help(format!(
                    "add a table whose rules set `{name} = ...`{}",
                    if name == "response" {
                        ""
                    } else {
                        " inside `summary { ... }`"
                    }
                ));
            lw.push(d);
        } else if !assigning
            .iter()
            .any(|t| t.rules.iter().any(|r| r.when.is_none()))
        {
            program_ok = false;
            let t = assigning
                .first()
                .map(|t| t.name.clone())
                .unwrap_or_default();
            let lost = merged_table(&t).and_then(|mt| mt.lost_otherwise.clone());
            let d = match lost {
                // an amendment took the parent's `otherwise` away: said at that line
                Some((file, span, what)) => Diagnostic::error(
                    "check::missing_otherwise",
                    format!("`{what}` takes away the `otherwise` rule of table `{t}`, which may then leave `{name}` unset"),
                )
                .at(&files[usize::from(file).min(files.len().saturating_sub(1))], span)
                .help("keep a last rule `rule ID otherwise then ...`: override it without `when`, or add one after the table's last rule"),
                None => {
                    let span = table_at(&t);
                    Diagnostic::error(
                        "check::missing_otherwise",
                        format!("table `{t}` may leave `{name}` unset"),
                    )
                    .at(&files[usize::from(span.0)], span.1)
                    .help(
                        "end the table with `rule ID otherwise then ...` so that every case gets a value",
                    )
                }
            };
            lw.push(d);
        }
        // a table whose assignments a later table always replaces: its labels never stand
        // (typically a misspelt table name given a place before the real one)
        for (k, t) in assigning.iter().enumerate() {
            let Some(later) = assigning.iter().skip(k + 1).find(|u| always_assigns(u)) else {
                continue;
            };
            program_ok = false;
            let span = table_at(&t.name);
            let names = [later.name.as_str()];
            let help = match diag::closest(&t.name, names) {
                Some(c) => format!(
                    "did you mean `table {c}`? To relabel after it, place this table after it: `table {} after {c}`",
                    t.name
                ),
                None => format!(
                    "put these rules into table `{}` (placed with `before`/`after`), or place this table after it",
                    later.name
                ),
            };
            let d = Diagnostic::error(
                "check::output_never_stands",
                format!(
                    "table `{}` assigns `{name}`, but table `{}` runs after it and always assigns it: these values never stand",
                    t.name, later.name
                ),
            )
            .at(&files[usize::from(span.0)], span.1)
            .help(help);
            lw.push(d);
        }
        // in the table that ends with `otherwise ... {name} = ...`, only the first rule that
        // holds fires: one that does not set the output would leave the scan without it
        for t in &assigning {
            if !always_assigns(t) {
                continue;
            }
            for r in t
                .rules
                .iter()
                .filter(|r| !r.assigns.iter().any(|a| a.target == target))
            {
                program_ok = false;
                let Some(file) = files.get(usize::from(r.src.file)) else {
                    continue;
                };
                let d = Diagnostic::error(
                    "check::rule_without_output",
                    format!(
                        "rule `{}` in table `{}` does not set `{name}`: when it fires, the scan is left without one",
                        r.id, t.name
                    ),
                )
                .at(file, r.src.span)
                .help(format!(
                    "a table fires only its first rule that holds; add `{name} = ...` to this rule's `then`, or put the rule in a table of its own"
                ));
                lw.push(d);
            }
        }
    }

    let state_pd = lw.state_index("pd_date");
    let state_conf = lw.state_index("pd_confirmed_on");
    for (name, ix) in [("pd_date", state_pd), ("pd_confirmed_on", state_conf)] {
        match ix.and_then(|i| lw.states.get(i as usize)) {
            Some(s) if s.ty == Ty::DATE.optional() => {}
            Some(_) => {
                program_ok = false;
                let d = Diagnostic::error(
                    "check::type_mismatch",
                    format!("state `{name}` must be `date?`"),
                )
                .at(&files[usize::from(leaf_file)], leaf_ast.id.span)
                .help(format!("declare `state {name}: date? = null`"));
                lw.push(d);
            }
            None => {
                program_ok = false;
                let d = Diagnostic::error("check::missing_output", format!("no state `{name}`"))
                    .at(&files[usize::from(leaf_file)], leaf_ast.id.span)
                    .help(format!("the result reports it: declare `state {name}: date? = null` and set it in rules"));
                lw.push(d);
            }
        }
    }

    if !program_ok {
        return None;
    }
    let (baseline, baseline_cite) = baseline?;
    let targets = targets?;
    let def_info = |d: &merge::At<'_, ast::DefDecl>, in_summary: bool| DefInfo {
        name: d.node.name.text.clone(),
        signature: format!(
            "({})",
            d.node
                .params
                .iter()
                .map(|(n, t)| {
                    let ty = files
                        .get(usize::from(d.file))
                        .and_then(|f| f.text.get(t.span.start..t.span.end))
                        .unwrap_or("?");
                    format!("{}: {ty}", n.text)
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        in_summary,
        doc: d
            .node
            .doc
            .as_ref()
            .map(|x| x.value.clone())
            .unwrap_or_default(),
        cite: d
            .node
            .cite
            .as_ref()
            .map(|x| x.value.clone())
            .unwrap_or_default(),
        src: Src {
            file: d.file,
            span: d.node.name.span,
        },
        body_src: Src {
            file: d.file,
            span: d.node.body.span,
        },
    };
    let defs: Vec<DefInfo> = merged
        .scan
        .defs
        .iter()
        .map(|d| def_info(d, false))
        .chain(merged.summary.defs.iter().map(|d| def_info(d, true)))
        .collect();
    let mut program = Program {
        id: merged.id.clone(),
        version: merged.version.clone().unwrap_or_default(),
        title: merged.title.clone().unwrap_or_default(),
        cdisc_category: merged.cdisc_category.clone(),
        cite: merged.cite.clone().unwrap_or_default(),
        lineage: ids,
        sources: files
            .iter()
            .map(|f| SourceFile {
                name: f.name.clone(),
                text: f.text.clone(),
            })
            .collect(),
        enums: lw.enums.clone(),
        texts: lw.texts.clone(),
        params: lw.params.clone(),
        param_groups,
        baseline,
        baseline_cite,
        targets,
        lesion_lets,
        lets,
        let_order,
        state_let_order,
        cross_scan_let_order: Vec::new(),
        shows,
        native_labels,
        states: lw.states.clone(),
        tables,
        stop,
        skip,
        warnings,
        summary_lets,
        summary_let_order,
        summary_tables,
        pd_date_state: state_pd,
        pd_confirmed_state: state_conf,
        slots: lw.max_slot,
        defs,
        changes: chain_changes(chain),
    };
    program.cross_scan_let_order = program::lets_read_on_other_scans(&program);
    let defs_called = std::mem::take(&mut lw.defs_called);
    // only on an otherwise clean criterion: an error elsewhere can leave things unread
    let diags = lw.diags_mut();
    if !diags.iter().any(Diagnostic::is_error) {
        report_unused(&program, merged, &defs_called, files, leaf_file, diags);
        report_relabel_after_progression(&program, files, leaf_file, diags);
        dead_rules::report(&program, files, leaf_file, diags);
    }
    if !diags.iter().any(Diagnostic::is_error) {
        report_inert_params(&program, chain, merged, overrides, diags);
    }
    if !diags.iter().any(Diagnostic::is_error) {
        report_unselected_params(&program, chain, merged, overrides, diags);
    }
    Some(program)
}

/// Lets and defs the checked file declares that nothing evaluated reads: an addition that
/// changes nothing, most often written in the wrong place (a def of the summary declared
/// outside `summary { }`) or under a name nothing reads. (An `override` that nothing reads
/// is how a criterion retires an inherited let that read a removed parameter.)
fn report_unused(
    program: &Program,
    merged: &merge::Merged<'_>,
    defs_called: &[Vec<bool>; 2],
    files: &[Arc<diag::SourceText>],
    leaf: u16,
    diags: &mut Vec<Diagnostic>,
) {
    let Some(file) = files.get(usize::from(leaf)) else {
        return;
    };
    let reached = program.lets_reached();
    let lists = [&program.lets, &program.lesion_lets, &program.summary_lets];
    let overridden = |name: &str| {
        merged
            .all_lets()
            .any(|l| l.node.name.text == name && l.node.is_override)
    };
    for (list, reached) in lists.iter().zip(&reached) {
        for (l, r) in list.iter().zip(reached) {
            if *r || l.src.file != leaf || overridden(&l.name) {
                continue;
            }
            diags.push(
                Diagnostic::warning(
                    "check::unused_let",
                    format!("let `{}` is not read by any rule, let or show: it changes nothing", l.name),
                )
                .at(file, l.src.span)
                .help("read it where it should count (a rule's `when`, a let, a def), or show it with `show NAME = ...`"),
            );
        }
    }
    let sections = [
        (&merged.scan.defs, &merged.summary.defs, "outside", "inside"),
        (&merged.summary.defs, &merged.scan.defs, "inside", "outside"),
    ];
    for ((defs, other, here, there), called) in sections.iter().zip(defs_called) {
        for (d, c) in defs.iter().zip(called) {
            if *c || d.file != leaf || d.node.is_override {
                continue;
            }
            let name = &d.node.name.text;
            let help = if other.iter().any(|o| &o.node.name.text == name) {
                format!("this def is declared {here} `summary {{ }}`; the calls of `{name}` {there} it read the def declared {there} it: to replace that one, write `override def {name}` {there} `summary {{ ... }}`")
            } else {
                "call it where it should count (a rule's `when`, a let or another def), or remove it".to_string()
            };
            diags.push(
                Diagnostic::warning(
                    "check::unused_def",
                    format!(
                        "def `{name}` is not called by any rule, let or def: it changes nothing"
                    ),
                )
                .at(file, d.node.name.span)
                .help(help),
            );
        }
    }
}

/// A rule of the checked file that sets `response` in a table after the one that labels a
/// scan PD and sets `pd_date` in the same rule: on such a scan, its label would replace
/// the progression's while the progression date stays (an NE over a PD, with `pd_date` on
/// that very scan).
fn report_relabel_after_progression(
    program: &Program,
    files: &[Arc<diag::SourceText>],
    leaf: u16,
    diags: &mut Vec<Diagnostic>,
) {
    let (Some(pd), Some(file)) = (program.pd_date_state, files.get(usize::from(leaf))) else {
        return;
    };
    let sets = |r: &program::RuleInfo, t: &Target| r.assigns.iter().any(|a| &a.target == t);
    let Some(first) = program.tables.iter().position(|t| {
        t.rules
            .iter()
            .any(|r| sets(r, &Target::Response) && sets(r, &Target::State(pd)))
    }) else {
        return;
    };
    let labelling = program
        .tables
        .get(first)
        .map(|t| t.name.as_str())
        .unwrap_or("");
    for t in program.tables.iter().skip(first + 1) {
        for r in t.rules.iter().filter(|r| {
            r.src.file == leaf && sets(r, &Target::Response) && !sets(r, &Target::State(pd))
        }) {
            diags.push(
                Diagnostic::warning(
                    "check::response_after_progression",
                    format!(
                        "rule `{}` sets `response` in table `{}`, after table `{labelling}`, whose rules label a scan PD and set `pd_date`: on such a scan this label replaces PD while the progression date stays",
                        r.id, t.name
                    ),
                )
                .at(file, r.src.span)
                .help(format!(
                    "write the rule inside `table {labelling} {{ ... }}`, placed before the rules it must decide ahead of (`rule ID before OTHER when ...`), or set `pd_date` in this rule too"
                )),
            );
        }
    }
}

/// A declaration an amendment can replace or remove, as written in one file.
struct NamedDecl {
    kind: &'static str,
    name: String,
    span: ast::Span,
    replaces: bool,
}

/// What each file after the root adds, overrides or removes (for the criterion map).
fn chain_changes(chain: &merge::Chain) -> Vec<Change> {
    let mut out = Vec::new();
    for (i, a) in chain.asts.iter().enumerate().skip(1) {
        let file = u16::try_from(i).unwrap_or(u16::MAX);
        let mut decls = Vec::new();
        named_decls(&a.items, &mut decls);
        for d in decls {
            let (kind, action) = match d.kind {
                "remove rule" => ("rule", ChangeKind::Removed),
                "remove param" => ("param", ChangeKind::Removed),
                k if d.replaces => (k, ChangeKind::Overridden),
                k => (k, ChangeKind::Added),
            };
            out.push(Change {
                kind: kind.to_string(),
                name: d.name,
                action,
                src: Src { file, span: d.span },
            });
        }
    }
    out
}

fn named_decls(items: &[ast::Item], out: &mut Vec<NamedDecl>) {
    use ast::Item;
    for item in items {
        let (kind, name, span, replaces) = match item {
            Item::Param(p) => ("param", p.name.text.clone(), p.span, p.is_override),
            Item::RemoveParam(r) => ("remove param", r.name.text.clone(), r.span, true),
            Item::State(x) => ("state", x.name.text.clone(), x.span, false),
            Item::Let(l) => ("let", l.name.text.clone(), l.span, l.is_override),
            Item::Def(d) => ("def", d.name.text.clone(), d.span, d.is_override),
            Item::Show(x) => ("show", x.name.text.clone(), x.span, x.is_override),
            Item::Baseline(b) => ("baseline", String::new(), b.span, b.is_override),
            Item::Targets(t) => ("targets", String::new(), t.span, t.is_override),
            Item::StopGrading(x) => ("stop grading", String::new(), x.span, x.is_override),
            Item::SkipGrading(x) => ("skip grading", String::new(), x.span, x.is_override),
            Item::Warn(w) => ("warn", w.name.text.clone(), w.span, w.is_override),
            Item::Table(t) => {
                for ti in &t.items {
                    match ti {
                        ast::TableItem::Rule(r) => out.push(NamedDecl {
                            kind: "rule",
                            name: r.id.text.clone(),
                            span: r.span,
                            replaces: r.is_override,
                        }),
                        ast::TableItem::Remove(n, _) => out.push(NamedDecl {
                            kind: "remove rule",
                            name: n.text.clone(),
                            span: n.span,
                            replaces: true,
                        }),
                        ast::TableItem::Move(n, _, _) => out.push(NamedDecl {
                            kind: "rule",
                            name: n.text.clone(),
                            span: n.span,
                            replaces: true,
                        }),
                    }
                }
                continue;
            }
            Item::Summary(sm) => {
                named_decls(&sm.items, out);
                continue;
            }
            _ => continue,
        };
        out.push(NamedDecl {
            kind,
            name,
            span,
            replaces,
        });
    }
}

/// Parameters made inert by one cause (a declaration that replaced or removed what read
/// them), or one parameter nothing reads with no such cause (`what` empty).
struct InertGroup {
    file: u16,
    span: ast::Span,
    /// The replacing declaration, as written (`remove rule mr`); empty without one.
    what: String,
    names: Vec<String>,
    /// Lets nothing reads that still read one of the parameters.
    readers: Vec<String>,
    /// For a parameter new in an amendment: the inherited one it was likely meant to be.
    meant: Option<String>,
}

/// No inert parameters: a parameter nothing reads (because an amendment replaced or
/// removed what read it) cannot be set or overridden without saying so.
fn report_inert_params(
    program: &Program,
    chain: &merge::Chain,
    merged: &merge::Merged<'_>,
    overrides: &[Override],
    diags: &mut Vec<Diagnostic>,
) {
    let read = program.params_read();
    let decls: Vec<Vec<NamedDecl>> = chain
        .asts
        .iter()
        .map(|a| {
            let mut v = Vec::new();
            named_decls(&a.items, &mut v);
            v
        })
        .collect();
    let mut by_cause: Vec<InertGroup> = Vec::new();
    for (i, p) in program.params.iter().enumerate() {
        if read.get(i).copied().unwrap_or(true) {
            continue;
        }
        let Some(mp) = merged
            .params
            .iter()
            .find(|m| m.decl.node.name.text == p.name)
        else {
            continue;
        };
        // a parameter new in an amendment that nothing reads: most likely an inherited one
        // misspelt, or declared where `override param` was meant
        let meant = if mp.decl.file > 0 {
            let inherited = merged
                .params
                .iter()
                .filter(|o| o.decl.file < mp.decl.file)
                .map(|o| o.decl.node.name.text.as_str());
            diag::closest(&p.name, inherited).map(str::to_string)
        } else {
            None
        };
        // lets that still mention it, though nothing reads them any more
        let readers = program.unreached_readers(u32::try_from(i).unwrap_or(u32::MAX));
        // what made it unread: a later replacement or removal of a declaration that read it
        // (or read a let that reads it)
        let mut cause: Option<(u16, ast::Span, String)> = None;
        for (j, file_decls) in decls.iter().enumerate().skip(usize::from(mp.decl.file) + 1) {
            for d in file_decls
                .iter()
                .filter(|d| d.replaces && !matches!(d.kind, "param" | "remove param" | "state"))
            {
                let kind = if d.kind == "remove rule" {
                    "rule"
                } else {
                    d.kind
                };
                let superseded = decls.iter().enumerate().take(j).rev().find_map(|(k, ds)| {
                    ds.iter()
                        .rev()
                        .find(|o| (o.kind == kind) && o.name == d.name)
                        .map(|o| (k, o.span))
                });
                let Some((k, span)) = superseded else {
                    continue;
                };
                let text = chain
                    .files
                    .get(k)
                    .and_then(|f| f.text.get(span.start..span.end))
                    .unwrap_or("");
                if program::names_word(text, &p.name)
                    || readers.iter().any(|r| program::names_word(text, r))
                {
                    let what = if d.kind == "remove rule" {
                        format!("`remove rule {}`", d.name)
                    } else if d.name.is_empty() {
                        format!("`override {}`", d.kind)
                    } else {
                        format!("`override {} {}`", d.kind, d.name)
                    };
                    cause = Some((u16::try_from(j).unwrap_or(0), d.span, what));
                }
            }
        }
        if let Some(o) = overrides.iter().find(|o| o.key == p.name) {
            let why = match &cause {
                Some((j, span, what)) => {
                    let at = chain
                        .files
                        .get(usize::from(*j))
                        .map(|f| {
                            let (l, c) = diag::line_col(&f.text, span.start);
                            format!("{}:{l}:{c}", f.name)
                        })
                        .unwrap_or_default();
                    format!("{what} at {at} replaced what read it")
                }
                None => "no rule of this criterion reads it".into(),
            };
            diags.push(
                Diagnostic::error(
                    "check::inert_parameter",
                    format!(
                        "`{} {}={}` would change nothing: {why}",
                        o.origin, o.key, o.value
                    ),
                )
                .help("`irano-eval params RULES` lists the parameters this criterion reads"),
            );
        }
        match cause {
            Some((j, span, what)) => {
                match by_cause.iter_mut().find(|c| c.file == j && c.span == span) {
                    Some(c) => {
                        c.names.push(p.name.clone());
                        for r in readers {
                            if !c.readers.contains(&r) {
                                c.readers.push(r);
                            }
                        }
                    }
                    None => by_cause.push(InertGroup {
                        file: j,
                        span,
                        what,
                        names: vec![p.name.clone()],
                        readers,
                        meant: None,
                    }),
                }
            }
            None => by_cause.push(InertGroup {
                file: mp.last.file,
                span: mp.last.node.name.span,
                what: String::new(),
                names: vec![p.name.clone()],
                readers,
                meant,
            }),
        }
    }
    for InertGroup {
        file,
        span,
        what,
        names,
        readers,
        meant,
    } in by_cause
    {
        let list = names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let (message, help) = if let (true, Some(c)) = (what.is_empty(), &meant) {
            (
                format!(
                    "parameter {list} is new here and not read by any rule: setting it would change nothing"
                ),
                format!(
                    "did you mean to change the inherited `{c}`? write `override param {c} = ...`; a new parameter must be read by a rule"
                ),
            )
        } else if what.is_empty() {
            (
                format!(
                    "parameter {list} is not read by any rule: setting it would change nothing"
                ),
                if usize::from(file) + 1 == chain.asts.len() {
                    // declared in the file being checked: deleting it is what is meant
                    "read it in a rule, or delete its declaration (`remove param` is for a parameter a parent criterion declares)".to_string()
                } else {
                    format!(
                        "read it in a rule, or retire it with `remove param {} cite \"...\"`",
                        names.join(" ")
                    )
                },
            )
        } else {
            if names.len() == 1 {
                (
                    format!("{what} leaves parameter {list} unread: setting it would change nothing"),
                    format!(
                        "read it in the new definition, or retire it with `remove param {} cite \"...\"`",
                        names.join("")
                    ),
                )
            } else {
                (
                    format!("{what} leaves parameters {list} unread: setting them would change nothing"),
                    format!(
                        "read them in the new definition, or retire each with `remove param NAME cite \"...\"` ({})",
                        names.join(", ")
                    ),
                )
            }
        };
        // a let nothing reads still names the parameter: it goes too, or `remove param`
        // would leave it naming an unknown parameter
        let (message, help) = if readers.is_empty() {
            (message, help)
        } else {
            let lets = readers
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let them = if names.len() == 1 { "it" } else { "them" };
            let (let_word, reads, is) = if readers.len() == 1 {
                ("the let", "reads", "is")
            } else {
                ("the lets", "read", "are")
            };
            (
                format!("{message} ({let_word} {lets} that still {reads} {them} {is} read by nothing now)"),
                format!(
                    "{help}, after giving {let_word} {lets} a value that does not read {them} (`override let NAME = ... cite \"...\"`)"
                ),
            )
        };
        if let Some(f) = chain.files.get(usize::from(file)) {
            diags.push(
                Diagnostic::error("check::inert_parameter", message)
                    .at(f, span)
                    .help(help),
            );
        }
    }
}

/// `warn ID when ...`: its condition (in the summary's context), reason and citation;
/// `None` when the condition is not one (reported).
fn lower_warn(
    lw: &mut Lowerer<'_, '_>,
    files: &[Arc<diag::SourceText>],
    w: &merge::At<'_, ast::WarnDecl>,
) -> Option<WarnInfo> {
    let id = &w.node.name.text;
    require_cite(
        lw,
        files,
        w.file,
        w.node.span,
        w.node.cite.as_ref(),
        &format!("`warn {id}`"),
    );
    if w.node.because.is_none() {
        if let Some(f) = files.get(usize::from(w.file)) {
            lw.push(
                Diagnostic::error(
                    "check::warn_without_because",
                    format!("`warn {id}` does not say what it warns of"),
                )
                .at(f, w.node.span)
                .help("add `because \"...\"`: the sentence the run prints for a case the condition holds for"),
            );
        }
    }
    let e = lw.lower_in(Ctx2::Summary, w.file, &w.node.when, Some(Ty::BOOL))?;
    if !expect_ty(
        lw,
        files,
        w.file,
        w.node.when.span,
        e.ty,
        Ty::BOOL,
        &format!("`warn {id} when` needs a condition"),
    ) {
        return None;
    }
    Some(WarnInfo {
        id: id.clone(),
        when: e,
        because: w
            .node
            .because
            .as_ref()
            .map(|b| b.value.clone())
            .unwrap_or_default(),
        cite: w
            .node
            .cite
            .as_ref()
            .map(|c| c.value.clone())
            .unwrap_or_default(),
        src: Src {
            file: w.file,
            span: w.node.span,
        },
    })
}

/// `stop grading when ...` or `skip grading when ...` (`word`): its condition, reason and
/// citation; `None` when the condition is not one (reported).
fn lower_grading(
    lw: &mut Lowerer<'_, '_>,
    files: &[Arc<diag::SourceText>],
    s: &merge::At<'_, ast::StopDecl>,
    word: &str,
    default_because: &str,
) -> Option<StopInfo> {
    require_cite(
        lw,
        files,
        s.file,
        s.node.span,
        s.node.cite.as_ref(),
        &format!("`{word} grading`"),
    );
    let e = lw.lower_in(Ctx2::Table, s.file, &s.node.when, Some(Ty::BOOL))?;
    if !expect_ty(
        lw,
        files,
        s.file,
        s.node.when.span,
        e.ty,
        Ty::BOOL,
        &format!("`{word} grading when` needs a condition"),
    ) {
        return None;
    }
    Some(StopInfo {
        when: e,
        because: s
            .node
            .because
            .as_ref()
            .map(|b| b.value.clone())
            .unwrap_or_else(|| default_because.into()),
        cite: s
            .node
            .cite
            .as_ref()
            .map(|c| c.value.clone())
            .unwrap_or_default(),
    })
}

fn expect_ty(
    lw: &mut Lowerer<'_, '_>,
    files: &[Arc<diag::SourceText>],
    file: u16,
    span: ast::Span,
    got: Ty,
    want: Ty,
    msg: &str,
) -> bool {
    if got == want {
        return true;
    }
    let d = Diagnostic::error("check::type_mismatch", msg.to_string())
        .at(
            &files[usize::from(file).min(files.len().saturating_sub(1))],
            span,
        )
        .help(format!("found {}", lw.type_name(got)));
    lw.push(d);
    false
}

/// A shown value names a table column, a JSON key (and `NAME_exact` beside it) and a CSV
/// column (`NAME_UNIT`): none may repeat a fixed column of the result or another shown
/// value's, or a reader of the output would get one value under two names (a CSV reader
/// keeps the last). Names have no dot, as lets.
fn refuse_clashing_show_names(
    lw: &mut Lowerer<'_, '_>,
    decls: &[merge::At<'_, ast::ShowDecl>],
    shows: &[ShowInfo],
) {
    // every output name so far, with the show that took it (None: a fixed column)
    let mut taken: Vec<(String, Option<&str>)> = ROW_COLUMNS_BEFORE_SHOWS
        .iter()
        .chain(ROW_COLUMNS_AFTER_SHOWS.iter())
        .map(|c| (c.to_string(), None))
        .collect();
    for show in shows {
        let Some(decl) = decls.iter().find(|d| d.node.name.text == show.name) else {
            continue;
        };
        let span = decl.node.name.span;
        if show.name.contains('.') {
            lw.err_in(
                decl.file,
                span,
                "check::dotted_name",
                format!("show `{}` has a dot in its name", show.name),
                "a shown value's name is a column of the results; write `_` instead".into(),
            );
            continue;
        }
        let mut names = vec![show.name.clone(), format!("{}{EXACT_SUFFIX}", show.name)];
        let column = show.column();
        if !names.contains(&column) {
            names.push(column);
        }
        let clash = names
            .iter()
            .find_map(|n| taken.iter().find(|(t, _)| t == n).map(|(_, by)| (n, *by)));
        if let Some((mine, by)) = clash {
            let whose = match by {
                None => "one of the results' own columns".to_string(),
                Some(other) => format!("a name show `{other}` writes"),
            };
            lw.err_in(
                decl.file,
                span,
                "check::redeclared",
                format!("show `{}` would write `{mine}`, {whose}", show.name),
                format!(
                    "give it another name: show `{}` writes the keys `{}` and `{}{EXACT_SUFFIX}` and the CSV column `{}`",
                    show.name,
                    show.name,
                    show.name,
                    show.column()
                ),
            );
            continue;
        }
        taken.extend(names.into_iter().map(|n| (n, Some(show.name.as_str()))));
    }
}

/// A number of lesions written as a number is whole and not negative (`max: 2.5` would be
/// floored, `max: -1` allow none, both without a word); one computed from parameters is
/// checked when a case is evaluated.
fn whole_count(lw: &mut Lowerer<'_, '_>, file: u16, e: &Expr, what: &str) -> bool {
    let r = match &e.kind {
        ExprKind::Const(Value::Num(r)) => *r,
        ExprKind::Unary(UnKind::Neg, x) => match &x.kind {
            ExprKind::Const(Value::Num(r)) => match r.checked_neg() {
                Ok(n) => n,
                Err(_) => return true,
            },
            _ => return true,
        },
        _ => return true,
    };
    if r.denom() == 1 && !r.is_negative() {
        return true;
    }
    lw.err_in(
        file,
        e.src.span,
        "check::invalid_value",
        format!(
            "{what} is `{}`: a number of lesions is whole and not negative",
            r.to_decimal_string(4)
        ),
        "write a whole number (0 or more)".into(),
    );
    false
}

fn require_cite(
    lw: &mut Lowerer<'_, '_>,
    files: &[Arc<diag::SourceText>],
    file: u16,
    span: ast::Span,
    cite: Option<&ast::Str>,
    what: &str,
) {
    if cite.is_none_or(|c| c.value.trim().is_empty()) {
        let d = Diagnostic::error(
            "check::missing_cite",
            format!("{what} does not cite its source"),
        )
        .at(
            &files[usize::from(file).min(files.len().saturating_sub(1))],
            span,
        )
        .help("add `cite \"paper, table or section\"`: every rule, parameter and warning says where it comes from");
        lw.push(d);
    }
}

fn lower_tables(
    lw: &mut Lowerer<'_, '_>,
    files: &[Arc<diag::SourceText>],
    tables: &[merge::MergedTable<'_>],
    summary: bool,
) -> Vec<Table> {
    let mut out = Vec::new();
    let mut seen_ids: HashSet<String> = HashSet::new();
    for t in tables {
        let mut rules = Vec::new();
        let mut seen_conditions: Vec<(String, String)> = Vec::new();
        // the `otherwise` rule seen (id, file, span), and the rules of other files after it
        let mut after_otherwise: Option<(String, u16, ast::Span)> = None;
        let mut cut_off: Vec<String> = Vec::new();
        for r in &t.rules {
            let rule = r.node;
            let file = usize::from(r.file).min(files.len().saturating_sub(1));
            if !seen_ids.insert(rule.id.text.clone()) {
                lw.push(
                    Diagnostic::error(
                        "check::redeclared",
                        format!("rule id `{}` is used twice", rule.id.text),
                    )
                    .at(&files[file], rule.id.span)
                    .help("rule ids name decisions in results; give each rule its own id"),
                );
            }
            require_cite(
                lw,
                files,
                r.file,
                rule.id.span,
                rule.cite.as_ref(),
                &format!("rule `{}`", rule.id.text),
            );
            if let Some((prev, prev_file, _)) = &after_otherwise {
                if t.unplaced.contains(&rule.id.text) {
                    // already an error: it has no place in the table
                } else if *prev_file <= r.file {
                    lw.push(
                        Diagnostic::error("check::unreachable_rule", format!("rule `{}` can never fire", rule.id.text))
                            .at(&files[file], rule.id.span)
                            .help(format!("it comes after `{prev}`, which applies to every scan; move it before that rule")),
                    );
                } else {
                    // an inherited rule after an amendment's `otherwise` (the amendment made
                    // a rule `otherwise`, or placed one before inherited rules): said once,
                    // at the `otherwise` the amendment wrote, below
                    cut_off.push(rule.id.text.clone());
                }
            }
            let ctx = if summary { Ctx2::Summary } else { Ctx2::Table };
            let when = match &rule.when {
                Some(w) => {
                    let text =
                        normalise(files[file].text.get(w.span.start..w.span.end).unwrap_or(""));
                    let unplaced = t.unplaced.contains(&rule.id.text);
                    if let Some((other, _)) = seen_conditions
                        .iter()
                        .find(|(_, c)| *c == text)
                        .filter(|_| !unplaced)
                    {
                        lw.push(
                            Diagnostic::error(
                                "check::unreachable_rule",
                                format!("rule `{}` can never fire", rule.id.text),
                            )
                            .at(&files[file], w.span)
                            .help(format!(
                                "rule `{other}` has the same condition and comes first"
                            )),
                        );
                    }
                    seen_conditions.push((rule.id.text.clone(), text));
                    match lw.lower_in(ctx, r.file, w, Some(Ty::BOOL)) {
                        Some(e) => {
                            if expect_ty(
                                lw,
                                files,
                                r.file,
                                w.span,
                                e.ty,
                                Ty::BOOL,
                                "a rule's `when` must be a condition",
                            ) {
                                Some(Some(e))
                            } else {
                                None
                            }
                        }
                        None => None,
                    }
                }
                None => {
                    after_otherwise.get_or_insert((rule.id.text.clone(), r.file, rule.id.span));
                    Some(None)
                }
            };
            let mut assigns = Vec::new();
            let mut ok = when.is_some();
            let mut assigned: Vec<String> = Vec::new();
            for a in &rule.then {
                if assigned.contains(&a.target.text) {
                    lw.push(
                        Diagnostic::error(
                            "check::redeclared",
                            format!("`{}` is assigned twice by one rule", a.target.text),
                        )
                        .at(&files[file], a.target.span)
                        .help("assign each output or state once per rule"),
                    );
                    ok = false;
                }
                assigned.push(a.target.text.clone());
                match lower_assign(lw, files, r.file, a, summary) {
                    Some(x) => assigns.push(x),
                    None => ok = false,
                }
            }
            if let (true, Some(when)) = (ok, when) {
                rules.push(RuleInfo {
                    id: rule.id.text.clone(),
                    when,
                    assigns,
                    cite: rule
                        .cite
                        .as_ref()
                        .map(|c| c.value.clone())
                        .unwrap_or_default(),
                    because: rule.because.as_ref().map(|b| b.value.clone()),
                    src: Src {
                        file: r.file,
                        span: rule.id.span,
                    },
                });
            }
        }
        if let (Some((prev, prev_file, span)), false) = (&after_otherwise, cut_off.is_empty()) {
            let f = usize::from(*prev_file).min(files.len().saturating_sub(1));
            lw.push(
                Diagnostic::error(
                    "check::unreachable_rule",
                    format!(
                        "rule `{prev}` applies to every scan (`otherwise`), so the rules after it in table `{}` can never fire: {}",
                        t.name,
                        diag::backticked(&cut_off, ", ")
                    ),
                )
                .at(&files[f], *span)
                .help("an `otherwise` rule ends its table: give this one a `when`, or place it after those rules"),
            );
        }
        out.push(Table {
            name: t.name.clone(),
            rules,
        });
    }
    out
}

fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn lower_assign(
    lw: &mut Lowerer<'_, '_>,
    files: &[Arc<diag::SourceText>],
    file: u16,
    a: &ast::Assign,
    summary: bool,
) -> Option<AssignInfo> {
    let f = &files[usize::from(file).min(files.len().saturating_sub(1))];
    let name = a.target.text.as_str();
    let (target, want) = if a.is_set {
        match lw.state_index(name) {
            Some(i) => (Target::State(i), lw.states.get(i as usize).map(|s| s.ty)?),
            None => {
                lw.push(
                    Diagnostic::error(
                        "check::unknown_name",
                        format!("there is no state variable `{name}`"),
                    )
                    .at(f, a.target.span)
                    .help(
                        match diag::closest(name, lw.states.iter().map(|s| s.name.as_str())) {
                            Some(c) => format!(
                                "did you mean `{c}`? a new state is declared with `state {name}: TYPE = INITIAL`"
                            ),
                            None => format!("declare it: `state {name}: TYPE = INITIAL`"),
                        },
                    ),
                );
                return None;
            }
        }
    } else {
        let t = match (name, summary) {
            ("response", false) => Some((Target::Response, Ty::enumeration(schema::LABEL))),
            ("decision", false) => Some((Target::Decision, Ty::enumeration(schema::DECISION))),
            ("best_overall_response", true) => {
                Some((Target::BestOverallResponse, Ty::enumeration(schema::LABEL)))
            }
            ("final_decision", true) => {
                Some((Target::FinalDecision, Ty::enumeration(schema::DECISION)))
            }
            _ => None,
        };
        match t {
            Some(t) => t,
            None => {
                let help = if lw.state_index(name).is_some() {
                    format!("`{name}` is a state variable: write `set {name} = ...`")
                } else if summary {
                    "the summary assigns `best_overall_response`, `final_decision` and state variables (`set NAME = ...`)".into()
                } else {
                    "a rule assigns `response`, `decision` and state variables (`set NAME = ...`)"
                        .into()
                };
                lw.push(
                    Diagnostic::error(
                        "check::unknown_output",
                        format!("`{name}` cannot be assigned here"),
                    )
                    .at(f, a.target.span)
                    .help(help),
                );
                return None;
            }
        }
    };
    let ctx = if summary { Ctx2::Summary } else { Ctx2::Table };
    let value = lw.lower_in(ctx, file, &a.value, Some(want))?;
    if !lw.fits_pub(value.ty, want) {
        let (w, g) = (lw.type_name(want), lw.type_name(value.ty));
        lw.push(
            Diagnostic::error(
                "check::type_mismatch",
                format!(
                    "`{name}` is {w}, but this value is {}",
                    crate::types::value_phrase(&g)
                ),
            )
            .at(f, a.value.span)
            .help(format!("assign a {w}")),
        );
        return None;
    }
    Some(AssignInfo { target, value })
}

/// The overrides with each `--set GROUP=V1,V2` replaced by one override per member of the
/// group, in order (`V1 to V2` is read as `V1,V2`); a wrong number of values is an error.
fn expand_group_overrides(
    lw: &mut Lowerer<'_, '_>,
    groups: &[program::ParamGroupInfo],
    overrides: &[Override],
) -> Vec<Override> {
    let mut out = Vec::with_capacity(overrides.len());
    for o in overrides {
        // (a group never shares a parameter's name: declare_param_groups refuses it)
        let Some(g) = groups.iter().find(|g| g.name == o.key) else {
            out.push(o.clone());
            continue;
        };
        let members: Vec<String> = g
            .members
            .iter()
            .filter_map(|&i| lw.params.get(i as usize).map(|p| p.name.clone()))
            .collect();
        let parts: Vec<&str> = if o.value.contains(',') {
            o.value.split(',').map(str::trim).collect()
        } else {
            o.value.split(" to ").map(str::trim).collect()
        };
        if parts.len() != members.len() || parts.iter().any(|p| p.is_empty()) {
            lw.push(
                Diagnostic::error(
                    "check::bad_override",
                    format!(
                        "`{} {}={}`: `{}` sets {} parameters ({}), so it takes {} values",
                        o.origin,
                        o.key,
                        o.value,
                        o.key,
                        members.len(),
                        diag::backticked(&members, ", "),
                        members.len()
                    ),
                )
                .help(format!(
                    "give the values in that order, separated by commas: `{}={}`; or set one parameter: `{}=...`",
                    o.key,
                    vec!["..."; members.len()].join(","),
                    members.first().map_or("", String::as_str)
                )),
            );
            continue;
        }
        for (member, part) in members.iter().zip(parts) {
            // a bare number is in the group's unit (`28,56` for a group in days)
            let value = match &g.unit {
                Some(u) if part.parse::<irano_exact::Rational>().is_ok() => format!("{part} {u}"),
                _ => part.to_string(),
            };
            out.push(Override {
                key: member.clone(),
                value,
                origin: o.origin,
            });
        }
    }
    // a member set through its group and again (by itself or by another group) would
    // silently take the last value
    let mut said: Vec<&str> = Vec::new();
    for (i, o) in out.iter().enumerate() {
        let twice = out.iter().skip(i + 1).any(|q| q.key == o.key);
        let directly = overrides.iter().filter(|x| x.key == o.key).count();
        let in_all = out.iter().filter(|q| q.key == o.key).count();
        if twice && directly < in_all && !said.contains(&o.key.as_str()) {
            said.push(&o.key);
            lw.push(
                Diagnostic::error(
                    "check::bad_override",
                    format!(
                        "`{} {}` is set twice: through a parameter group and again",
                        o.origin, o.key
                    ),
                )
                .help("set each parameter once: by its group, or by itself"),
            );
        }
    }
    out
}

fn apply_overrides(lw: &mut Lowerer<'_, '_>, overrides: &[Override]) {
    for o in overrides {
        let found = lw.params.iter().position(|p| p.name == o.key);
        let Some(i) = found else {
            if let Some(why) = lw.removed_param(&o.key) {
                lw.push(
                    Diagnostic::error(
                        "check::removed_param",
                        format!(
                            "`{} {}`: this criterion does not use `{}`",
                            o.origin, o.key, o.key
                        ),
                    )
                    .help(why),
                );
                continue;
            }
            let names: Vec<&str> = lw.params.iter().map(|p| p.name.as_str()).collect();
            // the same name in another case, or the only name that contains what was
            // written (`max_dex` for `trial.max_dex_for_response`), before spelling distance
            let key = o.key.to_lowercase();
            let containing: Vec<&str> = names
                .iter()
                .copied()
                .filter(|n| key.len() >= 3 && n.to_lowercase().contains(&key))
                .collect();
            let guess = names
                .iter()
                .copied()
                .find(|n| n.to_lowercase() == key)
                .or(match containing.as_slice() {
                    [only] => Some(*only),
                    _ => None,
                })
                .or_else(|| diag::closest(&o.key, names.iter().copied()));
            let help = match guess {
                Some(c) => {
                    format!("did you mean `{c}`? `irano-eval params RULES` lists the parameters")
                }
                None if (2..=4).contains(&containing.len()) => format!(
                    "did you mean one of {}? `irano-eval params RULES` lists the parameters",
                    diag::backticked(&containing, ", ")
                ),
                None => "`irano-eval params RULES` lists the parameters of a criterion".into(),
            };
            lw.push(
                Diagnostic::error(
                    "check::unknown_param",
                    format!(
                        "`{} {}`: there is no parameter `{}`",
                        o.origin, o.key, o.key
                    ),
                )
                .help(help),
            );
            continue;
        };
        let (ty, type_text, range) = match lw.params.get(i) {
            Some(p) => (p.ty, p.type_text.clone(), p.range),
            None => continue,
        };
        let parsed =
            lower::parse_override(&o.value, ty, &type_text, &lw.enums).and_then(|v| {
                match (program::Bound::literal_numbers(range), v) {
                    (Some((lo, hi)), Value::Num(x)) if x < lo || x > hi => Err(format!(
                        "it must be between {} and {} (inclusive), the parameter's declared range",
                        lower::show_in_type(lo, &type_text),
                        lower::show_in_type(hi, &type_text)
                    )),
                    _ => Ok(v),
                }
            });
        match parsed {
            Ok(v) => {
                if let Some(p) = lw.params.get_mut(i) {
                    p.value = v;
                    p.overridden = true;
                }
            }
            Err(why) => {
                let why = match other_unit_sibling(&lw.params, &o.key, ty, &o.value) {
                    Some(s) => format!("{why}; to count in {s}"),
                    None => why,
                };
                lw.push(
                    Diagnostic::error(
                        "check::bad_param_value",
                        format!(
                            "`{} {}={}`: `{}` is not a valid value for `{}` ({type_text})",
                            o.origin, o.key, o.value, o.value, o.key
                        ),
                    )
                    .help(why),
                );
            }
        }
    }
}

/// For a `--set` value in months given to a days parameter (or in days or weeks to a
/// months one): the parameter of the other unit with the same prefix, if the criterion has
/// one (`irano.confirm_days` / `irano.confirm_months`), as "calendar months use `--set ...`".
fn other_unit_sibling(params: &[ParamInfo], key: &str, ty: Ty, value: &str) -> Option<String> {
    use types::{Base, Unit};
    let unit = value
        .trim()
        .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c == ' ');
    let (want, what) = match ty.base {
        Base::Num(Unit::Days) if unit.starts_with("month") => (Unit::Months, "calendar months"),
        Base::Num(Unit::Months) if unit.starts_with("day") || unit.starts_with("week") => {
            (Unit::Days, "days or weeks")
        }
        _ => return None,
    };
    let prefix = key.rsplit_once('_').map(|(a, _)| a).unwrap_or(key);
    let sibling = params
        .iter()
        .find(|p| p.name != key && p.name.starts_with(prefix) && p.ty.base == Base::Num(want))?;
    Some(format!("{what} use `--set {}=...`", sibling.name))
}

/// A choice that selects a reading: parameter `Q` is one of these variants.
type Guard = (u32, Vec<u16>);

/// Where a parameter is read: for each reading, the choices that select it
/// (`match Q { v1 | v2 => ...P... }` reads P only when Q is v1 or v2).
fn param_guards(program: &Program) -> Vec<Vec<Vec<Guard>>> {
    fn visit(e: &Expr, guards: &mut Vec<Guard>, out: &mut Vec<Vec<Vec<Guard>>>) {
        if let ExprKind::Param(i) = e.kind {
            if let Some(o) = out.get_mut(i as usize) {
                o.push(guards.clone());
            }
        }
        if let ExprKind::Match {
            scrutinee,
            arms,
            default,
        } = &e.kind
        {
            if let ExprKind::Param(q) = scrutinee.kind {
                visit(scrutinee, guards, out);
                for (variants, arm) in arms {
                    guards.push((q, variants.clone()));
                    visit(arm, guards, out);
                    guards.pop();
                }
                if let Some(d) = default {
                    visit(d, guards, out);
                }
                return;
            }
        }
        // every other node: its children, with the same guards
        for c in e.children() {
            visit(c, guards, out);
        }
    }
    let mut out = vec![Vec::new(); program.params.len()];
    program.for_each_expr(&mut |e| {
        let mut guards = Vec::new();
        visit(e, &mut guards, &mut out);
    });
    out
}

/// A parameter the user changes (`--set`, or `override param` in the checked file) that
/// is read only under a choice the criterion does not make (`irano.confirm_days` while
/// `irano.confirm_interval` is not `fixed_days`) would change nothing: say which choice
/// selects it.
fn report_unselected_params(
    program: &Program,
    chain: &merge::Chain,
    merged: &merge::Merged<'_>,
    overrides: &[Override],
    diags: &mut Vec<Diagnostic>,
) {
    let guards = param_guards(program);
    let leaf = chain.files.len().saturating_sub(1);
    let sym = |q: u32| match program.params.get(q as usize).map(|p| p.value) {
        Some(Value::Sym(v)) => Some(v),
        _ => None,
    };
    for (i, p) in program.params.iter().enumerate() {
        let Some(readings) = guards.get(i) else {
            continue;
        };
        if readings.is_empty() {
            continue;
        }
        let selected = readings.iter().any(|gs| {
            gs.iter()
                .all(|(q, vs)| sym(*q).is_none_or(|v| vs.contains(&v)))
        });
        if selected {
            continue;
        }
        // the choices that would select it, from its first reading
        let Some(first) = readings.first() else {
            continue;
        };
        // the guards of that reading the current choices fail
        let unmet: Vec<_> = first
            .iter()
            .filter(|(q, vs)| sym(*q).is_some_and(|v| !vs.contains(&v)))
            .collect();
        let how: Vec<String> = unmet
            .iter()
            .filter_map(|(q, vs)| {
                let qp = program.params.get(*q as usize)?;
                let crate::types::Base::Enum(id) = qp.ty.base else {
                    return None;
                };
                let names: Vec<&str> = vs.iter().map(|v| program.enum_variant(id, *v)).collect();
                Some(format!("`{} = {}`", qp.name, names.join("` or `")))
            })
            .collect();
        let help = format!(
            "it is read only when {}; set that too",
            if how.is_empty() {
                "another choice is made".to_string()
            } else {
                how.join(" and ")
            }
        );
        if let Some(o) = overrides.iter().find(|o| o.key == p.name) {
            diags.push(
                Diagnostic::error(
                    "check::unselected_parameter",
                    format!(
                        "`{} {}={}` would change nothing under the criterion's current choices",
                        o.origin, o.key, o.value
                    ),
                )
                .help(help.clone()),
            );
        }
        let amended = merged
            .params
            .iter()
            .find(|m| m.decl.node.name.text == p.name)
            .filter(|m| usize::from(m.last.file) == leaf && m.last.node.is_override);
        // a choice this run's `--set` made, not the file: said so, since the file is right
        let set_here: Vec<String> = unmet
            .iter()
            .filter_map(|(q, _)| program.params.get(*q as usize))
            .filter(|qp| qp.overridden)
            .map(|qp| format!("`--set {}`", qp.name))
            .collect();
        if let Some(m) = amended {
            if let Some(f) = chain.files.get(leaf) {
                let (msg, help) = if set_here.is_empty() {
                    (
                        format!(
                            "`override param {}` changes nothing under the criterion's current choices",
                            p.name
                        ),
                        help,
                    )
                } else {
                    (
                        format!(
                            "`override param {}` changes nothing under this run's {}",
                            p.name,
                            set_here.join(" and ")
                        ),
                        format!("{help}; or drop that `--set` (in `diff`, `--set-old` / `--set-new` set one side only)"),
                    )
                };
                diags.push(
                    Diagnostic::error("check::unselected_parameter", msg)
                        .at(f, m.last.node.name.span)
                        .help(help),
                );
            }
        }
    }
}
