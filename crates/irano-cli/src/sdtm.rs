//! `irano-eval import sdtm`, `reconcile` and `export`: the SDTM door. The mapping and
//! every decision live in `irano-sdtm` and the rule files; this module reads the
//! command line, renders diagnostics and writes files.

use std::path::{Path, PathBuf};

use irano_sdtm::{Dataset, Mapping, SdtmDiagnostic};

use crate::render::Output;

/// The SDTM datasets and mapping options shared by `import sdtm`, `reconcile` and `export`.
#[derive(clap::Args, Debug, Clone)]
pub struct SdtmArgs {
    /// TU (tumour identification). Each dataset is CSV, Dataset-JSON 1.1 (`.json`) or SAS transport (`.xpt`).
    #[arg(long, value_name = "FILE")]
    pub tu: PathBuf,
    /// TR (tumour results).
    #[arg(long, value_name = "FILE")]
    pub tr: PathBuf,
    /// DM (demographics): RFXSTDTC is the therapy start.
    #[arg(long, value_name = "FILE")]
    pub dm: Option<PathBuf>,
    /// EX (exposure): the first EXSTDTC is the therapy start of subjects DM does not date.
    #[arg(long, value_name = "FILE")]
    pub ex: Option<PathBuf>,
    /// CM (concomitant medication): corticosteroid dose at each scan.
    #[arg(long, value_name = "FILE")]
    pub cm: Option<PathBuf>,
    /// Read only this evaluator (TREVALID, else TREVAL); default: one case per evaluator.
    #[arg(long, value_name = "NAME")]
    pub evaluator: Option<String>,
    /// A mapping file laid over the defaults (docs/sdtm.md).
    #[arg(long, value_name = "FILE")]
    pub map: Option<PathBuf>,
    /// Turn the documented errors (partial dates, missing lesions, ...) into warnings.
    #[arg(long)]
    pub lenient: bool,
}

pub(crate) fn report(out: &mut Output, d: &SdtmDiagnostic) {
    let (file, line) = match &d.location {
        Some(l) => (Some(l.file.clone()), l.line),
        None => (None, None),
    };
    out.report(d, file.as_deref(), line, None);
}

/// At most this many diagnostics of one code and severity are shown; the rest are counted
/// (a study with one slip repeated on every record would otherwise bury the others).
const MAX_SHOWN_PER_CODE: usize = 10;

/// Reports diagnostics in order, the first [`MAX_SHOWN_PER_CODE`] of each code and severity
/// in full, then one line per code saying how many more there were (all of them with
/// `--error-format json`, whose reader is a program).
pub(crate) fn report_all(out: &mut Output, diags: &[SdtmDiagnostic]) {
    if out.json_errors() {
        for d in diags {
            report(out, d);
        }
        return;
    }
    let mut counts: Vec<(&'static str, bool, usize)> = Vec::new();
    for d in diags {
        let key = (d.code, d.is_error());
        let n = match counts.iter_mut().find(|c| (c.0, c.1) == key) {
            Some(c) => {
                c.2 += 1;
                c.2
            }
            None => {
                counts.push((key.0, key.1, 1));
                1
            }
        };
        if n <= MAX_SHOWN_PER_CODE {
            report(out, d);
        }
    }
    for (code, is_error, n) in counts {
        if n > MAX_SHOWN_PER_CODE {
            let more = n - MAX_SHOWN_PER_CODE;
            let kind = if is_error { "error" } else { "warning" };
            let d = SdtmDiagnostic::error(
                code,
                format!("{more} more `{code}` {kind}s, not shown ({n} in all)"),
                format!(
                    "the first {MAX_SHOWN_PER_CODE} are shown above; the rest are of the same kind; `--error-format json` lists every one"
                ),
            )
            .lenient(!is_error);
            report(out, &d);
        }
    }
}

/// Reads the datasets and imports the cases; reports every diagnostic.
pub(crate) fn load(
    out: &mut Output,
    args: &SdtmArgs,
    rs: Option<&Path>,
) -> Option<(irano_sdtm::Imported, Mapping, Option<Dataset>)> {
    let mut diags = Vec::new();
    let mut read = |p: &Path, domain: &str| match Dataset::read(p, domain) {
        Ok(d) => Some(d),
        Err(e) => {
            diags.push(e);
            None
        }
    };
    let tu = read(&args.tu, "TU");
    let tr = read(&args.tr, "TR");
    let dm = args.dm.as_deref().map(|p| read(p, "DM"));
    let ex = args.ex.as_deref().map(|p| read(p, "EX"));
    let cm = args.cm.as_deref().map(|p| read(p, "CM"));
    let rs = rs.map(|p| read(p, "RS"));
    let map = match Mapping::load(args.map.as_deref()) {
        Ok(m) => Some(m),
        Err(e) => {
            diags.extend(e);
            None
        }
    };
    let failed = !diags.is_empty();
    report_all(out, &diags);
    if failed {
        return None;
    }
    let (Some(tu), Some(tr), Some(map)) = (tu, tr, map) else {
        return None;
    };
    let sources = irano_sdtm::Sources {
        tu: &tu,
        tr: &tr,
        dm: dm.as_ref().and_then(Option::as_ref),
        ex: ex.as_ref().and_then(Option::as_ref),
        cm: cm.as_ref().and_then(Option::as_ref),
    };
    let opts = irano_sdtm::Options {
        evaluator: args.evaluator.clone(),
        lenient: args.lenient,
    };
    match irano_sdtm::import(&sources, &map, &opts) {
        Ok(imported) => {
            report_all(out, &imported.warnings);
            Some((imported, map, rs.flatten()))
        }
        Err(diags) => {
            let errors = diags.iter().filter(|d| d.is_error()).count();
            let softened = diags
                .iter()
                .filter(|d| d.is_error() && d.lenient_allowed)
                .count();
            report_all(out, &diags);
            let help = if softened == 0 {
                "fix the records or columns named above (`--lenient` does not apply to these errors)".to_string()
            } else if softened == errors {
                "fix the records named above, or pass `--lenient`, which makes each of them a warning and leaves the record out or marks it as its help says (docs/sdtm.md)".to_string()
            } else {
                format!("fix the records named above; `--lenient` makes {softened} of the {errors} warnings (docs/sdtm.md), not the others")
            };
            out.message(
                "sdtm::not_imported",
                format!("{errors} error(s) in the SDTM input: nothing was written"),
                &help,
            );
            None
        }
    }
}

/// Writes each text to its path, all or none: every file is written to a temporary file
/// beside its target first, and only when all are complete are they renamed into place.
/// An output that names an input, or two outputs that name one file, are refused before
/// anything is written. Returns the exit code (0, 1 when a file cannot be written, 2 when
/// the paths clash).
pub(crate) fn write_all(out: &mut Output, files: &[(&Path, &str)], inputs: &[&Path]) -> u8 {
    // `-` is standard output, as for `eval -o -`: at most one output can be
    let is_stdout = |p: &Path| p.as_os_str() == "-";
    let stdout: Vec<&str> = files
        .iter()
        .filter(|(p, _)| is_stdout(p))
        .map(|(_, t)| *t)
        .collect();
    if stdout.len() > 1 {
        out.message(
            "sdtm::same_output",
            "two outputs are standard output (`-`)".into(),
            "name a file for all outputs but one",
        );
        return 2;
    }
    let files: Vec<(&Path, &str)> = files
        .iter()
        .filter(|(p, _)| !is_stdout(p))
        .copied()
        .collect();
    let outputs: Vec<&Path> = files.iter().map(|(p, _)| *p).collect();
    let codes = crate::output::OverwriteCodes {
        output_is_input: "sdtm::output_is_input",
        same_output: "sdtm::same_output",
        output_is_folder: "sdtm::output_is_folder",
    };
    if !crate::output::refuse_overwrites(out, &outputs, inputs, &codes) {
        return 2;
    }
    let mut opened = Vec::new();
    for (p, text) in &files {
        let written = crate::output::Destination::open(Some(p)).and_then(|mut d| {
            d.write(text.as_bytes())?;
            Ok(d)
        });
        match written {
            Ok(d) => opened.push(d),
            Err(e) => {
                // the ones already written are dropped, their temporary files removed
                return crate::stream::write_failed(out, &e);
            }
        }
    }
    match crate::output::commit_all(opened) {
        Ok(()) => {
            // standard output only once every file is in place (nothing half-written)
            if let Some(text) = stdout.first() {
                out.out.push_str(text);
            }
            0
        }
        Err(e) => crate::stream::write_failed(out, &e),
    }
}

/// The input files of an SDTM command, which no output may overwrite.
fn inputs(args: &SdtmArgs) -> Vec<&Path> {
    [
        Some(&args.tu),
        Some(&args.tr),
        args.dm.as_ref(),
        args.ex.as_ref(),
        args.cm.as_ref(),
        args.map.as_ref(),
    ]
    .into_iter()
    .flatten()
    .map(PathBuf::as_path)
    .collect()
}

/// `irano-eval import sdtm`.
pub fn import(out: &mut Output, args: &SdtmArgs, output: &Path) -> u8 {
    // The cases are written as JSON Lines; a `.yaml` or `.json` name would promise a
    // format the file does not hold (a YAML reader fails on its second line).
    let ext = output
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if let Some(ext @ ("yaml" | "yml" | "json")) = ext.as_deref() {
        out.message(
            "sdtm::output_not_jsonl",
            format!(
                "`{}`: import writes JSON Lines (one case per line), not `.{ext}`",
                output.display()
            ),
            "name the output `.jsonl` (`eval` reads it as it reads a YAML case file)",
        );
        return 2;
    }
    let Some((imported, _, _)) = load(out, args, None) else {
        return 2;
    };
    let text = imported.jsonl();
    let code = write_all(out, &[(output, text.as_str())], &inputs(args));
    if code != 0 {
        return code;
    }
    let scans: usize = imported.cases.iter().map(|c| c.visits.len()).sum();
    out.err.push_str(&format!(
        "imported {} case(s), {scans} scan(s), into {}{}\n",
        imported.cases.len(),
        if output.as_os_str() == "-" {
            "standard output".to_string()
        } else {
            output.display().to_string()
        },
        if imported.warnings.is_empty() {
            String::new()
        } else {
            format!(" ({} warning(s))", imported.warnings.len())
        }
    ));
    0
}

/// Loads the rule file (with `--set`) and evaluates every imported case. With `warn`, the
/// warnings about the cases and their evaluation are reported as `eval` reports them (the
/// first few of each kind): a criterion that does not fit the data says so here too.
fn derive(
    out: &mut Output,
    rules: &Path,
    set: &[String],
    imported: &irano_sdtm::Imported,
    warn: bool,
) -> Option<(irano_check::Program, Vec<irano_evaluate::CaseResult>)> {
    let (set, set_ok) = crate::render::overrides(out, set);
    let program = crate::render::load(out, rules, &set)?;
    if !set_ok {
        return None;
    }
    let mut results = Vec::new();
    let mut failed = false;
    let mut warnings = crate::render::Warnings::for_output(out);
    let mut ev = irano_evaluate::Evaluator::new(&program);
    for c in &imported.cases {
        match ev.evaluate(&c.case) {
            Ok(r) => {
                if warn {
                    // the import said where DIAMETER and LDIAM disagree, at the records
                    // (`sdtm::diameters_disagree`); the case's `ld` and `d` are its own
                    for w in irano_evaluate::warnings::for_case(&c.case, &[(&ev, &r)])
                        .into_iter()
                        .filter(|w| w.code != "eval::lengths_disagree")
                    {
                        warnings.add(w);
                    }
                }
                results.push(r);
            }
            Err(e) => {
                failed = true;
                out.message(
                    "eval::error",
                    format!("{}: {} (at {})", e.patient, e.message, e.location),
                    "the rule file needs a guard for this case",
                );
            }
        }
    }
    warnings.report(out);
    (!failed).then_some((program, results))
}

/// `irano-eval reconcile`: exit 0 whatever the agreement, 2 on bad input.
pub fn reconcile(
    out: &mut Output,
    rules: &Path,
    set: &[String],
    args: &SdtmArgs,
    rs: &Path,
    json: bool,
) -> u8 {
    let Some((imported, map, Some(rs))) = load(out, args, Some(rs)) else {
        return 2;
    };
    let Some((program, results)) = derive(out, rules, set, &imported, true) else {
        return 2;
    };
    let criterion = format!("{} {}", program.id, program.version);
    // the labels the rule file names natively (iRECIST's `iUPD`), which RS may record
    let natives: Vec<(String, String)> = program
        .native_labels
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            let label = program.label_name(u16::try_from(i).ok()?);
            n.as_ref().map(|n| (n.clone(), label.to_string()))
        })
        .collect();
    match irano_sdtm::reconcile::reconcile(
        &imported,
        &results,
        &rs,
        &map,
        args.evaluator.as_deref(),
        &irano_sdtm::reconcile::Criterion {
            name: &criterion,
            category: program.cdisc_category.as_deref(),
            natives: &natives,
        },
        args.lenient,
    ) {
        Ok((report, warnings)) => {
            report_all(out, &warnings);
            if json {
                match serde_json::to_string_pretty(&report) {
                    Ok(t) => {
                        out.out.push_str(&t);
                        out.out.push('\n');
                    }
                    Err(e) => {
                        out.message("sdtm::json", e.to_string(), "please report this");
                        return 2;
                    }
                }
            } else {
                out.out.push_str(&report.table());
            }
            0
        }
        Err(diags) => {
            report_all(out, &diags);
            2
        }
    }
}

/// `irano-eval export sdtm`: derived responses as SDTM RS rows and an ADaM-style dataset.
#[allow(clippy::too_many_arguments)]
pub fn export(
    out: &mut Output,
    rules: &Path,
    set: &[String],
    unconfirmed: &[String],
    args: &SdtmArgs,
    rs_output: Option<&Path>,
    adam_output: Option<&Path>,
) -> u8 {
    if rs_output.is_none() && adam_output.is_none() {
        out.message(
            "sdtm::no_output",
            "nothing to write".into(),
            "give --rs-output FILE, --adam-output FILE or both",
        );
        return 2;
    }
    let Some((imported, map, _)) = load(out, args, None) else {
        return 2;
    };
    let Some((program, results)) = derive(out, rules, set, &imported, true) else {
        return 2;
    };
    if !set.is_empty() {
        // RS and ADaM have no field for them: the rows read as the published criterion
        out.diagnostic(
            &irano_check::Diagnostic::warning(
                "sdtm::overrides_not_in_output",
                format!(
                    "derived with --set {}: RSCAT still names `{}`, and no exported field records the change",
                    set.join(", --set "),
                    program.cdisc_category.as_deref().unwrap_or(&program.id)
                ),
            )
            .help("record the overrides with the exported datasets (define.xml, analysis data reviewer's guide), or write them as an amendment with its own cdisc_category"),
        );
    }
    let Some(rscat) = program.cdisc_category.clone() else {
        out.message(
            "sdtm::no_category",
            format!("`{}` declares no `cdisc_category`: RSCAT is unknown", rules.display()),
            "add `cdisc_category \"...\"` (the CDISC controlled-terminology value, e.g. from the ONCRSCAT codelist) to the criterion's header",
        );
        return 2;
    };
    let unconfirmed_results = if unconfirmed.is_empty() {
        None
    } else {
        let mut all = set.to_vec();
        all.extend(unconfirmed.iter().cloned());
        let Some((_, u)) = derive(out, rules, &all, &imported, false) else {
            return 2;
        };
        Some(u)
    };
    let spec = irano_sdtm::export::ExportSpec {
        rscat: &rscat,
        rseval: &map.rseval,
    };
    let mut files = Vec::new();
    if let Some(p) = rs_output {
        files.push((
            p,
            irano_sdtm::export::rs_rows(&imported, &results, &map, &spec),
        ));
    }
    if let Some(p) = adam_output {
        files.push((
            p,
            irano_sdtm::export::adam_rows(
                &imported,
                &results,
                unconfirmed_results.as_deref(),
                &map,
                &spec,
            ),
        ));
    }
    let mut texts = Vec::new();
    for (p, t) in files {
        match t {
            Ok(t) => texts.push((p, t)),
            Err(e) => {
                out.message("sdtm::csv", e, "please report this");
                return 2;
            }
        }
    }
    let files: Vec<(&Path, &str)> = texts.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let mut all_inputs = inputs(args);
    all_inputs.push(rules);
    write_all(out, &files, &all_inputs)
}
