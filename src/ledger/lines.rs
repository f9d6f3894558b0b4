//! Line-based three-way merge, the way `git merge-file` does it (diff3 over lines, conflicts
//! narrowed to the lines that really differ). Used for prose inside ledgers and as the fallback
//! for whole files the record merge cannot vouch for.

use std::ops::Range;

use imara_diff::intern::{InternedInput, Interner};
use imara_diff::{Algorithm, diff};

/// How conflict markers look: `%L` characters long, in the file's line ending.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Markers {
    pub(crate) size: usize,
    pub(crate) eol: &'static str,
}

impl Markers {
    /// Writes one conflict: ours, then theirs, each between marker lines.
    pub(crate) fn write<L: AsRef<[u8]>>(&self, ours: &[L], theirs: &[L], out: &mut Vec<u8>) {
        self.marker(b'<', " ours", out);
        for line in ours {
            push_line(out, line.as_ref(), self.eol);
        }
        self.marker(b'=', "", out);
        for line in theirs {
            push_line(out, line.as_ref(), self.eol);
        }
        self.marker(b'>', " theirs", out);
    }

    fn marker(&self, c: u8, label: &str, out: &mut Vec<u8>) {
        end_line(out, self.eol);
        out.extend(std::iter::repeat_n(c, self.size));
        out.extend_from_slice(label.as_bytes());
        out.extend_from_slice(self.eol.as_bytes());
    }
}

/// Splits text into lines, each keeping its terminator; the last may have none.
pub(crate) fn split_lines(text: &[u8]) -> Vec<&[u8]> {
    text.split_inclusive(|&b| b == b'\n').collect()
}

/// Ends the output's last line if it has no terminator, so that appending starts a new line.
/// Only merges create such joins: in an input, only the last line may lack its terminator.
pub(crate) fn end_line(out: &mut Vec<u8>, eol: &str) {
    if out.last().is_some_and(|&b| b != b'\n') {
        out.extend_from_slice(eol.as_bytes());
    }
}

/// Appends one line (or several), starting it on a line of its own.
pub(crate) fn push_line(out: &mut Vec<u8>, line: &[u8], eol: &str) {
    end_line(out, eol);
    out.extend_from_slice(line);
}

/// Resolves a hunk both sides changed differently, or returns `None` to leave it a conflict.
pub(crate) type Resolver<'r, 'a> =
    dyn FnMut(&[&'a [u8]], &[&'a [u8]], &[&'a [u8]]) -> Option<Vec<&'a [u8]>> + 'r;

/// Three-way merges lines into `out`; returns how many conflicts it wrote.
pub(crate) fn merge<'a>(
    base: &[&'a [u8]],
    ours: &[&'a [u8]],
    theirs: &[&'a [u8]],
    markers: Markers,
    resolve: &mut Resolver<'_, 'a>,
    out: &mut Vec<u8>,
) -> usize {
    if ours == base || ours == theirs {
        theirs.iter().for_each(|l| push_line(out, l, markers.eol));
        return 0;
    }
    if theirs == base {
        ours.iter().for_each(|l| push_line(out, l, markers.eol));
        return 0;
    }
    let to_ours = matches(base, ours);
    let to_theirs = matches(base, theirs);
    let (mut b, mut o, mut t) = (0, 0, 0);
    let mut conflicts = 0;
    loop {
        // Lines kept by both sides at the same place pass through.
        while b < base.len() && to_ours[b] == Some(o) && to_theirs[b] == Some(t) {
            push_line(out, base[b], markers.eol);
            (b, o, t) = (b + 1, o + 1, t + 1);
        }
        // The next base line both sides kept closes the unstable hunk.
        let end = (b..base.len()).find(|&i| to_ours[i].is_some() && to_theirs[i].is_some());
        let (be, oe, te) = match end {
            Some(i) => (
                i,
                to_ours[i].expect("found above"),
                to_theirs[i].expect("found above"),
            ),
            None => (base.len(), ours.len(), theirs.len()),
        };
        if (b, o, t) == (be, oe, te) {
            break;
        }
        conflicts += hunk(
            &base[b..be],
            &ours[o..oe],
            &theirs[t..te],
            markers,
            resolve,
            out,
        );
        (b, o, t) = (be, oe, te);
    }
    conflicts
}

fn hunk<'a>(
    base: &[&'a [u8]],
    ours: &[&'a [u8]],
    theirs: &[&'a [u8]],
    markers: Markers,
    resolve: &mut Resolver<'_, 'a>,
    out: &mut Vec<u8>,
) -> usize {
    let chosen = if ours == base || ours == theirs {
        theirs
    } else if theirs == base {
        ours
    } else if let Some(lines) = resolve(base, ours, theirs) {
        lines.iter().for_each(|l| push_line(out, l, markers.eol));
        return 0;
    } else {
        // Like git's zealous merge: lines both sides agree on stay outside the markers.
        let head = common_prefix(ours, theirs);
        let tail = common_prefix_rev(&ours[head..], &theirs[head..]);
        ours[..head]
            .iter()
            .for_each(|l| push_line(out, l, markers.eol));
        markers.write(
            &ours[head..ours.len() - tail],
            &theirs[head..theirs.len() - tail],
            out,
        );
        ours[ours.len() - tail..]
            .iter()
            .for_each(|l| push_line(out, l, markers.eol));
        return 1;
    };
    chosen.iter().for_each(|l| push_line(out, l, markers.eol));
    0
}

fn common_prefix(a: &[&[u8]], b: &[&[u8]]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

fn common_prefix_rev(a: &[&[u8]], b: &[&[u8]]) -> usize {
    a.iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

/// For each base line, the index of the side's line it is kept as, if kept.
pub(crate) fn matches(base: &[&[u8]], side: &[&[u8]]) -> Vec<Option<usize>> {
    let mut input = InternedInput {
        before: Vec::new(),
        after: Vec::new(),
        interner: Interner::new(base.len() + side.len()),
    };
    input.update_before(base.iter().copied());
    input.update_after(side.iter().copied());
    let mut map = vec![None; base.len()];
    let (mut b, mut s) = (0usize, 0usize);
    let keep = |upto: usize, map: &mut Vec<Option<usize>>, b: &mut usize, s: &mut usize| {
        while *b < upto {
            map[*b] = Some(*s);
            *b += 1;
            *s += 1;
        }
    };
    diff(
        Algorithm::Myers,
        &input,
        |before: Range<u32>, after: Range<u32>| {
            keep(before.start as usize, &mut map, &mut b, &mut s);
            b = before.end as usize;
            s = after.end as usize;
        },
    );
    keep(base.len(), &mut map, &mut b, &mut s);
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(base: &str, ours: &str, theirs: &str) -> (String, usize) {
        let (b, o, t) = (
            split_lines(base.as_bytes()),
            split_lines(ours.as_bytes()),
            split_lines(theirs.as_bytes()),
        );
        let mut out = Vec::new();
        let markers = Markers { size: 7, eol: "\n" };
        let n = merge(&b, &o, &t, markers, &mut |_, _, _| None, &mut out);
        (String::from_utf8(out).unwrap(), n)
    }

    #[test]
    fn separate_changes_merge_cleanly() {
        let (out, n) = run("a\nb\nc\nd\ne\n", "A\nb\nc\nd\ne\n", "a\nb\nc\nd\nE\n");
        assert_eq!((out.as_str(), n), ("A\nb\nc\nd\nE\n", 0));
    }

    #[test]
    fn clash_is_marked_around_the_differing_lines_only() {
        let (out, n) = run("a\nb\nc\n", "a\nB1\nc\n", "a\nB2\nc\n");
        assert_eq!(n, 1);
        assert_eq!(out, "a\n<<<<<<< ours\nB1\n=======\nB2\n>>>>>>> theirs\nc\n");
    }

    #[test]
    fn missing_final_newline_never_glues_lines() {
        let (out, n) = run("a", "a\nb", "a\nc");
        assert_eq!(n, 1);
        assert_eq!(out, "a\n<<<<<<< ours\nb\n=======\nc\n>>>>>>> theirs\n");
    }
}
