//! Safe extraction: hostile tar/tgz/zip archives are refused before anything is written, well-formed ones keep
//! their modes, mtimes and in-bundle links; DownloadBundle verifies the SHA-256 first (a flipped byte or a
//! truncated bundle is refused before anything is written) and unwraps a single top-level directory.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use common::{Bundle, Deployment, GROUP_ID, executor, executor_with, files_under, raw_tar_entry};
use cutover_agent::ExecutorOptions;
use cutover_agent::archive::{ArchiveError, BundleFormat, ExtractLimits, extract};
use tar::EntryType;

fn base() -> Bundle {
    Bundle::new().file("appspec.yml", "version: 0.0\nos: linux\n", 0o644).file("ok.txt", "fine\n", 0o644)
}

/// Extracts `bytes` (in `format`) into a fresh `dest`; on refusal asserts nothing was written anywhere.
fn refuse(bytes: &[u8], format: BundleFormat, offending: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = dir.path().join("bundle");
    std::fs::write(&bundle, bytes).expect("bundle");
    let dest = dir.path().join("deep").join("dest");
    std::fs::create_dir(dir.path().join("deep")).expect("mkdir");
    let error = extract(&bundle, format, &dest, &ExtractLimits::default()).expect_err("hostile archive accepted");
    let message = error.to_string();
    assert!(message.contains(offending), "the error names the entry {offending:?}: {message}");
    assert!(!dest.exists(), "the destination was created");
    let written: Vec<_> = files_under(dir.path()).into_iter().filter(|p| p != &bundle).collect();
    assert_eq!(written, vec![dir.path().join("deep")], "something was written: {written:#?}");
    message
}

#[test]
fn tar_with_dotdot_entry_is_refused() {
    let bytes = base().tar_with(|b| raw_tar_entry(b, "../x", EntryType::Regular, None, b"pwned\n"));
    let message = refuse(&bytes, BundleFormat::Tar, "../x");
    assert!(message.contains("'..'"), "{message}");
}

#[test]
fn tar_with_absolute_path_is_refused() {
    let bytes = base().tar_with(|b| raw_tar_entry(b, "/tmp/cutover-absolute-x", EntryType::Regular, None, b"pwned\n"));
    let message = refuse(&bytes, BundleFormat::Tar, "/tmp/cutover-absolute-x");
    assert!(message.contains("absolute"), "{message}");
    assert!(!Path::new("/tmp/cutover-absolute-x").exists());
}

#[test]
fn tar_with_symlink_to_etc_is_refused() {
    let bytes = base().tar_with(|b| raw_tar_entry(b, "etc-link", EntryType::Symlink, Some("/etc"), b""));
    let message = refuse(&bytes, BundleFormat::Tar, "etc-link");
    assert!(message.contains("\"/etc\""), "{message}");
}

#[test]
fn tar_with_symlink_climbing_out_is_refused() {
    let bytes = base().tar_with(|b| {
        raw_tar_entry(b, "sub/up", EntryType::Symlink, Some("../../outside"), b"");
    });
    let message = refuse(&bytes, BundleFormat::Tar, "sub/up");
    assert!(message.contains("outside the bundle"), "{message}");
}

#[test]
fn tar_writing_through_a_symlink_is_refused() {
    let bytes = base().tar_with(|b| {
        raw_tar_entry(b, "link", EntryType::Symlink, Some("../../../../outside"), b"");
        raw_tar_entry(b, "link/escape.txt", EntryType::Regular, None, b"pwned\n");
    });
    let message = refuse(&bytes, BundleFormat::Tar, "link");
    assert!(message.contains("outside the bundle") || message.contains("not a directory"), "{message}");
}

#[test]
fn symlink_escaping_through_another_symlink_is_refused() {
    // `deep/s -> ..` is the bundle root, so `t -> deep/s/../..` leaves it, although it looks harmless lexically.
    let bytes = base().tar_with(|b| {
        raw_tar_entry(b, "deep/s", EntryType::Symlink, Some(".."), b"");
        raw_tar_entry(b, "t", EntryType::Symlink, Some("deep/s/../.."), b"");
    });
    refuse(&bytes, BundleFormat::Tar, "\"t\"");
}

#[test]
fn tar_hardlink_out_of_the_bundle_and_devices_are_refused() {
    let bytes = base().tar_with(|b| raw_tar_entry(b, "shadow", EntryType::Link, Some("../../etc/shadow"), b""));
    let message = refuse(&bytes, BundleFormat::Tar, "shadow");
    assert!(message.contains("points outside the bundle"), "{message}");
    let bytes = base().tar_with(|b| raw_tar_entry(b, "fifo", EntryType::Fifo, None, b""));
    let message = refuse(&bytes, BundleFormat::Tar, "fifo");
    assert!(message.contains("FIFO"), "{message}");
    let bytes = base().tar_with(|b| raw_tar_entry(b, "dev/sda", EntryType::Block, None, b""));
    refuse(&bytes, BundleFormat::Tar, "dev/sda");
}

#[test]
fn tgz_with_dotdot_entry_is_refused() {
    let tar = base().tar_with(|b| raw_tar_entry(b, "a/../../escape.txt", EntryType::Regular, None, b"pwned\n"));
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut encoder, &tar).expect("gzip");
    refuse(&encoder.finish().expect("gzip"), BundleFormat::Tgz, "a/../../escape.txt");
}

#[test]
fn pax_size_disagreeing_with_the_header_is_refused() {
    let bytes = base().tar_with(|b| {
        // A PAX header claiming 0 bytes for an entry whose ustar header says 6: parsers that disagree on where the
        // next header starts can be fed smuggled entries.
        let record = "10 size=0\n";
        let mut pax = tar::Header::new_ustar();
        pax.set_entry_type(EntryType::XHeader);
        pax.set_path("PaxHeaders/smuggle").expect("path");
        pax.set_size(record.len() as u64);
        pax.set_cksum();
        b.append(&pax, record.as_bytes()).expect("pax");
        raw_tar_entry(b, "smuggle", EntryType::Regular, None, b"pwned\n");
    });
    let message = refuse(&bytes, BundleFormat::Tar, "smuggle");
    assert!(message.contains("PAX size"), "{message}");
}

#[test]
fn zip_with_dotdot_entry_is_refused() {
    let bytes = base().zip_with(|writer| {
        writer.start_file("../evil.sh", zip::write::SimpleFileOptions::default()).expect("entry");
        std::io::Write::write_all(writer, b"pwned\n").expect("data");
    });
    refuse(&bytes, BundleFormat::Zip, "../evil.sh");
}

#[test]
fn zip_with_escaping_symlink_is_refused() {
    let bytes = base().symlink("up", "../../etc").zip();
    let message = refuse(&bytes, BundleFormat::Zip, "up");
    assert!(message.contains("resolves outside the bundle"), "{message}");
}

#[test]
fn bombs_hit_the_caps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = dir.path().join("bundle.tar");
    let mut big = Bundle::new();
    for index in 0..20 {
        big = big.file(&format!("f{index}"), &"x".repeat(1000), 0o644);
    }
    std::fs::write(&bundle, big.tar()).expect("bundle");
    let dest = dir.path().join("dest");
    let too_large = extract(
        &bundle,
        BundleFormat::Tar,
        &dest,
        &ExtractLimits { max_total_bytes: 10_000, max_entries: 100, ..Default::default() },
    );
    assert!(matches!(too_large, Err(ArchiveError::TooLarge { limit: 10_000 })), "{too_large:?}");
    assert!(!dest.exists());
    let too_many = extract(
        &bundle,
        BundleFormat::Tar,
        &dest,
        &ExtractLimits { max_total_bytes: 1 << 30, max_entries: 5, ..Default::default() },
    );
    assert!(matches!(too_many, Err(ArchiveError::TooManyEntries { limit: 5 })), "{too_many:?}");
    assert!(!dest.exists());
    std::fs::write(&bundle, big.zip()).expect("bundle");
    let zip_large = extract(
        &bundle,
        BundleFormat::Zip,
        &dest,
        &ExtractLimits { max_total_bytes: 10_000, max_entries: 100, ..Default::default() },
    );
    assert!(matches!(zip_large, Err(ArchiveError::TooLarge { .. })), "{zip_large:?}");
    assert!(!dest.exists());
}

fn check_good_tree(dest: &Path) {
    assert_eq!(std::fs::read_to_string(dest.join("bin/run.sh")).expect("run.sh"), "#!/bin/sh\necho hi\n");
    let run = std::fs::metadata(dest.join("bin/run.sh")).expect("run.sh");
    assert_eq!(run.permissions().mode() & 0o7777, 0o750);
    let secret = std::fs::metadata(dest.join("conf/secret")).expect("secret");
    assert_eq!(secret.permissions().mode() & 0o7777, 0o600);
    let link = std::fs::symlink_metadata(dest.join("current")).expect("link");
    assert!(link.file_type().is_symlink());
    assert_eq!(std::fs::read_link(dest.join("current")).expect("link"), Path::new("bin/run.sh"));
    let readonly = std::fs::metadata(dest.join("ro")).expect("ro");
    assert_eq!(readonly.permissions().mode() & 0o7777, 0o555);
    assert!(dest.join("ro/inside.txt").is_file(), "a read-only directory still gets its files");
}

fn good_bundle() -> Bundle {
    Bundle::new()
        .file("bin/run.sh", "#!/bin/sh\necho hi\n", 0o750)
        .file("conf/secret", "s3cr3t\n", 0o600)
        .symlink("current", "bin/run.sh")
        .dir("ro", 0o555)
        .file("ro/inside.txt", "x\n", 0o644)
}

#[test]
fn good_tar_keeps_modes_mtimes_and_links() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = dir.path().join("bundle.tar");
    let bytes = good_bundle().tar_with(|b| raw_tar_entry(b, "conf/hard", EntryType::Link, Some("conf/secret"), b""));
    std::fs::write(&bundle, bytes).expect("bundle");
    let dest = dir.path().join("dest");
    let stats = extract(&bundle, BundleFormat::Tar, &dest, &ExtractLimits::default()).expect("extract");
    assert_eq!((stats.files, stats.symlinks, stats.hardlinks), (3, 1, 1));
    check_good_tree(&dest);
    assert_eq!(std::fs::metadata(dest.join("conf/secret")).expect("secret").mtime(), 1_700_000_000);
    assert_eq!(std::fs::read_to_string(dest.join("conf/hard")).expect("hard"), "s3cr3t\n");
    let _ = std::fs::set_permissions(dest.join("ro"), std::fs::Permissions::from_mode(0o755));
}

#[test]
fn good_zip_keeps_modes_and_links() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = dir.path().join("bundle.zip");
    std::fs::write(&bundle, good_bundle().zip()).expect("bundle");
    let format = BundleFormat::detect(&bundle, "tar").expect("detect");
    assert_eq!(format, BundleFormat::Zip, "the zip magic wins over a wrong declared type");
    let dest = dir.path().join("dest");
    extract(&bundle, format, &dest, &ExtractLimits::default()).expect("extract");
    check_good_tree(&dest);
    let _ = std::fs::set_permissions(dest.join("ro"), std::fs::Permissions::from_mode(0o755));
}

#[tokio::test]
async fn download_bundle_refuses_a_checksum_mismatch_before_extracting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let executor = executor(&root);
    let mut deployment = Deployment::new(&executor, dir.path(), "d-mismatch", &base().tgz(), "tgz");
    deployment.sha256 = "0".repeat(64);
    let outcome = deployment.run("DownloadBundle").await;
    assert!(!outcome.succeeded);
    assert_eq!(outcome.diagnostics.error_code, "UnknownError");
    assert!(outcome.diagnostics.message.contains("SHA-256"), "{}", outcome.diagnostics.message);
    assert!(outcome.diagnostics.message.contains("nothing was extracted"), "{}", outcome.diagnostics.message);
    assert!(!deployment.archive().exists());
    assert!(!deployment.dir().join("bundle.tar").exists(), "a mismatching download is not kept");
    assert!(!executor.layout().most_recent_install_file(GROUP_ID).exists());
}

#[tokio::test]
async fn download_bundle_refuses_a_flipped_or_truncated_bundle_after_one_more_download_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let executor = executor(&dir.path().join("root"));
    let bytes = good_bundle().tgz();
    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    let truncated = bytes[..bytes.len() / 2].to_vec();
    for (id, damaged) in [("d-flipped", flipped), ("d-truncated", truncated)] {
        // The deployment announces the hash of the bundle as uploaded; the bytes change afterwards.
        let deployment = Deployment::new(&executor, dir.path(), id, &bytes, "tgz");
        std::fs::write(&deployment.bundle, &damaged).expect("damage the bundle");
        let outcome = deployment.run("DownloadBundle").await;
        assert!(!outcome.succeeded);
        assert_eq!(outcome.diagnostics.error_code, "UnknownError");
        let expected = format!(
            "The bundle downloaded from {} has SHA-256 {} ({} bytes) but the deployment expects {}; nothing was \
             extracted",
            deployment.bundle.display(),
            common::sha256_hex(&damaged),
            damaged.len(),
            deployment.sha256
        );
        assert_eq!(outcome.diagnostics.message, expected);
        assert_eq!(outcome.log.matches("Downloading the bundle").count(), 2, "one bounded retry: {}", outcome.log);
        assert!(outcome.log.contains("; downloading it again"), "{}", outcome.log);
        assert_eq!(files_under(&deployment.dir()), Vec::<std::path::PathBuf>::new(), "{id}: something was written");
        assert!(!executor.layout().most_recent_install_file(GROUP_ID).exists());
    }
}

#[tokio::test]
async fn download_bundle_refuses_a_hostile_bundle_and_leaves_no_archive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let executor = executor(&root);
    let bytes = base().tar_with(|b| raw_tar_entry(b, "../../escape.txt", EntryType::Regular, None, b"pwned\n"));
    let deployment = Deployment::new(&executor, dir.path(), "d-hostile", &bytes, "tar");
    let outcome = deployment.run("DownloadBundle").await;
    assert!(!outcome.succeeded);
    assert_eq!(outcome.diagnostics.error_code, "UnknownError");
    assert!(outcome.diagnostics.message.contains("../../escape.txt"), "{}", outcome.diagnostics.message);
    let written: Vec<_> = files_under(&deployment.dir());
    assert_eq!(written, vec![deployment.dir().join("bundle.tar")], "only the download is on disk");
    assert!(!files_under(dir.path()).iter().any(|p| p.ends_with("escape.txt")));
}

#[tokio::test]
async fn download_bundle_unwraps_a_single_top_level_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let executor = executor(&root);
    let bundle = Bundle::new().file("my-app-1.0/appspec.yml", "version: 0.0\nos: linux\n", 0o644).file(
        "my-app-1.0/site/index.html",
        "hello\n",
        0o644,
    );
    let deployment = Deployment::new(&executor, dir.path(), "d-unwrap", &bundle.tgz(), "tgz");
    deployment.run_ok(&["DownloadBundle"]).await;
    assert!(deployment.archive().join("appspec.yml").is_file());
    assert!(deployment.archive().join("site/index.html").is_file());
    assert!(deployment.dir().join("bundle.tar").is_file(), "the bundle is kept as bundle.tar");
    let most_recent = std::fs::read_to_string(executor.layout().most_recent_install_file(GROUP_ID)).expect("pointer");
    assert_eq!(Path::new(&most_recent), deployment.dir());
    let leftovers: Vec<_> = std::fs::read_dir(deployment.dir())
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "staging directories are cleaned up: {leftovers:?}");

    // Not unwrapped: the single directory holds no appspec.
    let bundle = Bundle::new().file("site/index.html", "hello\n", 0o644);
    let deployment = Deployment::new(&executor, dir.path(), "d-keep", &bundle.zip(), "zip");
    deployment.run_ok(&["DownloadBundle"]).await;
    assert!(deployment.archive().join("site/index.html").is_file());
}

#[tokio::test]
async fn old_revisions_are_pruned_but_never_the_last_successful_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let executor = executor_with(&root, ExecutorOptions { max_revisions: 2, ..Default::default() });
    let layout = executor.layout();
    let group = layout.group_dir(GROUP_ID);
    // Four older deployments, oldest first; the oldest is the last successful install.
    for (index, name) in ["d-old1", "d-old2", "d-old3", "d-old4"].iter().enumerate() {
        let path = group.join(name);
        std::fs::create_dir_all(path.join("deployment-archive")).expect("mkdir");
        let mtime = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000 + index as u64);
        std::fs::File::open(&path).expect("open").set_modified(mtime).expect("mtime");
    }
    layout
        .write_install_pointer(&layout.last_successful_install_file(GROUP_ID), &group.join("d-old1"))
        .expect("pointer");
    let deployment = Deployment::new(&executor, dir.path(), "d-new", &base().tgz(), "tgz");
    deployment.run_ok(&["DownloadBundle"]).await;
    let mut left: Vec<String> = std::fs::read_dir(&group)
        .expect("group")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    // 4 old − 2 + 1 = 3 to remove, skipping the protected d-old1: d-old2, d-old3, d-old4 go.
    assert_eq!(left, ["d-new", "d-old1"]);
}
