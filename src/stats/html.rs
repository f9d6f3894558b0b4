//! The `--html` form of a [`Report`]: one self-contained page (inline CSS, inline SVG, one inline
//! script; no fonts, images or scripts fetched) with three charts: the success rate per day
//! against the target, the distribution of push-to-verdict times, and the time until ready.
//!
//! The inline script writes each chart's rendered size and its count of drawn marks into
//! `data-rendered-width`, `data-rendered-height` and `data-rendered-marks` on the `<svg>`, so a
//! headless browser can confirm the charts were drawn.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use super::text::{day_cells, ms, percent, spread};
use super::{Error, Figures, Report, Spread};

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 44.0;
/// Histograms use at most this many bins.
const MAX_BINS: u64 = 12;

const STYLE: &str = "\
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1f24;\
max-width:820px;margin:24px auto;padding:0 16px;background:#fff}\
h1{font-size:21px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 6px}\
.muted{color:#5f6b78}table{border-collapse:collapse;margin-top:8px}\
th,td{padding:3px 10px;text-align:right;border-bottom:1px solid #eceff3}\
th:first-child,td:first-child{text-align:left}th{font-weight:600}\
td.cause{padding-left:24px}svg{display:block;width:100%;height:auto}\
svg text{font-size:11px;fill:#44505c}.axis{stroke:#8b96a3}.grid{stroke:#e6e9ee}\
.ok{fill:#2e7d32}.low{fill:#c62828}.bin{fill:#3b6fb6}.none{fill:#9aa4af}\
.target{stroke:#e08a00;stroke-width:2;stroke-dasharray:6 4}.target-label{fill:#b36b00}\
.median{stroke:#1b1f24;stroke-width:1.5}.p95{stroke:#c62828;stroke-width:1.5;stroke-dasharray:4 3}";

const SCRIPT: &str = "\
for (const svg of document.querySelectorAll('svg')) {\
const box = svg.getBoundingClientRect(); let marks = 0;\
for (const mark of svg.querySelectorAll('.mark')) {\
const b = mark.getBBox(); if (b.width > 0 && b.height > 0) marks++; }\
svg.dataset.renderedWidth = Math.round(box.width);\
svg.dataset.renderedHeight = Math.round(box.height);\
svg.dataset.renderedMarks = marks; }";

/// Writes the page to `path`, replacing it whole.
pub fn write(path: &Path, report: &Report) -> Result<(), Error> {
    crate::deploy::files::write_atomic(path, render(report).as_bytes()).map_err(|source| {
        Error::Write {
            path: path.to_owned(),
            source,
        }
    })
}

/// The whole page.
pub fn render(report: &Report) -> String {
    let mut page = String::new();
    let title = format!("Deployments of {}", report.branch);
    let _ = write!(
        page,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} (last {})</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(&title),
        escape(&report.period),
        escape(&title)
    );
    let table = report.sources.describe_history();
    let _ = writeln!(
        page,
        "<p class=\"muted\">Last {}: {} to {} UTC. Sources: {}, {} local run records. \
         Target: {} succeed.</p>",
        escape(&report.period),
        &report.since[..10],
        &report.until[..10],
        escape(&table),
        report.sources.local_runs,
        percent(report.target)
    );
    for note in &report.sources.notes {
        let _ = writeln!(page, "<p class=\"muted\">Note: {}</p>", escape(note));
    }
    if report.is_empty() {
        let _ = writeln!(
            page,
            "<p id=\"no-data\">{}.</p>",
            escape(&capital(&report.no_data()))
        );
    } else {
        summary(&mut page, &report.total, report.target);
        let _ = writeln!(page, "<h2>Success rate per day</h2>");
        rate_chart(&mut page, report);
        let verdict: Vec<u64> = durations(report, |d| d.verdict_after);
        let _ = writeln!(page, "<h2>Push to verdict</h2>");
        histogram(
            &mut page,
            "verdict",
            &verdict,
            &report.total.push_to_verdict,
            "No deployment has a push-to-verdict time yet.",
        );
        let ready: Vec<u64> = durations(report, |d| d.ready_after);
        let _ = writeln!(page, "<h2>Time until ready</h2>");
        histogram(
            &mut page,
            "ready",
            &ready,
            &report.total.time_until_ready,
            "No run has checked readiness yet (it needs [deploy.app] ready_url).",
        );
        per_day(&mut page, report);
    }
    let _ = write!(page, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    page
}

fn durations(report: &Report, pick: fn(&super::Deployment) -> Option<Duration>) -> Vec<u64> {
    let ms = |d: Duration| d.as_millis() as u64;
    report.deployments.iter().filter_map(pick).map(ms).collect()
}

fn summary(page: &mut String, f: &Figures, target: f64) {
    let mut rows: Vec<(String, String, bool)> = vec![
        ("Deployments".into(), f.deployments.to_string(), false),
        ("Successes".into(), f.successes.to_string(), false),
        ("Failures".into(), f.failures.to_string(), false),
    ];
    for cause in &f.causes {
        rows.push((cause.cause.clone(), cause.count.to_string(), true));
    }
    rows.push(("Superseded".into(), f.superseded.to_string(), false));
    rows.push(("Pending".into(), f.pending.to_string(), false));
    let rate = f.success_rate.map_or_else(
        || "-".to_owned(),
        |r| {
            let side = if r >= target { "meets" } else { "below" };
            format!("{} ({side} the {} target)", percent(r), percent(target))
        },
    );
    rows.push(("Success rate".into(), rate, false));
    for (name, s) in [
        ("Push to verdict", &f.push_to_verdict),
        ("Time until ready", &f.time_until_ready),
    ] {
        rows.push((name.into(), spread(s).unwrap_or_else(|| "-".into()), false));
    }
    let polls = f
        .polls
        .per_deployment
        .map_or_else(|| "-".to_owned(), |p| format!("{p:.1} per deployment"));
    rows.push(("Polls".into(), polls, false));
    rows.push(("Alerts sent".into(), f.alerts_sent.to_string(), false));
    let _ = writeln!(page, "<table id=\"summary\">");
    for (name, value, cause) in rows {
        let class = if cause { " class=\"cause\"" } else { "" };
        let _ = writeln!(
            page,
            "<tr><td{class}>{}</td><td>{}</td></tr>",
            escape(&name),
            escape(&value)
        );
    }
    let _ = writeln!(page, "</table>");
}

fn show_ms(value: u64) -> String {
    ms(Some(value))
}

fn open_svg(page: &mut String, id: &str, label: &str) {
    let _ = writeln!(
        page,
        "<svg id=\"{id}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{}\" \
         xmlns=\"http://www.w3.org/2000/svg\">",
        escape(label)
    );
}

/// Horizontal grid lines with labels on the left, from `ticks` values scaled by `y`.
fn grid(page: &mut String, ticks: &[(f64, String)], y: impl Fn(f64) -> f64) {
    for (value, label) in ticks {
        let at = y(*value);
        let _ = writeln!(
            page,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{at:.1}\" y2=\"{at:.1}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            WIDTH - RIGHT,
            LEFT - 6.0,
            at + 4.0,
            escape(label)
        );
    }
    let base = HEIGHT - BOTTOM;
    let _ = writeln!(
        page,
        "<line class=\"axis\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{base}\" y2=\"{base}\"/>",
        WIDTH - RIGHT
    );
}

fn rate_chart(page: &mut String, report: &Report) {
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let y = |rate: f64| TOP + plot_h * (1.0 - rate);
    open_svg(
        page,
        "rate",
        &format!(
            "Success rate per day against the {} target",
            percent(report.target)
        ),
    );
    let ticks: Vec<(f64, String)> = [0.0, 0.25, 0.5, 0.75, 1.0]
        .into_iter()
        .map(|t| (t, percent(t)))
        .collect();
    grid(page, &ticks, y);
    let n = report.days.len().max(1);
    let slot = plot_w / n as f64;
    let bar_w = (slot * 0.7).min(48.0);
    let every = n.div_ceil(12);
    for (i, day) in report.days.iter().enumerate() {
        let x = LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
        let f = &day.figures;
        match f.success_rate {
            Some(rate) => {
                // A 0% day still shows a sliver at the baseline: it is a bad day, not a gap.
                let h = (plot_h * rate).max(2.0);
                let class = if rate >= report.target { "ok" } else { "low" };
                let _ = writeln!(
                    page,
                    "<rect class=\"mark {class}\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar_w:.1}\" \
                     height=\"{h:.1}\"><title>{}: {} ({} of {})</title></rect>\
                     <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                    HEIGHT - BOTTOM - h,
                    day.date,
                    percent(rate),
                    f.successes,
                    f.successes + f.failures,
                    x + bar_w / 2.0,
                    HEIGHT - BOTTOM - h - 5.0,
                    percent(rate)
                );
            }
            None => {
                let _ = writeln!(
                    page,
                    "<text class=\"none\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">\
                     pending</text>",
                    x + bar_w / 2.0,
                    HEIGHT - BOTTOM - 6.0
                );
            }
        }
        if i % every == 0 {
            let _ = writeln!(
                page,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                x + bar_w / 2.0,
                HEIGHT - BOTTOM + 16.0,
                &day.date[5..]
            );
        }
    }
    let target_y = y(report.target);
    let _ = writeln!(
        page,
        "<line class=\"target\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{target_y:.1}\" \
         y2=\"{target_y:.1}\"/><text class=\"target-label\" x=\"{:.1}\" y=\"{:.1}\" \
         text-anchor=\"end\">target {}</text>",
        WIDTH - RIGHT,
        WIDTH - RIGHT,
        target_y - 5.0,
        percent(report.target)
    );
    let _ = writeln!(
        page,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">day (UTC)</text>\n</svg>",
        LEFT + plot_w / 2.0,
        HEIGHT - 6.0
    );
}

/// The fewest bins a histogram's axis shows.
const MIN_BINS: usize = 4;

/// The bin width: the smallest round duration that fits `max` into [`MAX_BINS`] bins.
fn bin_width(max: u64) -> u64 {
    const SECOND: u64 = 1_000;
    const STEPS: [u64; 18] = [
        SECOND,
        2 * SECOND,
        5 * SECOND,
        10 * SECOND,
        15 * SECOND,
        20 * SECOND,
        30 * SECOND,
        60 * SECOND,
        120 * SECOND,
        300 * SECOND,
        600 * SECOND,
        900 * SECOND,
        1_800 * SECOND,
        3_600 * SECOND,
        7_200 * SECOND,
        21_600 * SECOND,
        43_200 * SECOND,
        86_400 * SECOND,
    ];
    STEPS
        .into_iter()
        .find(|step| max / step < MAX_BINS)
        .unwrap_or_else(|| max / (MAX_BINS - 1) + 1)
}

fn histogram(page: &mut String, id: &str, samples: &[u64], spread: &Spread, empty: &str) {
    let Some(&max) = samples.iter().max() else {
        let _ = writeln!(
            page,
            "<p class=\"muted\" id=\"{id}-empty\">{}</p>",
            escape(empty)
        );
        return;
    };
    let step = bin_width(max);
    // A few bins at least: values all alike would otherwise make one bar as wide as the axis.
    let bins = ((max / step + 1) as usize).max(MIN_BINS);
    let mut counts = vec![0usize; bins];
    for &s in samples {
        counts[(s / step) as usize] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1).max(1);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let span = (bins as u64 * step) as f64;
    let x = |ms: f64| LEFT + plot_w * ms / span;
    // Headroom above the tallest bar keeps the median and p95 labels clear of it.
    let scale = top as f64 * 1.25;
    let y = |count: f64| TOP + plot_h * (1.0 - count / scale);
    open_svg(
        page,
        id,
        &format!("{} deployments in bins of {}", samples.len(), show_ms(step)),
    );
    let tick = top.div_ceil(4).max(1);
    let ticks: Vec<(f64, String)> = (0..=top.div_ceil(tick))
        .map(|i| i * tick)
        .filter(|&t| t <= top)
        .map(|t| (t as f64, t.to_string()))
        .collect();
    grid(page, &ticks, y);
    let slot = plot_w / bins as f64;
    for (i, &count) in counts.iter().enumerate() {
        let from = i as u64 * step;
        let left = x(from as f64) + 1.0;
        if count > 0 {
            let h = plot_h * count as f64 / scale;
            let _ = writeln!(
                page,
                "<rect class=\"mark bin\" x=\"{left:.1}\" y=\"{:.1}\" width=\"{:.1}\" \
                 height=\"{h:.1}\"><title>{} to {}: {count}</title></rect>",
                HEIGHT - BOTTOM - h,
                slot - 2.0,
                show_ms(from),
                show_ms(from + step)
            );
        }
    }
    let every = bins.div_ceil(8);
    for i in (0..=bins).step_by(every) {
        let _ = writeln!(
            page,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            x((i as u64 * step) as f64),
            HEIGHT - BOTTOM + 16.0,
            show_ms(i as u64 * step)
        );
    }
    let marker = |page: &mut String, class: &str, ms: u64, dy: f64| {
        let at = x(ms as f64);
        // Labels in the right half go to the line's left, so they stay inside the chart.
        let (label_x, anchor) = if at > LEFT + plot_w / 2.0 {
            (at - 4.0, "end")
        } else {
            (at + 4.0, "start")
        };
        let _ = writeln!(
            page,
            "<line class=\"{class}\" x1=\"{at:.1}\" x2=\"{at:.1}\" y1=\"{TOP}\" y2=\"{:.1}\"/>\
             <text x=\"{label_x:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">{class} {}</text>",
            HEIGHT - BOTTOM,
            TOP + dy,
            show_ms(ms)
        );
    };
    if let (Some(median), Some(p95)) = (spread.median_ms, spread.p95_ms) {
        marker(page, "median", median, 8.0);
        marker(page, "p95", p95, 22.0);
    }
    let _ = writeln!(
        page,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">duration (deployments per bin)\
         </text>\n</svg>",
        LEFT + plot_w / 2.0,
        HEIGHT - 6.0
    );
}

fn per_day(page: &mut String, report: &Report) {
    let _ = writeln!(
        page,
        "<h2>Per day</h2>\n<table id=\"days\">\n<tr><th>Day</th><th>Deploys</th>\
         <th>Success rate</th><th>Failed</th><th>Verdict p50</th><th>p95</th>\
         <th>Ready p50</th><th>Polls</th><th>Alerts</th></tr>"
    );
    for day in &report.days {
        let f = &day.figures;
        let rate = f.success_rate.map_or_else(|| "-".to_owned(), percent);
        let mut cells = vec![day.date.clone(), f.deployments.to_string(), rate];
        cells.extend(day_cells(f));
        let cells: String = cells
            .iter()
            .map(|c| format!("<td>{}</td>", escape(c)))
            .collect();
        let _ = writeln!(page, "<tr>{cells}</tr>");
    }
    let _ = writeln!(page, "</table>");
}

fn capital(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Text for HTML element content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::record::{Record, Verdict};
    use crate::stats::{Context, compute};
    use std::time::UNIX_EPOCH;

    fn report(records: &[Record]) -> Report {
        let now = UNIX_EPOCH + Duration::from_secs(100 * 86_400);
        let cx = Context {
            since: Duration::from_secs(30 * 86_400),
            now,
            branch: "main<x>".to_owned(),
            deploy_branch: "main<x>".to_owned(),
            max_wait: Duration::from_secs(480),
            target: 0.95,
            history_sources: Vec::new(),
        };
        compute(&[], records, &cx)
    }

    fn run(sha: char, verdict: Verdict, error: Option<&str>, secs: u64) -> Record {
        let start = UNIX_EPOCH + Duration::from_secs(99 * 86_400);
        Record {
            sha: sha.to_string().repeat(40),
            started_at: crate::time::rfc3339(start),
            ended_at: Some(crate::time::rfc3339(start + Duration::from_secs(secs))),
            verdict: Some(verdict),
            error: error.map(str::to_owned),
            ready_after_ms: Some(secs * 100),
            ..Record::default()
        }
    }

    #[test]
    fn page_is_self_contained_and_escaped() {
        let page = render(&report(&[
            run('1', Verdict::Success, None, 40),
            run('2', Verdict::Failed, Some("<script>alert(1)</script>"), 90),
        ]));
        assert_eq!(page.matches("<svg ").count(), 3, "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)"), "{page}");
        assert!(page.contains("main&lt;x&gt;"), "{page}");
        assert_eq!(page.matches("<script>").count(), 1, "only our own script");
        for external in ["src=", "href=", "@import", "url("] {
            assert!(!page.contains(external), "{external} in the page");
        }
        let namespace = "xmlns=\"http://www.w3.org/2000/svg\"";
        assert_eq!(
            page.matches("http").count(),
            page.matches(namespace).count(),
            "no address but the SVG namespace"
        );
    }

    #[test]
    fn equal_values_draw_a_bar_narrower_than_the_axis() {
        let mut page = String::new();
        histogram(&mut page, "h", &[500, 500, 500], &Spread::default(), "none");
        let rect = page
            .split("<rect class=\"mark bin\"")
            .nth(1)
            .expect("one bar");
        let width: f64 = rect
            .split("width=\"")
            .nth(1)
            .and_then(|w| w.split('"').next()?.parse().ok())
            .expect("the bar's width");
        let plot = WIDTH - LEFT - RIGHT;
        assert!(width <= plot / MIN_BINS as f64, "{width} of {plot}");
    }

    #[test]
    fn no_data_says_so_and_draws_nothing() {
        let page = render(&report(&[]));
        assert!(
            page.contains("<p id=\"no-data\">No deployments of main&lt;x&gt;"),
            "{page}"
        );
        assert!(!page.contains("<svg"), "{page}");
    }

    #[test]
    fn bins_are_round_and_few() {
        assert_eq!(bin_width(0), 1_000);
        assert_eq!(bin_width(11_999), 1_000);
        assert_eq!(bin_width(12_000), 2_000);
        assert_eq!(bin_width(480_000), 60_000);
        assert!(30 * 86_400_000 / bin_width(30 * 86_400_000) < MAX_BINS);
    }
}
