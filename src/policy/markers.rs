//! Conflict blocks in text: an opening marker line followed by a later closing one. A marker is
//! what git writes and `git diff --check` finds: exactly `size` `<` (or `>`) at the start of a
//! line, then whitespace or the line's end; `size` is 7 unless the file's `conflict-marker-size`
//! attribute says otherwise.
//!
//! A push must never add one. "Add" is judged per block, not per line: a block of the new text
//! whose exact lines already formed a block of an old text (the file before, or the file a rename
//! came from) was not added by this push.

use std::collections::HashMap;

/// A conflict block: the 1-based line it opens at, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block<'a> {
    pub line: usize,
    pub text: &'a [u8],
}

/// git's marker length without a `conflict-marker-size` attribute.
pub const DEFAULT_SIZE: usize = 7;

/// A quick look before the real one, for markers of any length (the file's
/// `conflict-marker-size` is not known yet): does some line open with a run of `<` that a later
/// line closes with a run of `>` as long, each run followed by whitespace or the line's end?
pub fn may_hold_blocks(text: &[u8]) -> bool {
    // Most files hold no line starting with `<` at all: the scan stops at the first byte test.
    let mut opened: Vec<usize> = Vec::new();
    for line in text.split(|b| *b == b'\n') {
        match line.first() {
            Some(b'<') => {
                if let Some(size) = run(line, b'<')
                    && !opened.contains(&size)
                {
                    opened.push(size);
                }
            }
            Some(b'>')
                if !opened.is_empty()
                    && run(line, b'>').is_some_and(|size| opened.contains(&size)) =>
            {
                return true;
            }
            _ => {}
        }
    }
    false
}

/// The length of the run of `c` that starts `line`, if whitespace or the line's end follows it.
fn run(line: &[u8], c: u8) -> Option<usize> {
    let size = line.iter().take_while(|&&b| b == c).count();
    (size > 0 && line.get(size).is_none_or(u8::is_ascii_whitespace)).then_some(size)
}

/// Whether `line` is a marker of `size` characters `c`.
fn is_marker(line: &[u8], c: u8, size: usize) -> bool {
    line.len() > size && line[..size].iter().all(|&b| b == c) && line[size].is_ascii_whitespace()
        || line.len() == size && line.iter().all(|&b| b == c)
}

/// How many bytes git looks at to call a file binary (`FIRST_FEW_BYTES` in its `xdiff-interface.c`).
const FIRST_FEW_BYTES: usize = 8000;

/// Whether git calls `text` binary when no attribute says: a NUL byte in its first 8,000 bytes.
/// A NUL after them leaves it text, whose markers `git diff --check` flags.
pub fn is_binary(text: &[u8]) -> bool {
    text[..text.len().min(FIRST_FEW_BYTES)].contains(&0)
}

/// Every conflict block in `text` with markers of `size`, in order (binary or not: see
/// [`is_binary`]).
pub fn blocks(text: &[u8], size: usize) -> Vec<Block<'_>> {
    let mut found = Vec::new();
    let mut open: Option<(usize, usize)> = None;
    let mut offset = 0;
    for (index, line) in text.split_inclusive(|b| *b == b'\n').enumerate() {
        if is_marker(line, b'<', size) && open.is_none() {
            open = Some((index + 1, offset));
        } else if is_marker(line, b'>', size)
            && let Some((start_line, start)) = open.take()
        {
            found.push(Block {
                line: start_line,
                text: &text[start..offset + line.len()],
            });
        }
        offset += line.len();
    }
    found
}

/// The first block of `new` that none of `old` already had, by line number.
pub fn first_added(old: &[&[u8]], new: &[u8], size: usize) -> Option<usize> {
    let mut before: HashMap<&[u8], usize> = HashMap::new();
    for block in old.iter().flat_map(|o| blocks(o, size)) {
        *before.entry(block.text).or_default() += 1;
    }
    blocks(new, size)
        .into_iter()
        .find_map(|block| match before.get_mut(block.text) {
            Some(count) if *count > 0 => {
                *count -= 1;
                None
            }
            _ => Some(block.line),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFLICT: &str = "a\n<<<<<<< HEAD\nours\n=======\ntheirs\n>>>>>>> topic\nb\n";

    #[test]
    fn finds_a_block_and_its_line() {
        assert_eq!(first_added(&[b"a\nb\n"], CONFLICT.as_bytes(), 7), Some(2));
    }

    #[test]
    fn an_opening_line_alone_is_not_a_block() {
        assert_eq!(first_added(&[], b"<<<<<<< just text\nmore\n", 7), None);
        assert_eq!(first_added(&[], b">>>>>>> quote\n<<<<<<< x\n", 7), None);
    }

    #[test]
    fn a_block_already_there_was_not_added() {
        let moved = format!("header\n{CONFLICT}");
        assert_eq!(
            first_added(&[CONFLICT.as_bytes()], moved.as_bytes(), 7),
            None
        );
        let twice = format!("{CONFLICT}{CONFLICT}");
        assert_eq!(
            first_added(&[CONFLICT.as_bytes()], twice.as_bytes(), 7),
            Some(9)
        );
        assert_eq!(
            first_added(&[b"x", CONFLICT.as_bytes()], moved.as_bytes(), 7),
            None
        );
    }

    #[test]
    fn markers_have_the_files_own_length() {
        let long = "<<<<<<<<<< ours\na\n==========\nb\n>>>>>>>>>> theirs\n";
        assert_eq!(first_added(&[], long.as_bytes(), 10), Some(1));
        assert_eq!(first_added(&[], long.as_bytes(), 7), None);
        assert_eq!(first_added(&[], CONFLICT.as_bytes(), 10), None);
        assert_eq!(first_added(&[], b"<<<<<<<\n>>>>>>>\n", 7), Some(1));
    }

    #[test]
    fn the_quick_look_sees_markers_of_every_length() {
        for size in [1, 3, 5, 7, 10, 40] {
            let (open, close) = ("<".repeat(size), ">".repeat(size));
            let text = format!("x\n{open} ours\na\n{close}\n");
            assert!(may_hold_blocks(text.as_bytes()), "{size}");
            assert_eq!(first_added(&[], text.as_bytes(), size), Some(2), "{size}");
        }
        assert!(may_hold_blocks(CONFLICT.as_bytes()));
        assert!(may_hold_blocks(b"<<<<<<< a\r\nb\r\n>>>>>>> c\r\n"));
        assert!(
            !may_hold_blocks(b"<div>\n> quoted\n"),
            "no run ends in whitespace"
        );
        assert!(!may_hold_blocks(b"<< a\n>>> b\n"), "different lengths");
        assert!(
            !may_hold_blocks(b">>> b\n<<< a\n"),
            "closed before it opened"
        );
        assert!(
            !may_hold_blocks(b"a <<<<<<< b\n>>>>>>> c\n"),
            "not at a line's start"
        );
    }

    #[test]
    fn binary_is_a_nul_in_the_first_8000_bytes() {
        let mut data = CONFLICT.as_bytes().to_vec();
        data.push(0);
        assert!(is_binary(&data));
        let mut late = vec![b'x'; FIRST_FEW_BYTES];
        late.push(0);
        late.extend_from_slice(CONFLICT.as_bytes());
        assert!(!is_binary(&late));
        assert_eq!(blocks(&late, 7).len(), 1);
    }
}
