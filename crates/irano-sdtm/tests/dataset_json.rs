#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Dataset-JSON values read as CSV and XPT give them: a whole number written `2.0` is `2`
//! (a VISITNUM is written back into RS as read), other numbers keep their digits.

use irano_sdtm::Dataset;

#[test]
fn whole_numbers_read_as_csv_gives_them() {
    let json = r#"{"columns": [{"name": "VISITNUM"}, {"name": "TRSTRESN"}, {"name": "TRSTRESC"}],
                   "rows": [[2.0, 12.5, "12.5"], [3, 0.0, " 7 "]]}"#;
    let d = Dataset::from_json(json.as_bytes(), "tr.json", "TR").unwrap();
    let cells: Vec<Vec<&str>> = d
        .rows
        .iter()
        .map(|r| {
            ["VISITNUM", "TRSTRESN", "TRSTRESC"]
                .iter()
                .map(|c| d.get(r, c))
                .collect()
        })
        .collect();
    assert_eq!(cells, vec![vec!["2", "12.5", "12.5"], vec!["3", "0", "7"]]);
}
