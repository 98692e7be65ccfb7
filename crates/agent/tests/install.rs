//! The Install event through `Executor::run_event`: `files` semantics (file, directory, `/`), every
//! `file_exists_behavior` and its precedence, the cleanup of files dropped from a bundle, permissions, AppSpec
//! errors, and `--destination-root`.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use common::{Bundle, Deployment, GROUP_ID, executor, executor_with, is_root};
use cutover_agent::ExecutorOptions;

const INSTALL: [&str; 2] = ["DownloadBundle", "Install"];

fn appspec(files: &[(&str, &Path)], extra: &str) -> String {
    let mut text = String::from("version: 0.0\nos: linux\nfiles:\n");
    for (source, destination) in files {
        text.push_str(&format!("  - source: {source}\n    destination: {}\n", destination.display()));
    }
    text.push_str(extra);
    text
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[tokio::test]
async fn file_directory_and_root_sources_are_installed_and_recorded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("host");
    let executor = executor(&dir.path().join("root"));
    let spec = appspec(
        &[("config/app.conf", &dest.join("etc/app")), ("site", &dest.join("www")), ("/", &dest.join("all"))],
        "",
    );
    let bundle = Bundle::new()
        .file("appspec.yml", &spec, 0o644)
        .file("config/app.conf", "port=80\n", 0o640)
        .file("site/index.html", "<h1>v1</h1>\n", 0o644)
        .file("site/css/a.css", "body{}\n", 0o644)
        .symlink("site/current", "index.html");
    let deployment = Deployment::new(&executor, dir.path(), "d-files", &bundle.tgz(), "tgz");
    deployment.run_ok(&INSTALL).await;

    // A file source lands in destination/<basename>, with its mode; missing ancestors are created.
    assert_eq!(read(dest.join("etc/app/app.conf")), "port=80\n");
    assert_eq!(std::fs::metadata(dest.join("etc/app/app.conf")).expect("conf").permissions().mode() & 0o7777, 0o640);
    // A directory source copies its contents; symlinks stay symlinks.
    assert_eq!(read(dest.join("www/index.html")), "<h1>v1</h1>\n");
    assert_eq!(read(dest.join("www/css/a.css")), "body{}\n");
    assert!(!dest.join("www/site").exists());
    let link = std::fs::symlink_metadata(dest.join("www/current")).expect("link");
    assert!(link.file_type().is_symlink());
    assert_eq!(std::fs::read_link(dest.join("www/current")).expect("link"), Path::new("index.html"));
    // "/" is the whole revision, AppSpec included.
    assert_eq!(read(dest.join("all/appspec.yml")), spec);
    assert_eq!(read(dest.join("all/site/css/a.css")), "body{}\n");
    assert_eq!(read(dest.join("all/config/app.conf")), "port=80\n");
    assert_eq!(std::fs::metadata(dest.join("www/index.html")).expect("index").mtime(), 1_700_000_000, "mtime kept");

    // The instruction files, §8.4/§8.5.
    let layout = executor.layout();
    let cleanup = read(layout.cleanup_file(GROUP_ID));
    assert!(cleanup.ends_with('\n'));
    let recorded: Vec<&str> = cleanup.lines().collect();
    for path in [
        dest.clone(),
        dest.join("etc"),
        dest.join("etc/app"),
        dest.join("etc/app/app.conf"),
        dest.join("www/css/a.css"),
    ] {
        assert!(recorded.contains(&path.to_str().expect("utf-8")), "{} not in cleanup:\n{cleanup}", path.display());
    }
    let mkdir_dest = recorded.iter().position(|l| *l == dest.to_str().expect("utf-8")).expect("dest");
    let copy_conf = recorded.iter().position(|l| l.ends_with("etc/app/app.conf")).expect("conf");
    assert!(mkdir_dest < copy_conf, "ancestors are created first");
    let instructions: serde_json::Value =
        serde_json::from_str(&read(layout.install_instructions_file(GROUP_ID))).expect("json");
    let kinds: Vec<&str> = instructions["instructions"]
        .as_array()
        .expect("list")
        .iter()
        .map(|i| i["type"].as_str().expect("type"))
        .collect();
    assert!(kinds.contains(&"copy") && kinds.contains(&"mkdir"), "{kinds:?}");
    let last = read(layout.last_successful_install_file(GROUP_ID));
    assert_eq!(Path::new(&last), deployment.dir());
}

fn site(dest: &Path, files: &[&str], version: &str, extra: &str) -> Bundle {
    let mut bundle = Bundle::new().file("appspec.yml", &appspec(&[("site", dest)], extra), 0o644);
    for file in files {
        bundle = bundle.file(&format!("site/{file}"), &format!("{file} {version}\n"), 0o644);
    }
    bundle
}

#[tokio::test]
async fn file_exists_behavior_disallow_overwrite_retain_and_precedence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("srv/site");
    std::fs::create_dir_all(&dest).expect("mkdir");
    let existing = dest.join("index.html");
    std::fs::write(&existing, "hand-made\n").expect("seed");
    let executor = executor(&dir.path().join("root"));

    // DISALLOW (the default): the exact CodeDeploy message, the file untouched, no last successful install.
    let bytes = site(&dest, &["index.html", "other.html"], "v1", "").tgz();
    let deployment = Deployment::new(&executor, dir.path(), "d-disallow", &bytes, "tgz");
    deployment.run_ok(&["DownloadBundle"]).await;
    let outcome = deployment.run("Install").await;
    assert!(!outcome.succeeded);
    assert_eq!(outcome.diagnostics.error_code, "UnknownError");
    assert_eq!(
        outcome.diagnostics.message,
        format!(
            "The deployment failed because a specified file already exists at this location: {}",
            existing.display()
        )
    );
    assert_eq!(read(existing.clone()), "hand-made\n");
    assert!(!dest.join("other.html").exists(), "nothing is copied when the plan fails");
    assert!(!executor.layout().last_successful_install_file(GROUP_ID).exists());

    // RETAIN from the deployment: kept, and not recorded for cleanup.
    let mut deployment = Deployment::new(&executor, dir.path(), "d-retain", &bytes, "tgz");
    deployment.file_exists_behavior = Some("RETAIN".to_owned());
    deployment.run_ok(&INSTALL).await;
    assert_eq!(read(existing.clone()), "hand-made\n");
    assert_eq!(read(dest.join("other.html")), "other.html v1\n");
    let cleanup = read(executor.layout().cleanup_file(GROUP_ID));
    assert!(!cleanup.contains("index.html"), "{cleanup}");

    // The AppSpec's value wins over the deployment's: RETAIN in the AppSpec, OVERWRITE on the deployment.
    let retained = site(&dest, &["index.html"], "v2", "file_exists_behavior: RETAIN\n").tgz();
    let mut deployment = Deployment::new(&executor, dir.path(), "d-appspec-retain", &retained, "tgz");
    deployment.file_exists_behavior = Some("OVERWRITE".to_owned());
    deployment.run_ok(&INSTALL).await;
    assert_eq!(read(existing.clone()), "hand-made\n");

    // OVERWRITE from the deployment: replaced, atomically (an existing symlink is replaced, not written through).
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious\n").expect("victim");
    std::os::unix::fs::symlink(&victim, dest.join("linked.html")).expect("symlink");
    let bytes = site(&dest, &["index.html", "linked.html"], "v3", "").tgz();
    let mut deployment = Deployment::new(&executor, dir.path(), "d-overwrite", &bytes, "tgz");
    deployment.file_exists_behavior = Some("OVERWRITE".to_owned());
    deployment.run_ok(&INSTALL).await;
    assert_eq!(read(existing.clone()), "index.html v3\n");
    assert_eq!(read(dest.join("linked.html")), "linked.html v3\n");
    assert!(!std::fs::symlink_metadata(dest.join("linked.html")).expect("file").file_type().is_symlink());
    assert_eq!(read(victim), "precious\n");
}

#[tokio::test]
async fn a_redeploy_removes_files_dropped_from_the_bundle_but_not_files_others_created() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("srv/app");
    let executor = executor(&dir.path().join("root"));
    let v1 = site(&dest, &["index.html", "old.html", "gone/only.html", "kept/a.html"], "v1", "").tgz();
    Deployment::new(&executor, dir.path(), "d-v1", &v1, "tgz").run_ok(&INSTALL).await;
    assert!(dest.join("old.html").exists() && dest.join("gone/only.html").exists());
    // A file a script (or a person) created in an installed directory.
    std::fs::write(dest.join("kept/runtime.pid"), "42\n").expect("runtime file");

    let v2 = site(&dest, &["index.html"], "v2", "").tgz();
    Deployment::new(&executor, dir.path(), "d-v2", &v2, "tgz").run_ok(&INSTALL).await;
    assert_eq!(read(dest.join("index.html")), "index.html v2\n");
    assert!(!dest.join("old.html").exists(), "a file dropped from the bundle disappears");
    assert!(!dest.join("gone").exists(), "an emptied directory the previous install created disappears");
    assert!(!dest.join("kept/a.html").exists());
    assert_eq!(read(dest.join("kept/runtime.pid")), "42\n", "files others created are untouched");
    let cleanup = read(executor.layout().cleanup_file(GROUP_ID));
    assert!(!cleanup.contains("old.html"), "the cleanup file describes the latest install only:\n{cleanup}");
}

#[tokio::test]
async fn a_half_written_cleanup_line_is_ignored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("srv");
    let executor = executor(&dir.path().join("root"));
    let layout = executor.layout();
    std::fs::create_dir_all(layout.instructions_dir()).expect("mkdir");
    std::fs::create_dir_all(&dest).expect("mkdir");
    let whole = dest.join("whole.txt");
    let half = dest.join("half.txt");
    std::fs::write(&whole, "x").expect("file");
    std::fs::write(&half, "x").expect("file");
    // The agent died while writing the last line: it has no newline.
    std::fs::write(layout.cleanup_file(GROUP_ID), format!("{}\n{}", whole.display(), half.display())).expect("cleanup");
    let bytes = site(&dest.join("app"), &["index.html"], "v1", "").tgz();
    Deployment::new(&executor, dir.path(), "d-half", &bytes, "tgz").run_ok(&INSTALL).await;
    assert!(!whole.exists());
    assert!(half.exists(), "a line without its newline is not trusted");
}

#[tokio::test]
async fn permissions_set_modes_on_matching_objects_and_owners_when_root() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("srv/web");
    let executor = executor(&dir.path().join("root"));
    let owner = if is_root() { "    owner: nobody\n" } else { "" };
    let permissions = format!(
        "permissions:\n  - object: {web}\n    pattern: \"*.sh\"\n    mode: 750\n{owner}    type:\n      - file\n  \
         - object: {web}\n    pattern: \"**\"\n    except: [public]\n    mode: \"0700\"\n    type:\n      - directory\n  \
         - object: {web}/conf.ini\n    mode: 600\n",
        web = dest.display()
    );
    let bundle = Bundle::new()
        .file("appspec.yml", &appspec(&[("web", &dest)], &permissions), 0o644)
        .file("web/run.sh", "#!/bin/sh\n", 0o644)
        .file("web/index.html", "hi\n", 0o644)
        .file("web/conf.ini", "a=1\n", 0o644)
        .file("web/lib/deep.sh", "#!/bin/sh\n", 0o644)
        .file("web/private/x", "x\n", 0o644)
        .file("web/public/y", "y\n", 0o644);
    let deployment = Deployment::new(&executor, dir.path(), "d-perms", &bundle.tgz(), "tgz");
    deployment.run_ok(&INSTALL).await;
    let mode = |path: &str| std::fs::metadata(dest.join(path)).expect(path).permissions().mode() & 0o7777;
    assert_eq!(mode("run.sh"), 0o750, "*.sh matches an immediate child");
    assert_eq!(mode("index.html"), 0o644, "not matched");
    assert_eq!(mode("lib/deep.sh"), 0o644, "a pattern other than ** matches immediate children only");
    assert_eq!(mode("conf.ini"), 0o600, "a permission on a copied file");
    assert_eq!(mode("private"), 0o700, "** on directories the install created");
    assert_eq!(mode("lib"), 0o700);
    assert_ne!(mode("public"), 0o700, "except");
    assert_ne!(std::fs::metadata(&dest).expect("dest").permissions().mode() & 0o7777, 0o700, "never the object itself");
    if is_root() {
        assert_eq!(std::fs::metadata(dest.join("run.sh")).expect("run.sh").uid(), 65534, "owner nobody");
        assert_eq!(std::fs::metadata(dest.join("index.html")).expect("index").uid(), 0);
    }
}

#[tokio::test]
async fn a_permission_given_twice_for_one_object_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("srv/dup");
    let executor = executor(&dir.path().join("root"));
    let permissions = format!(
        "permissions:\n  - object: {d}\n    mode: 755\n  - object: {d}\n    pattern: \"*.sh\"\n    mode: 700\n",
        d = dest.display()
    );
    let bundle = Bundle::new().file("appspec.yml", &appspec(&[("app", &dest)], &permissions), 0o644).file(
        "app/run.sh",
        "#!/bin/sh\n",
        0o644,
    );
    let deployment = Deployment::new(&executor, dir.path(), "d-dup", &bundle.tgz(), "tgz");
    deployment.run_ok(&["DownloadBundle"]).await;
    let outcome = deployment.run("Install").await;
    assert_eq!(outcome.diagnostics.error_code, "UnknownError");
    assert_eq!(
        outcome.diagnostics.message,
        format!(
            "The deployment failed because the permissions setting for ({}) is specified more than once in the \
             application specification file. Update the files section of the AppSpec file, and then try again.",
            dest.join("run.sh").display()
        )
    );
}

#[tokio::test]
async fn acls_need_setfacl() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("srv/acl");
    let executor = executor(&dir.path().join("root"));
    let permissions =
        format!("permissions:\n  - object: {}/f.txt\n    acls:\n      - \"u:nobody:r\"\n", dest.display());
    let bundle = Bundle::new().file("appspec.yml", &appspec(&[("app", &dest)], &permissions), 0o644).file(
        "app/f.txt",
        "x\n",
        0o644,
    );
    let deployment = Deployment::new(&executor, dir.path(), "d-acl", &bundle.tgz(), "tgz");
    deployment.run_ok(&["DownloadBundle"]).await;
    let outcome = deployment.run("Install").await;
    let has_setfacl = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .any(|dir| dir.join("setfacl").is_file());
    if has_setfacl {
        assert!(outcome.succeeded, "{:#?}", outcome.diagnostics);
    } else {
        assert_eq!(outcome.diagnostics.error_code, "UnknownError");
        assert_eq!(
            outcome.diagnostics.message,
            format!(
                "Unable to set the ACLs u:nobody:r on {}: setfacl is not installed on this host (install the acl package)",
                dest.join("f.txt").display()
            )
        );
    }
}

#[tokio::test]
async fn an_invalid_appspec_reports_every_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let executor = executor(&dir.path().join("root"));
    let bad = "version: 1.0\nos: linux\nfiles:\n  - source: a\nhooks:\n  BeforeInstall:\n    - location: x.sh\n      timeout: -1\n";
    let bundle = Bundle::new().file("appspec.yml", bad, 0o644);
    let deployment = Deployment::new(&executor, dir.path(), "d-bad", &bundle.tgz(), "tgz");
    deployment.run_ok(&["DownloadBundle"]).await;
    let outcome = deployment.run("Install").await;
    assert_eq!(outcome.diagnostics.error_code, "UnknownError");
    let message = &outcome.diagnostics.message;
    assert!(message.starts_with("The AppSpec file "), "{message}");
    let problems: Vec<&str> = message.lines().skip(1).collect();
    assert!(problems.len() >= 3, "one line per problem: {message}");
    assert!(problems.iter().any(|line| line.contains("version")), "{message}");
    assert!(problems.iter().any(|line| line.contains("destination")), "{message}");
    assert!(problems.iter().any(|line| line.contains("timeout")), "{message}");
    // Scripts of the current revision need a valid AppSpec too.
    let outcome = deployment.run("BeforeInstall").await;
    assert_eq!(outcome.diagnostics.error_code, "UnknownError");
    assert!(outcome.diagnostics.message.contains("version"), "{}", outcome.diagnostics.message);

    let bundle = Bundle::new().file("readme.txt", "no appspec\n", 0o644);
    let deployment = Deployment::new(&executor, dir.path(), "d-none", &bundle.tgz(), "tgz");
    deployment.run_ok(&["DownloadBundle"]).await;
    let outcome = deployment.run("Install").await;
    assert!(outcome.diagnostics.message.contains("has no appspec.yml"), "{}", outcome.diagnostics.message);
}

#[tokio::test]
async fn destination_root_prefixes_every_destination_and_permission_object() {
    let dir = tempfile::tempdir().expect("tempdir");
    let host = dir.path().join("simulated-host");
    std::fs::create_dir(&host).expect("host");
    let executor = executor_with(
        &dir.path().join("root"),
        ExecutorOptions { destination_root: Some(host.clone()), ..Default::default() },
    );
    let spec = "version: 0.0\nos: linux\nfiles:\n  - source: web\n    destination: /srv/web\npermissions:\n  - object: /srv/web\n    pattern: \"*.sh\"\n    mode: 700\n    type: [file]\n";
    let bundle = Bundle::new().file("appspec.yml", spec, 0o644).file("web/run.sh", "#!/bin/sh\n", 0o644);
    Deployment::new(&executor, dir.path(), "d-rooted", &bundle.tgz(), "tgz").run_ok(&INSTALL).await;
    let installed = host.join("srv/web/run.sh");
    assert_eq!(std::fs::metadata(&installed).expect("run.sh").permissions().mode() & 0o7777, 0o700);
    assert!(read(executor.layout().cleanup_file(GROUP_ID)).contains(installed.to_str().expect("utf-8")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installs_of_two_groups_sharing_a_destination_ancestor_never_interfere() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("host");
    let executor = executor(&dir.path().join("root"));
    // Both applications live under /srv, which neither owns: one install's cleanup must never remove it (left empty
    // for a moment by the other's cleanup) between the other's plan and its copy.
    let apps = ["alpha", "beta"];
    let bundles: Vec<Vec<u8>> = apps
        .iter()
        .map(|app| {
            let spec = appspec(&[("site", &dest.join(format!("srv/{app}")))], "");
            let mut bundle = Bundle::new().file("appspec.yml", &spec, 0o644);
            for page in 0..20 {
                bundle = bundle.file(&format!("site/{page}.html"), &format!("{app} {page}\n"), 0o644);
            }
            bundle.tgz()
        })
        .collect();
    for round in 0..40 {
        let deployments: Vec<Deployment<'_>> = apps
            .iter()
            .zip(&bundles)
            .map(|(app, bytes)| Deployment::new(&executor, dir.path(), &format!("d-{app}-{round}"), bytes, "tgz"))
            .collect();
        let command = |deployment: &Deployment<'_>, app: &str, event: &str| {
            let mut command = deployment.command(event);
            command.deployment.deployment_group_id = format!("dg-{app}");
            command
        };
        for (deployment, app) in deployments.iter().zip(apps) {
            let outcome = executor.run_event(&command(deployment, app, "DownloadBundle")).await;
            assert!(outcome.succeeded, "{:#?}", outcome.diagnostics);
        }
        let (alpha, beta) = (command(&deployments[0], "alpha", "Install"), command(&deployments[1], "beta", "Install"));
        let (alpha, beta) = tokio::join!(executor.run_event(&alpha), executor.run_event(&beta));
        for outcome in [alpha, beta] {
            assert!(outcome.succeeded, "round {round}: {:#?}", outcome.diagnostics);
        }
        for app in apps {
            assert_eq!(read(dest.join(format!("srv/{app}/7.html"))), format!("{app} 7\n"), "round {round}");
        }
    }
}
