//! The dashboard's charts: bars with an optional line on its own right-hand scale, as inline
//! SVG computed here (the template only writes the numbers out). Every mark carries its label
//! and value (`data-label`, `data-value`) and a hover title with the value and its unit; the
//! axis states its unit; a chart with nothing to show says so instead (the page's empty state).

use askama::Template;

use crate::platform::html::{count, Px};

/// One step of a chart: its label, the bar's value and the line's.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// `2026-11-24`, `2026-11`, a step name.
    pub label: String,
    /// The bar.
    pub bar: f64,
    /// The line (ignored without a line series).
    pub line: f64,
}

/// A readable axis for values up to `max`: `(top, intervals)` with a step of 1, 2 or 5 × 10^k
/// and at most five intervals.
pub fn axis(max: f64) -> (f64, u32) {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let mut mag = 10f64.powf((max / 5.0).log10().floor());
    loop {
        for m in [1.0, 2.0, 5.0] {
            let step = m * mag;
            let n = (max / step - 1e-9).ceil().max(1.0);
            if n <= 5.0 {
                // Whole numbers only: counts and money below 1 still get a step of 1.
                let step = if step < 1.0 { 1.0 } else { step };
                let n = (max / step - 1e-9).ceil().max(1.0);
                return (step * n, n as u32);
            }
        }
        mag *= 10.0;
    }
}

#[derive(Debug)]
struct Tick {
    y: Px,
    text_y: Px,
    text: String,
}

#[derive(Debug)]
struct XLabel {
    x: Px,
    text: String,
}

#[derive(Debug)]
struct Bar {
    x: Px,
    y: Px,
    width: Px,
    height: Px,
    label: String,
    value: f64,
    title: String,
    x_label: Option<XLabel>,
}

#[derive(Debug)]
struct Dot {
    x: Px,
    y: Px,
    label: String,
    value: f64,
    title: String,
}

/// What the bars and the line measure.
#[derive(Debug, Clone, Copy)]
pub struct Series {
    /// The bars' name, on the axis and in each hover title: `net revenue` (the values carry the
    /// unit: `$10 net revenue`).
    pub bars: &'static str,
    /// The line's, when there is one: `orders`.
    pub line: Option<&'static str>,
}

/// A bar chart, rendered by `templates/chart.html`.
#[derive(Debug, Template)]
#[template(path = "chart.html", whitespace = "minimize")]
pub struct Chart {
    id: &'static str,
    label: String,
    width: f64,
    height: f64,
    left: f64,
    right: f64,
    left_text: f64,
    right_text: f64,
    label_y: f64,
    grid: Vec<Tick>,
    line_ticks: Vec<Tick>,
    bars: Vec<Bar>,
    points: String,
    dots: Vec<Dot>,
    unit: &'static str,
    line_unit: &'static str,
    /// True when every bar and line value is zero: the page shows its empty state instead.
    pub empty: bool,
}

// Numbers and escaped text only: rendered by its own template.
impl askama::filters::HtmlSafe for Chart {}

impl Chart {
    /// A chart of `points`; `fmt` writes a bar value (money, a count, a percentage).
    pub fn new(
        id: &'static str,
        label: String,
        points: &[Point],
        series: Series,
        fmt: impl Fn(f64) -> String,
    ) -> Chart {
        let has_line = series.line.is_some();
        let right = if has_line { 34.0 } else { 12.0 };
        let (w, h, left, top, bottom) = (560.0, 210.0, 56.0, 22.0, 24.0);
        let plot_w = w - left - right;
        let plot_h = h - top - bottom;
        let n = points.len().max(1) as f64;
        let slot = plot_w / n;
        let (max, ticks) = axis(points.iter().map(|p| p.bar).fold(0.0, f64::max));
        let (lmax, lticks) = axis(points.iter().map(|p| p.line).fold(0.0, f64::max));
        let tick_y = |i: u32, of: u32| top + plot_h - plot_h * f64::from(i) / f64::from(of);
        let grid = (0..=ticks)
            .map(|i| Tick {
                y: Px(tick_y(i, ticks)),
                text_y: Px(tick_y(i, ticks) + 3.5),
                text: fmt(max * f64::from(i) / f64::from(ticks)),
            })
            .collect();
        let line_ticks = if has_line {
            (0..=lticks)
                .map(|i| Tick {
                    y: Px(tick_y(i, lticks)),
                    text_y: Px(tick_y(i, lticks) + 3.5),
                    text: count(lmax * f64::from(i) / f64::from(lticks)),
                })
                .collect()
        } else {
            Vec::new()
        };
        let mid = |i: usize| left + slot * (i as f64 + 0.5);
        // About seven labels under the bars, counting back from the latest.
        let every = points.len().div_ceil(7).max(1);
        let bars = points
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let bh = plot_h * p.bar / max;
                Bar {
                    x: Px(left + slot * i as f64 + slot * 0.18),
                    y: Px(top + plot_h - bh),
                    width: Px(slot * 0.64),
                    height: Px(bh),
                    label: p.label.clone(),
                    value: p.bar,
                    title: format!("{}: {} {}", p.label, fmt(p.bar), series.bars),
                    x_label: ((points.len() - 1 - i) % every == 0).then(|| XLabel {
                        x: Px(mid(i)),
                        text: p.label.get(5..).unwrap_or(&p.label).to_string(),
                    }),
                }
            })
            .collect();
        let line_y = |v: f64| top + plot_h - plot_h * v / lmax;
        let (points_attr, dots) = match series.line {
            Some(name) => (
                points
                    .iter()
                    .enumerate()
                    .map(|(i, p)| format!("{},{}", Px(mid(i)), Px(line_y(p.line))))
                    .collect::<Vec<_>>()
                    .join(" "),
                points
                    .iter()
                    .enumerate()
                    .map(|(i, p)| Dot {
                        x: Px(mid(i)),
                        y: Px(line_y(p.line)),
                        label: p.label.clone(),
                        value: p.line,
                        title: format!("{}: {} {name}", p.label, count(p.line)),
                    })
                    .collect(),
            ),
            None => (String::new(), Vec::new()),
        };
        let empty = points
            .iter()
            .all(|p| p.bar == 0.0 && (!has_line || p.line == 0.0));
        Chart {
            id,
            label,
            width: w,
            height: h,
            left,
            right: w - right,
            left_text: left - 6.0,
            right_text: w - right + 6.0,
            label_y: h - 6.0,
            grid,
            line_ticks,
            bars,
            points: points_attr,
            dots,
            unit: series.bars,
            line_unit: series.line.unwrap_or(""),
            empty,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::html::render;

    #[test]
    fn axes_and_marks() {
        assert_eq!(axis(0.0), (1.0, 1));
        assert_eq!(axis(2.0), (2.0, 2));
        assert_eq!(axis(7.0), (8.0, 4));
        assert_eq!(axis(50.0), (50.0, 5));
        assert_eq!(axis(430.0), (500.0, 5));
        assert_eq!(axis(0.4), (1.0, 1));
        let pts = [
            Point {
                label: "2026-11-01".into(),
                bar: 40.0,
                line: 1.0,
            },
            Point {
                label: "2026-11-02".into(),
                bar: 0.0,
                line: 0.0,
            },
            Point {
                label: "2026-11-03".into(),
                bar: 10.0,
                line: 2.0,
            },
        ];
        let c = Chart::new(
            "c",
            "Net revenue per day".into(),
            &pts,
            Series {
                bars: "net revenue (USD)",
                line: Some("orders"),
            },
            |v| format!("${v:.0}"),
        );
        assert!(!c.empty);
        let svg = render(&c);
        assert!(
            svg.contains(r#"data-label="2026-11-01" data-value="40""#),
            "{svg}"
        );
        assert!(svg.contains("<title>2026-11-03: $10 net revenue (USD)</title>"));
        assert!(svg.contains("<title>2026-11-03: 2 orders</title>"));
        assert!(svg.contains(">net revenue (USD)<"));
        // The tallest bar reaches the top of the plot (axis top 40 → 164 px high).
        assert!(svg.contains(r#"y="22.0" width="#), "{svg}");
        let none = Chart::new(
            "e",
            "x".into(),
            &pts[1..2],
            Series {
                bars: "visitors",
                line: None,
            },
            count,
        );
        assert!(none.empty);
    }
}
