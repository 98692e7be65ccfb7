//! `cutover-router`: the built-in weighted HTTP router (docs/traffic.md).

use std::path::PathBuf;

use clap::Parser;

#[derive(Parser)]
#[command(
    version,
    about = "Cutover's built-in traffic router: weighted pools of HTTP upstreams, changed through a control API"
)]
struct Args {
    /// The configuration file (TOML): `[control]` and one `[[pool]]` per pool.
    #[arg(long)]
    config: PathBuf,
    /// Once listening, write the bound addresses here as JSON (`{"control": …, "pools": {name: addr}}`).
    #[arg(long)]
    ready_file: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let settings = cutover_router::config::Settings::load(&args.config)?;
    cutover_router::service::run(settings, args.ready_file.as_deref()).await?;
    Ok(())
}
