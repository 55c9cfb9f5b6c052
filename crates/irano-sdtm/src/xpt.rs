//! A reader for SAS transport files, version 5 (the format FDA submissions use), after
//! SAS's "Record Layout of a SAS Version 5 or 6 Data Set in SAS Transport (XPORT)
//! Format" (TS-140).
//!
//! The file is a run of 80-byte records: a library header (three records), then per
//! member a member header, a descriptor header, two member records, a NAMESTR header
//! that gives the number of variables, one 140-byte NAMESTR per variable (padded to a
//! record boundary), an OBS header, and the observations, back to back, padded with
//! blanks to a record boundary. Only the first member is read.
//!
//! Character values are trimmed of trailing blanks. Numbers are IBM/370 hexadecimal
//! floating point (2 to 8 bytes, truncated ones padded with zeros), converted to the
//! nearest `f64` and written as the shortest decimal text that reads back to it. SAS
//! missing values (`.`, `.A`-`.Z`, `._`) read as "".

const RECORD: usize = 80;
const HEADER: &[u8] = b"HEADER RECORD*******";
const NAMESTR_LEN: usize = 140;

/// A problem, at a byte offset in the file (and an observation, when in one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XptError {
    pub message: String,
    pub offset: usize,
    pub observation: Option<usize>,
}

/// The first member: its variable names (in file order) and its observations as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub names: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

struct Var {
    name: String,
    numeric: bool,
    pos: usize,
    len: usize,
}

fn err(offset: usize, message: impl Into<String>) -> XptError {
    XptError {
        message: message.into(),
        offset,
        observation: None,
    }
}

/// The 80-byte record at `offset`.
fn record<'a>(bytes: &'a [u8], offset: usize, what: &str) -> Result<&'a [u8], XptError> {
    bytes
        .get(offset..offset + RECORD)
        .ok_or_else(|| err(offset, format!("the file ends where the {what} should be")))
}

/// Checks that the record at `offset` is the header record `kind` (e.g. `LIBRARY`).
fn header<'a>(bytes: &'a [u8], offset: usize, kind: &str) -> Result<&'a [u8], XptError> {
    let rec = record(bytes, offset, &format!("{kind} header record"))?;
    let name = rec.get(HEADER.len()..HEADER.len() + 8).unwrap_or_default();
    if !rec.starts_with(HEADER) || name != format!("{kind:<8}").as_bytes() {
        return Err(err(
            offset,
            format!("expected the {kind} header record, found `{}`", text(rec)),
        ));
    }
    Ok(rec)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .trim_end_matches([' ', '\0'])
        .to_string()
}

fn be16(b: &[u8], at: usize) -> usize {
    match b.get(at..at + 2) {
        Some(&[x, y]) => usize::from(u16::from_be_bytes([x, y])),
        _ => 0,
    }
}

fn be32(b: &[u8], at: usize) -> usize {
    match b.get(at..at + 4) {
        Some(&[a, c, d, e]) => usize::try_from(u32::from_be_bytes([a, c, d, e])).unwrap_or(0),
        _ => 0,
    }
}

/// Reads the first member of a version 5 transport file.
pub fn read(bytes: &[u8]) -> Result<Member, XptError> {
    header(bytes, 0, "LIBRARY").map_err(|e| {
        err(
            e.offset,
            format!("not a SAS transport (XPT v5) file: {}", e.message),
        )
    })?;
    let mut at = 3 * RECORD;
    let member = header(bytes, at, "MEMBER")?;
    // Bytes 75-77 of the member header: the NAMESTR length (140; 136 on VAX/VMS).
    let nlen: usize = text(member.get(74..78).unwrap_or_default())
        .trim()
        .parse()
        .unwrap_or(0);
    if nlen != NAMESTR_LEN && nlen != 136 {
        return Err(err(
            at,
            format!("NAMESTR length `{nlen}` is neither 140 nor 136"),
        ));
    }
    at += RECORD;
    header(bytes, at, "DSCRPTR")?;
    at += RECORD;
    record(bytes, at, "first member record")?;
    record(bytes, at + RECORD, "second member record")?;
    at += 2 * RECORD;
    let names_hdr = header(bytes, at, "NAMESTR")?;
    let count: usize = text(names_hdr.get(54..58).unwrap_or_default())
        .trim()
        .parse()
        .map_err(|_| {
            err(
                at,
                "the NAMESTR header does not give the number of variables",
            )
        })?;
    at += RECORD;
    let mut vars = Vec::with_capacity(count);
    for i in 0..count {
        let off = at + i * nlen;
        let ns = bytes.get(off..off + nlen).ok_or_else(|| {
            err(
                off,
                format!("the file ends inside variable {} of {count}", i + 1),
            )
        })?;
        let numeric = match be16(ns, 0) {
            1 => true,
            2 => false,
            t => {
                return Err(err(
                    off,
                    format!("variable {} has type {t} (not 1 or 2)", i + 1),
                ))
            }
        };
        let len = be16(ns, 4);
        let name = text(ns.get(8..16).unwrap_or_default()).trim().to_string();
        let pos = be32(ns, 84);
        let ok_len = if numeric {
            (2..=8).contains(&len)
        } else {
            len >= 1
        };
        if !ok_len || name.is_empty() {
            return Err(err(
                off,
                format!("variable {} (`{name}`) has length {len}", i + 1),
            ));
        }
        vars.push(Var {
            name,
            numeric,
            pos,
            len,
        });
    }
    at += (count * nlen).div_ceil(RECORD) * RECORD;
    header(bytes, at, "OBS")?;
    at += RECORD;

    let width: usize = vars.iter().map(|v| v.len).sum();
    if let Some(v) = vars.iter().find(|v| v.pos + v.len > width) {
        return Err(err(
            at,
            format!(
                "variable `{}` lies outside the observation ({width} bytes)",
                v.name
            ),
        ));
    }
    // The observations run to the next member's header or to the end of the file.
    let mut end = at;
    while end < bytes.len() {
        let rest = bytes.get(end..).unwrap_or_default();
        if rest.starts_with(HEADER) && rest.get(20..28) == Some(b"MEMBER  ".as_slice()) {
            break;
        }
        end += RECORD;
    }
    let end = end.min(bytes.len());
    if !(end - at).is_multiple_of(RECORD) {
        return Err(err(
            end,
            "the file ends inside an 80-byte record (truncated?)",
        ));
    }
    let mut rows = Vec::new();
    if width == 0 {
        return Ok(Member {
            names: vars.into_iter().map(|v| v.name).collect(),
            rows,
        });
    }
    let mut off = at;
    while off + width <= end {
        let obs = bytes.get(off..off + width).unwrap_or_default();
        // Blanks in the last record past the last observation are padding.
        if end - off < RECORD && obs.iter().all(|&b| b == b' ') {
            break;
        }
        let mut cells = Vec::with_capacity(vars.len());
        for v in &vars {
            let raw = obs.get(v.pos..v.pos + v.len).unwrap_or_default();
            let cell = if v.numeric {
                number(raw)
            } else {
                text(raw).trim().to_string()
            };
            cells.push(cell);
        }
        rows.push(cells);
        off += width;
    }
    if bytes
        .get(off..end)
        .is_some_and(|r| r.iter().any(|&b| b != b' '))
    {
        return Err(XptError {
            message: format!(
                "{} bytes after the last whole observation are not blank padding (truncated?)",
                end - off
            ),
            offset: off,
            observation: Some(rows.len() + 1),
        });
    }
    Ok(Member {
        names: vars.into_iter().map(|v| v.name).collect(),
        rows,
    })
}

/// An IBM/370 hexadecimal floating-point number (2 to 8 bytes, big-endian) as the
/// shortest decimal text of the nearest `f64`; "" for a SAS missing value.
pub fn number(raw: &[u8]) -> String {
    let mut b = [0u8; 8];
    for (d, s) in b.iter_mut().zip(raw) {
        *d = *s;
    }
    let first = b[0];
    if b[1..].iter().all(|&x| x == 0)
        && (first == b'.' || first.is_ascii_uppercase() || first == b'_')
    {
        return String::new();
    }
    let negative = first & 0x80 != 0;
    let exponent = i32::from(first & 0x7f) - 64;
    let fraction = u64::from_be_bytes([0, b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    if fraction == 0 {
        return "0".to_string();
    }
    // value = fraction / 2^56 * 16^exponent; `as f64` rounds the 56-bit fraction to
    // nearest-even, and scaling by a power of two is exact (2^-312 to 2^196).
    #[allow(clippy::cast_precision_loss)]
    let v = fraction as f64 * pow2(4 * exponent - 56);
    let v = if negative { -v } else { v };
    format!("{v}")
}

fn pow2(k: i32) -> f64 {
    // k is within [-312, 196], a normal f64 exponent.
    let biased = u64::try_from(k + 1023).unwrap_or(0);
    f64::from_bits(biased << 52)
}

#[cfg(test)]
mod tests {
    use super::number;

    #[test]
    fn ibm_numbers() {
        // 1.0 = 0x41 10 00.. ; 100 = 0x42 64 00..; -2.5 = 0xC1 28 00..; 0.1 (truncated)
        assert_eq!(number(&[0x41, 0x10, 0, 0, 0, 0, 0, 0]), "1");
        assert_eq!(number(&[0x42, 0x64, 0, 0, 0, 0, 0, 0]), "100");
        assert_eq!(number(&[0xC1, 0x28, 0, 0, 0, 0, 0, 0]), "-2.5");
        assert_eq!(
            number(&[0x40, 0x19, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9A]),
            "0.1"
        );
        assert_eq!(number(&[0x42, 0x20, 0x52]), "32.3203125");
        assert_eq!(number(&[0, 0, 0, 0, 0, 0, 0, 0]), "0");
        assert_eq!(number(&[b'.', 0, 0, 0, 0, 0, 0, 0]), "");
        assert_eq!(number(&[b'A', 0, 0, 0, 0, 0, 0, 0]), "");
        assert_eq!(number(&[b'_', 0, 0, 0, 0, 0, 0, 0]), "");
        assert_eq!(number(&[0x48, 0x01, 0, 0, 0, 0, 0, 0]), "16777216");
    }
}
