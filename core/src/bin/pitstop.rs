//! `pitstop`: Pitstop from a terminal (see `pitstop_core::cli`).

fn main() -> anyhow::Result<()> {
    pitstop_core::cli::main()
}
