//! The one interface the server drives traffic through: a pool of members with weights and states, applied as a
//! whole, and read back with health and in-flight counts. Two drivers implement it: the built-in router's control
//! API ([`crate::BuiltinRouter`]) and HAProxy's Runtime API ([`crate::HaproxyRuntime`]).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

/// What a member may receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberState {
    /// In rotation (if healthy and its weight is above 0).
    Ready,
    /// No new requests; requests in flight finish.
    Drain,
    /// Out of rotation.
    Maint,
}

/// One member of a pool as the caller wants it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// The instance name (HAProxy: the server name).
    pub id: String,
    /// `host:port` (`[v6]:port` for IPv6).
    pub address: String,
    pub weight: u32,
    pub state: MemberState,
}

/// One member as the router sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MemberStatus {
    pub id: String,
    pub address: String,
    pub weight: u32,
    pub state: MemberState,
    /// The router's active health check passes.
    pub healthy: bool,
    /// Requests (HAProxy: sessions) the member is serving now.
    pub in_flight: u64,
}

/// Why a router did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum TrafficError {
    #[error("cannot reach the traffic router at {router}: {reason}")]
    Unreachable { router: String, reason: String },
    #[error("the traffic router has no pool {0:?}")]
    UnknownPool(String),
    #[error(
        "HAProxy backend {backend:?} has no server {server:?}: declare it in haproxy.cfg \
         (`server {server} 0.0.0.0:0 disabled check` in backend {backend})"
    )]
    UnknownServer { backend: String, server: String },
    #[error("member {id:?}: {reason}")]
    InvalidMember { id: String, reason: String },
    #[error("the traffic router at {router} refused: {message}")]
    Refused { router: String, message: String },
    #[error("unexpected answer from the traffic router at {router}: {message}")]
    Protocol { router: String, message: String },
    #[error("traffic router configuration: {0}")]
    Config(String),
}

/// Drives one traffic router. Every method is one round trip (or a few, for HAProxy) to the router; the driver
/// itself keeps no state, so the server may create one per call or share one.
#[async_trait::async_trait]
pub trait TrafficController: Send + Sync + std::fmt::Debug {
    /// Largest weight one member may have (built-in: 10_000; HAProxy: 256). The caller scales shares to it.
    fn max_weight(&self) -> u32;
    /// Makes the pool's members exactly `members` (idempotent). Built-in router: one atomic switch — a request sees
    /// either the old set or the new one. Members not listed stop getting new requests at once and are forgotten
    /// once their in-flight requests finish.  A Ready member with weight 0 gets no requests.
    async fn apply(&self, pool: &str, members: &[Member]) -> Result<(), TrafficError>;
    /// Every member the router knows for the pool (including ones still finishing in-flight requests), with active
    /// health-check state and in-flight request count.
    async fn status(&self, pool: &str) -> Result<Vec<MemberStatus>, TrafficError>;
}

/// Which router a deployment group's traffic goes through (TOML: `kind = "builtin"` or `kind = "haproxy"`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum RouterConfig {
    /// A `cutover-router` process, through its control API.
    Builtin {
        /// e.g. `http://127.0.0.1:9900` or `https://router.internal:9900`.
        control_url: String,
        token: Option<String>,
        /// A file holding the control token (first line), instead of `token`.
        token_file: Option<PathBuf>,
        /// PEM CA certificates to trust for an `https` control URL, besides the system's.
        ca_file: Option<PathBuf>,
    },
    /// HAProxy, through the Runtime API on its stats socket (`stats socket … level admin`).
    Haproxy { socket: PathBuf },
}

/// A driver for `config`. Reads the token and CA files now, so a bad path fails here rather than mid-deployment.
pub fn connect(config: &RouterConfig) -> Result<Arc<dyn TrafficController>, TrafficError> {
    match config {
        RouterConfig::Builtin { control_url, token, token_file, ca_file } => {
            let token = match (token, token_file) {
                (Some(_), Some(_)) => {
                    return Err(TrafficError::Config("give the router's token or token_file, not both".into()));
                }
                (Some(token), None) => Some(token.clone()),
                (None, Some(path)) => Some(read_token_file(path).map_err(TrafficError::Config)?),
                (None, None) => None,
            };
            let ca_pem = match ca_file {
                Some(path) => Some(std::fs::read(path).map_err(|error| {
                    TrafficError::Config(format!("cannot read the router's CA file {}: {error}", path.display()))
                })?),
                None => None,
            };
            Ok(Arc::new(crate::BuiltinRouter::new(control_url, token, ca_pem.as_deref())?))
        }
        RouterConfig::Haproxy { socket } => Ok(Arc::new(crate::HaproxyRuntime::new(socket.clone()))),
    }
}

/// The first line of a token file, which must not be empty.
pub(crate) fn read_token_file(path: &std::path::Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read the token file {}: {error}", path.display()))?;
    let token = text.lines().next().unwrap_or("").trim().to_owned();
    if token.is_empty() {
        return Err(format!("the token file {} is empty", path.display()));
    }
    Ok(token)
}

/// Checks a member list before it is sent anywhere: ids present and unique, weights within the router's range,
/// addresses `host:port`.
pub fn validate_members(members: &[Member], max_weight: u32) -> Result<(), TrafficError> {
    let invalid = |id: &str, reason: String| TrafficError::InvalidMember { id: id.to_owned(), reason };
    for (index, member) in members.iter().enumerate() {
        if member.id.is_empty() {
            return Err(invalid("", format!("member {index} has an empty id")));
        }
        if members[..index].iter().any(|other| other.id == member.id) {
            return Err(invalid(&member.id, "listed twice".into()));
        }
        if member.weight > max_weight {
            return Err(invalid(&member.id, format!("weight {} is above this router's {max_weight}", member.weight)));
        }
        split_address(&member.address).map_err(|reason| invalid(&member.id, reason))?;
    }
    Ok(())
}

/// `host:port` → (host, port); IPv6 hosts in brackets.
pub(crate) fn split_address(address: &str) -> Result<(String, u16), String> {
    let bad = || format!("address {address:?} is not host:port");
    let (host, port) = match address.parse::<SocketAddr>() {
        Ok(socket) => (socket.ip().to_string(), socket.port()),
        Err(_) => {
            let (host, port) = address.rsplit_once(':').ok_or_else(bad)?;
            if host.is_empty() || host.contains(['[', ']', ':', '/', ' ']) || host.parse::<IpAddr>().is_ok() {
                return Err(bad());
            }
            (host.to_owned(), port.parse::<u16>().map_err(|_| bad())?)
        }
    };
    if port == 0 {
        return Err(format!("address {address:?} has port 0"));
    }
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, address: &str, weight: u32) -> Member {
        Member { id: id.into(), address: address.into(), weight, state: MemberState::Ready }
    }

    #[test]
    fn members_are_checked_with_the_reason() {
        let ok = [member("a", "127.0.0.1:80", 10), member("b", "web-2.internal:8080", 0), member("c", "[::1]:81", 1)];
        validate_members(&ok, 10).expect("valid");
        let cases = [
            (vec![member("a", "127.0.0.1:80", 11)], "weight 11 is above this router's 10"),
            (vec![member("a", "127.0.0.1:80", 1), member("a", "127.0.0.2:80", 1)], "listed twice"),
            (vec![member("a", "127.0.0.1", 1)], "is not host:port"),
            (vec![member("a", "web:http", 1)], "is not host:port"),
            (vec![member("a", "web:0", 1)], "has port 0"),
            (vec![member("a", "127.0.0.1:0", 1)], "has port 0"),
            (vec![member("", "web:80", 1)], "empty id"),
        ];
        for (members, expected) in cases {
            let error = validate_members(&members, 10).expect_err(expected).to_string();
            assert!(error.contains(expected), "{error:?} should contain {expected:?}");
        }
    }

    #[test]
    fn config_reads_as_toml() {
        let config: RouterConfig =
            toml::from_str("kind = \"builtin\"\ncontrol_url = \"http://127.0.0.1:9900\"\ntoken_file = \"/etc/t\"")
                .expect("builtin");
        assert!(matches!(config, RouterConfig::Builtin { token: None, token_file: Some(_), .. }));
        let config: RouterConfig = toml::from_str("kind = \"haproxy\"\nsocket = \"/run/haproxy/admin.sock\"").unwrap();
        assert_eq!(config, RouterConfig::Haproxy { socket: "/run/haproxy/admin.sock".into() });
        let error = toml::from_str::<RouterConfig>("kind = \"nginx\"").expect_err("unknown kind").to_string();
        assert!(error.contains("nginx"), "{error}");
    }
}
