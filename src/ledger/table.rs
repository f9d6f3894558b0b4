//! Markdown tables: a table, its header and rows; splitting rows into cells, and writing rows in a
//! table's own style.
//!
//! A table is "aligned" when re-padding it with our column widths reproduces it byte for byte;
//! otherwise it is compact and rows we write get one space either side of each cell. Deciding by
//! reproduction means a width we get wrong (an exotic emoji) costs looks, never content.

use super::ids::Key;

#[derive(Debug)]
pub(crate) struct Table<'a> {
    pub(crate) text: &'a str,
    pub(crate) header: Header<'a>,
    pub(crate) separator: &'a str,
    pub(crate) rows: Vec<Row<'a>>,
}

impl<'a> Table<'a> {
    /// This table's header with no rows: the base of a table added on both sides.
    pub(crate) fn empty(&self) -> Self {
        Table {
            text: "",
            header: Header {
                line: self.header.line,
                cells: self.header.cells.clone(),
            },
            separator: self.separator,
            rows: Vec::new(),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Header<'a> {
    pub(crate) line: &'a str,
    /// Cell contents, trimmed: padding is never content.
    pub(crate) cells: Vec<&'a str>,
}

/// A table row; its cells are split from `line` where needed (`Row::cells`), not kept, since
/// most rows of a large ledger are only ever compared whole.
#[derive(Debug)]
pub(crate) struct Row<'a> {
    pub(crate) line: &'a str,
    pub(crate) key: Key<'a>,
}

impl<'a> Row<'a> {
    /// Cell contents, trimmed: padding is never content.
    pub(crate) fn cells(&self) -> Vec<&'a str> {
        split_cells(self.line)
    }

    pub(crate) fn same_cells(&self, other: &Row) -> bool {
        same_cells(self.line, other.line)
    }
}

/// The trimmed cells of a table line; `\|` is a pipe inside a cell, not a border.
pub(crate) fn split_cells(line: &str) -> Vec<&str> {
    cells(line).collect()
}

/// The trimmed cells of a table line, one by one: rows are split only where they are compared.
pub(crate) fn cells(line: &str) -> impl Iterator<Item = &str> {
    let mut s = line.trim();
    s = s.strip_prefix('|').unwrap_or(s);
    if s.ends_with('|') && !s.ends_with("\\|") {
        s = &s[..s.len() - 1];
    }
    let bytes = s.as_bytes();
    let ends =
        (0..bytes.len()).filter(move |&i| bytes[i] == b'|' && (i == 0 || bytes[i - 1] != b'\\'));
    let mut start = 0;
    ends.chain([s.len()]).map(move |end| {
        let cell = s[start..end].trim();
        start = end + 1;
        cell
    })
}

/// Whether two table lines hold the same cells, padding aside.
pub(crate) fn same_cells(a: &str, b: &str) -> bool {
    a == b || cells(a).eq(cells(b))
}

/// How a table lays out its cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Style {
    /// Every column padded to these widths.
    Aligned(Vec<usize>),
    /// One space either side of each cell.
    Compact,
}

impl Style {
    pub(crate) fn of(table: &Table) -> Style {
        let columns = table.header.cells.len();
        let lines = || std::iter::once(table.header.line).chain(table.rows.iter().map(|r| r.line));
        if lines().any(|l| cells(l).count() != columns) {
            return Style::Compact;
        }
        let separator = split_cells(table.separator);
        if separator.len() != columns {
            return Style::Compact;
        }
        let mut widths = vec![3; columns];
        for line in lines() {
            for (w, cell) in widths.iter_mut().zip(cells(line)) {
                *w = (*w).max(width(cell));
            }
        }
        let eol = line_end(table.header.line);
        let (mut line, mut row) = (String::new(), Vec::with_capacity(columns));
        for original in lines() {
            row.clear();
            row.extend(cells(original));
            line.clear();
            write_row(&row, Some(&widths), eol, &mut line);
            if line != original {
                return Style::Compact;
            }
        }
        line.clear();
        write_separator(&separator, &widths, eol, &mut line);
        if line != table.separator {
            return Style::Compact;
        }
        Style::Aligned(widths)
    }
}

/// The widths that fit every cell, at least 3 as the separator's `---` needs.
pub(crate) fn column_widths<'c, S: AsRef<str> + 'c>(
    columns: usize,
    rows: impl Iterator<Item = &'c [S]>,
) -> Vec<usize> {
    let mut widths = vec![3; columns];
    for cells in rows {
        for (w, cell) in widths.iter_mut().zip(cells) {
            *w = (*w).max(width(cell.as_ref()));
        }
    }
    widths
}

/// Writes one row: padded to `widths` when given, compact otherwise.
pub(crate) fn write_row<S: AsRef<str>>(
    cells: &[S],
    widths: Option<&[usize]>,
    eol: &str,
    out: &mut String,
) {
    out.push('|');
    for (i, cell) in cells.iter().enumerate() {
        let cell = cell.as_ref();
        out.push(' ');
        out.push_str(cell);
        let pad = widths
            .and_then(|w| w.get(i))
            .map_or(0, |&w| w.saturating_sub(width(cell)));
        out.extend(std::iter::repeat_n(' ', pad));
        out.push_str(" |");
    }
    out.push_str(eol);
}

/// Writes the `| --- | :-: |` line for `widths`, keeping each column's alignment colons.
pub(crate) fn write_separator(cells: &[&str], widths: &[usize], eol: &str, out: &mut String) {
    out.push('|');
    for (i, &w) in widths.iter().enumerate() {
        let spec = cells.get(i).copied().unwrap_or("---");
        let (left, right) = (spec.starts_with(':'), spec.len() > 1 && spec.ends_with(':'));
        let dashes = w - usize::from(left) - usize::from(right);
        out.push(' ');
        if left {
            out.push(':');
        }
        out.extend(std::iter::repeat_n('-', dashes));
        if right {
            out.push(':');
        }
        out.push_str(" |");
    }
    out.push_str(eol);
}

pub(crate) fn line_end(line: &str) -> &'static str {
    if line.ends_with("\r\n") {
        "\r\n"
    } else if line.ends_with('\n') {
        "\n"
    } else {
        ""
    }
}

/// Display width in a monospace editor: wide East Asian characters and emoji take two columns,
/// joiners and variation selectors none. An approximation; see the module doc for why that is safe.
pub(crate) fn width(s: &str) -> usize {
    if s.is_ascii() {
        return s.len();
    }
    s.chars().map(char_width).sum()
}

fn char_width(c: char) -> usize {
    let c = c as u32;
    match c {
        0x0300..=0x036F | 0x200B..=0x200F | 0x20D0..=0x20FF | 0xFE00..=0xFE0F => 0,
        0x1100..=0x115F
        | 0x231A..=0x231B
        | 0x23E9..=0x23EC
        | 0x23F0
        | 0x23F3
        | 0x25FD..=0x25FE
        | 0x2614..=0x2615
        | 0x2648..=0x2653
        | 0x267F
        | 0x2693
        | 0x26A1
        | 0x26AA..=0x26AB
        | 0x26BD..=0x26BE
        | 0x26C4..=0x26C5
        | 0x26CE
        | 0x26D4
        | 0x26EA
        | 0x26F2..=0x26F3
        | 0x26F5
        | 0x26FA
        | 0x26FD
        | 0x2705
        | 0x270A..=0x270B
        | 0x2728
        | 0x274C
        | 0x274E
        | 0x2753..=0x2755
        | 0x2757
        | 0x2795..=0x2797
        | 0x27B0
        | 0x27BF
        | 0x2B1B..=0x2B1C
        | 0x2B50
        | 0x2B55
        | 0x2E80..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x1F004
        | 0x1F0CF
        | 0x1F18E
        | 0x1F191..=0x1F19A
        | 0x1F200..=0x1F2FF
        | 0x1F300..=0x1F64F
        | 0x1F680..=0x1F6FF
        | 0x1F900..=0x1F9FF
        | 0x1FA70..=0x1FAFF
        | 0x20000..=0x3FFFD => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_trimmed_and_escaped_pipes_kept() {
        assert_eq!(
            split_cells("| ST-005 |  a \\| b | ✅ COMPLETE |\n"),
            ["ST-005", "a \\| b", "✅ COMPLETE"]
        );
        assert_eq!(split_cells("a | b"), ["a", "b"]);
    }

    #[test]
    fn emoji_status_cells_are_two_columns_wider() {
        assert_eq!(width("✅ COMPLETE"), 11);
        assert_eq!(width("Status"), 6);
    }
}
