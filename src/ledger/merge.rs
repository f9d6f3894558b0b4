//! The three-way merge of ledger trees, entry by entry.
//!
//! For every container (the sections of a section, the rows of a table, the items of a list) the
//! entries are matched by key across the three versions (`align`), and each is then kept, dropped,
//! merged or left in conflict by the usual three-way rules. An entry changed on both sides is
//! merged further down: a row cell by cell, a section block by block and its prose line by line,
//! so that only a real clash on one cell or line is a conflict, marked around that row or those
//! lines alone. Entries unchanged on one side are copied from the other byte for byte.

use std::borrow::Cow;
use std::hash::Hash;

use super::align::{Triple, align};
use super::fields;
use super::hash::{Map, Set};
use super::headings::{self, Followed};
use super::ids::{Key, Recognisers};
use super::lines::{self, Markers, end_line, split_lines};
use super::model::{Block, Doc, List, Row, Section, Table};
use super::moves;
use super::table::{Style, column_widths, same_cells, split_cells, write_row, write_separator};
use super::{Conflict, Context, Fallback, Options, Outcome, Side};

pub(crate) fn merge(
    base: &[u8],
    ours: &[u8],
    theirs: &[u8],
    context: &Context,
    options: &Options,
    ids: &Recognisers,
) -> Outcome {
    let receiving_text = match context.receiving {
        Side::Ours => ours,
        Side::Theirs => theirs,
    };
    let markers = Markers {
        size: context.marker_size.max(1),
        eol: if first_line_is_crlf(receiving_text) {
            "\r\n"
        } else {
            "\n"
        },
    };
    let texts = (text(base), text(ours), text(theirs));
    let (Some(base), Some(ours), Some(theirs)) = texts else {
        return fall_back(base, ours, theirs, markers, Fallback::NotText);
    };
    if [base, ours, theirs].iter().any(|t| has_markers(t)) {
        return fall_back(
            base.as_bytes(),
            ours.as_bytes(),
            theirs.as_bytes(),
            markers,
            Fallback::Markers,
        );
    }
    if ours == base || ours == theirs {
        return clean(theirs.as_bytes().to_vec());
    }
    if theirs == base {
        return clean(ours.as_bytes().to_vec());
    }
    let docs_in = [base, ours, theirs].map(|t| Doc::parse(t, options, ids));
    if docs_in.iter().any(|d| d.unclosed_fence) {
        // A fence left open swallows every heading after it: what follows cannot be told
        // apart as entries, so git's merge decides.
        let line = fall_back(
            base.as_bytes(),
            ours.as_bytes(),
            theirs.as_bytes(),
            markers,
            Fallback::Unverified,
        );
        return if line.conflicts.is_empty() {
            clean(line.text)
        } else {
            line
        };
    }
    let renamed = match headings::follow([base, ours, theirs], &docs_in, ids) {
        Some(Followed::Contested) => {
            return line_merge_unless_duplicated(
                base, ours, theirs, &docs_in, markers, options, ids,
            );
        }
        Some(Followed::Rewritten(texts)) => Some(texts),
        None => None,
    };
    let renamed_docs;
    let (docs, [r_base, r_ours, r_theirs]) = match &renamed {
        Some(texts) => {
            renamed_docs = texts.each_ref().map(|t| Doc::parse(t, options, ids));
            (&renamed_docs, texts.each_ref().map(String::as_str))
        }
        None => (&docs_in, [base, ours, theirs]),
    };
    let moves = moves::follow(docs, r_ours, r_theirs, markers);
    let moved;
    let docs = match &moves.rewritten {
        Some([ours, theirs]) => {
            moved = [r_base, ours, theirs].map(|t| Doc::parse(t, options, ids));
            &moved
        }
        None => docs,
    };
    let mut merger = Merger {
        options,
        ids,
        pairs_edits: ids.pairs_edits,
        receiving: context.receiving,
        markers,
        // Room for both sides' additions: growing a large result would copy it.
        out: Vec::with_capacity(ours.len() + theirs.len().saturating_sub(base.len()) + 64),
        conflicts: Vec::new(),
        path: Vec::new(),
    };
    merger.section(Some(&docs[0].root), &docs[1].root, &docs[2].root);
    let Merger {
        out, mut conflicts, ..
    } = merger;
    conflicts.extend(moves.contested.iter().map(|id| Conflict {
        keys: vec![format!("{id} (moved by both sides)")],
    }));
    let verified = conflicts.is_empty()
        && std::str::from_utf8(&out).is_ok_and(|text| {
            let merged = Doc::parse(text, options, ids);
            !has_markers(text) && keeps_every_entry(docs, &merged) && once(&docs_in, &merged)
        });
    if verified {
        return clean(out);
    }
    // Never worse than git: where the line merge is clean, or leaves less in conflict, its
    // result stands.
    let reason = if conflicts.is_empty() {
        Fallback::Unverified
    } else {
        Fallback::Wider
    };
    let line = fall_back(
        base.as_bytes(),
        ours.as_bytes(),
        theirs.as_bytes(),
        markers,
        reason,
    );
    // Unless git's clean result holds an entry twice (a row both sides moved, to two places).
    let duplicates = |text: &[u8]| {
        std::str::from_utf8(text).is_ok_and(|text| {
            let merged = Doc::parse(text, options, ids);
            !(once(&docs_in, &merged) && rows_once(&docs_in, &merged))
        })
    };
    let line_clean = line.conflicts.is_empty();
    if line_clean && !duplicates(&line.text) {
        return clean(line.text);
    }
    let narrower = line_clean || conflicted_lines(&out) <= conflicted_lines(&line.text);
    if reason == Fallback::Wider && narrower {
        return Outcome {
            text: out,
            conflicts,
            fallback: None,
        };
    }
    line
}

/// The line merge, as when the record merge stepped aside: clean when it is clean and holds no
/// entry twice.
fn line_merge_unless_duplicated(
    base: &str,
    ours: &str,
    theirs: &str,
    docs: &[Doc; 3],
    markers: Markers,
    options: &Options,
    ids: &Recognisers,
) -> Outcome {
    let line = fall_back(
        base.as_bytes(),
        ours.as_bytes(),
        theirs.as_bytes(),
        markers,
        Fallback::Wider,
    );
    let fine = line.conflicts.is_empty()
        && std::str::from_utf8(&line.text).is_ok_and(|text| {
            let merged = Doc::parse(text, options, ids);
            once(docs, &merged) && rows_once(docs, &merged)
        });
    if fine { clean(line.text) } else { line }
}

/// Whether `candidate`, a clean merge of the three made elsewhere (by `git merge-file`), may
/// stand: no markers and no entry more often than on either side (see [`once`]).
pub(crate) fn accepts(
    [base, ours, theirs]: [&[u8]; 3],
    candidate: &[u8],
    options: &Options,
    ids: &Recognisers,
) -> bool {
    let texts = (text(base), text(ours), text(theirs), text(candidate));
    let (Some(base), Some(ours), Some(theirs), Some(candidate)) = texts else {
        return false;
    };
    if has_markers(candidate) {
        return false;
    }
    let sides = [base, ours, theirs].map(|t| Doc::parse(t, options, ids));
    let merged = Doc::parse(candidate, options, ids);
    once(&sides, &merged) && rows_once(&sides, &merged)
}

/// How many lines of `text` stand in conflict, markers included.
pub(crate) fn conflicted_lines(text: &[u8]) -> usize {
    let (mut inside, mut count) = (false, 0);
    for line in text.split(|&b| b == b'\n') {
        if line.starts_with(b"<<<<<<<") {
            inside = true;
        }
        count += usize::from(inside);
        if line.starts_with(b">>>>>>>") {
            inside = false;
        }
    }
    count
}

/// The post-merge check that catches an entry or a release section standing twice, wherever
/// the copies stand: no list item or table row is in the result more often than on either
/// side within one release (the last heading above it that names a version), no versioned
/// heading (`## 1.1.0`) more often than on either side, and no entry of a few words that stands
/// before every release (under `Unreleased`, `Development`, `master`) more often than on either
/// side anywhere. So the same credit line under two releases is two entries, but a release
/// copied under another heading, or a pending entry one side moved into a release and the other
/// kept, is one entry twice.
fn once(sides: &[Doc; 3], merged: &Doc) -> bool {
    let mut by_release: Map<(&str, &str), [u32; 3]> = Map::default();
    // Every copy of a text, and whether one of them is pending (before every release).
    let mut by_text: Map<&str, ([u32; 3], bool)> = Map::default();
    let mut suspect = false;
    visit_entries(&merged.root, &mut "", &mut |(release, text)| {
        let n = &mut by_release.entry((release, text)).or_default()[2];
        *n += 1;
        suspect |= *n > 1;
        let (n, pending) = by_text.entry(text).or_default();
        n[2] += 1;
        *pending |= release.is_empty() && text.split_whitespace().nth(3).is_some();
        suspect |= n[2] > 1 && *pending;
    });
    if !suspect {
        return true;
    }
    by_release.retain(|_, [.., out]| *out > 1);
    by_text.retain(|_, ([.., out], pending)| *out > 1 && *pending);
    for (slot, doc) in [&sides[1], &sides[2]].into_iter().enumerate() {
        visit_entries(&doc.root, &mut "", &mut |entry| {
            if let Some(n) = by_release.get_mut(&entry) {
                n[slot] += 1;
            }
            if let Some((n, _)) = by_text.get_mut(entry.1) {
                n[slot] += 1;
            }
        });
    }
    by_release.values().all(|[o, t, out]| out <= o.max(t))
        && by_text.values().all(|([o, t, out], _)| out <= o.max(t))
}

/// Every entry of a section as (its release, its text): items and rows trimmed, and headings
/// that name a version (a digit in their key), so that a release standing twice is caught too.
/// An entry's release is the last versioned heading above it in the file, whatever the levels:
/// a sub-heading one side wrote a level too high does not take its entries out of the release.
fn visit_entries<'d>(
    section: &'d Section,
    release: &mut &'d str,
    visit: &mut impl FnMut((&'d str, &'d str)),
) {
    if section.key.text.bytes().any(|b| b.is_ascii_digit()) {
        visit(("#", &section.key.text));
        *release = &section.key.text;
    }
    for block in &section.blocks {
        match block {
            Block::List(list) => list
                .items
                .iter()
                .for_each(|i| visit((release, i.text.trim()))),
            // Rows with an ID are counted file-wide by `rows_once`.
            Block::Table(table) => table
                .rows
                .iter()
                .filter(|r| !r.key.id)
                .for_each(|r| visit((release, r.line.trim()))),
            Block::Text(_) => {}
        }
    }
    for child in &section.children {
        visit_entries(child, release, visit);
    }
}

fn clean(text: Vec<u8>) -> Outcome {
    Outcome {
        text,
        conflicts: Vec::new(),
        fallback: None,
    }
}

/// Text we can merge as records: UTF-8 without NUL bytes (which git takes for binary).
fn text(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes)
        .ok()
        .filter(|t| !t.as_bytes().contains(&0))
}

fn first_line_is_crlf(text: &[u8]) -> bool {
    text.iter()
        .position(|&b| b == b'\n')
        .is_some_and(|i| i > 0 && text[i - 1] == b'\r')
}

/// Whether a line starts like a conflict marker git writes (`<<<<<<<`, `>>>>>>>`).
pub(crate) fn has_markers(text: &str) -> bool {
    // A search for the marker text first (fast, and almost always in vain), then line starts.
    if !text.contains("<<<<<<<") && !text.contains(">>>>>>>") {
        return false;
    }
    let marker = |at: usize| {
        let rest = &text.as_bytes()[at..];
        rest.starts_with(b"<<<<<<<") || rest.starts_with(b">>>>>>>")
    };
    marker(0) || text.match_indices('\n').any(|(i, _)| marker(i + 1))
}

/// The plain line merge for inputs the record merge cannot vouch for; never reported clean.
fn fall_back(
    base: &[u8],
    ours: &[u8],
    theirs: &[u8],
    markers: Markers,
    reason: Fallback,
) -> Outcome {
    let mut text = Vec::with_capacity(ours.len().max(theirs.len()));
    let (b, o, t) = (split_lines(base), split_lines(ours), split_lines(theirs));
    let conflicts = lines::merge(&b, &o, &t, markers, &mut |_, _, _| None, &mut text);
    Outcome {
        text,
        conflicts: (0..conflicts)
            .map(|_| Conflict {
                keys: vec!["(line merge)".to_owned()],
            })
            .collect(),
        fallback: Some(reason),
    }
}

/// The check before calling a merge clean: every entry both sides have, and every entry either
/// side added, is in the result; no key appears twice in one place; and no row ID appears more
/// often than on either side.
fn keeps_every_entry(docs: &[Doc; 3], merged: &Doc) -> bool {
    let roots = [&docs[0], &docs[1], &docs[2], merged].map(|d| Some(&d.root));
    section_keeps(roots) && rows_once(docs, merged)
}

/// One entry (or container) in each of base, ours, theirs and the result, where present.
type Four<'s, T> = [Option<&'s T>; 4];

/// Checks one section's containers one by one: small maps, each used while it is in cache.
fn section_keeps<'s>(versions: Four<'s, Section<'s>>) -> bool {
    let blocks = |s: Option<&'s Section<'s>>| s.map_or(&[][..], |s| &s.blocks[..]);
    // Tables and lists are matched across versions as the merge matches them (`block_keys`).
    let tables = versions.map(|s| {
        numbered(blocks(s).iter().filter_map(Block::table), |t| {
            &t.header.cells[..]
        })
    });
    let lists = versions.map(|s| numbered(blocks(s).iter().filter_map(Block::list), |_| ()));
    let children = versions.map(|s| s.map_or(&[][..], |s| &s.children[..]));
    containers_keep(&tables, |t| &t.rows, |r| &r.key)
        && containers_keep(&lists, |l| &l.items, |i| &i.key)
        && matched(children, |c| &c.key)
            .is_some_and(|m| m.into_iter().all(|at| kept(&at) && section_keeps(at)))
}

/// Containers keyed by a trait of theirs and their place among those that share it.
fn numbered<'s, C, K: Hash + Eq>(
    containers: impl Iterator<Item = &'s C>,
    trait_of: impl Fn(&'s C) -> K,
) -> Vec<((K, usize), &'s C)> {
    let mut seen: Map<K, usize> = Map::default();
    containers
        .map(|c| {
            let n = seen.entry(trait_of(c)).or_default();
            *n += 1;
            ((trait_of(c), *n), c)
        })
        .collect()
}

/// Checks each container against the ones with the same key in the other versions.
fn containers_keep<'s, K: Hash + Eq, C, T: 's>(
    of: &[Vec<(K, &'s C)>; 4],
    entries: impl Fn(&'s C) -> &'s [T],
    key: impl Fn(&T) -> &Key,
) -> bool {
    let mut by_key: Map<&K, [&[T]; 4]> = Map::default();
    for (v, containers) in of.iter().enumerate() {
        for (k, c) in containers {
            by_key.entry(k).or_insert([&[]; 4])[v] = entries(c);
        }
    }
    by_key
        .into_values()
        .all(|versions| matched(versions, &key).is_some_and(|m| m.iter().all(kept)))
}

/// The entries of one container in the four versions, matched by key; `None` if the result has
/// a key twice.
fn matched<'s, T>(versions: [&'s [T]; 4], key: impl Fn(&T) -> &Key) -> Option<Vec<Four<'s, T>>> {
    let mut at: Map<&Key, usize> = Map::default();
    at.reserve(versions[3].len());
    let mut found: Vec<Four<T>> = Vec::with_capacity(versions[3].len());
    for (v, entries) in versions.iter().enumerate() {
        for entry in *entries {
            let i = *at.entry(key(entry)).or_insert_with(|| {
                found.push([None; 4]);
                found.len() - 1
            });
            if v == 3 && found[i][3].is_some() {
                return None;
            }
            found[i][v] = Some(entry);
        }
    }
    Some(found)
}

/// Whether an entry is in the result if it must be: if both sides have it, or one side added it.
fn kept<T>([base, ours, theirs, out]: &Four<T>) -> bool {
    let required = (ours.is_some() && theirs.is_some())
        || ((ours.is_some() || theirs.is_some()) && base.is_none());
    out.is_some() || !required
}

/// No row ID in the result more often than on either side: a moved row is in one place only.
fn rows_once(docs: &[Doc; 3], merged: &Doc) -> bool {
    fn ids<'d>(doc: &'d Doc) -> Vec<&'d str> {
        let rows = doc.rows().filter(|r| r.key.id);
        rows.map(|r| &*r.key.text).collect()
    }
    let mut counts: Map<&str, [u32; 3]> = Map::default();
    let out = ids(merged);
    counts.reserve(out.len());
    let mut repeated = false;
    for id in out {
        let n = &mut counts.entry(id).or_default()[2];
        *n += 1;
        repeated |= *n > 1;
    }
    if !repeated {
        // Each ID once: no side can have it fewer times than that (an ID in neither side would
        // have failed the entry check as an entry no side had).
        return true;
    }
    counts.retain(|_, [.., out]| *out > 1);
    for (slot, doc) in [&docs[1], &docs[2]].into_iter().enumerate() {
        for id in ids(doc) {
            if let Some(n) = counts.get_mut(id) {
                n[slot] += 1;
            }
        }
    }
    counts.values().all(|[o, t, out]| out <= o.max(t))
}

struct Merger<'o> {
    options: &'o Options,
    /// For the sub-lists of items both sides changed, parsed when they are merged.
    ids: &'o Recognisers,
    /// See [`super::Spec::pairs_edits`].
    pairs_edits: bool,
    receiving: Side,
    markers: Markers,
    out: Vec<u8>,
    conflicts: Vec<Conflict>,
    /// Keys of the sections being merged, for naming conflicts.
    path: Vec<String>,
}

impl Merger<'_> {
    fn emit(&mut self, text: &str) {
        if !text.is_empty() {
            end_line(&mut self.out, self.markers.eol);
            self.out.extend_from_slice(text.as_bytes());
        }
    }

    fn conflict(&mut self, key: impl ToString, ours: &str, theirs: &str) {
        self.markers.write(
            &split_lines(ours.as_bytes()),
            &split_lines(theirs.as_bytes()),
            &mut self.out,
        );
        self.record(key);
    }

    fn record(&mut self, key: impl ToString) {
        let mut keys = self.path.clone();
        keys.push(key.to_string());
        self.conflicts.push(Conflict { keys });
    }

    fn pick<T>(&self, side: Side, ours: T, theirs: T) -> T {
        match side {
            Side::Ours => ours,
            Side::Theirs => theirs,
        }
    }

    /// Merges one section present on both sides (`base` is `None` when both added it).
    fn section(&mut self, base: Option<&Section>, ours: &Section, theirs: &Section) {
        if let Some(base) = base {
            if ours.text == base.text {
                return self.emit(theirs.text);
            }
            if theirs.text == base.text {
                return self.emit(ours.text);
            }
        }
        // The same change on both sides is taken once, except where a counter is in it: then
        // each side's bump counts (see `row`).
        if ours.text == theirs.text && !self.options.counters {
            return self.emit(ours.text);
        }
        let (mark, before) = (self.out.len(), self.conflicts.len());
        let empty;
        let base = match base {
            Some(base) => base,
            None => {
                empty = Section::empty(ours.key.clone());
                &empty
            }
        };
        let (hb, ho, ht) = (
            base.heading.trim(),
            ours.heading.trim(),
            theirs.heading.trim(),
        );
        if ho == hb {
            self.emit(theirs.heading);
        } else if ht == hb {
            self.emit(ours.heading);
        } else if ho == ht || base.heading.is_empty() {
            // Added on both sides under one key (`## Unreleased`, `## [Unreleased]`): one heading.
            self.emit(self.pick(self.receiving, ours.heading, theirs.heading));
        } else {
            self.conflict(
                format!("{} (heading)", ours.key),
                ours.heading,
                theirs.heading,
            );
        }
        self.path.push(ours.key.to_string());
        self.body(base, ours, theirs);
        self.sections(&base.children, &ours.children, &theirs.children);
        if self.conflicts.len() > before && !base.text.is_empty() {
            self.narrow(mark, before, base.text, ours.text, theirs.text);
        }
        self.path.pop();
    }

    /// Where the record merge left a region wider in conflict than git's line merge of it
    /// would, git's result for that region replaces it.
    fn narrow(&mut self, mark: usize, before: usize, base: &str, ours: &str, theirs: &str) {
        let mut line = Vec::new();
        let n = self.line_merge(base, ours, theirs, &mut line);
        if conflicted_lines(&line) < conflicted_lines(&self.out[mark..]) {
            self.out.truncate(mark);
            self.conflicts.truncate(before);
            end_line(&mut self.out, self.markers.eol);
            self.out.extend_from_slice(&line);
            for _ in 0..n {
                self.record("(lines)");
            }
        }
    }

    fn body(&mut self, base: &Section, ours: &Section, theirs: &Section) {
        if ours.body == base.body {
            self.emit(theirs.body);
        } else if theirs.body == base.body || (ours.body == theirs.body && !self.options.counters) {
            self.emit(ours.body);
        } else if [base, ours, theirs].iter().any(|s| malformed(&s.blocks)) {
            // Entries that cannot be told apart for sure: git's merge of that body.
            self.lines("(body)", base.body, ours.body, theirs.body);
        } else {
            self.blocks(&base.blocks, &ours.blocks, &theirs.blocks);
        }
    }

    /// Merges a body's blocks matched by [`block_keys`], so a table or list that came or went on
    /// one side does not turn the rest of the body into a line merge.
    fn blocks(&mut self, base: &[Block], ours: &[Block], theirs: &[Block]) {
        let (kb, ko, kt) = (block_keys(base), block_keys(ours), block_keys(theirs));
        for Triple {
            base: b,
            ours: o,
            theirs: t,
        } in align(&kb, &ko, &kt, self.receiving, false)
        {
            let (b, o, t) = (
                b.map(|i| &base[i]),
                o.map(|i| &ours[i]),
                t.map(|i| &theirs[i]),
            );
            match (b, o, t) {
                (Some(b), Some(o), Some(t)) => self.block(b, o, t),
                (None, Some(o), Some(t)) => self.both_added(o, t),
                (None, Some(added), None) | (None, None, Some(added)) => self.emit(added.text()),
                (Some(b), Some(o), None) if o.text() != b.text() => {
                    self.conflict("(deleted by theirs)", o.text(), "");
                }
                (Some(b), None, Some(t)) if t.text() != b.text() => {
                    self.conflict("(deleted by ours)", "", t.text());
                }
                _ => {}
            }
        }
    }

    /// A block both sides added at one place: a list or table of both sides' entries.
    fn both_added(&mut self, ours: &Block, theirs: &Block) {
        match (ours, theirs) {
            _ if ours.text() == theirs.text() => self.emit(ours.text()),
            (Block::List(o), Block::List(t)) => self.list(&List::empty(), o, t),
            (Block::Table(o), Block::Table(t)) => self.table(&o.empty(), o, t),
            _ => self.lines("(text)", "", ours.text(), theirs.text()),
        }
    }

    fn block(&mut self, base: &Block, ours: &Block, theirs: &Block) {
        if ours.text() == base.text() {
            return self.emit(theirs.text());
        }
        let counted = self.options.counters && matches!(ours, Block::Table(_));
        if theirs.text() == base.text() || (ours.text() == theirs.text() && !counted) {
            return self.emit(ours.text());
        }
        match (base, ours, theirs) {
            (Block::Table(b), Block::Table(o), Block::Table(t)) => self.table(b, o, t),
            (Block::List(b), Block::List(o), Block::List(t)) => self.list(b, o, t),
            _ => self.lines("(text)", base.text(), ours.text(), theirs.text()),
        }
    }

    /// Line-merges prose; field lines both sides bumped resolve by the fields rule.
    fn lines(&mut self, key: &str, base: &str, ours: &str, theirs: &str) {
        let mut out = std::mem::take(&mut self.out);
        let n = self.line_merge(base, ours, theirs, &mut out);
        self.out = out;
        for _ in 0..n {
            self.record(key);
        }
    }

    /// The line merge of three texts into `out`; how many conflicts it left.
    fn line_merge<'l>(
        &self,
        base: &'l str,
        ours: &'l str,
        theirs: &'l str,
        out: &mut Vec<u8>,
    ) -> usize {
        let (b, o, t) = (
            split_lines(base.as_bytes()),
            split_lines(ours.as_bytes()),
            split_lines(theirs.as_bytes()),
        );
        let (options, receiving) = (self.options, self.receiving);
        let mut resolve = |b: &[&'l [u8]], o: &[&'l [u8]], t: &[&'l [u8]]| {
            resolve_fields(options, receiving, b, o, t)
        };
        lines::merge(&b, &o, &t, self.markers, &mut resolve, out)
    }

    fn sections(&mut self, base: &[Section], ours: &[Section], theirs: &[Section]) {
        for Triple {
            base: b,
            ours: o,
            theirs: t,
        } in align(
            &section_keys(base),
            &section_keys(ours),
            &section_keys(theirs),
            self.receiving,
            false,
        ) {
            let (b, o, t) = (
                b.map(|i| &base[i]),
                o.map(|i| &ours[i]),
                t.map(|i| &theirs[i]),
            );
            match (b, o, t) {
                (b, Some(o), Some(t)) => self.section(b, o, t),
                (None, Some(only), None) | (None, None, Some(only)) => {
                    // Concurrent additions: keep the blank line each had before its heading.
                    if only.blank_before
                        && !self.out.is_empty()
                        && !self.out.ends_with(b"\n\n")
                        && !self.out.ends_with(b"\n\r\n")
                    {
                        end_line(&mut self.out, self.markers.eol);
                        self.out.extend_from_slice(self.markers.eol.as_bytes());
                    }
                    self.emit(only.text);
                }
                (Some(b), Some(o), None) if !same_section(b, o) => {
                    self.conflict(&o.key, o.text, "");
                }
                (Some(b), None, Some(t)) if !same_section(b, t) => {
                    self.conflict(&t.key, "", t.text);
                }
                _ => {}
            }
        }
    }

    fn list(&mut self, base: &List, ours: &List, theirs: &List) {
        let (kb, mut ko, mut kt) = (item_keys(base), item_keys(ours), item_keys(theirs));
        if self.pairs_edits {
            pair_edits(&kb, &mut ko);
            pair_edits(&kb, &mut kt);
        }
        // The file's own spacing: entries separated by blank lines (rails style) get them.
        let style = match self.pick(self.receiving, ours, theirs) {
            list if list.items.len() >= 2 => list,
            _ => self.pick(self.receiving, theirs, ours),
        };
        let spaced =
            style.items.len() >= 2 && style.items[1..].iter().all(|i| starts_blank(i.text));
        let mut first = true;
        for Triple {
            base: b,
            ours: o,
            theirs: t,
        } in align(&kb, &ko, &kt, self.receiving, true)
        {
            let b = b.map(|i| &base.items[i]);
            let o = o.map(|i| &ours.items[i]);
            let t = t.map(|i| &theirs.items[i]);
            let (text, merged) = match (b, o, t) {
                (b, Some(o), Some(t)) => {
                    let b_text = b.map_or("", |b| b.text);
                    if o.text == b_text || o.text == t.text {
                        (t.text, None)
                    } else if t.text == b_text {
                        (o.text, None)
                    } else {
                        (o.text, Some((&o.key, b_text, t.text)))
                    }
                }
                (None, Some(only), None) | (None, None, Some(only)) => (only.text, None),
                (Some(b), Some(o), None) if o.text != b.text => {
                    self.conflict(&o.key, o.text, "");
                    continue;
                }
                (Some(b), None, Some(t)) if t.text != b.text => {
                    self.conflict(&t.key, "", t.text);
                    continue;
                }
                _ => continue,
            };
            if spaced && !first && !starts_blank(text) {
                end_line(&mut self.out, self.markers.eol);
                self.out.extend_from_slice(self.markers.eol.as_bytes());
            }
            first = false;
            match merged {
                None => self.emit(text),
                Some((key, b_text, t_text)) => self.item(key, b_text, text, t_text),
            }
        }
    }

    /// An item both sides changed: its bullet line by the three-way rule and its nested lines
    /// (sub-bullets, paragraphs) merged as blocks of their own, so two sides adding sub-bullets
    /// to one entry both keep theirs.
    fn item(&mut self, key: &Key, base: &str, ours: &str, theirs: &str) {
        let ([hb, nb], [ho, no], [ht, nt]) =
            (split_item(base), split_item(ours), split_item(theirs));
        let head = if ho == hb {
            Some(ht)
        } else if ht == hb || ho == ht {
            Some(ho)
        } else {
            None
        };
        match head {
            Some(head) if !no.is_empty() || !nt.is_empty() => {
                self.emit(head);
                let docs = [nb, no, nt].map(|t| Doc::parse(t, self.options, self.ids));
                self.path.push(key.to_string());
                self.blocks(
                    &docs[0].root.blocks,
                    &docs[1].root.blocks,
                    &docs[2].root.blocks,
                );
                self.path.pop();
            }
            _ => self.lines(&key.to_string(), base, ours, theirs),
        }
    }

    fn table(&mut self, base: &Table, ours: &Table, theirs: &Table) {
        if base.header.cells != ours.header.cells || ours.header.cells != theirs.header.cells {
            // Columns changed: rows cannot be matched cell by cell.
            return self.lines("(table)", base.text, ours.text, theirs.text);
        }
        let style_side = self.receiving;
        let mut rows: Vec<OutRow> = Vec::new();
        for Triple {
            base: b,
            ours: o,
            theirs: t,
        } in align(
            &row_keys(base),
            &row_keys(ours),
            &row_keys(theirs),
            self.receiving,
            false,
        ) {
            let b = b.map(|i| &base.rows[i]);
            let o = o.map(|i| &ours.rows[i]);
            let t = t.map(|i| &theirs.rows[i]);
            let row = match (b, o, t) {
                (b, Some(o), Some(t)) => self.row(b, o, t, style_side),
                (None, Some(o), None) => OutRow::Kept(o, Side::Ours),
                (None, None, Some(t)) => OutRow::Kept(t, Side::Theirs),
                (Some(b), Some(o), None) if !o.same_cells(b) => {
                    OutRow::Conflict(Some(o.line), None, &o.key)
                }
                (Some(b), None, Some(t)) if !t.same_cells(b) => {
                    OutRow::Conflict(None, Some(t.line), &t.key)
                }
                _ => continue,
            };
            rows.push(row);
        }
        let style_table = self.pick(style_side, ours, theirs);
        self.write_table(style_table, style_side, &rows);
    }

    fn row<'r>(
        &self,
        base: Option<&'r Row<'r>>,
        ours: &'r Row<'r>,
        theirs: &'r Row<'r>,
        style_side: Side,
    ) -> OutRow<'r> {
        let base_line = base.map_or("", |b| b.line);
        // Both sides bumped a counter alike (each added a row, `TOTAL` 2 -> 3): two changes,
        // since the sides differ elsewhere (identical sides never get this far).
        let shared_bump = self.options.counters
            && base.is_some()
            && !same_cells(ours.line, base_line)
            && shared_counter_change(base_line, ours.line, theirs.line);
        if ours.same_cells(theirs) && !shared_bump {
            return OutRow::Kept(self.pick(style_side, ours, theirs), style_side);
        }
        if same_cells(ours.line, base_line) {
            return OutRow::Kept(theirs, Side::Theirs);
        }
        if same_cells(theirs.line, base_line) {
            return OutRow::Kept(ours, Side::Ours);
        }
        let base_cells = base.map_or_else(Vec::new, Row::cells);
        let (ours_cells, theirs_cells) = (ours.cells(), theirs.cells());
        let columns = base_cells
            .len()
            .max(ours_cells.len())
            .max(theirs_cells.len());
        let cell = |cells: &[&'r str], i: usize| cells.get(i).copied().unwrap_or("");
        let mut merged: Vec<Cow<'r, str>> = Vec::with_capacity(columns);
        for i in 0..columns {
            let (b, o, t) = (
                cell(&base_cells, i),
                cell(&ours_cells, i),
                cell(&theirs_cells, i),
            );
            let value = if o == b {
                Cow::Borrowed(t)
            } else if t == b {
                Cow::Borrowed(o)
            } else if o == t {
                let style = self.pick(style_side, o, t);
                match fields::add_counters(b, o, t, style).filter(|_| self.options.counters) {
                    Some(sum) => Cow::Owned(sum),
                    None => Cow::Borrowed(t),
                }
            } else {
                let style = self.pick(style_side, o, t);
                match fields::add_counters(b, o, t, style).filter(|_| self.options.counters) {
                    Some(sum) => Cow::Owned(sum),
                    None => return OutRow::Conflict(Some(ours.line), Some(theirs.line), &ours.key),
                }
            };
            merged.push(value);
        }
        OutRow::Merged(merged)
    }

    /// Writes the merged rows in `style_table`'s style: aligned tables stay aligned, and rows
    /// taken unchanged from the style side keep their bytes unless the column widths grew.
    fn write_table(&mut self, style_table: &Table, style_side: Side, rows: &[OutRow]) {
        let eol = self.markers.eol;
        let columns = style_table.header.cells.len();
        // Some((grown, widths)) for an aligned table: whether widths grew, and the widths.
        let widths = match Style::of(style_table) {
            Style::Aligned(widths) => {
                let all: Vec<Vec<&str>> = rows.iter().filter_map(OutRow::cells).collect();
                all.iter().all(|c| c.len() == columns).then(|| {
                    let header = std::iter::once(&style_table.header.cells[..]);
                    let fit = column_widths(columns, header.chain(all.iter().map(Vec::as_slice)));
                    (fit != widths, fit)
                })
            }
            Style::Compact => None,
        };
        let mut line = String::new();
        match &widths {
            Some((true, widths)) => {
                write_row(&style_table.header.cells, Some(widths), eol, &mut line);
                write_separator(&split_cells(style_table.separator), widths, eol, &mut line);
                self.emit(&line);
            }
            _ => {
                self.emit(style_table.header.line);
                self.emit(style_table.separator);
            }
        }
        for row in rows {
            line.clear();
            match (row, &widths) {
                (OutRow::Conflict(ours, theirs, key), _) => {
                    self.conflict(key, ours.unwrap_or(""), theirs.unwrap_or(""));
                    continue;
                }
                (OutRow::Kept(row, side), Some((false, _))) if *side == style_side => {
                    line.push_str(row.line);
                }
                (OutRow::Kept(row, _), None) => line.push_str(row.line),
                (OutRow::Merged(cells), None) => write_row(cells, None, eol, &mut line),
                (row, Some((_, widths))) => {
                    let cells = row.cells().expect("conflicts are handled above");
                    write_row(&cells, Some(widths), eol, &mut line);
                }
            }
            self.emit(&line);
        }
    }
}

/// A row of a merged table, before it is written in the table's style.
enum OutRow<'r> {
    /// A row as one side has it.
    Kept(&'r Row<'r>, Side),
    /// Cells merged from both sides.
    Merged(Vec<Cow<'r, str>>),
    /// Ours and theirs, to be written between markers.
    Conflict(Option<&'r str>, Option<&'r str>, &'r Key<'r>),
}

impl OutRow<'_> {
    fn cells(&self) -> Option<Vec<&str>> {
        match self {
            OutRow::Kept(row, _) => Some(row.cells()),
            OutRow::Merged(cells) => Some(cells.iter().map(|c| c.as_ref()).collect()),
            OutRow::Conflict(..) => None,
        }
    }
}

/// Whether two versions of a section say the same, formatting of tables aside.
fn same_section(a: &Section, b: &Section) -> bool {
    a.text == b.text
        || (a.heading.trim() == b.heading.trim()
            && a.blocks.len() == b.blocks.len()
            && a.blocks
                .iter()
                .zip(&b.blocks)
                .all(|(x, y)| same_block(x, y))
            && a.children.len() == b.children.len()
            && a.children
                .iter()
                .zip(&b.children)
                .all(|(x, y)| same_section(x, y)))
}

fn same_block(a: &Block, b: &Block) -> bool {
    match (a, b) {
        (Block::Table(x), Block::Table(y)) => {
            x.header.cells == y.header.cells
                && x.rows.len() == y.rows.len()
                && x.rows.iter().zip(&y.rows).all(|(r, s)| r.same_cells(s))
        }
        _ => a.text() == b.text(),
    }
}

/// A block's key within its body: its kind, a table's header, and its place among the blocks of
/// the same kind and header.
fn block_keys<'b>(blocks: &'b [Block]) -> Vec<(u8, &'b [&'b str], usize)> {
    let mut seen: Map<(u8, &[&str]), usize> = Map::default();
    blocks
        .iter()
        .map(|block| {
            let header: &[&str] = match block {
                Block::Table(table) => &table.header.cells,
                _ => &[],
            };
            let n = seen.entry((block.shape(), header)).or_default();
            *n += 1;
            (block.shape(), header, *n)
        })
        .collect()
}

fn section_keys<'s>(sections: &'s [Section]) -> Vec<&'s Key<'s>> {
    sections.iter().map(|s| &s.key).collect()
}

/// A body whose blocks run into each other: a table right under a bullet line, which a reader
/// takes for part of that item.
fn malformed(blocks: &[Block]) -> bool {
    blocks.windows(2).any(|w| match w {
        [Block::List(list), Block::Table(_)] => {
            !list.text.ends_with("\n\n") && !list.text.ends_with("\n\r\n")
        }
        _ => false,
    })
}

/// An item's head (the blank lines before it and its bullet line) and its nested lines.
fn split_item(text: &str) -> [&str; 2] {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        at += line.len();
        if !line.trim().is_empty() {
            break;
        }
    }
    [&text[..at], &text[at..]]
}

fn starts_blank(text: &str) -> bool {
    text.split_inclusive('\n')
        .next()
        .is_some_and(|l| l.trim().is_empty())
}

fn item_keys<'s>(list: &'s List) -> Vec<&'s Key<'s>> {
    list.items.iter().map(|i| &i.key).collect()
}

/// For kinds keyed by text, where an edit changes the key: between two entries a side kept (in
/// base order), as many new entries as base entries it dropped are taken for those entries,
/// edited, and given their keys. So one edit is an edit, and two different edits of one entry
/// are a conflict rather than two entries.
fn pair_edits<'s>(base: &[&'s Key<'s>], side: &mut [&'s Key<'s>]) {
    let in_side: Set<&Key> = side.iter().copied().collect();
    let base_at: Map<&Key, usize> = base.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    // Kept entries, as (base index, side index); the side must keep base order for pairing.
    let kept: Vec<(usize, usize)> = side
        .iter()
        .enumerate()
        .filter_map(|(s, k)| Some((*base_at.get(k)?, s)))
        .collect();
    if kept.windows(2).any(|w| w[0].0 > w[1].0) {
        return;
    }
    let mut from = (0, 0);
    for (b, s) in kept.into_iter().chain([(base.len(), side.len())]) {
        let dropped: Vec<&'s Key<'s>> = base[from.0..b]
            .iter()
            .copied()
            .filter(|k| !in_side.contains(k))
            .collect();
        let added: Vec<usize> = (from.1..s)
            .filter(|&i| !base_at.contains_key(side[i]))
            .collect();
        if !dropped.is_empty() && dropped.len() == added.len() {
            for (i, key) in added.into_iter().zip(dropped) {
                side[i] = key;
            }
        }
        from = (b + 1, s + 1);
    }
}

/// Whether some number-only cell changed from `base` to the same new number on both sides.
fn shared_counter_change(base: &str, ours: &str, theirs: &str) -> bool {
    let (b, o, t) = (split_cells(base), split_cells(ours), split_cells(theirs));
    (0..b.len().min(o.len()).min(t.len())).any(|i| {
        o[i] == t[i] && o[i] != b[i] && fields::add_counters(b[i], o[i], t[i], o[i]).is_some()
    })
}

fn row_keys<'s>(table: &'s Table) -> Vec<&'s Key<'s>> {
    table.rows.iter().map(|r| &r.key).collect()
}

/// Resolves a hunk of equally many lines on all sides line by line, field lines both sides
/// changed by the fields rule; `None` if any line still clashes.
fn resolve_fields<'l>(
    options: &Options,
    receiving: Side,
    base: &[&'l [u8]],
    ours: &[&'l [u8]],
    theirs: &[&'l [u8]],
) -> Option<Vec<&'l [u8]>> {
    if !options.fields || base.len() != ours.len() || ours.len() != theirs.len() {
        return None;
    }
    let text = |l: &'l [u8]| std::str::from_utf8(l).ok();
    base.iter()
        .zip(ours)
        .zip(theirs)
        .map(|((&b, &o), &t)| {
            if o == b || o == t {
                Some(t)
            } else if t == b {
                Some(o)
            } else {
                let side = fields::pick(
                    text(b)?,
                    text(o)?,
                    text(t)?,
                    &options.field_names,
                    receiving,
                )?;
                Some(if side == Side::Ours { o } else { t })
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Kind;

    /// `keeps_every_entry` for base, ours, theirs and a candidate result.
    fn check(base: &str, ours: &str, theirs: &str, out: &str) -> bool {
        let options = Options::default();
        let ids = Recognisers::new(Kind::ROADMAP, &options).unwrap();
        let docs = [base, ours, theirs].map(|t| Doc::parse(t, &options, &ids));
        keeps_every_entry(&docs, &Doc::parse(out, &options, &ids))
    }

    fn doc(a: &[&str], b: &[&str]) -> String {
        let table = |rows: &[&str]| {
            let rows: String = rows.iter().map(|r| format!("| {r} | x |\n")).collect();
            format!("| Task | S |\n|---|---|\n{rows}")
        };
        format!("## A\n\n{}\n## B\n\n{}", table(a), table(b))
    }

    /// A base with one entry; each side adds another.
    fn one_addition_on_each_side() -> (String, String, String) {
        (
            doc(&["ST-01"], &[]),
            doc(&["ST-01", "ST-02"], &[]),
            doc(&["ST-01", "ST-03"], &[]),
        )
    }

    #[test]
    fn the_check_passes_a_result_with_every_entry_once() {
        let (base, ours, theirs) = one_addition_on_each_side();
        assert!(check(
            &base,
            &ours,
            &theirs,
            &doc(&["ST-01", "ST-02", "ST-03"], &[])
        ));
        // Deleted by one side, untouched by the other: not required.
        assert!(check(&base, &doc(&[], &[]), &base, &doc(&[], &[])));
    }

    #[test]
    fn the_check_fails_a_lost_a_doubled_or_a_twice_moved_entry() {
        let (base, ours, theirs) = one_addition_on_each_side();
        assert!(
            !check(&base, &ours, &theirs, &doc(&["ST-01", "ST-02"], &[])),
            "lost"
        );
        assert!(
            !check(
                &base,
                &ours,
                &theirs,
                &doc(&["ST-01", "ST-02", "ST-03", "ST-03"], &[])
            ),
            "doubled"
        );
        let moved = doc(&[], &["ST-01"]);
        assert!(
            !check(&base, &moved, &base, &doc(&["ST-01"], &["ST-01"])),
            "in both places"
        );
        assert!(check(&base, &moved, &base, &moved));
    }

    #[test]
    fn the_check_matches_tables_by_header_not_by_position() {
        let table = |header: &str, rows: &[&str]| {
            let rows: String = rows.iter().map(|r| format!("| {r} | x |\n")).collect();
            format!("| {header} | S |\n|---|---|\n{rows}\n")
        };
        let base = format!("## A\n\n{}", table("Task", &["ST-01"]));
        let ours = format!(
            "## A\n\n{}{}",
            table("Bug", &["BUG-01"]),
            table("Task", &["ST-01"])
        );
        let theirs = format!("## A\n\n{}", table("Task", &["ST-01", "ST-02"]));
        let out = format!(
            "## A\n\n{}{}",
            table("Bug", &["BUG-01"]),
            table("Task", &["ST-01", "ST-02"])
        );
        assert!(check(&base, &ours, &theirs, &out));
    }
}
