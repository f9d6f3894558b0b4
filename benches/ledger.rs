//! Ledger merge benchmarks: `cargo bench --bench ledger`.
//!
//! - `roadmap/*`: the real 7,346-line roadmap with a few hundred entries changed on each side,
//!   merged by the library in process, by the `merge-driver` executable, and by
//!   `git merge-file` on the same three files, side by side.
//! - `synthetic/*`: generated ledgers of 10,000 and 100,000 entries (1% edited and a few rows
//!   added on each side), merged by the library and by the executable, to show the time for
//!   100k and how it grows with 10x the entries.
//!
//! `LEDGER_BENCH_WRITE=<dir>` also writes each input there (`<dir>/{roadmap,10000,100000}/`
//! `{base,ours,theirs}.md`), for `benches/ledger_memory.py`, which measures the driver's peak
//! memory on them.

use std::hint::black_box;
use std::path::Path;
use std::process::Command;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use mainstay::ledger::{Context, Kind, Options, Prepared};

const DRIVER: &str = env!("CARGO_BIN_EXE_merge-driver");

/// Appends `suffix` to the content of cell `column` of a table row.
fn edit_cell(line: &str, column: usize, suffix: &str) -> String {
    let mut cells: Vec<String> = line.split('|').map(str::to_owned).collect();
    if let Some(cell) = cells.get_mut(column + 1) {
        let trimmed = cell.trim_end().len();
        cell.insert_str(trimmed, suffix);
    }
    cells.join("|")
}

/// The real roadmap with every third table row edited (ours and theirs different rows and
/// cells), every other unticked box ticked by ours, and rows appended to the first table by both.
/// Header rows stay as they are: they are no entries, and a renamed column is another story.
fn roadmap_sides(base: &str) -> (String, String) {
    let (mut ours, mut theirs) = (String::new(), String::new());
    let (mut row, mut boxes, mut appended) = (0, 0, false);
    let lines: Vec<&str> = base.split_inclusive('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let separator = |l: &str| {
            l.starts_with('|') && l.contains('-') && l.trim().bytes().all(|b| b"|:- ".contains(&b))
        };
        let header = lines.get(i + 1).is_some_and(|next| separator(next));
        let is_row = line.starts_with("| ") && !separator(line) && !header;
        let (mut o, mut t) = (line.to_string(), line.to_string());
        if is_row {
            row += 1;
            match row % 3 {
                1 => o = edit_cell(line, 1, " (ours)"),
                2 => t = edit_cell(line, 2, " (theirs)"),
                _ => {}
            }
        }
        if line.starts_with("- [ ] ") {
            boxes += 1;
            if boxes % 2 == 0 {
                o = line.replacen("- [ ] ", "- [x] ", 1);
            }
        }
        ours.push_str(&o);
        theirs.push_str(&t);
        if line.starts_with("| INFRA-014 ") && !appended {
            appended = true;
            ours.push_str("| INFRA-015 | Add Request Tracing | 🔴 OPEN | - |\n");
            theirs.push_str("| INFRA-016 | Rotate Deploy Keys | 🔴 OPEN | - |\n");
        }
    }
    (ours, theirs)
}

/// A ledger of `entries` rows in sections of 100, and two sides that each edit 1% of the rows
/// and add a row to ten sections.
fn synthetic(entries: usize) -> [String; 3] {
    let sections = entries.div_ceil(100);
    let mut sides = [String::new(), String::new(), String::new()];
    for side in &mut sides {
        side.push_str("# Synthetic roadmap\n\n**Version:** 1.0\n");
    }
    for s in 0..sections {
        for side in &mut sides {
            side.push_str(&format!(
                "\n## Area {s}\n\n| Task | Description | Status | Done |\n|---|---|---|---|\n"
            ));
        }
        for r in 0..100.min(entries - s * 100) {
            let n = s * 100 + r;
            let row =
                format!("| ST-{n:07} | Task number {n} of the synthetic ledger | open | - |\n");
            sides[0].push_str(&row);
            sides[1].push_str(&if n % 100 == 7 {
                row.replace("open", "done")
            } else {
                row.clone()
            });
            sides[2].push_str(&if n % 100 == 42 {
                row.replace("| - |", "| 2026 |")
            } else {
                row
            });
        }
        if s % (sections / 10).max(1) == 0 {
            sides[1].push_str(&format!("| OU-{s:07} | Added by ours | open | - |\n"));
            sides[2].push_str(&format!("| TH-{s:07} | Added by theirs | open | - |\n"));
        }
    }
    sides
}

fn write_inputs(dir: &Path, [base, ours, theirs]: &[String; 3]) {
    std::fs::create_dir_all(dir).expect("bench input directory");
    for (name, text) in [("base.md", base), ("ours.md", ours), ("theirs.md", theirs)] {
        std::fs::write(dir.join(name), text).expect("bench input file");
    }
}

/// Runs a merge executable in `dir`, as git would; its output's length, so that none is skipped.
fn run_in(dir: &Path, program: &str, args: &[&str]) -> usize {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run the merge");
    assert!(
        out.status.code().is_some_and(|c| c < 128),
        "{program}: {out:?}"
    );
    black_box(out.stdout.len())
}

const BY_HAND: [&str; 5] = ["roadmap", "--stdout", "base.md", "ours.md", "theirs.md"];

fn roadmap(c: &mut Criterion) {
    let base = include_str!("../tests/fixtures/ledger/real/roadmap-tables-and-sections.md");
    let (ours, theirs) = roadmap_sides(base);
    let dir = tempfile::tempdir().expect("temp dir");
    let sides = [base.to_owned(), ours, theirs];
    write_inputs(dir.path(), &sides);
    if let Some(out) = std::env::var_os("LEDGER_BENCH_WRITE") {
        write_inputs(&Path::new(&out).join("roadmap"), &sides);
    }
    let prepared = Prepared::new(&Options::default()).expect("default options compile");
    let context = Context::new(Kind::ROADMAP);
    let [base, ours, theirs] = &sides;
    let outcome = prepared.merge(
        base.as_bytes(),
        ours.as_bytes(),
        theirs.as_bytes(),
        &context,
    );
    assert!(
        outcome.is_clean(),
        "the roadmap merge is clean: {:?}",
        outcome.conflicts
    );

    let mut group = c.benchmark_group("roadmap");
    group.bench_function("library", |b| {
        b.iter(|| {
            let [base, ours, theirs] = &sides;
            black_box(prepared.merge(
                base.as_bytes(),
                ours.as_bytes(),
                theirs.as_bytes(),
                &context,
            ))
        });
    });
    let run = |program: &str, args: &[&str]| run_in(dir.path(), program, args);
    group.bench_function("merge-driver", |b| b.iter(|| run(DRIVER, &BY_HAND)));
    group.bench_function("git merge-file", |b| {
        b.iter(|| {
            run(
                "git",
                &["merge-file", "-p", "ours.md", "base.md", "theirs.md"],
            )
        });
    });
    group.finish();
}

fn synthetic_sizes(c: &mut Criterion) {
    let prepared = Prepared::new(&Options::default()).expect("default options compile");
    let context = Context::new(Kind::ROADMAP);
    let mut group = c.benchmark_group("synthetic");
    group.sample_size(10);
    for entries in [10_000, 100_000] {
        let sides = synthetic(entries);
        let dir = tempfile::tempdir().expect("temp dir");
        write_inputs(dir.path(), &sides);
        if let Some(out) = std::env::var_os("LEDGER_BENCH_WRITE") {
            write_inputs(&Path::new(&out).join(entries.to_string()), &sides);
        }
        let outcome = prepared.merge(
            sides[0].as_bytes(),
            sides[1].as_bytes(),
            sides[2].as_bytes(),
            &context,
        );
        assert!(outcome.is_clean(), "the synthetic merge is clean");
        group.bench_with_input(BenchmarkId::from_parameter(entries), &sides, |b, sides| {
            let [base, ours, theirs] = sides;
            b.iter(|| {
                black_box(prepared.merge(
                    base.as_bytes(),
                    ours.as_bytes(),
                    theirs.as_bytes(),
                    &context,
                ))
            });
        });
        let id = BenchmarkId::new("merge-driver", entries);
        group.bench_function(id, |b| b.iter(|| run_in(dir.path(), DRIVER, &BY_HAND)));
    }
    group.finish();
}

criterion_group!(benches, roadmap, synthetic_sizes);
criterion_main!(benches);
