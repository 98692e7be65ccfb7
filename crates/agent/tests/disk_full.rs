//! A full disk (§8 case 7), on small tmpfs mounts (the tests run as root): DownloadBundle and Install fail with
//! "No space left on device while …", remove what they wrote, leave the previous revision alone, and the next event
//! works once space is freed.

mod common;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Bundle, Deployment, GROUP_ID, executor, files_under, incompressible};

/// A tmpfs mounted for the duration of a test, unmounted on drop (also when the test fails).
struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    fn mount(path: &Path, size: &str) -> Self {
        std::fs::create_dir_all(path).expect("mount point");
        let output =
            Command::new("mount").args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"]).arg(path).output();
        match output {
            Ok(output) if output.status.success() => Self { path: path.to_owned() },
            Ok(output) => panic!(
                "cannot mount a {size} tmpfs at {} (the disk-full tests need root and CAP_SYS_ADMIN): {}",
                path.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            ),
            Err(error) => panic!("cannot run mount (the disk-full tests need it): {error}"),
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount").arg(&self.path).status().is_ok_and(|s| s.success());
        if !unmounted {
            // Something still holds a file open: detach now, the kernel unmounts once it is closed.
            let _ = Command::new("umount").arg("-l").arg(&self.path).status();
        }
    }
}

/// Fills the filesystem of `path` completely with a file at `path`, then gives `leave` bytes back.
fn fill(path: &Path, leave: u64) {
    let mut file = File::create(path).expect("filler");
    let chunk = vec![0xa5u8; 64 * 1024];
    loop {
        match file.write(&chunk) {
            Ok(0) => break,
            Ok(_) => {}
            Err(error) if error.raw_os_error() == Some(nix::libc::ENOSPC) => break,
            Err(error) => panic!("filling {}: {error}", path.display()),
        }
    }
    let length = file.metadata().expect("filler").len();
    file.set_len(length.saturating_sub(leave)).expect("truncate the filler");
}

/// Every path below `dir` with its contents (directories as empty), sorted.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut entries: Vec<(PathBuf, Vec<u8>)> =
        files_under(dir).into_iter().map(|path| (path.clone(), std::fs::read(&path).unwrap_or_default())).collect();
    entries.sort();
    entries
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const MIB: usize = 1024 * 1024;

#[tokio::test]
async fn download_bundle_on_a_full_disk_fails_cleanly_and_keeps_the_previous_revision() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let _tmpfs = Tmpfs::mount(&root, "8m");
    let www = dir.path().join("www");
    let executor = executor(&root);
    let layout = executor.layout();

    // A first, small revision, installed outside the full filesystem.
    let appspec = format!("version: 0.0\nos: linux\nfiles:\n  - source: site\n    destination: {}\n", www.display());
    let first_bundle = Bundle::new().file("appspec.yml", &appspec, 0o644).file("site/index.html", "v1\n", 0o644).tgz();
    let first = Deployment::new(&executor, dir.path(), "d-first", &first_bundle, "tgz");
    first.run_ok(&["DownloadBundle", "Install"]).await;
    let previous_archive = snapshot(&first.archive());
    let last_successful = read(layout.last_successful_install_file(GROUP_ID));
    let most_recent = read(layout.most_recent_install_file(GROUP_ID));
    assert_eq!(Path::new(&last_successful), first.dir());
    let check_previous_revision = || {
        assert_eq!(snapshot(&first.archive()), previous_archive, "the previous deployment-archive changed");
        assert_eq!(read(layout.last_successful_install_file(GROUP_ID)), last_successful);
        assert_eq!(read(layout.most_recent_install_file(GROUP_ID)), most_recent);
        assert_eq!(read(www.join("index.html")), "v1\n", "the installed revision changed");
    };

    let filler = root.join("filler");
    fill(&filler, MIB as u64);

    // A bundle larger than the free space: the download itself fails.
    let large = Bundle::new()
        .file("appspec.yml", "version: 0.0\nos: linux\n", 0o644)
        .bytes("data.bin", incompressible(3 * MIB, 7), 0o644)
        .tar();
    let large = Deployment::new(&executor, dir.path(), "d-large", &large, "tar");
    let outcome = large.run("DownloadBundle").await;
    assert!(!outcome.succeeded);
    assert_eq!(outcome.diagnostics.error_code, "UnknownError");
    assert_eq!(
        outcome.diagnostics.message,
        format!("No space left on device while downloading the bundle to {}", large.dir().join("bundle.tar").display())
    );
    assert_eq!(files_under(&large.dir()), Vec::<PathBuf>::new(), "nothing of the failed download is left");
    check_previous_revision();

    // A small bundle that expands beyond the free space: the extraction fails.
    let bomb = Bundle::new()
        .file("appspec.yml", "version: 0.0\nos: linux\n", 0o644)
        .bytes("zeros.bin", vec![0; 3 * MIB], 0o644)
        .tgz();
    assert!(bomb.len() < MIB / 4, "the compressed bundle fits: {}", bomb.len());
    let bomb = Deployment::new(&executor, dir.path(), "d-bomb", &bomb, "tgz");
    let outcome = bomb.run("DownloadBundle").await;
    assert!(!outcome.succeeded);
    assert_eq!(outcome.diagnostics.error_code, "UnknownError");
    assert_eq!(
        outcome.diagnostics.message,
        format!("No space left on device while extracting the bundle into {}", bomb.archive().display())
    );
    assert!(outcome.log.contains("Extraction stopped: cannot write zeros.bin"), "{}", outcome.log);
    assert!(outcome.log.contains(&format!("Removed {}", bomb.dir().join("bundle.tar").display())), "{}", outcome.log);
    assert_eq!(files_under(&bomb.dir()), Vec::<PathBuf>::new(), "no bundle, staging directory or archive is left");
    check_previous_revision();

    // Space freed: the same agent runs the next event.
    std::fs::remove_file(&filler).expect("remove the filler");
    bomb.run_ok(&["DownloadBundle"]).await;
    assert_eq!(std::fs::metadata(bomb.archive().join("zeros.bin")).expect("extracted").len(), 3 * MIB as u64);
    assert_eq!(Path::new(&read(layout.most_recent_install_file(GROUP_ID))), bomb.dir());
}

#[tokio::test]
async fn install_on_a_full_disk_records_what_it_wrote_so_the_next_install_removes_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("dest");
    let _tmpfs = Tmpfs::mount(&dest, "4m");
    let executor = executor(&dir.path().join("root"));
    let layout = executor.layout();
    let app = dest.join("app");
    let appspec = format!("version: 0.0\nos: linux\nfiles:\n  - source: site\n    destination: {}\n", app.display());
    let v1 = Bundle::new()
        .file("appspec.yml", &appspec, 0o644)
        .file("site/a.txt", "a\n", 0o644)
        .file("site/b.txt", "b\n", 0o644)
        .tgz();
    let first = Deployment::new(&executor, dir.path(), "d-v1", &v1, "tgz");
    first.run_ok(&["DownloadBundle", "Install"]).await;

    let filler = dest.join("filler");
    fill(&filler, MIB as u64);
    let v2 = Bundle::new()
        .file("appspec.yml", &appspec, 0o644)
        .file("site/1.txt", "one\n", 0o644)
        .bytes("site/big.bin", incompressible(3 * MIB, 11), 0o644)
        .file("site/z.txt", "z\n", 0o644)
        .tgz();
    let second = Deployment::new(&executor, dir.path(), "d-v2", &v2, "tgz");
    second.run_ok(&["DownloadBundle"]).await;
    let outcome = second.run("Install").await;
    assert!(!outcome.succeeded);
    assert_eq!(outcome.diagnostics.error_code, "UnknownError");
    assert_eq!(
        outcome.diagnostics.message,
        format!("No space left on device while installing {}", app.join("big.bin").display())
    );
    // CodeDeploy's model: v1's files were cleaned up first; v2 got as far as 1.txt. The cleanup file lists every
    // path v2 created, the failed one included (recorded before the copy), and no temporary file is left.
    assert_eq!(files_under(&app), [app.join("1.txt")]);
    let cleanup = read(layout.cleanup_file(GROUP_ID));
    let expected: Vec<PathBuf> = vec![app.clone(), app.join("1.txt"), app.join("big.bin")];
    assert_eq!(cleanup.lines().map(PathBuf::from).collect::<Vec<_>>(), expected);
    assert_eq!(Path::new(&read(layout.last_successful_install_file(GROUP_ID))), first.dir());
    assert!(first.archive().join("site/a.txt").is_file(), "the previous revision's archive is kept");

    // Space freed: the next deployment (v1 again, as a rollback would) removes v2's leftovers and installs.
    std::fs::remove_file(&filler).expect("remove the filler");
    let rollback = Deployment::new(&executor, dir.path(), "d-v3", &v1, "tgz");
    rollback.run_ok(&["DownloadBundle", "Install"]).await;
    let mut installed = files_under(&app);
    installed.sort();
    assert_eq!(installed, [app.join("a.txt"), app.join("b.txt")]);
    assert_eq!(Path::new(&read(layout.last_successful_install_file(GROUP_ID))), rollback.dir());
}
