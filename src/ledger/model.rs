//! The ledger as a tree of entries, borrowed from the file's text.
//!
//! A section runs from its heading to the next heading of the same or a higher level and holds a
//! body (prose, tables, lists) and sub-sections. Every line of the file belongs to exactly one
//! leaf, so rendering the tree gives the file back byte for byte. Fenced code is prose: nothing
//! inside a fence is a heading, a table or a list.

use super::Options;
use super::ids::{Key, Recognisers, number};
pub(crate) use super::table::{Header, Row, Table};
use super::table::{cells, split_cells};

#[derive(Debug)]
pub(crate) struct Doc<'a> {
    pub(crate) root: Section<'a>,
    /// A code fence is still open at the end of the file.
    pub(crate) unclosed_fence: bool,
}

#[derive(Debug)]
pub(crate) struct Section<'a> {
    /// The whole section: heading, body and sub-sections.
    pub(crate) text: &'a str,
    /// The heading line; empty for the part of the file before the first heading.
    pub(crate) heading: &'a str,
    /// Everything between the heading and the first sub-section.
    pub(crate) body: &'a str,
    pub(crate) blocks: Vec<Block<'a>>,
    pub(crate) children: Vec<Section<'a>>,
    pub(crate) key: Key<'a>,
    /// Whether a blank line comes before the heading, which an added section should keep.
    pub(crate) blank_before: bool,
}

#[derive(Debug)]
pub(crate) enum Block<'a> {
    Text(&'a str),
    Table(Table<'a>),
    List(List<'a>),
}

#[derive(Debug)]
pub(crate) struct List<'a> {
    pub(crate) text: &'a str,
    pub(crate) items: Vec<Item<'a>>,
}

/// A list item: the blank lines before it, its bullet line and its nested lines.
#[derive(Debug)]
pub(crate) struct Item<'a> {
    pub(crate) text: &'a str,
    pub(crate) key: Key<'a>,
}

impl<'a> Block<'a> {
    pub(crate) fn text(&self) -> &str {
        match self {
            Block::Text(text) => text,
            Block::Table(table) => table.text,
            Block::List(list) => list.text,
        }
    }

    pub(crate) fn table(&self) -> Option<&Table<'a>> {
        match self {
            Block::Table(table) => Some(table),
            _ => None,
        }
    }

    pub(crate) fn list(&self) -> Option<&List<'a>> {
        match self {
            Block::List(list) => Some(list),
            _ => None,
        }
    }

    pub(crate) fn shape(&self) -> u8 {
        match self {
            Block::Text(_) => 0,
            Block::Table(_) => 1,
            Block::List(_) => 2,
        }
    }
}

impl List<'_> {
    /// A list with no items: the base of one added on both sides.
    pub(crate) fn empty() -> Self {
        List {
            text: "",
            items: Vec::new(),
        }
    }
}

impl<'a> Section<'a> {
    /// A section with nothing in it: the base of one added on both sides.
    pub(crate) fn empty(key: Key<'a>) -> Self {
        Section {
            text: "",
            heading: "",
            body: "",
            blocks: Vec::new(),
            children: Vec::new(),
            key,
            blank_before: false,
        }
    }
}

impl<'a> Doc<'a> {
    pub(crate) fn parse(text: &'a str, options: &Options, ids: &Recognisers) -> Self {
        let mut starts: Vec<usize> =
            Vec::with_capacity(text.bytes().filter(|&b| b == b'\n').count() + 2);
        starts.push(0);
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        if starts.last() != Some(&text.len()) {
            starts.push(text.len());
        }
        let parser = Parser {
            src: text,
            levels: levels(text, &starts),
            starts,
            options,
            ids,
        };
        let (root, _) = parser.section(0, false);
        let unclosed_fence =
            parser.levels.last() == Some(&CODE) && !closes_fence(parser.line(parser.lines() - 1));
        Doc {
            root,
            unclosed_fence,
        }
    }

    /// The file again, assembled from the tree's leaves.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        write_section(&self.root, &mut out);
        out
    }

    /// Every table with its place: the keys of its sections and its number among their tables.
    pub(crate) fn tables(&self) -> Vec<(String, &Table<'a>)> {
        let mut out = Vec::new();
        collect_tables(&self.root, &mut String::new(), &mut out);
        out
    }

    /// Every table row of the file.
    pub(crate) fn rows(&self) -> impl Iterator<Item = &Row<'a>> {
        let mut sections = vec![&self.root];
        std::iter::from_fn(move || {
            let section = sections.pop()?;
            sections.extend(section.children.iter().rev());
            Some(section)
        })
        .flat_map(|s| s.blocks.iter().filter_map(Block::table))
        .flat_map(|t| &t.rows)
    }
}

fn collect_tables<'d, 'a>(
    section: &'d Section<'a>,
    path: &mut String,
    out: &mut Vec<(String, &'d Table<'a>)>,
) {
    for (n, table) in section.blocks.iter().filter_map(Block::table).enumerate() {
        out.push((format!("{path}|{n}"), table));
    }
    for child in &section.children {
        // One growing path, cut back after each child: no string per section.
        let len = path.len();
        path.push_str(&child.key.text);
        if child.key.nth > 0 {
            path.push_str(&format!(" (#{})", child.key.nth + 1));
        }
        path.push_str(" / ");
        collect_tables(child, path, out);
        path.truncate(len);
    }
}

fn write_section(section: &Section, out: &mut String) {
    out.push_str(section.heading);
    for block in &section.blocks {
        match block {
            Block::Text(text) => out.push_str(text),
            Block::Table(table) => {
                out.push_str(table.header.line);
                out.push_str(table.separator);
                table.rows.iter().for_each(|row| out.push_str(row.line));
            }
            Block::List(list) => list.items.iter().for_each(|item| out.push_str(item.text)),
        }
    }
    section.children.iter().for_each(|c| write_section(c, out));
}

struct Parser<'a, 'o> {
    src: &'a str,
    /// Byte offset of each line, and the text's length last.
    starts: Vec<usize>,
    /// Heading level of each line, 0 for not a heading; `CODE` inside fenced code.
    levels: Vec<u8>,
    options: &'o Options,
    ids: &'o Recognisers,
}

pub(crate) const CODE: u8 = u8::MAX;
/// The underline of a setext heading (`Title` over `=====` or `-----`), part of the heading above.
pub(crate) const UNDERLINE: u8 = u8::MAX - 1;

/// Whether a line's level (from [`levels`]) makes it a heading.
pub(crate) fn is_heading_level(level: u8) -> bool {
    level != 0 && level != CODE && level != UNDERLINE
}

impl<'a> Parser<'a, '_> {
    fn lines(&self) -> usize {
        self.starts.len() - 1
    }

    fn line(&self, i: usize) -> &'a str {
        &self.src[self.starts[i]..self.starts[i + 1]]
    }

    fn span(&self, from: usize, to: usize) -> &'a str {
        &self.src[self.starts[from]..self.starts[to]]
    }

    fn is_heading(&self, i: usize) -> bool {
        is_heading_level(self.levels[i])
    }

    fn section(&self, start: usize, heading: bool) -> (Section<'a>, usize) {
        let level = if heading { self.levels[start] } else { 0 };
        // A setext heading's underline is part of its heading.
        let underlined = heading && self.levels.get(start + 1) == Some(&UNDERLINE);
        let body_start = if heading {
            start + 1 + usize::from(underlined)
        } else {
            start
        };
        let mut end = body_start;
        while end < self.lines() && !self.is_heading(end) {
            end += 1;
        }
        let body_end = end;
        let blocks = self.blocks(body_start, body_end);
        let mut children = Vec::new();
        while end < self.lines() && self.is_heading(end) && self.levels[end] > level {
            let (child, next) = self.section(end, true);
            children.push(child);
            end = next;
        }
        number(&mut children, |c| &c.key, |c, n| c.key.nth = n);
        let heading_line = if heading {
            self.span(start, body_start)
        } else {
            ""
        };
        let section = Section {
            text: self.span(start, end),
            heading: heading_line,
            body: self.span(body_start, body_end),
            blocks,
            children,
            key: self.heading_key(heading_line),
            blank_before: heading && start > 0 && is_blank(self.line(start - 1)),
        };
        (section, end)
    }

    fn heading_key(&self, line: &'a str) -> Key<'a> {
        heading_key(line, self.ids)
    }

    fn blocks(&self, from: usize, to: usize) -> Vec<Block<'a>> {
        let mut blocks = Vec::new();
        let mut text_from = None;
        let mut i = from;
        while i < to {
            let structured = if self.levels[i] == CODE {
                None
            } else if self.is_table_start(i, to) {
                Some(self.table(i, to))
            } else if list_indent(self.line(i)).is_some() {
                Some(self.list(i, to))
            } else {
                None
            };
            match structured {
                Some((block, next)) => {
                    if let Some(start) = text_from.take() {
                        blocks.push(Block::Text(self.span(start, i)));
                    }
                    blocks.push(block);
                    i = next;
                }
                None => {
                    text_from.get_or_insert(i);
                    i += 1;
                }
            }
        }
        if let Some(start) = text_from {
            blocks.push(Block::Text(self.span(start, to)));
        }
        blocks
    }

    fn is_table_start(&self, i: usize, to: usize) -> bool {
        i + 1 < to
            && self.line(i).trim_start().starts_with('|')
            && self.levels[i + 1] != CODE
            && is_separator(self.line(i + 1))
    }

    fn table(&self, start: usize, to: usize) -> (Block<'a>, usize) {
        let mut end = start + 2;
        while end < to && self.levels[end] != CODE && self.line(end).trim_start().starts_with('|') {
            end += 1;
        }
        let header_cells = split_cells(self.line(start));
        let id_column = self
            .options
            .id_column
            .as_deref()
            .and_then(|name| {
                header_cells
                    .iter()
                    .position(|c| c.trim_matches('*').eq_ignore_ascii_case(name))
            })
            .unwrap_or(0);
        let mut rows: Vec<Row> = (start + 2..end)
            .map(|i| {
                let line = self.line(i);
                let cell = cells(line).nth(id_column).unwrap_or("");
                let key = match self.ids.any(cell) {
                    Some(id) => Key::new(id, true),
                    None => Key::new(cell, false),
                };
                Row { line, key }
            })
            .collect();
        number(&mut rows, |r| &r.key, |r, n| r.key.nth = n);
        let table = Table {
            text: self.span(start, end),
            header: Header {
                line: self.line(start),
                cells: header_cells,
            },
            separator: self.line(start + 1),
            rows,
        };
        (Block::Table(table), end)
    }

    /// A list at any indent: items are the bullets at its first item's indent (or less), each
    /// owning the lines indented deeper (its sub-bullets and paragraphs), so they travel with it.
    fn list(&self, start: usize, to: usize) -> (Block<'a>, usize) {
        let indent = list_indent(self.line(start)).expect("a list starts at a bullet");
        let mut items = Vec::new();
        let mut item_start = start;
        let mut i = start + 1;
        loop {
            // Nested lines, and blank lines followed by nested lines, belong to the item.
            let mut next = i;
            while next < to && is_blank(self.line(next)) {
                next += 1;
            }
            let nested = |line: &str| !is_blank(line) && indent_of(line) > indent;
            if next < to && nested(self.line(next)) && !self.is_heading(next) {
                i = next + 1;
                continue;
            }
            let key = self.item_key(self.span(item_start, i));
            items.push(Item {
                text: self.span(item_start, i),
                key,
            });
            // Blank lines before the next item are that item's: an appended item brings its own.
            if next < to && self.levels[next] != CODE && list_indent(self.line(next)).is_some() {
                item_start = i;
                i = next + 1;
            } else {
                break;
            }
        }
        number(&mut items, |i| &i.key, |i, n| i.key.nth = n);
        let list = List {
            text: self.span(start, i),
            items,
        };
        (Block::List(list), i)
    }

    fn item_key(&self, text: &'a str) -> Key<'a> {
        let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let content = strip_checkbox(strip_bullet(first.trim_start()).unwrap_or(first)).trim();
        match self.ids.primary(content) {
            Some(id) => Key::new(id, true),
            None => Key::new(content, false),
        }
    }
}

/// Whether a line (the last of a file) can be a closing fence: a run of backticks or tildes.
fn closes_fence(line: &str) -> bool {
    let rest = line.trim();
    rest.len() >= 3 && (rest.bytes().all(|b| b == b'`') || rest.bytes().all(|b| b == b'~'))
}

/// A heading line's key: the first ID in it, else its text as [`heading_text_key`] has it.
pub(crate) fn heading_key<'a>(line: &'a str, ids: &Recognisers) -> Key<'a> {
    // A setext heading's text is its first line.
    let line = line.split('\n').next().unwrap_or(line);
    let text = line
        .trim()
        .trim_start_matches('#')
        .trim_end_matches('#')
        .trim();
    match ids.any(text) {
        Some(id) => Key::new(id, true),
        None => Key::new(heading_text_key(text), false),
    }
}

/// The heading level of each line (0 for none), with fenced code marked `CODE`.
pub(crate) fn levels(src: &str, starts: &[usize]) -> Vec<u8> {
    let mut fence: Option<(u8, usize)> = None;
    let mut levels: Vec<u8> = (0..starts.len() - 1)
        .map(|i| {
            let line = &src[starts[i]..starts[i + 1]];
            let indent = line.len() - line.trim_start_matches(' ').len();
            let rest = &line[indent..];
            let run = |c: u8| rest.bytes().take_while(|&b| b == c).count();
            let opener = [b'`', b'~']
                .into_iter()
                .map(|c| (c, run(c)))
                .find(|&(_, n)| n >= 3 && indent <= 3);
            match (fence, opener) {
                (Some((c, n)), Some((c2, n2)))
                    if c == c2 && n2 >= n && rest[n2..].trim().is_empty() =>
                {
                    fence = None;
                    CODE
                }
                (Some(_), _) => CODE,
                (None, Some(open)) => {
                    fence = Some(open);
                    CODE
                }
                (None, None) => heading_level(line),
            }
        })
        .collect();
    // Setext headings: a line of text right under a blank line (or the file's start), over a
    // line of `=` (level 1) or `-` (level 2).
    let line = |i: usize| &src[starts[i]..starts[i + 1]];
    for i in 1..levels.len() {
        let Some(level) = underline_level(line(i)) else {
            continue;
        };
        let text = line(i - 1);
        let opens = i == 1 || line(i - 2).trim().is_empty();
        let plain = !text.trim().is_empty()
            && !text.starts_with([' ', '\t', '|', '>'])
            && strip_bullet(text).is_none();
        if levels[i - 1] == 0 && levels[i] == 0 && opens && plain {
            levels[i - 1] = level;
            levels[i] = UNDERLINE;
        }
    }
    levels
}

/// The level a setext underline gives the line above it: 1 for `===`, 2 for `---`.
fn underline_level(line: &str) -> Option<u8> {
    let rest = line.trim_end();
    let indent = rest.len() - rest.trim_start_matches(' ').len();
    let rest = &rest[indent..];
    let level = match rest.as_bytes().first()? {
        b'=' => 1,
        b'-' => 2,
        _ => return None,
    };
    (indent <= 3 && rest.len() >= 2 && rest.bytes().all(|b| b == rest.as_bytes()[0]))
        .then_some(level)
}

fn heading_level(line: &str) -> u8 {
    let hashes = line.bytes().take_while(|&b| b == b'#').count();
    let rest = &line[hashes..];
    if (1..=6).contains(&hashes) && (rest.trim().is_empty() || rest.starts_with([' ', '\t'])) {
        hashes as u8
    } else {
        0
    }
}

/// A heading's text as a key: spelling that people and tools vary left out (brackets, case,
/// spacing, a trailing `#` run), and so are parenthesised dates, counts and release states
/// (`(2026-02-04)`, `(unreleased)`) and a trailing date (`- 2026-12-01`), which change when a
/// release is re-dated or cut: `## [1.4.0] - 2026-12-01` and `## 1.4.0 (unreleased)` are one key.
pub(crate) fn heading_text_key(text: &str) -> String {
    let mut kept = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('(') {
        let Some(close) = rest[open..].find(')') else {
            break;
        };
        let inner = &rest[open..open + close + 1];
        kept.push_str(&rest[..open]);
        if !inner.bytes().any(|b| b.is_ascii_digit()) && !is_release_state(inner) {
            kept.push_str(inner);
        }
        rest = &rest[open + close + 1..];
    }
    kept.push_str(rest);
    let lower = kept.replace(['[', ']'], " ").to_lowercase();
    let mut words: Vec<&str> = lower.split_whitespace().collect();
    while words.len() > 1 && words.last().is_some_and(|w| is_date_word(w)) {
        words.pop();
    }
    words.join(" ")
}

/// A release state written in parentheses after a version, which a release replaces by a date.
fn is_release_state(inner: &str) -> bool {
    let inner = inner.trim_matches(['(', ')', ' ']).to_ascii_lowercase();
    [
        "unreleased",
        "upcoming",
        "not released",
        "not yet released",
        "tbd",
        "tba",
        "in progress",
    ]
    .contains(&inner.as_str())
}

/// A word of a trailing date or its separator: `2026-12-01`, `2026/12/01`, `december`, `1,`, `-`.
fn is_date_word(word: &str) -> bool {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let year = word
        .as_bytes()
        .windows(4)
        .any(|w| w.iter().all(u8::is_ascii_digit))
        && word
            .bytes()
            .all(|b| b.is_ascii_digit() || b"-/.,".contains(&b));
    let day = word.ends_with(',')
        && word.len() <= 3
        && word[..word.len() - 1].bytes().all(|b| b.is_ascii_digit());
    let month = word.len() >= 3
        && MONTHS.iter().any(|m| word.starts_with(m))
        && word
            .bytes()
            .all(|b| b.is_ascii_alphabetic() || b == b'.' || b == b',');
    year || day || month || matches!(word, "-" | "\u{2013}" | "\u{2014}" | ":" | "|")
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// Columns of leading whitespace, a tab counting four.
fn indent_of(line: &str) -> usize {
    line.bytes()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .map(|b| if b == b'\t' { 4 } else { 1 })
        .sum()
}

/// The indent of a bullet line that can start a list: up to three columns, as Markdown allows
/// outside a list (four would be indented code).
fn list_indent(line: &str) -> Option<usize> {
    let indent = indent_of(line);
    (indent <= 3 && is_bullet(line.trim_start_matches([' ', '\t']))).then_some(indent)
}

pub(crate) fn is_bullet(line: &str) -> bool {
    strip_bullet(line).is_some()
}

/// The text after a list marker at the start of `line` (`- `, `* `, `+ `, `1. `, `1) `).
fn strip_bullet(line: &str) -> Option<&str> {
    if let Some(rest) = line
        .strip_prefix("- ")
        .or_else(|| line.strip_prefix("* "))
        .or_else(|| line.strip_prefix("+ "))
    {
        return Some(rest);
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=9).contains(&digits) {
        let rest = &line[digits..];
        return rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") "));
    }
    None
}

fn strip_checkbox(text: &str) -> &str {
    for box_ in ["[ ] ", "[x] ", "[X] "] {
        if let Some(rest) = text.strip_prefix(box_) {
            return rest;
        }
    }
    text
}

fn is_separator(line: &str) -> bool {
    let line = line.trim();
    line.contains('-')
        && line.contains('|')
        && line
            .bytes()
            .all(|b| matches!(b, b'|' | b':' | b'-' | b' ' | b'\t'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Kind;

    fn parse(text: &str) -> Doc<'_> {
        let options = Options::default();
        let ids = Box::leak(Box::new(Recognisers::new(Kind::ROADMAP, &options).unwrap()));
        Doc::parse(text, Box::leak(Box::new(options)), ids)
    }

    #[test]
    fn headings_inside_code_are_code() {
        let doc = parse("# A\n```sh\n# not a heading\n| a |\n|---|\n```\n## B\n");
        assert_eq!(doc.root.children.len(), 1);
        let a = &doc.root.children[0];
        assert_eq!(a.children.len(), 1);
        assert_eq!(a.blocks.len(), 1);
        assert!(matches!(a.blocks[0], Block::Text(_)));
    }

    #[test]
    fn items_own_their_nested_lines_and_the_blank_lines_before_them() {
        let text = "- [x] **CL-001: a**\n  - sub\n\n  more\n\n- [ ] **CL-002: b**\n\nprose\n";
        let doc = parse(text);
        let Block::List(list) = &doc.root.blocks[0] else {
            panic!("{:?}", doc.root.blocks)
        };
        let keys: Vec<_> = list.items.iter().map(|i| &*i.key.text).collect();
        assert_eq!(keys, ["CL-001", "CL-002"]);
        assert_eq!(list.items[1].text, "\n- [ ] **CL-002: b**\n");
        assert_eq!(doc.render(), text);
    }

    #[test]
    fn setext_headings_are_sections_and_rules_under_items_are_not() {
        let text = "2.16.0\n------\n- Bootstrap 3\n\n2.15.0\n======\n\n- Retries\n---\n";
        let doc = parse(text);
        let keys: Vec<_> = doc.root.children.iter().map(|c| &*c.key.text).collect();
        assert_eq!(keys, ["2.16.0", "2.15.0"]);
        assert_eq!(doc.root.children[0].heading, "2.16.0\n------\n");
        assert_eq!(doc.render(), text);
    }

    #[test]
    fn rows_are_keyed_by_id_and_repeats_by_order() {
        let doc = parse("| Task | x |\n|---|---|\n| ST-005 | a |\n| TOTAL | 1 |\n| TOTAL | 2 |\n");
        let Block::Table(table) = &doc.root.blocks[0] else {
            panic!()
        };
        let keys: Vec<_> = table.rows.iter().map(|r| r.key.to_string()).collect();
        assert_eq!(keys, ["ST-005", "TOTAL", "TOTAL (#2)"]);
    }

    #[test]
    fn heading_keys_ignore_parenthesised_dates() {
        assert_eq!(
            heading_text_key("✅ Completed/Archived (2026-02-04)"),
            "✅ completed/archived"
        );
        assert_eq!(heading_text_key("Notes (draft)"), "notes (draft)");
        for variant in [
            "[Unreleased]",
            "Unreleased  ",
            "unreleased",
            "[Unreleased] - 2026-12-01",
        ] {
            assert_eq!(heading_text_key(variant), "unreleased", "{variant}");
        }
        for variant in [
            "0.8.21 (unreleased)",
            "0.8.21 (2023-07-19)",
            "[0.8.21] - 2023-07-19",
        ] {
            assert_eq!(heading_text_key(variant), "0.8.21", "{variant}");
        }
        assert_eq!(heading_text_key("v2.0 — December 1, 2026"), "v2.0");
        assert_eq!(heading_text_key("2026"), "2026");
    }
}
