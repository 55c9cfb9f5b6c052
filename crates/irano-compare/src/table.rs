//! Aligned text columns (two spaces apart, lines without trailing blanks).

use std::fmt::Write as _;

/// Writes `rows` as aligned columns; the columns in `right` are right-aligned (numbers).
/// `widths` gives minimum widths (e.g. for a group header above); it may be shorter than
/// a row.
pub(crate) fn write_rows(
    out: &mut String,
    rows: &[Vec<String>],
    right: &[usize],
    widths: &[usize],
) {
    let widths = column_widths(rows, widths);
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let w = widths.get(i).copied().unwrap_or(0);
            if i + 1 == row.len() && !right.contains(&i) {
                line.push_str(cell);
            } else if right.contains(&i) {
                let _ = write!(line, "{cell:>w$}  ");
            } else {
                let _ = write!(line, "{cell:<w$}  ");
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

/// The width of every column: its widest cell, at least `min`.
pub(crate) fn column_widths(rows: &[Vec<String>], min: &[usize]) -> Vec<usize> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths: Vec<usize> = (0..cols)
        .map(|i| min.get(i).copied().unwrap_or(0))
        .collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    widths
}
