//! `irano-eval test`: cases with their expected outcome and snapshots (`irano-testing`);
//! this module only renders its problems as diagnostics and its report as text.

use std::path::{Path, PathBuf};

use irano_testing::{Options, Problem};

use crate::render::{self, Output};

/// Runs the cases under `paths`. `colour`: standard output is a terminal (`NO_COLOR`
/// turns colour off). Exit status: 0 all hold and match, 1 a failure or an unaccepted
/// new or changed snapshot, 2 bad input.
pub fn test(
    out: &mut Output,
    rules: Option<&Path>,
    paths: &[PathBuf],
    accept: bool,
    colour: bool,
) -> u8 {
    let options = Options {
        rules: rules.map(Path::to_path_buf),
        include: out.include.clone(),
        accept,
    };
    let report = irano_testing::run(paths, &options, render::table);
    for p in &report.problems {
        match p {
            Problem::Case(e) => out.case_error(e),
            Problem::Diagnostic(d) => out.diagnostic(d),
        }
    }
    let colour = colour && std::env::var_os("NO_COLOR").is_none();
    out.out.push_str(&report.render(colour));
    report.exit_code()
}
