//! The `pitstop` command line, built inside the test package so end-to-end tests can run it
//! as a child process (and kill it) via `CARGO_BIN_EXE_pitstop-cli`.

fn main() -> anyhow::Result<()> {
    pitstop_core::cli::main()
}
