//! The trend charts of the HTML report, one point or bar per run: total
//! exposure, open findings by tier, and the days to fix.
//!
//! The charts are plain inline SVG with a fixed size, laid out here and
//! drawn by the template. Every coordinate is rounded to a tenth of a pixel
//! so that the same runs always give the same bytes. Each chart distinguishes
//! its series by line style, marker shape or fill pattern as well as by
//! colour, has a legend, and labels its last value.
//!
//! NOTE: every run gets its markers and bars, so the report grows by about
//! 1.2 KB per run (130 KB for 100 runs). Past several hundred runs the
//! charts would need to thin or aggregate older runs to stay under 1 MiB.

use chrono::{DateTime, Utc};

use super::whole_number;
use crate::metrics::RunPoint;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 270.0;
/// The plot area. The y labels go left of it, the legend above, the last
/// values right of it and the rotated run dates below.
const LEFT: f64 = 64.0;
const RIGHT: f64 = 590.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 200.0;
/// At most this many run dates are written under a chart.
const MAX_X_LABELS: usize = 12;
/// The smallest vertical distance between two labels of last values.
const LABEL_SPACING: f64 = 14.0;

/// The tiers, P1 first, with the fill that draws them: P1 solid, the
/// others with a pattern the template defines, so they differ in grey too.
pub(crate) const TIER_FILLS: [(&str, &str); 4] = [
    ("P1", "#b42318"),
    ("P2", "url(#fill-p2)"),
    ("P3", "url(#fill-p3)"),
    ("P4", "url(#fill-p4)"),
];

/// One chart, laid out.
pub(crate) struct Chart {
    /// The `id` of the `svg` element.
    pub(crate) id: &'static str,
    /// The accessible name, also the SVG `<title>`.
    pub(crate) label: String,
    /// The unit of the y axis, such as "days".
    pub(crate) unit: &'static str,
    pub(crate) y_max_label: String,
    pub(crate) x_labels: Vec<Text>,
    pub(crate) lines: Vec<Line>,
    pub(crate) bars: Vec<Bar>,
    pub(crate) legend: Vec<LegendEntry>,
    /// The labels of the last values, right of the plot.
    pub(crate) end_labels: Vec<Text>,
    /// Whether the chart defines the tier fill patterns.
    pub(crate) tier_patterns: bool,
    /// A sentence under the chart, such as why it is empty.
    pub(crate) note: Option<String>,
}

/// The fixed geometry, for the template.
impl Chart {
    pub(crate) fn width(&self) -> f64 {
        WIDTH
    }

    pub(crate) fn height(&self) -> f64 {
        HEIGHT
    }

    pub(crate) fn left(&self) -> f64 {
        LEFT
    }

    pub(crate) fn right(&self) -> f64 {
        RIGHT
    }

    pub(crate) fn top(&self) -> f64 {
        TOP
    }

    pub(crate) fn bottom(&self) -> f64 {
        BOTTOM
    }

    /// Returns the x of the right end of the y axis labels.
    pub(crate) fn y_label_x(&self) -> f64 {
        LEFT - 6.0
    }

    /// Returns the baseline of the label at the top of the y axis.
    pub(crate) fn max_label_y(&self) -> f64 {
        TOP + 4.0
    }

    /// Returns the baseline of the label 0 at the bottom of the y axis.
    pub(crate) fn zero_label_y(&self) -> f64 {
        BOTTOM + 4.0
    }

    /// Returns the middle of the y axis, where its unit is written.
    pub(crate) fn middle_y(&self) -> f64 {
        (TOP + BOTTOM) / 2.0
    }
}

pub(crate) struct Text {
    pub(crate) x: f64,
    pub(crate) y: f64,
    pub(crate) text: String,
}

/// A series drawn as lines between points, broken where a value is
/// missing, with a marker on every point.
pub(crate) struct Line {
    pub(crate) color: &'static str,
    /// The `stroke-dasharray`, empty for a solid line.
    pub(crate) dash: &'static str,
    /// Square markers rather than round ones.
    pub(crate) square: bool,
    /// The radius of a round marker, half the side of a square one. It
    /// shrinks as runs get closer, so that markers do not merge.
    pub(crate) radius: f64,
    pub(crate) side: f64,
    /// One `points` attribute per unbroken stretch of two or more points.
    pub(crate) segments: Vec<String>,
    pub(crate) markers: Vec<Marker>,
}

/// A point of a line. `corner_x` and `corner_y` are the top left corner
/// of a square marker of side `2 * radius`, centred on the point.
pub(crate) struct Marker {
    pub(crate) x: f64,
    pub(crate) y: f64,
    pub(crate) corner_x: f64,
    pub(crate) corner_y: f64,
    pub(crate) title: String,
}

impl Marker {
    fn new(x: f64, y: f64, radius: f64, title: String) -> Marker {
        Marker {
            x,
            y,
            corner_x: px(x - radius),
            corner_y: px(y - radius),
            title,
        }
    }
}

/// The radius of the markers of the legend, and of the lines while runs
/// are far enough apart.
const MARKER_RADIUS: f64 = 3.5;
/// The smallest radius of line markers, for charts of many runs.
const MIN_MARKER_RADIUS: f64 = 1.5;

pub(crate) struct Bar {
    pub(crate) x: f64,
    pub(crate) y: f64,
    pub(crate) width: f64,
    pub(crate) height: f64,
    pub(crate) fill: &'static str,
    pub(crate) title: String,
}

/// A legend entry in the row above the plot: a line sample with a marker
/// (with `dash` and `square` as in [`Line`]) or, with `fill`, a filled
/// square, then the label.
pub(crate) struct LegendEntry {
    pub(crate) x: f64,
    pub(crate) label: &'static str,
    pub(crate) color: &'static str,
    pub(crate) dash: &'static str,
    pub(crate) square: bool,
    pub(crate) fill: Option<&'static str>,
    pub(crate) sample_end: f64,
    pub(crate) marker: Marker,
    pub(crate) text_x: f64,
}

impl LegendEntry {
    /// The y of the middle of the legend row.
    const Y: f64 = 13.0;

    fn line(x: f64, label: &'static str, style: (&'static str, &'static str, bool)) -> LegendEntry {
        let (color, dash, square) = style;
        LegendEntry {
            x,
            label,
            color,
            dash,
            square,
            fill: None,
            sample_end: px(x + 24.0),
            marker: Marker::new(px(x + 12.0), LegendEntry::Y, MARKER_RADIUS, String::new()),
            text_x: px(x + 30.0),
        }
    }

    fn swatch(x: f64, label: &'static str, fill: &'static str) -> LegendEntry {
        LegendEntry {
            x,
            label,
            color: "#1d2433",
            dash: "",
            square: true,
            fill: Some(fill),
            sample_end: px(x + 14.0),
            marker: Marker::new(px(x + 7.0), LegendEntry::Y, MARKER_RADIUS, String::new()),
            text_x: px(x + 20.0),
        }
    }
}

/// The horizontal and vertical scales of a chart of `count` runs whose
/// values go up to `max`.
struct Scale {
    band: f64,
    y_max: f64,
}

impl Scale {
    fn new(count: usize, max: f64) -> Scale {
        Scale {
            band: (RIGHT - LEFT) / count.max(1) as f64,
            y_max: nice_ceiling(max),
        }
    }

    /// Returns the x of the middle of run `index`.
    fn x(&self, index: usize) -> f64 {
        px(LEFT + self.band * (index as f64 + 0.5))
    }

    fn y(&self, value: f64) -> f64 {
        px(BOTTOM - value / self.y_max * (BOTTOM - TOP))
    }
}

/// Rounds a coordinate to a tenth of a pixel.
fn px(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// Returns the smallest of 1, 2, 2.5 and 5 times a power of ten that is at
/// least `max`, so the top of the y axis is a round number. Returns 1 for
/// 0, a negative value or one that is not a number.
pub(crate) fn nice_ceiling(max: f64) -> f64 {
    if !(max.is_finite() && max > 0.0) {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|step| step * magnitude)
        .find(|&ceiling| ceiling >= max * (1.0 - 1e-12))
        .unwrap_or(10.0 * magnitude)
}

/// Formats an axis or value label: whole numbers with thousands
/// separators, smaller numbers with up to two decimals.
pub(crate) fn number(value: f64) -> String {
    if value >= 100.0 || value.fract() == 0.0 {
        return whole_number(value);
    }
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn date(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d").to_string()
}

/// Labels at most [`MAX_X_LABELS`] runs with their dates, always the last
/// one, then every `step`-th run counting back from it.
fn x_labels(runs: &[RunPoint], scale: &Scale) -> Vec<Text> {
    let step = runs.len().div_ceil(MAX_X_LABELS).max(1);
    let last = runs.len().saturating_sub(1);
    runs.iter()
        .enumerate()
        .filter(|(index, _)| (last - index).is_multiple_of(step))
        .map(|(index, run)| Text {
            x: scale.x(index),
            y: BOTTOM + 14.0,
            text: date(run.observed_at),
        })
        .collect()
}

/// Joins the points of a series into unbroken stretches. A stretch of one
/// point draws no line, only its marker.
fn segments(points: &[Option<(f64, f64)>]) -> Vec<String> {
    points
        .split(Option::is_none)
        .filter(|stretch| stretch.len() >= 2)
        .map(|stretch| {
            stretch
                .iter()
                .flatten()
                .map(|(x, y)| format!("{x},{y}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// Builds a line series from one optional value per run.
fn line(
    runs: &[RunPoint],
    scale: &Scale,
    value: impl Fn(&RunPoint) -> Option<f64>,
    title: impl Fn(&RunPoint, f64) -> String,
    style: (&'static str, &'static str, bool),
) -> Line {
    let (color, dash, square) = style;
    let radius = px((scale.band * 0.35).clamp(MIN_MARKER_RADIUS, MARKER_RADIUS));
    let points: Vec<Option<(f64, f64)>> = runs
        .iter()
        .enumerate()
        .map(|(index, run)| value(run).map(|value| (scale.x(index), scale.y(value))))
        .collect();
    let markers = runs
        .iter()
        .zip(&points)
        .filter_map(|(run, point)| {
            let (x, y) = (*point)?;
            Some(Marker::new(x, y, radius, title(run, value(run)?)))
        })
        .collect();
    Line {
        color,
        dash,
        square,
        radius,
        side: px(2.0 * radius),
        segments: segments(&points),
        markers,
    }
}

/// Places the labels of last values right of their point at `x`, at the
/// height of the point, moved apart where they would overlap.
fn end_labels(x: f64, mut labels: Vec<(f64, String)>) -> Vec<Text> {
    labels.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut placed: Vec<Text> = Vec::with_capacity(labels.len());
    for (y, text) in labels {
        let mut y = px(y + 4.0);
        if let Some(above) = placed.last() {
            y = y.max(above.y + LABEL_SPACING);
        }
        placed.push(Text {
            x: px(x + 8.0),
            y,
            text,
        });
    }
    placed
}

fn run_title(run: &RunPoint) -> String {
    format!("{} (run {})", date(run.observed_at), run.run_id)
}

const TOTAL_STYLE: (&str, &str, bool) = ("#1d4ed8", "", false);
const CROWN_JEWEL_STYLE: (&str, &str, bool) = ("#b42318", "6 4", true);
const DAYS_STYLE: (&str, &str, bool) = ("#0f766e", "", false);

/// Lays out the sum of the scores of the open findings per run, and the
/// same on crown jewels as a dashed line with square markers.
pub(crate) fn risk_chart(runs: &[RunPoint]) -> Chart {
    let max = runs
        .iter()
        .flat_map(|run| [run.risk, run.crown_jewel_risk])
        .flatten()
        .fold(0.0, f64::max);
    let scale = Scale::new(runs.len(), max);

    let total = line(
        runs,
        &scale,
        |run| run.risk,
        |run, value| format!("{}: total score {}", run_title(run), number(value)),
        TOTAL_STYLE,
    );
    let crown_jewels = line(
        runs,
        &scale,
        |run| run.crown_jewel_risk,
        |run, value| format!("{}: crown jewel score {}", run_title(run), number(value)),
        CROWN_JEWEL_STYLE,
    );

    let mut last = Vec::new();
    if let Some(run) = runs.last() {
        if let Some(risk) = run.risk {
            last.push((scale.y(risk), format!("{} total", number(risk))));
        }
        if let Some(risk) = run.crown_jewel_risk {
            last.push((scale.y(risk), format!("{} crown jewels", number(risk))));
        }
    }

    Chart {
        id: "risk-trend",
        label: format!(
            "Total risk score of the open findings per run, and the part on crown jewels, over {} runs",
            runs.len()
        ),
        unit: "score",
        y_max_label: number(scale.y_max),
        x_labels: x_labels(runs, &scale),
        lines: vec![total, crown_jewels],
        bars: Vec::new(),
        legend: vec![
            LegendEntry::line(LEFT, "Total", TOTAL_STYLE),
            LegendEntry::line(LEFT + 110.0, "Crown jewels", CROWN_JEWEL_STYLE),
        ],
        end_labels: end_labels(scale.x(runs.len().saturating_sub(1)), last),
        tier_patterns: false,
        note: None,
    }
}

/// Lays out the open findings per run as bars stacked by tier, P1 at the
/// bottom.
pub(crate) fn open_chart(runs: &[RunPoint]) -> Chart {
    let max = runs.iter().map(|run| run.open as f64).fold(0.0, f64::max);
    let scale = Scale::new(runs.len(), max);
    let width = px((scale.band * 0.7).min(36.0));

    let mut bars = Vec::with_capacity(runs.len() * 4);
    for (index, run) in runs.iter().enumerate() {
        let mut base = 0.0;
        for ((tier, fill), &count) in TIER_FILLS.iter().zip(&run.open_by_tier) {
            if count == 0 {
                continue;
            }
            let top = base + count as f64;
            bars.push(Bar {
                x: px(scale.x(index) - width / 2.0),
                y: scale.y(top),
                width,
                height: px(scale.y(base) - scale.y(top)),
                fill,
                title: format!("{}: {tier} {count}", run_title(run)),
            });
            base = top;
        }
    }

    let mut end = Vec::new();
    if let Some(run) = runs.last() {
        end.push(Text {
            x: RIGHT + 8.0,
            y: TOP + 4.0,
            text: format!("{} open", run.open),
        });
        // Top down, in the order of the stack.
        for (offset, index) in (0..4).rev().enumerate() {
            end.push(Text {
                x: RIGHT + 8.0,
                y: TOP + 4.0 + LABEL_SPACING * (offset + 1) as f64,
                text: format!("{} {}", TIER_FILLS[index].0, run.open_by_tier[index]),
            });
        }
    }

    Chart {
        id: "open-trend",
        label: format!(
            "Open findings per run, stacked by tier from P1 at the bottom to P4 at the top, over {} runs",
            runs.len()
        ),
        unit: "findings",
        y_max_label: number(scale.y_max),
        x_labels: x_labels(runs, &scale),
        lines: Vec::new(),
        bars,
        legend: TIER_FILLS
            .iter()
            .enumerate()
            .map(|(index, (tier, fill))| LegendEntry::swatch(LEFT + 70.0 * index as f64, tier, fill))
            .collect(),
        end_labels: end,
        tier_patterns: true,
        note: None,
    }
}

/// Lays out the mean days to fix of the fixes each run confirmed, with a
/// gap where a run confirmed none.
pub(crate) fn days_to_fix_chart(runs: &[RunPoint]) -> Chart {
    let max = runs.iter().filter_map(|run| run.mttr_days).fold(0.0, f64::max);
    let scale = Scale::new(runs.len(), max);
    let days = line(
        runs,
        &scale,
        |run| run.mttr_days,
        |run, value| {
            format!(
                "{}: {} days on average over {} fixes",
                run_title(run),
                number(value),
                run.verified
            )
        },
        DAYS_STYLE,
    );

    let last = runs
        .iter()
        .enumerate()
        .rev()
        .find_map(|(index, run)| Some((index, run.mttr_days?)));
    let end = match last {
        Some((index, days)) => end_labels(scale.x(index), vec![(scale.y(days), format!("{} days", number(days)))]),
        None => Vec::new(),
    };
    let note = last.is_none().then(|| "No run has confirmed a fix yet.".to_string());

    Chart {
        id: "mttr-trend",
        label: format!(
            "Mean days from detection to confirmed fix of the fixes each run confirmed, over {} runs; runs without a confirmed fix have no point",
            runs.len()
        ),
        unit: "days",
        y_max_label: number(scale.y_max),
        x_labels: x_labels(runs, &scale),
        lines: vec![days],
        bars: Vec::new(),
        legend: vec![LegendEntry::line(LEFT, "Mean days to fix", DAYS_STYLE)],
        end_labels: end,
        tier_patterns: false,
        note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ceiling_rounds_up() {
        let cases = [
            (0.0, 1.0),
            (-3.0, 1.0),
            (f64::NAN, 1.0),
            (1.0, 1.0),
            (1.2, 2.0),
            (2.2, 2.5),
            (4.0, 5.0),
            (7.0, 10.0),
            (195.0, 200.0),
            (200.0, 200.0),
            (201.0, 250.0),
            (0.3, 0.5),
            (12_345.0, 20_000.0),
        ];
        for (max, expected) in cases {
            let ceiling = nice_ceiling(max);
            assert!(
                (ceiling - expected).abs() < 1e-9,
                "{max}: {ceiling}, expected {expected}"
            );
        }
    }

    #[test]
    fn number_formats_labels() {
        let cases = [
            (0.0, "0"),
            (2.5, "2.5"),
            (25.25, "25.25"),
            (16.0, "16"),
            (195.4, "195"),
            (12_345.0, "12,345"),
        ];
        for (value, expected) in cases {
            assert_eq!(number(value), expected, "{value}");
        }
    }

    #[test]
    fn segments_break_at_gaps() {
        let points = [
            Some((1.0, 2.0)),
            Some((3.0, 4.0)),
            None,
            Some((5.0, 6.0)),
            None,
            Some((7.0, 8.0)),
            Some((9.0, 10.0)),
        ];
        assert_eq!(segments(&points), vec!["1,2 3,4", "7,8 9,10"]);
    }

    #[test]
    fn end_labels_keep_apart() {
        let labels = end_labels(100.0, vec![(50.0, "b".into()), (45.0, "a".into())]);
        let placed: Vec<(f64, f64, &str)> = labels
            .iter()
            .map(|label| (label.x, label.y, label.text.as_str()))
            .collect();
        assert_eq!(placed, vec![(108.0, 49.0, "a"), (108.0, 63.0, "b")]);
    }
}
