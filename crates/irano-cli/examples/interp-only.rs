//! Runs the interpreter alone (no trace) over a JSON Lines cohort, for profiling:
//! `cargo run --release -p irano-cli --example interp-only -- RULES COHORT [REPEAT]`.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(rules), Some(cohort)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: interp-only RULES COHORT [REPEAT]");
        std::process::exit(2);
    };
    let repeat: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let Some(program) = irano_check::check_path(std::path::Path::new(rules), &[], &[]).program
    else {
        eprintln!("{rules} does not check");
        std::process::exit(1);
    };
    let text = std::fs::read_to_string(cohort).unwrap_or_default();
    let Ok(cases) = irano_cases::read_str(&text, cohort, irano_cases::Format::JsonLines) else {
        eprintln!("{cohort} does not read");
        std::process::exit(1);
    };
    let mut ev = irano_evaluate::Evaluator::new(&program).with_trace(irano_evaluate::Trace::None);
    let t = std::time::Instant::now();
    let mut pd = 0usize;
    for _ in 0..repeat {
        for c in &cases {
            if let Ok(e) = ev.run(c) {
                pd += usize::from(e.pd_date.is_some());
            }
        }
    }
    println!("{pd} progressions, {:.3} s", t.elapsed().as_secs_f64());
}
