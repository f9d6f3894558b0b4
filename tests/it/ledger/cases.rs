//! Real-format merge cases: `tests/fixtures/ledger/<kind>/<case>/{base,ours,theirs,expected}.md`,
//! one test per directory, each also run with CRLF line endings and with the sides swapped and
//! `%B` receiving (what `git pull` hands the driver), which must give the same file. Beside each case,
//! `git-merge-file.md` shows what a plain line merge makes of it.
//!
//! A known gap keeps `expected-currently.md` (what the merge gives today, checked) beside
//! `expected-ideally.md` (what it should give, documented), rather than an ignored test.
//!
//! `LEDGER_BLESS=1` rewrites the expected file from the current result; review the diff before
//! committing it.

use std::path::{Path, PathBuf};

use mainstay::ledger::{Context, Kind, Options, Side, merge};

fn dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ledger")
        .join(case)
}

fn run(case: &str) {
    let dir = dir(case);
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name))
            .unwrap_or_else(|e| panic!("{}/{name}: {e}", dir.display()))
    };
    let kind: Kind = case.split('/').next().unwrap().parse().unwrap();
    let (base, ours, theirs) = (read("base.md"), read("ours.md"), read("theirs.md"));
    let context = Context::new(kind);
    let outcome = merge(
        base.as_bytes(),
        ours.as_bytes(),
        theirs.as_bytes(),
        &context,
        &Options::default(),
    )
    .unwrap();
    let got = String::from_utf8(outcome.text.clone()).unwrap();
    let expected_name = if dir.join("expected-currently.md").exists() {
        assert!(
            dir.join("expected-ideally.md").exists(),
            "{case}: the ideal is documented"
        );
        "expected-currently.md"
    } else {
        "expected.md"
    };
    if std::env::var_os("LEDGER_BLESS").is_some() {
        std::fs::write(dir.join(expected_name), &got).unwrap();
    }
    let expected = read(expected_name);
    assert!(
        got == expected,
        "{case}: merge differs from expected.md:\n{got}"
    );
    let marked = expected.contains("<<<<<<<");
    assert_eq!(
        outcome.is_clean(),
        !marked,
        "{case}: {:?}",
        outcome.conflicts
    );

    // `git pull` hands the driver the same two sides swapped, with the receiving side as %B.
    let pulled = merge(
        base.as_bytes(),
        theirs.as_bytes(),
        ours.as_bytes(),
        &Context {
            receiving: Side::Theirs,
            ..context.clone()
        },
        &Options::default(),
    )
    .unwrap();
    if !marked {
        assert!(
            pulled.text == expected.as_bytes(),
            "{case}: the sides swapped, receiving %B, give another file:\n{}",
            String::from_utf8_lossy(&pulled.text)
        );
    }
    assert_eq!(pulled.is_clean(), !marked, "{case}: swapped");

    let crlf = |s: &str| s.replace('\n', "\r\n");
    let outcome = merge(
        crlf(&base).as_bytes(),
        crlf(&ours).as_bytes(),
        crlf(&theirs).as_bytes(),
        &context,
        &Options::default(),
    )
    .unwrap();
    assert!(
        outcome.text == crlf(&expected).as_bytes(),
        "{case}: CRLF merge differs:\n{}",
        String::from_utf8_lossy(&outcome.text)
    );
}

macro_rules! cases {
    ($($test:ident: $case:literal,)*) => {
        $(
            #[test]
            fn $test() {
                run($case);
            }
        )*

        const CASES: &[&str] = &[$($case),*];
    };
}

cases! {
    roadmap_two_agents_append_rows: "roadmap/two-agents-append-rows",
    roadmap_both_edit_different_cells: "roadmap/both-edit-different-cells",
    roadmap_both_change_same_status: "roadmap/both-change-same-status",
    roadmap_repadded_table_plus_new_row: "roadmap/repadded-table-plus-new-row",
    roadmap_tick_a_box_and_add_a_box: "roadmap/tick-a-box-and-add-a-box",
    roadmap_both_add_a_section_at_the_same_place: "roadmap/both-add-a-section-at-the-same-place",
    roadmap_delete_on_one_side_edit_on_the_other: "roadmap/delete-on-one-side-edit-on-the-other",
    roadmap_both_bump_version_date_and_totals: "roadmap/both-bump-version-date-and-totals",
    roadmap_both_add_a_row_and_bump_the_total: "roadmap/both-add-a-row-and-bump-the-total",
    roadmap_both_make_the_same_change: "roadmap/both-make-the-same-change",
    sessions_both_append_bullets_at_the_end: "sessions/both-append-bullets-at-the-end",
    sessions_move_on_one_side_edit_on_the_other: "sessions/move-on-one-side-edit-on-the-other",
    sessions_move_on_one_side_edit_a_column_the_target_lacks:
        "sessions/move-on-one-side-edit-a-column-the-target-lacks",
    sessions_two_agents_register_sessions: "sessions/two-agents-register-sessions",
    sessions_notes_status_and_progress: "sessions/notes-status-and-progress",
    sessions_pull_and_pull_rebase: "sessions/pull-and-pull-rebase",
    markdown_both_add_under_one_heading: "markdown/both-add-under-one-heading",
    markdown_both_edit_one_entry: "markdown/both-edit-one-entry",
    markdown_release_cut_while_another_adds: "markdown/release-cut-while-another-adds",
    markdown_release_redated_while_another_adds: "markdown/release-redated-while-another-adds",
    markdown_heading_renamed_while_another_adds: "markdown/heading-renamed-while-another-adds",
    markdown_heading_rewritten_while_another_adds: "markdown/heading-rewritten-while-another-adds",
    markdown_heading_relevelled_while_another_adds:
        "markdown/heading-relevelled-while-another-adds",
    markdown_both_open_unreleased_after_a_release:
        "markdown/both-open-unreleased-after-a-release",
    markdown_heading_spelling_variants_are_one_section:
        "markdown/heading-spelling-variants-are-one-section",
    markdown_heading_level_fixed_on_a_section_both_added:
        "markdown/heading-level-fixed-on-a-section-both-added",
    markdown_nested_bullets_are_entries: "markdown/nested-bullets-are-entries",
    markdown_formatting_pass_plus_an_addition: "markdown/formatting-pass-plus-an-addition",
    markdown_formatting_pass_to_atx_headings_plus_an_addition:
        "markdown/formatting-pass-to-atx-headings-plus-an-addition",
    markdown_newest_first_with_blank_lines_between_entries:
        "markdown/newest-first-with-blank-lines-between-entries",
    markdown_malformed_unclosed_code_fence: "markdown/malformed-unclosed-code-fence",
    markdown_malformed_table_inside_a_list: "markdown/malformed-table-inside-a-list",
    markdown_real_keep_a_changelog_0a3033a75698: "markdown/real-keep-a-changelog-0a3033a75698",
    markdown_real_keep_a_changelog_dc6384c994a3: "markdown/real-keep-a-changelog-dc6384c994a3",
    markdown_tick_a_todo_and_add_one: "markdown/tick-a-todo-and-add-one",
    markdown_edit_on_one_side_delete_on_the_other:
        "markdown/edit-on-one-side-delete-on-the-other",
}

#[test]
fn every_case_directory_has_a_test() {
    let mut found = Vec::new();
    for kind in Kind::all().map(Kind::name) {
        for entry in std::fs::read_dir(dir(kind)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            found.push(format!("{kind}/{name}"));
        }
    }
    found.sort();
    let mut listed: Vec<_> = CASES.iter().map(|c| c.to_string()).collect();
    listed.sort();
    assert_eq!(found, listed, "add new case directories to `cases!`");
}
