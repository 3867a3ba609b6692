//! The `fishbanks` command: argument parsing and calls into the library (see `cli`).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
