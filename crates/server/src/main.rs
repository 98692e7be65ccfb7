//! `cutover-server`: reads its configuration (flags, `CUTOVER_*` variables, TOML file) and runs the control plane.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = match cutover_server::settings::load(std::env::args_os().collect()) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    cutover_server::init_tracing(config.log_format);
    cutover_server::run(config, cutover_server::shutdown_signal()).await
}
