#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! What a command-line user expects of `irano-eval eval`: `-` for standard input, `-o`,
//! a quiet end on a closed pipe, a message on a write error, plain messages for a missing
//! path or a CSV file, completions, `--color`, `--version` on subcommands, `--trace`,
//! CSV output, the per-patient summary and the cohort table's summary.

#[path = "../benches/support/cohort.rs"]
#[allow(dead_code)]
mod cohort;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const HGG: &str = "rules/rano-hgg-2010.rano";
const IRANO: &str = "rules/irano-2015.rano";
const EXAMPLE: &str = "examples/irano-worked-example.yaml";

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("irano-conv-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn cmd(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_irano-eval"));
    c.args(args)
        .current_dir(repo())
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    c
}

fn run(args: &[&str]) -> Output {
    cmd(args).output().unwrap()
}

/// What a run printed, with its exit code, as one text for assertions.
fn printed(o: Output) -> String {
    format!(
        "exit: {}\n{}{}",
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn run_with_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = cmd(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// `/dev/full` opened for writing: every write fails with "no space left on device".
fn dev_full() -> std::fs::File {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap()
}

/// `n` JSON Lines cases `PREFIX-0`, `PREFIX-1`, ... of one scan each, of the given date
/// (written as is, so it may be a bad one) and kind.
fn one_scan_cases(prefix: &str, n: usize, date: &str, scan: &str) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{{\"patient\": \"{prefix}-{i}\", \"setting\": \"recurrent\", \"therapy_start\": \"2025-03-03\", \"assessments\": [{{\"date\": \"{date}\", \"scan\": \"{scan}\"}}]}}\n"
            )
        })
        .collect()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// After an input error, later cases are read and checked but not evaluated (nothing will
/// be written): the report holds the input errors only, the same whatever the threads.
#[test]
fn an_input_error_stops_evaluation_and_reports_the_same_at_any_thread_count() {
    let d = temp_dir("fail-fast");
    let cases = d.join("cohort.jsonl");
    // every case would warn (a follow-up before therapy start, no baseline)
    let good = one_scan_cases("FAST", 4000, "2025-01-01", "followup");
    let mut cohort = String::new();
    for (i, line) in good.lines().enumerate() {
        cohort.push_str(line);
        cohort.push('\n');
        if i == 0 || i == 2500 {
            cohort.push_str("{\"patient\": \"BROKEN\", \"setting\": \n");
        }
    }
    std::fs::write(&cases, &cohort).unwrap();
    let c = cases.to_str().unwrap();
    let one = run(&["eval", "--rules", HGG, "--format", "jsonl", "-j", "1", c]);
    let two = run(&["eval", "--rules", HGG, "--format", "jsonl", "-j", "2", c]);
    for out in [&one, &two] {
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(out.stdout.is_empty());
        let err = text(&out.stderr);
        assert!(err.contains("cohort.jsonl:2:"), "{err}");
        assert!(err.contains("cohort.jsonl:2503:"), "{err}");
        assert!(
            !err.contains("eval::"),
            "no warning of evaluated cases: {err}"
        );
    }
    assert_eq!(text(&one.stderr), text(&two.stderr));
}

/// `-o -` is standard output (no file named `-`); `--summary -` is refused with a message.
#[test]
fn dash_as_output_is_standard_output_and_a_summary_needs_a_file() {
    let d = temp_dir("dash-out");
    let (rules, example) = (repo().join(HGG), repo().join(EXAMPLE));
    let (rules, example) = (rules.to_str().unwrap(), example.to_str().unwrap());
    let plain = run(&["eval", "--rules", HGG, "--format", "jsonl", EXAMPLE]);
    let dash = cmd(&[
        "eval", "--rules", rules, "--format", "jsonl", "-o", "-", example,
    ])
    .current_dir(&d)
    .output()
    .unwrap();
    assert!(dash.status.success(), "{}", text(&dash.stderr));
    assert_eq!(text(&dash.stdout), text(&plain.stdout));
    assert!(!d.join("-").exists());
    let summary = cmd(&["eval", "--rules", rules, "--summary", "-", example])
        .current_dir(&d)
        .output()
        .unwrap();
    assert_eq!(summary.status.code(), Some(2));
    assert!(summary.stdout.is_empty());
    assert!(text(&summary.stderr).contains("cli::summary_to_stdout"));
    assert!(!d.join("-").exists());
}

#[test]
fn dash_reads_cases_from_standard_input() {
    let from_file = run(&["eval", "--rules", IRANO, EXAMPLE]);
    assert!(from_file.status.success());
    let yaml = std::fs::read(repo().join(EXAMPLE)).unwrap();
    // sniffed as YAML
    let piped = run_with_stdin(&["eval", "--rules", IRANO, "-"], &yaml);
    assert!(piped.status.success(), "{}", text(&piped.stderr));
    assert_eq!(text(&piped.stdout), text(&from_file.stdout));
    // JSON Lines, sniffed and named
    let jsonl = run(&["eval", "--rules", IRANO, "--format", "jsonl", EXAMPLE]);
    let line = text(&jsonl.stdout);
    let cohort = cohort::cohort(3);
    for extra in [&[][..], &["--input-format", "jsonl"][..]] {
        let mut args = vec!["eval", "--rules", IRANO, "--format", "jsonl"];
        args.extend_from_slice(extra);
        args.push("-");
        let out = run_with_stdin(&args, cohort.as_bytes());
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout).lines().count(), 3);
    }
    assert!(line.starts_with("{\"patient\":\"EXAMPLE-IRANO-1\""));
    // a bad line of standard input is located in it
    let bad = run_with_stdin(
        &["eval", "--rules", IRANO, "--error-format", "json", "-"],
        format!("{}{{\"patient\": 3}}\n", cohort::cohort(1)).as_bytes(),
    );
    assert_eq!(bad.status.code(), Some(2));
    let err = text(&bad.stderr);
    assert!(
        err.contains("\"file\":\"<stdin>\"") && err.contains("\"line\":2"),
        "{err}"
    );
    assert!(bad.stdout.is_empty());
    // cases piped in without `-`: the message says to give `-`
    let yaml = std::fs::read(repo().join(EXAMPLE)).unwrap();
    let no_dash = run_with_stdin(&["eval", "--rules", IRANO], &yaml);
    assert_eq!(no_dash.status.code(), Some(2));
    let err = text(&no_dash.stderr);
    assert!(
        err.contains("cli::no_cases") && err.contains("give `-`"),
        "{err}"
    );
    assert!(no_dash.stdout.is_empty());
}

/// `--set` of a parameter the criterion retired names the `remove param` and quotes its
/// reason, which names the replacement.
/// A YAML case file named `.jsonl` (or YAML piped as `--input-format jsonl`) is one error
/// that says so, not one JSON syntax error per line.
#[test]
fn yaml_read_as_json_lines_is_one_error_that_says_so() {
    let out = run(&[
        "eval",
        "--rules",
        "rules/irano-2015.rano",
        "--include",
        "rules",
        "tests/cli/yaml-named-jsonl.jsonl",
    ]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty());
    assert_eq!(err.matches("case::").count(), 1, "{err}");
    assert!(
        err.contains("case::yaml_read_as_json") && err.contains("holds YAML"),
        "{err}"
    );
    let yaml = std::fs::read(repo().join("tests/cli/yaml-named-jsonl.jsonl")).unwrap();
    let piped = run_with_stdin(
        &[
            "eval",
            "--rules",
            "rules/irano-2015.rano",
            "--include",
            "rules",
            "--input-format",
            "jsonl",
            "-",
        ],
        &yaml,
    );
    let err = text(&piped.stderr);
    assert_eq!(piped.status.code(), Some(2), "{err}");
    assert_eq!(err.matches("case::").count(), 1, "{err}");
    assert!(err.contains("case::yaml_read_as_json"), "{err}");
}

#[test]
fn set_of_a_retired_parameter_names_its_replacement() {
    let out = run(&[
        "eval",
        "--rules",
        "rules/rano-lgg-2011.rano",
        "--set",
        "max_targets=3",
        EXAMPLE,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("check::removed_param") && err.contains("lgg.max_targets"),
        "{err}"
    );
}

#[test]
fn output_file_is_written_whole_or_not_at_all() {
    let dir = temp_dir("output");
    let target = dir.join("results.jsonl");
    let t = target.to_str().unwrap();
    let out = run(&[
        "eval", "--rules", IRANO, "--format", "jsonl", "-o", t, EXAMPLE,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let first = std::fs::read_to_string(&target).unwrap();
    assert!(first.starts_with("{\"patient\":\"EXAMPLE-IRANO-1\""));
    // a bad case: the previous file stays as it was, no temporary file is left
    let bad = run(&[
        "eval",
        "--rules",
        IRANO,
        "--output",
        t,
        EXAMPLE,
        "tests/cli/bad-case.yaml",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), first);
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    // a folder that does not exist: a message and exit 1
    let missing = dir.join("no/such/dir/out.jsonl");
    let out = run(&[
        "eval",
        "--rules",
        IRANO,
        "-o",
        missing.to_str().unwrap(),
        EXAMPLE,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no such file or directory"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// An output file that already exists keeps its permissions when it is replaced (a file of
/// patient data kept private stays private), and a read-only one is refused, not replaced.
#[cfg(unix)]
#[test]
fn an_existing_output_keeps_its_permissions_and_a_read_only_one_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = temp_dir("modes");
    let target = dir.join("private.jsonl");
    let t = target.to_str().unwrap();
    std::fs::write(&target, "old\n").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = run(&[
        "eval", "--rules", HGG, "--format", "jsonl", "-o", t, EXAMPLE,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let meta = std::fs::metadata(&target).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert!(std::fs::read_to_string(&target)
        .unwrap()
        .starts_with("{\"patient\""));
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o444)).unwrap();
    let before = std::fs::read_to_string(&target).unwrap();
    let out = run(&[
        "eval", "--rules", IRANO, "--format", "jsonl", "-o", t, EXAMPLE,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("read-only"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), before);
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(names.len(), 1, "no temporary file is left");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Links in a folder of cases are followed (a linked folder was left out without a word),
/// a link back up the tree is read once, and a link to nothing that names a case file is
/// an error; `-j` above 256 is refused (a huge one asked for gigabytes of thread stacks).
#[cfg(unix)]
#[test]
fn links_in_a_case_folder_are_followed_and_jobs_are_bounded() {
    let dir = temp_dir("links");
    let real = temp_dir("links-real");
    let case = std::fs::read_to_string(repo().join(EXAMPLE)).unwrap();
    std::fs::write(dir.join("a.yaml"), case.replace("EXAMPLE-IRANO-1", "P-A")).unwrap();
    std::fs::write(
        real.join("b.yaml"),
        case.replace("EXAMPLE-IRANO-1", "P-LINKED"),
    )
    .unwrap();
    std::os::unix::fs::symlink(&real, dir.join("linked")).unwrap();
    std::os::unix::fs::symlink(&dir, dir.join("loop")).unwrap();
    let eval = |more: &[&str]| {
        let mut args = vec![
            "eval",
            "--rules",
            "rules/irano-2015.rano",
            "--include",
            "rules",
        ];
        args.extend_from_slice(more);
        printed(run(&args))
    };
    let d = dir.to_str().unwrap();
    let out = eval(&[d]);
    assert!(out.contains("exit: 0"), "{out}");
    assert!(
        out.contains("patient P-A ") && out.contains("patient P-LINKED "),
        "{out}"
    );
    assert_eq!(out.matches("patient P-A ").count(), 1, "{out}");
    std::os::unix::fs::symlink(dir.join("nothing-here"), dir.join("dangling.yaml")).unwrap();
    let out = eval(&[d]);
    assert!(
        out.contains("exit: 2") && out.contains("is a link to nothing"),
        "{out}"
    );
    let out = eval(&["-j", "100000", EXAMPLE]);
    assert!(
        out.contains("exit: 2") && out.contains("not in 0..=256"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&real);
}

/// A line of JSON Lines that is not UTF-8 is said with its line, and the lines after it
/// are still checked (the rest of the file was left unchecked, the error at line 0).
#[test]
fn a_line_that_is_not_utf8_is_located_and_the_rest_still_checked() {
    let dir = temp_dir("not-utf8");
    let case = std::fs::read_to_string(repo().join("tests/cli/bad-line.jsonl")).unwrap();
    let first = case.lines().next().unwrap();
    let mut bytes = format!("{first}\n").into_bytes();
    bytes.extend_from_slice(b"{\"patient\": \"caf\xe9\"}\n{\"patient\": \"P3\"}\n");
    let file = dir.join("latin1.jsonl");
    std::fs::write(&file, bytes).unwrap();
    let out = printed(run(&[
        "--error-format",
        "json",
        "eval",
        "--rules",
        "rules/rano-hgg-2010.rano",
        file.to_str().unwrap(),
    ]));
    assert!(out.contains("exit: 2"), "{out}");
    assert!(
        out.contains("\"code\":\"case::not_utf8\"") && out.contains("\"line\":2"),
        "{out}"
    );
    assert!(
        out.contains("missing field `setting`") && out.contains("\"line\":3"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A directory of cases is read with its subdirectories, in path order; hidden entries and
/// files without a case extension are skipped. `--threads` names `--jobs`.
#[test]
fn a_directory_is_read_with_its_subdirectories() {
    let dir = temp_dir("tree");
    let case = std::fs::read_to_string(repo().join(EXAMPLE)).unwrap();
    let write = |rel: &str, id: &str| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, case.replace("EXAMPLE-IRANO-1", id)).unwrap();
    };
    write("b.yaml", "P-B");
    write("a/z.yaml", "P-AZ");
    write("a.yaml", "P-A");
    write("c/d/e.yml", "P-CDE");
    write(".hidden/h.yaml", "P-HIDDEN");
    write("notes.txt", "P-TXT");
    let d = dir.to_str().unwrap();
    let out = run(&[
        "eval",
        "--rules",
        HGG,
        "--format",
        "jsonl",
        "--trace",
        "none",
        "--threads",
        "1",
        d,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ids: Vec<String> = text(&out.stdout)
        .lines()
        .map(|l| l.split('"').nth(3).unwrap().to_string())
        .collect();
    // path order, component by component: `a/z.yaml` before `a.yaml`
    assert_eq!(ids, ["P-AZ", "P-A", "P-B", "P-CDE"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The errors of every input are reported in one run: a bad YAML file does not hide the
/// errors of a JSON Lines file (read as the run goes otherwise), nor does a bad rule file.
#[test]
fn every_inputs_errors_are_reported_in_one_run() {
    let out = run(&[
        "--error-format",
        "json",
        "eval",
        "--rules",
        HGG,
        "tests/cli/bad-case.yaml",
        "tests/cli/bad-line.jsonl",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert!(
        err.contains("\"file\":\"tests/cli/bad-case.yaml\""),
        "{err}"
    );
    assert!(
        err.contains("\"file\":\"tests/cli/bad-line.jsonl\",\"help\":\"did you mean `followup`?")
            && err.contains("\"line\":2"),
        "{err}"
    );
    let out = run(&[
        "--error-format",
        "json",
        "eval",
        "--rules",
        "rules/no-such-criterion.rano",
        "tests/cli/bad-line.jsonl",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("\"code\":\"check::io\""), "{err}");
    assert!(err.contains("tests/cli/bad-line.jsonl"), "{err}");
}

/// Over a cohort, at most ten warnings of a kind are shown, then how many more there were
/// (memory stays flat, and the messages stay readable).
#[test]
fn warnings_of_a_cohort_are_capped_per_kind() {
    let dir = temp_dir("warnings");
    let file = dir.join("no-baseline.jsonl");
    std::fs::write(&file, one_scan_cases("NB", 25, "2025-04-28", "followup")).unwrap();
    let out = run(&[
        "--error-format",
        "json",
        "eval",
        "--rules",
        HGG,
        "--format",
        "jsonl",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().count(), 25);
    let err = text(&out.stderr);
    assert_eq!(
        err.matches("no scan qualifies as the baseline").count(),
        10,
        "{err}"
    );
    assert!(
        err.contains("15 more `eval::no_baseline` warnings in the cases, not shown"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Errors in the cases are capped (100 by default, then a count); `--max-errors 0` lists
/// every one, for a pipeline that needs the whole list of bad lines. A line cut off in the
/// middle of a case says it may have been truncated.
#[test]
fn errors_are_capped_unless_asked_for_all_and_a_cut_off_line_says_so() {
    let dir = temp_dir("errors");
    let file = dir.join("bad.jsonl");
    let mut lines = one_scan_cases("E", 120, "2025-02-30", "pretreatment");
    lines.push_str("{\"patient\": \"CUT\", \"setting\": \"recur");
    std::fs::write(&file, lines).unwrap();
    let f = file.to_str().unwrap();
    let count = |args: &[&str]| {
        let mut all = vec!["--error-format", "json", "eval", "--rules", HGG];
        all.extend_from_slice(args);
        all.push(f);
        let out = run(&all);
        assert_eq!(out.status.code(), Some(2));
        text(&out.stderr)
    };
    let capped = count(&[]);
    assert_eq!(capped.matches("February 2025 has 28 days").count(), 100);
    assert!(
        capped.contains("21 more errors in the cases, not shown"),
        "{capped}"
    );
    assert!(capped.contains("--max-errors 0"), "{capped}");
    let all = count(&["--max-errors", "0"]);
    assert_eq!(all.matches("February 2025 has 28 days").count(), 120);
    assert!(all.contains("was the file or line cut off"), "{all}");
    assert!(!all.contains("more errors in the cases"), "{all}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A path that is a symbolic link (or a device such as `/dev/null`) is written through, not
/// replaced: renaming a finished file over it would turn the link or the device into a
/// plain file. Checked on links, which a test may make and remove safely.
#[cfg(unix)]
#[test]
fn an_output_path_that_is_a_link_is_written_through() {
    use std::os::unix::fs::symlink;
    let dir = temp_dir("link");
    let real = dir.join("real");
    std::fs::create_dir_all(&real).unwrap();
    let is_link = |p: &Path| {
        std::fs::symlink_metadata(p)
            .unwrap()
            .file_type()
            .is_symlink()
    };

    // eval -o LINK: the link's target is replaced whole (longer old content leaves no tail)
    let eval_to = |output: &str| {
        let out = run(&[
            "eval", "--rules", IRANO, "--format", "jsonl", "-o", output, EXAMPLE,
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        out
    };
    let expected = run(&["eval", "--rules", IRANO, "--format", "jsonl", EXAMPLE]);
    assert!(expected.status.success(), "{}", text(&expected.stderr));
    let target = real.join("results.jsonl");
    std::fs::write(&target, "x".repeat(100_000)).unwrap();
    let link = dir.join("results.jsonl");
    symlink(&target, &link).unwrap();
    eval_to(link.to_str().unwrap());
    assert!(is_link(&link), "the link was replaced by a file");
    assert_eq!(std::fs::read(&target).unwrap(), expected.stdout);
    let names: Vec<_> = std::fs::read_dir(&real)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "a temporary file was left: {names:?}");

    // -o /dev/stdout is standard output
    assert_eq!(eval_to("/dev/stdout").stdout, expected.stdout);

    // fmt on a linked rule file
    let rules = std::fs::read_to_string(repo().join("rules/rano-lgg-2011.rano")).unwrap();
    let messy = rules.replacen("\ncriterion ", "\n    criterion ", 1);
    assert_ne!(messy, rules);
    let real_rule = real.join("lgg.rano");
    std::fs::write(&real_rule, &messy).unwrap();
    let linked_rule = dir.join("lgg.rano");
    symlink(&real_rule, &linked_rule).unwrap();
    let out = run(&["fmt", linked_rule.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(is_link(&linked_rule), "the link was replaced by a file");
    assert_eq!(std::fs::read_to_string(&real_rule).unwrap(), rules);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_closed_pipe_ends_the_run_quietly() {
    let dir = temp_dir("pipe");
    let file = dir.join("cohort.jsonl");
    std::fs::write(&file, cohort::cohort(400)).unwrap();
    let mut child = cmd(&["eval", "--rules", HGG, file.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // the reader reads one line and goes away, as `| head -1` does
    let mut stdout = child.stdout.take().unwrap();
    let mut byte = [0u8; 1];
    let _ = std::io::Read::read(&mut stdout, &mut byte);
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(141), "128 + SIGPIPE");
    assert_eq!(text(&out.stderr), "");

    // a summary file asked for is not written (never half an output), and that is said
    let summary = dir.join("summary.csv");
    let mut child = cmd(&[
        "eval",
        "--rules",
        HGG,
        "--summary",
        summary.to_str().unwrap(),
        file.to_str().unwrap(),
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let _ = std::io::Read::read(&mut stdout, &mut byte);
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(141));
    let err = text(&out.stderr);
    assert!(
        err.contains("io::closed_pipe") && err.contains("was not written"),
        "{err}"
    );
    assert!(!summary.exists(), "the summary was written");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_write_error_is_reported() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let full = dev_full();
    let out = cmd(&["eval", "--rules", IRANO, EXAMPLE])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("cannot write to standard output: no space left on device"),
        "{err}"
    );
    let out = run(&["eval", "--rules", IRANO, "-o", "/dev/full", EXAMPLE]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no space left on device"));
    // help and version too (they exited 0 having written nothing)
    for args in [&["--help"][..], &["eval", "--help"], &["--version"]] {
        let out = cmd(args).stdout(dev_full()).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            text(&out.stderr).contains("cannot write to standard output: no space left on device"),
            "{args:?}"
        );
    }
    // other commands too
    let full = dev_full();
    let out = cmd(&["params", IRANO]).stdout(full).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("no space left on device"), "{err}");
    // said as a diagnostic, with its help, as eval says it; in JSON when asked
    assert!(
        err.contains("io::write") && err.contains("disk is not full"),
        "{err}"
    );
    let full = dev_full();
    let out = cmd(&[
        "--error-format",
        "json",
        "diff",
        "--rules",
        IRANO,
        "--rules",
        IRANO,
        EXAMPLE,
    ])
    .stdout(full)
    .output()
    .unwrap();
    let err = text(&out.stderr);
    assert!(
        err.lines()
            .any(|l| l.starts_with('{') && l.contains("\"code\":\"io::write\"")),
        "{err}"
    );
    // a failed write to standard output leaves the `--summary` file as it was
    let dir = temp_dir("summary-kept");
    let summary = dir.join("patients.csv");
    std::fs::write(&summary, "old\n").unwrap();
    let full = dev_full();
    let out = cmd(&[
        "eval",
        "--rules",
        IRANO,
        "--format",
        "csv",
        "--summary",
        summary.to_str().unwrap(),
        EXAMPLE,
    ])
    .stdout(full)
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&summary).unwrap(), "old\n");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no temporary file left"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// An empty standard input is an empty cohort (exit 0, no result), so that an empty shard
/// of a cohort run as a filter (an empty Spark partition) does not fail the job; an empty
/// file named on the command line is still an error; an empty list is an empty cohort,
/// which a table says.
#[test]
fn an_empty_standard_input_is_an_empty_cohort() {
    for (args, input) in [
        (vec!["--format", "jsonl", "-"], ""),
        (
            vec!["--format", "jsonl", "--input-format", "jsonl", "-"],
            "\n\n",
        ),
        (vec!["--format", "jsonl", "--input-format", "yaml", "-"], ""),
    ] {
        let mut all = vec!["eval", "--rules", HGG];
        all.extend(args);
        let out = run_with_stdin(&all, input.as_bytes());
        assert!(out.status.success(), "{all:?}: {}", text(&out.stderr));
        assert!(out.stdout.is_empty(), "{all:?}");
    }
    let dir = temp_dir("empty-file");
    let empty = dir.join("shard.jsonl");
    std::fs::write(&empty, "").unwrap();
    let out = run(&["eval", "--rules", HGG, empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("holds no case"));
    // an empty list of cases is an empty cohort too; the table says so rather than nothing
    let list = dir.join("none.yaml");
    std::fs::write(&list, "[]\n").unwrap();
    let out = run(&["eval", "--rules", HGG, list.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "cohort: 0 patients (the input holds no case)\n"
    );
    let out = run(&[
        "eval",
        "--rules",
        HGG,
        "--format",
        "jsonl",
        list.to_str().unwrap(),
    ]);
    assert!(out.status.success() && out.stdout.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every empty file named on the command line is reported, each in its place among the
/// other inputs' errors (the first one used to hide the others); an empty JSON Lines file
/// found in a directory is an empty shard, as an empty standard input is.
#[test]
fn every_empty_file_is_reported_in_input_order_and_an_empty_shard_in_a_directory_is_none() {
    let dir = temp_dir("empty-files");
    let shards = dir.join("shards");
    std::fs::create_dir_all(&shards).unwrap();
    let case = one_scan_cases("SHARD", 1, "2025-01-01", "pretreatment");
    std::fs::write(shards.join("part-1.jsonl"), "").unwrap();
    std::fs::write(shards.join("part-2.jsonl"), format!("{case}\n")).unwrap();
    std::fs::write(shards.join("part-3.jsonl"), "").unwrap();
    let out = run(&[
        "eval",
        "--rules",
        HGG,
        "--format",
        "jsonl",
        shards.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().count(), 1);

    let (a, b, c) = (
        dir.join("a.jsonl"),
        dir.join("b.jsonl"),
        dir.join("c.jsonl"),
    );
    std::fs::write(&a, "").unwrap();
    std::fs::write(&b, "{\"patient\": \"P-1\"}\n").unwrap();
    // a file holding only a byte-order mark is empty too
    std::fs::write(&c, "\u{feff}\n").unwrap();
    let args = [
        "--error-format",
        "json",
        "eval",
        "--rules",
        HGG,
        "--format",
        "jsonl",
        "--max-errors",
        "0",
    ];
    let mut all = args.to_vec();
    all.extend([
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        c.to_str().unwrap(),
    ]);
    let out = run(&all);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let files: Vec<String> = text(&out.stderr)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|d| d["file"].as_str().map(str::to_string))
        .collect();
    let order: Vec<&str> = files
        .iter()
        .map(|f| f.rsplit('/').next().unwrap_or(f))
        .collect();
    assert_eq!(order.first(), Some(&"a.jsonl"), "{files:?}");
    assert_eq!(order.last(), Some(&"c.jsonl"), "{files:?}");
    assert!(
        text(&out.stderr)
            .lines()
            .last()
            .is_some_and(|l| l.contains("case::empty")),
        "{}",
        text(&out.stderr)
    );
    assert!(order.contains(&"b.jsonl"), "{files:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// An input whose name gives no format is read as standard input is when it is a pipe
/// (`<(zcat cases.jsonl.gz)`; here `/dev/stdin`, a pipe too): the format sniffed, or given
/// by `--input-format`, which also reads a file named otherwise (`.txt`). A compressed file
/// says so and how to pipe it in.
#[test]
fn a_pipe_named_as_a_path_is_read_and_input_format_reads_a_file_named_otherwise() {
    let cases = one_scan_cases("PIPE", 3, "2025-01-01", "pretreatment");
    let out = run_with_stdin(
        &["eval", "--rules", HGG, "--format", "jsonl", "/dev/stdin"],
        cases.as_bytes(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().count(), 3);
    // an empty pipe named as a path is an empty input named on the command line
    let out = run_with_stdin(&["eval", "--rules", HGG, "/dev/stdin"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("holds no case"),
        "{}",
        text(&out.stderr)
    );

    let dir = temp_dir("input-format");
    let txt = dir.join("cases.txt");
    std::fs::write(&txt, &cases).unwrap();
    let txt = txt.to_str().unwrap();
    let out = run(&["eval", "--rules", HGG, "--format", "jsonl", txt]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("is not a case file"));
    let out = run(&[
        "eval",
        "--rules",
        HGG,
        "--format",
        "jsonl",
        "--input-format",
        "jsonl",
        txt,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().count(), 3);
    assert!(!text(&out.stderr).contains("cli::input_format"));

    let gz = dir.join("cases.jsonl.gz");
    std::fs::write(&gz, [0x1f, 0x8b, 8, 0]).unwrap();
    let out = run(&[
        "--error-format",
        "json",
        "eval",
        "--rules",
        HGG,
        gz.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    let d: serde_json::Value = serde_json::from_str(err.lines().next().unwrap()).unwrap();
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("is a compressed file"),
        "{err}"
    );
    assert!(
        d["help"]
            .as_str()
            .unwrap()
            .contains("zcat cases.jsonl.gz | irano-eval eval"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// An interrupted run (SIGTERM, SIGINT, SIGHUP) removes its temporary file and leaves the
/// old output as it was, then ends as the signal would have; the temporary files used to
/// be left behind, hundreds of megabytes each on a large cohort. The run waits on an open
/// standard input, so the signal comes while it runs, whatever the machine's speed.
#[cfg(unix)]
#[test]
fn an_interrupted_run_removes_its_temporary_file() {
    use std::os::unix::process::ExitStatusExt;
    let dir = temp_dir("interrupt");
    let target = dir.join("results.jsonl");
    std::fs::write(&target, "old\n").unwrap();
    let mut child = cmd(&[
        "eval",
        "--rules",
        HGG,
        "--format",
        "jsonl",
        "--input-format",
        "jsonl",
        "-o",
        target.to_str().unwrap(),
        "-",
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(one_scan_cases("INT", 50, "2025-01-01", "pretreatment").as_bytes())
        .unwrap();
    stdin.flush().unwrap();
    // the temporary file beside the output exists from the start of the run
    let temps = || {
        std::fs::read_dir(&dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".tmp")
            })
            .count()
    };
    let start = std::time::Instant::now();
    while temps() == 0 && start.elapsed() < std::time::Duration::from_secs(60) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(temps(), 1, "the run made its temporary file");
    // (it is registered for removal a moment after it is created)
    std::thread::sleep(std::time::Duration::from_millis(200));
    let killed = Command::new("sh")
        .args(["-c", &format!("kill -TERM {}", child.id())])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    assert_eq!(out.status.signal(), Some(15), "{}", text(&out.stderr));
    assert_eq!(temps(), 0, "no temporary file left");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "old\n");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The human report's `file:line:column` is the one `--error-format json` gives: columns in
/// characters, on a short line shown whole and on a long JSON Lines line shown as a window
/// (the human header counted bytes, so an accented id before the error moved it).
#[test]
fn human_and_json_reports_give_the_same_line_and_column() {
    let dir = temp_dir("columns");
    let long = format!(
        "{{\"patient\": \"Ünïcödé-😀\", \"setting\": \"recurrent\", \"therapy_start\": \"2025-03-03\", \"x-note\": \"{}\", \"assessments\": [{{\"date\": \"2025-02-24\", \"scan\": \"pretreatment\", \"bad\": 1}}]}}\n",
        "é".repeat(150)
    );
    let short = "{patient: \"Üñï-1\", setting: recurrent, therapy_start: 2025-03-03, assessments: [{date: 2025-02-24, bad: 1}]}\n";
    for (name, body) in [("long.jsonl", long.as_str()), ("short.yaml", short)] {
        let file = dir.join(name);
        std::fs::write(&file, body).unwrap();
        let file = file.to_str().unwrap();
        let human = text(&run(&["--color", "never", "eval", "--rules", HGG, file]).stderr);
        let json = text(&run(&["--error-format", "json", "eval", "--rules", HGG, file]).stderr);
        let d: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
        let at = format!("{file}:{}:{}]", d["line"], d["column"]);
        assert!(human.contains(&at), "{at} not in:\n{human}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn missing_paths_and_csv_files_say_what_they_are() {
    let out = run(&["eval", "--rules", IRANO, "no-such-cases"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("no such file or directory"), "{err}");
    assert!(!err.contains("is not a case file"), "{err}");
    // for a program: a file that cannot be read has no line or column (null, not 0)
    let out = run(&[
        "--error-format",
        "json",
        "eval",
        "--rules",
        IRANO,
        "no-such-cases",
    ]);
    let err = text(&out.stderr);
    let d: serde_json::Value = serde_json::from_str(err.lines().next().unwrap()).unwrap();
    assert_eq!(d["code"], "case::io", "{err}");
    assert_eq!(d["file"], "no-such-cases", "{err}");
    assert!(d["line"].is_null() && d["column"].is_null(), "{err}");
    let dir = temp_dir("csv");
    let csv = dir.join("scans.csv");
    std::fs::write(&csv, "USUBJID,TRDTC\n").unwrap();
    let out = run(&["eval", "--rules", IRANO, csv.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("is a CSV file") && err.contains("irano-eval import"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn completions_colour_and_version() {
    let out = run(&["completions", "bash"]);
    assert!(out.status.success());
    let script = text(&out.stdout);
    assert!(
        script.contains("_irano__eval()") && script.contains("--trace"),
        "bash script"
    );
    // every state the script's loop reaches has its arm (clap-rs/clap#6421 spelt them two
    // ways for a bin with a hyphen, and nothing below the top level completed)
    let arms: std::collections::HashSet<&str> = script
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_suffix(')'))
        .collect();
    for l in script.lines() {
        if let Some(state) = l
            .trim()
            .strip_prefix("cmd=\"")
            .and_then(|x| x.strip_suffix('"'))
        {
            if !state.is_empty() {
                assert!(arms.contains(state), "no arm for {state}");
            }
        }
    }
    // and bash completes a subcommand's option and its values
    let d = temp_dir("completion");
    let file = d.join("irano-eval.bash");
    std::fs::write(&file, &script).unwrap();
    let complete = |words: &str| {
        let sh = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}}-1)); _irano__eval irano-eval \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; echo \"${{COMPREPLY[*]}}\"",
            file.display()
        );
        let o = Command::new("bash").args(["-c", &sh]).output().unwrap();
        text(&o.stdout).trim().to_string()
    };
    assert_eq!(complete("irano-eval eval --fo"), "--format");
    assert_eq!(
        complete("irano-eval eval --format ''"),
        "table json jsonl csv"
    );
    let _ = std::fs::remove_dir_all(&d);
    let out = run(&["completions", "zsh"]);
    assert!(text(&out.stdout).contains("#compdef irano-eval"));
    let typo = [
        "check",
        "--include",
        "rules",
        "tests/cli/amendment-typo.rano",
    ];
    let with = |c: &str| {
        let mut a = vec!["--color", c];
        a.extend_from_slice(&typo);
        text(&run(&a).stderr)
    };
    assert!(with("always").contains('\u{1b}'), "colour asked for");
    assert!(!with("never").contains('\u{1b}'));
    assert!(
        !with("auto").contains('\u{1b}'),
        "standard error is not a terminal"
    );
    let v = run(&["eval", "--version"]);
    assert!(v.status.success());
    // the subcommand as a user types it
    let v = text(&v.stdout);
    assert_eq!(
        v,
        format!("irano-eval eval {}\n", env!("CARGO_PKG_VERSION"))
    );
    let v = text(&run(&["import", "sdtm", "--version"]).stdout);
    assert_eq!(
        v,
        format!("irano-eval import sdtm {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn trace_levels() {
    let json = |trace: &str| -> serde_json::Value {
        let out = run(&[
            "eval", "--rules", IRANO, "--format", "json", "--trace", trace, EXAMPLE,
        ]);
        assert!(out.status.success());
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let full = json("full");
    let rules = json("rules");
    let none = json("none");
    for v in [&full, &rules, &none] {
        assert_eq!(v["best_overall_response"], "PD");
        assert_eq!(v["assessments"][1]["response"], "UPD");
        assert_eq!(v["assessments"][1]["values"]["burden"], 390);
    }
    assert!(full["assessments"][1]["explain"].is_string());
    assert!(full["assessments"][1]["fired"].is_array());
    assert_eq!(rules["assessments"][1]["rule"], "irano.upd.initial");
    assert!(rules["assessments"][1].get("explain").is_none());
    assert!(rules["assessments"][1].get("fired").is_none());
    assert_eq!(rules["summary"][0]["rule"], full["summary"][0]["rule"]);
    assert!(rules["summary"][0].get("explain").is_none());
    assert!(none["assessments"][1].get("rule").is_none());
    assert!(none.get("summary").is_none());
    // the table without explanations has no trace lines
    let table = text(&run(&["eval", "--rules", IRANO, "--trace", "rules", EXAMPLE]).stdout);
    assert!(table.contains("irano.upd.initial") && !table.contains("irano.upd.initial:"));
}

/// CSV rows carry the criterion's own label names and which rule file and parameters
/// decided them, so that rows of several runs can be pooled.
#[test]
fn csv_rows_name_the_criterion_native_labels_and_overrides() {
    let dir = temp_dir("csv-provenance");
    let summary = dir.join("patients.csv");
    let out = run(&[
        "eval",
        "--rules",
        "rules/irecist-2017.rano",
        "--set",
        "irecist.confirm_window_max_days=84days",
        "--format",
        "csv",
        "--summary",
        summary.to_str().unwrap(),
        "tests/worked/irecist-2017/001-iupd-by-target-growth-icpd-exactly-5mm-further-at-exactly-4-weeks.yaml",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    assert!(
        csv.lines()
            .any(|l| l.contains(",UPD,") && l.ends_with(",iUPD,irecist-2017,2017.2,")),
        "{csv}"
    );
    let rows = std::fs::read_to_string(&summary).unwrap();
    let row = rows.lines().nth(1).unwrap();
    assert!(
        row.ends_with(",iSD,irecist-2017,2017.2,irecist.confirm_window_max_days=84 days"),
        "{row}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn csv_rows_summary_file_and_the_cohort_table_summary() {
    let dir = temp_dir("csvout");
    let summary = dir.join("patients.csv");
    let out = run(&[
        "eval",
        "--rules",
        IRANO,
        "--format",
        "csv",
        "--summary",
        summary.to_str().unwrap(),
        EXAMPLE,
        "tests/cli/no-baseline.yaml",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "patient,date,day,role,burden_mm2,nadir_mm2,change_vs_nadir_pct,reference_mm2,response,decision,rule,because,response_native,criterion,version,reason"
    );
    assert_eq!(
        lines.nth(2).unwrap(),
        "EXAMPLE-IRANO-1,2024-04-15,105,followup,420,390,7.69,390,UPD,CONTINUE,irano.upd.interim,earlier than the confirmation interval: progression stays provisional,,irano-2015,2015.5,"
    );
    // a scan without a response says why in its last column (no silent loss)
    let edge: Vec<&str> = csv.lines().filter(|l| l.starts_with("EDGE-2,")).collect();
    assert_eq!(edge.len(), 2, "{csv}");
    assert!(
        edge.iter()
            .all(|l| l.ends_with(",\"not graded: no scan qualifies as baseline (Wen 2010: newly diagnosed, post-operative MRI; recurrent, last MRI before treatment [C]; case-format.md)\"")),
        "{csv}"
    );
    let rows = std::fs::read_to_string(&summary).unwrap();
    let rows: Vec<&str> = rows.lines().collect();
    assert_eq!(
        rows[0],
        "patient,best_overall_response,pd_date,pd_confirmed_on,final_decision,best_overall_response_native,criterion,version,overrides"
    );
    assert_eq!(
        rows[1],
        "EXAMPLE-IRANO-1,PD,2024-03-04,2024-06-10,DISCONTINUE,,irano-2015,2015.5,"
    );
    assert_eq!(rows.len(), 3);
    // a cohort's table ends with a summary; a single case's does not
    let table = text(
        &run(&[
            "eval",
            "--rules",
            IRANO,
            EXAMPLE,
            "tests/cli/no-baseline.yaml",
        ])
        .stdout,
    );
    assert!(
        table.ends_with("\ncohort: 2 patients\nbest overall response: PD 1  ·  none 1\n"),
        "{table}"
    );
    let one = text(&run(&["eval", "--rules", IRANO, EXAMPLE]).stdout);
    assert!(!one.contains("cohort:"));
    // native labels (iRECIST's) are counted best first too, not in alphabetical order
    let table = text(
        &run(&[
            "eval",
            "--rules",
            "rules/irecist-2017.rano",
            "tests/worked/irecist-2017",
        ])
        .stdout,
    );
    let last = table.lines().last().unwrap_or_default();
    let at = |label: &str| last.find(&format!(" {label} ")).unwrap_or(usize::MAX);
    assert!(
        at("iCR") < at("iPR") && at("iPR") < at("iSD") && at("iSD") < at("iCPD"),
        "{last}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn no_progress_bar_when_standard_error_is_not_a_terminal() {
    let dir = temp_dir("progress");
    let file = dir.join("cohort.jsonl");
    std::fs::write(&file, cohort::cohort(300)).unwrap();
    let out = run(&[
        "eval",
        "--rules",
        HGG,
        "--format",
        "jsonl",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert_eq!(text(&out.stderr), "");
    assert_eq!(text(&out.stdout).lines().count(), 300);
    let _ = std::fs::remove_dir_all(&dir);
}

/// An output may not replace an input or the other output: `-o` or `--summary` naming the
/// case file, the rule file, or each other (however the path is spelt) is refused before
/// anything is written, and every file keeps its content.
#[test]
fn an_output_that_would_replace_an_input_or_the_other_output_is_refused() {
    let d = temp_dir("clobber");
    let cases = d.join("cohort.jsonl");
    let cohort = one_scan_cases("CLOB", 3, "2024-01-01", "pretreatment");
    std::fs::write(&cases, &cohort).unwrap();
    let rules = d.join("rano-hgg-2010.rano");
    let rule_text = std::fs::read_to_string(repo().join(HGG)).unwrap();
    std::fs::write(&rules, &rule_text).unwrap();
    let c = cases.to_str().unwrap();
    let r = rules.to_str().unwrap();
    let spelt_otherwise = format!("{}/./cohort.jsonl", d.display());
    let out_csv = d.join("out.csv");
    let o = out_csv.to_str().unwrap();
    // a case file written into the folder of cases would be read by the next run
    let in_folder = format!("{}/results.jsonl", d.display());
    let o2 = format!(
        "{}/../{}/out.csv",
        d.display(),
        d.file_name().unwrap().to_str().unwrap()
    );
    for (args, code) in [
        (
            vec!["eval", "--rules", r, "--format", "jsonl", "-o", c, c],
            "eval::output_is_input",
        ),
        (
            vec![
                "eval",
                "--rules",
                r,
                "--format",
                "jsonl",
                "-o",
                &spelt_otherwise,
                c,
            ],
            "eval::output_is_input",
        ),
        (
            vec!["eval", "--rules", r, "--summary", c, c],
            "eval::output_is_input",
        ),
        (
            vec!["eval", "--rules", r, "--format", "jsonl", "-o", r, c],
            "eval::output_is_input",
        ),
        (
            vec![
                "eval",
                "--rules",
                r,
                "--format",
                "csv",
                "-o",
                o,
                "--summary",
                &o2,
                c,
            ],
            "eval::same_output",
        ),
        (
            vec![
                "eval",
                "--rules",
                r,
                "--format",
                "jsonl",
                "-o",
                d.to_str().unwrap(),
                c,
            ],
            "eval::output_is_folder",
        ),
        (
            vec![
                "eval",
                "--rules",
                r,
                "--format",
                "jsonl",
                "-o",
                &in_folder,
                d.to_str().unwrap(),
            ],
            "eval::output_is_input",
        ),
    ] {
        let out = run(&args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains(code),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "{args:?}");
        assert_eq!(std::fs::read_to_string(&cases).unwrap(), cohort, "{args:?}");
        assert_eq!(
            std::fs::read_to_string(&rules).unwrap(),
            rule_text,
            "{args:?}"
        );
        assert!(!out_csv.exists(), "{args:?}");
    }
    // standard input redirected from the file `-o` names (`- < cohort.jsonl`)
    let out = cmd(&["eval", "--rules", r, "--format", "jsonl", "-o", c, "-"])
        .stdin(std::fs::File::open(&cases).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("eval::output_is_input")
            && text(&out.stderr).contains("standard input reads"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&cases).unwrap(), cohort);
    // from another file, the same output is fine
    let other = d.join("other.jsonl");
    std::fs::write(&other, &cohort).unwrap();
    let out = cmd(&["eval", "--rules", r, "--format", "jsonl", "-o", c, "-"])
        .stdin(std::fs::File::open(&other).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    std::fs::write(&cases, &cohort).unwrap();
    // a device is not a file to protect: -o /dev/null beside --summary /dev/null runs
    let out = run(&[
        "eval",
        "--rules",
        r,
        "--format",
        "csv",
        "-o",
        "/dev/null",
        "--summary",
        "/dev/null",
        c,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let _ = std::fs::remove_dir_all(&d);
}

/// A `--set` key given twice is refused (exit 2, nothing written): the last one silently won,
/// and the result listed only it.
#[test]
fn a_set_key_given_twice_is_refused() {
    let out = run(&[
        "eval",
        "--rules",
        HGG,
        "--set",
        "pd_increase=20%",
        "--set",
        "pd_increase=40%",
        EXAMPLE,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert!(
        err.contains("`--set pd_increase` is given twice: `20%` and `40%`"),
        "{err}"
    );
}

/// Outputs are committed device first, then standard output, then files: a `--summary` on
/// a full device leaves `-o FILE` with its old content and standard output empty (the file
/// was replaced, or all of standard output written, before the device failed).
#[test]
fn an_output_on_a_failing_device_leaves_the_other_outputs_unwritten() {
    let d = temp_dir("device-first");
    let kept = d.join("kept.jsonl");
    std::fs::write(&kept, "OLD\n").unwrap();
    let k = kept.to_str().unwrap();
    let out = run(&[
        "eval",
        "--rules",
        HGG,
        "--format",
        "jsonl",
        "-o",
        k,
        "--summary",
        "/dev/full",
        EXAMPLE,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("/dev/full"));
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "OLD\n");
    let out = run(&[
        "eval",
        "--rules",
        HGG,
        "--format",
        "jsonl",
        "--summary",
        "/dev/full",
        EXAMPLE,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let _ = std::fs::remove_dir_all(&d);
}

/// An `--include` that is not a folder is said at once (a warning; the run goes on), not
/// only in the list of places looked in when a parent is then missing.
#[test]
fn an_include_that_is_not_a_folder_is_warned_about() {
    let out = run(&[
        "check",
        "--include",
        "no-such-folder",
        "--include",
        "README.md",
        HGG,
    ]);
    assert_eq!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    assert!(
        err.contains("--include `no-such-folder` does not exist"),
        "{err}"
    );
    assert!(
        err.contains("--include `README.md` is not a folder"),
        "{err}"
    );
}

/// `--input-format` with case files named by their extension only is said to apply to
/// standard input and to inputs named otherwise (it was silently ignored).
#[test]
fn input_format_without_standard_input_is_warned_about() {
    let out = run(&["eval", "--rules", HGG, "--input-format", "jsonl", EXAMPLE]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr)
            .contains("--input-format applies to standard input (`-`) and to inputs whose name"),
        "{}",
        text(&out.stderr)
    );
}

/// An amendment's `override param` that a `--set` of this run leaves unread is said to be
/// so because of the `--set` (the file itself is right), with the way out.
#[test]
fn an_override_made_unread_by_a_set_names_the_set() {
    let out = run(&[
        "check",
        "--include",
        "rules",
        "--set",
        "irano.confirm_interval=days_84",
        "examples/amendment/trial-xyz-irano.rano",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("changes nothing under this run's `--set"),
        "{err}"
    );
    assert!(err.contains("or drop that"), "{err}");
}

/// With `--trace none` a table has no rule or reason on any scan, and so no empty `rule`
/// column; `params` prints no blank line for a parameter without a `doc`.
#[test]
fn no_empty_rule_column_and_no_blank_doc_line() {
    let table = text(&run(&["eval", "--rules", HGG, "--trace", "none", EXAMPLE]).stdout);
    let head = table.lines().find(|l| l.starts_with("date")).unwrap();
    assert!(head.trim_end().ends_with("response"), "{head}");
    let d = temp_dir("no-doc");
    let file = d.join("no-doc.rano");
    std::fs::write(
        &file,
        "criterion \"no-doc\" extends \"rano-hgg-2010\" {\n  version \"1\"\n  cite \"x\"\n  param trial.flag: bool = true cite \"x\"\n  override let t2_flair_progression = scan.t2_flair == worse and trial.flag cite \"x\"\n}\n",
    )
    .unwrap();
    let out = run(&["--include", "rules", "params", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let params = text(&out.stdout);
    assert!(
        params.contains("trial.flag : bool = true    (from no-doc)\n    source: x"),
        "{params}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn standard_input_is_read_by_eval_only_and_the_others_say_so() {
    for args in [
        &["diff", "--rules", HGG, "--set-new", "pd_increase=20%", "-"][..],
        &[
            "compare",
            "--rules",
            HGG,
            "--rules",
            "rules/rano-lgg-2011.rano",
            "-",
        ],
        &["explain", "--rules", HGG, "-"],
        &["test", "--rules", HGG, "-"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains("`-` (standard input) is read by `eval` only"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn diff_streams_json_lines_with_the_same_report_as_a_whole_file() {
    let dir = temp_dir("diff-stream");
    let lines = cohort::cohort(300);
    let jsonl = dir.join("cohort.jsonl");
    std::fs::write(&jsonl, &lines).unwrap();
    let json = dir.join("cohort.json");
    let array: Vec<&str> = lines.lines().filter(|l| !l.trim().is_empty()).collect();
    std::fs::write(&json, format!("[{}]", array.join(",\n"))).unwrap();
    let diff = |file: &Path| {
        run(&[
            "diff",
            "--rules",
            HGG,
            "--set-new",
            "pd_increase=20%",
            file.to_str().unwrap(),
        ])
    };
    let (streamed, whole) = (diff(&jsonl), diff(&json));
    assert_eq!(
        streamed.status.code(),
        Some(1),
        "{}",
        text(&streamed.stderr)
    );
    assert_eq!(whole.status.code(), Some(1), "{}", text(&whole.stderr));
    assert_eq!(text(&streamed.stdout), text(&whole.stdout));

    // a bad line is located in the file, and nothing is reported
    let mut bad: Vec<&str> = lines.lines().collect();
    bad.insert(150, "{\"patient\": 3}");
    std::fs::write(&jsonl, bad.join("\n")).unwrap();
    let out = diff(&jsonl);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cohort.jsonl:151:"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The table is for a terminal: a control character in a case's text (here an escape
/// sequence in a patient id) is written as an escape, never sent to the terminal as is.
#[test]
fn the_table_escapes_control_characters_of_the_cases() {
    let case = "{\"patient\":\"A\\u0000\\u001b[31mB\",\"setting\":\"recurrent\",\"therapy_start\":\"2025-01-06\",\"assessments\":[{\"date\":\"2025-01-01\",\"scan\":\"pretreatment\",\"lesions\":[{\"id\":\"T1\",\"role\":\"auto\",\"component\":\"enhancing\",\"d\":[20,10]}]},{\"date\":\"2025-03-01\",\"scan\":\"followup\",\"lesions\":[{\"id\":\"T1\",\"d\":[20,10]}]}]}\n";
    let out = run_with_stdin(&["eval", "--rules", HGG, "-"], case.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(table.contains("patient A\\u{0}\\u{1b}[31mB"), "{table}");
    assert!(
        !table.contains('\u{1b}') && !table.contains('\0'),
        "{table}"
    );
}

/// Errors of a JSON Lines file come in line order, whatever kind they are: a line that is
/// not UTF-8 (found while reading) before a syntax error further down (found by a worker).
#[test]
fn errors_of_a_stream_come_in_line_order() {
    let dir = temp_dir("order");
    let file = dir.join("mixed.jsonl");
    let mut lines: Vec<Vec<u8>> = one_scan_cases("ORD", 25, "2024-01-01", "pretreatment")
        .lines()
        .map(|l| l.as_bytes().to_vec())
        .collect();
    // a byte that is never UTF-8, inside line 10's patient id
    let at = lines[9].windows(4).position(|w| w == b"ORD-").unwrap() + 4;
    lines[9].insert(at, 0xff);
    let last = lines[19].pop();
    assert_eq!(last, Some(b'}'));
    lines[19].extend_from_slice(b",}");
    std::fs::write(&file, lines.join(&b'\n')).unwrap();
    for jobs in ["1", "2"] {
        let out = run(&[
            "--error-format",
            "json",
            "eval",
            "--rules",
            HGG,
            "-j",
            jobs,
            file.to_str().unwrap(),
        ]);
        let err = text(&out.stderr);
        let at: Vec<u64> = err
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|d| d["line"].as_u64())
            .collect();
        assert_eq!(at, vec![10, 20], "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A cohort saved as UTF-16 (a spreadsheet's "Unicode text") is said to be UTF-16 once,
/// from a file or from standard input, not reported as a run of odd characters per line.
#[test]
fn a_utf16_input_is_named_as_such() {
    let dir = temp_dir("utf16");
    let cases = one_scan_cases("U16", 3, "2024-01-01", "pretreatment");
    let mut bytes = vec![0xff, 0xfe];
    for u in cases.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let file = dir.join("cohort.jsonl");
    std::fs::write(&file, &bytes).unwrap();
    let from_file = run(&["eval", "--rules", HGG, file.to_str().unwrap()]);
    let from_stdin = run_with_stdin(&["eval", "--rules", HGG, "-"], &bytes);
    for out in [from_file, from_stdin] {
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(err.matches("is UTF-16 text, not UTF-8").count(), 1, "{err}");
        assert!(!err.contains("U+0000"), "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A JSON Lines file whose lines end with a carriage return alone (old Mac line ends)
/// reads as one line; the error says why and how to convert it.
#[test]
fn carriage_return_line_ends_are_named() {
    let cases = one_scan_cases("CR", 2, "2024-01-01", "pretreatment").replace('\n', "\r");
    let out = run_with_stdin(
        &["eval", "--rules", HGG, "--input-format", "jsonl", "-"],
        cases.as_bytes(),
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("carriage returns"), "{err}");
}
