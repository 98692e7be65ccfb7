//! The HAProxy driver: HAProxy's Runtime API on its UNIX stats socket, one command per connection.
//!
//! A pool is a backend and a member a server declared in haproxy.cfg (`server <instance> 0.0.0.0:0 disabled check`):
//! the Runtime API can change a server's address, weight and state but cannot add one. HAProxy has no atomic
//! multi-server switch, so apply() orders its commands to never leave the backend with less capacity than either
//! the old or the new set: members that take traffic are raised first, then the others are lowered.

use std::collections::HashMap;
use std::path::PathBuf;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::driver::{Member, MemberState, MemberStatus, TrafficController, TrafficError, split_address};

/// A Runtime API command answers at once; a socket that does not is as good as unreachable.
const COMMAND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// HAProxy's largest server weight.
pub const HAPROXY_MAX_WEIGHT: u32 = 256;

// `srv_admin_state` bits (HAProxy's SRV_ADMF_*): forced, inherited and resolution maintenance; forced and
// inherited drain. Configuration maintenance (`disabled`, 0x04) is only a note that FMAINT came from the file.
const ADMIN_MAINT: u32 = 0x01 | 0x02 | 0x20;
const ADMIN_DRAIN: u32 = 0x08 | 0x10;
// `srv_check_state` bit: a health check is configured for the server.
const CHECK_CONFIGURED: u32 = 0x02;

/// HAProxy, driven through its Runtime API.
#[derive(Debug, Clone)]
pub struct HaproxyRuntime {
    socket: PathBuf,
}

/// One server from `show servers state`.
#[derive(Debug, Clone)]
struct Server {
    /// The backend's numeric id: `show stat` by name would pick a frontend of the same name.
    backend_id: u32,
    name: String,
    ip: String,
    port: u16,
    admin: u32,
    weight: u32,
    checked: bool,
}

impl Server {
    fn in_maint(&self) -> bool {
        self.admin & ADMIN_MAINT != 0
    }

    fn state(&self) -> MemberState {
        if self.in_maint() {
            MemberState::Maint
        } else if self.admin & ADMIN_DRAIN != 0 {
            MemberState::Drain
        } else {
            MemberState::Ready
        }
    }
}

/// A member with its address resolved to the IP the Runtime API wants.
struct Target<'a> {
    member: &'a Member,
    ip: String,
    port: u16,
}

impl HaproxyRuntime {
    pub fn new(socket: PathBuf) -> Self {
        HaproxyRuntime { socket }
    }

    fn router(&self) -> String {
        format!("unix:{}", self.socket.display())
    }

    /// Sends one command and returns HAProxy's whole answer.
    async fn command(&self, command: &str) -> Result<String, TrafficError> {
        let unreachable = |error: std::io::Error| {
            let hint = match error.kind() {
                std::io::ErrorKind::PermissionDenied => " (this user needs read and write access to the socket)",
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
                    " (is HAProxy running with `stats socket <path> level admin`?)"
                }
                _ => "",
            };
            TrafficError::Unreachable { router: self.router(), reason: format!("{error}{hint}") }
        };
        let exchange = async {
            let mut stream = tokio::net::UnixStream::connect(&self.socket).await?;
            stream.write_all(format!("{command}\n").as_bytes()).await?;
            let mut answer = String::new();
            stream.read_to_string(&mut answer).await?;
            Ok(answer)
        };
        match tokio::time::timeout(COMMAND_TIMEOUT, exchange).await {
            Ok(answer) => answer.map_err(unreachable),
            Err(_) => Err(TrafficError::Unreachable {
                router: self.router(),
                reason: format!("no answer to `{command}` within {COMMAND_TIMEOUT:?}"),
            }),
        }
    }

    /// Sends a `set server` command, which answers nothing on success (`accepted` lists the few that do answer).
    async fn set(&self, backend: &str, server: &str, what: &str, accepted: &[&str]) -> Result<(), TrafficError> {
        let answer = self.command(&format!("set server {backend}/{server} {what}")).await?;
        let answer = answer.trim();
        if answer.is_empty() || accepted.iter().any(|prefix| answer.contains(prefix)) {
            return Ok(());
        }
        Err(TrafficError::Refused {
            router: self.router(),
            message: format!("`set server {backend}/{server} {what}`: {answer}"),
        })
    }

    async fn servers(&self, backend: &str) -> Result<Vec<Server>, TrafficError> {
        let answer = self.command(&format!("show servers state {backend}")).await?;
        if answer.starts_with("Can't find backend") {
            return Err(TrafficError::UnknownPool(backend.to_owned()));
        }
        parse_servers_state(&answer).map_err(|message| self.protocol(message))
    }

    fn protocol(&self, message: String) -> TrafficError {
        TrafficError::Protocol { router: self.router(), message }
    }

    /// Puts a server that had no traffic (or another address) in rotation: it first leaves maintenance as drained
    /// (up, no traffic), is marked down, then ready, so it takes traffic only once its health check passes.
    async fn bring_in(&self, backend: &str, server: &Server, target: &Target<'_>) -> Result<(), TrafficError> {
        let name = target.member.id.as_str();
        if !server.in_maint() {
            self.set(backend, name, "state maint", &[]).await?;
        }
        let address = format!("addr {} port {}", target.ip, target.port);
        self.set(backend, name, &address, &["changed", "no need to change"]).await?;
        self.set(backend, name, &format!("weight {}", target.member.weight), &[]).await?;
        match target.member.state {
            MemberState::Maint => return Ok(()),
            MemberState::Drain => return self.set(backend, name, "state drain", &[]).await,
            MemberState::Ready => {}
        }
        self.set(backend, name, "state drain", &[]).await?;
        if server.checked {
            self.set(backend, name, "health down", &[]).await?;
        }
        self.set(backend, name, "state ready", &[]).await
    }
}

#[async_trait::async_trait]
impl TrafficController for HaproxyRuntime {
    fn max_weight(&self) -> u32 {
        HAPROXY_MAX_WEIGHT
    }

    async fn apply(&self, backend: &str, members: &[Member]) -> Result<(), TrafficError> {
        crate::driver::validate_members(members, HAPROXY_MAX_WEIGHT)?;
        check_name(backend).map_err(|reason| TrafficError::Config(format!("backend {backend:?}: {reason}")))?;
        let mut targets = Vec::with_capacity(members.len());
        for member in members {
            check_name(&member.id).map_err(|reason| TrafficError::InvalidMember { id: member.id.clone(), reason })?;
            let (ip, port) = resolve(&member.address)
                .await
                .map_err(|reason| TrafficError::InvalidMember { id: member.id.clone(), reason })?;
            targets.push(Target { member, ip, port });
        }
        let servers = self.servers(backend).await?;
        let by_name: HashMap<&str, &Server> = servers.iter().map(|server| (server.name.as_str(), server)).collect();
        let mut known = Vec::with_capacity(targets.len());
        for target in &targets {
            let server = by_name.get(target.member.id.as_str()).ok_or_else(|| TrafficError::UnknownServer {
                backend: backend.to_owned(),
                server: target.member.id.clone(),
            })?;
            known.push((*server, target));
        }
        // Members that take traffic first, largest weight increase first; then those leaving rotation.
        known.sort_by_key(|(server, target)| {
            let ready = target.member.state == MemberState::Ready;
            (!ready, std::cmp::Reverse(i64::from(target.member.weight) - i64::from(server.weight)))
        });
        for (server, target) in known {
            let moved = server.ip != target.ip || server.port != target.port;
            if server.in_maint() || moved {
                self.bring_in(backend, server, target).await?;
                continue;
            }
            let name = target.member.id.as_str();
            self.set(backend, name, &format!("weight {}", target.member.weight), &[]).await?;
            let state = match target.member.state {
                MemberState::Ready => "state ready",
                MemberState::Drain => "state drain",
                MemberState::Maint => "state maint",
            };
            self.set(backend, name, state, &[]).await?;
        }
        // Servers not listed leave rotation; maintenance keeps HAProxy's existing sessions to them running.
        for server in &servers {
            if !server.in_maint() && !members.iter().any(|member| member.id == server.name) {
                self.set(backend, &server.name, "state maint", &[]).await?;
            }
        }
        Ok(())
    }

    /// Servers in maintenance with no session are the backend's unused slots and are left out.
    async fn status(&self, backend: &str) -> Result<Vec<MemberStatus>, TrafficError> {
        check_name(backend).map_err(|reason| TrafficError::Config(format!("backend {backend:?}: {reason}")))?;
        let servers = self.servers(backend).await?;
        let Some(backend_id) = servers.first().map(|server| server.backend_id) else { return Ok(Vec::new()) };
        let stats = self.command(&format!("show stat {backend_id} 4 -1")).await?;
        let stats = parse_stat(&stats).map_err(|message| self.protocol(message))?;
        let mut members = Vec::new();
        for server in servers {
            let (status, sessions) = stats.get(&server.name).cloned().unwrap_or_default();
            if server.in_maint() && sessions == 0 {
                continue;
            }
            let healthy = !server.in_maint()
                && ["UP", "DRAIN", "NOLB", "no check"].iter().any(|prefix| status.starts_with(prefix));
            let address = match server.ip.contains(':') {
                true => format!("[{}]:{}", server.ip, server.port),
                false => format!("{}:{}", server.ip, server.port),
            };
            members.push(MemberStatus {
                state: server.state(),
                id: server.name,
                address,
                weight: server.weight,
                healthy,
                in_flight: sessions,
            });
        }
        Ok(members)
    }
}

/// HAProxy names go into command lines: no spaces, slashes or separators.
fn check_name(name: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':');
    if name.is_empty() || !name.chars().all(allowed) {
        return Err("HAProxy names are letters, digits, '-', '_', '.' and ':'".into());
    }
    Ok(())
}

/// The Runtime API takes IP addresses: a host name is resolved now (its first address).
async fn resolve(address: &str) -> Result<(String, u16), String> {
    let (host, port) = split_address(address)?;
    if host.parse::<std::net::IpAddr>().is_ok() {
        return Ok((host, port));
    }
    let mut found = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|error| format!("cannot resolve {host:?}: {error}"))?;
    let first = found.next().ok_or_else(|| format!("{host:?} resolves to no address"))?;
    Ok((first.ip().to_string(), port))
}

/// `show servers state <backend>`: a version line, a `# be_id be_name …` header, one line per server.
fn parse_servers_state(answer: &str) -> Result<Vec<Server>, String> {
    let mut lines = answer.lines().filter(|line| !line.trim().is_empty());
    let version = lines.next().unwrap_or("");
    if version.trim() != "1" {
        return Err(format!("`show servers state` answered {:?}", answer.trim()));
    }
    let header: Vec<&str> = lines
        .next()
        .and_then(|line| line.strip_prefix('#'))
        .ok_or("`show servers state` has no header line")?
        .split_whitespace()
        .collect();
    let column = |name: &str| {
        header.iter().position(|field| *field == name).ok_or(format!("`show servers state` has no column {name}"))
    };
    let [backend_id, name, ip, admin, weight, check_state, port] =
        ["be_id", "srv_name", "srv_addr", "srv_admin_state", "srv_uweight", "srv_check_state", "srv_port"].map(column);
    let (backend_id, name, ip, admin) = (backend_id?, name?, ip?, admin?);
    let (weight, check_state, port) = (weight?, check_state?, port?);
    let mut servers = Vec::new();
    for line in lines {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let field = |index: usize| fields.get(index).copied().ok_or(format!("short server line {line:?}"));
        let number = |index: usize| -> Result<u32, String> {
            field(index)?.parse().map_err(|_| format!("bad number in server line {line:?}"))
        };
        servers.push(Server {
            backend_id: number(backend_id)?,
            name: field(name)?.to_owned(),
            ip: field(ip)?.to_owned(),
            port: field(port)?.parse().map_err(|_| format!("bad port in server line {line:?}"))?,
            admin: number(admin)?,
            weight: number(weight)?,
            checked: number(check_state)? & CHECK_CONFIGURED != 0,
        });
    }
    Ok(servers)
}

/// `show stat <backend id> 4 -1` (CSV): server name → (status, current sessions).
fn parse_stat(answer: &str) -> Result<HashMap<String, (String, u64)>, String> {
    let mut lines = answer.lines().filter(|line| !line.trim().is_empty());
    let header = lines
        .next()
        .and_then(|line| line.strip_prefix("# "))
        .ok_or_else(|| format!("`show stat` answered {:?}", answer.trim()))?;
    let header = split_csv(header);
    let column = |name: &str| header.iter().position(|field| field == name).ok_or(format!("`show stat` has no {name}"));
    let (name, status, sessions) = (column("svname")?, column("status")?, column("scur")?);
    let mut stats = HashMap::new();
    for line in lines {
        let fields = split_csv(line);
        let field = |index: usize| fields.get(index).cloned().ok_or(format!("short `show stat` line {line:?}"));
        let scur = field(sessions)?.parse().map_err(|_| format!("bad scur in `show stat` line {line:?}"))?;
        stats.insert(field(name)?, (field(status)?, scur));
    }
    Ok(stats)
}

/// HAProxy's CSV: fields with a comma or quote are quoted, quotes doubled.
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    fields.push(field);
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_state_is_read_by_column_name() {
        let answer = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight \
            srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health \
            srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord\n\
            3 web 1 blue 127.0.0.1 2 12 100 1 0 15 3 3 6 0 0 0 - 18081 -\n\
            3 web 2 green 0.0.0.0 0 5 1 1 4 1 0 0 14 0 0 0 - 0 -\n\n";
        let servers = parse_servers_state(answer).expect("parsed");
        assert_eq!(servers.len(), 2);
        assert_eq!((servers[0].name.as_str(), servers[0].port, servers[0].weight), ("blue", 18081, 100));
        assert_eq!(servers[0].state(), MemberState::Drain);
        assert_eq!(servers[1].state(), MemberState::Maint);
        assert!(servers[0].checked && servers[1].checked);
        assert!(parse_servers_state("Can't find backend.\n").is_err());
    }

    #[test]
    fn stat_csv_is_read_by_column_name_with_quoted_fields() {
        let answer = "# pxname,svname,qcur,qmax,scur,status,check_desc\n\
            web,blue,0,0,3,UP 1/2,\"Layer7 wrong status, code: 503\"\nweb,green,0,0,0,MAINT,\n";
        let stats = parse_stat(answer).expect("parsed");
        assert_eq!(stats["blue"], ("UP 1/2".to_owned(), 3));
        assert_eq!(stats["green"], ("MAINT".to_owned(), 0));
        assert_eq!(split_csv("a,\"b,\"\"c\"\"\",d"), ["a", "b,\"c\"", "d"]);
    }
}
