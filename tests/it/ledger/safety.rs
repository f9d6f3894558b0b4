//! Never lose data: what the merge does with input it cannot or must not merge as records.

use mainstay::ledger::{Context, Fallback, Kind, Options, Outcome, merge};

fn run(base: &[u8], ours: &[u8], theirs: &[u8]) -> Outcome {
    merge(
        base,
        ours,
        theirs,
        &Context::new(Kind::ROADMAP),
        &Options::default(),
    )
    .unwrap()
}

const BASE: &str = "# R\n\n| Task | S |\n|---|---|\n| ST-001 | a |\n";

#[test]
fn non_utf8_input_falls_back_to_a_line_merge_that_is_never_clean() {
    let ours = format!("{BASE}| ST-002 | \u{e9} |\n").replace('\u{e9}', "\u{1}");
    let mut ours = ours.into_bytes();
    ours.push(0xff);
    ours.push(b'\n');
    let theirs = format!("{BASE}| ST-003 | c |\n");
    let outcome = run(BASE.as_bytes(), &ours, theirs.as_bytes());
    assert_eq!(outcome.fallback, Some(Fallback::NotText));
    assert!(!outcome.is_clean());
    let text = String::from_utf8_lossy(&outcome.text);
    assert!(text.contains("ST-002") && text.contains("ST-003"), "{text}");
}

#[test]
fn nul_bytes_count_as_binary() {
    let ours = format!("{BASE}| ST-002 | \0 |\n");
    let theirs = format!("{BASE}| ST-003 | c |\n");
    let outcome = run(BASE.as_bytes(), ours.as_bytes(), theirs.as_bytes());
    assert_eq!(outcome.fallback, Some(Fallback::NotText));
}

#[test]
fn markers_already_present_fall_back_even_when_a_side_is_unchanged() {
    let theirs = format!("{BASE}<<<<<<< ours\n| ST-002 | b |\n=======\n>>>>>>> theirs\n");
    let outcome = run(BASE.as_bytes(), BASE.as_bytes(), theirs.as_bytes());
    assert_eq!(outcome.fallback, Some(Fallback::Markers));
    assert!(!outcome.is_clean());
    assert_eq!(
        outcome.text,
        theirs.as_bytes(),
        "the line merge still takes their change"
    );
}

#[test]
fn a_row_both_sides_moved_to_different_tables_is_a_conflict_not_a_duplicate() {
    let base = "## A\n\n| Task | S |\n|---|---|\n| ST-001 | a |\n\n## B\n\n| Task | S |\n|---|---|\n\n## C\n\n| Task | S |\n|---|---|\n";
    let ours = "## A\n\n| Task | S |\n|---|---|\n\n## B\n\n| Task | S |\n|---|---|\n| ST-001 | a |\n\n## C\n\n| Task | S |\n|---|---|\n";
    let theirs = "## A\n\n| Task | S |\n|---|---|\n\n## B\n\n| Task | S |\n|---|---|\n\n## C\n\n| Task | S |\n|---|---|\n| ST-001 | a |\n";
    let outcome = run(base.as_bytes(), ours.as_bytes(), theirs.as_bytes());
    assert!(!outcome.is_clean());
    let text = String::from_utf8(outcome.text).unwrap();
    assert_eq!(
        text,
        "## A\n\n| Task | S |\n|---|---|\n\n## B\n\n| Task | S |\n|---|---|\n| ST-001 | a |\n\n## C\n\n| Task | S |\n|---|---|\n<<<<<<< ours\n=======\n| ST-001 | a |\n>>>>>>> theirs\n"
    );
}

#[test]
fn a_row_deleted_on_one_side_and_untouched_on_the_other_is_deleted() {
    let base = format!("{BASE}| ST-002 | b |\n");
    let theirs = format!("{base}| ST-003 | c |\n");
    let outcome = run(base.as_bytes(), BASE.as_bytes(), theirs.as_bytes());
    assert!(outcome.is_clean());
    assert_eq!(
        String::from_utf8(outcome.text).unwrap(),
        format!("{BASE}| ST-003 | c |\n")
    );
}

#[test]
fn a_missing_final_newline_never_glues_two_entries() {
    let base = "- Session-20260101-A-aaaaaa: a";
    let ours = "- Session-20260101-A-aaaaaa: a\n- Session-20260102-B-bbbbbb: b";
    let theirs = "- Session-20260101-A-aaaaaa: a\n- Session-20260103-C-cccccc: c";
    let outcome = merge(
        base.as_bytes(),
        ours.as_bytes(),
        theirs.as_bytes(),
        &Context::new(Kind::SESSIONS),
        &Options::default(),
    )
    .unwrap();
    assert!(outcome.is_clean());
    assert_eq!(
        String::from_utf8(outcome.text).unwrap(),
        "- Session-20260101-A-aaaaaa: a\n- Session-20260102-B-bbbbbb: b\n- Session-20260103-C-cccccc: c"
    );
}

/// Found by `crlf_in_crlf_out` at 10,000 cases: a list deleted on one side used to turn the
/// section into a line merge, which kept a row the other side had moved away twice.
#[test]
fn a_list_deleted_beside_a_table_another_side_changed_merges_as_records() {
    let table = |rows: &[&str]| {
        let mut t = "| Task | S |\n|---|---|\n".to_owned();
        for row in rows {
            t.push_str(&format!("| {row} | open |\n"));
        }
        t
    };
    let doc = |a: &[&str], c: &[&str], list: bool| {
        let list = if list { "\n- [ ] IT-0008 open\n" } else { "" };
        format!(
            "## SEC-0001: a\n\n{}\n## SEC-0003: c\n\n{}{list}",
            table(a),
            table(c)
        )
    };
    let base = doc(&[], &["ST-0004", "ST-0006", "ST-0007"], true);
    let ours = doc(&["ST-0006"], &["ST-0004", "ST-0007"], true);
    let theirs = doc(&[], &["ST-0004", "ST-0007", "ST-0006"], false);
    let outcome = run(base.as_bytes(), ours.as_bytes(), theirs.as_bytes());
    assert!(outcome.is_clean(), "{outcome:?}");
    let text = String::from_utf8(outcome.text).unwrap();
    assert_eq!(text, doc(&["ST-0006"], &["ST-0004", "ST-0007"], false));
}
