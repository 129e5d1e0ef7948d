//! `tenantry`: the server binary.

mod cli;
mod jobs_cli;
mod server;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    match cli.command {
        cli::Command::Version => {
            println!("tenantry {}", env!("CARGO_PKG_VERSION"));
            std::process::ExitCode::SUCCESS
        }
        cli::Command::Jobs(args) => match jobs_cli::run(&args) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("tenantry: {e}");
                std::process::ExitCode::FAILURE
            }
        },
        cli::Command::Cert(cli::CertCommand::Create(args)) => {
            match tenantry_net::tls::create_certificates(&args.dir, &args.hosts) {
                Ok(()) => {
                    println!(
                        "wrote {0}/ca.crt, {0}/ca.key, {0}/server.crt and {0}/server.key",
                        args.dir.display()
                    );
                    std::process::ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("tenantry: {e}");
                    std::process::ExitCode::FAILURE
                }
            }
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
