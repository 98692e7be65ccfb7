//! The hostile bundle corpus (`tests/corpus/hostile/`, made by its `generate.py`): every archive there is refused
//! with exactly the refusal its sidecar `<archive>.json` states, and nothing is written.
//!
//! Archives refused by the extractor are checked twice: by `archive::extract` itself (exact `ArchiveError`, the
//! destination never created) and by a real DownloadBundle through the executor (`The bundle was refused: …`, no
//! `deployment-archive`, nothing on the host). Archives with a hostile AppSpec run their events on a simulated host
//! (`--destination-root`), prepared as the sidecar says, and must leave it exactly as prepared.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{Deployment, executor_with, files_under};
use cutover_agent::ExecutorOptions;
use cutover_agent::archive::{BundleFormat, ExtractLimits, extract};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    archive: String,
    description: String,
    refused_by: String,
    #[serde(default)]
    error: String,
    #[serde(default)]
    limits: Limits,
    #[serde(default)]
    events: Vec<String>,
    #[serde(default)]
    error_code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    host_dirs: Vec<String>,
    #[serde(default)]
    host_symlinks: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Limits {
    max_total_bytes: Option<u64>,
    max_entries: Option<u64>,
}

impl Limits {
    fn apply(&self) -> ExtractLimits {
        let defaults = ExtractLimits::default();
        ExtractLimits {
            max_total_bytes: self.max_total_bytes.unwrap_or(defaults.max_total_bytes),
            max_entries: self.max_entries.unwrap_or(defaults.max_entries),
            ..defaults
        }
    }
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/hostile")
}

/// Every case, after checking that each archive has a sidecar and each sidecar an archive.
fn cases() -> Vec<(PathBuf, Case)> {
    let dir = corpus_dir();
    let mut archives = Vec::new();
    let mut sidecars = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("corpus dir") {
        let name = entry.expect("entry").file_name().to_string_lossy().into_owned();
        if name == "generate.py" || name == "README.md" {
            continue;
        }
        match name.strip_suffix(".json") {
            Some(archive) => sidecars.push(archive.to_owned()),
            None => archives.push(name),
        }
    }
    archives.sort();
    sidecars.sort();
    assert_eq!(archives, sidecars, "every corpus archive needs a sidecar <archive>.json, and the other way round");
    assert!(archives.len() >= 40, "the corpus lost cases: {archives:?}");
    archives
        .into_iter()
        .map(|name| {
            let text = std::fs::read_to_string(dir.join(format!("{name}.json"))).expect("sidecar");
            let case: Case = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}.json: {e}"));
            assert_eq!(case.archive, name, "{name}.json names another archive");
            (dir.join(&name), case)
        })
        .collect()
}

fn bundle_type(path: &Path) -> String {
    path.extension().expect("extension").to_string_lossy().into_owned()
}

/// The refusal of `archive::extract` itself.
fn check_extract(path: &Path, case: &Case) -> Result<(), String> {
    let limits = case.limits.apply();
    let format = BundleFormat::detect(path, &bundle_type(path)).map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("deep").join("dest");
    std::fs::create_dir(dir.path().join("deep")).expect("mkdir");
    let message = match extract(path, format, &dest, &limits) {
        Ok(stats) => return Err(format!("extract accepted it: {stats:?}")),
        Err(error) => error.to_string(),
    };
    if message != case.error {
        return Err(format!("extract refused it with\n  {message}\ninstead of\n  {}", case.error));
    }
    let written = files_under(dir.path());
    if written != [dir.path().join("deep")] {
        return Err(format!("extract wrote {written:?}"));
    }
    Ok(())
}

/// The same refusal through a real DownloadBundle.
async fn check_download(path: &Path, case: &Case) -> Result<(), String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let host = dir.path().join("host");
    std::fs::create_dir(&host).expect("host");
    let options = ExecutorOptions {
        extract_limits: case.limits.apply(),
        destination_root: Some(host.clone()),
        ..Default::default()
    };
    let executor = executor_with(&dir.path().join("root"), options);
    let bytes = std::fs::read(path).expect("archive");
    let deployment = Deployment::new(&executor, dir.path(), "d-hostile", &bytes, &bundle_type(path));
    let outcome = deployment.run("DownloadBundle").await;
    let expected = format!("The bundle was refused: {}", case.error);
    if outcome.succeeded || outcome.diagnostics.error_code != "UnknownError" || outcome.diagnostics.message != expected
    {
        return Err(format!("DownloadBundle gave {:?} instead of UnknownError {expected:?}", outcome.diagnostics));
    }
    let written: Vec<PathBuf> = files_under(executor.layout().root())
        .into_iter()
        .filter(|p| p.components().any(|c| c.as_os_str() == "deployment-archive" || c.as_os_str() == "ok.txt"))
        .collect();
    if !written.is_empty() || !files_under(&host).is_empty() {
        return Err(format!("DownloadBundle wrote {written:?} / {:?}", files_under(&host)));
    }
    Ok(())
}

/// A hostile AppSpec: the events run on a prepared host, the last is refused, the host is left as it was.
async fn check_events(path: &Path, case: &Case) -> Result<(), String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let (host, outside) = (dir.path().join("host"), dir.path().join("outside"));
    std::fs::create_dir(&host).expect("host");
    std::fs::create_dir(&outside).expect("outside");
    let fill = |text: &str| {
        text.replace("{host}", &host.display().to_string()).replace("{outside}", &outside.display().to_string())
    };
    for path in &case.host_dirs {
        std::fs::create_dir_all(host.join(path)).expect("host dir");
    }
    for (link, target) in &case.host_symlinks {
        std::os::unix::fs::symlink(fill(target), host.join(link)).expect("host symlink");
    }
    let prepared = files_under(&host);
    let options = ExecutorOptions { destination_root: Some(host.clone()), ..Default::default() };
    let executor = executor_with(&dir.path().join("root"), options);
    let bytes = std::fs::read(path).expect("archive");
    let deployment = Deployment::new(&executor, dir.path(), "d-hostile", &bytes, &bundle_type(path));
    let (last, before) = case.events.split_last().ok_or("the sidecar lists no events")?;
    for event in before {
        let outcome = deployment.run(event).await;
        if !outcome.succeeded {
            return Err(format!("{event} failed before the hostile event: {:?}", outcome.diagnostics));
        }
    }
    let outcome = deployment.run(last).await;
    let expected = fill(&case.message).replace("{archive}", &deployment.archive().display().to_string());
    if outcome.succeeded || outcome.diagnostics.error_code != case.error_code || outcome.diagnostics.message != expected
    {
        return Err(format!(
            "{last} gave {} {:?}\ninstead of {} {expected:?}",
            outcome.diagnostics.error_code, outcome.diagnostics.message, case.error_code
        ));
    }
    if files_under(&host) != prepared || !files_under(&outside).is_empty() {
        return Err(format!("{last} wrote {:?} / outside {:?}", files_under(&host), files_under(&outside)));
    }
    if Path::new("/tmp/cutover-corpus-hook-ran").exists() {
        return Err("a hook of the hostile revision ran".to_owned());
    }
    Ok(())
}

#[tokio::test]
async fn every_hostile_bundle_of_the_corpus_is_refused_exactly_as_its_sidecar_says_and_nothing_is_written() {
    let mut failures = Vec::new();
    let cases = cases();
    for (path, case) in &cases {
        let name = path.file_name().expect("name").to_string_lossy();
        let result = match case.refused_by.as_str() {
            "extract" => match check_extract(path, case) {
                Ok(()) => check_download(path, case).await,
                Err(error) => Err(error),
            },
            "event" => check_events(path, case).await,
            other => Err(format!("unknown refused_by {other:?}")),
        };
        if let Err(error) = result {
            failures.push(format!("{name} ({}): {error}", case.description));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn set_user_id_files_of_the_corpus_extract_with_allow_setuid() {
    for name in ["setuid.tar", "setgid.tgz", "setuid.zip"] {
        let path = corpus_dir().join(name);
        let dir = tempfile::tempdir().expect("tempdir");
        let dest = dir.path().join("dest");
        let limits = ExtractLimits { allow_setuid: true, ..Default::default() };
        let format = BundleFormat::detect(&path, &bundle_type(&path)).expect("format");
        extract(&path, format, &dest, &limits).unwrap_or_else(|e| panic!("{name}: {e}"));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dest.join("bin/tool")).expect("tool").permissions().mode() & 0o7777;
        assert_eq!(mode & 0o6000, if name.starts_with("setgid") { 0o2000 } else { 0o4000 }, "{name}: {mode:o}");
    }
}
