//! Integration tests: the real executables against real temporary repositories.

mod install;
mod ledger;
mod push;
mod util;
