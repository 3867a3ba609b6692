//! The `fishbanks` command: argument parsing and calls into the library (see `cli`).

mod cli;

/// Every call builds and drops a prompt, a payload and an answer: mimalloc's
/// thread-local free lists make that a fraction of what glibc's malloc costs (measured
/// with `bench/llm-sweep.sh`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
