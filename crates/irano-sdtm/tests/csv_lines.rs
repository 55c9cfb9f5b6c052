#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! A CSV dataset's records are named by their line (the header is line 1), whatever the
//! line endings: Excel and SAS on Windows write CRLF, and the CSV reader's own count is one
//! short there. A quoted value holding a line break moves the later records down.

use irano_sdtm::Dataset;

fn lines(text: &str) -> Vec<usize> {
    let d = Dataset::from_csv(text.as_bytes(), "tr.csv", "TR").unwrap();
    d.rows.iter().map(|r| r.line).collect()
}

#[test]
fn records_are_numbered_by_line_with_lf_and_crlf_endings() {
    let lf = "STUDYID,USUBJID\nS,1\nS,2\n\"S\nX\",3\nS,4\n";
    assert_eq!(lines(lf), vec![2, 3, 4, 6]);
    assert_eq!(lines(&lf.replace('\n', "\r\n")), vec![2, 3, 4, 6]);
}
