//! The car owner's view: book a service with the price shown before confirming, the order
//! list with its timeline, live tracking of the master with ETA, and a share link for it.

use pitstop_api::device::SyncStatus;
use pitstop_api::services::{self, ServiceType};
use pitstop_api::{Id, NewOrder, NewVehicle, Order, OrderStatus, SavedPlace, Vehicle};
use yew::prelude::*;

use crate::backend::{Fut, Shared, now_ms};
use crate::i18n::{self, t, t_args};
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

/// Reasons an owner gives when cancelling, as message ids (sent as the step's note in
/// English, shown to each reader in their language).
const CANCEL_REASONS: &[&str] = &[
    "owner-cancel-plans-changed",
    "owner-cancel-mistake",
    "owner-cancel-wait-too-long",
    "owner-cancel-already-fixed",
    "owner-cancel-other",
];

/// What the sync badge shows (the app's queue; in a browser, whether the platform answers).
fn load_sync(b: Shared) -> Fut<'static, SyncStatus> {
    Box::pin(async move { b.sync_status().await })
}

/// Cars need the platform; offline the booking form is missing but orders still show.
fn load_cars(b: Shared) -> Fut<'static, Vec<Vehicle>> {
    Box::pin(async move { Ok(b.vehicles().await.unwrap_or_default()) })
}

/// Hours technicians come out (local time): bookings fall inside them.
const OPEN_HOUR: u32 = 8;
const CLOSE_HOUR: u32 = 20;

/// `at` with the clock set to `hour`:00 local time, `days` later.
fn at_hour(at: i64, days: u32, hour: u32) -> i64 {
    let d = js_sys::Date::new(&(at as f64).into());
    d.set_date(d.get_date() + days);
    d.set_hours(hour);
    d.set_minutes(0);
    d.set_seconds(0);
    d.set_milliseconds(0);
    d.get_time() as i64
}

fn local_hour(at: i64) -> u32 {
    js_sys::Date::new(&(at as f64).into()).get_hours()
}

/// Booking windows offered, all within opening hours: the earliest two hours (today, or the
/// next morning when it is too late), later today if there is room, and tomorrow morning and
/// afternoon.
fn windows(now: i64) -> Vec<(String, i64, i64)> {
    let hour = 3_600_000;
    let next = now - now.rem_euclid(hour) + hour;
    let mut out = Vec::new();
    let first = match local_hour(next) {
        h if h < OPEN_HOUR => at_hour(now, 0, OPEN_HOUR),
        h if h + 2 > CLOSE_HOUR => at_hour(now, 1, OPEN_HOUR),
        _ => next,
    };
    out.push((
        t_args(
            "owner-window-asap",
            &[
                ("day", day_word(first, now).into()),
                ("from", clock(first).into()),
                ("to", clock(first + 2 * hour).into()),
            ],
        ),
        first,
        first + 2 * hour,
    ));
    let later = first + 3 * hour;
    if local_hour(later) + 3 <= CLOSE_HOUR
        && local_hour(later) >= OPEN_HOUR
        && local_hour(later) > local_hour(first)
    {
        out.push((
            t_args(
                "owner-window-later",
                &[
                    ("day", day_word(later, now).into()),
                    ("from", clock(later).into()),
                    ("to", clock(later + 3 * hour).into()),
                ],
            ),
            later,
            later + 3 * hour,
        ));
    }
    for (label, h) in [
        ("owner-window-tomorrow-morning", OPEN_HOUR),
        ("owner-window-tomorrow-afternoon", 13),
    ] {
        let s = at_hour(now, 1, h);
        if s > later {
            out.push((
                t_args(
                    label,
                    &[
                        ("from", clock(s).into()),
                        ("to", clock(s + 3 * hour).into()),
                    ],
                ),
                s,
                s + 3 * hour,
            ));
        }
    }
    out
}

/// "today" or "tomorrow" for `at` as seen from `now`, in the UI's language.
fn day_word(at: i64, now: i64) -> String {
    t(
        if js_sys::Date::new(&(at as f64).into()).get_date()
            == js_sys::Date::new(&(now as f64).into()).get_date()
        {
            "owner-day-today"
        } else {
            "owner-day-tomorrow"
        },
    )
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
    // The order the panel showed last: it stays while the owner looks at it, instead of the
    // panel jumping to whichever order changed (a new booking shows itself, though).
    let shown = use_mut_ref(|| None::<Id>);
    // How many orders there were when the owner booked: the next one to appear is theirs.
    let booked_at_count = use_mut_ref(|| None::<usize>);
    // One link per order, kept until the owner turns it off (each click used to make a new
    // one); the platform stores only a hash, so the page keeps the link it was given.
    let share_urls = use_state(std::collections::HashMap::<Id, String>::new);
    let copied = use_state(|| false);
    // The order whose cancellation is being confirmed.
    let cancelling = use_state(|| None::<Id>);

    let (Some(orders), Some(cars)) = (orders, cars) else {
        return html! { <main><p>{ t("loading") }</p></main> };
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
    let add_car = action(
        &p.backend,
        &form_error,
        &cars_changed,
        |b, e: SubmitEvent| {
            e.prevent_default();
            let v = NewVehicle {
                vin: input_value("car-vin").trim().to_uppercase(),
                plate: input_value("car-plate").trim().to_uppercase(),
                make: input_value("car-make"),
                model: input_value("car-model"),
                year: input_value("car-year").parse().ok(),
            };
            Some(Box::pin(async move { b.add_vehicle(v).await.map(|_| ()) }))
        },
    );
    let book = {
        let (b, error, bump, confirming, selected, booked_at_count) = (
            p.backend.clone(),
            form_error.clone(),
            bump.clone(),
            confirming.clone(),
            selected.clone(),
            booked_at_count.clone(),
        );
        let count = orders.len();
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
                error.set(Some(t("owner-choose-car")));
                return;
            };
            let w: usize = input_value("book-window").parse().unwrap_or(0);
            let all = windows(now_ms());
            let Some((_, start, end)) = all.get(w).or(all.first()).cloned() else {
                return;
            };
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
                customer_name: None,
                customer_phone: None,
            };
            let b = b.clone();
            // The new booking is what the owner wants to see next.
            selected.set(None);
            *booked_at_count.borrow_mut() = Some(count);
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
            <h3>{ t("your-car") }</h3>
            <label for="car-vin">{ t("owner-car-vin") }</label>
            <input id="car-vin" autocomplete="off" />
            <label for="car-plate">{ t("owner-car-plate") }</label>
            <input id="car-plate" placeholder={t("owner-car-plate-example")} autocomplete="off" />
            <label for="car-make">{ t("owner-car-make") }</label>
            <input id="car-make" placeholder={t("owner-car-make-example")} />
            <label for="car-model">{ t("owner-car-model") }</label>
            <input id="car-model" placeholder={t("owner-car-model-example")} />
            <label for="car-year">{ t("owner-car-year") }</label>
            <input id="car-year" class="narrow" inputmode="numeric" />
            { error_near("car-error", &form_error) }
            <button id="add-car-submit" type="submit">{ t("owner-add-car") }</button>
          </form>
        }
    } else {
        html! {
          <form key="book" id="book" class="card" onsubmit={book}>
            <h3>{ t("owner-book-title") }</h3>
            <label>{ t("owner-book-service") }
              <select id="book-service" onchange={on_service}>
                { for catalogue.iter().map(|s| html! {
                    <option value={s.code.clone()} selected={s.code == chosen.code}>
                      { t_args("owner-service-option", &[("name", i18n::service(&s.code).into()), ("price", price(s.price_cents, &p.currency).into())]) }
                    </option>
                }) }
              </select>
            </label>
            <label>{ t("owner-book-car") }
              <select id="book-vehicle">
                { for vehicles.iter().enumerate().map(|(i, v)| html! {
                    <option value={v.id.to_string()} selected={i == 0}>{ format!("{} {} · {}", v.make, v.model, v.plate) }</option>
                }) }
              </select>
            </label>
            <label>{ t("owner-book-when") }
              <select id="book-window">
                { for windows(now_ms()).into_iter().enumerate().map(|(i, (label, _, _))| html! {
                    <option value={i.to_string()} selected={i == 0}>{ label }</option>
                }) }
              </select>
            </label>
            <PlacePicker backend={p.backend.clone()} value={chosen_place.clone()} tile_url={p.tile_url.clone()}
              geocoding={p.geocoding} saved={saved.clone()} on_saved={places_changed.clone()}
              on_change={{ let place = place.clone(); move |v| place.set(Some(v)) }} />
            <label for="book-notes">{ t("owner-book-notes") }</label>
            <input id="book-notes" placeholder={t("owner-book-notes-example")} />
            <p id="book-price" class="price big">
              { t_args("owner-book-price", &[("price", price(chosen.price_cents, &p.currency).into()), ("minutes", chosen.minutes.into())]) }
            </p>
            <ul id="book-breakdown" class="breakdown" aria-label={t("owner-breakdown")}>
              <li><span>{ t("owner-labour") }</span><span>{ price(chosen.labour_cents(), &p.currency) }</span></li>
              if chosen.parts_cents > 0 { <li><span>{ t("owner-standard-parts") }</span><span>{ price(chosen.parts_cents, &p.currency) }</span></li> }
              if chosen.consumables_cents > 0 { <li><span>{ t("owner-consumables") }</span><span>{ price(chosen.consumables_cents, &p.currency) }</span></li> }
              <li class="total"><span>{ t("owner-total-fixed") }</span><span>{ price(chosen.price_cents, &p.currency) }</span></li>
            </ul>
            <p class="small muted">{ t("owner-extras-note") }</p>
            { error_near("book-error", &form_error) }
            <button id="book-submit" type="submit" class="primary">
              { if confirming.is_some() { t_args("owner-confirm-booking", &[("price", price(chosen.price_cents, &p.currency).into())]) } else { t("owner-book") } }
            </button>
          </form>
        }
    };

    // Once the booking just made has arrived (most recently changed first), show it.
    let booked = *booked_at_count.borrow();
    if booked.is_some_and(|n| orders.len() > n) {
        *shown.borrow_mut() = orders.first().map(|o| o.id);
        *booked_at_count.borrow_mut() = None;
    }
    let last_shown = *shown.borrow();
    let current = (*selected)
        .or(last_shown)
        .and_then(|id| orders.iter().find(|o| o.id == id))
        .or_else(|| orders.iter().find(|o| o.status.is_active_job()))
        .or(orders.first())
        .cloned();
    *shown.borrow_mut() = current.as_ref().map(|o| o.id);
    let share_url = current
        .as_ref()
        .and_then(|o| share_urls.get(&o.id).cloned());
    {
        // The link made before (also before a restart) comes back rather than a new one.
        let (b, share_urls) = (p.backend.clone(), share_urls.clone());
        let id = current
            .as_ref()
            .filter(|o| !o.status.is_terminal())
            .map(|o| o.id);
        use_effect_with(id, move |id| {
            if let Some(id) = *id {
                wasm_bindgen_futures::spawn_local(async move {
                    if let Ok(Some(url)) = b.saved_share(id).await {
                        let mut m = (*share_urls).clone();
                        m.entry(id).or_insert(url);
                        share_urls.set(m);
                    }
                });
            }
        });
    }
    let share = {
        let (b, error, share_urls) = (p.backend.clone(), error.clone(), share_urls.clone());
        let id = current.as_ref().map(|o| o.id);
        Callback::from(move |_| {
            let Some(id) = id else { return };
            let (b, error, share_urls) = (b.clone(), error.clone(), share_urls.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match b.share(id).await {
                    Ok(url) => {
                        let mut m = (*share_urls).clone();
                        m.insert(id, url);
                        share_urls.set(m);
                    }
                    Err(e) => error.set(Some(e.message)),
                }
            });
        })
    };
    let copy = {
        let (url, copied, error) = (share_url.clone(), copied.clone(), error.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(url) = url.clone() else { return };
            match send_link(&url) {
                Ok(()) => copied.set(true),
                Err(e) => error.set(Some(e)),
            }
        })
    };
    let unshare = {
        let (b, error, share_urls) = (p.backend.clone(), error.clone(), share_urls.clone());
        let id = current.as_ref().map(|o| o.id);
        Callback::from(move |_: MouseEvent| {
            let Some(id) = id else { return };
            let (b, error, share_urls) = (b.clone(), error.clone(), share_urls.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match b.revoke_share(id).await {
                    Ok(()) => {
                        let mut m = (*share_urls).clone();
                        m.remove(&id);
                        share_urls.set(m);
                    }
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
        // On a phone the live job's tracking comes first, above the booking form.
        <div class={classes!("columns", current.as_ref().is_some_and(|o| o.status.is_active_job()).then_some("live"))}>
          <section class="left">
            { booking }
            <h2>{ t("owner-your-orders") }</h2>
            <ul id="orders" class="list">
              { for orders.iter().map(|o| {
                  let (sel, id) = (selected.clone(), o.id);
                  html! {
                    <li class={classes!("order", (Some(o.id) == current.as_ref().map(|c| c.id)).then_some("selected"))}
                        data-order={o.id.to_string()} data-status={o.status.as_str()}>
                      <button type="button" class="row-button" onclick={move |_| sel.set(Some(id))}
                        aria-pressed={(Some(o.id) == current.as_ref().map(|c| c.id)).to_string()}>
                        <strong>{ i18n::service(&o.service) }</strong>{ " · " }{ i18n::status(o.status) }
                        <span class="muted">{ format!(" · {} · {} · {}", o.vehicle.plate, day_clock(o.window_start), price(o.price_cents, &o.currency)) }</span>
                      </button>
                    </li>
                  }
              }) }
            </ul>
          </section>
          <section class="right">
            if let Some(o) = current {
              <h2>{ format!("{} · {}", i18n::service(&o.service), o.vehicle.plate) }</h2>
              if let Some(r) = &o.unassigned_reason { <p class="muted">{ crate::i18n::platform_text(r) }</p> }
              if o.status.is_active_job() {
                <TrackView backend={p.backend.clone()} target={Target::Order(o.id)} tile_url={p.tile_url.clone()} />
                if let Some(url) = &share_url {
                  <div class="share card">
                    <p class="small">{ t("owner-share-intro") }</p>
                    <p><a id="share-url" href={url.clone()} target="_blank">{ url }</a></p>
                    <div class="actions">
                      <button id="share-copy" class="primary" onclick={copy}>{ t(if *copied { "owner-copied" } else if can_share() { "owner-share" } else { "owner-copy-link" }) }</button>
                      <button id="share-off" onclick={unshare}>{ t("owner-share-off") }</button>
                    </div>
                  </div>
                } else {
                  <button id="share" onclick={share}>{ t("owner-share-start") }</button>
                }
              }
              if o.status.check_step(OrderStatus::Cancelled).is_ok() {
                if *cancelling == Some(o.id) {
                  <section id="cancel-confirm" class="card warn" role="alertdialog" aria-labelledby="cancel-title">
                    <h3 id="cancel-title">{ t("owner-cancel-title") }</h3>
                    <label for="cancel-reason">{ t("owner-cancel-why") }</label>
                    <select id="cancel-reason">
                      { for CANCEL_REASONS.iter().enumerate().map(|(i, r)| html! {
                          <option value={crate::i18n::english(r)} selected={i == 0}>{ t(r) }</option>
                      }) }
                    </select>
                    <div class="actions">
                      <button id="cancel-keep" onclick={{ let c = cancelling.clone(); move |_| c.set(None) }}>{ t("owner-cancel-keep") }</button>
                      <button id="cancel-order" class="danger" onclick={cancel.clone()}>{ t("owner-cancel-confirm") }</button>
                    </div>
                  </section>
                } else {
                  <button id="cancel-start" onclick={{ let (c, id) = (cancelling.clone(), o.id); move |_| c.set(Some(id)) }}>{ t("owner-cancel-start") }</button>
                }
              }
              { bill(&o) }
              { timeline(&o) }
            } else {
              <p class="muted">{ t("owner-no-orders") }</p>
            }
          </section>
        </div>
      </main>
    }
}

/// The order's price: the fixed price, any extras added on site, and the total.
fn bill(o: &Order) -> Html {
    let extras: i64 = o
        .parts
        .iter()
        .map(|p| p.unit_price_cents * i64::from(p.qty))
        .sum();
    html! {
      <ul id="order-bill" class="breakdown" aria-label={t("owner-bill")}>
        <li><span>{ t_args("owner-bill-fixed", &[("service", i18n::service(&o.service).into())]) }</span><span>{ price(o.price_cents, &o.currency) }</span></li>
        { for o.parts.iter().map(|p| html! {
            <li><span>{ t_args("owner-bill-extra", &[("qty", p.qty.into()), ("name", p.name.as_str().into())]) }</span><span>{ price(p.unit_price_cents * i64::from(p.qty), &o.currency) }</span></li>
        }) }
        <li class="total"><span>{ t("owner-bill-total") }</span><span>{ price(o.price_cents + extras, &o.currency) }</span></li>
      </ul>
    }
}

/// Whether the browser or webview can hand a link to the system's share sheet.
fn can_share() -> bool {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w.navigator(), &"share".into()).ok())
        .is_some_and(|f| f.is_function())
}

/// Hands `url` to the share sheet (Web Share API) where there is one, else copies it to the
/// clipboard. Called through `Reflect` so it works wherever either API exists.
fn send_link(url: &str) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    let nav = web_sys::window()
        .ok_or_else(|| t("owner-no-window"))?
        .navigator();
    let call = |target: &wasm_bindgen::JsValue, name: &str, arg: &wasm_bindgen::JsValue| {
        js_sys::Reflect::get(target, &name.into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            .and_then(|f| f.call1(target, arg).ok())
    };
    if can_share() {
        let data = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&data, &"url".into(), &url.into());
        let _ = js_sys::Reflect::set(&data, &"title".into(), &t("owner-share-title").into());
        if call(&nav, "share", &data).is_some() {
            return Ok(());
        }
    }
    let clipboard =
        js_sys::Reflect::get(&nav, &"clipboard".into()).map_err(|_| t("owner-no-clipboard"))?;
    call(&clipboard, "writeText", &url.into())
        .map(|_| ())
        .ok_or_else(|| t("owner-cannot-copy"))
}
