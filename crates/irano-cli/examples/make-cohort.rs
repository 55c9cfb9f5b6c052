//! Writes a synthetic JSON Lines cohort for measurements (never committed):
//! `cargo run --release -p irano-cli --example make-cohort -- PATIENTS FILE`.

#[path = "../benches/support/cohort.rs"]
#[allow(dead_code)]
mod cohort;

use std::io::Write as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(n), Some(path)) = (args.first().and_then(|n| n.parse().ok()), args.get(1)) else {
        eprintln!("usage: make-cohort PATIENTS FILE");
        return ExitCode::from(2);
    };
    let written = std::fs::File::create(path).and_then(|f| {
        let mut w = std::io::BufWriter::new(f);
        cohort::write_cohort(&mut w, n)?;
        w.flush()
    });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("make-cohort: {path}: {e}");
            ExitCode::from(1)
        }
    }
}
