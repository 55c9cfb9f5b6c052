//! Cases that carry their expected outcome, for trial teams and for the repository's own
//! worked corpus: the logic of `irano-eval test`.
//!
//! A tested case is a case file (YAML or JSON, one case) with `x-` annotations
//! ([`annotations::KEYS`]): `x-expect` holds the outcome derived by hand, `x-rules` and
//! `x-set` name the criterion and its parameter overrides. A run
//!
//! 1. reads every case and its annotations and checks every criterion it names
//!    ([`Runner::load`]); any problem stops the run before anything is evaluated;
//! 2. evaluates each case and checks its expectations ([`Loaded::run`], [`expect::check`]);
//! 3. compares the case's title and result table with its snapshot,
//!    `DIR/snapshots/NAME.snap` ([`snapshot`]), and with `accept` writes the new and
//!    changed snapshots of the cases whose expectations hold — never of a failing one.
//!
//! The table is drawn by the caller (`irano_cli::render::table`), so that a snapshot is
//! exactly what a user sees; this crate renders no diagnostics (the CLI does).

pub mod annotations;
pub mod expect;
mod report;
mod runner;
pub mod snapshot;

pub use annotations::{Annotations, Expect};
pub use expect::Mismatch;
pub use report::{run, CaseReport, Options, Report, Status};
pub use runner::{Loaded, Outcome, Problem, Render, Runner};
