//! `irano-eval`: the command line. It only dispatches, reads files and renders; every
//! decision is made by the rule files through `irano-check` and `irano-evaluate`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use irano_cli::output::WriteFailure;
use irano_cli::render;
use irano_evaluate::Trace;

/// Examples name the bundled rule files and cases; they live in a text file, not in code,
/// so that no criterion is named in the Rust sources.
const EXAMPLES: &str = include_str!("help-examples.txt");
const TEST_EXAMPLES: &str = include_str!("help-examples-test.txt");
const DIFF_EXAMPLES: &str = include_str!("help-examples-diff.txt");
const EXPLAIN_EXAMPLES: &str = include_str!("help-examples-explain.txt");
const COMPARE_EXAMPLES: &str = include_str!("help-examples-compare.txt");

#[derive(Parser)]
#[command(
    name = "irano-eval",
    version,
    propagate_version = true,
    about = "Evaluate neuro-oncology response criteria (RANO, iRANO, ...) on patient timelines",
    long_about = "Evaluate neuro-oncology response criteria on patient timelines.\n\n\
        Criteria are rule files (rules/*.rano); cases are YAML, JSON or JSON Lines files \
        in the format of docs/case-format.md. Every result names the rule that decided it.",
    after_help = EXAMPLES
)]
struct Cli {
    /// How to print diagnostics: `human` (with the source underlined) or `json` (one object per line).
    #[arg(long, value_enum, default_value_t = ErrorFormat::Human, global = true)]
    error_format: ErrorFormat,
    /// Also look for parent criteria (`extends "id"`) in this folder; repeatable.
    /// A parent is first looked for next to the file that extends it.
    #[arg(long, value_name = "DIR", global = true)]
    include: Vec<PathBuf>,
    /// Colour in diagnostics: `auto` (when standard error is a terminal and NO_COLOR is unset), `always` or `never`.
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    color: Color,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check rule files: names, types, units, citations, reachability. Exit 0 when clean, 2 on errors.
    #[command(after_help = EXAMPLES)]
    Check {
        /// Rule files to check (a folder: every `.rano` file under it).
        #[arg(required = true)]
        rules: Vec<PathBuf>,
        /// Parameter overrides to check as well, `KEY=VALUE`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Evaluate a criterion on cases and print per-scan responses and the summary.
    #[command(
        after_help = EXAMPLES
    )]
    Eval {
        /// The criterion's rule file.
        #[arg(long, value_name = "FILE")]
        rules: PathBuf,
        /// Change a parameter for this run (repeatable); `irano-eval params RULES` lists them.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Case files or directories (YAML, JSON, JSON Lines); `-` reads standard input.
        cases: Vec<PathBuf>,
        /// Output format: `table`, `json` (an array for several cases), `jsonl` (one
        /// result per line; cases are read as a stream, the output is written once the run
        /// has succeeded) or `csv` (one row per assessment).
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// How much explanation: `full` (every rule that fired and the values it
        /// compared), `rules` (the deciding rule ids only) or `none` (labels and values).
        #[arg(long, value_enum, default_value_t = TraceArg::Full)]
        trace: TraceArg,
        /// Write the output to FILE (a temporary file beside it, renamed when the whole
        /// run succeeded) instead of standard output (`-o -` is standard output).
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Also write one CSV row per patient (best overall response, progression dates,
        /// final decision) to FILE.
        #[arg(long, value_name = "FILE")]
        summary: Option<PathBuf>,
        /// The syntax of cases read from standard input (`-`) or from an input whose name
        /// gives none (a pipe such as `<(zcat cases.jsonl.gz)`, a `.txt` file); guessed
        /// from the first bytes when absent (a file named otherwise then needs it).
        #[arg(long, value_enum, value_name = "FORMAT")]
        input_format: Option<InputFormat>,
        /// Threads evaluating cases (default, or 0: one per core; at most 256). The output
        /// is the same whatever the number.
        #[arg(short = 'j', long, visible_alias = "threads", value_name = "N",
              value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=MAX_JOBS))]
        jobs: Option<usize>,
        /// How many errors in the cases to report (the others are counted); 0 reports
        /// every one (a pipeline that needs the full list of bad lines), and every warning
        /// too (otherwise the first 10 of each kind).
        #[arg(long, value_name = "N", default_value_t = 100)]
        max_errors: usize,
    },
    /// What a rule change changes on a cohort: every output that differs per patient (with
    /// the rule that decided it before and after) and a summary. Exit 0 when nothing
    /// changed, 1 when something did, 2 on bad input.
    #[command(after_help = DIFF_EXAMPLES)]
    Diff {
        /// The old rule file, then the new one; or one file with `--set-old` / `--set-new`.
        #[arg(long, value_name = "FILE", required = true)]
        rules: Vec<PathBuf>,
        /// Change a parameter on both sides (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Change a parameter of the old side only (repeatable).
        #[arg(long = "set-old", value_name = "KEY=VALUE")]
        set_old: Vec<String>,
        /// Change a parameter of the new side only (repeatable).
        #[arg(long = "set-new", value_name = "KEY=VALUE")]
        set_new: Vec<String>,
        /// Case files or directories (YAML, JSON, JSON Lines).
        #[arg(required = true)]
        cases: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = irano_cli::compare::TableFormat::Table)]
        format: irano_cli::compare::TableFormat,
        /// Also list every output whose value is the same but was decided by another rule
        /// (a change of reason); it counts as a change.
        #[arg(long)]
        rule_changes: bool,
        /// Threads evaluating cases (default, or 0: one per core; at most 256). The report is the same
        /// whatever the number.
        #[arg(short = 'j', long, visible_alias = "threads", value_name = "N",
              value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=MAX_JOBS))]
        jobs: Option<usize>,
    },
    /// One patient's full derivation: every rule each table tried on a scan (or on every
    /// scan, then the summary), why it fired or not, every definition it read.
    #[command(after_help = EXPLAIN_EXAMPLES)]
    Explain {
        /// The criterion's rule file.
        #[arg(long, value_name = "FILE")]
        rules: PathBuf,
        /// Change a parameter for this run (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// The case file (or directory; then name the patient).
        case: PathBuf,
        /// The patient, when the input holds several.
        #[arg(long, value_name = "ID")]
        patient: Option<String>,
        /// The scan to explain; every scan and the summary when absent.
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = irano_cli::compare::TextFormat::Text)]
        format: irano_cli::compare::TextFormat,
    },
    /// Each timeline under several criteria side by side: a row per scan, a column per
    /// criterion, then each criterion's summary.
    #[command(after_help = COMPARE_EXAMPLES)]
    Compare {
        /// A criterion's rule file; repeat for each criterion, in column order.
        #[arg(long, value_name = "FILE", required = true)]
        rules: Vec<PathBuf>,
        /// Case files or directories (YAML, JSON, JSON Lines).
        #[arg(required = true)]
        cases: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = irano_cli::compare::TableFormat::Table)]
        format: irano_cli::compare::TableFormat,
    },
    /// Test cases that carry their expected outcome (`x-expect`) and compare each result
    /// with its snapshot (`snapshots/NAME.snap` beside the case). Exit 0 when all hold and
    /// match, 1 when one fails, is new or changed, 2 on bad input.
    #[command(after_help = TEST_EXAMPLES)]
    Test {
        /// The criterion to test the cases against; it replaces the one a case names with
        /// `x-rules: FILE` (a warning says so when that is another file). Without it, each
        /// case is tested against the rule file its `x-rules` names.
        #[arg(long, value_name = "FILE")]
        rules: Option<PathBuf>,
        /// Write the new and changed snapshots of the cases whose expectations hold.
        #[arg(long)]
        accept: bool,
        /// Case files (.yaml, .yml, .json; one case each) or folders of them.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Import trial data: `import sdtm` reads CDISC SDTM TU/TR (+ DM/EX/CM) and writes
    /// one case per subject and evaluator (JSON Lines). Exit 0, 2 on bad input.
    Import {
        #[command(subcommand)]
        what: ImportKind,
    },
    /// Recorded against derived: every overall response in RS compared with the one the
    /// rule file derives from TU/TR, per subject, evaluator and visit. Exit 0 whatever
    /// the agreement (the report is the result), 2 on bad input.
    Reconcile {
        /// The criterion's rule file.
        #[arg(long, value_name = "FILE")]
        rules: PathBuf,
        /// Change a parameter for this run (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        #[command(flatten)]
        sdtm: irano_cli::sdtm::SdtmArgs,
        /// RS (disease response): the recorded responses.
        #[arg(long, value_name = "FILE")]
        rs: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
        format: ShowFormat,
    },
    /// Derived responses out: `export sdtm` evaluates the rule file on SDTM TU/TR and
    /// writes SDTM RS rows and an ADaM-style per-parameter dataset (CSV). Exit 0, 2 on bad input.
    Export {
        #[command(subcommand)]
        what: ExportKind,
    },
    /// List a criterion's parameters with their types, defaults and sources.
    Params {
        #[command(flatten)]
        rules: RuleFileArg,
    },
    /// Print the map of a criterion: every parameter, let, def, state, table and rule in
    /// evaluation order, with its type, doc line, source and file:line, marking what each
    /// amendment added, overrode or removed.
    Show {
        #[command(flatten)]
        rules: RuleFileArg,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
        format: ShowFormat,
    },
    /// Print a completion script for SHELL (bash, zsh, fish, elvish, powershell) on
    /// standard output, e.g. `irano-eval completions bash > ~/.local/share/bash-completion/completions/irano-eval`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Rewrite rule files in the canonical layout (comments kept, meaning unchanged).
    /// With `--check`, only list the files that are not in it (exit 1 if any).
    Fmt {
        /// Rule files, or folders of them.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Change nothing; exit 1 when a file is not in the canonical layout.
        #[arg(long)]
        check: bool,
    },
}

/// The rule file of `params` and `show`: `RULES`, or `--rules FILE` as `eval` takes it.
#[derive(clap::Args)]
struct RuleFileArg {
    /// The criterion's rule file.
    #[arg(required_unless_present = "rules_flag", value_name = "RULES")]
    rules: Option<PathBuf>,
    /// The rule file, written as `eval` takes it (`--rules FILE`).
    #[arg(long = "rules", value_name = "FILE", conflicts_with = "rules")]
    rules_flag: Option<PathBuf>,
}

impl RuleFileArg {
    fn path(self) -> PathBuf {
        self.rules.or(self.rules_flag).unwrap_or_default()
    }
}

#[derive(Subcommand)]
enum ImportKind {
    /// CDISC SDTM datasets (CSV, Dataset-JSON 1.1 or SAS transport .xpt); docs/sdtm.md.
    Sdtm {
        #[command(flatten)]
        sdtm: irano_cli::sdtm::SdtmArgs,
        /// The cases file to write (JSON Lines); nothing is written on error.
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
    },
}

#[derive(Subcommand)]
enum ExportKind {
    /// From CDISC SDTM datasets; docs/sdtm.md.
    Sdtm {
        /// The criterion's rule file (its `cdisc_category` is RSCAT).
        #[arg(long, value_name = "FILE")]
        rules: PathBuf,
        /// Change a parameter for this run (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// The overrides that make the best overall response unconfirmed (repeatable);
        /// given: a BOR parameter besides CBOR.
        #[arg(long = "unconfirmed", value_name = "KEY=VALUE")]
        unconfirmed: Vec<String>,
        #[command(flatten)]
        sdtm: irano_cli::sdtm::SdtmArgs,
        /// Write the derived RS rows (CSV) here.
        #[arg(long, value_name = "FILE")]
        rs_output: Option<PathBuf>,
        /// Write the ADaM-style dataset (CSV) here.
        #[arg(long, value_name = "FILE")]
        adam_output: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ShowFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum ErrorFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
    Jsonl,
    Csv,
}

#[derive(Clone, Copy, ValueEnum)]
enum TraceArg {
    Full,
    Rules,
    None,
}

#[derive(Clone, Copy, ValueEnum)]
enum InputFormat {
    Yaml,
    Json,
    Jsonl,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

/// mimalloc: the evaluation of a cohort makes many small, short-lived allocations (the case
/// read from each line, its result and text), which it serves at a fraction of the cost
/// of the system allocator (see README, Performance).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Run on a thread with a known, generous stack: deeply nested input must end in a
    // diagnostic, never a stack overflow.
    let handle = std::thread::Builder::new()
        .name("irano-eval".into())
        .stack_size(64 * 1024 * 1024)
        .spawn(run);
    match handle.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        _ => {
            eprintln!("irano-eval: internal error; please report it with the input that caused it");
            ExitCode::from(3)
        }
    }
}

/// The command line's grammar, each subcommand named as a user types it (`irano-eval eval
/// --version` says `irano-eval eval 0.1.0`, not clap's `irano-eval-eval`).
fn command() -> clap::Command {
    fn named(c: clap::Command, prefix: &str) -> clap::Command {
        let name = format!("{prefix} {}", c.get_name());
        let inner = name.clone();
        c.display_name(name)
            .mut_subcommands(move |sc| named(sc, &inner))
    }
    Cli::command().mut_subcommands(|sc| named(sc, "irano-eval"))
}

fn run() -> ExitCode {
    let parsed = command()
        .try_get_matches()
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            // help and version go to standard output: a write that fails there (a full
            // disk, /dev/full) is exit 1 with a message, and a closed pipe ends quietly, as
            // for any other output
            let to_stdout = !e.use_stderr();
            let written = e.print().and_then(|()| {
                if to_stdout {
                    std::io::Write::flush(&mut std::io::stdout())
                } else {
                    Ok(())
                }
            });
            if let (Err(w), true) = (written, to_stdout) {
                return match WriteFailure::from_io("to standard output", &w) {
                    WriteFailure::ClosedPipe => ExitCode::from(irano_cli::output::CLOSED_PIPE),
                    WriteFailure::Io { message, .. } => {
                        eprintln!("irano-eval: {message}");
                        ExitCode::from(1)
                    }
                };
            }
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let colour = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let mut out = render::Output::new(cli.error_format_is_json(), colour);
    out.include = cli.include.clone();
    // an --include that is not a folder finds no parent: said now, not only in the list
    // of places looked in when a parent is missing
    for dir in &cli.include {
        if !dir.is_dir() {
            let what = if dir.exists() {
                "is not a folder"
            } else {
                "does not exist"
            };
            out.diagnostic(
                &irano_check::Diagnostic::warning(
                    "cli::include",
                    format!("--include `{}` {what}", dir.display()),
                )
                .help("name the folder that holds the parent rule files, e.g. `--include rules`"),
            );
        }
    }
    let code = match cli.command {
        Command::Check { rules, set } => render::check(&mut out, &rules, &set),
        Command::Eval {
            rules,
            set,
            cases,
            format,
            trace,
            output,
            summary,
            input_format,
            jobs,
            max_errors,
        } => {
            if input_format.is_some()
                && cases.iter().all(|c| {
                    c.as_os_str() != "-"
                        && (c.is_dir() || irano_cases::Format::from_path(c).is_some())
                })
            {
                out.diagnostic(
                    &irano_check::Diagnostic::warning(
                        "cli::input_format",
                        "--input-format applies to standard input (`-`) and to inputs whose name gives no format (a pipe, a `.txt` file); the files named are read by their extension",
                    )
                    .help("name case files .yaml, .json or .jsonl, or pipe the cases in with `-`"),
                );
            }
            // `-o -` is standard output, as `-` is standard input for cases
            let output = output.filter(|o| o.as_os_str() != "-");
            let summary_to_stdout = summary.as_deref().is_some_and(|s| s.as_os_str() == "-");
            if summary_to_stdout {
                out.diagnostic(
                    &irano_check::Diagnostic::error(
                        "cli::summary_to_stdout",
                        "`--summary -`: the summary is written to a file",
                    )
                    .help("name a file for the summary (`--summary summary.csv`); standard output carries the main output"),
                );
            }
            let opts = irano_cli::stream::EvalOptions {
                format: format.into(),
                trace: match trace {
                    TraceArg::Full => Trace::Full,
                    TraceArg::Rules => Trace::Rules,
                    TraceArg::None => Trace::None,
                },
                output,
                summary,
                jobs: threads(jobs),
                input_format: input_format.map(|f| match f {
                    InputFormat::Yaml => irano_cases::Format::Yaml,
                    InputFormat::Json => irano_cases::Format::Json,
                    InputFormat::Jsonl => irano_cases::Format::JsonLines,
                }),
                progress: std::io::stderr().is_terminal(),
                max_errors: if max_errors == 0 {
                    usize::MAX
                } else {
                    max_errors
                },
            };
            if cases.is_empty() {
                // not a clap error: cases piped in without `-` are the usual slip, and clap's
                // usage line would not say how to read them
                let help = if std::io::stdin().is_terminal() {
                    "name case files or folders (`irano-eval eval --rules RULES cases/`), or `-` to read standard input"
                } else {
                    "to read the cases piped in, give `-`: `... | irano-eval eval --rules RULES -`"
                };
                out.diagnostic(
                    &irano_check::Diagnostic::error("cli::no_cases", "no cases given").help(help),
                );
                2
            } else if summary_to_stdout {
                2
            } else {
                irano_cli::stream::eval(&mut out, &rules, &set, &cases, &opts)
            }
        }
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            let mut buf = Vec::new();
            const BIN: &str = "irano-eval";
            clap_complete::generate(shell, &mut cmd, BIN, &mut buf);
            let mut script = String::from_utf8_lossy(&buf).into_owned();
            if shell == clap_complete::Shell::Bash {
                // clap_complete's bash script names the state of a subcommand of a bin with
                // a hyphen two ways (`irano__eval__subcmd__eval` in the loop, arms labelled
                // `irano__subcmd__eval__subcmd__eval`), so no option below the top level
                // completed (clap-rs/clap#6421): the arms are spelt as the loop spells them
                script = script.replace(&BIN.replace('-', "__subcmd__"), &BIN.replace('-', "__"));
            }
            out.out = script;
            0
        }
        Command::Diff {
            rules,
            set,
            set_old,
            set_new,
            cases,
            format,
            rule_changes,
            jobs,
        } => irano_cli::compare::diff(
            &mut out,
            &irano_cli::compare::DiffRequest {
                rules: &rules,
                set: &set,
                set_old: &set_old,
                set_new: &set_new,
                cases: &cases,
                format,
                rule_changes,
                jobs: threads(jobs),
            },
        ),
        Command::Explain {
            rules,
            set,
            case,
            patient,
            date,
            format,
        } => irano_cli::compare::explain(
            &mut out,
            &rules,
            &set,
            &case,
            patient.as_deref(),
            date.as_deref(),
            format,
        ),
        Command::Compare {
            rules,
            cases,
            format,
        } => irano_cli::compare::compare(&mut out, &rules, &cases, format),
        Command::Test {
            rules,
            accept,
            paths,
        } => irano_cli::testing::test(
            &mut out,
            rules.as_deref(),
            &paths,
            accept,
            std::io::stdout().is_terminal(),
        ),
        Command::Import {
            what: ImportKind::Sdtm { sdtm, output },
        } => irano_cli::sdtm::import(&mut out, &sdtm, &output),
        Command::Reconcile {
            rules,
            set,
            sdtm,
            rs,
            format,
        } => irano_cli::sdtm::reconcile(
            &mut out,
            &rules,
            &set,
            &sdtm,
            &rs,
            matches!(format, ShowFormat::Json),
        ),
        Command::Export {
            what:
                ExportKind::Sdtm {
                    rules,
                    set,
                    unconfirmed,
                    sdtm,
                    rs_output,
                    adam_output,
                },
        } => irano_cli::sdtm::export(
            &mut out,
            &rules,
            &set,
            &unconfirmed,
            &sdtm,
            rs_output.as_deref(),
            adam_output.as_deref(),
        ),
        Command::Params { rules } => render::params(&mut out, &rules.path()),
        Command::Show { rules, format } => {
            render::show(&mut out, &rules.path(), matches!(format, ShowFormat::Json))
        }
        Command::Fmt { paths, check } => irano_cli::fmt::fmt(&mut out, &paths, check),
    };
    // Write everything at once, after the whole run succeeded or failed: never half an
    // output (`eval` writes its own, streamed, output; see stream.rs).
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(out.err.as_bytes());
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(out.out.as_bytes())
        .and_then(|()| stdout.flush())
    {
        return match WriteFailure::from_io("to standard output", &e) {
            WriteFailure::ClosedPipe => ExitCode::from(irano_cli::output::CLOSED_PIPE),
            WriteFailure::Io { message, help } => {
                // said as any diagnostic is (with its help, in JSON under
                // `--error-format json`), as `eval` says it
                out.err.clear();
                out.message("io::write", message, help);
                let _ = stderr.write_all(out.err.as_bytes());
                ExitCode::from(1)
            }
        };
    }
    ExitCode::from(code)
}

impl Cli {
    fn error_format_is_json(&self) -> bool {
        matches!(self.error_format, ErrorFormat::Json)
    }
}

impl From<Format> for render::Format {
    fn from(f: Format) -> Self {
        match f {
            Format::Table => render::Format::Table,
            Format::Json => render::Format::Json,
            Format::Jsonl => render::Format::Jsonl,
            Format::Csv => render::Format::Csv,
        }
    }
}

/// The most threads `-j` accepts: more than any machine's cores, few enough that their
/// stacks and buffers fit in memory (a huge `-j` asked for gigabytes and was killed).
const MAX_JOBS: u64 = 256;

/// The threads a `-j N` asks for: N, or one per core when absent or 0.
fn threads(jobs: Option<usize>) -> usize {
    match jobs {
        Some(n) if n > 0 => n,
        _ => std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
    }
}
