//! What the rule language can read from a case: the case contract
//! (`shared/spec/case-format.md`) as names, types and enumerations.
//!
//! This is the case format, not any criterion: it names fields, never thresholds.

use crate::program::{CaseField, EnumDef, LesionField, ScanField};
use crate::types::{Base, EnumId, Ty, Unit};

pub const SETTING: EnumId = EnumId(0);
pub const SCAN_KIND: EnumId = EnumId(1);
pub const TREND: EnumId = EnumId(2);
pub const ENHANCEMENT: EnumId = EnumId(3);
pub const DECLINE_CAUSE: EnumId = EnumId(4);
pub const PATHOLOGY: EnumId = EnumId(5);
pub const MEASURE_STATUS: EnumId = EnumId(6);
pub const NT_STATUS: EnumId = EnumId(7);
pub const ROLE: EnumId = EnumId(8);
pub const COMPONENT: EnumId = EnumId(9);
/// Declared by the rule file (`labels { ... }`).
pub const LABEL: EnumId = EnumId(10);
/// Declared by the rule file (`decisions { ... }`).
pub const DECISION: EnumId = EnumId(11);

/// The case enumerations, in `EnumId` order. Variant order is the evaluator's encoding.
pub const CASE_ENUMS: &[(&str, &[&str])] = &[
    ("setting", &["recurrent", "newly_diagnosed"]),
    (
        "scan_kind",
        &["pretreatment", "postop", "post_rt", "followup"],
    ),
    ("trend", &["stable", "improved", "worse"]),
    ("enhancement", &["none", "stable", "new_or_increased"]),
    (
        "decline_cause",
        &["tumour", "comorbid", "medication", "treatment_effect"],
    ),
    (
        "pathology",
        &["tumour_predominant", "treatment_effect", "mixed"],
    ),
    (
        "measure_status",
        &["present", "absent", "too_small", "not_assessed"],
    ),
    (
        "nt_status",
        &["present", "absent", "unequivocal_progression"],
    ),
    ("role", &["target", "non_target", "auto"]),
    ("component", &["enhancing", "non_enhancing"]),
];

pub fn initial_enums() -> Vec<EnumDef> {
    let mut v: Vec<EnumDef> = CASE_ENUMS
        .iter()
        .map(|(n, vs)| EnumDef {
            name: (*n).to_string(),
            variants: vs.iter().map(|s| (*s).to_string()).collect(),
        })
        .collect();
    v.push(EnumDef {
        name: "label".into(),
        variants: vec![],
    });
    v.push(EnumDef {
        name: "decision".into(),
        variants: vec![],
    });
    v
}

pub fn case_field(name: &str) -> Option<(CaseField, Ty)> {
    Some(match name {
        "setting" => (CaseField::Setting, Ty::enumeration(SETTING)),
        "therapy_start" => (CaseField::TherapyStart, Ty::DATE),
        "chemoradiation_end" => (CaseField::ChemoradiationEnd, Ty::DATE.optional()),
        "reirradiation_end" => (CaseField::ReirradiationEnd, Ty::DATE.optional()),
        _ => return None,
    })
}

pub const CASE_FIELDS: &[&str] = &[
    "setting",
    "therapy_start",
    "chemoradiation_end",
    "reirradiation_end",
];

pub fn scan_field(name: &str) -> Option<(ScanField, Ty)> {
    use ScanField as F;
    Some(match name {
        "date" => (F::Date, Ty::DATE),
        "kind" | "scan" => (F::Kind, Ty::enumeration(SCAN_KIND)),
        "evaluable" => (F::Evaluable, Ty::BOOL),
        "t2_flair" => (F::T2Flair, Ty::enumeration(TREND).optional()),
        "enhancement" => (F::Enhancement, Ty::enumeration(ENHANCEMENT).optional()),
        "clinical" => (F::Clinical, Ty::enumeration(TREND).optional()),
        "decline_cause" => (F::DeclineCause, Ty::enumeration(DECLINE_CAUSE).optional()),
        "irae_grade" => (F::IraeGrade, Ty::num(Unit::One).optional()),
        "pathology" => (F::Pathology, Ty::enumeration(PATHOLOGY).optional()),
        "unscheduled" => (F::Unscheduled, Ty::BOOL),
        "symptom_driven" => (F::SymptomDriven, Ty::BOOL),
        "steroids.dose_mg" => (F::SteroidDose, Ty::num(Unit::MgPerDay).optional()),
        "steroids.changed_on" => (F::SteroidChangedOn, Ty::DATE.optional()),
        "steroids.replacement" => (F::SteroidReplacement, Ty::BOOL.optional()),
        "index" => (F::Index, Ty::num(Unit::One)),
        _ => return None,
    })
}

pub const SCAN_FIELDS: &[&str] = &[
    "date",
    "kind",
    "evaluable",
    "t2_flair",
    "enhancement",
    "clinical",
    "decline_cause",
    "irae_grade",
    "pathology",
    "unscheduled",
    "symptom_driven",
    "steroids.dose_mg",
    "steroids.changed_on",
    "steroids.replacement",
    "index",
    "response",
    "decision",
    "targets",
    "non_targets",
    "new_lesions",
    "new_lesions_to_date",
    "lesions",
];

pub fn lesion_field(name: &str) -> Option<(LesionField, Ty)> {
    use LesionField as F;
    Some(match name {
        "id" => (F::Id, Ty::TEXT),
        "role" => (F::Role, Ty::enumeration(ROLE).optional()),
        "component" => (F::Component, Ty::enumeration(COMPONENT).optional()),
        "organ" => (F::Organ, Ty::TEXT.optional()),
        "is_new" => (F::IsNew, Ty::BOOL),
        "first_seen" => (F::FirstSeen, Ty::DATE),
        "order" => (F::Order, Ty::num(Unit::One)),
        "d1" => (F::D1, Ty::num(Unit::Mm).optional()),
        "d2" => (F::D2, Ty::num(Unit::Mm).optional()),
        "ld" => (F::Ld, Ty::num(Unit::Mm).optional()),
        "sa" => (F::Sa, Ty::num(Unit::Mm).optional()),
        "vol_ml" => (F::VolMl, Ty::num(Unit::Ml).optional()),
        "status" => (F::Status, Ty::enumeration(MEASURE_STATUS)),
        "nt_status" => (F::NtStatus, Ty::enumeration(NT_STATUS).optional()),
        "equivocal" => (F::Equivocal, Ty::BOOL),
        "outside_radiation_field" => (F::OutsideRadiationField, Ty::BOOL),
        _ => return None,
    })
}

pub const LESION_FIELDS: &[&str] = &[
    "id",
    "role",
    "component",
    "organ",
    "is_new",
    "first_seen",
    "order",
    "d1",
    "d2",
    "ld",
    "sa",
    "vol_ml",
    "status",
    "nt_status",
    "equivocal",
    "outside_radiation_field",
];

/// A type name as written in a rule file.
pub fn named_type(name: &str) -> Option<Ty> {
    Some(match name {
        "number" | "count" | "percent" => Ty::num(Unit::One),
        "mm" => Ty::num(Unit::Mm),
        "mm2" => Ty::num(Unit::Mm2),
        "ml" => Ty::num(Unit::Ml),
        "mg/day" => Ty::num(Unit::MgPerDay),
        // a duration written in weeks is held in days (`4 weeks` is 28 days)
        "days" | "weeks" => Ty::num(Unit::Days),
        "months" => Ty::num(Unit::Months),
        "bool" => Ty::BOOL,
        "date" => Ty::DATE,
        "scan" => Ty::SCAN,
        "lesion" => Ty::LESION,
        "text" => Ty::TEXT,
        "label" => Ty::enumeration(LABEL),
        "decision" => Ty::enumeration(DECISION),
        other => {
            let i = CASE_ENUMS.iter().position(|(n, _)| *n == other)?;
            Ty::new(Base::Enum(EnumId(u16::try_from(i).ok()?)))
        }
    })
}

pub const TYPE_NAMES: &[&str] = &[
    "number",
    "count",
    "percent",
    "mm",
    "mm2",
    "ml",
    "mg/day",
    "days",
    "months",
    "bool",
    "date",
    "scan",
    "lesion",
    "text",
    "label",
    "decision",
    "setting",
    "scan_kind",
    "trend",
    "enhancement",
    "decline_cause",
    "pathology",
    "measure_status",
    "nt_status",
    "role",
    "component",
];
