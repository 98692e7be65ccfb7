//! Accept/reject tables for the AppSpec parser: valid files parse to exact structs, invalid ones to exact diagnostics.

use crate::appspec::model::{
    AppSpec, Diagnostic, FileExistsBehavior, FileMapping, Hook, HookScript, ObjectType, Os, Permission, SeContext,
};
use crate::appspec::parse;
use crate::lifecycle::LifecycleEvent;

/// Parses a file that must be valid.
fn accepted(name: &str, text: &str) -> AppSpec {
    match parse(text) {
        Ok(spec) => spec,
        Err(diagnostics) => panic!("{name}: expected the AppSpec to be accepted, got {:#?}", rendered(&diagnostics)),
    }
}

/// Parses a file that must be invalid and renders its diagnostics as the CLI would print them.
fn rejected(name: &str, text: &str) -> Vec<String> {
    match parse(text) {
        Ok(spec) => panic!("{name}: expected the AppSpec to be rejected, got {spec:#?}"),
        Err(diagnostics) => rendered(&diagnostics),
    }
}

fn rendered(diagnostics: &[Diagnostic]) -> Vec<String> {
    diagnostics.iter().map(ToString::to_string).collect()
}

fn script(location: &str, timeout_secs: u64, runas: Option<&str>, sudo: bool) -> HookScript {
    HookScript { location: location.to_owned(), timeout_secs, runas: runas.map(str::to_owned), sudo }
}

fn hook(event: LifecycleEvent, scripts: Vec<HookScript>) -> Hook {
    Hook { event, scripts }
}

fn minimal(os: Os) -> AppSpec {
    AppSpec {
        version: "0.0".to_owned(),
        os,
        files: Vec::new(),
        file_exists_behavior: None,
        permissions: Vec::new(),
        hooks: Vec::new(),
    }
}

const FULL: &str = r#"# A complete AppSpec: every field, every event that takes scripts.
version: 0.0
os: linux
files:
  - source: /
    destination: /var/www/app
  - source: config/app.conf
    destination: /etc/app
file_exists_behavior: OVERWRITE
permissions:
  - object: /var/www/app
    pattern: "*.sh"
    except: [skip.sh, other.sh]
    owner: app
    group: www
    mode: 750
    acls:
      - u:bob:rw
      - d:g:ops:rwx
    context:
      name: unconfined_u
      type: httpd_sys_content_t
      range: s0
    type:
      - file
  - object: /etc/app
    mode: "0644"
    type: [directory]
hooks:
  BeforeBlockTraffic:
    - location: scripts/deregister.sh
      timeout: 120
  AfterBlockTraffic:
    - location: scripts/drained.sh
  ApplicationStop:
    - location: scripts/stop.sh
      timeout: 300
      runas: app
  BeforeInstall:
    - location: scripts/backup.sh
      timeout: 600
      sudo: true
    - location: /scripts/clean.sh
      timeout: 60
  AfterInstall:
    - location: scripts/migrate.sh
      timeout: "900"
      runas: root
      sudo: false
  ApplicationStart:
    - location: scripts/start.sh
      runas: app
  ValidateService:
    - location: scripts/check.sh
      timeout: 3600
  BeforeAllowTraffic:
    - location: scripts/warm.sh
      sudo: yes
  AfterAllowTraffic:
    - location: scripts/announce.sh
"#;

#[test]
fn full_appspec_parses_to_exact_structs() {
    let expected = AppSpec {
        version: "0.0".to_owned(),
        os: Os::Linux,
        files: vec![
            FileMapping { source: "/".to_owned(), destination: "/var/www/app".to_owned() },
            FileMapping { source: "config/app.conf".to_owned(), destination: "/etc/app".to_owned() },
        ],
        file_exists_behavior: Some(FileExistsBehavior::Overwrite),
        permissions: vec![
            Permission {
                object: "/var/www/app".to_owned(),
                pattern: "*.sh".to_owned(),
                except: vec!["skip.sh".to_owned(), "other.sh".to_owned()],
                owner: Some("app".to_owned()),
                group: Some("www".to_owned()),
                mode: Some(0o750),
                acls: vec!["u:bob:rw".to_owned(), "d:g:ops:rwx".to_owned()],
                context: Some(SeContext {
                    name: Some("unconfined_u".to_owned()),
                    type_: "httpd_sys_content_t".to_owned(),
                    range: Some("s0".to_owned()),
                }),
                types: vec![ObjectType::File],
            },
            Permission {
                object: "/etc/app".to_owned(),
                pattern: "**".to_owned(),
                except: Vec::new(),
                owner: None,
                group: None,
                mode: Some(0o644),
                acls: Vec::new(),
                context: None,
                types: vec![ObjectType::Directory],
            },
        ],
        hooks: vec![
            hook(LifecycleEvent::BeforeBlockTraffic, vec![script("scripts/deregister.sh", 120, None, false)]),
            hook(LifecycleEvent::AfterBlockTraffic, vec![script("scripts/drained.sh", 3600, None, false)]),
            hook(LifecycleEvent::ApplicationStop, vec![script("scripts/stop.sh", 300, Some("app"), false)]),
            hook(
                LifecycleEvent::BeforeInstall,
                vec![script("scripts/backup.sh", 600, None, true), script("/scripts/clean.sh", 60, None, false)],
            ),
            hook(LifecycleEvent::AfterInstall, vec![script("scripts/migrate.sh", 900, Some("root"), false)]),
            hook(LifecycleEvent::ApplicationStart, vec![script("scripts/start.sh", 3600, Some("app"), false)]),
            hook(LifecycleEvent::ValidateService, vec![script("scripts/check.sh", 3600, None, false)]),
            hook(LifecycleEvent::BeforeAllowTraffic, vec![script("scripts/warm.sh", 3600, None, true)]),
            hook(LifecycleEvent::AfterAllowTraffic, vec![script("scripts/announce.sh", 3600, None, false)]),
        ],
    };
    let spec = accepted("full", FULL);
    assert_eq!(spec, expected);
    assert_eq!(spec.scripts(LifecycleEvent::BeforeInstall).len(), 2);
    assert!(spec.scripts(LifecycleEvent::Install).is_empty());
}

#[test]
fn json_appspec_parses_like_yaml() {
    let json = r#"{
  "version": 0.0,
  "os": "linux",
  "files": [{"source": "build/", "destination": "/opt/app"}],
  "file_exists_behavior": "RETAIN",
  "permissions": [{"object": "/opt/app", "mode": 755, "type": ["file", "directory"]}],
  "hooks": {
    "ApplicationStart": [{"location": "bin\/start.sh", "timeout": 30, "runas": "app", "sudo": true}],
    "ApplicationStop": null
  }
}"#;
    let expected = AppSpec {
        files: vec![FileMapping { source: "build/".to_owned(), destination: "/opt/app".to_owned() }],
        file_exists_behavior: Some(FileExistsBehavior::Retain),
        permissions: vec![Permission {
            object: "/opt/app".to_owned(),
            pattern: "**".to_owned(),
            except: Vec::new(),
            owner: None,
            group: None,
            mode: Some(0o755),
            acls: Vec::new(),
            context: None,
            types: vec![ObjectType::File, ObjectType::Directory],
        }],
        hooks: vec![hook(LifecycleEvent::ApplicationStart, vec![script("bin/start.sh", 30, Some("app"), true)])],
        ..minimal(Os::Linux)
    };
    assert_eq!(accepted("json", json), expected);
}

#[test]
fn small_documents_are_accepted() {
    let cases: &[(&str, &str, AppSpec)] = &[
        ("plain version", "version: 0.0\nos: linux\n", minimal(Os::Linux)),
        ("double-quoted version", "version: \"0.0\"\nos: linux\n", minimal(Os::Linux)),
        ("single-quoted version", "version: '0.0'\nos: windows\n", minimal(Os::Windows)),
        ("explicit document markers", "---\nversion: 0.0\nos: linux\n...\n", minimal(Os::Linux)),
        ("null sections", "version: 0.0\nos: linux\nfiles:\npermissions: ~\nhooks: null\n", minimal(Os::Linux)),
        (
            "null and empty hooks",
            "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n  AfterInstall: []\n",
            minimal(Os::Linux),
        ),
        (
            "windows destination and empty source",
            "version: 0.0\nos: windows\nfiles:\n  - source: ''\n    destination: C:\\inetpub\\app\n",
            AppSpec {
                files: vec![FileMapping { source: String::new(), destination: "C:\\inetpub\\app".to_owned() }],
                ..minimal(Os::Windows)
            },
        ),
        (
            "anchors, aliases and merge keys",
            "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - &base {location: a.sh, timeout: 60, runas: app}\n  \
             AfterInstall:\n    - <<: *base\n      location: b.sh\n",
            AppSpec {
                hooks: vec![
                    hook(LifecycleEvent::BeforeInstall, vec![script("a.sh", 60, Some("app"), false)]),
                    hook(LifecycleEvent::AfterInstall, vec![script("b.sh", 60, Some("app"), false)]),
                ],
                ..minimal(Os::Linux)
            },
        ),
        (
            "byte order mark and comments",
            "\u{feff}# deploy the app\nversion: 0.0 # only version\nos: linux\n",
            minimal(Os::Linux),
        ),
    ];
    for (name, text, expected) in cases {
        assert_eq!(&accepted(name, text), expected, "{name}");
    }
}

#[test]
fn the_on_failure_extension_is_accepted_with_the_usual_script_keys() {
    let text = "version: 0.0\nos: linux\nhooks:\n  ValidateService:\n    - location: check.sh\n  OnFailure:\n    \
                - location: scripts/collect.sh\n      timeout: 120\n      runas: app\n    - location: notify.sh\n      \
                sudo: true\n";
    let spec = accepted("OnFailure", text);
    assert_eq!(
        spec.hooks,
        vec![
            hook(LifecycleEvent::ValidateService, vec![script("check.sh", 3600, None, false)]),
            hook(
                LifecycleEvent::OnFailure,
                vec![script("scripts/collect.sh", 120, Some("app"), false), script("notify.sh", 3600, None, true)]
            ),
        ]
    );
    assert_eq!(spec.scripts(LifecycleEvent::OnFailure).len(), 2);
    // Validated like every other hook; names stay exact.
    assert_eq!(
        rejected(
            "OnFailure timeout",
            "version: 0.0\nos: linux\nhooks:\n  OnFailure:\n    - location: a.sh\n      timeout: 0\n"
        ),
        rejected(
            "ValidateService timeout",
            "version: 0.0\nos: linux\nhooks:\n  ValidateService:\n    - location: a.sh\n      timeout: 0\n"
        )
        .iter()
        .map(|line| line.replace("ValidateService", "OnFailure"))
        .collect::<Vec<_>>()
    );
    assert_eq!(
        rejected("misspelt OnFailure", "version: 0.0\nos: linux\nhooks:\n  OnFailur:\n    - location: a.sh\n"),
        ["line 4: hooks.OnFailur: unknown lifecycle event \"OnFailur\" (hint: did you mean OnFailure?)"]
    );
    assert_eq!(
        rejected("OnFailure at the top level", "version: 0.0\nos: linux\nOnFailure:\n  - location: a.sh\n"),
        ["line 3: OnFailure: unknown key \"OnFailure\" (hint: OnFailure is a lifecycle event; indent it under hooks)"]
    );
}

#[test]
fn octal_modes_are_read_from_their_digits() {
    let cases = [
        ("755", 0o755),
        ("0755", 0o755),
        ("\"0644\"", 0o644),
        ("'4755'", 0o4755),
        ("7", 0o7),
        ("0", 0),
        ("!!str 600", 0o600),
    ];
    for (mode, expected) in cases {
        let text = format!("version: 0.0\nos: linux\npermissions:\n  - object: /opt/app\n    mode: {mode}\n");
        let spec = accepted(mode, &text);
        assert_eq!(spec.permissions[0].mode, Some(expected), "mode: {mode}");
    }
}

#[test]
fn invalid_documents_report_exact_diagnostics() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("missing version", "os: linux\n", &["line 1: version: version is required (hint: add \"version: 0.0\")"]),
        (
            "null version",
            "version:\nos: linux\n",
            &["line 1: version: version is required (hint: add \"version: 0.0\")"],
        ),
        (
            "wrong version",
            "version: 1.0\nos: linux\n",
            &[
                "line 1: version: version must be 0.0, got \"1.0\" (hint: write \"version: 0.0\", the only AppSpec version)",
            ],
        ),
        (
            "integer version",
            "version: 0\nos: linux\n",
            &[
                "line 1: version: version must be 0.0, got \"0\" (hint: write \"version: 0.0\", the only AppSpec version)",
            ],
        ),
        ("missing os", "version: 0.0\n", &["line 1: os: os is required (hint: add \"os: linux\" or \"os: windows\")"]),
        (
            "bad os",
            "version: 0.0\nos: ubuntu\n",
            &[
                "line 2: os: os must be linux or windows, got \"ubuntu\" (hint: write \"os: linux\"; Cutover's agent runs on Linux)",
            ],
        ),
        (
            "capitalised os",
            "version: 0.0\nos: Linux\n",
            &["line 2: os: os must be linux or windows, got \"Linux\" (hint: did you mean linux?)"],
        ),
        (
            "os with a quote and a newline",
            "version: 0.0\nos: \"li\\\"nux\\n\"\n",
            &["line 2: os: os must be linux or windows, got \"li\\\"nux\\n\" (hint: did you mean linux?)"],
        ),
        (
            "file without destination",
            "version: 0.0\nos: linux\nfiles:\n  - source: app\n",
            &[
                "line 4: files[0].destination: destination is required (hint: add destination: an absolute directory on the host)",
            ],
        ),
        (
            "file without source",
            "version: 0.0\nos: linux\nfiles:\n  - destination: /opt/app\n",
            &[
                "line 4: files[0].source: source is required (hint: add source: a file or directory of the revision, / for all of it)",
            ],
        ),
        (
            "relative destination",
            "version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: /opt/app\n  - source: web\n    \
             destination: var/www\n",
            &["line 7: files[1].destination: destination must be an absolute path, got \"var/www\" \
               (hint: use an absolute directory such as \"/var/www\")"],
        ),
        (
            "unix destination on windows",
            "version: 0.0\nos: windows\nfiles:\n  - source: app\n    destination: /opt/app\n",
            &["line 5: files[0].destination: destination must be an absolute path, got \"/opt/app\" \
               (hint: os is windows, so destination must start with a drive such as \"C:\\\")"],
        ),
        (
            "relative destination on windows",
            "version: 0.0\nos: windows\nfiles:\n  - source: app\n    destination: inetpub\n",
            &["line 5: files[0].destination: destination must be an absolute path, got \"inetpub\" \
               (hint: use an absolute directory such as \"C:\\inetpub\")"],
        ),
        (
            "windows destination on linux",
            "version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: C:/app\n",
            &["line 5: files[0].destination: destination must be an absolute path, got \"C:/app\" \
               (hint: os is linux, so destination must be a Linux path starting with \"/\")"],
        ),
        (
            "files is not a list",
            "version: 0.0\nos: linux\nfiles:\n  source: app\n  destination: /opt/app\n",
            &[
                "line 4: files: files must be a list of mappings with source and destination, got a mapping (hint: write each mapping as \"- source: <path in the revision>\" with \"destination: <absolute path>\" below it)",
            ],
        ),
        (
            "unknown key in a file entry",
            "version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: /opt/app\n    owner: app\n",
            &["line 6: files[0].owner: unknown key \"owner\" (hint: the keys allowed here are source and destination)"],
        ),
        (
            "bad file_exists_behavior",
            "version: 0.0\nos: linux\nfile_exists_behavior: overwrite\n",
            &["line 3: file_exists_behavior: file_exists_behavior must be DISALLOW, OVERWRITE or RETAIN, \
               got \"overwrite\" (hint: did you mean OVERWRITE?)"],
        ),
        (
            "hook on Install",
            "version: 0.0\nos: linux\nhooks:\n  Install:\n    - location: install.sh\n",
            &["line 4: hooks.Install: Install cannot have scripts (hint: the agent performs DownloadBundle and \
               Install itself; put scripts in BeforeInstall or AfterInstall)"],
        ),
        (
            "hook on AllowTraffic",
            "version: 0.0\nos: linux\nhooks:\n  AllowTraffic:\n    - location: lb.sh\n",
            &["line 4: hooks.AllowTraffic: AllowTraffic cannot have scripts (hint: the server performs AllowTraffic \
               itself; put scripts in BeforeAllowTraffic or AfterAllowTraffic)"],
        ),
        (
            "hook on an ECS event",
            "version: 0.0\nos: linux\nhooks:\n  AfterAllowTestTraffic:\n    - location: test.sh\n",
            &["line 4: hooks.AfterAllowTestTraffic: AfterAllowTestTraffic cannot have scripts (hint: \
               AllowTestTraffic and AfterAllowTestTraffic exist only in ECS deployments)"],
        ),
        (
            "hook on Start",
            "version: 0.0\nos: linux\nhooks:\n  Start:\n",
            &["line 4: hooks.Start: Start cannot have scripts (hint: Start and End only mark the ends of a \
               deployment; put scripts in ApplicationStop or ValidateService)"],
        ),
        (
            "misspelt hook name",
            "version: 0.0\nos: linux\nhooks:\n  BeforeInstal:\n    - location: a.sh\n",
            &[
                "line 4: hooks.BeforeInstal: unknown lifecycle event \"BeforeInstal\" (hint: did you mean BeforeInstall?)",
            ],
        ),
        (
            "unknown hook name",
            "version: 0.0\nos: linux\nhooks:\n  PostDeploy:\n    - location: a.sh\n",
            &["line 4: hooks.PostDeploy: unknown lifecycle event \"PostDeploy\" (hint: scripts can run in \
               BeforeBlockTraffic, AfterBlockTraffic, ApplicationStop, BeforeInstall, AfterInstall, ApplicationStart, \
               ValidateService, BeforeAllowTraffic, AfterAllowTraffic and OnFailure)"],
        ),
        (
            "missing location",
            "version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - timeout: 30\n",
            &[
                "line 5: hooks.AfterInstall[0].location: location is required (hint: add location: the script's path in the revision)",
            ],
        ),
        (
            "location climbing out of the revision",
            "version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: scripts/../../x.sh\n",
            &["line 5: hooks.AfterInstall[0].location: location must stay inside the revision, got \
               \"scripts/../../x.sh\" (\"..\" is not allowed) (hint: give the path from the revision's root, e.g. \
               scripts/start.sh)"],
        ),
        (
            "files source climbing out of the revision",
            "version: 0.0\nos: linux\nfiles:\n  - source: ../secrets\n    destination: /srv/app\n",
            &["line 4: files[0].source: source must stay inside the revision, got \"../secrets\" (\"..\" is not \
               allowed) (hint: give the path from the revision's root, e.g. scripts/start.sh)"],
        ),
        (
            "empty location",
            "version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: \"\"\n",
            &[
                "line 5: hooks.AfterInstall[0].location: location must not be empty (hint: give location a value, or leave it out where it is optional)",
            ],
        ),
        (
            "timeout 0",
            "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: a.sh\n      timeout: 0\n",
            &[
                "line 6: hooks.BeforeInstall[0].timeout: timeout must be a positive whole number of seconds, got \"0\" (hint: write a number of seconds up to 3600, e.g. timeout: 300)",
            ],
        ),
        (
            "negative timeout",
            "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: a.sh\n      timeout: -5\n",
            &[
                "line 6: hooks.BeforeInstall[0].timeout: timeout must be a positive whole number of seconds, got \"-5\" (hint: write a number of seconds up to 3600, e.g. timeout: 300)",
            ],
        ),
        (
            "word timeout",
            "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: a.sh\n      timeout: abc\n",
            &[
                "line 6: hooks.BeforeInstall[0].timeout: timeout must be a positive whole number of seconds, got \"abc\" (hint: write a number of seconds up to 3600, e.g. timeout: 300)",
            ],
        ),
        (
            "fractional timeout",
            "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: a.sh\n      timeout: 1.5\n",
            &[
                "line 6: hooks.BeforeInstall[0].timeout: timeout must be a positive whole number of seconds, got \"1.5\" (hint: write a number of seconds up to 3600, e.g. timeout: 300)",
            ],
        ),
        (
            "timeout above an event's limit",
            "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: a.sh\n      timeout: 5000\n",
            &["line 6: hooks.BeforeInstall[0].timeout: timeout must be at most 3600 seconds, got \"5000\" \
               (hint: a lifecycle event may take at most 3600 seconds in all)"],
        ),
        (
            "timeouts of one event add up to more than an hour",
            "version: 0.0\nos: linux\nhooks:\n  ApplicationStart:\n    - location: a.sh\n      timeout: 1800\n    \
             - location: b.sh\n      timeout: 1801\n",
            &[
                "line 4: hooks.ApplicationStart: the timeouts of ApplicationStart add up to 3601 seconds, more than the \
               3600 one lifecycle event may take (hint: lower the timeouts, or move scripts to another lifecycle event)",
            ],
        ),
        (
            "bad sudo",
            "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: a.sh\n      sudo: maybe\n",
            &[
                "line 6: hooks.BeforeInstall[0].sudo: sudo must be true or false, got \"maybe\" (hint: write sudo: true or sudo: false)",
            ],
        ),
        (
            "script given as a bare string",
            "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - scripts/a.sh\n",
            &["line 5: hooks.BeforeInstall[0]: BeforeInstall scripts must be mappings with a location, got \
               \"scripts/a.sh\" (hint: write \"- location: scripts/a.sh\")"],
        ),
        (
            "scripts not in a list",
            "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    location: a.sh\n",
            &["line 5: hooks.BeforeInstall: BeforeInstall must be a list of scripts, got a mapping \
               (hint: start each script with \"- location:\")"],
        ),
        (
            "misspelt script key",
            "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: a.sh\n      timout: 30\n",
            &["line 6: hooks.BeforeInstall[0].timout: unknown key \"timout\" (hint: did you mean timeout?)"],
        ),
        (
            "bad mode",
            "version: 0.0\nos: linux\npermissions:\n  - object: /opt/app\n    mode: \"0789\"\n",
            &[
                "line 5: permissions[0].mode: mode must be 1 to 4 octal digits (0-7), got \"0789\" (hint: write the mode as octal digits, e.g. mode: 644 or mode: \"0755\")",
            ],
        ),
        (
            "mode too long",
            "version: 0.0\nos: linux\npermissions:\n  - object: /opt/app\n    mode: 07550\n",
            &[
                "line 5: permissions[0].mode: mode must be 1 to 4 octal digits (0-7), got \"07550\" (hint: write the mode as octal digits, e.g. mode: 644 or mode: \"0755\")",
            ],
        ),
        (
            "permission type socket",
            "version: 0.0\nos: linux\npermissions:\n  - object: /opt/app\n    type:\n      - file\n      - socket\n",
            &[
                "line 7: permissions[0].type[1]: type must be file or directory, got \"socket\" (hint: list file, directory or both)",
            ],
        ),
        (
            "permission type not a list",
            "version: 0.0\nos: linux\npermissions:\n  - object: /opt/app\n    type: file\n",
            &["line 5: permissions[0].type: type must be a list, got \"file\" (hint: write type: [file])"],
        ),
        (
            "context with role",
            "version: 0.0\nos: linux\npermissions:\n  - object: /opt/app\n    context:\n      type: httpd_t\n      \
             role: object_r\n",
            &["line 7: permissions[0].context.role: role is not supported in an SELinux context (hint: remove role; \
               only name (the SELinux user), type and range can be set)"],
        ),
        (
            "context without type",
            "version: 0.0\nos: linux\npermissions:\n  - object: /opt/app\n    context:\n      name: user_u\n",
            &[
                "line 6: permissions[0].context.type: type is required (hint: add type: the SELinux type, e.g. httpd_sys_content_t)",
            ],
        ),
        (
            "permission without object",
            "version: 0.0\nos: linux\npermissions:\n  - owner: app\n",
            &[
                "line 4: permissions[0].object: object is required (hint: add object: the absolute path the settings apply to)",
            ],
        ),
        (
            "except not a list",
            "version: 0.0\nos: linux\npermissions:\n  - object: /opt/app\n    except: a.sh\n",
            &["line 5: permissions[0].except: except must be a list of strings, got \"a.sh\" \
               (hint: write except: [a.sh])"],
        ),
        (
            "permissions on windows",
            "version: 0.0\nos: windows\npermissions:\n  - object: C:\\app\n",
            &["line 4: permissions: permissions are not supported on windows \
               (hint: remove permissions, or set them from a hook script)"],
        ),
        (
            "unknown top-level key",
            "version: 0.0\nos: linux\nhook:\n  BeforeInstall:\n    - location: a.sh\n",
            &["line 3: hook: unknown key \"hook\" (hint: did you mean hooks?)"],
        ),
        (
            "unknown top-level key far from any",
            "version: 0.0\nos: linux\ncolour: blue\n",
            &["line 3: colour: unknown key \"colour\" (hint: the keys allowed here are version, os, files, \
               file_exists_behavior, permissions and hooks)"],
        ),
        (
            "hook at the top level",
            "version: 0.0\nos: linux\nBeforeInstall:\n  - location: a.sh\n",
            &["line 3: BeforeInstall: unknown key \"BeforeInstall\" (hint: BeforeInstall is a lifecycle event; \
               indent it under hooks)"],
        ),
        (
            "ECS AppSpec",
            "version: 0.0\nResources:\n  - TargetService: {}\n",
            &[
                "line 1: os: os is required (hint: add \"os: linux\" or \"os: windows\")",
                "line 2: Resources: unknown key \"Resources\" (hint: Resources belongs to ECS and Lambda AppSpecs; \
                 an EC2/on-premises AppSpec uses files and hooks)",
            ],
        ),
        (
            "duplicate key",
            "version: 0.0\nos: linux\nos: windows\n",
            &[
                "line 3: os: duplicate key \"os\", first given on line 2 (hint: remove one of the two, or merge them into the one on line 2)",
            ],
        ),
        (
            "duplicate hook",
            "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: a.sh\n  BeforeInstall:\n    \
             - location: b.sh\n",
            &[
                "line 6: hooks.BeforeInstall: duplicate key \"BeforeInstall\", first given on line 4 (hint: remove one of the two, or merge them into the one on line 4)",
            ],
        ),
        (
            "empty file",
            "",
            &["application specification file was empty (hint: start it with \"version: 0.0\" and \"os: linux\")"],
        ),
        (
            "blank file",
            "  \n\n",
            &["application specification file was empty (hint: start it with \"version: 0.0\" and \"os: linux\")"],
        ),
        (
            "comments only",
            "# nothing yet\n",
            &["application specification file was empty (hint: start it with \"version: 0.0\" and \"os: linux\")"],
        ),
        (
            "empty document",
            "---\n",
            &["application specification file was empty (hint: start it with \"version: 0.0\" and \"os: linux\")"],
        ),
        (
            "not a mapping",
            "- version: 0.0\n",
            &[
                "line 1: the AppSpec must be a mapping with version, os, files and hooks, got a list (hint: start it with \"version: 0.0\" and \"os: linux\", one key per line)",
            ],
        ),
        (
            "two documents",
            "version: 0.0\nos: linux\n---\nversion: 0.0\n",
            &["line 3: the file holds more than one YAML document (hint: an AppSpec is a single document; remove \
               the extra \"---\" and what follows it)"],
        ),
        (
            "custom tag",
            "version: 0.0\nos: !Ref linux\n",
            &["line 2: unsupported YAML tag \"!Ref\" (hint: remove the tag)"],
        ),
    ];
    for (name, text, expected) in cases {
        assert_eq!(rejected(name, text), *expected, "{name}");
    }
}

#[test]
fn yaml_syntax_errors_carry_the_parser_position() {
    const SYNTAX_HINT: &str = "check the indentation of this line and the one before (keys of one mapping line up, \
         list items start with \"- \"), and quote values that contain \": \" or start with *, & or [";
    let cases: &[(&str, &str, Diagnostic)] = &[
        (
            "mapping value in a plain scalar",
            "version: 0.0\nos: linux\nhooks:\n  BeforeInstall: a: b\n",
            Diagnostic {
                line: Some(4),
                column: Some(19),
                field: String::new(),
                message: "invalid YAML: mapping values are not allowed in this context".to_owned(),
                hint: Some(SYNTAX_HINT.to_owned()),
            },
        ),
        (
            "unclosed flow sequence",
            "version: 0.0\nos: linux\nfiles: [\n",
            Diagnostic {
                line: Some(3),
                column: Some(8),
                field: String::new(),
                message: "invalid YAML: unclosed bracket '['".to_owned(),
                hint: Some(SYNTAX_HINT.to_owned()),
            },
        ),
        (
            "alias to an undefined anchor",
            "version: 0.0\nos: *linux\n",
            Diagnostic {
                line: Some(2),
                column: Some(5),
                field: String::new(),
                message: "invalid YAML: while parsing node, found unknown anchor".to_owned(),
                hint: Some(SYNTAX_HINT.to_owned()),
            },
        ),
    ];
    for (name, text, expected) in cases {
        assert_eq!(parse(text), Err(vec![expected.clone()]), "{name}");
    }
}

#[test]
fn every_problem_is_reported_in_line_order() {
    let text = "\
hooks:
  BeforeInstall:
    - location: a.sh
      timeout: abc
  Install:
    - location: b.sh
  AfterInstall:
    - timeout: 60
files:
  - source: app
permissions:
  - object: /opt/app
    mode: 999
    type: [socket]
version: 2
colour: blue
";
    let expected = [
        "line 1: os: os is required (hint: add \"os: linux\" or \"os: windows\")",
        "line 4: hooks.BeforeInstall[0].timeout: timeout must be a positive whole number of seconds, got \"abc\" \
         (hint: write a number of seconds up to 3600, e.g. timeout: 300)",
        "line 5: hooks.Install: Install cannot have scripts (hint: the agent performs DownloadBundle and Install \
         itself; put scripts in BeforeInstall or AfterInstall)",
        "line 8: hooks.AfterInstall[0].location: location is required (hint: add location: the script's path in the \
         revision)",
        "line 10: files[0].destination: destination is required (hint: add destination: an absolute directory on the \
         host)",
        "line 13: permissions[0].mode: mode must be 1 to 4 octal digits (0-7), got \"999\" (hint: write the mode as \
         octal digits, e.g. mode: 644 or mode: \"0755\")",
        "line 14: permissions[0].type[0]: type must be file or directory, got \"socket\" (hint: list file, directory \
         or both)",
        "line 15: version: version must be 0.0, got \"2\" (hint: write \"version: 0.0\", the only AppSpec version)",
        "line 16: colour: unknown key \"colour\" (hint: the keys allowed here are version, os, files, \
         file_exists_behavior, permissions and hooks)",
    ];
    assert_eq!(rejected("several errors", text), expected);

    // Columns too: a value's diagnostic points at the value, a missing key's at its mapping.
    let Err(diagnostics) = parse(text) else { panic!("several errors: expected a rejection") };
    let positions: Vec<(Option<usize>, Option<usize>)> =
        diagnostics.iter().map(|diagnostic| (diagnostic.line, diagnostic.column)).collect();
    assert_eq!(
        positions,
        [
            (Some(1), Some(1)),
            (Some(4), Some(16)),
            (Some(5), Some(3)),
            (Some(8), Some(7)),
            (Some(10), Some(5)),
            (Some(13), Some(11)),
            (Some(14), Some(12)),
            (Some(15), Some(10)),
            (Some(16), Some(1)),
        ]
    );
}

#[test]
fn billion_laughs_is_refused_without_expanding() {
    let text = "\
version: 0.0
os: linux
a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
";
    assert_eq!(
        rejected("billion laughs", text),
        ["line 8: the document is too large: more than 100000 nodes once aliases are expanded"]
    );
}

#[test]
fn hostile_shapes_are_refused() {
    let deep_flow = format!("version: 0.0\nos: linux\nfiles: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(rejected("deep flow", &deep_flow), ["line 3: the document is nested more than 64 levels deep"]);

    let deep_block: String = (0..200).map(|depth| format!("{}k{depth}:\n", "  ".repeat(depth))).collect();
    assert_eq!(rejected("deep block", &deep_block), ["line 65: the document is nested more than 64 levels deep"]);

    // Aliases can stack depth without nesting in the text: each line is 30 deep, plus the alias it holds.
    let nested = |inner: &str| format!("{}{inner}{}", "[".repeat(30), "]".repeat(30));
    let mut stacked = format!("version: 0.0\nos: linux\nx0: &x0 {}\n", nested("1"));
    for level in 1..4 {
        stacked.push_str(&format!("x{level}: &x{level} {}\n", nested(&format!("*x{}", level - 1))));
    }
    assert_eq!(rejected("stacked aliases", &stacked), ["line 5: the document is nested more than 64 levels deep"]);

    let huge = format!("version: 0.0\nos: linux\n# {}\n", "x".repeat(2 * 1024 * 1024));
    assert_eq!(
        rejected("huge", &huge),
        [format!("application specification file is {} bytes, more than the 1048576 allowed", huge.len())]
    );

    let long_value = format!("version: 0.0\nos: {}\n", "x".repeat(1000));
    assert_eq!(
        rejected("long value", &long_value),
        [format!(
            "line 2: os: os must be linux or windows, got \"{}...\" (hint: write \"os: linux\"; Cutover's agent runs on \
             Linux)",
            "x".repeat(60)
        )]
    );
}
