//! Where output goes, never half-written: a temporary file beside `--output` renamed over
//! it on success, or for standard output a spool (memory, then a temporary file past
//! [`SPOOL_IN_MEMORY`] bytes) copied out once the run succeeded.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The temporary files this process holds (beside `--output`, the standard-output spool):
/// removed if the run is interrupted (SIGINT, SIGTERM, SIGHUP), where they used to be left
/// behind, hundreds of megabytes each on a large cohort.
static TEMP_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn temp_files() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    TEMP_FILES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A temporary file is no longer this process's to remove: renamed into place, or removed.
fn forget_temp(p: &Path) {
    temp_files().retain(|x| x != p);
}

fn remove_temp(p: &Path) {
    let _ = std::fs::remove_file(p);
    forget_temp(p);
}

/// From the first temporary file on, an interruption removes the temporary files and then
/// ends the process as the signal would have (the exit status a shell expects). Before,
/// the signals keep their default action.
fn remove_temp_files_on_interrupt() {
    #[cfg(unix)]
    {
        static WATCH: std::sync::Once = std::sync::Once::new();
        WATCH.call_once(|| {
            use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
            let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
            else {
                return;
            };
            let _ = std::thread::Builder::new()
                .name("interrupt".into())
                .spawn(move || {
                    if let Some(signal) = signals.forever().next() {
                        // held until the process ends: no new temporary file is registered
                        let files = temp_files();
                        for f in files.iter() {
                            let _ = std::fs::remove_file(f);
                        }
                        let _ = signal_hook::low_level::emulate_default_handler(signal);
                        std::process::exit(128 + signal);
                    }
                });
        });
    }
}

/// The file a path names, for telling whether two paths are one file: resolved through
/// `.`, `..` and symbolic links, also for a file not written yet (its folder is resolved,
/// so `o.csv` and `./o.csv` are one file before either exists).
fn resolved(p: &Path) -> PathBuf {
    if let Ok(r) = p.canonicalize() {
        return r;
    }
    let folder = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match (folder.canonicalize(), p.file_name()) {
        (Ok(d), Some(name)) => d.join(name),
        _ => p.to_path_buf(),
    }
}

/// What the standard-output spool is, for a message: where it is and how to avoid it.
fn spool_name() -> String {
    format!(
        "the output spool in `{}` (standard output past 8 MB is spooled in $TMPDIR until the run succeeds: set TMPDIR to a writable folder, or write with `-o FILE`)",
        std::env::temp_dir().display()
    )
}

/// The codes of the two refusals of [`refuse_overwrites`], per command family.
pub struct OverwriteCodes {
    pub output_is_input: &'static str,
    pub same_output: &'static str,
    pub output_is_folder: &'static str,
}

/// Refuses, before anything is written, an output file that is one of the inputs (a case
/// file, a rule file) or that another output also names: either would lose data without a
/// word. Only an output that replaces a file ([`Place::Rename`]) is checked: standard
/// output and devices (`/dev/null`) are written in place. Returns whether the run may go on.
pub fn refuse_overwrites(
    out: &mut crate::render::Output,
    outputs: &[&Path],
    inputs: &[&Path],
    codes: &OverwriteCodes,
) -> bool {
    if let Some(dir) = outputs.iter().find(|p| p.is_dir()) {
        out.message(
            codes.output_is_folder,
            format!("the output `{}` is a folder", dir.display()),
            "name a file (e.g. `FOLDER/results.jsonl`); it is written whole or not at all",
        );
        return false;
    }
    let outputs: Vec<(&Path, PathBuf)> = outputs
        .iter()
        .filter(|p| matches!(place(p), Place::Rename(_)))
        .map(|p| (*p, resolved(p)))
        .collect();
    if outputs.is_empty() {
        return true;
    }
    let inputs: Vec<(&Path, PathBuf)> = inputs.iter().map(|q| (*q, resolved(q))).collect();
    for (p, r) in &outputs {
        // a case file written into a folder of cases would be read as cases by the next run
        let case_file = irano_cases::Format::from_path(p).is_some();
        if let Some((dir, _)) = inputs
            .iter()
            .find(|(q, rq)| case_file && q.is_dir() && r.starts_with(rq))
        {
            out.message(
                codes.output_is_input,
                format!(
                    "the output `{}` is inside the input folder `{}`: the next run would read it as cases",
                    p.display(),
                    dir.display()
                ),
                "write the output outside the folder of cases",
            );
            return false;
        }
    }
    let reads_stdin = inputs.iter().any(|(q, _)| q.as_os_str() == "-");
    for (i, (p, r)) in outputs.iter().enumerate() {
        if reads_stdin && is_stdin(r) {
            out.message(
                codes.output_is_input,
                format!(
                    "the output `{}` is the file standard input reads (`- < {}`): writing it would replace the input",
                    p.display(),
                    p.display()
                ),
                "write the output to another file",
            );
            return false;
        }
        if let Some((input, _)) = inputs.iter().find(|(_, q)| q == r) {
            out.message(
                codes.output_is_input,
                format!(
                    "the output `{}` is the input `{}`: writing it would replace the input",
                    p.display(),
                    input.display()
                ),
                "write the output to another file",
            );
            return false;
        }
        if outputs.iter().skip(i + 1).any(|(_, q)| q == r) {
            out.message(
                codes.same_output,
                format!(
                    "two outputs are the same file `{}`: one would replace the other",
                    p.display()
                ),
                "give each output its own file",
            );
            return false;
        }
    }
    true
}

/// Whether `path` is the file standard input reads (the same device and inode).
fn is_stdin(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        use std::os::unix::fs::MetadataExt;
        let Ok(fd) = std::io::stdin().as_fd().try_clone_to_owned() else {
            return false;
        };
        let (Ok(input), Ok(output)) = (File::from(fd).metadata(), std::fs::metadata(path)) else {
            return false;
        };
        input.is_file() && input.dev() == output.dev() && input.ino() == output.ino()
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// Exit status of a run whose reader closed the pipe (`| head`): 128 + SIGPIPE, as a
/// shell reports a process that the signal ended.
pub const CLOSED_PIPE: u8 = 141;

/// Standard output is spooled in memory up to this size, then in a temporary file.
const SPOOL_IN_MEMORY: usize = 8 << 20;

#[derive(Debug)]
pub enum WriteFailure {
    /// The reader went away: end quietly.
    ClosedPipe,
    /// A message for standard error, and what to do about it.
    Io { message: String, help: &'static str },
}

impl WriteFailure {
    pub fn from_io(what: &str, e: &std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return WriteFailure::ClosedPipe;
        }
        let help = if e.kind() == std::io::ErrorKind::NotFound {
            "the output's folder does not exist: create it first (`mkdir -p FOLDER`), or write elsewhere"
        } else {
            "check that the destination is writable and the disk is not full"
        };
        WriteFailure::Io {
            message: format!("cannot write {what}: {}", irano_check::diag::io_reason(e)),
            help,
        }
    }
}

/// An output being written.
pub struct Destination {
    /// The file named by `--output`; `None` for standard output.
    target: Option<PathBuf>,
    /// The temporary file being written, removed unless committed.
    tmp: Option<PathBuf>,
    file: Option<BufWriter<File>>,
    mem: Vec<u8>,
    written: u64,
    /// Writing straight to a device or a pipe named by `--output` (nothing to rename).
    direct: bool,
}

impl Destination {
    /// `Some(path)`: a temporary file beside `path` (or `path` itself when it is not a
    /// regular file, e.g. `/dev/stdout`); `None`: standard output, spooled.
    pub fn open(path: Option<&Path>) -> Result<Self, WriteFailure> {
        let mut d = Destination {
            target: path.map(Path::to_path_buf),
            tmp: None,
            file: None,
            mem: Vec::new(),
            written: 0,
            direct: false,
        };
        let Some(path) = path else {
            return Ok(d);
        };
        let shown = format!("`{}`", path.display());
        match place(path) {
            Place::StandardOutput => {
                d.target = None;
            }
            Place::Direct => {
                let f = File::options()
                    .write(true)
                    .open(path)
                    .map_err(|e| WriteFailure::from_io(&shown, &e))?;
                d.file = Some(BufWriter::with_capacity(1 << 16, f));
                d.direct = true;
            }
            Place::Rename(real) => {
                let (tmp, f) = temp_beside(&real).map_err(|e| WriteFailure::from_io(&shown, &e))?;
                d.target = Some(real);
                d.tmp = Some(tmp);
                d.file = Some(BufWriter::with_capacity(1 << 16, f));
            }
        }
        Ok(d)
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    pub fn write(&mut self, bytes: &[u8]) -> Result<(), WriteFailure> {
        self.written += bytes.len() as u64;
        if let Some(f) = self.file.as_mut() {
            return f
                .write_all(bytes)
                .map_err(|e| WriteFailure::from_io(&self.what(), &e));
        }
        self.mem.extend_from_slice(bytes);
        if self.mem.len() > SPOOL_IN_MEMORY {
            let spool = spool_name();
            let (tmp, f) = create_temp(&std::env::temp_dir(), "stdout")
                .map_err(|e| WriteFailure::from_io(&spool, &e))?;
            self.tmp = Some(tmp);
            let mut f = BufWriter::with_capacity(1 << 16, f);
            f.write_all(&self.mem)
                .map_err(|e| WriteFailure::from_io(&spool, &e))?;
            self.mem = Vec::new();
            self.file = Some(f);
        }
        Ok(())
    }

    fn what(&self) -> String {
        match &self.target {
            Some(p) => format!("`{}`", p.display()),
            None => spool_name(),
        }
    }

    /// The run succeeded: the output takes its place.
    pub fn commit(mut self) -> Result<(), WriteFailure> {
        let what = self.what();
        if let Some(mut f) = self.file.take() {
            f.flush().map_err(|e| WriteFailure::from_io(&what, &e))?;
        }
        match (&self.target, self.direct) {
            (Some(_), true) => Ok(()),
            (Some(target), false) => {
                let Some(tmp) = self.tmp.take() else {
                    return Ok(());
                };
                match std::fs::rename(&tmp, target) {
                    Ok(()) => {
                        forget_temp(&tmp);
                        Ok(())
                    }
                    Err(e) => {
                        remove_temp(&tmp);
                        Err(WriteFailure::from_io(&what, &e))
                    }
                }
            }
            (None, _) => {
                let stdout = std::io::stdout();
                let mut out = stdout.lock();
                let r = match &self.tmp {
                    Some(tmp) => File::open(tmp).and_then(|mut f| std::io::copy(&mut f, &mut out)),
                    None => out.write_all(&self.mem).map(|_| 0),
                };
                r.and_then(|_| out.flush())
                    .map_err(|e| WriteFailure::from_io("to standard output", &e))
            }
        }
    }

    /// The run failed: nothing is written.
    pub fn discard(mut self) {
        self.file = None;
    }

    /// The order outputs are committed in: those written in place (a device or pipe named
    /// by `--output`, which can still fail at its last flush) first, then standard output,
    /// then the files renamed into place, so that an output that fails leaves the files
    /// behind it untouched.
    fn commit_rank(&self) -> u8 {
        match (&self.target, self.direct) {
            (Some(_), true) => 0,
            (None, _) => 1,
            (Some(_), false) => 2,
        }
    }
}

/// Commits every output of a run, all or as many as possible: in [`Destination::commit_rank`]
/// order, stopping at the first that fails (the others are discarded).
pub fn commit_all(mut outputs: Vec<Destination>) -> Result<(), WriteFailure> {
    outputs.sort_by_key(Destination::commit_rank);
    for d in outputs {
        // a failure drops the rest: their temporary files are removed
        d.commit()?;
    }
    Ok(())
}

impl Drop for Destination {
    fn drop(&mut self) {
        self.file = None;
        if let Some(tmp) = self.tmp.take() {
            remove_temp(&tmp);
        }
    }
}

/// How an output reaches `path`.
#[derive(Debug, PartialEq, Eq)]
enum Place {
    /// A new or regular file (or a symbolic link to one, resolved): a temporary file beside
    /// it, renamed over it once complete, so that it is written whole or not at all.
    Rename(PathBuf),
    /// `/dev/stdout`: standard output itself, spooled like output without `--output`.
    StandardOutput,
    /// A device, a pipe or another link under `/dev` or `/proc` (`/dev/null`,
    /// `/dev/stderr`): written in place. Renaming over it would replace the device or the
    /// link with a plain file.
    Direct,
}

fn place(path: &Path) -> Place {
    if path == Path::new("/dev/stdout") {
        return Place::StandardOutput;
    }
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Place::Rename(path.to_path_buf());
    };
    if meta.file_type().is_file() {
        return Place::Rename(path.to_path_buf());
    }
    if !meta.file_type().is_symlink() || path.starts_with("/dev") || path.starts_with("/proc") {
        return Place::Direct;
    }
    match std::fs::canonicalize(path) {
        Ok(real) if std::fs::metadata(&real).is_ok_and(|m| m.is_file()) => Place::Rename(real),
        _ => Place::Direct,
    }
}

/// Writes `bytes` to `path` whole or not at all (see [`Place`]); a symbolic link stays a
/// link, and `/dev/null` stays the null device.
pub fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let real = match place(path) {
        Place::StandardOutput => {
            let mut out = std::io::stdout().lock();
            return out.write_all(bytes).and_then(|()| out.flush());
        }
        Place::Direct => {
            return File::options()
                .write(true)
                .open(path)
                .and_then(|mut f| f.write_all(bytes));
        }
        Place::Rename(real) => real,
    };
    let (tmp, mut f) = temp_beside(&real)?;
    let written = f
        .write_all(bytes)
        .and_then(|()| std::fs::rename(&tmp, &real));
    if written.is_err() {
        remove_temp(&tmp);
    } else {
        forget_temp(&tmp);
    }
    written
}

/// A new temporary file in the folder of `path`, named after it. When `path` exists, the
/// temporary file takes its permissions (a file kept private stays private once replaced),
/// and a read-only file is refused rather than replaced.
fn temp_beside(path: &Path) -> std::io::Result<(PathBuf, File)> {
    let existing = std::fs::metadata(path).ok().map(|m| m.permissions());
    if existing.as_ref().is_some_and(|p| p.readonly()) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "the file is read-only (make it writable or choose another file)",
        ));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    let (tmp, f) = create_temp(&dir, &name)?;
    if let Some(perms) = existing {
        if let Err(e) = f.set_permissions(perms) {
            remove_temp(&tmp);
            return Err(e);
        }
    }
    Ok((tmp, f))
}

/// A new file `.NAME.irano-PID-N.tmp` in `dir`.
fn create_temp(dir: &Path, name: &str) -> std::io::Result<(PathBuf, File)> {
    remove_temp_files_on_interrupt();
    let pid = std::process::id();
    let mut n = 0u32;
    loop {
        let p = dir.join(format!(".{name}.irano-{pid}-{n}.tmp"));
        match File::options().write(true).create_new(true).open(&p) {
            Ok(f) => {
                temp_files().push(p.clone());
                return Ok((p, f));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
            Err(e) => return Err(e),
        }
    }
}
