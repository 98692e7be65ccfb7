//! Where the server's configuration comes from: command-line flags, then `CUTOVER_<SETTING>` environment variables,
//! then a TOML file (`--config FILE` or `CUTOVER_CONFIG`), then defaults. Every setting has the same name in all
//! three (`--database-url`, `CUTOVER_DATABASE_URL`, `database_url` or `database-url` in the file), and everything
//! is validated before the server opens anything, with errors that say where the bad value came from.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::{CommandFactory, FromArgMatches};

use crate::Config;

/// Reads the configuration from `args` (the first is the program name) and the process environment.
pub fn load(args: Vec<OsString>) -> Result<Config, String> {
    let file = config_file(&args);
    let mut argv: Vec<OsString> = args.first().cloned().into_iter().collect();
    if let Some(path) = &file {
        argv.extend(file_flags(path)?);
    }
    argv.extend(args.into_iter().skip(1));
    let command = Config::command()
        // Flags from the file come first, so the command line's own flags win over them.
        .args_override_self(true)
        .mut_args(|arg| {
            // clap wants a &'static str here (an owned one needs its `string` feature); once per setting at start.
            let env: &'static str = format!("CUTOVER_{}", arg.get_id().as_str().to_uppercase()).leak();
            arg.env(env)
        });
    let matches = command.try_get_matches_from(argv).map_err(|error| {
        if matches!(error.kind(), clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion) {
            error.exit();
        }
        let origin =
            file.as_ref().map_or(String::new(), |path| format!(" (settings also read from {})", path.display()));
        format!("{}{origin}", error.render().to_string().trim_end())
    })?;
    let config = Config::from_arg_matches(&matches).map_err(|error| error.to_string())?;
    validate(&config)?;
    Ok(config)
}

/// `--config FILE` / `--config=FILE` on the command line, else `CUTOVER_CONFIG`.
fn config_file(args: &[OsString]) -> Option<PathBuf> {
    let mut iter = args.iter().skip(1);
    while let Some(arg) = iter.next() {
        let arg = arg.to_string_lossy();
        if arg == "--config" {
            return iter.next().map(PathBuf::from);
        }
        if let Some(path) = arg.strip_prefix("--config=") {
            return Some(PathBuf::from(path));
        }
    }
    std::env::var_os("CUTOVER_CONFIG").map(PathBuf::from)
}

/// The file's settings as flags, leaving out those an environment variable sets (the environment wins).
fn file_flags(path: &Path) -> Result<Vec<OsString>, String> {
    let text = std::fs::read_to_string(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let table: toml::Table = toml::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))?;
    let command = Config::command();
    let mut flags = Vec::new();
    for (key, shown, value) in flatten_tables(table) {
        let long = key.replace('_', "-");
        let known = command.get_arguments().find(|arg| arg.get_long() == Some(long.as_str()) && long != "config");
        let Some(arg) = known else {
            let mut names: Vec<String> = command
                .get_arguments()
                .filter_map(|arg| arg.get_long())
                .filter(|name| *name != "config")
                .map(|name| name.replace('-', "_"))
                .collect();
            names.sort();
            return Err(format!("{}: unknown setting `{shown}`; known settings: {}", path.display(), names.join(", ")));
        };
        if std::env::var_os(format!("CUTOVER_{}", arg.get_id().as_str().to_uppercase())).is_some() {
            continue;
        }
        let values = match value {
            toml::Value::Array(items) => items,
            other => vec![other],
        };
        for value in values {
            let text = match value {
                toml::Value::String(text) => text,
                toml::Value::Integer(n) => n.to_string(),
                toml::Value::Float(n) => n.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    return Err(format!(
                        "{}: setting `{shown}` must be a string, number or boolean (or a list of them), not {}",
                        path.display(),
                        other.type_str()
                    ));
                }
            };
            flags.push(OsString::from(format!("--{long}={text}")));
        }
    }
    Ok(flags)
}

/// Tables that group settings: `[s3]` with `bucket = …` is `s3_bucket = …`.
const TABLES: [&str; 1] = ["s3"];

/// The file's settings as (setting name, name as written, value), with the tables of [`TABLES`] flattened.
fn flatten_tables(table: toml::Table) -> Vec<(String, String, toml::Value)> {
    let mut settings = Vec::new();
    for (key, value) in table {
        match value {
            toml::Value::Table(inner) if TABLES.contains(&key.as_str()) => {
                for (name, value) in inner {
                    settings.push((format!("{key}_{name}"), format!("{name}` in `[{key}]"), value));
                }
            }
            value => settings.push((key.clone(), key, value)),
        }
    }
    settings
}

/// Checks that go beyond a value's type.
fn validate(config: &Config) -> Result<(), String> {
    if let Some(url) = &config.database_url {
        let known = ["postgres://", "postgresql://", "sqlite://"];
        if !known.iter().any(|scheme| url.starts_with(scheme)) {
            return Err(format!(
                "database_url must start with postgres://, postgresql:// or sqlite:// (got {:?})",
                url.split("://").next().unwrap_or(url)
            ));
        }
    }
    if !(config.minute_seconds.is_finite() && config.minute_seconds >= 0.01 && config.minute_seconds <= 3600.0) {
        return Err(format!("minute_seconds must be between 0.01 and 3600 seconds, got {}", config.minute_seconds));
    }
    if config.deployment_lease_secs < 3 {
        return Err(format!(
            "deployment_lease_secs must be at least 3 (it is renewed every third of it), got {}",
            config.deployment_lease_secs
        ));
    }
    if config.database_max_connections < 2 {
        return Err("database_max_connections must be at least 2".to_owned());
    }
    if let Some(id) = &config.replica_id
        && (id.is_empty() || id.chars().any(char::is_whitespace))
    {
        return Err(format!("replica_id must be a non-empty name without spaces, got {id:?}"));
    }
    if config.agent_lease_secs == 0 || config.poll_max_wait_ms == 0 {
        return Err("agent_lease_secs and poll_max_wait_ms must be positive".to_owned());
    }
    config.s3.validate(config.blobs_dir.as_deref())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        std::iter::once("cutover-server").chain(list.iter().copied()).map(OsString::from).collect()
    }

    #[test]
    fn file_settings_apply_and_flags_win() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("server.toml");
        std::fs::write(
            &file,
            "database_url = \"postgres://u@db/cutover\"\nreplica-id = \"r1\"\ndeployment_lease_secs = 12\n\
             tls_san = [\"a.example\", \"b.example\"]\n",
        )
        .unwrap();
        let config = load(args(&["--config", file.to_str().unwrap(), "--deployment-lease-secs", "9"])).unwrap();
        assert_eq!(config.database_url.as_deref(), Some("postgres://u@db/cutover"));
        assert_eq!(config.replica_id.as_deref(), Some("r1"));
        assert_eq!(config.deployment_lease_secs, 9);
        assert_eq!(config.tls_san, ["a.example", "b.example"]);
    }

    #[test]
    fn the_s3_table_sets_the_s3_settings() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("server.toml");
        std::fs::write(
            &file,
            "[s3]\nbucket = \"revisions\"\nendpoint = \"http://127.0.0.1:9000\"\nallow_http = true\n\
             prefix = \"prod/\"\nvirtual_hosted_style = false\n",
        )
        .unwrap();
        let path = file.to_str().unwrap().to_owned();
        let config = load(args(&["--config", &path])).unwrap();
        assert_eq!(config.s3.s3_bucket.as_deref(), Some("revisions"));
        assert_eq!(config.s3.s3_endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(config.s3.s3_allow_http && !config.s3.s3_virtual_hosted_style);
        assert_eq!(config.s3.s3_prefix.as_deref(), Some("prod/"));
        std::fs::write(&file, "[s3]\nbucket = \"revisions\"\nendpont = \"http://x\"\n").unwrap();
        let error = load(args(&["--config", &path])).unwrap_err();
        assert!(error.contains("unknown setting `endpont` in `[s3]`") && error.contains("s3_endpoint"), "{error}");
        std::fs::write(&file, "[s3]\nbucket = \"revisions\"\nendpoint = \"http://127.0.0.1:9000\"\n").unwrap();
        let error = load(args(&["--config", &path])).unwrap_err();
        assert!(error.contains("s3_allow_http"), "{error}");
        let error = load(args(&["--s3-bucket", "revisions", "--blobs-dir", "/mnt/blobs"])).unwrap_err();
        assert!(error.contains("blobs_dir") && error.contains("s3_bucket"), "{error}");
    }

    #[test]
    fn bad_files_and_values_say_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("server.toml");
        let path = file.to_str().unwrap().to_owned();
        std::fs::write(&file, "databse_url = \"postgres://x/y\"\n").unwrap();
        let error = load(args(&["--config", &path])).unwrap_err();
        assert!(error.contains("unknown setting `databse_url`") && error.contains("database_url"), "{error}");
        std::fs::write(&file, "deployment_lease_secs = \"soon\"\n").unwrap();
        let error = load(args(&["--config", &path])).unwrap_err();
        assert!(error.contains("soon") && error.contains(&path), "{error}");
        std::fs::write(&file, "[database]\nurl = 1\n").unwrap();
        assert!(load(args(&["--config", &path])).unwrap_err().contains("unknown setting `database`"));
        std::fs::write(&file, "listen = ").unwrap();
        assert!(load(args(&["--config", &path])).unwrap_err().starts_with(&path));
        let error = load(args(&["--database-url", "mysql://x/y"])).unwrap_err();
        assert!(error.contains("database_url must start with"), "{error}");
        let error = load(args(&["--deployment-lease-secs", "1"])).unwrap_err();
        assert!(error.contains("at least 3"), "{error}");
    }
}
