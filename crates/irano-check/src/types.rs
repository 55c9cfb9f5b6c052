//! Types and units of the rule language.

use std::fmt;

/// Physical unit of a number. Percentages and counts are plain numbers (`One`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    One,
    Mm,
    Mm2,
    Ml,
    MgPerDay,
    Days,
    Months,
}

impl Unit {
    pub fn name(self) -> &'static str {
        match self {
            Unit::One => "number",
            Unit::Mm => "mm",
            Unit::Mm2 => "mm2",
            Unit::Ml => "ml",
            Unit::MgPerDay => "mg/day",
            Unit::Days => "days",
            Unit::Months => "months",
        }
    }

    /// The unit suffix used when printing a value (`""` for plain numbers).
    pub fn suffix(self) -> &'static str {
        match self {
            Unit::One => "",
            u => u.name(),
        }
    }

    /// `a * b`, if it has a unit the language knows.
    pub fn times(a: Unit, b: Unit) -> Option<Unit> {
        match (a, b) {
            (Unit::One, u) | (u, Unit::One) => Some(u),
            (Unit::Mm, Unit::Mm) => Some(Unit::Mm2),
            _ => None,
        }
    }

    /// `a / b`, if it has a unit the language knows.
    pub fn per(a: Unit, b: Unit) -> Option<Unit> {
        match (a, b) {
            (u, Unit::One) => Some(u),
            (a, b) if a == b => Some(Unit::One),
            (Unit::Mm2, Unit::Mm) => Some(Unit::Mm),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnumId(pub u16);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Base {
    Bool,
    Num(Unit),
    Date,
    Enum(EnumId),
    Scan,
    Lesion,
    Text,
    ScanSet,
    LesionSet,
    /// The type of a bare `null` before its context gives it one.
    Null,
}

/// A type: a base type, possibly optional (`T?`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ty {
    pub base: Base,
    pub opt: bool,
}

impl Ty {
    pub const BOOL: Ty = Ty::new(Base::Bool);
    pub const DATE: Ty = Ty::new(Base::Date);
    pub const SCAN: Ty = Ty::new(Base::Scan);
    pub const LESION: Ty = Ty::new(Base::Lesion);
    pub const TEXT: Ty = Ty::new(Base::Text);
    pub const NULL: Ty = Ty {
        base: Base::Null,
        opt: true,
    };

    pub const fn new(base: Base) -> Ty {
        Ty { base, opt: false }
    }
    pub const fn num(u: Unit) -> Ty {
        Ty::new(Base::Num(u))
    }
    pub const fn enumeration(id: EnumId) -> Ty {
        Ty::new(Base::Enum(id))
    }
    pub const fn optional(self) -> Ty {
        Ty {
            base: self.base,
            opt: true,
        }
    }
    pub const fn required(self) -> Ty {
        Ty {
            base: self.base,
            opt: false,
        }
    }
    pub fn with_opt(self, opt: bool) -> Ty {
        Ty {
            base: self.base,
            opt,
        }
    }
    pub fn is_null(&self) -> bool {
        self.base == Base::Null
    }

    /// The type both `a` and `b` fit in (for `if`, `match`, `??`, `==`), if any.
    pub fn unify(a: Ty, b: Ty) -> Option<Ty> {
        match (a.base, b.base) {
            (Base::Null, Base::Null) => Some(Ty::NULL),
            (Base::Null, _) => Some(b.optional()),
            (_, Base::Null) => Some(a.optional()),
            (x, y) if x == y => Some(Ty {
                base: x,
                opt: a.opt || b.opt,
            }),
            _ => None,
        }
    }
}

/// Renders a type for messages, given the enumeration names.
pub struct TyDisplay<'a> {
    pub ty: Ty,
    pub enums: &'a [crate::program::EnumDef],
}

/// How an error says what a value is, from its type's name: `a plain number`, `in mm`,
/// `true or false`, `a date`, `a label`.
pub fn value_phrase(type_name: &str) -> String {
    let name = type_name.trim_end_matches('?');
    match name {
        "number" => "a plain number (no unit)".to_string(),
        "mm" | "mm2" | "ml" | "mg/day" | "days" | "months" => format!("in {name}"),
        "bool" => "true or false".to_string(),
        "null" => "null".to_string(),
        "text" => "text in quotes".to_string(),
        _ => format!("a {name}"),
    }
}

impl fmt::Display for TyDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ty.base {
            Base::Bool => f.write_str("bool")?,
            Base::Num(u) => f.write_str(u.name())?,
            Base::Date => f.write_str("date")?,
            Base::Enum(id) => {
                let name = self
                    .enums
                    .get(usize::from(id.0))
                    .map(|e| e.name.as_str())
                    .unwrap_or("enumeration");
                f.write_str(name)?
            }
            Base::Scan => f.write_str("scan")?,
            Base::Lesion => f.write_str("lesion")?,
            Base::Text => f.write_str("text")?,
            Base::ScanSet => f.write_str("set of scans")?,
            Base::LesionSet => f.write_str("set of lesions")?,
            Base::Null => return f.write_str("null"),
        }
        if self.ty.opt {
            f.write_str("?")?;
        }
        Ok(())
    }
}
