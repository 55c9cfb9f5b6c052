//! A deterministic synthetic cohort in the contract's format (docs/case-format.md), one
//! case per line: ten assessments per patient (a pretreatment baseline and nine
//! follow-ups), a target, an automatically chosen and a non-target lesion, steroid
//! changes, clinical decline and, now and then, a new lesion. About 2.6 KB per patient.
//! Shared by the benchmark and `examples/make-cohort.rs`; nothing here is committed data.

use std::fmt::Write as _;

/// Xorshift: the same cohort on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn mm(tenths: i64) -> String {
    format!("{}.{}", tenths / 10, tenths % 10)
}

fn date(day: i64) -> String {
    // day 0 = 2025-01-06 = 2024-01-01 + 371; a plain Gregorian walk from 2024
    let mut y = 2024i64;
    let mut d = day + 371;
    loop {
        let len = if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
            366
        } else {
            365
        };
        if d < len {
            break;
        }
        d -= len;
        y += 1;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let months = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let mut m = 0;
    while let Some(&len) = months.get(m) {
        if d < len {
            break;
        }
        d -= len;
        m += 1;
    }
    format!("{y}-{:02}-{:02}", m + 1, d + 1)
}

/// Appends patient `i` as one JSON line (with its newline).
pub fn patient(out: &mut String, rng: &mut Rng, i: usize) {
    let mut t1 = 180 + rng.below(160) as i64; // tenths of mm
    let mut t1b = 140 + rng.below(60) as i64;
    let mut t2 = 100 + rng.below(60) as i64;
    let t2b = 100 + rng.below(20) as i64;
    let mut dose = [0, 2, 4, 8][rng.below(4) as usize];
    let _ = write!(
        out,
        r#"{{"patient":"SYN-{i:07}","setting":"recurrent","therapy_start":"2025-01-06","assessments":[{{"date":"{}","scan":"pretreatment","lesions":[{{"id":"T1","role":"target","component":"enhancing","d":[{},{}]}},{{"id":"T2","role":"auto","component":"enhancing","d":[{},{}]}},{{"id":"N1","role":"non_target","component":"enhancing","nt_status":"present"}}],"t2_flair":"stable","steroids":{{"dose_mg":{dose},"changed_on":"2024-12-01"}},"clinical":"stable"}}"#,
        date(-7),
        mm(t1),
        mm(t1b),
        mm(t2.max(t2b)),
        mm(t2.min(t2b)),
    );
    let mut new_lesion = false;
    for k in 1..=9i64 {
        let factor = [7, 8, 9, 10, 10, 10, 11, 12][rng.below(8) as usize];
        t1 = (t1 * factor / 10).max(0);
        t1b = (t1b * factor / 10).max(0);
        t2 = (t2 * [9, 10, 11][rng.below(3) as usize] / 10).max(0);
        let day = 56 * k + rng.below(7) as i64;
        let mut changed = "2024-12-01".to_string();
        if rng.below(6) == 0 {
            dose = [0, 2, 4, 8, 16][rng.below(5) as usize];
            changed = date(day - 3 - rng.below(20) as i64);
        }
        let clinical = match rng.below(12) {
            0 => r#""clinical":"worse","decline_cause":"comorbid""#,
            1 => r#""clinical":"worse","decline_cause":"tumour""#,
            2 => r#""clinical":"improved""#,
            _ => r#""clinical":"stable""#,
        };
        let flair = ["stable", "stable", "stable", "improved", "worse"][rng.below(5) as usize];
        let nt = ["present", "present", "present", "absent"][rng.below(4) as usize];
        let _ = write!(
            out,
            r#",{{"date":"{}","scan":"followup","lesions":[{{"id":"T1","d":[{},{}]}},{{"id":"T2","d":[{},{}]}},{{"id":"N1","nt_status":"{nt}"}}]"#,
            date(day),
            mm(t1.max(t1b)),
            mm(t1.min(t1b)),
            mm(t2.max(t2b)),
            mm(t2.min(t2b)),
        );
        if new_lesion || rng.below(25) == 0 {
            new_lesion = true;
            let _ = write!(
                out,
                r#","new_lesions":[{{"id":"X1","component":"enhancing","d":[{},{}]}}]"#,
                mm(100 + rng.below(50) as i64),
                mm(100)
            );
        }
        let _ = write!(
            out,
            r#","t2_flair":"{flair}","steroids":{{"dose_mg":{dose},"changed_on":"{changed}"}},{clinical}}}"#,
        );
    }
    out.push_str("]}\n");
}

/// The whole cohort of `patients` as JSON Lines text.
pub fn cohort(patients: usize) -> String {
    let mut rng = Rng::new(0x1234_5678_9abc_def1);
    let mut out = String::with_capacity(patients * 2700);
    for i in 0..patients {
        patient(&mut out, &mut rng, i);
    }
    out
}

/// Writes the cohort of `patients` to `w` without holding it in memory.
pub fn write_cohort(w: &mut impl std::io::Write, patients: usize) -> std::io::Result<()> {
    let mut rng = Rng::new(0x1234_5678_9abc_def1);
    let mut line = String::with_capacity(4096);
    for i in 0..patients {
        line.clear();
        patient(&mut line, &mut rng, i);
        w.write_all(line.as_bytes())?;
    }
    Ok(())
}
