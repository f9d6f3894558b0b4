//! Conflict blocks in text: a line starting `<<<<<<<` followed by a later line starting `>>>>>>>`.
//!
//! A push must never add one. "Add" is judged per block, not per line: a block of the new text
//! whose exact lines already formed a block of the old text (a file moved or edited elsewhere) was
//! not added by this push.

use std::collections::HashMap;

/// A conflict block: the 1-based line it opens at, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block<'a> {
    pub line: usize,
    pub text: &'a [u8],
}

/// Every conflict block in `text`, in order. Binary data (a NUL byte) has none.
pub fn blocks(text: &[u8]) -> Vec<Block<'_>> {
    if text.contains(&0) {
        return Vec::new();
    }
    let mut found = Vec::new();
    let mut open: Option<(usize, usize)> = None;
    let mut offset = 0;
    for (index, line) in text.split_inclusive(|b| *b == b'\n').enumerate() {
        if line.starts_with(b"<<<<<<<") && open.is_none() {
            open = Some((index + 1, offset));
        } else if line.starts_with(b">>>>>>>")
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

/// The first block of `new` that `old` did not already have, by line number.
pub fn first_added(old: &[u8], new: &[u8]) -> Option<usize> {
    let mut before: HashMap<&[u8], usize> = HashMap::new();
    for block in blocks(old) {
        *before.entry(block.text).or_default() += 1;
    }
    blocks(new)
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
        assert_eq!(first_added(b"a\nb\n", CONFLICT.as_bytes()), Some(2));
    }

    #[test]
    fn an_opening_line_alone_is_not_a_block() {
        assert_eq!(first_added(b"", b"<<<<<<< just text\nmore\n"), None);
        assert_eq!(first_added(b"", b">>>>>>> quote\n<<<<<<< x\n"), None);
    }

    #[test]
    fn a_block_already_there_was_not_added() {
        let moved = format!("header\n{CONFLICT}");
        assert_eq!(first_added(CONFLICT.as_bytes(), moved.as_bytes()), None);
        let twice = format!("{CONFLICT}{CONFLICT}");
        assert_eq!(first_added(CONFLICT.as_bytes(), twice.as_bytes()), Some(9));
    }

    #[test]
    fn binary_has_no_blocks() {
        let mut data = CONFLICT.as_bytes().to_vec();
        data.push(0);
        assert!(blocks(&data).is_empty());
    }
}
