//! Headings renamed, re-levelled or cut into a release on one side, followed on the other.
//!
//! The entry-by-entry merge matches sections by the key of their heading and nests them by
//! level, so a heading one side renamed (`## Unreleased` to `## 1.4.0 (2026-12-01)`) or
//! re-levelled (`#### Fixed` to `### Fixed`) would look like a section deleted and another added.
//! Before the merge, such a heading gets its new line in the base and in the other side as well,
//! where that side left it alone: the merge then sees one section, edited. A release cut (a side
//! turned `## [Unreleased]` into a release and opened a fresh `## [Unreleased]` above it) is
//! followed as a person would follow it: the other side's edits of released entries stay in the
//! release, and the entries it added go to the fresh `Unreleased`, under their sub-headings.
//! Only text-keyed headings are renamed, and only where most of the old section's lines are in
//! the new one.

use super::hash::Set;
use super::ids::Recognisers;
use super::lines::matches;
use super::model::{Doc, Section, heading_key, is_heading_level, levels};

struct Heading {
    line: usize,
    level: u8,
    key: String,
    /// Keyed by an ID (`### REL-001`): another ID is another section, never a rename.
    id: bool,
}

struct File<'a> {
    lines: Vec<&'a str>,
    headings: Vec<Heading>,
}

impl<'a> File<'a> {
    fn new(text: &'a str, ids: &Recognisers) -> Self {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let mut starts = Vec::with_capacity(lines.len() + 1);
        starts.push(0);
        starts.extend(lines.iter().scan(0, |at, l| {
            *at += l.len();
            Some(*at)
        }));
        let headings = levels(text, &starts)
            .into_iter()
            .enumerate()
            .filter(|&(_, level)| is_heading_level(level))
            .map(|(line, level)| {
                let key = heading_key(lines[line], ids);
                Heading {
                    line,
                    level,
                    id: key.id,
                    key: key.text.into_owned(),
                }
            })
            .collect();
        File { lines, headings }
    }

    /// The line after the section of heading `h`: the next heading of its level or higher.
    fn end(&self, h: usize) -> usize {
        let level = self.headings[h].level;
        self.headings[h + 1..]
            .iter()
            .find(|n| n.level <= level)
            .map_or(self.lines.len(), |n| n.line)
    }

    fn line(&self, h: usize) -> &'a str {
        self.lines[self.headings[h].line]
    }

    fn keys(&self) -> Vec<&[u8]> {
        self.headings.iter().map(|h| h.key.as_bytes()).collect()
    }

    fn has_key(&self, key: &str) -> bool {
        self.headings.iter().any(|h| h.key == key)
    }

    /// The non-blank lines of heading `h`'s section after the heading.
    fn body(&self, h: usize) -> impl Iterator<Item = &'a str> + '_ {
        let from = self.headings[h].line + 1;
        self.lines[from..self.end(h)]
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.is_empty())
    }
}

/// Lines `from..to` of one file replaced by `text`.
type Edit = (usize, usize, String);

/// What [`follow`] found.
pub(crate) enum Followed {
    /// Base, ours and theirs with the headings one side renamed or cut followed in the others.
    Rewritten([String; 3]),
    /// Both sides renamed one heading, differently (`## HEAD` to `## 4.1.0` and to `## 4.1`):
    /// each side's section would stand, the entries twice; a person decides.
    Contested,
}

/// The headings one side renamed or cut, followed in the other two; `None` when no side did
/// either.
pub(crate) fn follow(texts: [&str; 3], docs: &[Doc; 3], ids: &Recognisers) -> Option<Followed> {
    // Almost always no side touched a heading: the parsed trees tell at once.
    if same_headings(&docs[0].root, &docs[1].root) && same_headings(&docs[0].root, &docs[2].root) {
        return None;
    }
    let files = texts.map(|t| File::new(t, ids));
    let base_keys = files[0].keys();
    let maps = [1, 2].map(|s| matches(&base_keys, &files[s].keys()));
    let mut edits: [Vec<Edit>; 3] = Default::default();
    // The new key each side gave a base heading it renamed.
    let mut renamed_to: [Vec<(usize, &str)>; 2] = Default::default();
    for side in [1, 2] {
        let other = 3 - side;
        let (b, s, o) = (&files[0], &files[side], &files[other]);
        let (to_side, to_other) = (&maps[side - 1], &maps[other - 1]);
        let mut pairs: Vec<(usize, usize)> = to_side
            .iter()
            .enumerate()
            .filter_map(|(bi, si)| Some((bi, (*si)?)))
            .collect();
        let mut renames = Vec::new();
        let mut cuts = Vec::new();
        let mut prev = (0, 0);
        pairs.push((b.headings.len(), s.headings.len()));
        for &(bm, sm) in &pairs {
            let (gap_b, gap_s) = (prev.0..bm, prev.1..sm);
            if !gap_b.is_empty() && gap_b.len() == gap_s.len() {
                renames.extend(gap_b.clone().zip(gap_s.clone()));
            } else if gap_b.is_empty() && !gap_s.is_empty() && prev.1 > 0 {
                cuts.push((prev.0 - 1, prev.1 - 1, prev.1));
            }
            if bm < b.headings.len() && b.headings[bm].level != s.headings[sm].level {
                renames.push((bm, sm));
            }
            prev = (bm + 1, sm + 1);
        }
        for (bi, si) in renames {
            let (bh, sh) = (&b.headings[bi], &s.headings[si]);
            let renamed = bh.key != sh.key;
            if renamed && !bh.id && !sh.id {
                renamed_to[side - 1].push((bi, sh.key.as_str()));
            }
            let Some(oi) = to_other[bi] else { continue };
            if (renamed && (bh.id || sh.id || o.has_key(&sh.key) || !carried(b, bi, s, si)))
                || o.line(oi).trim_end() != b.line(bi).trim_end()
            {
                continue;
            }
            edits[0].push((bh.line, bh.line + 1, s.line(si).to_owned()));
            edits[other].push((
                o.headings[oi].line,
                o.headings[oi].line + 1,
                s.line(si).to_owned(),
            ));
        }
        for (bk, sk, sj) in cuts {
            if let Some([base_edit, other_edit]) = cut(b, s, o, to_other, bk, sk, sj) {
                edits[0].push(base_edit);
                edits[other].push(other_edit);
            }
        }
    }
    let contested = renamed_to[0]
        .iter()
        .any(|(bi, key)| renamed_to[1].iter().any(|(bj, k)| bi == bj && key != k));
    if contested {
        return Some(Followed::Contested);
    }
    if edits.iter().all(Vec::is_empty) {
        return None;
    }
    let mut out: [String; 3] = Default::default();
    for (i, (file, mut edits)) in files.iter().zip(edits).enumerate() {
        edits.sort_by_key(|e| e.0);
        if edits.windows(2).any(|w| w[0].1 > w[1].0) {
            // Two rewrites of one place: follow none rather than guess.
            return None;
        }
        let mut at = 0;
        for (from, to, text) in edits {
            file.lines[at..from].iter().for_each(|l| out[i].push_str(l));
            out[i].push_str(&text);
            at = to;
        }
        file.lines[at..].iter().for_each(|l| out[i].push_str(l));
    }
    Some(Followed::Rewritten(out))
}

fn as_bytes<'a>(lines: &[&'a str]) -> Vec<&'a [u8]> {
    lines.iter().map(|l| l.as_bytes()).collect()
}

/// Whether two trees have the same headings: keys and levels, in order.
fn same_headings(a: &Section, b: &Section) -> bool {
    let level = |s: &Section| match s.heading.bytes().take_while(|&c| c == b'#').count() {
        // Setext: the underline tells.
        0 => usize::from(s.heading.contains("\n=")) + 2 * usize::from(s.heading.contains("\n-")),
        n => n,
    };
    a.key == b.key
        && level(a) == level(b)
        && a.children.len() == b.children.len()
        && a.children
            .iter()
            .zip(&b.children)
            .all(|(x, y)| same_headings(x, y))
}

/// Whether most of base section `bi`'s lines are in the side's section `si`: what tells a
/// renamed section from one deleted beside another added.
fn carried(b: &File, bi: usize, s: &File, si: usize) -> bool {
    let in_side: Set<&str> = s.body(si).collect();
    let (mut total, mut kept) = (0, 0);
    for line in b.body(bi) {
        total += 1;
        kept += usize::from(in_side.contains(line));
    }
    kept * 2 >= total
}

/// A release cut on the side: its heading `sk` (base `bk`, say `## [Unreleased]`) is followed
/// directly by the new heading `sj` at the same level (`## [1.1.0] - 2026-12-01`), which holds
/// most of what base `bk` held. The base's `bk` heading becomes the side's fresh section and
/// the release heading; the other side's section is split the same way, its additions going to
/// the fresh section.
fn cut(
    b: &File,
    s: &File,
    o: &File,
    to_other: &[Option<usize>],
    bk: usize,
    sk: usize,
    sj: usize,
) -> Option<[Edit; 2]> {
    let (kh, jh) = (&s.headings[sk], &s.headings[sj]);
    let release_like = jh.key.bytes().any(|c| c.is_ascii_digit()) && !jh.id;
    if kh.level != jh.level || !release_like || s.end(sk) != jh.line || o.has_key(&jh.key) {
        return None;
    }
    if b.body(bk).next().is_none() || !carried(b, bk, s, sj) {
        return None;
    }
    let oi = to_other[bk]?;
    if o.line(oi).trim_end() != b.line(bk).trim_end() {
        return None;
    }
    let fresh: String = s.lines[kh.line..jh.line].concat();
    let release = s.line(sj);
    let base_edit = (
        b.headings[bk].line,
        b.headings[bk].line + 1,
        format!("{fresh}{release}"),
    );
    // The other side's section body against the base's: lines it inserted are additions.
    let (b_from, b_to) = (b.headings[bk].line + 1, b.end(bk));
    let (o_from, o_to) = (o.headings[oi].line + 1, o.end(oi));
    let (b_body, o_body) = (&b.lines[b_from..b_to], &o.lines[o_from..o_to]);
    let to_o = matches(&as_bytes(b_body), &as_bytes(o_body));
    let mut anchors: Vec<(usize, usize)> = to_o
        .iter()
        .enumerate()
        .filter_map(|(bi, oi)| Some((bi, (*oi)?)))
        .collect();
    anchors.push((b_body.len(), o_body.len()));
    let eol = if release.ends_with("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let (mut kept, mut added) = (String::new(), Vec::<(Option<&str>, Vec<&str>)>::new());
    let mut prev = (0, 0);
    for (bm, om) in anchors {
        let run = &o_body[prev.1..om];
        let first = run.iter().position(|l| !l.trim().is_empty());
        let last = run.iter().rposition(|l| !l.trim().is_empty());
        match (first, last) {
            (Some(first), Some(last)) if prev.0 == bm => {
                run[..first].iter().for_each(|l| kept.push_str(l));
                let lines = &run[first..=last];
                let starts_heading = lines[0].starts_with('#');
                let context = (!starts_heading)
                    .then(|| {
                        o_body[..prev.1]
                            .iter()
                            .rev()
                            .find(|l| l.starts_with('#'))
                            .copied()
                    })
                    .flatten();
                match added.last_mut() {
                    Some((c, group)) if *c == context => group.extend(lines),
                    _ => added.push((context, lines.to_vec())),
                }
                run[last + 1..].iter().for_each(|l| kept.push_str(l));
            }
            _ => run.iter().for_each(|l| kept.push_str(l)),
        }
        if om < o_body.len() {
            kept.push_str(o_body[om]);
        }
        prev = (bm + 1, om + 1);
    }
    let mut section = fresh;
    if !added.is_empty() && !section.lines().last().is_some_and(|l| l.trim().is_empty()) {
        section.push_str(eol);
    }
    for (context, lines) in added {
        if let Some(heading) = context {
            section.push_str(heading);
            section.push_str(eol);
        }
        for line in lines {
            section.push_str(line);
            if !line.ends_with('\n') {
                section.push_str(eol);
            }
        }
        section.push_str(eol);
    }
    let other_edit = (
        o.headings[oi].line,
        o_to,
        format!("{section}{release}{kept}"),
    );
    Some([base_edit, other_edit])
}
