//! The built-in router's configuration file (`cutover-router --config router.toml`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Shorter tokens are refused: the control API decides where production traffic goes.
const MIN_TOKEN_LEN: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// The file as written.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterFile {
    pub control: ControlConfig,
    #[serde(rename = "pool", default)]
    pub pools: Vec<PoolConfig>,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlConfig {
    pub listen: SocketAddr,
    pub token: Option<String>,
    pub token_file: Option<PathBuf>,
    /// Serve the control API over TLS (PEM files). Required when `listen` is beyond loopback.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolConfig {
    pub name: String,
    pub listen: SocketAddr,
    #[serde(default)]
    pub health_check: HealthCheck,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HealthCheck {
    /// Path of the HTTP GET; 2xx and 3xx pass.
    pub path: String,
    pub interval_ms: u64,
    pub timeout_ms: u64,
    /// Consecutive passes that make a member healthy (a new member starts unhealthy).
    pub healthy_threshold: u32,
    /// Consecutive failures that make a healthy member unhealthy.
    pub unhealthy_threshold: u32,
}

impl Default for HealthCheck {
    fn default() -> Self {
        HealthCheck {
            path: "/".into(),
            interval_ms: 2000,
            timeout_ms: 1000,
            healthy_threshold: 2,
            unhealthy_threshold: 2,
        }
    }
}

/// A validated configuration, the token read.
#[derive(Debug, Clone)]
pub struct Settings {
    pub control: ControlConfig,
    pub token: String,
    pub pools: Vec<PoolConfig>,
}

impl Settings {
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        let file: RouterFile = toml::from_str(&text)
            .map_err(|error| ConfigError::Parse { path: path.to_owned(), message: error.to_string() })?;
        Settings::from_file(file).map_err(|message| ConfigError::Invalid { path: path.to_owned(), message })
    }

    pub fn from_file(file: RouterFile) -> Result<Settings, String> {
        let control = file.control;
        let token = match (&control.token, &control.token_file) {
            (Some(_), Some(_)) => return Err("[control]: give token or token_file, not both".into()),
            (Some(token), None) => token.trim().to_owned(),
            (None, Some(path)) => {
                crate::driver::read_token_file(path).map_err(|error| format!("[control]: {error}"))?
            }
            (None, None) => {
                return Err("[control]: a token (token or token_file) is required; the control API decides where \
                            traffic goes"
                    .into());
            }
        };
        if token.len() < MIN_TOKEN_LEN || token.contains(char::is_whitespace) {
            return Err(format!("[control]: the token must be at least {MIN_TOKEN_LEN} characters, with no spaces"));
        }
        match (&control.tls_cert, &control.tls_key) {
            (Some(_), None) | (None, Some(_)) => return Err("[control]: tls_cert and tls_key go together".into()),
            (None, None) if !control.listen.ip().is_loopback() => {
                return Err(format!(
                    "[control]: listen {} is beyond loopback: give tls_cert and tls_key so that the token never \
                     crosses the network in clear",
                    control.listen
                ));
            }
            _ => {}
        }
        for (index, pool) in file.pools.iter().enumerate() {
            let at = format!("pool {} ({:?})", index + 1, pool.name);
            let named = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
            if pool.name.is_empty() || !pool.name.chars().all(named) {
                return Err(format!("{at}: name must be letters, digits, '-', '_' and '.'"));
            }
            if file.pools[..index].iter().any(|other| other.name == pool.name) {
                return Err(format!("{at}: name is used twice"));
            }
            let check = &pool.health_check;
            if !check.path.starts_with('/') {
                return Err(format!("{at}: health_check.path must start with '/'"));
            }
            if check.interval_ms == 0 || check.timeout_ms == 0 {
                return Err(format!("{at}: health_check.interval_ms and timeout_ms must be above 0"));
            }
            if check.healthy_threshold == 0 || check.unhealthy_threshold == 0 {
                return Err(format!("{at}: health_check thresholds must be at least 1"));
            }
        }
        Ok(Settings { control, token, pools: file.pools })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> Result<Settings, String> {
        Settings::from_file(toml::from_str(text).map_err(|error| error.to_string())?)
    }

    const CONTROL: &str = "[control]\nlisten = \"127.0.0.1:0\"\ntoken = \"0123456789abcdef\"\n";

    #[test]
    fn a_full_file_reads_with_defaults() {
        let text = format!(
            "{CONTROL}[[pool]]\nname = \"web\"\nlisten = \"0.0.0.0:8080\"\n[pool.health_check]\npath = \"/health\"\n\
             [[pool]]\nname = \"api\"\nlisten = \"[::1]:0\"\n"
        );
        let settings = settings(&text).expect("valid");
        assert_eq!(settings.pools.len(), 2);
        assert_eq!(settings.pools[0].health_check.path, "/health");
        assert_eq!(settings.pools[0].health_check.interval_ms, 2000);
        assert_eq!(settings.pools[1].health_check, HealthCheck::default());
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            ("[control]\nlisten = \"127.0.0.1:0\"\n".to_owned(), "a token (token or token_file) is required"),
            ("[control]\nlisten = \"127.0.0.1:0\"\ntoken = \"short\"\n".into(), "at least 16 characters"),
            (
                "[control]\nlisten = \"0.0.0.0:9900\"\ntoken = \"0123456789abcdef\"\n".into(),
                "beyond loopback: give tls_cert and tls_key",
            ),
            (format!("{CONTROL}[[pool]]\nname = \"a b\"\nlisten = \"127.0.0.1:0\"\n"), "pool 1 (\"a b\"): name"),
            (
                format!(
                    "{CONTROL}[[pool]]\nname = \"a\"\nlisten = \"127.0.0.1:0\"\n[[pool]]\nname = \"a\"\nlisten = \"127.0.0.1:0\"\n"
                ),
                "pool 2 (\"a\"): name is used twice",
            ),
            (
                format!(
                    "{CONTROL}[[pool]]\nname = \"a\"\nlisten = \"127.0.0.1:0\"\nhealth_check = {{ path = \"x\" }}\n"
                ),
                "health_check.path must start with '/'",
            ),
            (
                format!("{CONTROL}[[pool]]\nname = \"a\"\nlisten = \"127.0.0.1:0\"\nweight = 3\n"),
                "unknown field `weight`",
            ),
        ];
        for (text, expected) in cases {
            let error = settings(&text).expect_err(expected);
            assert!(error.contains(expected), "{error:?} should contain {expected:?}");
        }
    }
}
