//! Bundles: tgz, zip and tar hold exactly the directory's entries, sorted, with modes and symlinks kept and the
//! AppSpec at the root.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use cutover::bundle::{self, BundleType, EntryKind};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Dir,
    File(Vec<u8>),
    Link(String),
}

/// path -> (kind, permission bits), in archive order.
type Listing = Vec<(String, Kind, u32)>;

fn sample(dir: &Path) {
    let write = |name: &str, text: &str, mode: u32| {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    };
    write("appspec.yml", "version: 0.0\nos: linux\n", 0o644);
    write("index.html", "<h1>hi</h1>\n", 0o644);
    write("scripts/start.sh", "#!/bin/sh\necho start\n", 0o755);
    write("scripts/secret.sh", "#!/bin/sh\necho secret\n", 0o700);
    write("config/app.conf", "a=1\n", 0o640);
    write("a-b.txt", "sorts between a and a/\n", 0o644);
    write(".env", "HIDDEN=1\n", 0o600);
    write(".git/HEAD", "ref: refs/heads/main\n", 0o644);
    std::fs::set_permissions(dir.join("config"), std::fs::Permissions::from_mode(0o750)).expect("chmod dir");
    symlink("scripts/start.sh", dir.join("start")).expect("symlink");
}

fn expected(hidden: bool) -> Listing {
    let mut listing: Listing = vec![
        (".env".into(), Kind::File(b"HIDDEN=1\n".to_vec()), 0o600),
        (".git".into(), Kind::Dir, 0o755),
        (".git/HEAD".into(), Kind::File(b"ref: refs/heads/main\n".to_vec()), 0o644),
        ("a-b.txt".into(), Kind::File(b"sorts between a and a/\n".to_vec()), 0o644),
        ("appspec.yml".into(), Kind::File(b"version: 0.0\nos: linux\n".to_vec()), 0o644),
        ("config".into(), Kind::Dir, 0o750),
        ("config/app.conf".into(), Kind::File(b"a=1\n".to_vec()), 0o640),
        ("index.html".into(), Kind::File(b"<h1>hi</h1>\n".to_vec()), 0o644),
        ("scripts".into(), Kind::Dir, 0o755),
        ("scripts/secret.sh".into(), Kind::File(b"#!/bin/sh\necho secret\n".to_vec()), 0o700),
        ("scripts/start.sh".into(), Kind::File(b"#!/bin/sh\necho start\n".to_vec()), 0o755),
        ("start".into(), Kind::Link("scripts/start.sh".into()), 0o777),
    ];
    if !hidden {
        listing.retain(|(path, _, _)| !path.starts_with('.'));
    }
    listing
}

fn read_tar(reader: impl Read) -> Listing {
    let mut archive = tar::Archive::new(reader);
    let mut listing = Listing::new();
    for entry in archive.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let path = entry.path().expect("path").to_str().expect("utf-8").trim_end_matches('/').to_owned();
        let mode = entry.header().mode().expect("mode");
        let kind = match entry.header().entry_type() {
            tar::EntryType::Directory => Kind::Dir,
            tar::EntryType::Symlink => {
                Kind::Link(entry.link_name().expect("link").expect("target").to_str().expect("utf-8").to_owned())
            }
            tar::EntryType::Regular => {
                let mut data = Vec::new();
                entry.read_to_end(&mut data).expect("read");
                Kind::File(data)
            }
            other => panic!("unexpected entry type {other:?} for {path}"),
        };
        assert_eq!(entry.header().uid().expect("uid"), 0, "ownership is not recorded");
        listing.push((path, kind, mode & 0o7777));
    }
    listing
}

fn read_zip(bytes: &[u8]) -> Listing {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("zip");
    let mut listing = Listing::new();
    for index in 0..archive.len() {
        let mut file = archive.by_index(index).expect("entry");
        let path = file.name().expect("name").trim_end_matches('/').to_owned();
        let mode = file.unix_mode().expect("unix mode") & 0o7777;
        let kind = if file.is_dir() {
            Kind::Dir
        } else {
            let mut data = Vec::new();
            file.read_to_end(&mut data).expect("read");
            if file.is_symlink() { Kind::Link(String::from_utf8(data).expect("utf-8")) } else { Kind::File(data) }
        };
        listing.push((path, kind, mode));
    }
    listing
}

fn read(bundle_type: BundleType, bytes: &[u8]) -> Listing {
    match bundle_type {
        BundleType::Tar => read_tar(bytes),
        BundleType::Tgz => read_tar(flate2::read::GzDecoder::new(bytes)),
        BundleType::Zip => read_zip(bytes),
    }
}

fn directory_modes_are_umask_independent(listing: &mut Listing, dir: &Path) {
    // Directories created by create_dir_all get the umask's mode; compare against what is on disk.
    for (path, kind, mode) in listing.iter_mut() {
        if *kind == Kind::Dir && path != "config" {
            *mode = std::fs::metadata(dir.join(&*path)).expect("dir").permissions().mode() & 0o7777;
        }
    }
}

#[test]
fn every_format_holds_exactly_the_files_sorted_with_modes_and_symlinks() {
    let dir = tempfile::tempdir().expect("tempdir");
    sample(dir.path());
    for bundle_type in [BundleType::Tgz, BundleType::Zip, BundleType::Tar] {
        for hidden in [true, false] {
            let built = bundle::build(dir.path(), bundle_type, !hidden).expect("bundle");
            let mut want = expected(hidden);
            directory_modes_are_umask_independent(&mut want, dir.path());
            let got = read(bundle_type, &built.bytes);
            assert_eq!(got, want, "{bundle_type}, hidden files included: {hidden}");
            let paths: Vec<&str> = got.iter().map(|(path, _, _)| path.as_str()).collect();
            let mut sorted = paths.clone();
            sorted.sort_unstable();
            assert_eq!(paths, sorted, "{bundle_type}: entries are sorted");
            assert!(paths.contains(&"appspec.yml"), "{bundle_type}: the AppSpec is at the root");
            assert_eq!(built.entries.len(), got.len());
        }
    }
}

#[test]
fn bundles_are_reproducible_and_hashed() {
    let dir = tempfile::tempdir().expect("tempdir");
    sample(dir.path());
    for bundle_type in [BundleType::Tgz, BundleType::Zip, BundleType::Tar] {
        let first = bundle::build(dir.path(), bundle_type, false).expect("bundle");
        let second = bundle::build(dir.path(), bundle_type, false).expect("bundle");
        assert_eq!(first.bytes, second.bytes, "{bundle_type}: same tree, same bytes");
        assert_eq!(first.sha256.len(), 64);
        assert_eq!(first.sha256, second.sha256);
    }
}

#[test]
fn entries_describe_the_tree() {
    let dir = tempfile::tempdir().expect("tempdir");
    sample(dir.path());
    let entries = bundle::collect_entries(dir.path(), true).expect("entries");
    let kinds: BTreeMap<&str, &EntryKind> = entries.iter().map(|entry| (entry.path.as_str(), &entry.kind)).collect();
    assert_eq!(kinds["start"], &EntryKind::Symlink("scripts/start.sh".to_owned()));
    assert_eq!(kinds["scripts"], &EntryKind::Directory);
    assert_eq!(kinds["scripts/start.sh"], &EntryKind::File);
    assert!(!kinds.contains_key(".env"));
}

#[test]
fn symlinks_leaving_the_revision_are_refused() {
    for target in ["/etc/passwd", "../outside", "scripts/../../outside"] {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("appspec.yml"), "version: 0.0\nos: linux\n").expect("write");
        symlink(target, dir.path().join("link")).expect("symlink");
        let error = bundle::build(dir.path(), BundleType::Tgz, false).expect_err(target);
        assert!(error.to_string().contains("outside the revision directory"), "{target}: {error}");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
    symlink("../appspec.yml", dir.path().join("sub/link")).expect("symlink");
    std::fs::write(dir.path().join("appspec.yml"), "version: 0.0\nos: linux\n").expect("write");
    bundle::build(dir.path(), BundleType::Tgz, false).expect("a link within the revision is fine");
}

#[test]
fn bundle_types_parse_and_guess() {
    assert_eq!(BundleType::parse("TGZ"), Some(BundleType::Tgz));
    assert_eq!(BundleType::from_key("app/abc.tar.gz"), Some(BundleType::Tgz));
    assert_eq!(BundleType::from_key("app/abc.zip"), Some(BundleType::Zip));
    assert_eq!(BundleType::from_key("app/abc.tar"), Some(BundleType::Tar));
    assert_eq!(BundleType::from_key("app/abc"), None);
}
