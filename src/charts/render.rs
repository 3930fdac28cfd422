//! Draws a [`Chart`] with plotters, to SVG text or to a PNG, with no display and no installed
//! fonts: DejaVu Sans is compiled in (the `dejavu` crate) and rasterized by ab_glyph.
//!
//! Stacked charts (cost, tokens) are drawn as stacked bars per bucket, the others as lines
//! with a gap where a bucket has no data. The legend sits to the right of the plot, one
//! entry per series in the chart's order, each with its total.

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::{Chart, ChartKind};
use crate::error::{Error, Result};

/// Light or dark, as the app's theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    #[default]
    Light,
    Dark,
}

impl Theme {
    pub fn parse(s: &str) -> Option<Theme> {
        match s {
            "light" => Some(Theme::Light),
            "dark" => Some(Theme::Dark),
            _ => None,
        }
    }
}

/// Output size limits: big enough for a poster, small enough not to exhaust memory.
pub const MIN_SIZE: u32 = 200;
pub const MAX_SIZE: u32 = 8000;

/// The series colours (Tableau 10, which stays apart in both themes and for most colour
/// vision deficiencies), in series order.
const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0xe1, 0x57, 0x59),
    RGBColor(0x76, 0xb7, 0xb2),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0xed, 0xc9, 0x48),
    RGBColor(0xb0, 0x7a, 0xa1),
    RGBColor(0xff, 0x9d, 0xa7),
    RGBColor(0x9c, 0x75, 0x5f),
    RGBColor(0xba, 0xb0, 0xac),
];

/// The series colour at `i`, as a CSS hex string (the app's uPlot charts use the same).
pub fn series_color(i: usize) -> String {
    let c = PALETTE[i % PALETTE.len()];
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

struct Colors {
    bg: RGBColor,
    fg: RGBColor,
    grid: RGBColor,
    muted: RGBColor,
}

fn colors(theme: Theme) -> Colors {
    match theme {
        Theme::Light => Colors {
            bg: RGBColor(0xff, 0xff, 0xff),
            fg: RGBColor(0x1f, 0x23, 0x28),
            grid: RGBColor(0xe4, 0xe7, 0xeb),
            muted: RGBColor(0x65, 0x6d, 0x76),
        },
        Theme::Dark => Colors {
            bg: RGBColor(0x1e, 0x1f, 0x22),
            fg: RGBColor(0xdf, 0xe1, 0xe5),
            grid: RGBColor(0x3a, 0x3d, 0x42),
            muted: RGBColor(0x9a, 0xa0, 0xa8),
        },
    }
}

const FONT: &str = "sans-serif";

/// Registers the compiled-in fonts with plotters, once per process.
fn fonts() -> Result<()> {
    static DONE: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .and_then(|_| {
                plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold())
            })
            .map_err(|_| "the built-in DejaVu Sans font does not load".to_string())
    })
    .clone()
    .map_err(Error::Internal)
}

fn check_size(width: u32, height: u32) -> Result<()> {
    for (what, v) in [("width", width), ("height", height)] {
        if !(MIN_SIZE..=MAX_SIZE).contains(&v) {
            return Err(Error::InvalidArgument {
                what: "chart size",
                value: format!("{what} {v}"),
                why: format!("use {MIN_SIZE} to {MAX_SIZE} pixels"),
            });
        }
    }
    Ok(())
}

/// The chart as an SVG document.
pub fn svg(chart: &Chart, width: u32, height: u32, theme: Theme) -> Result<String> {
    check_size(width, height)?;
    fonts()?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        draw(&root, chart, theme)?;
        root.present().map_err(drawing)?;
    }
    Ok(out)
}

/// The chart as a PNG image (8-bit RGB).
pub fn png(chart: &Chart, width: u32, height: u32, theme: Theme) -> Result<Vec<u8>> {
    check_size(width, height)?;
    fonts()?;
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        draw(&root, chart, theme)?;
        root.present().map_err(drawing)?;
    }
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, width, height);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    let mut w = enc
        .write_header()
        .map_err(|e| Error::Internal(format!("encoding the PNG: {e}")))?;
    w.write_image_data(&rgb)
        .map_err(|e| Error::Internal(format!("encoding the PNG: {e}")))?;
    w.finish()
        .map_err(|e| Error::Internal(format!("encoding the PNG: {e}")))?;
    Ok(out)
}

fn drawing<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> Error {
    Error::Internal(format!("drawing the chart: {e}"))
}

/// "06-01 12:00" (or the date alone for day buckets): a bucket start in UTC.
fn time_label(ms: i64, bucket_ms: i64) -> String {
    let s = crate::model::format_rfc3339_nanos(ms.saturating_mul(1_000_000));
    if bucket_ms >= 86_400_000 {
        s.get(..10).unwrap_or(&s).to_string()
    } else {
        s.get(5..16).unwrap_or(&s).replace('T', " ")
    }
}

/// A value in the chart's unit, short enough for an axis tick.
pub fn value_label(v: f64, unit: &str) -> String {
    match unit {
        "USD" => {
            if v == 0.0 {
                "$0".into()
            } else if v.abs() >= 100.0 {
                format!("${v:.0}")
            } else if v.abs() >= 1.0 {
                format!("${v:.2}")
            } else if v.abs() >= 0.01 {
                format!("${v:.3}")
            } else {
                format!("${v:.5}")
            }
        }
        "tokens" => si(v),
        "s" => {
            if v == 0.0 {
                "0 s".into()
            } else if v.abs() < 1.0 {
                format!("{:.0} ms", v * 1000.0)
            } else {
                format!("{v:.1} s")
            }
        }
        "%" => format!("{v:.0} %"),
        _ => format!("{v}"),
    }
}

fn si(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.1}G", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// A series' total for the legend: its cost or tokens, or its span count.
fn total_label(chart: &Chart, total: f64) -> String {
    match chart.kind {
        ChartKind::Cost => {
            if total >= 1.0 {
                format!("${total:.2}")
            } else {
                format!("${total:.4}")
            }
        }
        ChartKind::Tokens => si(total),
        ChartKind::Latency | ChartKind::Errors => format!("{} spans", si(total)),
    }
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &Chart,
    theme: Theme,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let c = colors(theme);
    root.fill(&c.bg).map_err(drawing)?;
    let (w, h) = root.dim_in_pixel();
    let legend_w = (w / 4).clamp(120, 260);
    let (plot, legend) = root.split_horizontally(w.saturating_sub(legend_w));
    let title = (FONT, 18, FontStyle::Bold).into_font().color(&c.fg);
    let label = (FONT, 12).into_font().color(&c.fg);
    let desc = (FONT, 13).into_font().color(&c.muted);

    // The y range: stacked totals or the largest value, with headroom.
    let n = chart.x_ms.len();
    let mut ymax: f64 = 0.0;
    for i in 0..n {
        let vals = chart
            .series
            .iter()
            .filter_map(|s| s.values.get(i).copied().flatten());
        let v = if chart.stacked {
            vals.sum()
        } else {
            vals.fold(0.0, f64::max)
        };
        ymax = ymax.max(v);
    }
    let ymax = if ymax > 0.0 && ymax.is_finite() {
        ymax * 1.08
    } else if chart.unit == "%" {
        100.0
    } else {
        1.0
    };
    let bucket = chart.bucket_ms.max(1);
    let (x0, x1) = match (chart.x_ms.first(), chart.x_ms.last()) {
        (Some(a), Some(b)) => (*a, b + bucket),
        _ => (0, bucket),
    };
    let mut cc = ChartBuilder::on(&plot)
        .caption(chart.title.clone(), title)
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(78)
        .build_cartesian_2d(x0..x1, 0f64..ymax)
        .map_err(drawing)?;
    let xfmt = |v: &i64| time_label(*v, bucket);
    let yfmt = |v: &f64| value_label(*v, &chart.unit);
    cc.configure_mesh()
        .x_desc("Time (UTC)")
        .y_desc(chart.y_label.clone())
        .x_labels(((w - legend_w) / 110).max(2) as usize)
        .y_labels(((h / 60).max(3)) as usize)
        .x_label_formatter(&xfmt)
        .y_label_formatter(&yfmt)
        .label_style(label.clone())
        .axis_desc_style(desc.clone())
        .axis_style(c.muted)
        .bold_line_style(c.grid)
        .light_line_style(c.bg)
        .draw()
        .map_err(drawing)?;

    if chart.is_empty() {
        let (pw, ph) = plot.dim_in_pixel();
        plot.draw(&Text::new(
            "No data in this range",
            (pw as i32 / 2 - 70, ph as i32 / 2),
            (FONT, 15).into_font().color(&c.muted),
        ))
        .map_err(drawing)?;
    } else if chart.stacked {
        // One bar per bucket, the series stacked in order, 10% gap between bars.
        let gap = (bucket / 10).max(0);
        let mut base = vec![0.0f64; n];
        for (si, s) in chart.series.iter().enumerate() {
            let color = PALETTE[si % PALETTE.len()];
            let bars: Vec<Rectangle<(i64, f64)>> = s
                .values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| {
                    let v = (*v)?;
                    let x = *chart.x_ms.get(i)?;
                    let b = base[i];
                    base[i] += v;
                    Some(Rectangle::new(
                        [(x + gap / 2, b), (x + bucket - gap / 2, b + v)],
                        color.filled(),
                    ))
                })
                .collect();
            cc.draw_series(bars).map_err(drawing)?;
        }
    } else {
        for (si, s) in chart.series.iter().enumerate() {
            let color = PALETTE[si % PALETTE.len()];
            // Points at bucket centres; a bucket with no data breaks the line.
            let mut run: Vec<(i64, f64)> = Vec::new();
            let mut runs: Vec<Vec<(i64, f64)>> = Vec::new();
            for (i, v) in s.values.iter().enumerate() {
                match (v, chart.x_ms.get(i)) {
                    (Some(v), Some(x)) if v.is_finite() => run.push((x + bucket / 2, *v)),
                    _ => {
                        if !run.is_empty() {
                            runs.push(std::mem::take(&mut run));
                        }
                    }
                }
            }
            if !run.is_empty() {
                runs.push(run);
            }
            for r in runs {
                if r.len() == 1 {
                    cc.draw_series(r.iter().map(|p| Circle::new(*p, 3, color.filled())))
                        .map_err(drawing)?;
                } else {
                    cc.draw_series(LineSeries::new(r, color.stroke_width(2)))
                        .map_err(drawing)?;
                }
            }
        }
    }

    // The legend: a swatch, the label and the total per series.
    let legend = legend.margin(44, 10, 4, 8);
    let row_h = 20;
    let max_rows = (legend.dim_in_pixel().1 as i32 / row_h - 2).max(1) as usize;
    let mut y = 0;
    for (si, s) in chart.series.iter().enumerate().take(max_rows) {
        let color = PALETTE[si % PALETTE.len()];
        legend
            .draw(&Rectangle::new([(0, y + 3), (11, y + 14)], color.filled()))
            .map_err(drawing)?;
        let text = format!("{}  {}", s.label, total_label(chart, s.total));
        legend
            .draw(&Text::new(text, (17, y + 2), label.clone()))
            .map_err(drawing)?;
        y += row_h;
    }
    if chart.series.len() > max_rows {
        legend
            .draw(&Text::new(
                format!("+{} more", chart.series.len() - max_rows),
                (17, y + 2),
                desc.clone(),
            ))
            .map_err(drawing)?;
        y += row_h;
    }
    if let Some(note) = &chart.note {
        legend
            .draw(&Text::new(
                note.clone(),
                (0, y + 8),
                (FONT, 11).into_font().color(&c.muted),
            ))
            .map_err(drawing)?;
    }
    Ok(())
}
