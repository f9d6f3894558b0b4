//! Integration tests: the real executables against real temporary repositories.
