//! `irano-eval eval`: cases streamed through the evaluator with flat memory.
//!
//! ```text
//! reader ──batches of lines──▶ workers (parse, evaluate, render) ──▶ writer (input order)
//! ```
//!
//! The reader cuts JSON Lines input into numbered batches (other case files are read whole,
//! they hold one case or a list); every worker parses, evaluates and renders a batch on its
//! own; the writer puts the rendered batches back in input order, checks that no patient
//! appears twice and writes. Channels are bounded, so memory does not grow with the cohort
//! (a hash table of patient ids, 24 bytes an entry, is the only thing that does). The
//! output is byte-identical whatever the number of threads: a batch's text depends only on
//! its cases.
//!
//! Output is never half-written: it goes to a temporary file beside `--output` (renamed
//! over it on success, removed on failure), or, for standard output, to a spool (memory,
//! then a temporary file past a few megabytes) copied to standard output once every case
//! has been read and evaluated.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use irano_cases::{Case, CaseError};
use irano_check::{Diagnostic, Program};
use irano_evaluate::{CaseResult, EvalError, Evaluator, Trace};

use crate::output::{Destination, WriteFailure};
use crate::render::{self, Format, Output};

/// Lines per batch: large enough that threads rarely wait on each other, small enough
/// that the batches in flight stay a few megabytes.
const BATCH_LINES: usize = 128;
/// What `eval` was asked to do besides the rules and the cases.
pub struct EvalOptions {
    pub format: Format,
    pub trace: Trace,
    /// `None`: standard output.
    pub output: Option<PathBuf>,
    /// One row per patient (CSV).
    pub summary: Option<PathBuf>,
    /// Worker threads (at least 1).
    pub jobs: usize,
    /// The syntax of cases read from standard input (`-`); sniffed when absent.
    pub input_format: Option<irano_cases::Format>,
    /// Show a progress bar on standard error.
    pub progress: bool,
    /// Errors in the cases reported (the others are counted).
    pub max_errors: usize,
}

/// One case file or standard input, as the reader sees it.
enum Source {
    /// JSON Lines, read a line at a time.
    Lines {
        name: Arc<str>,
        reader: Box<dyn BufRead + Send>,
        /// Standard input may be empty (an empty shard of a cohort run as a filter); a
        /// file named on the command line that holds no case is an error.
        empty_ok: bool,
    },
    /// Cases read beforehand (YAML, JSON: one document each).
    Cases(Vec<Case>),
}

/// A numbered piece of input.
struct Batch {
    seq: u64,
    work: Work,
}

enum Work {
    Lines {
        name: Arc<str>,
        /// The lines' text, one after the other (each with its newline).
        text: String,
        /// (end offset in `text`, line number) per line.
        lines: Vec<(usize, usize)>,
        /// The numbers of the lines of the batch that are not UTF-8 (not in `text`), so
        /// that their errors are reported in line order with the others.
        not_utf8: Vec<usize>,
    },
    Cases(Vec<Case>),
    /// An input's own errors (empty, UTF-16, unreadable), in their place in input order.
    Errors(Vec<CaseError>),
}

/// A batch evaluated and rendered.
struct Done {
    seq: u64,
    out: String,
    summary: String,
    cases: Vec<Seen>,
    errors: Vec<CaseError>,
    failures: Vec<(EvalError, irano_cases::Origin)>,
    warnings: Vec<Diagnostic>,
    /// The batch's text, kept to locate a duplicate patient.
    text: Option<(Arc<str>, String)>,
}

/// What the writer needs of each case: its id and where it is, its best overall response.
struct Seen {
    patient: String,
    file: Arc<str>,
    line: usize,
    /// Byte range of the case's line in the batch text and of `patient` in the line.
    line_range: std::ops::Range<usize>,
    patient_span: std::ops::Range<usize>,
    bor: Option<String>,
    /// Where the case's rendered text ends in `Done::out`.
    end: usize,
}

pub fn eval(
    out: &mut Output,
    rules: &Path,
    set: &[String],
    cases: &[PathBuf],
    opts: &EvalOptions,
) -> u8 {
    let (set, set_ok) = render::overrides(out, set);
    let program = render::load(out, rules, &set).filter(|_| set_ok);
    let (sources, total_bytes, bad) = open_sources(out, cases, opts.input_format);
    let Some(program) = program.filter(|_| !bad) else {
        // nothing is evaluated; the JSON Lines inputs, read as the run goes otherwise,
        // are read now so that every input's errors are reported in this one run
        report_line_errors(out, sources);
        return 2;
    };
    // neither output may replace an input (a case file, a rule file of the chain) or
    // the other output
    let outputs: Vec<&Path> = opts
        .output
        .iter()
        .chain(&opts.summary)
        .map(PathBuf::as_path)
        .collect();
    let rule_files: Vec<PathBuf> = program
        .sources
        .iter()
        .map(|s| PathBuf::from(&s.name))
        .collect();
    let inputs: Vec<&Path> = cases
        .iter()
        .map(PathBuf::as_path)
        .chain(std::iter::once(rules))
        .chain(rule_files.iter().map(PathBuf::as_path))
        .collect();
    let codes = crate::output::OverwriteCodes {
        output_is_input: "eval::output_is_input",
        same_output: "eval::same_output",
        output_is_folder: "eval::output_is_folder",
    };
    if !crate::output::refuse_overwrites(out, &outputs, &inputs, &codes) {
        return 2;
    }
    let mut dest = match Destination::open(opts.output.as_deref()) {
        Ok(d) => d,
        Err(e) => return write_failed(out, &e),
    };
    let mut summary = match &opts.summary {
        Some(p) => match Destination::open(Some(p)) {
            Ok(d) => Some(d),
            Err(e) => return write_failed(out, &e),
        },
        None => None,
    };
    let progress = crate::progress::Progress::new(opts.progress, total_bytes);
    let code = run(
        out,
        &program,
        sources,
        opts,
        &mut dest,
        summary.as_mut(),
        &progress,
    );
    progress.finish();
    if code != 0 {
        dest.discard();
        if let Some(s) = summary {
            s.discard();
        }
        return code;
    }
    // a device or pipe first, then standard output (what fails in practice: a closed
    // pipe, a full disk), then the files: an output that fails leaves the files unchanged
    let to_stdout = opts.output.as_deref().is_none_or(|p| p == Path::new("-"));
    match crate::output::commit_all(std::iter::once(dest).chain(summary).collect()) {
        Ok(()) => 0,
        Err(WriteFailure::ClosedPipe) => {
            // quiet for a plain `| head`, but a file asked for and not written is said
            if let (true, Some(p)) = (to_stdout, &opts.summary) {
                let d = Diagnostic::warning(
                    "io::closed_pipe",
                    format!(
                        "standard output was closed before the run's output was written: `{}` was not written",
                        p.display()
                    ),
                )
                .help("outputs are written only when all of them can be: to keep the summary while reading part of the output, write the output to a file (`-o FILE`) and read that");
                out.diagnostic(&d);
            }
            crate::output::CLOSED_PIPE
        }
        Err(e) => write_failed(out, &e),
    }
}

pub(crate) fn write_failed(out: &mut Output, e: &WriteFailure) -> u8 {
    match e {
        WriteFailure::ClosedPipe => crate::output::CLOSED_PIPE,
        WriteFailure::Io { message, help } => {
            out.message("io::write", message.clone(), help);
            1
        }
    }
}

/// The inputs, opened: YAML and JSON files read (their errors reported), JSON Lines files
/// and standard input ready to stream. Also whether an input could not be opened or read.
fn open_sources(
    out: &mut Output,
    paths: &[PathBuf],
    stdin_format: Option<irano_cases::Format>,
) -> (Vec<Source>, u64, bool) {
    let mut sources = Vec::new();
    let mut total = 0u64;
    let mut bad = false;
    let mut stdin_used = false;
    for path in paths {
        if path.as_os_str() == "-" {
            if stdin_used {
                out.message(
                    "case::io",
                    "standard input (`-`) is named twice".into(),
                    "name `-` once",
                );
                bad = true;
                continue;
            }
            stdin_used = true;
            bad |= !opened(out, &mut sources, stdin_source(stdin_format));
            continue;
        }
        // an input whose name gives no format: a pipe (`<(zcat cases.jsonl.gz)`) is read
        // as standard input is (the format from --input-format, else sniffed); another file
        // only when --input-format names the format
        if irano_cases::Format::from_path(path).is_none()
            && !path.is_dir()
            && (is_stream(path) || (stdin_format.is_some() && path.is_file()))
        {
            let name: Arc<str> = Arc::from(path.display().to_string());
            let source = std::fs::File::open(path)
                .map_err(|e| vec![CaseError::io_error(&name, &e)])
                .and_then(|f| stream_source(Arc::clone(&name), f, stdin_format, false));
            bad |= !opened(out, &mut sources, source);
            continue;
        }
        // an empty JSON Lines file found in a directory is an empty shard (as an empty
        // standard input is); one named on the command line is an error
        let from_dir = path.is_dir();
        let files = match case_files(out, path) {
            Ok(f) => f,
            Err(errors) => {
                bad = true;
                for e in &errors {
                    out.case_error(e);
                }
                continue;
            }
        };
        for (file, format) in files {
            if format == irano_cases::Format::JsonLines {
                match std::fs::File::open(&file) {
                    Ok(f) => {
                        total += f.metadata().map(|m| m.len()).unwrap_or(0);
                        sources.push(Source::Lines {
                            name: Arc::from(file.display().to_string()),
                            reader: Box::new(BufReader::with_capacity(1 << 16, f)),
                            empty_ok: from_dir,
                        });
                    }
                    Err(e) => {
                        bad = true;
                        out.case_error(&irano_cases::CaseError::io_error(
                            &file.display().to_string(),
                            &e,
                        ));
                    }
                }
            } else {
                match irano_cases::read_path(&file) {
                    Ok(cs) => sources.push(Source::Cases(cs)),
                    Err(errors) => {
                        bad = true;
                        for e in &errors {
                            out.case_error(e);
                        }
                    }
                }
            }
        }
    }
    (sources, total, bad)
}

/// Keeps an input opened as a stream, or reports why it could not be; false on errors.
fn opened(
    out: &mut Output,
    sources: &mut Vec<Source>,
    source: Result<Source, Vec<CaseError>>,
) -> bool {
    match source {
        Ok(s) => {
            sources.push(s);
            true
        }
        Err(errors) => {
            for e in &errors {
                out.case_error(e);
            }
            false
        }
    }
}

/// Reports the errors of JSON Lines inputs when the run will not evaluate them.
fn report_line_errors(out: &mut Output, sources: Vec<Source>) {
    for source in sources {
        let Source::Lines {
            name,
            mut reader,
            empty_ok,
        } = source
        else {
            continue;
        };
        if reader.fill_buf().is_ok_and(irano_cases::is_utf16) {
            out.case_error(&CaseError::utf16(&name));
            continue;
        }
        let mut line = String::new();
        let mut line_no = 0usize;
        let mut any = false;
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) => break,
                Ok(_) => line_no += 1,
                // the line was consumed: said, and the next ones are still checked
                Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                    line_no += 1;
                    out.case_error(&CaseError::not_utf8_line(&name, line_no));
                    any = true;
                    continue;
                }
                Err(e) => {
                    out.case_error(&CaseError::io_error(&name, &e));
                    any = true;
                    break;
                }
            }
            let text = line.strip_suffix('\n').unwrap_or(&line);
            if !any {
                if let Some(e) = irano_cases::misread_as_json_lines(text, &name, line_no) {
                    out.case_error(&e);
                    any = true;
                    break;
                }
            }
            any = any || !text.trim_start_matches('\u{feff}').trim().is_empty();
            if let Err(errors) = irano_cases::read_json_line(text, &name, line_no) {
                for e in &errors {
                    out.case_error(e);
                }
            }
        }
        if !any && !empty_ok {
            out.case_error(&irano_cases::no_case(&name));
        }
    }
}

/// The case files a path names: itself, or the case files in a directory and its
/// subdirectories. The other files of a directory are not read, and a warning says so
/// (`case::files_not_read`): a shard renamed `.bak` would otherwise vanish unnoticed.
pub(crate) fn case_files(
    out: &mut Output,
    path: &Path,
) -> Result<Vec<(PathBuf, irano_cases::Format)>, Vec<CaseError>> {
    if path.is_dir() {
        let (files, mut others) = irano_cases::case_files_and_others(path)?;
        // the snapshots `irano-eval test` keeps beside the cases are expected there
        others.retain(|p| !is_test_snapshot(p));
        if !others.is_empty() {
            out.diagnostic(&files_not_read(path, &others));
        }
        return Ok(files);
    }
    irano_cases::case_file(path).map(|f| vec![(path.to_path_buf(), f)])
}

/// Whether `path` is a snapshot of `irano-eval test` (`DIR/snapshots/NAME.snap`).
fn is_test_snapshot(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "snap")
        && path
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|d| d == irano_testing::snapshot::DIR)
}

/// The warning for the files of a directory that are not case files.
fn files_not_read(dir: &Path, others: &[PathBuf]) -> irano_check::Diagnostic {
    const NAMED: usize = 5;
    let mut names: Vec<String> = others
        .iter()
        .take(NAMED)
        .map(|p| format!("`{}`", p.display()))
        .collect();
    if others.len() > NAMED {
        names.push(format!("{} more", others.len() - NAMED));
    }
    let files = if others.len() == 1 { "file" } else { "files" };
    irano_check::Diagnostic::warning(
        "case::files_not_read",
        format!(
            "{} {files} in `{}` not read (not case files): {}",
            others.len(),
            dir.display(),
            names.join(", ")
        ),
    )
    .help("cases are read from `.yaml`, `.yml`, `.json`, `.jsonl` and `.ndjson` files; rename a file to read it (CSV data comes in through `irano-eval import sdtm`)")
}

fn stdin_source(format: Option<irano_cases::Format>) -> Result<Source, Vec<CaseError>> {
    stream_source(Arc::from("<stdin>"), std::io::stdin(), format, true)
}

/// An input read as a stream: standard input, or a path whose name gives no format (a
/// pipe, `<(zcat cases.jsonl.gz)`). The format is `format`, else sniffed from the first
/// bytes; `empty_ok`: an empty stream is an empty cohort rather than an error.
fn stream_source(
    name: Arc<str>,
    input: impl Read + Send + 'static,
    format: Option<irano_cases::Format>,
    empty_ok: bool,
) -> Result<Source, Vec<CaseError>> {
    let mut reader = BufReader::with_capacity(1 << 16, input);
    let format = match format {
        Some(f) => f,
        None => {
            let head = reader
                .fill_buf()
                .map_err(|e| vec![CaseError::io_error(&name, &e)])?;
            irano_cases::sniff(head)
        }
    };
    if format == irano_cases::Format::JsonLines {
        return Ok(Source::Lines {
            name,
            reader: Box::new(reader),
            empty_ok,
        });
    }
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| vec![CaseError::io_error(&name, &e)])?;
    let text =
        String::from_utf8(bytes).map_err(|e| vec![CaseError::not_utf8(&name, e.as_bytes())])?;
    if text.trim_start_matches('\u{feff}').trim().is_empty() {
        // an empty stream is an empty cohort, as for JSON Lines
        return if empty_ok {
            Ok(Source::Cases(Vec::new()))
        } else {
            Err(vec![irano_cases::no_case(&name)])
        };
    }
    irano_cases::read_str(&text, &name, format).map(Source::Cases)
}

/// Whether `path` is a stream rather than a file: a pipe (what `<(...)` names), a
/// character device or a socket.
fn is_stream(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        std::fs::metadata(path).is_ok_and(|m| {
            let t = m.file_type();
            t.is_fifo() || t.is_char_device() || t.is_socket()
        })
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// The pipeline: returns the exit code; on 0, `dest` (and `summary`) hold the output.
fn run(
    out: &mut Output,
    program: &Program,
    sources: Vec<Source>,
    opts: &EvalOptions,
    dest: &mut Destination,
    mut summary: Option<&mut Destination>,
    progress: &crate::progress::Progress,
) -> u8 {
    let jobs = opts.jobs.max(1);
    let (batch_tx, batch_rx) = sync_channel::<Batch>(jobs * 2);
    let (done_tx, done_rx) = sync_channel::<Done>(jobs * 2);
    let batch_rx = Arc::new(Mutex::new(batch_rx));
    let stop = AtomicBool::new(false);
    // set at the first input error: later cases are still read and checked (every input
    // error is reported) but no longer evaluated, since nothing will be written
    let input_failed = AtomicBool::new(false);
    let read_bytes = AtomicU64::new(0);
    let mut writer = Writer::new(program, opts);
    let mut read_errors: Vec<CaseError> = Vec::new();
    std::thread::scope(|scope| {
        let stop = &stop;
        let read_bytes = &read_bytes;
        let reader = scope.spawn(move || read_all(sources, batch_tx, stop, read_bytes));
        for _ in 0..jobs {
            let rx = Arc::clone(&batch_rx);
            let tx = done_tx.clone();
            let input_failed = &input_failed;
            scope.spawn(move || work(program, opts, &rx, &tx, input_failed));
        }
        drop(done_tx);
        // the writer: batches back in input order
        let mut pending: HashMap<u64, Done> = HashMap::new();
        let mut next = 0u64;
        for done in done_rx.iter() {
            pending.insert(done.seq, done);
            while let Some(d) = pending.remove(&next) {
                next += 1;
                if let Err(e) = writer.take(out, d, dest, summary.as_deref_mut()) {
                    writer.write_error = Some(e);
                    stop.store(true, Ordering::Relaxed);
                }
                if writer.input_failed() {
                    input_failed.store(true, Ordering::Relaxed);
                }
                progress.set(read_bytes.load(Ordering::Relaxed));
            }
        }
        if let Ok(errs) = reader.join() {
            read_errors = errs;
        }
    });
    if let Some(e) = writer.write_error.take() {
        return write_failed(out, &e);
    }
    writer.errors.extend(read_errors);
    writer.finish(out, dest, summary)
}

/// The reader: cuts the inputs into batches, in order.
fn read_all(
    sources: Vec<Source>,
    tx: SyncSender<Batch>,
    stop: &AtomicBool,
    read_bytes: &AtomicU64,
) -> Vec<CaseError> {
    let mut seq = 0u64;
    let mut errors = Vec::new();
    for source in sources {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        // the previous input's errors, in their place among the batches
        if let Err(unsent) = send_errors(&tx, &mut seq, &mut errors) {
            return unsent;
        }
        match source {
            Source::Cases(cases) => {
                for chunk in chunks(cases, BATCH_LINES) {
                    let batch = Batch {
                        seq,
                        work: Work::Cases(chunk),
                    };
                    seq += 1;
                    if tx.send(batch).is_err() {
                        return errors;
                    }
                }
            }
            Source::Lines {
                name,
                mut reader,
                empty_ok,
            } => {
                // UTF-16: one error for the input, not one per line
                if reader.fill_buf().is_ok_and(irano_cases::is_utf16) {
                    errors.push(CaseError::utf16(&name));
                    continue;
                }
                let mut line_no = 0usize;
                let mut any = false;
                loop {
                    let mut text = String::with_capacity(BATCH_LINES * 3000);
                    let mut lines = Vec::with_capacity(BATCH_LINES);
                    let mut not_utf8 = Vec::new();
                    let mut eof = false;
                    while lines.len() + not_utf8.len() < BATCH_LINES {
                        match reader.read_line(&mut text) {
                            Ok(0) => {
                                eof = true;
                                break;
                            }
                            Ok(_) => {
                                line_no += 1;
                                lines.push((text.len(), line_no));
                            }
                            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                                line_no += 1;
                                not_utf8.push(line_no);
                            }
                            Err(e) => {
                                errors.push(CaseError::io_error(&name, &e));
                                eof = true;
                                break;
                            }
                        }
                    }
                    read_bytes.fetch_add(text.len() as u64, Ordering::Relaxed);
                    if !any {
                        // YAML in a JSON Lines input: one error, not one per line
                        let first = line_no + 1 - lines.len();
                        if let Some(e) = irano_cases::misread_as_json_lines(&text, &name, first) {
                            errors.push(e);
                            break;
                        }
                    }
                    if !lines.is_empty() || !not_utf8.is_empty() {
                        any = any
                            || !text.trim_start_matches('\u{feff}').trim().is_empty()
                            || !not_utf8.is_empty();
                        let batch = Batch {
                            seq,
                            work: Work::Lines {
                                name: Arc::clone(&name),
                                text,
                                lines,
                                not_utf8,
                            },
                        };
                        seq += 1;
                        if tx.send(batch).is_err() {
                            return errors;
                        }
                    }
                    if eof || stop.load(Ordering::Relaxed) {
                        break;
                    }
                }
                if !any && !empty_ok && errors.is_empty() {
                    errors.push(irano_cases::no_case(&name));
                }
            }
        }
    }
    if let Err(unsent) = send_errors(&tx, &mut seq, &mut errors) {
        return unsent;
    }
    errors
}

/// Sends an input's own errors (empty, UTF-16, unreadable) to the writer as a batch of their
/// own, so that they are reported in input order with the errors of the lines; gives them
/// back when the workers have stopped.
fn send_errors(
    tx: &SyncSender<Batch>,
    seq: &mut u64,
    errors: &mut Vec<CaseError>,
) -> Result<(), Vec<CaseError>> {
    if errors.is_empty() {
        return Ok(());
    }
    let batch = Batch {
        seq: *seq,
        work: Work::Errors(std::mem::take(errors)),
    };
    *seq += 1;
    match tx.send(batch) {
        Ok(()) => Ok(()),
        Err(e) => match e.0.work {
            Work::Errors(unsent) => Err(unsent),
            _ => Err(Vec::new()),
        },
    }
}

fn chunks(v: Vec<Case>, n: usize) -> Vec<Vec<Case>> {
    let mut out = Vec::new();
    let mut cur = Vec::with_capacity(n);
    for c in v {
        cur.push(c);
        if cur.len() == n {
            out.push(std::mem::replace(&mut cur, Vec::with_capacity(n)));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A worker: parses, evaluates and renders batches until the input ends.
fn work(
    program: &Program,
    opts: &EvalOptions,
    rx: &Mutex<Receiver<Batch>>,
    tx: &SyncSender<Done>,
    input_failed: &AtomicBool,
) {
    let mut ev = Evaluator::new(program).with_trace(opts.trace);
    loop {
        let batch = match rx.lock() {
            Ok(r) => r.recv(),
            Err(_) => return,
        };
        let Ok(batch) = batch else { return };
        let mut done = Done {
            seq: batch.seq,
            out: String::new(),
            summary: String::new(),
            cases: Vec::new(),
            errors: Vec::new(),
            failures: Vec::new(),
            warnings: Vec::new(),
            text: None,
        };
        match batch.work {
            Work::Lines {
                name,
                text,
                lines,
                not_utf8,
            } => {
                done.out.reserve(text.len() * 2);
                let mut start = 0;
                let mut not_utf8 = not_utf8.into_iter().peekable();
                let mut report_not_utf8 = |before: usize, done: &mut Done| {
                    while let Some(n) = not_utf8.next_if(|&n| n < before) {
                        input_failed.store(true, Ordering::Relaxed);
                        done.errors.push(CaseError::not_utf8_line(&name, n));
                    }
                };
                for &(end, line_no) in &lines {
                    report_not_utf8(line_no, &mut done);
                    let line = text.get(start..end).unwrap_or("");
                    let line = line.strip_suffix('\n').unwrap_or(line);
                    match irano_cases::read_json_line(line, &name, line_no) {
                        Ok(Some(lc)) => {
                            let range = start..start + line.len();
                            let seen = |c: &Case, bor, end| Seen {
                                patient: c.patient.clone(),
                                file: Arc::clone(&name),
                                line: line_no,
                                line_range: range,
                                patient_span: lc.patient_span,
                                bor,
                                end,
                            };
                            if input_failed.load(Ordering::Relaxed) {
                                // kept for the duplicate-patient check only
                                done.cases.push(seen(&lc.case, None, done.out.len()));
                            } else {
                                one(&mut ev, opts, &lc.case, &mut done, seen);
                            }
                        }
                        Ok(None) => {}
                        Err(e) => {
                            input_failed.store(true, Ordering::Relaxed);
                            done.errors.extend(e);
                        }
                    }
                    start = end;
                }
                report_not_utf8(usize::MAX, &mut done);
                done.text = Some((name, text));
            }
            Work::Errors(errors) => {
                input_failed.store(true, Ordering::Relaxed);
                done.errors = errors;
            }
            Work::Cases(cases) => {
                for c in &cases {
                    let file: Arc<str> = Arc::from(c.origin.file.as_str());
                    let seen = |c: &Case, bor, end| Seen {
                        patient: c.patient.clone(),
                        file,
                        line: c.origin.line,
                        line_range: 0..0,
                        patient_span: 0..0,
                        bor,
                        end,
                    };
                    if input_failed.load(Ordering::Relaxed) {
                        done.cases.push(seen(c, None, done.out.len()));
                    } else {
                        one(&mut ev, opts, c, &mut done, seen);
                    }
                }
            }
        }
        if tx.send(done).is_err() {
            return;
        }
    }
}

/// Evaluates and renders one case into the batch.
fn one(
    ev: &mut Evaluator<'_>,
    opts: &EvalOptions,
    case: &Case,
    done: &mut Done,
    seen: impl FnOnce(&Case, Option<String>, usize) -> Seen,
) {
    if let Some(w) = render::x_set_ignored(case, "eval", "`--set KEY=VALUE`") {
        done.warnings.push(w);
    }
    done.warnings.extend(irano_evaluate::warnings::input(case));
    let r = match ev.evaluate(case) {
        Ok(r) => r,
        Err(e) => {
            done.failures.push((e, case.origin.clone()));
            return;
        }
    };
    done.warnings
        .extend(irano_evaluate::warnings::after_evaluation(ev, case, &r));
    if done.errors.is_empty() && done.failures.is_empty() {
        render_case(&mut done.out, ev.program(), &r, opts);
        if opts.summary.is_some() {
            crate::csv::summary_row(&mut done.summary, &r);
        }
    }
    // the table's summary counts labels as the table shows them (native where declared)
    let bor = r.best_overall_response_shown().map(str::to_string);
    let s = seen(case, bor, done.out.len());
    done.cases.push(s);
}

fn render_case(s: &mut String, p: &Program, r: &CaseResult, opts: &EvalOptions) {
    match opts.format {
        Format::Table => {
            // for a terminal: a control character in a case's text (a patient id with an
            // escape sequence) is shown as an escape, never sent as is
            let mut t = String::new();
            render::table(&mut t, r);
            push_printable(s, &t);
            let rounded = r
                .assessments
                .iter()
                .flat_map(|a| a.values.iter())
                .any(|v| v.value.as_deref().is_some_and(|x| x.starts_with('~')));
            if rounded {
                s.push_str(ROUNDED_LEGEND);
            }
        }
        Format::Json => {
            // rendered as an element of the array; the writer unindents a lone case
            let t = crate::json::pretty(r, opts.trace);
            for (k, line) in t.lines().enumerate() {
                if k > 0 {
                    s.push('\n');
                }
                s.push_str("  ");
                s.push_str(line);
            }
        }
        Format::Jsonl => {
            crate::compact::result(s, r, opts.trace);
            s.push('\n');
        }
        Format::Csv => crate::csv::assessment_rows(s, p, r),
    }
}

/// Said under a case's table when a value in it is rounded (`~7.69`).
const ROUNDED_LEGEND: &str =
    "~ rounded to 2 decimal places; --format json gives the exact value (as a fraction, in the field `NAME_exact`)\n";

/// `text` with every control character but the line end written as `\u{..}`.
fn push_printable(s: &mut String, text: &str) {
    for c in text.chars() {
        if c.is_control() && c != '\n' {
            s.extend(c.escape_unicode());
        } else {
            s.push(c);
        }
    }
}

/// Two independent 64-bit SipHash values of a patient id (fixed keys: deterministic).
fn id_hash(id: &str) -> IdKey {
    use std::hash::{Hash, Hasher};
    let mut a = std::hash::DefaultHasher::new();
    id.hash(&mut a);
    let mut b = std::hash::DefaultHasher::new();
    0x9e37_79b9_7f4a_7c15_u64.hash(&mut b);
    id.hash(&mut b);
    IdKey(a.finish(), b.finish())
}

/// A 128-bit hash of a patient id, as two words (8-byte aligned: a table entry of 24
/// bytes, where a `u128` key makes it 32).
#[derive(Clone, Copy, PartialEq, Eq)]
struct IdKey(u64, u64);

impl std::hash::Hash for IdKey {
    /// The key is a hash already: its first word is the table's hash.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.0);
    }
}

/// Passes an [`IdKey`]'s first word through instead of hashing it again.
#[derive(Default)]
struct IdKeyHasher(u64);

impl std::hash::Hasher for IdKeyHasher {
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type IdTable = HashMap<IdKey, (u32, u32), std::hash::BuildHasherDefault<IdKeyHasher>>;

/// The writer's side: order, duplicates, separators, the cohort summary.
struct Writer<'p> {
    program: &'p Program,
    format: Format,
    /// A 128-bit hash of each patient id → (index in `files`, line) of its first case.
    /// Hashes, not the ids, keep memory small for a million patients; two different ids
    /// would collide with a probability of about n² / 2^129 (1e-27 for a million).
    ids: IdTable,
    /// The input files named in `ids`.
    files: Vec<Arc<str>>,
    errors: Vec<CaseError>,
    more_errors: usize,
    /// `--max-errors`.
    max_errors: usize,
    failures: Vec<(EvalError, irano_cases::Origin)>,
    warnings: crate::render::Warnings,
    patients: usize,
    /// Best overall response counts, for the table's summary.
    bor: HashMap<Option<String>, usize>,
    /// The first JSON element, held until a second one shows the output is an array.
    first_json: Option<String>,
    header: bool,
    write_error: Option<WriteFailure>,
}

impl<'p> Writer<'p> {
    fn new(program: &'p Program, opts: &EvalOptions) -> Self {
        Writer {
            program,
            format: opts.format,
            ids: IdTable::default(),
            files: Vec::new(),
            errors: Vec::new(),
            more_errors: 0,
            max_errors: opts.max_errors,
            failures: Vec::new(),
            warnings: crate::render::Warnings::showing_all(opts.max_errors == usize::MAX),
            patients: 0,
            bor: HashMap::new(),
            first_json: None,
            header: false,
            write_error: None,
        }
    }

    /// An input error (a line that does not read, a duplicate patient): once there is one,
    /// cases are no longer evaluated, and only the input errors are reported.
    fn input_failed(&self) -> bool {
        !self.errors.is_empty() || self.more_errors > 0
    }

    fn failed(&self) -> bool {
        self.input_failed() || !self.failures.is_empty()
    }

    fn error(&mut self, e: CaseError) {
        if self.errors.len() < self.max_errors {
            self.errors.push(e);
        } else {
            self.more_errors += 1;
        }
    }

    fn take(
        &mut self,
        _out: &mut Output,
        d: Done,
        dest: &mut Destination,
        summary: Option<&mut Destination>,
    ) -> Result<(), WriteFailure> {
        for e in d.errors {
            self.error(e);
        }
        for w in d.warnings {
            self.warnings.add(w);
        }
        if self.failures.len() < self.max_errors {
            self.failures.extend(d.failures);
        }
        let mut start = 0;
        let mut pieces: Vec<(usize, usize)> = Vec::with_capacity(d.cases.len());
        for s in &d.cases {
            let key = id_hash(&s.patient);
            if let Some(&(file, line)) = self.ids.get(&key) {
                let file = self
                    .files
                    .get(file as usize)
                    .cloned()
                    .unwrap_or_else(|| Arc::from(""));
                let line = line as usize;
                let e = match &d.text {
                    Some((_, text)) => irano_cases::duplicate_patient(
                        &s.patient,
                        text.get(s.line_range.clone()).unwrap_or(""),
                        &s.file,
                        s.line,
                        s.patient_span.clone(),
                        &file,
                        line,
                    ),
                    None => irano_cases::CaseError::at_line(
                        "case::duplicate_patient",
                        &s.file,
                        s.line,
                        format!(
                            "{}:{}: patient `{}` appears in two cases",
                            s.file, s.line, s.patient
                        ),
                        format!(
                            "give each case its own `patient` id (the first is in `{file}` at line {line})"
                        ),
                    ),
                };
                self.error(e);
            } else {
                let file = match self.files.iter().rposition(|f| Arc::ptr_eq(f, &s.file)) {
                    Some(i) => i,
                    None => {
                        self.files.push(Arc::clone(&s.file));
                        self.files.len() - 1
                    }
                };
                self.ids.insert(
                    key,
                    (
                        u32::try_from(file).unwrap_or(u32::MAX),
                        u32::try_from(s.line).unwrap_or(u32::MAX),
                    ),
                );
            }
            *self.bor.entry(s.bor.clone()).or_default() += 1;
            pieces.push((start, s.end));
            start = s.end;
        }
        if self.failed() {
            return Ok(());
        }
        // separators between cases, and the JSON array
        for (a, b) in pieces {
            let text = d.out.get(a..b).unwrap_or("");
            self.patients += 1;
            match self.format {
                Format::Table => {
                    if self.patients > 1 {
                        dest.write(b"\n")?;
                    }
                    dest.write(text.as_bytes())?;
                }
                Format::Json => {
                    if self.patients == 1 {
                        self.first_json = Some(text.to_string());
                        continue;
                    }
                    if let Some(first) = self.first_json.take() {
                        dest.write(b"[\n")?;
                        dest.write(first.as_bytes())?;
                    }
                    dest.write(b",\n")?;
                    dest.write(text.as_bytes())?;
                }
                Format::Jsonl => dest.write(text.as_bytes())?,
                Format::Csv => {
                    if !self.header {
                        self.header = true;
                        dest.write(crate::csv::assessment_header(self.program).as_bytes())?;
                    }
                    dest.write(text.as_bytes())?;
                }
            }
        }
        if let Some(s) = summary {
            if !self.header_summary_written(s)? {
                // written by header_summary_written
            }
            s.write(d.summary.as_bytes())?;
        }
        Ok(())
    }

    fn header_summary_written(&mut self, s: &mut Destination) -> Result<bool, WriteFailure> {
        if s.written() == 0 {
            s.write(crate::csv::SUMMARY_HEADER.as_bytes())?;
        }
        Ok(true)
    }

    fn finish(
        mut self,
        out: &mut Output,
        dest: &mut Destination,
        summary: Option<&mut Destination>,
    ) -> u8 {
        if self.input_failed() {
            // which cases were evaluated before the first input error was seen depends on
            // the threads: their warnings and failures are not reported, so that the report
            // is the same on every run
            self.warnings = crate::render::Warnings::showing_all(self.max_errors == usize::MAX);
            self.failures.clear();
        }
        std::mem::take(&mut self.warnings).report(out);
        if self.failed() {
            for e in &self.errors {
                out.case_error(e);
            }
            if self.more_errors > 0 {
                out.message(
                    "case::more_errors",
                    format!("{} more errors in the cases, not shown", self.more_errors),
                    "fix the errors above first, or give `--max-errors 0` to list every one",
                );
            }
            for (e, at) in &self.failures {
                crate::compare::eval_failed(out, e, at);
            }
            return 2;
        }
        let r = (|| -> Result<(), WriteFailure> {
            match self.format {
                Format::Json => match self.first_json.take() {
                    Some(first) => {
                        // one case: a lone object, unindented
                        let mut s = String::with_capacity(first.len());
                        for line in first.lines() {
                            s.push_str(line.strip_prefix("  ").unwrap_or(line));
                            s.push('\n');
                        }
                        dest.write(s.as_bytes())?;
                    }
                    None if self.patients == 0 => dest.write(b"[\n]\n")?,
                    None => dest.write(b"\n]\n")?,
                },
                Format::Table if self.patients > 1 => {
                    let s = self.cohort_summary();
                    dest.write(s.as_bytes())?;
                }
                // an empty list or an empty stream is an empty cohort: said, not silent
                Format::Table if self.patients == 0 => {
                    dest.write(b"cohort: 0 patients (the input holds no case)\n")?;
                }
                Format::Csv if !self.header => {
                    dest.write(crate::csv::assessment_header(self.program).as_bytes())?;
                }
                _ => {}
            }
            if let Some(s) = summary {
                if s.written() == 0 {
                    s.write(crate::csv::SUMMARY_HEADER.as_bytes())?;
                }
            }
            Ok(())
        })();
        match r {
            Ok(()) => 0,
            Err(e) => write_failed(out, &e),
        }
    }

    /// The end of a cohort's table: patients and best overall responses, in the
    /// criterion's label order.
    fn cohort_summary(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "\ncohort: {} patients", self.patients);
        let mut parts = Vec::new();
        let p = self.program;
        let mut shown = 0usize;
        let labels = p
            .enums
            .get(usize::from(irano_check::schema::LABEL.0))
            .map(|e| e.variants.as_slice())
            .unwrap_or_default();
        for (i, canonical) in labels.iter().enumerate() {
            // counted under the name results show (iRECIST's iCR for CR), listed in the
            // order of the canonical labels (best first)
            let name = u16::try_from(i)
                .ok()
                .and_then(|v| p.label_native(v))
                .unwrap_or(canonical);
            if let Some(n) = self.bor.get(&Some(name.to_string())) {
                parts.push(format!("{name} {n}"));
                shown += n;
            }
        }
        if let Some(n) = self.bor.get(&None) {
            parts.push(format!("none {n}"));
            shown += n;
        }
        // labels the criterion does not list (cannot happen; never drop a count)
        let mut rest: Vec<_> = self
            .bor
            .iter()
            .filter_map(|(k, v)| k.as_ref().map(|k| (k, v)))
            .filter(|(k, _)| !parts.iter().any(|p| p.starts_with(&format!("{k} "))))
            .collect();
        rest.sort();
        for (k, v) in rest {
            parts.push(format!("{k} {v}"));
            shown += v;
        }
        debug_assert_eq!(shown, self.patients);
        let _ = writeln!(s, "best overall response: {}", parts.join("  ·  "));
        s
    }
}
