//! Live tracking of the assigned master: map with the master and the car, distance and ETA,
//! refreshed as fixes arrive. Used in the owner's view and, through a share link, as a page
//! of its own in a plain browser (`/app/?track=<token>`, no sign-in).

use pitstop_api::{Id, Tracking};
use yew::prelude::*;

use crate::backend::{BackendError, Shared};
use crate::i18n::{self, Lang, t_args};
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
        None => html! { <p>{ i18n::t("loading") }</p> },
        Some(Err(e)) => html! { <p class="error" id="track-error">{ &e.message }</p> },
        Some(Ok(None)) => {
            html! { <p class="muted">{ i18n::t("not-on-device") }</p> }
        }
        Some(Ok(Some(t))) => html! { <Live tracking={t.clone()} tile_url={p.tile_url.clone()} /> },
    }
}

/// After this long without a position, the page says the master has no signal.
const STALE_AFTER_MS: i64 = 60_000;

#[derive(Properties, PartialEq)]
struct LiveProps {
    tracking: Tracking,
    tile_url: Option<String>,
}

/// "12 s ago", "3 min ago".
fn ago(ms: i64) -> String {
    let s = (ms / 1000).max(0);
    if s < 60 {
        t_args("seconds-ago", &[("n", s.into())])
    } else {
        t_args("minutes-ago", &[("n", (s / 60).into())])
    }
}

/// One tracking state, re-drawn every second so the position's age stays true.
#[function_component(Live)]
fn live(p: &LiveProps) -> Html {
    let now = use_clock(1000);
    tracking(&p.tracking, p.tile_url.clone(), now)
}

fn tracking(t: &Tracking, tile_url: Option<String>, now: i64) -> Html {
    if t.status.is_terminal() {
        return html! {
          <div class="tracking" id="tracking" data-status={t.status.as_str()}>
            <p id="track-status"><strong>{ if t.status == pitstop_api::OrderStatus::Completed { i18n::t("job-done") } else { i18n::t("order-cancelled") } }</strong></p>
            <p class="muted">{ i18n::t("nothing-live") }</p>
          </div>
        };
    }
    let mut markers = vec![Marker {
        id: "marker-dest".into(),
        lat: t.destination_lat,
        lon: t.destination_lon,
        label: i18n::t("your-car"),
        class: "dest",
    }];
    if let Some(f) = &t.fix {
        markers.push(Marker {
            id: "marker-tech".into(),
            lat: f.lat,
            lon: f.lon,
            label: t
                .technician_name
                .clone()
                .unwrap_or_else(|| i18n::t("master")),
            class: "tech",
        });
    }
    let age = t.fix.as_ref().map(|f| now - f.t);
    let stale = age.is_some_and(|a| a > STALE_AFTER_MS);
    let km = |d: f64| format!("{:.1}", d / 1000.0);
    let eta = match (t.eta_s, t.distance_m) {
        (Some(0), _) => i18n::t("master-there"),
        // An old position gives an old ETA: say so rather than count down as if live.
        (Some(s), Some(d)) if stale => t_args(
            "eta-old",
            &[
                ("duration", i18n::duration(s).into()),
                ("km", km(d).into()),
                ("ago", ago(age.unwrap_or_default()).into()),
            ],
        ),
        (Some(s), Some(d)) => t_args(
            "eta",
            &[("duration", i18n::duration(s).into()), ("km", km(d).into())],
        ),
        _ if t.technician_id.is_some() => i18n::t("waiting-first-position"),
        _ => String::new(),
    };
    let who = match &t.technician_name {
        Some(n) => html! {
          <p class="master" id="track-master">
            <span class="initial" aria-hidden="true">{ n.chars().next().map(|c| c.to_uppercase().to_string()).unwrap_or_default() }</span>
            { t_args("your-master", &[("name", n.as_str().into())]) }
            if let Some(v) = &t.technician_vehicle { <span class="muted" id="track-vehicle">{ format!(" · {v}") }</span> }
          </p>
        },
        None if t.technician_id.is_some() => {
            html! { <p class="muted" id="track-master">{ i18n::t("master-assigned") }</p> }
        }
        None => html! { <p class="muted" id="track-master">{ i18n::t("no-master") }</p> },
    };
    let freshness = match (&t.fix, age) {
        (Some(f), Some(_)) if stale => html! {
          <p id="track-age" class="stale" role="status">{ t_args("no-signal", &[("time", clock(f.t).into())]) }</p>
        },
        (Some(_), Some(a)) => {
            html! { <p id="track-age" class="age" data-age-ms={a.to_string()}>{ t_args("updated", &[("ago", ago(a).into())]) }</p> }
        }
        _ => html! {},
    };
    html! {
      <div class="tracking" id="tracking" data-status={t.status.as_str()}>
        <div class="row">
          <strong id="track-status">{ i18n::status(t.status) }</strong>
          <span id="eta" data-eta={t.eta_s.map(|s| s.to_string()).unwrap_or_default()}>{ eta }</span>
        </div>
        { who }
        { freshness }
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
    // Redraws the page (and, keyed by it, the tracking view) in the chosen language.
    let lang = use_state(i18n::lang);
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
        <div class="row">
          <h1>{ "Pitstop" }<span class="muted">{ format!(" · {}", i18n::t("live-tracking")) }</span></h1>
          <LangSwitch on_change={{ let l = lang.clone(); move |v| l.set(v) }} />
        </div>
        <TrackView key={lang.tag()} backend={p.backend.clone()} target={Target::Token(p.token.clone())} tile_url={(*tiles).clone()} />
      </main>
    }
}

/// English / 中文: switches the language (and `<html lang>`); `on_change` redraws the page.
#[derive(Properties, PartialEq)]
pub struct LangProps {
    pub on_change: Callback<Lang>,
}

#[function_component(LangSwitch)]
pub fn lang_switch(p: &LangProps) -> Html {
    let pick = |lang: Lang| {
        let cb = p.on_change.clone();
        Callback::from(move |_: MouseEvent| {
            i18n::set(lang);
            cb.emit(lang);
        })
    };
    let now = i18n::lang();
    html! {
      <div class="lang" role="group" aria-label={i18n::t("language")}>
        <button id="lang-en" lang="en" aria-pressed={(now == Lang::En).to_string()} onclick={pick(Lang::En)}>{ "English" }</button>
        <button id="lang-zh" lang="zh-CN" aria-pressed={(now == Lang::Zh).to_string()} onclick={pick(Lang::Zh)}>{ "中文" }</button>
      </div>
    }
}
