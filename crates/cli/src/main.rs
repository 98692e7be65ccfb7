//! `cutover`: the command-line client of a Cutover server. Everything lives in the library; see `cutover::main`.

fn main() -> std::process::ExitCode {
    cutover::main()
}
