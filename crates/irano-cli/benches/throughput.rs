//! Throughput of reading and evaluating a cohort: `cargo bench -p irano-cli`.
//!
//! A deterministic synthetic cohort (JSON Lines, 9 scans per patient, two lesions, one
//! chosen automatically) is read once and evaluated with every shipped criterion. Prints
//! patients per second for reading and for each criterion. Speed is checked here, never in
//! timed tests. Set `IRANO_BENCH_PATIENTS` to change the cohort size (default 20000).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

fn cohort(patients: usize) -> String {
    let mut seed: u64 = 0x1234_5678_9abc_def1;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut out = String::new();
    for i in 0..patients {
        let mut d1 = 200 + (next() % 100) as i64; // tenths of mm
        let d2 = 150 + (next() % 50) as i64;
        let _ = write!(
            out,
            r#"{{"patient":"P{i}","setting":"recurrent","therapy_start":"2025-01-06","assessments":[{{"date":"2024-12-30","scan":"pretreatment","lesions":[{{"id":"T1","role":"target","component":"enhancing","d":[{}.{},{}.{}]}},{{"id":"T2","role":"auto","component":"enhancing","d":[12.0,11.0]}}],"t2_flair":"stable","steroids":{{"dose_mg":2,"changed_on":"2024-12-01"}},"clinical":"stable"}}"#,
            d1 / 10,
            d1 % 10,
            d2 / 10,
            d2 % 10
        );
        for k in 1..=8u32 {
            let factor = [8, 9, 10, 11, 12, 13][(next() % 6) as usize];
            d1 = (d1 * factor) / 10;
            let month = 1 + (2 * k) % 12;
            let year = 2025 + (2 * k) / 12;
            let _ = write!(
                out,
                r#",{{"date":"{year}-{month:02}-{:02}","scan":"followup","lesions":[{{"id":"T1","d":[{}.{},{}.{}]}},{{"id":"T2","d":[12.0,11.0]}}],"t2_flair":"stable","steroids":{{"dose_mg":2,"changed_on":"2024-12-01"}},"clinical":"stable"}}"#,
                10 + k,
                d1 / 10,
                d1 % 10,
                d2 / 10,
                d2 % 10
            );
        }
        out.push_str("]}\n");
    }
    out
}

fn main() {
    let patients: usize = std::env::var("IRANO_BENCH_PATIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let text = cohort(patients);
    let t = Instant::now();
    let cases = match irano_cases::read_str(&text, "cohort.jsonl", irano_cases::Format::JsonLines) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("the synthetic cohort does not read: {}", e.len());
            std::process::exit(1);
        }
    };
    let secs = t.elapsed().as_secs_f64();
    println!(
        "read      {:>8} patients  {:>8.3} s  {:>10.0} patients/s  ({} MB of JSON Lines)",
        cases.len(),
        secs,
        cases.len() as f64 / secs,
        text.len() / 1_000_000
    );
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    let mut files: Vec<_> = std::fs::read_dir(&rules)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p: &std::path::PathBuf| p.extension().is_some_and(|x| x == "rano"));
    files.sort();
    for f in files {
        let Some(program) = irano_check::check_path(&f, &[], &[]).program else {
            continue; // an overlay
        };
        let mut ev = irano_evaluate::Evaluator::new(&program);
        let t = Instant::now();
        let mut responses = 0usize;
        for c in &cases {
            match ev.evaluate(c) {
                Ok(r) => {
                    responses += r
                        .assessments
                        .iter()
                        .filter(|a| a.response.is_some())
                        .count()
                }
                Err(e) => {
                    eprintln!("{}: {}", program.id, e.message);
                    std::process::exit(1);
                }
            }
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "{:<15} {:>6} patients  {:>8.3} s  {:>10.0} patients/s  ({responses} graded scans)",
            program.id,
            cases.len(),
            secs,
            cases.len() as f64 / secs
        );
    }
}
