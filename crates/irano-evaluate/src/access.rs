//! Reading the case: assessment and lesion fields as values, in the encoding the checker's
//! schema fixes (the order of each enumeration's variants).

use irano_cases::{self as cases, Case};
use irano_check::program::*;
use irano_exact::Rational;

pub(crate) fn lesion_id(case: &Case, l: u32) -> &str {
    case.lesions
        .get(l as usize)
        .map(|x| x.id.as_str())
        .unwrap_or("?")
}

pub(crate) fn text_of<'a>(p: &'a Program, case: &'a Case, t: TextRef) -> &'a str {
    match t {
        TextRef::Literal(i) => p.text(i),
        TextRef::LesionId(l) => lesion_id(case, l),
        TextRef::LesionOrgan(l) => case
            .lesions
            .get(l as usize)
            .and_then(|x| x.organ.as_deref())
            .unwrap_or(""),
    }
}

fn trend(t: cases::Trend) -> u16 {
    match t {
        cases::Trend::Stable => 0,
        cases::Trend::Improved => 1,
        cases::Trend::Worse => 2,
    }
}

fn opt_sym<T>(x: Option<T>, f: impl Fn(T) -> u16) -> Value {
    x.map(|t| Value::Sym(f(t))).unwrap_or(Value::Null)
}

pub(crate) fn scan_field(a: &cases::Assessment, f: ScanField, index: u32) -> Value {
    use cases::*;
    match f {
        ScanField::Date => Value::Date(a.date),
        ScanField::Kind => Value::Sym(match a.scan {
            ScanKind::Pretreatment => 0,
            ScanKind::Postop => 1,
            ScanKind::PostRt => 2,
            ScanKind::Followup => 3,
        }),
        ScanField::Evaluable => Value::Bool(a.evaluable),
        ScanField::T2Flair => opt_sym(a.t2_flair, trend),
        ScanField::Clinical => opt_sym(a.clinical, trend),
        ScanField::Enhancement => opt_sym(a.enhancement, |e| match e {
            Enhancement::None => 0,
            Enhancement::Stable => 1,
            Enhancement::NewOrIncreased => 2,
        }),
        ScanField::DeclineCause => opt_sym(a.decline_cause, |d| match d {
            DeclineCause::Tumour => 0,
            DeclineCause::Comorbid => 1,
            DeclineCause::Medication => 2,
            DeclineCause::TreatmentEffect => 3,
        }),
        ScanField::IraeGrade => a
            .irae_grade
            .map(|g| Value::Num(Rational::from_int(i64::from(g))))
            .unwrap_or(Value::Null),
        ScanField::Pathology => opt_sym(a.pathology, |p| match p {
            Pathology::TumourPredominant => 0,
            Pathology::TreatmentEffect => 1,
            Pathology::Mixed => 2,
        }),
        ScanField::Unscheduled => Value::Bool(a.unscheduled),
        ScanField::SymptomDriven => Value::Bool(a.symptom_driven),
        ScanField::SteroidDose => a
            .steroids
            .as_ref()
            .map(|s| Value::Num(s.dose_mg))
            .unwrap_or(Value::Null),
        ScanField::SteroidChangedOn => a
            .steroids
            .as_ref()
            .and_then(|s| s.changed_on)
            .map(Value::Date)
            .unwrap_or(Value::Null),
        ScanField::SteroidReplacement => a
            .steroids
            .as_ref()
            .and_then(|s| s.replacement)
            .map(Value::Bool)
            .unwrap_or(Value::Null),
        ScanField::Index => Value::Num(Rational::from_int(i64::from(index))),
    }
}

fn observation(case: &Case, lesion: u32, scan: u32) -> Option<&cases::Observation> {
    let a = case.assessments.get(scan as usize)?;
    let l = lesion as usize;
    a.lesions
        .iter()
        .chain(a.new_lesions.iter())
        .find(|o| o.lesion == l)
}

pub(crate) fn lesion_field(case: &Case, lesion: u32, scan: u32, f: LesionField) -> Value {
    use cases::*;
    let Some(info) = case.lesions.get(lesion as usize) else {
        return Value::Null;
    };
    let obs = observation(case, lesion, scan);
    let num = |x: Option<Rational>| x.map(Value::Num).unwrap_or(Value::Null);
    match f {
        LesionField::Id => Value::Text(TextRef::LesionId(lesion)),
        LesionField::Role => opt_sym(info.role, |r| match r {
            Role::Target => 0,
            Role::NonTarget => 1,
            Role::Auto => 2,
        }),
        LesionField::Component => opt_sym(info.component, |c| match c {
            Component::Enhancing => 0,
            Component::NonEnhancing => 1,
        }),
        LesionField::Organ => match info.organ {
            Some(_) => Value::Text(TextRef::LesionOrgan(lesion)),
            None => Value::Null,
        },
        LesionField::IsNew => Value::Bool(info.is_new),
        LesionField::FirstSeen => case
            .assessments
            .get(info.first_seen)
            .map(|a| Value::Date(a.date))
            .unwrap_or(Value::Null),
        LesionField::Order => Value::Num(Rational::from_int(i64::from(lesion))),
        LesionField::D1 => num(obs.and_then(|o| o.d.map(|d| d[0]))),
        LesionField::D2 => num(obs.and_then(|o| o.d.map(|d| d[1]))),
        LesionField::Ld => num(obs.and_then(|o| o.ld)),
        LesionField::Sa => num(obs.and_then(|o| o.sa)),
        LesionField::VolMl => num(obs.and_then(|o| o.vol_ml)),
        LesionField::Status => Value::Sym(match obs {
            None => 3,
            Some(o) => match o.status {
                None | Some(MeasureStatus::Present) => 0,
                Some(MeasureStatus::Absent) => 1,
                Some(MeasureStatus::TooSmall) => 2,
                Some(MeasureStatus::NotAssessed) => 3,
            },
        }),
        LesionField::NtStatus => opt_sym(obs.and_then(|o| o.nt_status), |n| match n {
            NtStatus::Present => 0,
            NtStatus::Absent => 1,
            NtStatus::UnequivocalProgression => 2,
        }),
        LesionField::Equivocal => Value::Bool(obs.and_then(|o| o.equivocal).unwrap_or(false)),
        LesionField::OutsideRadiationField => {
            Value::Bool(obs.and_then(|o| o.outside_radiation_field).unwrap_or(false))
        }
    }
}
