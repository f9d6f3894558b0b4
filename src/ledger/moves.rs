//! Rows moved to another table on one side and edited in place on the other.
//!
//! Before the entry-by-entry merge, such an edit is carried over to the row's new place: the
//! mover's row gets the editor's changed cells (matched by column header), and the editor's
//! stale copy is taken out, so the merge sees a move and no edit against a delete. Where a
//! changed column has no counterpart in the new table, or both sides changed the same cell,
//! nothing is carried and the merge reports the delete/edit conflict as usual. A row both sides
//! moved to different places is contested: theirs' copy is put between conflict markers (against
//! nothing on our side), so the result shows our move and offers theirs.

use super::hash::{Map, Set};
use super::lines::Markers;
use super::model::{Doc, Row, Table};
use super::table::{Style, line_end, width, write_row};

/// A row located in one version: its table's place, its table and itself.
type Located<'d, 'a> = (&'d str, &'d Table<'a>, &'d Row<'a>);

/// What the merge needs to know about moved rows.
#[derive(Debug, Default)]
pub(crate) struct Moves {
    /// `ours` and `theirs` rewritten so that edits follow moved rows; `None` if none did.
    pub(crate) rewritten: Option<[String; 2]>,
    /// IDs of rows both sides moved, to different places.
    pub(crate) contested: Vec<Box<str>>,
}

pub(crate) fn follow(docs: &[Doc; 3], ours: &str, theirs: &str, markers: Markers) -> Moves {
    let tables = [&docs[0], &docs[1], &docs[2]].map(Doc::tables);
    if !may_have_moved(&tables) {
        return Moves::default();
    }
    let [base, ours_rows, theirs_rows] =
        [&tables[0], &tables[1], &tables[2]].map(|t| rows_by_id(t));
    let mut edits: [Vec<(&str, String)>; 2] = [Vec::new(), Vec::new()];
    let mut contested = Vec::new();
    let base_rows = base
        .iter()
        .filter_map(|(id, row)| Some((id, row.as_ref()?)));
    for (id, (place, table, row)) in base_rows {
        let (Some(o), Some(t)) = (unique(&ours_rows, id), unique(&theirs_rows, id)) else {
            continue;
        };
        if o.0 != *place && t.0 != *place && o.0 != t.0 {
            let mut block = Vec::new();
            markers.write::<&[u8]>(&[], &[t.2.line.as_bytes()], &mut block);
            let block = String::from_utf8(block).expect("markers around a UTF-8 line are UTF-8");
            edits[1].push((t.2.line, block));
            contested.push(Box::from(*id));
            continue;
        }
        for (mover, editor, m, e) in [(0, 1, o, t), (1, 0, t, o)] {
            let edited_in_place = || e.0 == *place && !e.2.same_cells(row);
            if m.0 == *place || !edited_in_place() {
                continue;
            }
            if let Some(line) = carry(table, row, e.2, m.1, m.2) {
                edits[mover].push((m.2.line, line));
                edits[editor].push((e.2.line, String::new()));
            }
        }
    }
    contested.sort();
    let rewritten = (!edits.iter().all(Vec::is_empty)).then(|| {
        let [ours_edits, theirs_edits] = edits;
        [apply(ours, ours_edits), apply(theirs, theirs_edits)]
    });
    Moves {
        rewritten,
        contested,
    }
}

/// Whether a side has a row in a table that the base has elsewhere: a cheap look, table by
/// table, before mapping every row of the file by ID. Most merges move nothing.
fn may_have_moved(tables: &[Vec<(String, &Table)>; 3]) -> bool {
    let base: Map<&str, &Table> = tables[0].iter().map(|(p, t)| (p.as_str(), *t)).collect();
    let mut arrived: Set<&str> = Set::default();
    for (place, table) in tables[1..].iter().flatten() {
        let before = base.get(place.as_str()).map_or(&[][..], |t| &t.rows[..]);
        if before
            .iter()
            .map(|r| &r.key)
            .eq(table.rows.iter().map(|r| &r.key))
        {
            continue;
        }
        let before: Set<_> = before.iter().map(|r| &r.key).collect();
        let new = table
            .rows
            .iter()
            .filter(|r| r.key.id && !before.contains(&r.key));
        arrived.extend(new.map(|r| &*r.key.text));
    }
    !arrived.is_empty()
        && tables[0]
            .iter()
            .flat_map(|(_, t)| &t.rows)
            .any(|r| r.key.id && arrived.contains(&*r.key.text))
}

/// Rows keyed by an ID, by that ID; `None` for an ID that keys more than one row in the file.
type ById<'d, 'a> = Map<&'d str, Option<Located<'d, 'a>>>;

fn rows_by_id<'d, 'a>(tables: &'d [(String, &'d Table<'a>)]) -> ById<'d, 'a> {
    let mut rows: ById = Map::default();
    rows.reserve(tables.iter().map(|(_, t)| t.rows.len()).sum());
    for (place, table) in tables {
        for row in table.rows.iter().filter(|r| r.key.id) {
            rows.entry(&row.key.text)
                .and_modify(|seen| *seen = None)
                .or_insert(Some((place, table, row)));
        }
    }
    rows
}

/// The one row an ID keys in the file, if it keys exactly one.
fn unique<'m, 'd, 'a>(rows: &'m ById<'d, 'a>, id: &str) -> Option<&'m Located<'d, 'a>> {
    rows.get(id).and_then(Option::as_ref)
}

/// The mover's row line with the editor's changes applied, if every changed column exists in the
/// mover's table and the mover left those cells alone.
fn carry(
    base_table: &Table,
    base: &Row,
    edited: &Row,
    table: &Table,
    moved: &Row,
) -> Option<String> {
    let mut cells: Vec<&str> = moved.cells();
    let (base, edited) = (base.cells(), edited.cells());
    for (c, name) in base_table.header.cells.iter().enumerate() {
        let (was, now) = (
            base.get(c).copied().unwrap_or(""),
            edited.get(c).copied().unwrap_or(""),
        );
        if was == now {
            continue;
        }
        let column = table.header.cells.iter().position(|h| h == name)?;
        let cell = cells.get_mut(column)?;
        if *cell == was {
            *cell = now;
        } else if *cell != now {
            return None;
        }
    }
    let widths = match Style::of(table) {
        Style::Aligned(widths) if cells.iter().zip(&widths).all(|(c, &w)| width(c) <= w) => {
            Some(widths)
        }
        _ => None,
    };
    let mut line = String::new();
    write_row(&cells, widths.as_deref(), line_end(moved.line), &mut line);
    Some(line)
}

/// `text` with each line (a slice of it) replaced.
fn apply(text: &str, mut edits: Vec<(&str, String)>) -> String {
    let offset = |line: &str| line.as_ptr() as usize - text.as_ptr() as usize;
    edits.sort_by_key(|(line, _)| offset(line));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (line, replacement) in edits {
        let start = offset(line);
        out.push_str(&text[at..start]);
        out.push_str(&replacement);
        at = start + line.len();
    }
    out.push_str(&text[at..]);
    out
}
