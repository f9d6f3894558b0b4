//! The two rules for changes both sides make in nearly every merge: bumped document fields
//! (`**Version:** 6.9`, `**Last Updated:** 2026-01-26`) and counter cells (`**182**`).

use std::cmp::Ordering;

use super::Side;

/// For a field line both sides changed, the side whose whole line to keep: the higher version or
/// the later date, `receiving` on a tie. `None` when the lines are not one comparable field.
pub(crate) fn pick(
    base: &str,
    ours: &str,
    theirs: &str,
    names: &[String],
    receiving: Side,
) -> Option<Side> {
    let (name, _) = field(base)?;
    let (ours_name, ours_value) = field(ours)?;
    let (theirs_name, theirs_value) = field(theirs)?;
    if name != ours_name || name != theirs_name || !names.iter().any(|n| n == name) {
        return None;
    }
    match rank(ours_value)?.partial_cmp(&rank(theirs_value)?)? {
        Ordering::Greater => Some(Side::Ours),
        Ordering::Less => Some(Side::Theirs),
        Ordering::Equal => Some(receiving),
    }
}

/// `**Name:** value`, `**Name**: value`, optionally as a list item; the name and the value.
fn field(line: &str) -> Option<(&str, &str)> {
    let line = line.trim();
    let line = line.strip_prefix("- ").unwrap_or(line);
    let rest = line.strip_prefix("**")?;
    let end = rest.find("**")?;
    let (name, value) = (&rest[..end], &rest[end + 2..]);
    let (name, value) = match name.strip_suffix(':') {
        Some(name) => (name, value),
        None => (name, value.strip_prefix(':')?),
    };
    Some((name.trim(), value.trim()))
}

/// A field value made comparable: a date or a dotted version number.
#[derive(Debug, PartialEq, PartialOrd)]
enum Rank {
    Date(u32, u32, u32),
    Version(Vec<u64>),
}

fn rank(value: &str) -> Option<Rank> {
    iso_date(value)
        .or_else(|| month_date(value))
        .or_else(|| version(value))
}

fn iso_date(value: &str) -> Option<Rank> {
    let date = value.get(..10)?;
    let mut parts = date.split('-');
    let y = parts.next().filter(|y| y.len() == 4)?.parse().ok()?;
    let m = parts.next().filter(|m| m.len() == 2)?.parse().ok()?;
    let d = parts.next().filter(|d| d.len() == 2)?.parse().ok()?;
    Some(Rank::Date(y, m, d))
}

/// `November 12, 2025` or `Jan 20, 2026`.
fn month_date(value: &str) -> Option<Rank> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let mut words = value.split_whitespace();
    let month = words.next()?.to_ascii_lowercase();
    let m = MONTHS.iter().position(|p| month.starts_with(p))? as u32 + 1;
    let d = words.next()?.trim_end_matches(',').parse().ok()?;
    let y = words
        .next()?
        .trim_end_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .ok()?;
    Some(Rank::Date(y, m, d))
}

fn version(value: &str) -> Option<Rank> {
    let value = value.strip_prefix(['v', 'V']).unwrap_or(value);
    let end = value
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(value.len());
    let parts: Option<Vec<u64>> = value[..end]
        .trim_end_matches('.')
        .split('.')
        .map(|p| p.parse().ok())
        .collect();
    parts.filter(|p| !p.is_empty()).map(Rank::Version)
}

/// A cell holding only a number, optionally bold: its value and whether it is bold.
fn counter(cell: &str) -> Option<(i64, bool)> {
    match cell.strip_prefix("**").and_then(|c| c.strip_suffix("**")) {
        Some(inner) => Some((inner.trim().parse().ok()?, true)),
        None => Some((cell.parse().ok()?, false)),
    }
}

/// Both sides' changes to a counter cell added to its base number, written like `style`'s cell.
pub(crate) fn add_counters(base: &str, ours: &str, theirs: &str, style: &str) -> Option<String> {
    let (b, _) = counter(base)?;
    let (o, _) = counter(ours)?;
    let (t, _) = counter(theirs)?;
    let (_, bold) = counter(style)?;
    let sum = b
        .checked_add(o.checked_sub(b)?)?
        .checked_add(t.checked_sub(b)?)?;
    Some(if bold {
        format!("**{sum}**")
    } else {
        sum.to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        vec!["Version".into(), "Last Updated".into()]
    }

    #[test]
    fn higher_version_and_later_date_win() {
        let pick = |b, o, t| pick(b, o, t, &names(), Side::Ours);
        assert_eq!(
            pick("**Version:** 6.9", "**Version:** 6.10", "**Version:** 7.0"),
            Some(Side::Theirs)
        );
        assert_eq!(
            pick(
                "**Last Updated:** 2026-01-26 (a)",
                "**Last Updated:** 2026-01-28 (b)",
                "**Last Updated:** 2026-01-27 (c)"
            ),
            Some(Side::Ours)
        );
        assert_eq!(
            pick(
                "**Last Updated:** November 12, 2025",
                "**Last Updated:** November 13, 2025",
                "**Last Updated:** Dec 1, 2025"
            ),
            Some(Side::Theirs)
        );
    }

    #[test]
    fn ties_go_to_the_receiving_side_and_other_fields_stay_conflicts() {
        let tie = [
            "**Version:** 6.9",
            "**Version:** 7.0 (a)",
            "**Version:** 7.0 (b)",
        ];
        assert_eq!(
            pick(tie[0], tie[1], tie[2], &names(), Side::Theirs),
            Some(Side::Theirs)
        );
        assert_eq!(
            pick(
                "**Status:** a",
                "**Status:** b",
                "**Status:** c",
                &names(),
                Side::Ours
            ),
            None
        );
    }

    #[test]
    fn counters_add_both_changes() {
        assert_eq!(
            add_counters("**185**", "**187**", "**186**", "**187**").as_deref(),
            Some("**188**")
        );
        assert_eq!(add_counters("3", "4", "1", "4").as_deref(), Some("2"));
        assert_eq!(add_counters("3", "x", "1", "x"), None);
    }
}
