//! The HTML report's charts, drawn by plotters' SVG backend into strings that the page
//! holds inline: followers over time, engagement per post, and the best-time heat map.
//! Each chart has colours of its own ([`FOLLOWERS_COLOR`], [`ENGAGEMENT_COLOR`], the heat
//! map's ramp from [`HEAT_LOW`] to [`HEAT_HIGH`]), so a screenshot shows which were drawn.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::PostReport;
use crate::analytics::insights::SlotGrid;
use crate::error::{Error, Result};

/// Chart sizes in pixels (the page scales them to its width).
pub const WIDTH: u32 = 760;
pub const HEIGHT: u32 = 260;
pub const HEAT_HEIGHT: u32 = 250;

/// The followers line.
pub const FOLLOWERS_COLOR: RGBColor = RGBColor(0x15, 0x65, 0xc0);
/// The engagement bars.
pub const ENGAGEMENT_COLOR: RGBColor = RGBColor(0xef, 0x6c, 0x00);
/// The heat map's lowest and highest means; an hour without posts is [`HEAT_EMPTY`].
pub const HEAT_LOW: RGBColor = RGBColor(0xe0, 0xf2, 0xe9);
pub const HEAT_HIGH: RGBColor = RGBColor(0x1b, 0x5e, 0x20);
pub const HEAT_EMPTY: RGBColor = RGBColor(0xec, 0xef, 0xf4);

const FONT: &str = "sans-serif";
const GRID: RGBColor = RGBColor(0xe6, 0xe6, 0xe6);
const TEXT: RGBColor = RGBColor(0x44, 0x44, 0x44);

fn failed<E: std::fmt::Debug>(what: &str) -> impl Fn(E) -> Error + '_ {
    move |e| Error::Internal(format!("the {what} chart could not be drawn: {e:?}"))
}

/// Draws into an SVG string of `width` × `height`, and returns it ready to sit inside an
/// HTML page (no XML namespace: inline SVG needs none, and the page names no address).
fn svg(
    width: u32,
    height: u32,
    what: &str,
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<()>,
) -> Result<String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(failed(what))?;
        draw(&root)?;
        root.present().map_err(failed(what))?;
    }
    Ok(out.replace(" xmlns=\"http://www.w3.org/2000/svg\"", ""))
}

/// The audience over the period: one point a day, on a time axis from the period's start
/// to its end. `counter` names the axis ("followers", "members").
pub fn audience(
    points: &[(DateTime<Utc>, u64)],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    counter: &str,
    tz: Tz,
) -> Result<String> {
    let what = "followers";
    svg(WIDTH, HEIGHT, what, |root| {
        let days = |at: DateTime<Utc>| (at - from).num_seconds() as f64 / 86_400.0;
        let span = days(to).max(1.0);
        let low = points.iter().map(|(_, n)| *n).min().unwrap_or(0);
        let high = points.iter().map(|(_, n)| *n).max().unwrap_or(1);
        // Some room above and below, and a visible scale for a flat line.
        let pad = ((high - low) as f64 * 0.1).max(1.0);
        let y = (low as f64 - pad).max(0.0)..(high as f64 + pad);
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..span, y)
            .map_err(failed(what))?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .axis_style(TEXT)
            .label_style((FONT, 13).into_font().color(&TEXT))
            .x_labels(7)
            .y_labels(5)
            .x_label_formatter(&|d| {
                (from + chrono::Duration::seconds((d * 86_400.0) as i64))
                    .with_timezone(&tz)
                    .format("%b %-d")
                    .to_string()
            })
            .y_label_formatter(&|v| format!("{v:.0}"))
            .y_desc(counter)
            .draw()
            .map_err(failed(what))?;
        let line: Vec<(f64, f64)> = points
            .iter()
            .map(|(at, n)| (days(*at), *n as f64))
            .collect();
        chart
            .draw_series(LineSeries::new(
                line.iter().copied(),
                FOLLOWERS_COLOR.stroke_width(3),
            ))
            .map_err(failed(what))?;
        chart
            .draw_series(
                line.iter()
                    .map(|&point| Circle::new(point, 3, FOLLOWERS_COLOR.filled())),
            )
            .map_err(failed(what))?;
        Ok(())
    })
}

/// Each post's engagement as a bar, in the order published; posts without counters have
/// no bar (never a fake zero).
pub fn engagement(posts: &[PostReport]) -> Result<String> {
    let what = "engagement";
    svg(WIDTH, HEIGHT, what, |root| {
        let count = posts.len().max(1) as f64;
        let high = posts.iter().filter_map(|p| p.engagement).max().unwrap_or(0);
        let top = (high as f64 * 1.1).max(1.0);
        // Post `i` (0-based) is a bar centred on `i`, labelled `i + 1` as in the table.
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(-0.5..count - 0.5, 0.0..top)
            .map_err(failed(what))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .axis_style(TEXT)
            .label_style((FONT, 13).into_font().color(&TEXT))
            .x_labels(posts.len().clamp(1, 12))
            .x_label_formatter(&|x| {
                if x.fract() == 0.0 && *x >= 0.0 {
                    format!("{}", *x as usize + 1)
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|v| format!("{v:.0}"))
            .x_desc("post, in the order published")
            .y_desc("engagement")
            .draw()
            .map_err(failed(what))?;
        chart
            .draw_series(posts.iter().enumerate().filter_map(|(i, p)| {
                let value = p.engagement? as f64;
                Some(Rectangle::new(
                    [(i as f64 - 0.35, 0.0), (i as f64 + 0.35, value)],
                    ENGAGEMENT_COLOR.filled(),
                ))
            }))
            .map_err(failed(what))?;
        Ok(())
    })
}

/// The colour of a heat map cell: empty, or between the ramp's ends by `share` (0 to 1).
pub fn heat_color(share: Option<f64>) -> RGBColor {
    let Some(share) = share else {
        return HEAT_EMPTY;
    };
    let share = share.clamp(0.0, 1.0);
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * share).round() as u8;
    RGBColor(
        mix(HEAT_LOW.0, HEAT_HIGH.0),
        mix(HEAT_LOW.1, HEAT_HIGH.1),
        mix(HEAT_LOW.2, HEAT_HIGH.2),
    )
}

/// Where a mean sits on the heat map's ramp: the lowest mean at a pale 0.15 (still apart
/// from an hour without posts), the highest at 1, one mean alone at 1.
pub fn heat_share(value: f64, lowest: Option<f64>, highest: Option<f64>) -> f64 {
    match (lowest, highest) {
        (Some(low), Some(high)) if high > low => 0.15 + 0.85 * (value - low) / (high - low),
        _ => 1.0,
    }
}

/// The week of hours: a row per weekday (Monday at the top), a column per hour, darker
/// where posts published then did better on average.
pub fn heat_map(map: &SlotGrid) -> Result<String> {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let what = "best-time";
    svg(WIDTH, HEAT_HEIGHT, what, |root| {
        let means = || map.cells.iter().flatten().filter_map(|c| c.value);
        let lowest = means().min_by(f64::total_cmp);
        let highest = means().max_by(f64::total_cmp);
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(44)
            .build_cartesian_2d(0.0..24.0, 0.0..7.0)
            .map_err(failed(what))?;
        chart
            .configure_mesh()
            .disable_mesh()
            .axis_style(TEXT)
            .label_style((FONT, 13).into_font().color(&TEXT))
            .x_labels(9)
            .x_label_formatter(&|h| format!("{:02}:00", *h as u32))
            .y_labels(0)
            .draw()
            .map_err(failed(what))?;
        // Row `i` spans i..i+1 from the bottom: Monday at the top, Sunday at the bottom.
        let label = (FONT, 13)
            .into_font()
            .color(&TEXT)
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (day, name) in DAYS.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(0.0, 6.5 - day as f64));
            root.draw(&Text::new(*name, (x - 8, y), label.clone()))
                .map_err(failed(what))?;
        }
        chart
            .draw_series(map.cells.iter().enumerate().flat_map(|(day, hours)| {
                hours.iter().enumerate().map(move |(hour, cell)| {
                    let share = cell.value.map(|v| heat_share(v, lowest, highest));
                    let bottom = 6.0 - day as f64;
                    Rectangle::new(
                        [
                            (hour as f64 + 0.04, bottom + 0.06),
                            (hour as f64 + 0.96, bottom + 0.94),
                        ],
                        heat_color(share).filled(),
                    )
                })
            }))
            .map_err(failed(what))?;
        Ok(())
    })
}
