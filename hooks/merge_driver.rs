//! `merge-driver <kind> %O %A %B %L %P`: placeholder until the ledger merge lands.
fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(1)
}
