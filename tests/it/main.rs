//! Integration tests: the real executables against real temporary repositories.

mod http;
mod install;
mod monitor;
mod push;
mod status;
mod util;
