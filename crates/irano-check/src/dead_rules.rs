//! Rules that can never fire: a rule whose condition is always false, whatever the case,
//! because a let it reads is now a constant (most often an amendment's
//! `override let NAME = false`). The rule stays in the criterion's map and in `show`, so a
//! reviewer would take it for active; the author is told to retire it with `remove rule`.

use std::sync::Arc;

use crate::diag::{self, Diagnostic};
use crate::program::{BinKind, Expr, ExprKind, LetInfo, Program, UnKind, Value};

/// Which list of lets a let is in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LetList {
    Scan,
    Summary,
}

struct Folder<'p> {
    p: &'p Program,
    /// Lets being folded (a cycle is not folded).
    open: Vec<(LetList, u32)>,
    /// Lets whose value folded to a constant on the way, in the order met.
    constant: Vec<(LetList, u32)>,
}

fn let_info(p: &Program, list: LetList, i: u32) -> Option<&LetInfo> {
    match list {
        LetList::Scan => p.lets.get(i as usize),
        LetList::Summary => p.summary_lets.get(i as usize),
    }
}

impl Folder<'_> {
    fn fold_let(&mut self, list: LetList, i: u32) -> Option<Value> {
        if self.open.contains(&(list, i)) {
            return None;
        }
        let p = self.p;
        let expr = &let_info(p, list, i)?.expr;
        self.open.push((list, i));
        let v = self.fold(expr);
        self.open.pop();
        if v.is_some() && !self.constant.contains(&(list, i)) {
            self.constant.push((list, i));
        }
        v
    }

    /// The value of `e` whatever the case, when it has one. Parameters are not constants
    /// (`--set` changes them), nor is anything read from the case or the state.
    fn fold(&mut self, e: &Expr) -> Option<Value> {
        match &e.kind {
            ExprKind::Const(v) => Some(*v),
            ExprKind::ScanLet(i, s) if matches!(s.kind, ExprKind::CurScan) => {
                self.fold_let(LetList::Scan, *i)
            }
            ExprKind::SummaryLet(i) => self.fold_let(LetList::Summary, *i),
            ExprKind::Unary(UnKind::Not, x) => match self.fold(x)? {
                Value::Bool(b) => Some(Value::Bool(!b)),
                _ => None,
            },
            ExprKind::Binary(op @ (BinKind::And | BinKind::Or), a, b) => {
                // `false and x` is false whatever x is (and `true or x` true): only the
                // side that decides keeps its constant lets, which the warning names
                let short = Value::Bool(*op == BinKind::Or);
                let start = self.constant.len();
                let fa = self.fold(a);
                if fa == Some(short) {
                    return fa;
                }
                let mid = self.constant.len();
                let fb = self.fold(b);
                if fb == Some(short) {
                    self.constant.drain(start..mid);
                    return fb;
                }
                fa.and(fb).map(|_| Value::Bool(*op != BinKind::Or))
            }
            ExprKind::If(c, t, f) => match self.fold(c)? {
                Value::Bool(true) => self.fold(t),
                Value::Bool(false) => self.fold(f),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Warns of every rule that can never fire because of a let the checked file (`leaf`) made
/// constant, at that let; and of a rule the checked file wrote whose own condition is
/// always false.
pub(crate) fn report(
    program: &Program,
    files: &[Arc<diag::SourceText>],
    leaf: u16,
    diags: &mut Vec<Diagnostic>,
) {
    let Some(file) = files.get(usize::from(leaf)) else {
        return;
    };
    let tables = program.tables.iter().chain(&program.summary_tables);
    for t in tables {
        for r in &t.rules {
            let Some(when) = &r.when else { continue };
            let mut f = Folder {
                p: program,
                open: Vec::new(),
                constant: Vec::new(),
            };
            if f.fold(when) != Some(Value::Bool(false)) {
                continue;
            }
            let mine: Vec<&LetInfo> = f
                .constant
                .iter()
                .filter_map(|&(list, i)| let_info(program, list, i))
                .filter(|l| l.src.file == leaf)
                .collect();
            let remove = format!(
                "if the protocol drops this rule, say so: `remove rule {} cite \"protocol section\"` inside `table {} {{ ... }}` (then `show` and `diff` show it gone); if the rule should still fire, give the let a value that depends on the scan",
                r.id, t.name
            );
            if let Some(l) = mine.first() {
                let also: Vec<String> = mine
                    .iter()
                    .skip(1)
                    .map(|l| format!("`{}`", l.name))
                    .collect();
                let also = if also.is_empty() {
                    String::new()
                } else {
                    format!(" (with {})", also.join(", "))
                };
                diags.push(
                    Diagnostic::warning(
                        "check::rule_never_fires",
                        format!(
                            "rule `{}` of table `{}` can never fire: `{}` is now a constant{also}, which makes its condition always false",
                            r.id, t.name, l.name
                        ),
                    )
                    .at(file, l.src.span)
                    .help(remove),
                );
            } else if r.src.file == leaf {
                diags.push(
                    Diagnostic::warning(
                        "check::rule_never_fires",
                        format!(
                            "rule `{}` of table `{}` can never fire: its condition is always false",
                            r.id, t.name
                        ),
                    )
                    .at(file, r.src.span)
                    .help("correct its `when` (a constant `false` in an `and` decides it), or delete the rule"),
                );
            }
        }
    }
}
