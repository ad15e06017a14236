use clap::Parser;

fn main() {
    let cli = ahi_edge::cli::Cli::parse();
    let status = ahi_edge::run(cli);
    std::process::exit(status.code());
}
