//! `tenantry`: the server binary.

mod cli;
mod server;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    match cli.command {
        cli::Command::Version => {
            println!("tenantry {}", env!("CARGO_PKG_VERSION"));
            std::process::ExitCode::SUCCESS
        }
        cli::Command::Start(args) => match server::run(args) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("tenantry: {e}");
                std::process::ExitCode::FAILURE
            }
        },
    }
}
