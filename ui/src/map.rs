//! A map that draws without a tile server: markers and the route in Web Mercator on an SVG,
//! over map tiles when the platform names a tile URL (`--tile-url`), over a plain grid when
//! it does not (tests, offline demos). Each marker carries its coordinates as `data-lat` and
//! `data-lon` so tests can see it move.
//!
//! The view keeps its zoom and centre while the markers stay inside it (so a master getting
//! closer never seems to move away because the map re-zoomed); it refits when a marker
//! leaves the view or the person presses "Fit". A scale bar shows distances. With
//! `on_pick`, a click or tap on the map places a pin there.

use crate::i18n::{t, t_args};
use wasm_bindgen::JsCast;
use yew::prelude::*;

const W: f64 = 640.0;
const H: f64 = 420.0;
const TILE: f64 = 256.0;
/// Metres per pixel at the equator at zoom 0 (256-pixel tiles).
const M_PER_PX_Z0: f64 = 156_543.033_92;

/// One point on the map.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    /// Element id (`marker-tech`, `marker-dest`, `tech-12`…).
    pub id: String,
    pub lat: f64,
    pub lon: f64,
    pub label: String,
    /// CSS class: `tech`, `busy`, `off`, `dest`.
    pub class: &'static str,
}

#[derive(Properties, PartialEq)]
pub struct MapProps {
    pub markers: Vec<Marker>,
    /// Draw a route line between these two marker ids.
    #[prop_or_default]
    pub route: Option<(String, String)>,
    #[prop_or_default]
    pub tile_url: Option<String>,
    /// Called with (lat, lon) where the person clicked or tapped: placing a pin.
    #[prop_or_default]
    pub on_pick: Option<Callback<(f64, f64)>>,
}

/// World pixel coordinates at zoom 0.
fn project(lat: f64, lon: f64) -> (f64, f64) {
    let lat = lat.clamp(-85.0511, 85.0511).to_radians();
    let x = (lon + 180.0) / 360.0 * TILE;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * TILE;
    (x, y)
}

/// The inverse of [`project`].
fn unproject(x: f64, y: f64) -> (f64, f64) {
    let lon = x / TILE * 360.0 - 180.0;
    let n = std::f64::consts::PI * (1.0 - 2.0 * y / TILE);
    (n.sinh().atan().to_degrees(), lon)
}

/// What the map shows: zoom level and centre in world pixels at zoom 0.
#[derive(Debug, Clone, Copy, PartialEq)]
struct View {
    z: f64,
    cx: f64,
    cy: f64,
}

impl View {
    fn scale(&self) -> f64 {
        2f64.powf(self.z)
    }
    /// Screen position of a world point.
    fn at(&self, (x, y): (f64, f64)) -> (f64, f64) {
        let s = self.scale();
        ((x - self.cx) * s + W / 2.0, (y - self.cy) * s + H / 2.0)
    }
    /// Whether a world point is on screen, away from the edges.
    fn shows(&self, p: (f64, f64)) -> bool {
        let (x, y) = self.at(p);
        (W * 0.05..=W * 0.95).contains(&x) && (H * 0.05..=H * 0.95).contains(&y)
    }
}

/// The largest zoom at which every point fits with a margin.
fn fit(pts: &[(f64, f64)]) -> View {
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for &(x, y) in pts {
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    let (dx, dy) = ((x1 - x0).max(1e-9), (y1 - y0).max(1e-9));
    let z = ((W * 0.8 / dx).min(H * 0.8 / dy))
        .log2()
        .floor()
        .clamp(3.0, 17.0);
    View {
        z,
        cx: (x0 + x1) / 2.0,
        cy: (y0 + y1) / 2.0,
    }
}

/// A round distance that draws at most `max_px` long, and its length in pixels.
fn scale_bar(m_per_px: f64, max_px: f64) -> (f64, String) {
    let max_m = m_per_px * max_px;
    let base = 10f64.powf(max_m.log10().floor());
    let nice = [5.0, 2.0, 1.0]
        .into_iter()
        .map(|k| k * base)
        .find(|d| *d <= max_m)
        .unwrap_or(base);
    let label = if nice >= 1000.0 {
        t_args("map-km", &[("n", (nice / 1000.0).to_string().into())])
    } else {
        t_args("map-m", &[("n", nice.to_string().into())])
    };
    (nice / m_per_px, label)
}

#[function_component(Map)]
pub fn map(props: &MapProps) -> Html {
    // The view the person last saw; kept while it still shows every marker.
    let kept = use_mut_ref(|| None::<View>);
    let redraw = use_force_update();
    if props.markers.is_empty() {
        return html! { <div class="map empty">{ t("map-empty") }</div> };
    }
    let pts: Vec<(f64, f64)> = props
        .markers
        .iter()
        .map(|m| project(m.lat, m.lon))
        .collect();
    let view = {
        let mut k = kept.borrow_mut();
        let v = match *k {
            Some(v) if pts.iter().all(|p| v.shows(*p)) => v,
            _ => fit(&pts),
        };
        *k = Some(v);
        v
    };
    let zoom = |by: f64| {
        let (kept, redraw) = (kept.clone(), redraw.clone());
        let pts = pts.clone();
        Callback::from(move |_: MouseEvent| {
            let mut k = kept.borrow_mut();
            *k = Some(match (by, *k) {
                (0.0, _) | (_, None) => fit(&pts),
                (by, Some(v)) => View {
                    z: (v.z + by).clamp(3.0, 18.0),
                    ..v
                },
            });
            redraw.force_update();
        })
    };
    let scale = view.scale();
    let (left, top) = (view.cx * scale - W / 2.0, view.cy * scale - H / 2.0);
    let at = |lat: f64, lon: f64| view.at(project(lat, lon));
    let tiles = match &props.tile_url {
        Some(url) => {
            let n = scale as i64;
            let (tx0, ty0) = ((left / TILE).floor() as i64, (top / TILE).floor() as i64);
            let (tx1, ty1) = (
                ((left + W) / TILE).floor() as i64,
                ((top + H) / TILE).floor() as i64,
            );
            let mut out = vec![];
            for tx in tx0..=tx1 {
                for ty in ty0.max(0)..=ty1.min(n - 1) {
                    let href = url
                        .replace("{z}", &(view.z as i64).to_string())
                        .replace("{x}", &tx.rem_euclid(n).to_string())
                        .replace("{y}", &ty.to_string());
                    out.push(html! { <image href={href} x={(tx as f64 * TILE - left).to_string()} y={(ty as f64 * TILE - top).to_string()} width="256" height="256" /> });
                }
            }
            html! { <g class="tiles">{ for out }</g> }
        }
        None => {
            let step = 64.0;
            let ox = -(left.rem_euclid(step));
            let oy = -(top.rem_euclid(step));
            let v = (0..12).map(|i| {
                let x = ox + i as f64 * step;
                html! { <line class="grid" x1={x.to_string()} y1="0" x2={x.to_string()} y2={H.to_string()} /> }
            });
            let h = (0..8).map(|i| {
                let y = oy + i as f64 * step;
                html! { <line class="grid" x1="0" y1={y.to_string()} x2={W.to_string()} y2={y.to_string()} /> }
            });
            html! { <g class="grid">{ for v }{ for h }</g> }
        }
    };
    let route = props.route.as_ref().and_then(|(a, b)| {
        let a = props.markers.iter().find(|m| &m.id == a)?;
        let b = props.markers.iter().find(|m| &m.id == b)?;
        let (ax, ay) = at(a.lat, a.lon);
        let (bx, by) = at(b.lat, b.lon);
        Some(html! { <line class="route" x1={ax.to_string()} y1={ay.to_string()} x2={bx.to_string()} y2={by.to_string()} /> })
    });
    // A label that would overlap one already drawn is left out (the marker keeps it as a
    // tooltip), so a crowded map stays readable.
    let mut labelled: Vec<(f64, f64)> = Vec::new();
    let markers: Vec<Html> = props
        .markers
        .iter()
        .map(|m| {
            let (x, y) = at(m.lat, m.lon);
            let free = labelled
                .iter()
                .all(|&(lx, ly)| (lx - x).abs() > 90.0 || (ly - y).abs() > 18.0);
            if free {
                labelled.push((x, y));
            }
            html! {
                <g id={m.id.clone()} class={classes!("marker", m.class)} data-lat={m.lat.to_string()} data-lon={m.lon.to_string()}
                   transform={format!("translate({x:.1},{y:.1})")}>
                  <title>{ &m.label }</title>
                  <circle r="8" />
                  if free { <text x="11" y="4">{ &m.label }</text> }
                </g>
            }
        })
        .collect();
    let (_, mid_lat) = {
        let (lat, lon) = unproject(view.cx, view.cy);
        (lon, lat)
    };
    let m_per_px = M_PER_PX_Z0 * mid_lat.to_radians().cos() / scale;
    let (bar_px, bar_label) = scale_bar(m_per_px, 120.0);
    let pick = props.on_pick.clone().map(|cb| {
        Callback::from(move |e: MouseEvent| {
            let Some(svg) = e
                .current_target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            else {
                return;
            };
            let r = svg.get_bounding_client_rect();
            if r.width() <= 0.0 || r.height() <= 0.0 {
                return;
            }
            let x = (f64::from(e.client_x()) - r.left()) * W / r.width();
            let y = (f64::from(e.client_y()) - r.top()) * H / r.height();
            let (wx, wy) = ((x + left) / scale, (y + top) / scale);
            cb.emit(unproject(wx, wy));
        })
    });
    html! {
      <div class={classes!("map-wrap", props.on_pick.is_some().then_some("pickable"))}>
        <svg class="map" viewBox={format!("0 0 {W} {H}")} role="img" aria-label={t("map")} onclick={pick}>
          <rect class="land" x="0" y="0" width={W.to_string()} height={H.to_string()} />
          { tiles }
          { for route }
          { for markers }
          <g class="scale" transform={format!("translate(12,{:.0})", H - 14.0)}>
            <line x1="0" y1="0" x2={format!("{bar_px:.1}")} y2="0" />
            <text x="0" y="-6">{ bar_label }</text>
          </g>
        </svg>
        <div class="map-controls">
          <button class="zoom-in" aria-label={t("map-zoom-in")} onclick={zoom(1.0)}>{ "+" }</button>
          <button class="zoom-out" aria-label={t("map-zoom-out")} onclick={zoom(-1.0)}>{ "−" }</button>
          <button class="zoom-fit" aria-label={t("map-fit-label")} onclick={zoom(0.0)}>{ t("map-fit") }</button>
        </div>
      </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_round_trips_and_scale_bars_are_round() {
        let (x, y) = project(52.52, 13.405);
        let (lat, lon) = unproject(x, y);
        assert!((lat - 52.52).abs() < 1e-9 && (lon - 13.405).abs() < 1e-9);
        let (px, label) = scale_bar(3.0, 120.0);
        assert_eq!(label, "200 m");
        assert!((px - 66.7).abs() < 0.1);
        assert_eq!(scale_bar(30.0, 120.0).1, "2 km");
    }

    #[test]
    fn the_view_is_kept_while_markers_stay_inside() {
        let a = project(52.50, 13.40);
        let b = project(52.52, 13.42);
        let v = fit(&[a, b]);
        assert!(v.shows(a) && v.shows(b));
        // Getting closer stays inside the same view; far away does not.
        assert!(v.shows(project(52.51, 13.41)));
        assert!(!v.shows(project(53.5, 13.4)));
    }
}
