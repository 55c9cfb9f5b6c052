use super::*;
use chrono::NaiveDate;
use irano_exact::Rational;

const EXAMPLE: &str = r#"patient: SUBJ-0042            # required, unique in a cohort
setting: recurrent            # recurrent | newly_diagnosed
therapy_start: 2025-03-03     # day 0 for every day count (immunotherapy start for iRANO, irRC)
chemoradiation_end: null      # last day of chemoradiation (newly diagnosed), else absent
assessments:                  # in date order; two assessments on one date is an error
  - date: 2025-02-24
    scan: pretreatment        # pretreatment | postop | post_rt | followup
    lesions:                  # lesions known at baseline; later scans repeat them by id
      - {id: T1, role: target, component: enhancing, d: [31.5, 22.0]}
      - {id: T2, role: auto, component: enhancing, d: [14.0, 11.0]}
      - {id: N1, role: non_target, component: enhancing, nt_status: present}
    t2_flair: stable
    steroids: {dose_mg: 1.5, changed_on: 2025-01-30}
    clinical: stable
  - date: 2025-04-28
    scan: followup
    lesions:
      - {id: T1, d: [25.0, 18.5]}
      - {id: T2, status: too_small}
      - {id: N1, nt_status: present}
    new_lesions:
      - {id: X1, component: enhancing, d: [11.0, 10.0]}
    t2_flair: stable
    steroids: {dose_mg: 4, changed_on: 2025-04-21}
    clinical: worse
    decline_cause: comorbid
"#;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn dec(s: &str) -> Rational {
    s.parse().unwrap()
}

fn errors(text: &str, format: Format) -> Vec<CaseError> {
    read_str(text, "t", format).unwrap_err()
}

#[test]
fn spec_example_reads_exactly() {
    let cases = read_str(EXAMPLE, "example.yaml", Format::Yaml).unwrap();
    assert_eq!(cases.len(), 1);
    let c = &cases[0];
    assert_eq!(c.patient, "SUBJ-0042");
    assert_eq!(c.setting, Setting::Recurrent);
    assert_eq!(c.therapy_start, date(2025, 3, 3));
    assert_eq!(c.chemoradiation_end, None);
    assert_eq!(
        c.origin,
        Origin {
            file: "example.yaml".into(),
            line: 1
        }
    );
    assert_eq!(c.lesions.len(), 4);
    let ids: Vec<_> = c.lesions.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, ["T1", "T2", "N1", "X1"]);
    assert_eq!(c.lesions[0].role, Some(Role::Target));
    assert_eq!(c.lesions[1].role, Some(Role::Auto));
    assert_eq!(c.lesions[2].role, Some(Role::NonTarget));
    assert_eq!(c.lesions[3].role, None);
    assert!(c.lesions[3].is_new);
    assert_eq!(c.lesions[3].first_seen, 1);
    assert_eq!(c.lesions[0].first_seen, 0);
    assert_eq!(c.lesions[3].component, Some(Component::Enhancing));

    let a0 = &c.assessments[0];
    assert_eq!(a0.line, 6);
    assert_eq!(a0.scan, ScanKind::Pretreatment);
    assert!(a0.evaluable);
    assert!(!a0.unscheduled && !a0.symptom_driven);
    let t1 = &a0.lesions[0];
    assert_eq!(t1.lesion, 0);
    let [d0, d1] = t1.d.unwrap();
    assert_eq!(d0, Rational::new(63, 2).unwrap());
    assert_eq!(d1, dec("22"));
    assert_eq!(a0.lesions[2].nt_status, Some(NtStatus::Present));
    assert_eq!(
        a0.steroids,
        Some(Steroids {
            dose_mg: dec("1.5"),
            changed_on: Some(date(2025, 1, 30)),
            replacement: None
        })
    );
    assert_eq!(a0.t2_flair, Some(Trend::Stable));

    let a1 = &c.assessments[1];
    assert_eq!(a1.line, 15);
    assert_eq!(a1.date, date(2025, 4, 28));
    assert_eq!(a1.lesions[0].d, Some([dec("25.0"), dec("18.5")]));
    assert_eq!(a1.lesions[1].status, Some(MeasureStatus::TooSmall));
    assert_eq!(a1.lesions[1].lesion, 1);
    assert_eq!(a1.new_lesions.len(), 1);
    assert_eq!(a1.new_lesions[0].lesion, 3);
    assert_eq!(a1.new_lesions[0].d, Some([dec("11"), dec("10")]));
    assert_eq!(a1.clinical, Some(Trend::Worse));
    assert_eq!(a1.decline_cause, Some(DeclineCause::Comorbid));
    assert_eq!(a1.steroids.as_ref().unwrap().dose_mg, dec("4"));
}

#[test]
fn json_reads_like_yaml() {
    let json = r#"{"patient": "P1", "setting": "newly_diagnosed", "therapy_start": "2025-03-03",
 "chemoradiation_end": "2025-02-01",
 "assessments": [
  {"date": "2025-02-24", "scan": "post_rt", "lesions": [{"id": "T1", "role": "target", "ld": 31.5, "organ": "brain"}],
   "irae_grade": 0, "evaluable": true, "unscheduled": false},
  {"date": "2025-04-28", "scan": "followup", "lesions": [{"id": "T1", "ld": 0.1}], "irae_grade": 5,
   "steroids": {"dose_mg": 0.75, "replacement": true}}
 ]}"#;
    let cases = read_str(json, "p1.json", Format::Json).unwrap();
    let c = &cases[0];
    assert_eq!(c.setting, Setting::NewlyDiagnosed);
    assert_eq!(c.chemoradiation_end, Some(date(2025, 2, 1)));
    assert_eq!(c.lesions[0].organ.as_deref(), Some("brain"));
    assert_eq!(
        c.assessments[0].lesions[0].ld,
        Some(Rational::new(63, 2).unwrap())
    );
    assert_eq!(
        c.assessments[1].lesions[0].ld,
        Some(Rational::new(1, 10).unwrap())
    );
    assert_eq!(c.assessments[1].irae_grade, Some(5));
    assert_eq!(
        c.assessments[1].steroids.as_ref().unwrap().replacement,
        Some(true)
    );
    assert_eq!(c.assessments[1].line, 6);
}

#[test]
fn baseline_lesion_may_be_missing_later() {
    let text = "patient: P\nsetting: recurrent\ntherapy_start: 2025-01-01\nassessments:\n  - {date: 2024-12-20, scan: pretreatment, lesions: [{id: A, role: target, d: [10, 10]}, {id: B, role: auto, ld: 12}]}\n  - {date: 2025-02-20, scan: followup, lesions: [{id: B, ld: 11}]}\n";
    let c = &read_str(text, "t", Format::Yaml).unwrap()[0];
    assert_eq!(c.assessments[1].lesions.len(), 1);
    assert_eq!(c.assessments[1].lesions[0].lesion, 1);
}

#[test]
fn every_error_of_a_file_is_reported() {
    let text = "patient: P\nsetting: recurent\ntherapy_start: 2025-02-30\nassessments:\n  - {date: 2025-01-01, scan: followup, lesions: [{id: A, d: [-1, 2]}]}\n";
    let errs = errors(text, Format::Yaml);
    let codes: Vec<_> = errs.iter().map(|e| e.code()).collect();
    assert_eq!(
        codes,
        [
            "case::unknown_value",
            "case::bad_date",
            "case::no_baseline_scan"
        ]
    );
    assert_eq!((errs[0].line(), errs[0].column()), (2, 10));
    assert_eq!(
        errs[0].help(),
        "did you mean `recurrent`? allowed values: `recurrent`, `newly_diagnosed`"
    );
    assert_eq!(
        errs[1].message(),
        "`2025-02-30` is not a real date: February 2025 has 28 days"
    );
    assert_eq!(errs[2].file(), "t");
}

#[test]
fn quoted_number_is_a_string() {
    let text = r#"{"patient": "P", "setting": "recurrent", "therapy_start": "2025-01-01",
"assessments": [{"date": "2025-01-01", "scan": "pretreatment", "lesions": [{"id": "A", "role": "target", "ld": "12.5"}]}]}"#;
    let errs = errors(text, Format::Json);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].code(), "case::wrong_type");
    let line2 = text.lines().nth(1).unwrap();
    let col = line2.find("\"12.5\"").unwrap() + 1;
    assert_eq!((errs[0].line(), errs[0].column()), (2, col));
}

#[test]
fn role_only_at_first_appearance() {
    let text = "patient: P\nsetting: recurrent\ntherapy_start: 2025-01-01\nassessments:\n  - {date: 2024-12-20, scan: pretreatment, lesions: [{id: A, d: [10, 10]}]}\n  - {date: 2025-02-20, scan: followup, lesions: [{id: A, role: target, ld: 11}]}\n";
    let errs = errors(text, Format::Yaml);
    let codes: Vec<_> = errs.iter().map(|e| e.code()).collect();
    assert_eq!(codes, ["case::missing_field", "case::fixed_attribute"]);
}

#[test]
fn baseline_and_new_ids_do_not_mix() {
    let text = "patient: P\nsetting: recurrent\ntherapy_start: 2025-01-01\nassessments:\n  - {date: 2024-12-20, scan: pretreatment, lesions: [{id: A, role: target, d: [10, 10]}]}\n  - {date: 2025-02-20, scan: followup, new_lesions: [{id: A, ld: 11}, {id: X, ld: 3}, {id: X, ld: 4}]}\n  - {date: 2025-03-20, scan: followup, lesions: [{id: X, ld: 11}]}\n";
    let errs = errors(text, Format::Yaml);
    let codes: Vec<_> = errs.iter().map(|e| e.code()).collect();
    assert_eq!(
        codes,
        [
            "case::lesion_kind_conflict",
            "case::duplicate_lesion",
            "case::lesion_kind_conflict"
        ]
    );
}

#[test]
fn duplicate_patients_in_a_list() {
    let text = "- {patient: P, setting: recurrent, therapy_start: 2025-01-01, assessments: [{date: 2025-01-01, scan: pretreatment}]}\n- {patient: P, setting: recurrent, therapy_start: 2025-01-01, assessments: [{date: 2025-01-01, scan: pretreatment}]}\n";
    let errs = errors(text, Format::Yaml);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].code(), "case::duplicate_patient");
    assert_eq!(errs[0].line(), 2);
}

#[test]
fn never_panics_on_odd_input() {
    for text in [
        "", "---", "[", "{", "- - - -", "a: [1, 2", "\"", "patient: [", "? [a]\n: b",
        "&a [*a]", "*x", "\u{feff}", "patient: P\nassessments: {}", "[1, 2]", "null",
        "patient: P\nsetting: recurrent\ntherapy_start: 2025-01-01\nassessments:\n - date: 2025-01-01\n   scan: followup\n   lesions: [{id: [1]}, {id: {a: b}}, 3, {id: Z, d: 4}]\n",
        "patient: P\nsetting: recurrent\ntherapy_start: 2025-01-01\nassessments: [{date: 1, scan: 2, steroids: 3, irae_grade: -1, evaluable: yes, lesions: 5, new_lesions: [{id: N, role: auto}]}]",
    ] {
        for f in [Format::Yaml, Format::Json, Format::JsonLines] {
            let _ = read_str(text, "t", f);
        }
    }
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    for f in [Format::Yaml, Format::Json, Format::JsonLines] {
        let errs = read_str(&deep, "t", f).unwrap_err();
        assert_eq!(errs[0].code(), "case::too_deep");
    }
}

#[test]
fn jsonl_line_numbers() {
    let ok = r#"{"patient": "P1", "setting": "recurrent", "therapy_start": "2025-01-01", "assessments": [{"date": "2025-01-01", "scan": "pretreatment"}]}"#;
    let text = format!(
        "{ok}\n\n{}\n",
        ok.replace("P1", "P2")
            .replace("pretreatment", "pretreatmnt")
    );
    let errs = errors(&text, Format::JsonLines);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].line(), 3);
    let cases = read_str(
        &format!("{ok}\r\n\r\n{}\r\n", ok.replace("P1", "P2")),
        "t",
        Format::JsonLines,
    )
    .unwrap();
    assert_eq!(cases[1].origin.line, 3);
}

#[test]
fn yaml_duplicate_keys_and_aliases() {
    let text = "patient: P\npatient: Q\nsetting: recurrent\ntherapy_start: 2025-01-01\nassessments: [{date: 2025-01-01, scan: pretreatment}]\n";
    let errs = errors(text, Format::Yaml);
    assert_eq!(errs[0].code(), "case::duplicate_field");
    assert_eq!(errs[0].line(), 2);
    let text = "patient: &p P\nx-copy: *p\n";
    assert_eq!(errors(text, Format::Yaml)[0].code(), "case::alias");
}

#[test]
fn multibyte_columns_are_in_characters() {
    let text = "patient: é\nsetting: récurrent\n";
    let errs = errors(text, Format::Yaml);
    let e = errs
        .iter()
        .find(|e| e.code() == "case::unknown_value")
        .unwrap();
    assert_eq!((e.line(), e.column()), (2, 10));
}

#[test]
fn empty_files_are_errors_but_empty_lists_are_not() {
    assert_eq!(errors("# nothing\n", Format::Yaml)[0].code(), "case::empty");
    assert_eq!(errors("\n\n", Format::JsonLines)[0].code(), "case::empty");
    assert_eq!(read_str("[]", "t", Format::Json).unwrap().len(), 0);
}

/// A case whose baseline scan (line 5) lists `n` non-targets `L0`, `L1`, ... from line 8.
fn baseline_with_non_targets(n: usize) -> String {
    let mut text = String::from(
        "patient: P\nsetting: recurrent\ntherapy_start: 2025-01-01\nassessments:\n  - date: 2024-12-20\n    scan: pretreatment\n    lesions:\n",
    );
    for i in 0..n {
        text.push_str(&format!(
            "      - {{id: L{i}, role: non_target, nt_status: present}}\n"
        ));
    }
    text
}

/// A lesion listed twice on one assessment is found whether the assessment lists few
/// lesions or many (past the short list, ids go to a hash map).
#[test]
fn a_lesion_listed_twice_is_found_in_long_lists() {
    for n in [3usize, 32, 33, 80] {
        let mut text = baseline_with_non_targets(n);
        // the last one repeats the second
        text.push_str("      - {id: L1, role: non_target, nt_status: present}\n");
        let errs = errors(&text, Format::Yaml);
        let codes: Vec<_> = errs.iter().map(|e| e.code()).collect();
        assert_eq!(codes, ["case::duplicate_lesion"], "{n} lesions");
        assert_eq!(errs[0].line(), 8 + n, "{n} lesions");
        assert!(errs[0].to_string().contains("`L1`"), "{}", errs[0]);
        assert!(errs[0].help().contains("line 9"), "{}", errs[0].help());
    }
}

/// Lesions declared at baseline are found again on later scans by id, however many there are.
#[test]
fn many_lesions_are_found_again_by_id() {
    for n in [3usize, 33, 80] {
        let mut text = baseline_with_non_targets(n);
        text.push_str("  - date: 2025-02-20\n    scan: followup\n    lesions:\n");
        for i in (0..n).rev() {
            text.push_str(&format!("      - {{id: L{i}, nt_status: present}}\n"));
        }
        text.push_str("      - {id: Z9, nt_status: present}\n");
        let errs = errors(&text, Format::Yaml);
        let codes: Vec<_> = errs.iter().map(|e| e.code()).collect();
        assert_eq!(codes.len(), 1, "{n} lesions: {codes:?}");
        assert!(errs[0].to_string().contains("`Z9`"), "{}", errs[0]);
    }
}

#[test]
fn sniff_tells_json_from_yaml_in_flow_style() {
    assert_eq!(sniff(b"{\"patient\": \"P1\"}\n"), Format::JsonLines);
    assert_eq!(sniff(b"{\n  \"patient\": \"P1\""), Format::Json);
    assert_eq!(sniff(b"[{\"patient\": \"P1\"}]"), Format::Json);
    assert_eq!(sniff(b"[]"), Format::Json);
    assert_eq!(sniff(b"{}\n"), Format::JsonLines);
    // JSON quotes its keys: these are YAML written in flow style
    assert_eq!(sniff(b"{patient: P1, setting: recurrent}\n"), Format::Yaml);
    assert_eq!(sniff(b"[{patient: P1}]"), Format::Yaml);
    assert_eq!(sniff(b"patient: P1\n"), Format::Yaml);
}

/// A lesion keyed in cm is one measured at a seventh or less of its length before and
/// after: exactly a seventh counts, a hair over does not (the comparison is exact).
#[test]
fn a_lesion_at_exactly_a_seventh_of_its_neighbours_looks_like_cm() {
    let case_with = |middle: &str| {
        let text = format!(
            "patient: CM\nsetting: recurrent\ntherapy_start: 2025-01-06\nassessments:\n  - {{date: 2025-01-02, scan: pretreatment, lesions: [{{id: T1, role: target, d: [21, 7]}}]}}\n  - {{date: 2025-03-03, scan: followup, lesions: [{{id: T1, d: [{middle}, 1]}}]}}\n  - {{date: 2025-05-05, scan: followup, lesions: [{{id: T1, d: [21, 7]}}]}}\n"
        );
        let cases = read_str(&text, "cm.yaml", Format::Yaml).unwrap();
        lesions_look_like_cm(&cases[0])
    };
    let hit = case_with("3");
    assert_eq!(hit.len(), 1, "{hit:?}");
    assert_eq!(hit[0].2, dec("3"));
    assert!(case_with("3.0000000001").is_empty());
    // a fraction whose scaled products need 128 bits still compares exactly
    assert_eq!(case_with("2.99999999999999999").len(), 1);
}
