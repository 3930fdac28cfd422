//! The `sightline` command line.

fn main() -> std::process::ExitCode {
    sightline_cli::main()
}

#[path = "cli/mod.rs"]
mod sightline_cli;
