//! The car owner's view: book a service with the price shown before confirming, the order
//! list with its timeline, live tracking of the master with ETA, and a share link for it.

use pitstop_api::device::SyncStatus;
use pitstop_api::services::{self, ServiceType};
use pitstop_api::{Id, NewOrder, NewVehicle, Order, OrderStatus, SavedPlace, Vehicle};
use yew::prelude::*;

use crate::backend::{Fut, Shared, now_ms};
use crate::views::common::*;
use crate::views::place::{Place, PlacePicker};
use crate::views::track::{Target, TrackView};

/// Where the pin starts when the owner has no saved place (the demo city's centre).
const HOME: (f64, f64) = (52.5163, 13.3777);

/// Saved places need the platform; offline the list is empty.
fn load_places(b: Shared) -> Fut<'static, Vec<SavedPlace>> {
    Box::pin(async move { Ok(b.places().await.unwrap_or_default()) })
}

/// The shared role view properties.
pub type Props = RoleProps;

fn load_orders(b: Shared) -> Fut<'static, Vec<Order>> {
    Box::pin(async move { b.orders().await })
}

/// A confirm click counts only this long after the button asked for it.
const CONFIRM_AFTER_MS: i64 = 800;

/// Reasons an owner gives when cancelling (sent as the step's note).
const CANCEL_REASONS: &[&str] = &[
    "My plans changed",
    "I booked by mistake",
    "The waiting time is too long",
    "The car is already fixed",
    "Another reason",
];

/// What the sync badge shows (the app's queue; in a browser, whether the platform answers).
fn load_sync(b: Shared) -> Fut<'static, SyncStatus> {
    Box::pin(async move { b.sync_status().await })
}

/// Cars need the platform; offline the booking form is missing but orders still show.
fn load_cars(b: Shared) -> Fut<'static, Vec<Vehicle>> {
    Box::pin(async move { Ok(b.vehicles().await.unwrap_or_default()) })
}

/// Booking windows offered: the next few hours, this afternoon, tomorrow morning.
fn windows(now: i64) -> Vec<(String, i64, i64)> {
    let hour = 3_600_000;
    let base = now - now.rem_euclid(hour) + hour;
    vec![
        (
            format!(
                "As soon as possible ({}–{})",
                clock(base),
                clock(base + 2 * hour)
            ),
            base,
            base + 2 * hour,
        ),
        (
            format!(
                "Later today ({}–{})",
                clock(base + 3 * hour),
                clock(base + 6 * hour)
            ),
            base + 3 * hour,
            base + 6 * hour,
        ),
        (
            format!(
                "Tomorrow ({}–{})",
                day_clock(base + 24 * hour),
                clock(base + 27 * hour)
            ),
            base + 24 * hour,
            base + 27 * hour,
        ),
    ]
}

#[function_component(OwnerView)]
pub fn owner_view(p: &Props) -> Html {
    let (tick, bump) = use_changes(&p.backend);
    let orders = use_data(&p.backend, tick, load_orders);
    // Cars change only when one is added here, not on every order or position change.
    let (cars_tick, cars_changed) = use_local_changes();
    let cars = use_data(&p.backend, cars_tick, load_cars);
    let (places_tick, places_changed) = use_local_changes();
    let saved = use_data(&p.backend, places_tick, load_places)
        .and_then(Result::ok)
        .unwrap_or_default();
    // The place being booked: the first saved place, or the pin's start, until changed.
    let place = use_state(|| None::<Place>);
    let chosen_place = (*place).clone().unwrap_or_else(|| match saved.first() {
        Some(s) => Place {
            lat: s.lat,
            lon: s.lon,
            address: s.address.clone(),
            note: s.note.clone(),
        },
        None => Place {
            lat: HOME.0,
            lon: HOME.1,
            address: String::new(),
            note: String::new(),
        },
    });
    let sync = use_data(&p.backend, tick, load_sync);
    let error = use_state(|| None::<String>);
    // Booking and car errors show in their form, next to the button that caused them.
    let form_error = use_state(|| None::<String>);
    let (dismiss, retry, sync_now) = badge_callbacks(&p.backend, &error, &bump);
    let service = use_state(|| services::catalogue()[0].code.clone());
    // When "Book" turned into "Confirm booking" (a confirm needs a moment after it, so a
    // double click on Book cannot book unread).
    let confirming = use_state(|| None::<i64>);
    let selected = use_state(|| None::<Id>);
    let share_url = use_state(|| None::<String>);
    // The order whose cancellation is being confirmed.
    let cancelling = use_state(|| None::<Id>);

    let (Some(orders), Some(cars)) = (orders, cars) else {
        return html! { <main><p>{ "Loading…" }</p></main> };
    };
    let (orders, vehicles) = match (orders, cars) {
        (Ok(o), Ok(v)) => (o, v),
        (Err(e), _) | (_, Err(e)) => {
            return html! { <main><p class="error">{ e.message }</p></main> };
        }
    };
    let catalogue = services::catalogue();
    let chosen: ServiceType = services::find(&service).unwrap_or_else(|| catalogue[0].clone());

    let on_service = {
        let (service, confirming) = (service.clone(), confirming.clone());
        Callback::from(move |_| {
            service.set(input_value("book-service"));
            confirming.set(None);
        })
    };
    let add_car = action(&p.backend, &form_error, &cars_changed, |b, e: SubmitEvent| {
        e.prevent_default();
        let v = NewVehicle {
            vin: input_value("car-vin").trim().to_uppercase(),
            plate: input_value("car-plate").trim().to_uppercase(),
            make: input_value("car-make"),
            model: input_value("car-model"),
            year: input_value("car-year").parse().ok(),
        };
        Some(Box::pin(async move { b.add_vehicle(v).await.map(|_| ()) }))
    });
    let book = {
        let (b, error, bump, confirming) = (
            p.backend.clone(),
            form_error.clone(),
            bump.clone(),
            confirming.clone(),
        );
        let code = chosen.code.clone();
        let at = chosen_place.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            match *confirming {
                None => {
                    confirming.set(Some(now_ms()));
                    return;
                }
                Some(since) if now_ms() - since < CONFIRM_AFTER_MS => return,
                Some(_) => confirming.set(None),
            }
            let Ok(vehicle_id) = input_value("book-vehicle").parse::<Id>() else {
                error.set(Some("Choose a car first.".into()));
                return;
            };
            let w: usize = input_value("book-window").parse().unwrap_or(0);
            let (_, start, end) = windows(now_ms()).swap_remove(w.min(2));
            let order = NewOrder {
                vehicle_id,
                service: code.clone(),
                lat: at.lat,
                lon: at.lon,
                address: at.address.trim().to_string(),
                place_note: at.note.trim().to_string(),
                window_start: start,
                window_end: end,
                notes: input_value("book-notes"),
            };
            let b = b.clone();
            act(
                error.clone(),
                bump.clone(),
                async move { b.book(order).await },
            );
        })
    };

    let booking = if vehicles.is_empty() {
        html! {
          <form key="add-car" id="add-car" class="card" onsubmit={add_car}>
            <h3>{ "Your car" }</h3>
            <input id="car-vin" placeholder="VIN (17 characters)" />
            <input id="car-plate" placeholder="Plate" />
            <input id="car-make" placeholder="Make" />
            <input id="car-model" placeholder="Model" />
            <input id="car-year" placeholder="Year" class="narrow" />
            { error_near("car-error", &form_error) }
            <button id="add-car-submit" type="submit">{ "Add car" }</button>
          </form>
        }
    } else {
        html! {
          <form key="book" id="book" class="card" onsubmit={book}>
            <h3>{ "Book a service" }</h3>
            <label>{ "Service" }
              <select id="book-service" onchange={on_service}>
                { for catalogue.iter().map(|s| html! {
                    <option value={s.code.clone()} selected={s.code == chosen.code}>
                      { format!("{} — {}", s.name, price(s.price_cents)) }
                    </option>
                }) }
              </select>
            </label>
            <label>{ "Car" }
              <select id="book-vehicle">
                { for vehicles.iter().enumerate().map(|(i, v)| html! {
                    <option value={v.id.to_string()} selected={i == 0}>{ format!("{} {} · {}", v.make, v.model, v.plate) }</option>
                }) }
              </select>
            </label>
            <label>{ "When" }
              <select id="book-window">
                { for windows(now_ms()).into_iter().enumerate().map(|(i, (label, _, _))| html! {
                    <option value={i.to_string()} selected={i == 0}>{ label }</option>
                }) }
              </select>
            </label>
            <PlacePicker backend={p.backend.clone()} value={chosen_place.clone()} tile_url={p.tile_url.clone()}
              geocoding={p.geocoding} saved={saved.clone()} on_saved={places_changed.clone()}
              on_change={{ let place = place.clone(); move |v| place.set(Some(v)) }} />
            <label for="book-notes">{ "Anything the master should know (optional)" }</label>
            <input id="book-notes" placeholder="Squeaks when braking" />
            <p id="book-price" class="price big">
              { format!("{} fixed price, labour and standard parts included · about {} min", price(chosen.price_cents), chosen.minutes) }
            </p>
            { error_near("book-error", &form_error) }
            <button id="book-submit" type="submit" class="primary">
              { if confirming.is_some() { format!("Confirm booking for {}", price(chosen.price_cents)) } else { "Book".to_string() } }
            </button>
          </form>
        }
    };

    let current = (*selected)
        .and_then(|id| orders.iter().find(|o| o.id == id))
        .or_else(|| orders.iter().find(|o| o.status.is_active_job()))
        .or(orders.first())
        .cloned();
    let share = {
        let (b, error, share_url) = (p.backend.clone(), error.clone(), share_url.clone());
        let id = current.as_ref().map(|o| o.id);
        Callback::from(move |_| {
            let Some(id) = id else { return };
            let (b, error, share_url) = (b.clone(), error.clone(), share_url.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match b.share(id).await {
                    Ok(url) => share_url.set(Some(url)),
                    Err(e) => error.set(Some(e.message)),
                }
            });
        })
    };

    let cancel = {
        let (b, error, bump, cancelling) = (
            p.backend.clone(),
            error.clone(),
            bump.clone(),
            cancelling.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let Some(id) = *cancelling else { return };
            let reason = input_value("cancel-reason");
            cancelling.set(None);
            let b = b.clone();
            act(error.clone(), bump.clone(), async move {
                b.step(id, OrderStatus::Cancelled, Some(reason)).await
            });
        })
    };

    html! {
      <main class="owner">
        <header>
          <h1>{ "Pitstop" }<span class="muted">{ format!(" · {}", p.account.name) }</span></h1>
          if let Some(Ok(s)) = sync {
            <SyncBadge status={s} on_dismiss={dismiss} on_retry={retry} on_sync={sync_now} />
          }
        </header>
        { error_line(&error) }
        <div class="columns">
          <section class="left">
            { booking }
            <h2>{ "Your orders" }</h2>
            <ul id="orders" class="list">
              { for orders.iter().map(|o| {
                  let (sel, id) = (selected.clone(), o.id);
                  html! {
                    <li class={classes!("order", (Some(o.id) == current.as_ref().map(|c| c.id)).then_some("selected"))}
                        data-order={o.id.to_string()} data-status={o.status.as_str()} onclick={move |_| sel.set(Some(id))}>
                      <strong>{ service_name(&o.service) }</strong>{ " · " }{ o.status.label() }
                      <span class="muted">{ format!(" · {} · {}", o.vehicle.plate, price(o.price_cents)) }</span>
                    </li>
                  }
              }) }
            </ul>
          </section>
          <section class="right">
            if let Some(o) = current {
              <h2>{ format!("{} · {}", service_name(&o.service), o.vehicle.plate) }</h2>
              if let Some(r) = &o.unassigned_reason { <p class="muted">{ r }</p> }
              if o.status.is_active_job() {
                <TrackView backend={p.backend.clone()} target={Target::Order(o.id)} tile_url={p.tile_url.clone()} />
                <button id="share" onclick={share}>{ "Share live tracking" }</button>
                if let Some(url) = &*share_url { <p><a id="share-url" href={url.clone()} target="_blank">{ url }</a></p> }
              }
              if o.status.check_step(OrderStatus::Cancelled).is_ok() {
                if *cancelling == Some(o.id) {
                  <section id="cancel-confirm" class="card warn" role="alertdialog" aria-labelledby="cancel-title">
                    <h3 id="cancel-title">{ "Cancel this booking?" }</h3>
                    <label for="cancel-reason">{ "Why (the workshop sees this)" }</label>
                    <select id="cancel-reason">
                      { for CANCEL_REASONS.iter().enumerate().map(|(i, r)| html! {
                          <option value={*r} selected={i == 0}>{ *r }</option>
                      }) }
                    </select>
                    <div class="actions">
                      <button id="cancel-keep" onclick={{ let c = cancelling.clone(); move |_| c.set(None) }}>{ "Keep the booking" }</button>
                      <button id="cancel-order" class="danger" onclick={cancel.clone()}>{ "Cancel booking" }</button>
                    </div>
                  </section>
                } else {
                  <button id="cancel-start" onclick={{ let (c, id) = (cancelling.clone(), o.id); move |_| c.set(Some(id)) }}>{ "Cancel booking…" }</button>
                }
              }
              { timeline(&o) }
            } else {
              <p class="muted">{ "No orders yet. Book a service to start." }</p>
            }
          </section>
        </div>
      </main>
    }
}
