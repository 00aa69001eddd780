//! Live tracking of the assigned master: map with the master and the car, distance and ETA,
//! refreshed as fixes arrive. Used in the owner's view and, through a share link, as a page
//! of its own in a plain browser (`/app/?track=<token>`, no sign-in).

use pitstop_api::{Id, Tracking};
use yew::prelude::*;

use crate::backend::{BackendError, Shared};
use crate::map::{Map, Marker};
use crate::views::common::*;

/// What to track: an order of the signed-in account, or a share link's token.
#[derive(Clone, PartialEq)]
pub enum Target {
    Order(Id),
    Token(String),
}

#[derive(Properties, PartialEq)]
pub struct Props {
    pub backend: Shared,
    pub target: Target,
    #[prop_or_default]
    pub tile_url: Option<String>,
}

#[function_component(TrackView)]
pub fn track_view(p: &Props) -> Html {
    let (tick, _) = use_changes(&p.backend);
    let state = use_state(|| None::<Result<Option<Tracking>, BackendError>>);
    {
        let state = state.clone();
        use_effect_with(
            (p.backend.clone(), p.target.clone(), tick),
            move |(b, t, _)| {
                let (b, t) = (b.clone(), t.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    let r = match t {
                        Target::Order(id) => b.tracking(id).await,
                        Target::Token(tok) => b.shared_tracking(tok).await.map(Some),
                    };
                    state.set(Some(r));
                });
            },
        );
    }
    match &*state {
        None => html! { <p>{ "Loading…" }</p> },
        Some(Err(e)) => html! { <p class="error" id="track-error">{ &e.message }</p> },
        Some(Ok(None)) => {
            html! { <p class="muted">{ "This order is not on this device yet." }</p> }
        }
        Some(Ok(Some(t))) => tracking(t, p.tile_url.clone()),
    }
}

fn tracking(t: &Tracking, tile_url: Option<String>) -> Html {
    let mut markers = vec![Marker {
        id: "marker-dest".into(),
        lat: t.destination_lat,
        lon: t.destination_lon,
        label: "Your car".into(),
        class: "dest",
    }];
    if let Some(f) = &t.fix {
        markers.push(Marker {
            id: "marker-tech".into(),
            lat: f.lat,
            lon: f.lon,
            label: t.technician_name.clone().unwrap_or_else(|| "Master".into()),
            class: "tech",
        });
    }
    let eta = match (t.eta_s, t.distance_m) {
        (Some(0), _) => "The master is there".to_string(),
        (Some(s), Some(d)) => format!("ETA {} · {:.1} km", duration(s), d / 1000.0),
        _ => "No position yet".to_string(),
    };
    let who = t
        .technician_name
        .clone()
        .map_or("No master assigned yet".to_string(), |n| {
            format!("Master: {n}")
        });
    html! {
      <div class="tracking" id="tracking" data-status={t.status.as_str()}>
        <div class="row">
          <strong id="track-status">{ t.status.label() }</strong>
          <span id="eta" data-eta={t.eta_s.map(|s| s.to_string()).unwrap_or_default()}>{ eta }</span>
        </div>
        <p class="muted">{ who }</p>
        <Map markers={markers} route={Some(("marker-tech".to_string(), "marker-dest".to_string()))} tile_url={tile_url} />
      </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct PageProps {
    pub backend: Shared,
    pub token: String,
}

/// The share-link page: tracking only, for anyone holding the link.
#[function_component(TrackPage)]
pub fn track_page(p: &PageProps) -> Html {
    let tiles = use_state(|| None::<String>);
    {
        let tiles = tiles.clone();
        use_effect_with(p.backend.clone(), move |b| {
            let b = b.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(c) = b.config().await {
                    tiles.set(c.tile_url);
                }
            });
        });
    }
    html! {
      <main class="track-page">
        <h1>{ "Pitstop" }<span class="muted">{ " · live tracking" }</span></h1>
        <TrackView backend={p.backend.clone()} target={Target::Token(p.token.clone())} tile_url={(*tiles).clone()} />
      </main>
    }
}
