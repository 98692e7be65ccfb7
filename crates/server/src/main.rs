//! `cutover-server`: parses flags and runs the control plane.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = cutover_server::Config::parse();
    cutover_server::init_tracing(config.log_format);
    cutover_server::run(config, cutover_server::shutdown_signal()).await
}
