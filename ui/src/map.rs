//! A map that draws without a tile server: markers and the route in Web Mercator on an SVG,
//! over map tiles when the platform names a tile URL (`--tile-url`), over a plain grid when
//! it does not (tests, offline demos). Each marker carries its coordinates as `data-lat` and
//! `data-lon` so tests can see it move.

use yew::prelude::*;

const W: f64 = 640.0;
const H: f64 = 420.0;
const TILE: f64 = 256.0;

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
}

/// World pixel coordinates at zoom 0.
fn project(lat: f64, lon: f64) -> (f64, f64) {
    let lat = lat.clamp(-85.0511, 85.0511).to_radians();
    let x = (lon + 180.0) / 360.0 * TILE;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * TILE;
    (x, y)
}

#[function_component(Map)]
pub fn map(props: &MapProps) -> Html {
    if props.markers.is_empty() {
        return html! { <div class="map empty">{ "Nothing to show on the map yet." }</div> };
    }
    let pts: Vec<(f64, f64)> = props
        .markers
        .iter()
        .map(|m| project(m.lat, m.lon))
        .collect();
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for &(x, y) in &pts {
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    // The largest zoom at which every marker fits with a margin.
    let (dx, dy) = ((x1 - x0).max(1e-9), (y1 - y0).max(1e-9));
    let z = ((W * 0.8 / dx).min(H * 0.8 / dy))
        .log2()
        .floor()
        .clamp(3.0, 17.0);
    let scale = 2f64.powf(z);
    let (cx, cy) = ((x0 + x1) / 2.0 * scale, (y0 + y1) / 2.0 * scale);
    let (left, top) = (cx - W / 2.0, cy - H / 2.0);
    let at = |lat: f64, lon: f64| {
        let (x, y) = project(lat, lon);
        (x * scale - left, y * scale - top)
    };
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
                        .replace("{z}", &(z as i64).to_string())
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
    let markers = props.markers.iter().map(|m| {
        let (x, y) = at(m.lat, m.lon);
        html! {
            <g id={m.id.clone()} class={classes!("marker", m.class)} data-lat={m.lat.to_string()} data-lon={m.lon.to_string()}
               transform={format!("translate({x:.1},{y:.1})")}>
              <circle r="8" />
              <text x="11" y="4">{ &m.label }</text>
            </g>
        }
    });
    html! {
        <svg class="map" viewBox={format!("0 0 {W} {H}")} role="img" aria-label="map">
          <rect class="land" x="0" y="0" width={W.to_string()} height={H.to_string()} />
          { tiles }
          { for route }
          { for markers }
          if props.tile_url.is_none() {
            <text class="attribution" x="8" y={(H - 8.0).to_string()}>{ "no map tiles configured (platform --tile-url)" }</text>
          }
        </svg>
    }
}
