//! The built-in `cutover-router`, started for end-to-end tests: pools on port 0 with a fast `/health` check.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::{binary, wait_for};

/// The control token of test routers (the router wants at least 16 characters).
pub const TOKEN: &str = "test-router-token-0123456789";

/// A running `cutover-router`, killed when dropped.
pub struct RouterProc {
    child: Child,
    /// `http://127.0.0.1:<port>` of the control API.
    pub control_url: String,
    /// Each pool's bound address.
    pub pools: HashMap<String, String>,
}

impl RouterProc {
    /// Starts a router with `pools`, each health-checked on `/health` every 100 ms; a member is healthy after
    /// `healthy_threshold` passes.
    pub async fn start(dir: &Path, pools: &[&str], healthy_threshold: u32) -> RouterProc {
        let mut config = format!("[control]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n");
        for pool in pools {
            config.push_str(&format!(
                "\n[[pool]]\nname = \"{pool}\"\nlisten = \"127.0.0.1:0\"\n[pool.health_check]\npath = \"/health\"\n\
                 interval_ms = 100\ntimeout_ms = 500\nhealthy_threshold = {healthy_threshold}\nunhealthy_threshold = 2\n"
            ));
        }
        let config_path = dir.join("router.toml");
        std::fs::write(&config_path, config).expect("router config");
        let ready = dir.join("router-ready.json");
        let log = std::fs::File::create(dir.join("router.log")).expect("router log");
        let child = Command::new(binary("cutover-router"))
            .arg("--config")
            .arg(&config_path)
            .arg("--ready-file")
            .arg(&ready)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn cutover-router");
        let ready: serde_json::Value = wait_for("the router to listen", Duration::from_secs(20), || {
            let ready = ready.clone();
            async move { std::fs::read_to_string(ready).ok().and_then(|text| serde_json::from_str(&text).ok()) }
        })
        .await;
        let control_url = format!("http://{}", ready["control"].as_str().expect("control address"));
        let pools = pools
            .iter()
            .map(|pool| (pool.to_string(), ready["pools"][*pool].as_str().expect("pool address").to_owned()))
            .collect();
        RouterProc { child, control_url, pools }
    }

    /// `http://<pool address>/`, where a load goes.
    pub fn url(&self, pool: &str) -> String {
        format!("http://{}/", self.pools[pool])
    }

    /// The `[target_group.router]` table of a server's traffic file for this router.
    pub fn server_config(&self) -> String {
        format!("kind = \"builtin\"\ncontrol_url = \"{}\"\ntoken = \"{TOKEN}\"\n", self.control_url)
    }
}

impl Drop for RouterProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
