//! Reading one SDTM dataset (CSV, CDISC Dataset-JSON 1.1, or SAS transport version 5)
//! into text cells.
//!
//! Every value is kept as the text the file holds (numbers stay exact decimals); an
//! empty cell and a missing column both read as "".

use std::collections::HashMap;
use std::path::Path;

use crate::diag::{Location, SdtmDiagnostic};

/// One dataset: its columns and its records.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The file as given.
    pub file: String,
    /// `TU`, `TR`, `RS`, `DM`, `EX`, `CM`.
    pub domain: String,
    columns: HashMap<String, usize>,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone)]
pub struct Row {
    /// 1-based line in a CSV file (the header is line 1), row number in Dataset-JSON,
    /// observation number in a SAS transport file.
    pub line: usize,
    cells: Vec<String>,
}

impl Dataset {
    /// Reads `path` as the `domain` dataset: Dataset-JSON when it ends in `.json`, SAS
    /// transport (version 5) when it ends in `.xpt`, else CSV.
    pub fn read(path: &Path, domain: &str) -> Result<Dataset, SdtmDiagnostic> {
        let file = path.display().to_string();
        let loc = Location {
            file: file.clone(),
            domain: domain.to_string(),
            ..Location::default()
        };
        let bytes = std::fs::read(path).map_err(|e| {
            SdtmDiagnostic::error(
                "sdtm::io",
                format!("cannot read the {domain} dataset `{file}`: {e}"),
                "check that the file exists and is readable",
            )
            .at(loc.clone())
        })?;
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default()
            .to_ascii_lowercase();
        match ext.as_str() {
            "json" => Self::from_json(&bytes, &file, domain),
            "xpt" => Self::from_xpt(&bytes, &file, domain),
            _ => Self::from_csv(&bytes, &file, domain),
        }
    }

    /// Reads the first member of a SAS transport file, version 5 (see [`crate::xpt`]).
    /// Numbers become the shortest decimal text of their value, SAS missing values "".
    pub fn from_xpt(bytes: &[u8], file: &str, domain: &str) -> Result<Dataset, SdtmDiagnostic> {
        let member = crate::xpt::read(bytes).map_err(|e| {
            let obs = e
                .observation
                .map(|o| format!(" (observation {o})"))
                .unwrap_or_default();
            SdtmDiagnostic::error(
                "sdtm::xpt",
                format!(
                    "`{file}` is not a readable SAS transport (XPT version 5) file: {} at byte {}{obs}",
                    e.message, e.offset
                ),
                "write the dataset as SAS transport version 5 (e.g. PROC COPY to an XPORT libname, pyreadstat.write_xport(..., file_format_version=5))",
            )
            .at(Location {
                file: file.to_string(),
                domain: domain.to_string(),
                line: e.observation,
                ..Location::default()
            })
        })?;
        let columns = index_columns(member.names.into_iter()).map_err(|c| {
            SdtmDiagnostic::error(
                "sdtm::xpt",
                format!("`{file}`: column `{c}` appears twice"),
                "give every variable its own name",
            )
            .at(Location {
                file: file.to_string(),
                domain: domain.to_string(),
                ..Location::default()
            })
        })?;
        let rows = member
            .rows
            .into_iter()
            .enumerate()
            .map(|(i, cells)| Row { line: i + 1, cells })
            .collect();
        Ok(Dataset {
            file: file.to_string(),
            domain: domain.to_string(),
            columns,
            rows,
        })
    }

    /// Reads CSV text (a header line, then one record per line; RFC 4180 quoting).
    pub fn from_csv(bytes: &[u8], file: &str, domain: &str) -> Result<Dataset, SdtmDiagnostic> {
        let loc = Location {
            file: file.to_string(),
            domain: domain.to_string(),
            ..Location::default()
        };
        let bad = |line: Option<u64>, e: &dyn std::fmt::Display| {
            SdtmDiagnostic::error(
                "sdtm::csv",
                format!("`{file}` is not readable CSV: {e}"),
                "save the dataset as comma-separated UTF-8 text with one header line",
            )
            .at(Location {
                line: line.and_then(|l| usize::try_from(l).ok()),
                ..loc.clone()
            })
        };
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(bytes);
        let headers = rdr.headers().map_err(|e| bad(Some(1), &e))?.clone();
        let columns = index_columns(headers.iter().map(str::to_string))
            .map_err(|c| bad(Some(1), &format!("column `{c}` appears twice")))?;
        let mut rows = Vec::new();
        // the line of a record, counted from the bytes (the csv reader's own count is one
        // short on CRLF files): newlines before it, counted on from the last record
        let mut counted = (0usize, 1usize);
        let mut line_at = |byte: u64| -> usize {
            let mut end = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
            // on CRLF text the reader places a record at the `\n` ending the line before
            while matches!(bytes.get(end), Some(b'\n' | b'\r')) {
                end += 1;
            }
            let (from, line) = counted;
            let more = bytes
                .get(from.min(end)..end)
                .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count());
            counted = (end.max(from), line + more);
            counted.1
        };
        for rec in rdr.records() {
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map(|p| line_at(p.byte()) as u64);
                    return Err(bad(line, &e));
                }
            };
            let line = rec.position().map_or(0, |p| line_at(p.byte()));
            rows.push(Row {
                line,
                cells: rec.iter().map(|c| c.trim().to_string()).collect(),
            });
        }
        Ok(Dataset {
            file: file.to_string(),
            domain: domain.to_string(),
            columns,
            rows,
        })
    }

    /// Reads CDISC Dataset-JSON 1.1: `columns` (each with a `name`) and `rows` (arrays of
    /// values in column order). Numbers are kept as the text the file holds.
    pub fn from_json(bytes: &[u8], file: &str, domain: &str) -> Result<Dataset, SdtmDiagnostic> {
        let loc = Location {
            file: file.to_string(),
            domain: domain.to_string(),
            ..Location::default()
        };
        let bad = |msg: String| {
            SdtmDiagnostic::error(
                "sdtm::dataset_json",
                format!("`{file}` is not CDISC Dataset-JSON 1.1: {msg}"),
                "write an object with `columns` (a list of {\"name\": ...}) and `rows` (a list of value lists)",
            )
            .at(loc.clone())
        };
        let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        let cols = v
            .get("columns")
            .and_then(|c| c.as_array())
            .ok_or_else(|| bad("no `columns` list".into()))?;
        let mut names = Vec::new();
        for c in cols {
            let n = c
                .get("name")
                .and_then(|n| n.as_str())
                .ok_or_else(|| bad("a column has no `name`".into()))?;
            names.push(n.to_string());
        }
        let width = names.len();
        let columns = index_columns(names.into_iter())
            .map_err(|c| bad(format!("column `{c}` appears twice")))?;
        let mut rows = Vec::new();
        let empty = Vec::new();
        let data = match v.get("rows") {
            Some(r) => r
                .as_array()
                .ok_or_else(|| bad("`rows` is not a list".into()))?,
            None => &empty,
        };
        for (i, r) in data.iter().enumerate() {
            let cells = r
                .as_array()
                .ok_or_else(|| bad(format!("row {} is not a list", i + 1)))?;
            if cells.len() != width {
                return Err(bad(format!(
                    "row {} has {} values for {width} columns",
                    i + 1,
                    cells.len()
                )));
            }
            rows.push(Row {
                line: i + 1,
                cells: cells
                    .iter()
                    .map(|c| match c {
                        serde_json::Value::Null => String::new(),
                        serde_json::Value::String(s) => s.trim().to_string(),
                        // a whole number written `2.0` reads `2`, as CSV and XPT give it
                        // (a VISITNUM is written back as read)
                        serde_json::Value::Number(n) => {
                            let t = n.to_string();
                            match t.strip_suffix(".0") {
                                Some(whole) => whole.to_string(),
                                None => t,
                            }
                        }
                        other => other.to_string(),
                    })
                    .collect(),
            });
        }
        Ok(Dataset {
            file: file.to_string(),
            domain: domain.to_string(),
            columns,
            rows,
        })
    }

    pub fn has(&self, column: &str) -> bool {
        self.columns.contains_key(column)
    }

    /// The cell, "" when empty or when the column is absent.
    pub fn get<'a>(&self, row: &'a Row, column: &str) -> &'a str {
        self.columns
            .get(column)
            .and_then(|&i| row.cells.get(i))
            .map_or("", String::as_str)
    }

    /// Where `row` (and `column`) is, for a diagnostic.
    pub fn at(&self, row: &Row, column: Option<&str>) -> Location {
        let seq = self.get(row, &format!("{}SEQ", self.domain));
        Location {
            file: self.file.clone(),
            domain: self.domain.clone(),
            line: Some(row.line),
            seq: (!seq.is_empty()).then(|| seq.to_string()),
            column: column.map(str::to_string),
        }
    }

    /// The dataset as a whole (e.g. a missing column).
    pub fn whole(&self, column: Option<&str>) -> Location {
        Location {
            file: self.file.clone(),
            domain: self.domain.clone(),
            line: Some(1),
            seq: None,
            column: column.map(str::to_string),
        }
    }

    /// Checks that every column in `required` exists; one diagnostic per missing column.
    pub fn require(&self, required: &[&str], out: &mut Vec<SdtmDiagnostic>) -> bool {
        // one column whose name holds `;` (or a tab): the file is not comma-separated, and
        // every required column would be reported missing
        if let [only] = self.columns.keys().collect::<Vec<_>>().as_slice() {
            if let Some(sep) = [';', '\t'].into_iter().find(|c| only.contains(*c)) {
                let name = if sep == ';' { "semicolons" } else { "tabs" };
                out.push(
                    SdtmDiagnostic::error(
                        "sdtm::not_comma_separated",
                        format!("the {} dataset's header is one column holding {name}: the file is not comma-separated", self.domain),
                        "save the dataset as CSV with commas between the fields (or as Dataset-JSON or SAS transport)",
                    )
                    .at(self.whole(None)),
                );
                return false;
            }
        }
        let mut ok = true;
        for c in required {
            if !self.has(c) {
                ok = false;
                // a column of the file that is not itself required, spelt close to it
                let near = irano_check::diag::closest(
                    c,
                    self.columns
                        .keys()
                        .map(String::as_str)
                        .filter(|k| !required.contains(k)),
                );
                let help = match near {
                    Some(n) => format!(
                        "did you mean `{n}`? rename it to `{c}` (SDTM {} domain), or add the `{c}` column",
                        self.domain
                    ),
                    None => format!("add the `{c}` column (SDTM {} domain)", self.domain),
                };
                out.push(
                    SdtmDiagnostic::error(
                        "sdtm::missing_column",
                        format!("the {} dataset has no column `{c}`", self.domain),
                        help,
                    )
                    .at(self.whole(Some(c))),
                );
            }
        }
        ok
    }
}

fn index_columns(names: impl Iterator<Item = String>) -> Result<HashMap<String, usize>, String> {
    let mut m = HashMap::new();
    for (i, n) in names.enumerate() {
        let key = n.trim().to_ascii_uppercase();
        if m.insert(key.clone(), i).is_some() {
            return Err(key);
        }
    }
    Ok(m)
}
