fn main() -> std::process::ExitCode {
    fishbanks::cli::main()
}
