//! CDISC SDTM tumour domains in, cases out; reconciliation of recorded against derived
//! responses; derived responses out as SDTM RS and ADaM-style rows.
//!
//! ```text
//! TU, TR (+ DM/EX, CM) --import--> cases (JSON Lines, the case format)
//! cases --irano-evaluate--> results --reconcile (with RS)--> agreement report
//!                                   --export--> RS rows, ADaM-style rows
//! ```
//!
//! Every problem with the input is an [`SdtmDiagnostic`] naming the dataset, the row
//! (`--SEQ` and line) and the column; all are collected, and nothing is produced when
//! any is an error. The library names no criterion: the mapping of recorded values to
//! labels is data (`default-map.yaml`, a `--map` file), RSCAT comes from the rule file.

pub mod dataset;
pub mod diag;
pub mod export;
pub mod import;
mod json;
pub mod mapping;
pub mod reconcile;
pub mod xpt;

pub use dataset::Dataset;
pub use diag::{Location, SdtmDiagnostic, Severity};
pub use import::{import, Imported, Options, Sources, SubjectCase, Visit};
pub use mapping::Mapping;
