//! The ledger merge driver: fixture cases, round trips, properties and real git merges.

mod cases;
mod git;
mod props;
mod roundtrip;
mod safety;
mod swarm;
