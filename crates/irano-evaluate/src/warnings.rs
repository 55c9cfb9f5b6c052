//! Warnings about a case, the same wherever it is evaluated (`eval`, `test`): slips in the
//! input (a follow-up dated before therapy, lengths that look like cm) and what evaluation
//! showed the criterion did with it (fields it never read, targets it followed as marked,
//! measurements it could not find). None changes a result; each says what was read.

use irano_cases::Case;
use irano_check::Diagnostic;

use crate::{CaseResult, Evaluator};

/// Every warning about one case: those of its input, then those of its evaluations (each
/// result with the evaluator that gave it, e.g. under an old and a new criterion); a
/// warning that two evaluations give alike is given once.
pub fn for_case(case: &Case, evaluated: &[(&Evaluator<'_>, &CaseResult)]) -> Vec<Diagnostic> {
    let mut all = input(case);
    // a warning that several criteria give alike (naming each its own id) is said once,
    // under the first, with the others named after it
    let mut alike: Vec<(usize, String, Vec<String>)> = Vec::new();
    for (ev, r) in evaluated {
        let id = r.criterion.id.as_str();
        for w in after_evaluation(ev, case, r) {
            let key = w.message.replacen(id, "\u{0}", 1);
            if all
                .iter()
                .any(|x| x.code == w.code && x.message == w.message)
            {
                continue;
            }
            match alike
                .iter_mut()
                .find(|(i, k, _)| *k == key && all.get(*i).is_some_and(|x| x.code == w.code))
            {
                Some((_, _, others)) => {
                    if !others.iter().any(|o| o == id) {
                        others.push(id.to_string());
                    }
                }
                None => {
                    alike.push((all.len(), key, Vec::new()));
                    all.push(w);
                }
            }
        }
    }
    for (i, _, others) in alike {
        if let (Some(w), false) = (all.get_mut(i), others.is_empty()) {
            w.message = format!("{} (likewise under {})", w.message, others.join(", "));
        }
    }
    all
}

/// Warnings about the case as written, before it is evaluated.
pub fn input(case: &Case) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for a in case
        .assessments
        .iter()
        .filter(|a| a.scan == irano_cases::ScanKind::Followup && a.date < case.therapy_start)
    {
        out.push(
            Diagnostic::warning(
                "eval::followup_before_therapy",
                format!(
                    "{}:{}: patient `{}`: the follow-up scan of {} is dated before therapy_start ({}); it is graded as a follow-up",
                    case.origin.file, a.line, case.patient, a.date, case.therapy_start
                ),
            )
            .help("if the scan was taken before treatment, give it `scan: pretreatment` (it can then be the baseline); otherwise correct the date"),
        );
    }
    for a in case
        .assessments
        .iter()
        .filter(|a| a.scan == irano_cases::ScanKind::Pretreatment && a.date > case.therapy_start)
    {
        out.push(
            Diagnostic::warning(
                "eval::pretreatment_after_therapy",
                format!(
                    "{}:{}: patient `{}`: the scan of {} is `scan: pretreatment` but dated after therapy_start ({}); criteria differ on such a scan (some grade it as a follow-up, some do not grade it)",
                    case.origin.file, a.line, case.patient, a.date, case.therapy_start
                ),
            )
            .help("if the scan was taken on treatment, give it `scan: followup`; otherwise correct its date or therapy_start"),
        );
    }
    out.extend(contradictions(case));
    // the whole case in cm, else one scan of it
    match irano_cases::lengths_look_like_cm(case) {
        Some(largest) => out.push(
            Diagnostic::warning(
                "eval::lengths_look_like_cm",
                format!(
                    "{}:{}: patient `{}`: every lesion length is below {} mm (the largest is {largest} mm); lengths are read in mm",
                    case.origin.file, case.origin.line, case.patient, irano_cases::LENGTH_SANITY_MM
                ),
            )
            .help("if they were measured in cm, multiply them by 10 (1.5 cm is 15); a case may give lengths in mm only"),
        ),
        None => {
            let scans = irano_cases::scans_look_like_cm(case);
            for (i, l, x, before, after) in irano_cases::lesions_look_like_cm(case) {
                let (Some(a), Some(lesion)) = (case.assessments.get(i), case.lesions.get(l)) else {
                    continue;
                };
                if scans.iter().any(|s| s.0 == i) {
                    continue;
                }
                out.push(
                    Diagnostic::warning(
                        "eval::lesion_length_looks_like_cm",
                        format!(
                            "{}:{}: patient `{}`: lesion `{}` measures {x} mm on the scan of {}, a seventh or less of its length on the scans before ({before} mm) and after ({after} mm); lengths are read in mm",
                            case.origin.file, a.line, case.patient, lesion.id, a.date
                        ),
                    )
                    .help("if that measurement was keyed in cm, multiply it by 10 (4.5 cm is 45); read as given, the lesion shrank and regrew tenfold"),
                );
            }
            for (i, largest, before) in scans {
                let Some(a) = case.assessments.get(i) else {
                    continue;
                };
                out.push(
                    Diagnostic::warning(
                        "eval::scan_lengths_look_like_cm",
                        format!(
                            "{}:{}: patient `{}`: every lesion length of the scan of {} is below {} mm (the largest is {largest} mm), though its lesions measured up to {before} mm before; lengths are read in mm",
                            case.origin.file, a.line, case.patient, a.date, irano_cases::LENGTH_SANITY_MM
                        ),
                    )
                    .help("if that scan was measured in cm, multiply its lengths by 10 (1.4 cm is 14); read as given, it is a deep response and the next scan a tenfold growth"),
                );
            }
        }
    }
    locate(case, out)
}

/// Gives each warning the file and line its message begins with (`FILE:LINE: ...`), so
/// that `--error-format json` carries them in fields of their own.
fn locate(case: &Case, out: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let file: &str = &case.origin.file;
    out.into_iter()
        .map(|d| {
            let line = d
                .message
                .strip_prefix(file)
                .and_then(|rest| rest.strip_prefix(':'))
                .and_then(|rest| rest.split_once(':'))
                .and_then(|(n, _)| n.parse::<usize>().ok());
            match line {
                Some(line) if d.location.is_none() => d.at_line(file, line),
                _ => d,
            }
        })
        .collect()
}

/// Fields of one scan that contradict each other: which one a criterion reads is the
/// criterion's business, so the case should say one thing.
fn contradictions(case: &Case) -> Vec<Diagnostic> {
    use irano_cases::{MeasureStatus, Trend};
    let mut out = Vec::new();
    let at = |line: usize| format!("{}:{line}: patient `{}`", case.origin.file, case.patient);
    // per lesion: the date it was last listed not gone, until a scan leaves it out (said once)
    let mut new_lesion_seen: Vec<Option<chrono::NaiveDate>> = vec![None; case.lesions.len()];
    for a in &case.assessments {
        for (k, seen) in new_lesion_seen.iter_mut().enumerate() {
            let Some(last) = *seen else { continue };
            // (a scan not evaluable lists nothing: said of the next one that is)
            if a.scan == irano_cases::ScanKind::Followup
                && a.evaluable
                && !a
                    .new_lesions
                    .iter()
                    .chain(&a.lesions)
                    .any(|o| o.lesion == k)
            {
                let id = case.lesions.get(k).map_or("?", |l| l.id.as_str());
                out.push(
                    Diagnostic::warning(
                        "eval::new_lesion_not_listed",
                        format!(
                            "{}: new lesion `{id}`, listed on {last} and not as gone, is not listed on the scan of {}: the case format reads it as not assessed there, and a criterion may read it as gone instead (its parameters say which: `irano-eval params RULES`)",
                            at(a.line), a.date
                        ),
                    )
                    .help("list a new lesion on every later scan: measured, `status: absent` once gone, or `status: not_assessed`"),
                );
                *seen = None;
            }
        }
        for o in &a.new_lesions {
            if let Some(seen) = new_lesion_seen.get_mut(o.lesion) {
                *seen = (o.status != Some(MeasureStatus::Absent)
                    && !o.d.is_some_and(|d| d.iter().all(|x| x.is_zero())))
                .then_some(a.date);
            }
        }
        if !a.evaluable {
            // the followed lesions only: a new lesion on a scan not evaluable is read by some
            // criteria (the scan that first showed it)
            let measured: Vec<String> = a
                .lesions
                .iter()
                .filter(|o| gives_measurement(o))
                .map(|o| {
                    format!(
                        "`{}`",
                        case.lesions.get(o.lesion).map_or("?", |l| l.id.as_str())
                    )
                })
                .collect();
            if !measured.is_empty() {
                out.push(
                    Diagnostic::warning(
                        "eval::measured_on_scan_not_evaluable",
                        format!(
                            "{}: the scan of {} is `evaluable: false` (missing or non-diagnostic) and gives measurements ({}): the two contradict each other, and a criterion may read either",
                            at(a.line),
                            a.date,
                            measured.join(", ")
                        ),
                    )
                    .help("if the scan was read, drop `evaluable: false`; if it was not diagnostic, give its lesions no measurement (or `status: not_assessed`)"),
                );
            }
        }
        for o in a.lesions.iter().chain(&a.new_lesions) {
            let status = match (o.status, o.nt_status) {
                (Some(MeasureStatus::Absent), _) => "status: absent",
                (Some(MeasureStatus::NotAssessed), _) => "status: not_assessed",
                (_, Some(irano_cases::NtStatus::Absent)) => "nt_status: absent",
                _ => continue,
            };
            if !gives_measurement(o) {
                continue;
            }
            let id = case.lesions.get(o.lesion).map_or("?", |l| l.id.as_str());
            out.push(
                Diagnostic::warning(
                    "eval::measured_lesion_with_status",
                    format!(
                        "{}: lesion `{id}` on the scan of {} is `{status}` and gives a measurement: the two contradict each other, and a criterion may read either",
                        at(a.line), a.date
                    ),
                )
                .help(match status {
                    "status: absent" => "a lesion that has gone is `status: absent` with no measurement (or `d: [0, 0]`); a lesion still seen is measured with no `status`",
                    "nt_status: absent" => "a non-target that has gone is `nt_status: absent` with no measurement; one still seen is `nt_status: present`",
                    _ => "a lesion that was not assessed has no measurement; if it was measured, drop `status: not_assessed`",
                }),
            );
        }
        for o in a.lesions.iter().chain(&a.new_lesions) {
            let Some([x, y]) = o.d else { continue };
            let (long, short) = if x >= y { (x, y) } else { (y, x) };
            let disagree = [
                ("ld", o.ld, long, "longest"),
                ("sa", o.sa, short, "shorter"),
            ]
            .into_iter()
            .find(|(_, given, of_d, _)| given.is_some_and(|g| g != *of_d));
            let Some((field, Some(given), of_d, which)) = disagree else {
                continue;
            };
            let id = case.lesions.get(o.lesion).map_or("?", |l| l.id.as_str());
            out.push(
                Diagnostic::warning(
                    "eval::lengths_disagree",
                    format!(
                        "{}: lesion `{id}` on the scan of {} gives `{field}: {given}` and `d: [{x}, {y}]`, whose {which} diameter is {of_d}: a criterion reads one of them (`irano-eval show RULES` says which), so the two should agree",
                        at(a.line), a.date
                    ),
                )
                .help("give the lesion's measurements once, or make `ld` the longer and `sa` the shorter of the two diameters in `d`"),
            );
        }
        if let Some(changed) = a.steroids.as_ref().and_then(|s| s.changed_on) {
            if changed > a.date {
                out.push(
                    Diagnostic::warning(
                        "eval::steroid_change_after_scan",
                        format!(
                            "{}: the steroid dose of the scan of {} was last changed on {changed}, after the scan",
                            at(a.line), a.date
                        ),
                    )
                    .help("`changed_on` is the date of the last change before (or on) the scan, for the dose taken at the scan; a later change belongs to the next scan's record"),
                );
            }
        }
        if a.decline_cause.is_some() && a.clinical != Some(Trend::Worse) {
            out.push(
                Diagnostic::warning(
                    "eval::decline_cause_without_decline",
                    format!(
                        "{}: the scan of {} gives `decline_cause` but the patient is not `clinical: worse`; the case format gives a cause to a decline, so one without it is likely a slip",
                        at(a.line), a.date
                    ),
                )
                .help("give `clinical: worse` if the patient declined, or drop `decline_cause`"),
            );
        }
    }
    out
}

/// Warnings about what the evaluation of `case` (by `ev`, which gave `r`) read and did not.
pub fn after_evaluation(ev: &Evaluator<'_>, case: &Case, r: &CaseResult) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    // the criterion's own warnings about the data (`warn ID when ...` in its rule file)
    let p = ev.program();
    for (w, values) in ev
        .warnings_fired()
        .iter()
        .filter_map(|(i, v)| p.warnings.get(*i as usize).map(|w| (w, v)))
    {
        let place = p.place(w.src);
        let values = if values.is_empty() {
            String::new()
        } else {
            format!(" ({values})")
        };
        out.push(
            Diagnostic::warning(
                "eval::criterion_warning",
                format!(
                    "{}:{}: patient `{}`: {}{values} (warning `{}` of {})",
                    case.origin.file, case.origin.line, case.patient, w.because, w.id, r.criterion.id
                ),
            )
            .help(format!(
                "the result stands; check the case's data against the criterion ({}), declared at {place}",
                w.cite
            )),
        );
    }
    // a target given only `nt_status` on a scan (a non-target's field): not measured there
    let targets = ev.target_lesions();
    let nt_only = case.assessments.iter().find_map(|a| {
        a.lesions.iter().find_map(|o| {
            let measured = o.d.is_some() || o.ld.is_some() || o.sa.is_some() || o.vol_ml.is_some();
            (o.nt_status.is_some()
                && o.status.is_none()
                && !measured
                && targets.iter().any(|&t| t as usize == o.lesion))
            .then_some((a, o.lesion))
        })
    });
    if let Some((a, lesion)) = nt_only {
        let id = case.lesions.get(lesion).map_or("?", |l| l.id.as_str());
        out.push(
            Diagnostic::warning(
                "eval::nt_status_on_target",
                format!(
                    "{}:{}: patient `{}`: lesion `{id}` is a target of {}, but the scan of {} gives it only `nt_status`, which describes non-target lesions: the target is not measured there",
                    case.origin.file, a.line, case.patient, r.criterion.id, a.date
                ),
            )
            .help("give a target its measurements on every scan (`d`, `ld` or `sa`, as the criterion reads), `status: absent` once gone, or `status: not_assessed`; a lesion followed qualitatively is `role: non_target`"),
        );
    }
    for field in ev.case_fields_not_read(case) {
        out.push(
            Diagnostic::warning(
                "eval::case_field_not_read",
                format!(
                    "{}:{}: patient `{}` gives `{field}`, which {} never reads: it changes nothing",
                    case.origin.file, case.origin.line, case.patient, r.criterion.id
                ),
            )
            .help(if field == "reirradiation_end" {
                "leave it out, or amend the criterion to read it (docs/amending.md: \"A window after re-irradiation\"); `irano-eval show RULES` prints what the criterion reads"
            } else {
                "the criterion (or an amendment of it) has no use for it: it may be left in; `irano-eval show RULES` prints what the criterion reads"
            }),
        );
    }
    if case.setting == irano_cases::Setting::NewlyDiagnosed
        && case.chemoradiation_end.is_none()
        && ev.reads_chemoradiation_end()
    {
        out.push(
            Diagnostic::warning(
                "eval::chemoradiation_end_not_given",
                format!(
                    "{}:{}: patient `{}` is `setting: newly_diagnosed` and gives no `chemoradiation_end`, which {} reads: what it dates from the end of chemoradiation (a window after radiotherapy in which progression is handled apart) does not apply to this case",
                    case.origin.file, case.origin.line, case.patient, r.criterion.id
                ),
            )
            .help("give the last day of first-line radiotherapy as `chemoradiation_end` (docs/case-format.md); if the patient had none, this warning can be ignored"),
        );
    }
    if case.setting == irano_cases::Setting::Recurrent && case.chemoradiation_end.is_some() {
        out.push(
            Diagnostic::warning(
                "eval::chemoradiation_end_in_recurrent_disease",
                format!(
                    "{}:{}: patient `{}` is `setting: recurrent` and gives `chemoradiation_end`, which the case format defines for newly diagnosed disease",
                    case.origin.file, case.origin.line, case.patient
                ),
            )
            .help("radiotherapy given for the recurrence is `reirradiation_end` (docs/case-format.md); a criterion reads `chemoradiation_end` for the window after first-line chemoradiation"),
        );
    }
    let not_eligible = ev.marked_targets_not_eligible();
    if let Some((who, them, why)) = marked_lesions(not_eligible) {
        out.push(
            Diagnostic::warning(
                "eval::marked_target_not_followed",
                format!(
                    "{}:{}: patient `{}`: {who} marked `role: target`, but {} does not follow {} (its targets `eligible` condition is false on the baseline scan: {why}); left out of the targets and the burden",
                    case.origin.file,
                    lesion_line(case, not_eligible),
                    case.patient,
                    r.criterion.id,
                    them
                ),
            )
            .help("the burden of this criterion leaves it out, so it differs from a sum that includes it; `irano-eval explain` shows the choice of targets and `irano-eval show RULES` prints the `targets` block"),
        );
    }
    let not_candidates = ev.marked_targets_not_candidates();
    if let Some((who, them, why)) = marked_lesions(not_candidates) {
        out.push(
            Diagnostic::warning(
                "eval::marked_target_not_candidate",
                format!(
                    "{}:{}: patient `{}`: {who} marked `role: target`, but {} would not choose {} as a target (its targets `candidate` condition is false on the baseline scan: {why}); followed as a target, as marked",
                    case.origin.file,
                    lesion_line(case, not_candidates),
                    case.patient,
                    r.criterion.id,
                    them
                ),
            )
            .help("if the targets were chosen under another criterion (or another protocol), give `role: auto` and let this one choose, or mark the lesion `role: non_target`; `irano-eval show RULES` prints the `targets` block"),
        );
    }
    if let Some((marked, max)) = ev.marked_targets_over_max() {
        out.push(
            Diagnostic::warning(
                "eval::more_targets_than_max",
                format!(
                    "{}:{}: patient `{}`: {marked} lesions are marked `role: target`, more than this criterion's {max} (its targets `max`); all {marked} are followed as targets",
                    case.origin.file, case.origin.line, case.patient
                ),
            )
            .help("mark at most that many `role: target` and the others `role: non_target`, or give `role: auto` and let the criterion choose"),
        );
    }
    if let Some((marked, limit, group)) = ev.marked_targets_over_group_limit() {
        let group = if group.is_empty() {
            String::new()
        } else {
            format!(" (`{group}`)")
        };
        out.push(
            Diagnostic::warning(
                "eval::more_targets_than_max_per",
                format!(
                    "{}:{}: patient `{}`: {marked} lesions marked `role: target` share one group{group}, more than this criterion's {limit} per group (its targets `max_per`); all are followed as targets",
                    case.origin.file, case.origin.line, case.patient
                ),
            )
            .help("mark at most that many targets per group and the others `role: non_target`, or give `role: auto` and let the criterion choose"),
        );
    }
    if let Some((who, fields, left_out)) = lesions_without_fields(ev.grouped_without_field()) {
        out.push(
            Diagnostic::warning(
                "eval::targets_grouped_without_field",
                format!(
                    "{}:{}: patient `{}`: {who} no {fields}, which this criterion's per-group target limit (`max_per`) groups by: lesions without it count as one group, and {left_out} left out of the targets",
                    case.origin.file, case.origin.line, case.patient
                ),
            )
            .help("give each baseline lesion its field (e.g. `organ: liver`), or mark the targets with `role: target`"),
        );
    }
    // (a case that never gives the measurement the criterion reads has its own warning)
    let candidates = if ev.measurements_never_found().is_empty() {
        ev.not_candidate_without_field()
    } else {
        &[]
    };
    if let Some((who, fields, left_out)) = lesions_without_fields(candidates) {
        let (targets, is) = if left_out.ends_with("were") {
            ("targets", "are followed as non-targets")
        } else {
            ("a target", "is followed as a non-target")
        };
        out.push(
            Diagnostic::warning(
                "eval::not_a_target_without_field",
                format!(
                    "{}:{}: patient `{}`: {who} no {fields}, which this criterion's choice of targets (`candidate`) reads: {left_out} not made {targets} and {is}",
                    case.origin.file, case.origin.line, case.patient
                ),
            )
            .help("give each baseline lesion the field (e.g. its `component`, `enhancing` or `non_enhancing` as the criterion measures, or both diameters `d: [longest, perpendicular]` where the criterion requires a perpendicular one), or mark the targets with `role: target`; `irano-eval show RULES` prints how the criterion chooses its targets"),
        );
    }
    let never = ev.measurements_never_found();
    if !never.is_empty() {
        let given = crate::measurements_given(case);
        if !given.is_empty() {
            let list = |v: &[&str]| {
                v.iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            out.push(
                Diagnostic::warning(
                    "eval::measurement_not_given",
                    format!(
                        "{}:{}: patient `{}`: {} reads lesion {} and this case gives none (it gives {}): every such measurement was absent",
                        case.origin.file,
                        case.origin.line,
                        case.patient,
                        r.criterion.id,
                        list(&never),
                        list(&given)
                    ),
                )
                .help("give the measurements this criterion reads (`irano-eval params RULES`: a parameter may choose between them, e.g. bidimensional or volumetric), or choose the criterion's setting that matches the data"),
            );
        }
    }
    let list = |v: &[&str]| {
        v.iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // (a case that never gives what the criterion reads has its own warning, below)
    let whole_case_unmeasured = !ev.measurements_never_found().is_empty();
    for (id, read, given) in ev
        .lesions_measured_otherwise(case)
        .into_iter()
        .filter(|_| !whole_case_unmeasured)
    {
        out.push(
            Diagnostic::warning(
                "eval::lesion_measured_otherwise",
                format!(
                    "{}:{}: patient `{}`: lesion `{id}` is given {}, and {} reads {} for it: it has no measurement on any scan",
                    case.origin.file,
                    case.origin.line,
                    case.patient,
                    list(&given),
                    r.criterion.id,
                    list(&read)
                ),
            )
            .help("give the lesion the measurement the criterion reads (`irano-eval show RULES` prints how it measures a lesion, e.g. a lymph node by its short axis `sa`)"),
        );
    }
    if ev.read_d_as_longest_first() {
        let swapped: Vec<(&irano_cases::Assessment, &irano_cases::Observation, &[_; 2])> = case
            .assessments
            .iter()
            .flat_map(|a| a.lesions.iter().chain(&a.new_lesions).map(move |o| (a, o)))
            .filter_map(|(a, o)| o.d.as_ref().filter(|[l, p]| l < p).map(|d| (a, o, d)))
            .collect();
        if let Some((a, o, [l, p])) = swapped.first() {
            let id = case
                .lesions
                .get(o.lesion)
                .map(|x| x.id.as_str())
                .unwrap_or("?");
            let more = match swapped.len() {
                1 => String::new(),
                n => format!(
                    " (and {} other measurement{})",
                    n - 1,
                    if n == 2 { "" } else { "s" }
                ),
            };
            out.push(
                Diagnostic::warning(
                    "eval::diameters_out_of_order",
                    format!(
                        "{}:{}: patient `{}`: lesion `{id}` on the scan of {} is given `d: [{l}, {p}]`{more}, a first diameter shorter than the second; {} reads the first as the longest diameter ({l} mm) and the second as the perpendicular ({p} mm)",
                        case.origin.file, a.line, case.patient, a.date, r.criterion.id
                    ),
                )
                .help("write `d: [longest, perpendicular]`: the longest diameter first (docs/case-format.md)"),
            );
        }
    }
    for (i, because) in ev.skipped_scans() {
        let Some(a) = case.assessments.get(i) else {
            continue;
        };
        if a.clinical != Some(irano_cases::Trend::Worse) {
            continue;
        }
        let cause = match a.decline_cause {
            Some(c) => format!(" (decline_cause: {})", c.as_str()),
            None => String::new(),
        };
        out.push(
            Diagnostic::warning(
                "eval::decline_on_skipped_scan",
                format!(
                    "{}:{}: patient `{}`: the scan of {} records `clinical: worse`{cause}, but {} does not grade it ({because}): the decline decides nothing",
                    case.origin.file, a.line, case.patient, a.date, r.criterion.id
                ),
            )
            .help("record the decline on the next graded scan too if it persists, or amend the criterion's `skip grading when` (docs/amending.md: \"Scans that are not response assessments\")"),
        );
    }
    if !r
        .assessments
        .iter()
        .any(|a| a.role == crate::ScanRole::Baseline)
    {
        out.push(
            Diagnostic::warning(
                "eval::no_baseline",
                format!(
                    "{}:{}: patient `{}` (`setting: {}`): no scan qualifies as the baseline of {}; every scan is reported not graded and there is no best overall response",
                    case.origin.file,
                    case.origin.line,
                    case.patient,
                    match case.setting {
                        irano_cases::Setting::Recurrent => "recurrent",
                        irano_cases::Setting::NewlyDiagnosed => "newly_diagnosed",
                    },
                    r.criterion.id
                ),
            )
            .help(format!(
                "the criterion's baseline: {}; check the scan kinds (`pretreatment`, `postop`, `post_rt`), their dates against `therapy_start` and the `setting`; `irano-eval show RULES` prints the baseline expression",
                ev.program().baseline_cite
            )),
        );
    }
    locate(case, out)
}

/// Lesions marked `role: target` that a targets condition refused (`(id, part)`, the part
/// of the condition that was false): who they are ("lesion `N1` is", "2 lesions (`A`, `B`)
/// are"), the pronoun for them, and why, said once when they all agree ("`lesion.measurable`
/// is false").
/// Whether an observation gives a non-zero measurement (`d`, `ld`, `sa` or `vol_ml`).
fn gives_measurement(o: &irano_cases::Observation) -> bool {
    o.d.is_some_and(|d| d.iter().any(|x| !x.is_zero()))
        || [o.ld, o.sa, o.vol_ml]
            .iter()
            .any(|x| x.is_some_and(|v| !v.is_zero()))
}

/// The line of the scan where the first of the named lesions is first listed (the baseline
/// scan, for a marked target), else the case's first line.
fn lesion_line(case: &Case, named: &[(String, String)]) -> usize {
    named
        .first()
        .and_then(|(id, _)| case.lesions.iter().find(|l| &l.id == id))
        .and_then(|l| case.assessments.get(l.first_seen))
        .map_or(case.origin.line, |a| a.line)
}

fn marked_lesions(refused: &[(String, String)]) -> Option<(String, &'static str, String)> {
    let (who, them) = match refused {
        [] => return None,
        [(one, _)] => (format!("lesion `{one}` is"), "it"),
        all => (
            format!(
                "{} lesions ({}) are",
                all.len(),
                all.iter()
                    .map(|(id, _)| format!("`{id}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "them",
        ),
    };
    let why = match refused {
        [(_, first), rest @ ..] if rest.iter().all(|(_, w)| w == first) => {
            format!("`{}` is false", crate::explain::squash(first))
        }
        _ => refused
            .iter()
            .map(|(id, w)| format!("`{}` is false for `{id}`", crate::explain::squash(w)))
            .collect::<Vec<_>>()
            .join(", "),
    };
    Some((who, them, why))
}

/// `(who gives, the fields, who was)` for a list of lesions that lack fields, as the
/// warnings word it: "lesion `T1` gives" / "lesions `T1`, `T2` give".
fn lesions_without_fields(
    lesions: &[(String, Vec<&'static str>)],
) -> Option<(String, String, String)> {
    let [(first, fields), rest @ ..] = lesions else {
        return None;
    };
    let fields = fields
        .iter()
        .map(|f| match *f {
            // `l.d2` is the second of the case's `d: [longest, perpendicular]`
            "d2" => "perpendicular diameter (`d: [longest, perpendicular]`)".to_string(),
            f => format!("`{f}`"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    Some(if rest.is_empty() {
        (
            format!("lesion `{first}` gives"),
            fields,
            format!("`{first}` was"),
        )
    } else {
        let ids: Vec<String> = lesions.iter().map(|(id, _)| format!("`{id}`")).collect();
        (
            format!("lesions {} give", ids.join(", ")),
            fields,
            "they were".to_string(),
        )
    })
}
