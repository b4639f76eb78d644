//! Figures as data (`Figure` of `Panel`s), rendered identically to PNG and SVG with plotters.
//!
//! The DejaVu Sans font is compiled into the binary (assets/fonts, Bitstream Vera licence), so
//! plots render on machines without fontconfig or any system font.

use crate::error::{Error, Result};
use crate::io::durable;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Once;

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            // The font is compiled in and known to parse; a failure here is a build defect.
            plotters::style::register_font("sans-serif", style, FONT)
                .unwrap_or_else(|_| panic!("bundled font failed to load"));
        }
    });
}

/// A named curve.
#[derive(Clone, Debug)]
pub struct Series {
    pub name: String,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
}

#[derive(Clone, Debug)]
pub enum PanelKind {
    /// Curves on shared axes.
    Lines(Vec<Series>),
    /// Unconnected points (a scatter), one colour per series.
    Points(Vec<Series>),
    /// Overlaid histograms (densities) of named samples, `bins` bins over their joint range.
    Hist {
        samples: Vec<(String, Vec<f64>)>,
        bins: usize,
    },
    /// A heat map of `z` (`rows × cols`, row 0 drawn at the bottom) over x = 0..cols and
    /// y = 0..rows, with vertical lines at `marks` (e.g. period boundaries).
    Heat {
        z: Vec<f64>,
        rows: usize,
        cols: usize,
        marks: Vec<f64>,
    },
}

#[derive(Clone, Debug)]
pub struct Panel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub kind: PanelKind,
}

/// A grid of panels with a title.
#[derive(Clone, Debug)]
pub struct Figure {
    pub title: String,
    pub cols: usize,
    pub panels: Vec<Panel>,
}

const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(127, 127, 127),
];

/// Three stops of the viridis colour map, interpolated linearly; `v` in [0, 1].
fn viridis(v: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 3] = [
        (68.0, 1.0, 84.0),
        (33.0, 145.0, 140.0),
        (253.0, 231.0, 37.0),
    ];
    let v = if v.is_finite() {
        v.clamp(0.0, 1.0) * 2.0
    } else {
        0.0
    };
    let i = (v as usize).min(1);
    let f = v - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |x: f64, y: f64| (x + (y - x) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

fn range(vals: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = vals
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-9 * lo.abs().max(1.0));
    (lo - pad, hi + pad)
}

/// The corner whose box (a third of the width, a quarter of the height) holds the fewest data
/// points, so the legend hides as little as possible; histograms keep the upper right.
fn legend_corner(kind: &PanelKind, xr: (f64, f64), yr: (f64, f64)) -> SeriesLabelPosition {
    let (PanelKind::Lines(series) | PanelKind::Points(series)) = kind else {
        return SeriesLabelPosition::UpperRight;
    };
    let corners = [
        (SeriesLabelPosition::LowerRight, true, false),
        (SeriesLabelPosition::UpperRight, true, true),
        (SeriesLabelPosition::UpperLeft, false, true),
        (SeriesLabelPosition::LowerLeft, false, false),
    ];
    let (w, h) = (xr.1 - xr.0, yr.1 - yr.0);
    let count = |right: bool, upper: bool| {
        let pts = series.iter().flat_map(|s| s.x.iter().zip(&s.y));
        pts.filter(|&(&x, &y)| {
            let fx = (x - xr.0) / w;
            let fy = (y - yr.0) / h;
            (if right {
                fx > 2.0 / 3.0
            } else {
                fx < 1.0 / 3.0
            }) && (if upper { fy > 0.75 } else { fy < 0.25 })
        })
        .count()
    };
    // Ties keep the earlier corner (lower right first, as before).
    corners
        .into_iter()
        .min_by_key(|&(_, r, u)| count(r, u))
        .map_or(SeriesLabelPosition::LowerRight, |c| c.0)
}

type DrawResult<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, p: &Panel) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
    let (xr, yr, hist) = match &p.kind {
        PanelKind::Lines(series) | PanelKind::Points(series) => (
            range(series.iter().flat_map(|s| s.x.iter().copied())),
            range(series.iter().flat_map(|s| s.y.iter().copied())),
            None,
        ),
        PanelKind::Heat { rows, cols, .. } => ((0.0, *cols as f64), (0.0, *rows as f64), None),
        PanelKind::Hist { samples, bins } => {
            let (lo, hi) = range(samples.iter().flat_map(|(_, v)| v.iter().copied()));
            let width = (hi - lo) / *bins as f64;
            let dens: Vec<Vec<f64>> = samples
                .iter()
                .map(|(_, v)| {
                    let mut c = vec![0.0; *bins];
                    for &x in v.iter().filter(|x| x.is_finite()) {
                        c[(((x - lo) / width) as usize).min(bins - 1)] += 1.0;
                    }
                    let n = v.len().max(1) as f64;
                    c.iter().map(|k| k / (n * width)).collect()
                })
                .collect();
            let top = dens.iter().flatten().fold(0.0f64, |a, &b| a.max(b));
            ((lo, hi), (0.0, top * 1.05 + 1e-12), Some((dens, width)))
        }
    };
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, ("sans-serif", 16))
        .margin(8)
        .x_label_area_size(36)
        .y_label_area_size(52)
        .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)?;
    chart
        .configure_mesh()
        .x_desc(&p.x_label)
        .y_desc(&p.y_label)
        .label_style(("sans-serif", 12))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    match (&p.kind, hist) {
        (PanelKind::Lines(series), _) => {
            for (i, s) in series.iter().enumerate() {
                let c = PALETTE[i % PALETTE.len()];
                let pts: Vec<(f64, f64)> = s.x.iter().copied().zip(s.y.iter().copied()).collect();
                chart
                    .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))?
                    .label(&s.name)
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2))
                    });
                if pts.len() <= 40 {
                    chart.draw_series(pts.iter().map(|&p| Circle::new(p, 2, c.filled())))?;
                }
            }
        }
        (PanelKind::Points(series), _) => {
            for (i, s) in series.iter().enumerate() {
                let c = PALETTE[i % PALETTE.len()];
                let pts = s.x.iter().copied().zip(s.y.iter().copied());
                chart
                    .draw_series(pts.map(|p| Circle::new(p, 2, c.filled())))?
                    .label(&s.name)
                    .legend(move |(x, y)| Circle::new((x + 6, y), 3, c.filled()));
            }
        }
        (PanelKind::Hist { samples, .. }, Some((dens, width))) => {
            for (i, ((name, _), d)) in samples.iter().zip(&dens).enumerate() {
                let c = PALETTE[i % PALETTE.len()];
                let rects = d.iter().enumerate().map(move |(b, &h)| {
                    let x0 = xr.0 + b as f64 * width;
                    Rectangle::new([(x0, 0.0), (x0 + width, h)], c.mix(0.45).filled())
                });
                chart.draw_series(rects)?.label(name).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.mix(0.45).filled())
                });
            }
        }
        (
            PanelKind::Heat {
                z,
                rows,
                cols,
                marks,
            },
            _,
        ) => {
            let (lo, hi) = range(z.iter().copied());
            let cells = (0..*rows).flat_map(|r| (0..*cols).map(move |c| (r, c)));
            chart.draw_series(cells.map(|(r, c)| {
                let v = (z[r * cols + c] - lo) / (hi - lo);
                let (x, y) = (c as f64, r as f64);
                Rectangle::new([(x, y), (x + 1.0, y + 1.0)], viridis(v).filled())
            }))?;
            for &m in marks {
                chart.draw_series(LineSeries::new(
                    [(m, 0.0), (m, *rows as f64)],
                    WHITE.mix(0.8).stroke_width(1),
                ))?;
            }
            return Ok(());
        }
        _ => unreachable!("histogram densities are computed for histogram panels"),
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 12))
        .position(legend_corner(&p.kind, xr, yr))
        .draw()?;
    Ok(())
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, fig: &Figure) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let root = root.titled(&fig.title, ("sans-serif", 20))?;
    let rows = fig.panels.len().div_ceil(fig.cols);
    for (area, panel) in root.split_evenly((rows, fig.cols)).iter().zip(&fig.panels) {
        draw_panel(area, panel)?;
    }
    root.present()?;
    Ok(())
}

/// Writes `stem.png` and `stem.svg`; returns both paths.
pub fn save(fig: &Figure, stem: &Path) -> Result<Vec<PathBuf>> {
    register_font();
    let rows = fig.panels.len().div_ceil(fig.cols) as u32;
    let size = ((420 * fig.cols as u32).max(720), 320 * rows + 40);
    let png = stem.with_extension("png");
    let svg = stem.with_extension("svg");
    // Drawn under temporary names and renamed: a killed run never leaves half a plot.
    let (png_tmp, svg_tmp) = (durable::tmp_path(&png), durable::tmp_path(&svg));
    draw(BitMapBackend::new(&png_tmp, size).into_drawing_area(), fig)
        .map_err(|e| Error::data(&png, format!("could not draw plot: {e}")))?;
    durable::commit(&png_tmp, &png)?;
    draw(SVGBackend::new(&svg_tmp, size).into_drawing_area(), fig)
        .map_err(|e| Error::data(&svg, format!("could not draw plot: {e}")))?;
    durable::commit(&svg_tmp, &svg)?;
    Ok(vec![png, svg])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_lines_and_histograms_to_png_and_svg() {
        let d = tempfile::tempdir().unwrap();
        let fig = Figure {
            title: "test".into(),
            cols: 2,
            panels: vec![
                Panel {
                    title: "lines".into(),
                    x_label: "epoch".into(),
                    y_label: "acc".into(),
                    kind: PanelKind::Lines(vec![Series {
                        name: "a".into(),
                        x: vec![0., 1., 2.],
                        y: vec![0.5, 0.7, 0.9],
                    }]),
                },
                Panel {
                    title: "hist".into(),
                    x_label: "w".into(),
                    y_label: "density".into(),
                    kind: PanelKind::Hist {
                        samples: vec![("b".into(), (0..100).map(|i| i as f64).collect())],
                        bins: 10,
                    },
                },
            ],
        };
        let out = save(&fig, &d.path().join("fig")).unwrap();
        assert!(std::fs::metadata(&out[0]).unwrap().len() > 1000);
        let svg = std::fs::read_to_string(&out[1]).unwrap();
        assert!(svg.contains("<svg") && svg.contains("lines"));
    }
}
