//! Fuzzes the ledger parser and merge: no panic on any input, every UTF-8 input round-trips
//! byte for byte, and a clean merge never holds conflict markers.
//!
//! Input: one byte of settings (kind, receiving side), two little-endian u16 lengths, then base,
//! ours and theirs back to back (theirs takes the rest).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use mainstay::ledger::{Context, Kind, Options, Prepared, Side};

static PREPARED: LazyLock<Prepared> =
    LazyLock::new(|| Prepared::new(&Options::default()).expect("default options compile"));

fuzz_target!(|data: &[u8]| {
    let Some((&settings, rest)) = data.split_first() else {
        return;
    };
    let (Some(a), Some(b)) = (rest.get(..2), rest.get(2..4)) else {
        return;
    };
    let rest = &rest[4..];
    let len_a = usize::from(u16::from_le_bytes([a[0], a[1]])).min(rest.len());
    let (base, rest) = rest.split_at(len_a);
    let len_b = usize::from(u16::from_le_bytes([b[0], b[1]])).min(rest.len());
    let (ours, theirs) = rest.split_at(len_b);

    let kind = if settings & 1 == 0 { Kind::ROADMAP } else { Kind::SESSIONS };
    let receiving = if settings & 2 == 0 { Side::Ours } else { Side::Theirs };
    for text in [base, ours, theirs] {
        if let Ok(text) = std::str::from_utf8(text) {
            let back = PREPARED.round_trip(text, kind);
            assert!(back == text, "parse and render must give the input back");
        }
    }
    let context = Context {
        kind,
        receiving,
        marker_size: 7,
    };
    let outcome = PREPARED.merge(base, ours, theirs, &context);
    if outcome.is_clean() {
        let marked = outcome
            .text
            .split(|&b| b == b'\n')
            .any(|l| l.starts_with(b"<<<<<<<") || l.starts_with(b">>>>>>>"));
        assert!(!marked, "a clean merge holds conflict markers");
    }
});
