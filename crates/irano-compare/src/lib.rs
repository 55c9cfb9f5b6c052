//! Comparing what rules decide, for `irano-eval diff`, `explain` and `compare`:
//!
//! - [`diff`]: one cohort under two programs (two criteria, or one criterion with two
//!   parameter sets): every output that changed, per patient, with the rule that decided
//!   it before and after, and a summary (best-overall-response transitions, shifts of the
//!   progression date).
//! - [`explain`]: one patient's full derivation — every rule each table tried, why it
//!   fired or not, every definition it read — rendered as text.
//! - [`compare`]: one timeline under several criteria, side by side.
//!
//! Pure: the caller reads rule files and cases and writes the rendered text; nothing here
//! names a criterion, a label or a rule.

pub mod compare;
pub mod diff;
pub mod explain;
mod table;

pub use compare::{compare_case, Comparison, CriterionColumn};
pub use diff::{Change, DiffReport, DiffSummary, Differ, Field};
pub use explain::{explain, select, ExplainError, Explained};
