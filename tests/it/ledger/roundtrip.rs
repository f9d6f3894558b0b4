//! Parsing loses nothing: every real ledger renders back byte for byte, CRLF included.

use std::path::Path;

use mainstay::ledger::{Kind, Options, Prepared};

fn real_files() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ledger/real");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    files.sort();
    assert!(
        files.len() >= 7,
        "real ledgers missing from {}",
        dir.display()
    );
    files
}

#[test]
fn every_real_ledger_round_trips_byte_for_byte() {
    let prepared = Prepared::new(&Options::default()).unwrap();
    for (name, text) in real_files() {
        for kind in [Kind::ROADMAP, Kind::SESSIONS] {
            let back = prepared.round_trip(&text, kind);
            assert!(back == text, "{name} ({kind:?}) does not round-trip");
        }
    }
}

#[test]
fn crlf_ledgers_round_trip_byte_for_byte() {
    let prepared = Prepared::new(&Options::default()).unwrap();
    for (name, text) in real_files() {
        let crlf = text.replace('\n', "\r\n");
        let back = prepared.round_trip(&crlf, Kind::ROADMAP);
        assert!(back == crlf, "{name} with CRLF does not round-trip");
    }
}
