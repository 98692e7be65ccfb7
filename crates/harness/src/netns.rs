//! Network namespaces for partition tests: one namespace per simulated host, joined to the host by a veth pair.
//!
//! `partition()` takes the host end of the link down (packets in both directions are dropped, connections hang
//! rather than being refused, as in a real partition); `heal()` brings it back. Needs root (`ip netns`).

use std::process::Command;

/// A namespace with a veth link to the host namespace.
pub struct Netns {
    pub name: String,
    host_if: String,
    /// Address of the host end, reachable from inside the namespace.
    pub host_ip: String,
    /// Address of the namespace end.
    pub ns_ip: String,
}

fn ip(args: &[&str]) {
    let status = Command::new("ip").args(args).status().expect("run ip");
    assert!(status.success(), "ip {} failed (the partition tests need root and iproute2)", args.join(" "));
}

impl Netns {
    /// Creates a namespace whose name and /30 subnet derive from this process id, so parallel test processes
    /// never collide.
    pub fn create(index: u8) -> Netns {
        let pid = std::process::id();
        let tag = format!("{}{}", pid % 100_000, index);
        let name = format!("cutover-{tag}");
        let host_if = format!("cvh{tag}");
        let ns_if = format!("cvn{tag}");
        let (a, b) = (((pid >> 6) & 0xff) as u8, ((pid & 0x3f) as u8) << 2);
        let host_ip = format!("10.{}.{a}.{}", 100 + index, b + 1);
        let ns_ip = format!("10.{}.{a}.{}", 100 + index, b + 2);
        let _ = Command::new("ip").args(["netns", "del", &name]).status();
        ip(&["netns", "add", &name]);
        ip(&["link", "add", &host_if, "type", "veth", "peer", "name", &ns_if]);
        ip(&["link", "set", &ns_if, "netns", &name]);
        ip(&["addr", "add", &format!("{host_ip}/30"), "dev", &host_if]);
        ip(&["link", "set", &host_if, "up"]);
        ip(&["netns", "exec", &name, "ip", "addr", "add", &format!("{ns_ip}/30"), "dev", &ns_if]);
        ip(&["netns", "exec", &name, "ip", "link", "set", &ns_if, "up"]);
        ip(&["netns", "exec", &name, "ip", "link", "set", "lo", "up"]);
        Netns { name, host_if, host_ip, ns_ip }
    }

    /// Cuts the link in both directions.
    pub fn partition(&self) {
        ip(&["link", "set", &self.host_if, "down"]);
    }

    /// Restores the link.
    pub fn heal(&self) {
        ip(&["link", "set", &self.host_if, "up"]);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", &self.host_if]).status();
        let _ = Command::new("ip").args(["netns", "del", &self.name]).status();
    }
}
