//! Where the car is: the owner picks the service location by address search (when the
//! platform has a geocoder), from a saved place, from the device's position, or by tapping
//! the map to move the pin; types the address by hand when nothing else works; and adds a
//! note for finding the car. Places can be saved (home, work) for the next booking.

use pitstop_api::{GeoPlace, NewPlace, SavedPlace};
use yew::prelude::*;

use crate::backend::Shared;
use crate::i18n::{t, t_args};
use crate::map::{Map, Marker};
use crate::views::common::{error_near, input_value};

/// A pin moved less than this keeps its address (it was put on the right side of the
/// building, not somewhere else).
const NUDGE_M: f64 = 150.0;

/// The place being chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub lat: f64,
    pub lon: f64,
    pub address: String,
    pub note: String,
}

#[derive(Properties, PartialEq)]
pub struct Props {
    pub backend: Shared,
    pub value: Place,
    pub on_change: Callback<Place>,
    #[prop_or_default]
    pub tile_url: Option<String>,
    /// Whether address search works on this platform.
    pub geocoding: bool,
    /// The owner's saved places (empty offline).
    pub saved: Vec<SavedPlace>,
    /// Called after a place was saved or deleted.
    pub on_saved: Callback<()>,
}

#[function_component(PlacePicker)]
pub fn place_picker(p: &Props) -> Html {
    let found = use_state(Vec::<GeoPlace>::new);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let naming = use_state(|| false);

    let set = {
        let (on_change, value) = (p.on_change.clone(), p.value.clone());
        move |f: &dyn Fn(&mut Place)| {
            let mut v = value.clone();
            f(&mut v);
            on_change.emit(v);
        }
    };
    let search = {
        let (b, found, error, busy) = (
            p.backend.clone(),
            found.clone(),
            error.clone(),
            busy.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let q = input_value("place-address");
            let (b, found, error, busy) = (b.clone(), found.clone(), error.clone(), busy.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                match b.geocode(q).await {
                    Ok(list) if list.is_empty() => {
                        found.set(list);
                        error.set(Some(t("place-nothing-found")));
                    }
                    Ok(list) => {
                        error.set(None);
                        found.set(list);
                    }
                    Err(e) => error.set(Some(e.message)),
                }
                busy.set(false);
            });
        })
    };
    let choose = |g: GeoPlace| {
        let (set, found) = (set.clone(), found.clone());
        Callback::from(move |_: MouseEvent| {
            set(&|v: &mut Place| {
                v.lat = g.lat;
                v.lon = g.lon;
                v.address = g.address.clone();
            });
            found.set(Vec::new());
        })
    };
    // Moving the pin fills in the address there when the platform knows it.
    let pick = {
        let (b, value, on_change, geocoding) = (
            p.backend.clone(),
            p.value.clone(),
            p.on_change.clone(),
            p.geocoding,
        );
        Callback::from(move |(lat, lon): (f64, f64)| {
            let mut v = value.clone();
            // A nudge keeps the typed address; a pin moved elsewhere has none until the
            // platform names one there.
            if pitstop_api::geo::haversine_m(v.lat, v.lon, lat, lon) > NUDGE_M {
                v.address.clear();
            }
            v.lat = lat;
            v.lon = lon;
            on_change.emit(v.clone());
            if geocoding {
                let (b, on_change) = (b.clone(), on_change.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    if let Ok(g) = b.reverse_geocode(lat, lon).await {
                        v.address = g.address;
                        on_change.emit(v);
                    }
                });
            }
        })
    };
    let here = {
        let (b, value, on_change, error, geocoding) = (
            p.backend.clone(),
            p.value.clone(),
            p.on_change.clone(),
            error.clone(),
            p.geocoding,
        );
        Callback::from(move |_: MouseEvent| {
            let (b, mut v, on_change, error) =
                (b.clone(), value.clone(), on_change.clone(), error.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match b.here().await {
                    Ok((lat, lon)) => {
                        error.set(None);
                        v.lat = lat;
                        v.lon = lon;
                        v.address.clear();
                        on_change.emit(v.clone());
                        if geocoding && let Ok(g) = b.reverse_geocode(lat, lon).await {
                            v.address = g.address;
                            on_change.emit(v);
                        }
                    }
                    Err(e) => error.set(Some(e.message)),
                }
            });
        })
    };
    let on_address = {
        let set = set.clone();
        Callback::from(move |_: InputEvent| {
            let a = input_value("place-address");
            set(&|v: &mut Place| v.address = a.clone());
        })
    };
    let on_note = {
        let set = set.clone();
        Callback::from(move |_: InputEvent| {
            let n = input_value("place-note");
            set(&|v: &mut Place| v.note = n.clone());
        })
    };
    let save = {
        let (b, value, error, naming, on_saved) = (
            p.backend.clone(),
            p.value.clone(),
            error.clone(),
            naming.clone(),
            p.on_saved.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let label = input_value("place-label");
            if label.trim().is_empty() {
                error.set(Some(t("place-name-missing")));
                return;
            }
            let place = NewPlace {
                label,
                address: value.address.clone(),
                lat: value.lat,
                lon: value.lon,
                note: value.note.clone(),
            };
            let (b, error, naming, on_saved) =
                (b.clone(), error.clone(), naming.clone(), on_saved.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match b.save_place(place).await {
                    Ok(_) => {
                        naming.set(false);
                        error.set(None);
                        on_saved.emit(());
                    }
                    Err(e) => error.set(Some(e.message)),
                }
            });
        })
    };
    let use_saved = |s: &SavedPlace| {
        let (on_change, s) = (p.on_change.clone(), s.clone());
        Callback::from(move |_: MouseEvent| {
            on_change.emit(Place {
                lat: s.lat,
                lon: s.lon,
                address: s.address.clone(),
                note: s.note.clone(),
            })
        })
    };
    let forget = |s: &SavedPlace| {
        let (b, error, on_saved, id) = (p.backend.clone(), error.clone(), p.on_saved.clone(), s.id);
        Callback::from(move |_: MouseEvent| {
            let (b, error, on_saved) = (b.clone(), error.clone(), on_saved.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match b.delete_place(id).await {
                    Ok(()) => on_saved.emit(()),
                    Err(e) => error.set(Some(e.message)),
                }
            });
        })
    };
    let v = &p.value;
    let pin = vec![Marker {
        id: "marker-pin".into(),
        lat: v.lat,
        lon: v.lon,
        label: if v.address.is_empty() {
            t("your-car")
        } else {
            v.address.clone()
        },
        class: "dest",
    }];
    html! {
      <fieldset class="place" id="book-place">
        <legend>{ t("place-where") }</legend>
        if !p.saved.is_empty() {
          <div class="row" id="saved-places" role="group" aria-label={t("place-saved")}>
            { for p.saved.iter().map(|s| html! {
                <span class="saved">
                  <button type="button" class="saved-place" data-place={s.id.to_string()} onclick={use_saved(s)}
                    aria-pressed={(s.lat == v.lat && s.lon == v.lon).to_string()}>{ &s.label }</button>
                  <button type="button" class="forget small" aria-label={t_args("place-forget", &[("label", s.label.as_str().into())])} onclick={forget(s)}>{ "×" }</button>
                </span>
            }) }
          </div>
        }
        <label for="place-address">{ t("place-address") }</label>
        <div class="row">
          <input id="place-address" value={v.address.clone()} oninput={on_address}
            placeholder={t("place-address-example")} autocomplete="street-address" />
          if p.geocoding {
            <button id="place-search" type="button" onclick={search} disabled={*busy}>{ t("place-search") }</button>
          }
          <button id="place-here" type="button" onclick={here}>{ t("place-here") }</button>
        </div>
        if !found.is_empty() {
          <ul class="found" id="place-results" aria-label={t("place-found")}>
            { for found.iter().map(|g| html! {
                <li><button type="button" class="place-result" onclick={choose(g.clone())}>{ &g.address }</button></li>
            }) }
          </ul>
        }
        { error_near("place-error", &error) }
        <Map markers={pin} tile_url={p.tile_url.clone()} on_pick={pick} />
        <p class="small muted" id="place-coords">
          { t_args("place-coords", &[("lat", format!("{:.5}", v.lat).into()), ("lon", format!("{:.5}", v.lon).into())]) }
        </p>
        <label for="place-note">{ t("place-note") }</label>
        <input id="place-note" value={v.note.clone()} oninput={on_note} placeholder={t("place-note-example")} />
        if *naming {
          <div class="row">
            <label for="place-label">{ t("place-label") }</label>
            <input id="place-label" placeholder={t("place-label-example")} />
            <button id="place-save" type="button" onclick={save}>{ t("place-save") }</button>
          </div>
        } else {
          <button id="place-keep" type="button" onclick={{ let n = naming.clone(); move |_| n.set(true) }}>{ t("place-keep") }</button>
        }
      </fieldset>
    }
}
