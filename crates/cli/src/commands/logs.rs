//! `cutover deploy logs DEPLOYMENT [--instance NAME] [-f]`: the hook output of a deployment from every host, kept by
//! the server; with `-f`, streamed as the agents produce it until the deployment ends.
//!
//! Reads `GET /v1/deployments/{id}/logs` from cursor to cursor; following holds each request on the server until
//! there is new output (a long poll), so a line shows up a fraction of a second after a hook printed it.

use std::time::{Duration, Instant};

use clap::Args;
use cutover_api_types::agent::DeploymentLogs;

use super::Api;
use crate::error::{CliError, CliResult};
use crate::output;

pub(crate) const AFTER_HELP: &str = "\
Each line is printed as `[HOST EVENT] LINE`, where LINE is the line of the event's log as the agent wrote it
(`YYYY-MM-DD HH:MM:SS [stdout]…`), in the order the server received them.";

/// How long the server may hold one request while following.
const FOLLOW_WAIT_MS: u64 = 20_000;
/// How long `-f` keeps trying a server it cannot reach, and how often.
const UNREACHABLE_GRACE: Duration = Duration::from_secs(30);
const UNREACHABLE_RETRY: Duration = Duration::from_millis(500);

#[derive(Debug, Args)]
pub(crate) struct LogsArgs {
    /// The deployment (d-…).
    #[arg(value_name = "DEPLOYMENT")]
    pub(crate) deployment_id: String,
    /// Only this host's output.
    #[arg(long, value_name = "NAME")]
    pub(crate) instance: Option<String>,
    /// Keep printing output as it is produced, until the deployment ends.
    #[arg(short, long)]
    pub(crate) follow: bool,
}

pub(crate) async fn run(api: &Api, args: LogsArgs) -> CliResult<()> {
    let mut after = 0u64;
    let mut unreachable_since: Option<Instant> = None;
    loop {
        let wait_ms = if args.follow { FOLLOW_WAIT_MS } else { 0 };
        let mut path = format!("/v1/deployments/{}/logs?after={after}&wait_ms={wait_ms}", encode(&args.deployment_id));
        if let Some(instance) = &args.instance {
            path.push_str(&format!("&instance={}", encode(instance)));
        }
        let page: DeploymentLogs = match api.client().get_json(&path).await {
            Ok(page) => {
                unreachable_since = None;
                page
            }
            Err(error) => {
                let error = CliError::from(error);
                if !(args.follow && error.transient) {
                    return Err(error);
                }
                let since = *unreachable_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= UNREACHABLE_GRACE {
                    return Err(error);
                }
                tokio::time::sleep(UNREACHABLE_RETRY).await;
                continue;
            }
        };
        for chunk in &page.chunks {
            for line in chunk.text.lines() {
                output::line(format!("[{} {}] {line}", chunk.instance_name, chunk.lifecycle_event))?;
            }
        }
        after = page.next;
        // Without -f: everything stored so far, page after page, then stop.
        if page.complete || (!args.follow && page.chunks.is_empty()) {
            return Ok(());
        }
    }
}

/// Percent-encodes a path segment or query value (ids and instance names are plain, but be safe).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}
