//! The terminal form of a [`Report`]: an aligned summary, then one line per day with a compact
//! bar of its success rate.

use std::io::{self, Write};
use std::time::Duration;

use super::{Figures, Report, Spread};
use crate::time::show;

/// Cells of the per-day bar; each holds eighths, so the bar resolves 1.25%.
const BAR: usize = 10;

/// Writes `report` for a terminal.
pub fn write(out: &mut impl Write, report: &Report) -> io::Result<()> {
    writeln!(
        out,
        "mainstay stats: {}, last {} ({} to {} UTC), target {}",
        report.branch,
        report.period,
        &report.since[..10],
        &report.until[..10],
        percent(report.target)
    )?;
    let table = report.sources.describe_history();
    writeln!(
        out,
        "sources: {table}, {} local run records",
        report.sources.local_runs
    )?;
    for note in &report.sources.notes {
        writeln!(out, "note: {note}")?;
    }
    if report.is_empty() {
        writeln!(out)?;
        return writeln!(out, "{}", report.no_data());
    }
    writeln!(out)?;
    summary(out, &report.total, report.target)?;
    writeln!(out)?;
    days(out, report)
}

fn summary(out: &mut impl Write, f: &Figures, target: f64) -> io::Result<()> {
    let count = |n: usize| format!("{n:>6}");
    let mut rows: Vec<Vec<String>> = vec![
        vec!["deployments".into(), count(f.deployments)],
        vec!["successes".into(), count(f.successes)],
        vec!["failures".into(), count(f.failures)],
    ];
    for cause in &f.causes {
        rows.push(vec![format!("  {}", cause.cause), count(cause.count)]);
    }
    rows.push(vec!["superseded".into(), count(f.superseded)]);
    rows.push(vec!["pending".into(), count(f.pending)]);
    let rate = match f.success_rate {
        None => format!("{:>6}  nothing decided yet", "-"),
        Some(rate) => format!(
            "{:>6}  {} of {}, {} the {} target",
            percent(rate),
            f.successes,
            f.successes + f.failures,
            if rate >= target { "meets" } else { "below" },
            percent(target)
        ),
    };
    rows.push(vec!["success rate".into(), rate]);
    for (name, s) in [
        ("push to verdict", &f.push_to_verdict),
        ("time until ready", &f.time_until_ready),
    ] {
        let text = spread(s).unwrap_or_else(|| format!("{:>6}", "-"));
        rows.push(vec![name.into(), text]);
    }
    let polls = match f.polls.per_deployment {
        None => format!("{:>6}", "-"),
        Some(mean) => format!("{mean:>6.1}  per deployment ({} runs)", f.polls.deployments),
    };
    rows.push(vec!["polls".into(), polls]);
    rows.push(vec!["alerts sent".into(), count(f.alerts_sent)]);
    aligned(out, &rows, &[false, false])
}

fn days(out: &mut impl Write, report: &Report) -> io::Result<()> {
    let mut rows = vec![
        [
            "day",
            "deploys",
            "rate",
            "",
            "failed",
            "verdict p50",
            "p95",
            "ready p50",
            "polls",
            "alerts",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    let mut below = false;
    for day in &report.days {
        let f = &day.figures;
        let rate = match f.success_rate {
            None => "-".to_owned(),
            Some(rate) if rate < report.target => {
                below = true;
                format!("{} *", percent(rate))
            }
            Some(rate) => format!("{}  ", percent(rate)),
        };
        let mut row = vec![
            day.date.clone(),
            f.deployments.to_string(),
            f.success_rate.map(bar).unwrap_or_default(),
            rate,
        ];
        row.extend(day_cells(f));
        rows.push(row);
    }
    aligned(
        out,
        &rows,
        &[false, true, false, true, true, true, true, true, true, true],
    )?;
    if below {
        writeln!(out, "* below the {} target", percent(report.target))?;
    }
    Ok(())
}

/// `██████▋···`: the rate in [`BAR`] cells of eighths.
pub fn bar(rate: f64) -> String {
    const EIGHTHS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let eighths = (rate.clamp(0.0, 1.0) * (BAR * 8) as f64).round() as usize;
    let mut text: String = "█".repeat(eighths / 8);
    let mut cells = eighths / 8;
    if !eighths.is_multiple_of(8) {
        text.push(EIGHTHS[eighths % 8]);
        cells += 1;
    }
    text.extend(std::iter::repeat_n('·', BAR - cells));
    text
}

/// `95%`, `44.4%`.
pub fn percent(fraction: f64) -> String {
    let pct = fraction * 100.0;
    if (pct - pct.round()).abs() < 1e-9 {
        format!("{pct:.0}%")
    } else {
        format!("{pct:.1}%")
    }
}

/// A day's failures, push-to-verdict median and p95, median time until ready, polls per
/// deployment and alerts: the columns the terminal and the page both show.
pub(super) fn day_cells(f: &Figures) -> [String; 6] {
    [
        f.failures.to_string(),
        ms(f.push_to_verdict.median_ms),
        ms(f.push_to_verdict.p95_ms),
        ms(f.time_until_ready.median_ms),
        f.polls
            .per_deployment
            .map_or_else(|| "-".to_owned(), |p| format!("{p:.1}")),
        f.alerts_sent.to_string(),
    ]
}

/// `median 2m00s, p95 8m00s (9 deployments)`, or `None` for an empty sample.
pub(super) fn spread(s: &Spread) -> Option<String> {
    Some(format!(
        "median {}, p95 {} ({} deployments)",
        ms(Some(s.median_ms?)),
        ms(Some(s.p95_ms?)),
        s.count
    ))
}

/// A duration in milliseconds as log lines show it; `-` for none.
pub(super) fn ms(ms: Option<u64>) -> String {
    match ms {
        None => "-".to_owned(),
        Some(0) => "0".to_owned(),
        Some(ms) => show(Duration::from_millis(ms)),
    }
}

/// Rows padded to each column's widest cell (in characters), `right` columns right-aligned.
fn aligned(out: &mut impl Write, rows: &[Vec<String>], right: &[bool]) -> io::Result<()> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            let cell = |r: &Vec<String>| r.get(c).map_or(0, |s| s.chars().count());
            rows.iter().map(cell).max().unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            let pad = " ".repeat(widths[c] - cell.chars().count());
            if c > 0 {
                line.push_str("  ");
            }
            if right.get(c).copied().unwrap_or(false) {
                line.push_str(&pad);
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&pad);
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_fill_in_eighths() {
        assert_eq!(bar(0.0), "··········");
        assert_eq!(bar(1.0), "██████████");
        assert_eq!(bar(0.5), "█████·····");
        assert_eq!(bar(2.0 / 3.0), "██████▋···");
        assert_eq!(bar(0.01), "▏·········");
    }

    #[test]
    fn percents_drop_needless_decimals() {
        assert_eq!(percent(0.95), "95%");
        assert_eq!(percent(4.0 / 9.0), "44.4%");
        assert_eq!(percent(1.0), "100%");
    }
}
