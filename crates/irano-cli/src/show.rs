//! `irano-eval show RULES`: the map of a criterion. Every parameter, definition, state
//! variable, table and rule of the merged criterion, in evaluation order, each with its
//! type, doc line, citation and the file:line it comes from, marking what each file after
//! the root added, overrode or removed. What an amendment author reads to find the name
//! to override.

use std::fmt::Write as _;

use irano_check::program::{
    AssignInfo, Change, ChangeKind, Expr, LetInfo, Program, RuleInfo, Table, Target,
};
use serde_json::{json, Value as Json};

/// One line of source text: whitespace runs folded to one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn expr_text(p: &Program, e: &Expr) -> String {
    one_line(p.text_of(e.src))
}

/// `[+ id]`, `[~ id at FILE:LINE]` or `[- id]`: which file added, overrode (and where) or
/// removed a declaration.
fn mark(p: &Program, c: Option<&Change>) -> String {
    match c {
        Some(c) => {
            let who = p
                .lineage
                .get(usize::from(c.src.file))
                .map(String::as_str)
                .unwrap_or("?");
            let sign = match c.action {
                ChangeKind::Added => '+',
                ChangeKind::Overridden => '~',
                ChangeKind::Removed => '-',
            };
            // an override is written elsewhere than the declaration the line shows: say where
            if c.action == ChangeKind::Overridden {
                format!("  [{sign} {who} at {}]", p.place(c.src))
            } else {
                format!("  [{sign} {who}]")
            }
        }
        None => String::new(),
    }
}

fn change_json(p: &Program, c: Option<&Change>) -> Json {
    match c {
        Some(c) => json!({
            "action": match c.action {
                ChangeKind::Added => "added",
                ChangeKind::Overridden => "overridden",
                ChangeKind::Removed => "removed",
            },
            "by": p.lineage.get(usize::from(c.src.file)),
            "at": p.place(c.src),
        }),
        None => Json::Null,
    }
}

fn assign_text(p: &Program, a: &AssignInfo) -> String {
    let target = match a.target {
        Target::Response => "response".to_string(),
        Target::Decision => "decision".to_string(),
        Target::BestOverallResponse => "best_overall_response".to_string(),
        Target::FinalDecision => "final_decision".to_string(),
        Target::State(i) => format!(
            "set {}",
            p.states
                .get(i as usize)
                .map(|s| s.name.as_str())
                .unwrap_or("?")
        ),
    };
    format!("{target} = {}", expr_text(p, &a.value))
}

fn rule_json(p: &Program, r: &RuleInfo) -> Json {
    json!({
        "id": r.id,
        "when": r.when.as_ref().map(|w| expr_text(p, w)),
        "then": r.assigns.iter().map(|a| assign_text(p, a)).collect::<Vec<_>>(),
        "cite": r.cite,
        "because": r.because,
        "at": p.place(r.src),
        "change": change_json(p, p.change_of("rule", &r.id)),
    })
}

fn let_json(p: &Program, l: &LetInfo) -> Json {
    json!({
        "name": l.name,
        "type": p.type_name(l.expr.ty),
        "value": one_line(p.text_of(l.value_src)),
        "doc": l.doc,
        "cite": l.cite,
        "reads_state": l.reads_state,
        "at": p.place(l.src),
        "change": change_json(p, let_change(p, l)),
    })
}

fn tables_json(p: &Program, tables: &[Table]) -> Json {
    Json::Array(
        tables
            .iter()
            .map(|t| {
                json!({
                    "table": t.name,
                    "rules": t.rules.iter().map(|r| rule_json(p, r)).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

/// The map as JSON.
pub fn map_json(p: &Program) -> Json {
    let ordered = |order: &[u32], lets: &[LetInfo]| -> Vec<Json> {
        order
            .iter()
            .filter_map(|&i| lets.get(i as usize))
            .map(|l| let_json(p, l))
            .collect()
    };
    json!({
        "id": p.id,
        "version": p.version,
        "title": p.title,
        "cite": p.cite,
        "files": p.sources.iter().zip(&p.lineage).map(|(f, id)| json!({"file": f.name, "id": id})).collect::<Vec<_>>(),
        "parameters": p.params.iter().map(|x| json!({
            "name": x.name,
            "type": x.type_text,
            "default": p.param_text(x, x.default),
            "value": p.param_text(x, x.value),
            "range": p.range_text(x).map(|(lo, hi)| [lo, hi]),
            "doc": x.doc,
            "cite": x.cite,
            "at": p.place(x.src),
            "change": change_json(p, p.change_of("param", &x.name)),
        })).collect::<Vec<_>>(),
        "parameter_groups": p.param_groups.iter().map(|g| json!({
            "name": g.name,
            "unit": g.unit,
            "members": p.param_group_members(g),
            "doc": g.doc,
            "cite": g.cite,
            "at": p.place(g.src),
        })).collect::<Vec<_>>(),
        "baseline": {"expr": expr_text(p, &p.baseline), "cite": p.baseline_cite, "change": change_json(p, p.change_of("baseline", ""))},
        "targets": {"cite": p.targets.cite, "at": p.place(p.targets.src), "change": change_json(p, p.change_of("targets", ""))},
        "lesion_lets": p.lesion_lets.iter().map(|l| let_json(p, l)).collect::<Vec<_>>(),
        "lets": ordered(&p.let_order, &p.lets),
        "defs": p.defs.iter().map(|d| json!({
            "name": d.name, "signature": d.signature, "summary": d.in_summary,
            "value": one_line(p.text_of(d.body_src)), "doc": d.doc, "cite": d.cite,
            "at": p.place(d.src), "change": change_json(p, p.change_of("def", &d.name)),
        })).collect::<Vec<_>>(),
        "state": p.states.iter().map(|s| json!({
            "name": s.name, "type": p.type_name(s.ty), "initial": expr_text(p, &s.initial),
        })).collect::<Vec<_>>(),
        "shows": p.shows.iter().map(|s| json!({"name": s.name, "expr": expr_text(p, &s.expr)})).collect::<Vec<_>>(),
        "tables": tables_json(p, &p.tables),
        "stop_grading": p.stop.as_ref().map(|s| json!({"when": expr_text(p, &s.when), "because": s.because, "cite": s.cite})),
        "skip_grading": p.skip.as_ref().map(|s| json!({"when": expr_text(p, &s.when), "because": s.because, "cite": s.cite})),
        "warnings": p.warnings.iter().map(|w| json!({
            "id": w.id, "when": expr_text(p, &w.when), "because": w.because, "cite": w.cite,
            "at": p.place(w.src), "change": change_json(p, p.change_of("warn", &w.id)),
        })).collect::<Vec<_>>(),
        "summary": {
            "lets": ordered(&p.summary_let_order, &p.summary_lets),
            "tables": tables_json(p, &p.summary_tables),
        },
        "removed": p.changes.iter().filter(|c| c.action == ChangeKind::Removed).map(|c| json!({
            "kind": c.kind, "name": c.name, "by": p.lineage.get(usize::from(c.src.file)), "at": p.place(c.src),
        })).collect::<Vec<_>>(),
    })
}

/// The change a later file made to the let `l`; a lesion let is declared `lesion.NAME`.
fn let_change<'p>(p: &'p Program, l: &LetInfo) -> Option<&'p Change> {
    if p.lesion_lets.iter().any(|x| std::ptr::eq(x, l)) {
        p.change_of("let", &format!("lesion.{}", l.name))
    } else {
        p.change_of("let", &l.name)
    }
}

fn write_let(out: &mut String, p: &Program, l: &LetInfo) {
    let _ = writeln!(
        out,
        "  {} : {}    {}{}",
        l.name,
        p.type_name(l.expr.ty),
        p.place(l.src),
        mark(p, let_change(p, l))
    );
    if !l.doc.is_empty() {
        let _ = writeln!(out, "      {}", l.doc);
    }
    let _ = writeln!(out, "      = {}", one_line(p.text_of(l.value_src)));
    if !l.cite.is_empty() {
        let _ = writeln!(out, "      source: {}", l.cite);
    }
}

fn write_tables(out: &mut String, p: &Program, tables: &[Table]) {
    for t in tables {
        let _ = writeln!(out, "  table {}", t.name);
        for (i, r) in t.rules.iter().enumerate() {
            let _ = writeln!(
                out,
                "    {}. {}    {}{}",
                i + 1,
                r.id,
                p.place(r.src),
                mark(p, p.change_of("rule", &r.id))
            );
            match &r.when {
                Some(w) => {
                    let _ = writeln!(out, "        when {}", expr_text(p, w));
                }
                None => {
                    let _ = writeln!(out, "        otherwise");
                }
            }
            let then: Vec<String> = r.assigns.iter().map(|a| assign_text(p, a)).collect();
            let _ = writeln!(out, "        then {}", then.join(", "));
            if let Some(b) = &r.because {
                let _ = writeln!(out, "        because: {b}");
            }
            let _ = writeln!(out, "        source: {}", r.cite);
        }
    }
}

/// The map as text.
pub fn map_text(p: &Program) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", crate::render::heading(p));
    let _ = writeln!(out, "source: {}", p.cite);
    let _ = writeln!(out, "files, root first:");
    for (f, id) in p.sources.iter().zip(&p.lineage) {
        let _ = writeln!(out, "  {id}  {}", f.name);
    }
    let _ = writeln!(
        out,
        "marks: [+ id] added by that file, [~ id at FILE:LINE] overridden by it there, [- id] removed by it\n"
    );

    let _ = writeln!(
        out,
        "PARAMETERS (irano-eval eval --set NAME=VALUE; an amendment: override param NAME = VALUE)"
    );
    for x in &p.params {
        let range = match p.range_text(x) {
            Some((lo, hi)) => format!("  range {lo} to {hi}"),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "  {} : {} = {}{range}    {}{}",
            x.name,
            x.type_text,
            p.param_text(x, x.default),
            p.place(x.src),
            mark(p, p.change_of("param", &x.name))
        );
        if !x.doc.is_empty() {
            let _ = writeln!(out, "      {}", x.doc);
        }
        let _ = writeln!(out, "      source: {}", x.cite);
    }

    for g in &p.param_groups {
        let _ = writeln!(
            out,
            "  group {}    {}",
            p.param_group_text(g),
            p.place(g.src)
        );
        if !g.doc.is_empty() {
            let _ = writeln!(out, "      {}", g.doc);
        }
        let _ = writeln!(out, "      source: {}", g.cite);
    }

    let _ = writeln!(out, "\nBASELINE{}", mark(p, p.change_of("baseline", "")));
    let _ = writeln!(out, "  = {}", expr_text(p, &p.baseline));
    let _ = writeln!(out, "  source: {}", p.baseline_cite);
    let _ = writeln!(
        out,
        "\nTARGETS    {}{}",
        p.place(p.targets.src),
        mark(p, p.change_of("targets", ""))
    );
    let _ = writeln!(out, "  candidate: {}", expr_text(p, &p.targets.candidate));
    let rank: Vec<String> = p
        .targets
        .rank
        .iter()
        .map(|(k, desc)| format!("{} {}", expr_text(p, k), if *desc { "desc" } else { "asc" }))
        .collect();
    let _ = writeln!(out, "  rank: {}", rank.join(", "));
    let _ = writeln!(out, "  max: {}", expr_text(p, &p.targets.max));
    for (k, m) in &p.targets.max_per {
        let _ = writeln!(out, "  max_per {}: {}", expr_text(p, k), expr_text(p, m));
    }
    if let Some(e) = &p.targets.eligible {
        let _ = writeln!(out, "  eligible: {}", expr_text(p, e));
    }
    let _ = writeln!(out, "  source: {}", p.targets.cite);

    let _ = writeln!(out, "\nLESION LETS (read as l.NAME)");
    for l in &p.lesion_lets {
        write_let(&mut out, p, l);
    }
    let _ = writeln!(
        out,
        "\nLETS (computed on every scan in this order; an amendment: override let NAME = ...)"
    );
    for l in p.let_order.iter().filter_map(|&i| p.lets.get(i as usize)) {
        write_let(&mut out, p, l);
    }
    let _ = writeln!(
        out,
        "\nDEFS (helper functions; an amendment: override def NAME(...) = ...)"
    );
    for d in &p.defs {
        let _ = writeln!(
            out,
            "  {}{}{}    {}{}",
            if d.in_summary { "summary " } else { "" },
            d.name,
            d.signature,
            p.place(d.src),
            mark(p, p.change_of("def", &d.name))
        );
        if !d.doc.is_empty() {
            let _ = writeln!(out, "      {}", d.doc);
        }
        let _ = writeln!(out, "      = {}", one_line(p.text_of(d.body_src)));
        if !d.cite.is_empty() {
            let _ = writeln!(out, "      source: {}", d.cite);
        }
    }
    let _ = writeln!(out, "\nSTATE (lives across the scans of a case)");
    for s in &p.states {
        let _ = writeln!(
            out,
            "  {} : {} = {}",
            s.name,
            p.type_name(s.ty),
            expr_text(p, &s.initial)
        );
    }
    let _ = writeln!(out, "\nSHOWN VALUES (table columns, JSON values)");
    let units = irano_evaluate::units(p);
    for s in &p.shows {
        let unit = units
            .iter()
            .find(|(name, _)| *name == s.name)
            .map(|(_, u)| format!("  (in {u})"))
            .unwrap_or_default();
        let _ = writeln!(out, "  {} = {}{unit}", s.name, expr_text(p, &s.expr));
    }
    let _ = writeln!(
        out,
        "\nTABLES (run on every follow-up scan in this order; in each, the first rule that holds fires)"
    );
    if let Some(s) = &p.skip {
        let _ = writeln!(
            out,
            "\nSKIP GRADING when {} (tested before the tables; a skipped scan is not graded)",
            expr_text(p, &s.when)
        );
        let _ = writeln!(out, "  because: {}\n  source: {}", s.because, s.cite);
    }
    write_tables(&mut out, p, &p.tables);
    if let Some(s) = &p.stop {
        let _ = writeln!(out, "\nSTOP GRADING when {}", expr_text(p, &s.when));
        let _ = writeln!(out, "  because: {}\n  source: {}", s.because, s.cite);
    }
    let _ = writeln!(out, "\nSUMMARY (runs once, after the last scan)");
    for l in p
        .summary_let_order
        .iter()
        .filter_map(|&i| p.summary_lets.get(i as usize))
    {
        write_let(&mut out, p, l);
    }
    write_tables(&mut out, p, &p.summary_tables);
    if !p.warnings.is_empty() {
        let _ = writeln!(
            out,
            "\nWARNINGS (tested once per case after the summary; they change no result; an amendment: override warn ID when ...)"
        );
        for w in &p.warnings {
            let _ = writeln!(
                out,
                "  {}    {}{}",
                w.id,
                p.place(w.src),
                mark(p, p.change_of("warn", &w.id))
            );
            let _ = writeln!(out, "      when {}", one_line(&expr_text(p, &w.when)));
            let _ = writeln!(
                out,
                "      because: {}\n      source: {}",
                w.because, w.cite
            );
        }
    }
    let removed: Vec<&Change> = p.changes.iter().filter(|c| p.still_removed(c)).collect();
    if !removed.is_empty() {
        let _ = writeln!(out, "\nREMOVED");
        for c in removed {
            let _ = writeln!(
                out,
                "  {} {}    {}{}",
                c.kind,
                c.name,
                p.place(c.src),
                mark(p, Some(c))
            );
        }
    }
    out
}
