#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Every cell of the pyreadstat-written XPT fixtures (tests/sdtm/xpt/PROVENANCE.md) reads
//! as the text of the CSV it was written from.

use std::path::{Path, PathBuf};

use irano_sdtm::dataset::Dataset;

fn fx(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/sdtm")
        .join(path)
}

#[test]
fn xpt_cells_equal_the_csv_cells() {
    for (csv, xpt, domain) in [
        ("recist/tu_onco_recist.csv", "xpt/tu.xpt", "TU"),
        ("recist/tr_onco_recist.csv", "xpt/tr.xpt", "TR"),
    ] {
        let c = Dataset::read(&fx(csv), domain).unwrap();
        let x = Dataset::read(&fx(xpt), domain).unwrap();
        assert_eq!(c.rows.len(), x.rows.len(), "{xpt}");
        let header = std::fs::read_to_string(fx(csv)).unwrap();
        let columns: Vec<&str> = header.lines().next().unwrap().split(',').collect();
        assert!(columns.len() > 10);
        for (i, (rc, rx)) in c.rows.iter().zip(&x.rows).enumerate() {
            assert_eq!(rx.line, i + 1, "observation number is the row's line");
            for col in &columns {
                assert!(x.has(col), "{xpt} has {col}");
                assert_eq!(c.get(rc, col), x.get(rx, col), "{xpt} row {} {col}", i + 1);
            }
        }
    }
}
