//! A hand-written evaluator of RANO for high-grade glioma (Wen 2010) with the default
//! parameters of `rules/rano-hgg-2010.rano`, for the benchmark only: what the rule-file
//! evaluator is measured against. It writes labels only (no trace), with the same exact
//! arithmetic, and must agree with the rule file on every case of the cohort (the
//! benchmark checks). Criterion knowledge here is a reference copy, never product code.

#![allow(clippy::if_same_then_else)] // one branch per rule of the rule file

use chrono::NaiveDate;
use irano_cases::{
    Case, Component, DeclineCause, MeasureStatus, NtStatus, Observation, Pathology, Role, ScanKind,
    Setting, Trend,
};
use irano_exact::Rational;

// label indexes, in the rule file's order: CR PR MR SD NON_CR_NON_PD UPD PD NE
pub const CR: u8 = 0;
pub const PR: u8 = 1;
pub const SD: u8 = 3;
pub const PD: u8 = 6;
pub const NE: u8 = 7;
pub const CONTINUE: u8 = 0;
pub const DISCONTINUE: u8 = 4;

/// The labels of one case; reused from case to case.
#[derive(Default, Debug)]
pub struct Outcome {
    pub response: Vec<Option<u8>>,
    pub best_overall_response: Option<u8>,
    pub final_decision: Option<u8>,
    pub pd_date: Option<NaiveDate>,
    pub pd_confirmed_on: Option<NaiveDate>,
    graded: Vec<bool>,
    burden: Vec<Rational>,
    measured: Vec<bool>,
    targets: Vec<usize>,
    non_targets: Vec<usize>,
    candidates: Vec<(usize, Rational)>,
}

fn r(n: i64) -> Rational {
    Rational::from_int(n)
}

fn obs(c: &Case, scan: usize, lesion: usize) -> Option<&Observation> {
    let a = c.assessments.get(scan)?;
    a.lesions
        .iter()
        .chain(a.new_lesions.iter())
        .find(|o| o.lesion == lesion)
}

fn status(o: Option<&Observation>) -> Option<MeasureStatus> {
    match o {
        None => Some(MeasureStatus::NotAssessed),
        Some(o) => Some(o.status.unwrap_or(MeasureStatus::Present)),
    }
}

fn size(o: Option<&Observation>) -> Rational {
    let too_small = r(5);
    match (status(o), o.and_then(|o| o.d)) {
        (Some(MeasureStatus::Absent), _) => Rational::ZERO,
        (_, Some([a, b])) => a.checked_mul(b).unwrap_or(Rational::ZERO),
        (Some(MeasureStatus::TooSmall), _) => {
            too_small.checked_mul(too_small).unwrap_or(Rational::ZERO)
        }
        _ => Rational::ZERO,
    }
}

fn measured(o: Option<&Observation>) -> bool {
    matches!(
        status(o),
        Some(MeasureStatus::Absent) | Some(MeasureStatus::TooSmall)
    ) || o.is_some_and(|o| o.d.is_some())
}

fn dose(c: &Case, i: usize) -> Rational {
    c.assessments
        .get(i)
        .and_then(|a| a.steroids.as_ref())
        .map(|s| s.dose_mg)
        .unwrap_or(Rational::ZERO)
}

pub fn evaluate(c: &Case, out: &mut Outcome) {
    let n = c.assessments.len();
    out.response.clear();
    out.response.resize(n, None);
    out.graded.clear();
    out.graded.resize(n, false);
    out.burden.clear();
    out.burden.resize(n, Rational::ZERO);
    out.measured.clear();
    out.measured.resize(n, false);
    out.best_overall_response = None;
    out.final_decision = None;
    out.pd_date = None;
    out.pd_confirmed_on = None;
    // baseline
    let base = c.assessments.iter().rposition(|a| {
        a.date <= c.therapy_start
            && match c.setting {
                Setting::NewlyDiagnosed => a.scan == ScanKind::Postop,
                Setting::Recurrent => a.scan != ScanKind::Followup,
            }
    });
    let Some(base) = base else { return };
    // targets
    out.targets.clear();
    out.non_targets.clear();
    out.candidates.clear();
    let min = r(10);
    for (li, info) in c.lesions.iter().enumerate() {
        if info.is_new {
            continue;
        }
        match info.role {
            Some(Role::Target) => out.targets.push(li),
            Some(Role::NonTarget) | None => out.non_targets.push(li),
            Some(Role::Auto) => {
                let o = obs(c, base, li);
                let d = o.and_then(|o| o.d);
                let measurable = d.is_some_and(|[a, b]| a >= min && b >= min);
                if info.component == Some(Component::Enhancing) && measurable {
                    out.candidates.push((li, size(o)));
                } else {
                    out.non_targets.push(li);
                }
            }
        }
    }
    out.candidates
        .sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for k in 0..out.candidates.len() {
        let li = out.candidates[k].0;
        if out.targets.len() < 5 {
            out.targets.push(li);
        } else {
            out.non_targets.push(li);
        }
    }
    out.targets.sort_unstable();
    out.non_targets.sort_unstable();
    let measurable_at_baseline = !out.targets.is_empty();
    let pd_factor = Rational::new(5, 4).unwrap_or(Rational::ONE);
    let pr_factor = Rational::new(1, 2).unwrap_or(Rational::ONE);
    let physiologic = Rational::new(3, 4).unwrap_or(Rational::ZERO);
    let reference_dose = dose(c, base);
    let mut steroid_ne_since: Option<NaiveDate> = None;
    let mut stopped = false;
    for i in base..n {
        let a = &c.assessments[i];
        let mut burden = Rational::ZERO;
        let mut not_assessed = false;
        for &t in &out.targets {
            let o = obs(c, i, t);
            burden = burden.checked_add(size(o)).unwrap_or(burden);
            not_assessed |= !measured(o);
        }
        out.burden[i] = burden;
        out.measured[i] = a.evaluable && !not_assessed;
        if i == base || stopped {
            continue;
        }
        // nadir: the smallest fully measured burden from the baseline to the previous scan
        let mut nadir: Option<Rational> = None;
        for s in base..i {
            if out.measured[s] && nadir.is_none_or(|b| out.burden[s] < b) {
                nadir = Some(out.burden[s]);
            }
        }
        let nadir = nadir.unwrap_or(burden);
        let reference = out.burden[base];
        let dose_i = dose(c, i);
        let clinical = a.clinical.unwrap_or(Trend::Stable);
        let tumour_decline =
            clinical == Trend::Worse && a.decline_cause == Some(DeclineCause::Tumour);
        let non_tumour_decline =
            clinical == Trend::Worse && a.decline_cause != Some(DeclineCause::Tumour);
        let size_progression =
            nadir > Rational::ZERO && burden >= nadir.checked_mul(pd_factor).unwrap_or(nadir);
        let reappearance = nadir.is_zero() && burden > Rational::ZERO;
        let new_lesion = a
            .new_lesions
            .iter()
            .any(|o| status(Some(o)) != Some(MeasureStatus::Absent));
        let non_target_progression = out.non_targets.iter().any(|&l| {
            obs(c, i, l).and_then(|o| o.nt_status) == Some(NtStatus::UnequivocalProgression)
        });
        let t2_worse = a.t2_flair == Some(Trend::Worse);
        let imaging_progression =
            size_progression || non_target_progression || t2_worse || reappearance || new_lesion;
        let in_window = c.setting == Setting::NewlyDiagnosed
            && c.chemoradiation_end
                .is_some_and(|end| a.date > end && a.date <= end + chrono::Duration::days(84));
        let allowed_in_window = a
            .new_lesions
            .iter()
            .any(|o| o.outside_radiation_field == Some(true))
            || a.pathology == Some(Pathology::TumourPredominant);
        let disease_gone = out
            .targets
            .iter()
            .all(|&l| status(obs(c, i, l)) == Some(MeasureStatus::Absent))
            && out.non_targets.iter().all(|&l| {
                if c.lesions[l].component != Some(Component::Enhancing) {
                    return true;
                }
                let o = obs(c, i, l);
                o.and_then(|o| o.nt_status) == Some(NtStatus::Absent)
                    || status(o) == Some(MeasureStatus::Absent)
            });
        let steroids_allow_cr =
            a.steroids.as_ref().and_then(|s| s.replacement) == Some(true) || dose_i <= physiologic;
        let clinically_not_worse = clinical != Trend::Worse || non_tumour_decline;
        let partial = measurable_at_baseline
            && reference > Rational::ZERO
            && burden <= reference.checked_mul(pr_factor).unwrap_or(reference);
        let pd = |out: &mut Outcome, date: NaiveDate| {
            out.pd_date = Some(date);
            out.pd_confirmed_on = Some(a.date);
            PD
        };
        let label = if !out.measured[base] && !tumour_decline {
            NE
        } else if !a.evaluable && !tumour_decline {
            NE
        } else if not_assessed && !imaging_progression && !tumour_decline {
            NE
        } else if tumour_decline {
            pd(out, steroid_ne_since.unwrap_or(a.date))
        } else if in_window && imaging_progression && !allowed_in_window {
            SD
        } else if size_progression
            || reappearance
            || new_lesion
            || non_target_progression
            || t2_worse
        {
            pd(out, a.date)
        } else if measurable_at_baseline
            && disease_gone
            && !new_lesion
            && !t2_worse
            && steroids_allow_cr
            && clinically_not_worse
        {
            steroid_ne_since = None;
            CR
        } else if dose_i > reference_dose {
            steroid_ne_since = steroid_ne_since.or(Some(a.date));
            NE
        } else if partial
            && !non_target_progression
            && !new_lesion
            && !t2_worse
            && dose_i <= reference_dose
            && clinically_not_worse
        {
            steroid_ne_since = None;
            PR
        } else {
            steroid_ne_since = None;
            SD
        };
        out.response[i] = Some(label);
        out.graded[i] = true;
        stopped = out.pd_date.is_some();
    }
    // summary
    let counts = |s: usize| out.pd_date.is_none_or(|pd| c.assessments[s].date <= pd);
    let confirmed = |s: usize, best_only: bool| {
        let ok_t = |x: Option<u8>| {
            if best_only {
                x == Some(CR)
            } else {
                x == Some(CR) || x == Some(PR)
            }
        };
        let ok_u = |x: Option<u8>| {
            if best_only {
                x == Some(CR) || x == Some(NE)
            } else {
                x == Some(CR) || x == Some(PR) || x == Some(NE)
            }
        };
        let min_date = c.assessments[s].date + chrono::Duration::days(28);
        (s + 1..n).any(|t| {
            c.assessments[t].date >= min_date
                && ok_t(out.response[t])
                && (s + 1..t).all(|u| ok_u(out.response[u]))
                && (s + 1..t).filter(|&u| out.response[u] == Some(NE)).count() <= 1
        })
    };
    let graded = |s: usize| s >= base && out.graded[s];
    let bor = if (0..n)
        .any(|s| graded(s) && counts(s) && out.response[s] == Some(CR) && confirmed(s, true))
    {
        CR
    } else if (0..n).any(|s| {
        graded(s)
            && counts(s)
            && matches!(out.response[s], Some(CR) | Some(PR))
            && confirmed(s, false)
    }) {
        PR
    } else if (0..n).any(|s| {
        graded(s)
            && counts(s)
            && matches!(out.response[s], Some(0..=3))
            && c.assessments[s].date >= c.therapy_start
    }) {
        SD
    } else if out.pd_date.is_some() {
        PD
    } else {
        NE
    };
    out.best_overall_response = Some(bor);
    out.final_decision = Some(if out.pd_date.is_some() {
        DISCONTINUE
    } else {
        CONTINUE
    });
}
