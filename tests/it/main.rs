//! Integration tests: the real executables against real temporary repositories.

mod install;
mod push;
mod util;
