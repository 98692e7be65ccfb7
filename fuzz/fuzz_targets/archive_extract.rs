//! The bundle extractor on arbitrary bytes, as tar, tgz and zip: it must refuse or extract inside the destination,
//! never panic, and leave nothing behind when it refuses.
#![no_main]

use cutover_agent::archive::{BundleFormat, ExtractLimits, extract};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let format = match selector % 3 {
        0 => BundleFormat::Tar,
        1 => BundleFormat::Tgz,
        _ => BundleFormat::Zip,
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = dir.path().join("bundle");
    std::fs::write(&bundle, bytes).expect("bundle");
    let dest = dir.path().join("dest");
    // Small caps keep every run fast; the checks are the same at any size.
    let limits = ExtractLimits { max_total_bytes: 1 << 20, max_entries: 256, ..Default::default() };
    if extract(&bundle, format, &dest, &limits).is_err() {
        assert!(std::fs::symlink_metadata(&dest).is_err(), "a refused archive left {}", dest.display());
    }
    let mut names: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").flatten().map(|e| e.file_name()).collect();
    names.sort();
    assert!(names.iter().all(|name| name == "bundle" || name == "dest"), "written outside dest: {names:?}");
});
