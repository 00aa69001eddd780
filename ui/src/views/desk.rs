//! The workshop front desk, desktop layout: a board of today's orders by status, walk-in
//! orders (vehicle by VIN or plate), assignment by hand or by dispatch, the technicians on a
//! live map, and each order's timeline.

use pitstop_api::device::SyncStatus;
use pitstop_api::services;
use pitstop_api::{Id, NewOrder, NewVehicle, Order, OrderStatus, Technician, Vehicle};
use yew::prelude::*;

use crate::backend::{BackendError, Fut, Shared, now_ms};
use crate::i18n::{self, t, t_args};
use crate::map::{Map, Marker};
use crate::views::board::{self, Board};
use crate::views::common::*;

/// The shared role view properties.
pub type Props = RoleProps;

#[derive(Clone, PartialEq)]
struct Data {
    orders: Vec<Order>,
    technicians: Vec<Technician>,
    sync: SyncStatus,
}

fn load(b: Shared) -> Fut<'static, Data> {
    Box::pin(async move {
        let orders = b.orders().await?;
        // For the benchmark: when the data was in hand (the board's drawing starts here).
        if let Some(perf) = web_sys::window().and_then(|w| w.performance()) {
            let _ = perf.mark("desk-data");
        }
        // Live technician positions need the platform; offline the board still shows from
        // the cache.
        let technicians = b.technicians().await.unwrap_or_default();
        let sync = b.sync_status().await?;
        Ok::<_, BackendError>(Data {
            orders,
            technicians,
            sync,
        })
    })
}

#[function_component(DeskView)]
pub fn desk_view(p: &Props) -> Html {
    let (tick, bump) = use_changes(&p.backend);
    let data = use_data(&p.backend, tick, load);
    let error = use_state(|| None::<String>);
    // The walk-in's errors show in its form, next to the button.
    let walkin_error = use_state(|| None::<String>);
    let selected = use_state(|| None::<Id>);
    // A walk-in on its way (the submit button is off meanwhile).
    let submitting_state = use_state(|| false);

    let Some(data) = data else {
        return html! { <main><p>{ t("loading") }</p></main> };
    };
    let data = match data {
        Ok(d) => d,
        Err(e) => return html! { <main><p class="error">{ e.message }</p></main> },
    };
    let (dismiss, retry, sync) = badge_callbacks(&p.backend, &error, &bump);
    let workshop = p.workshop.clone();
    let submitting = submitting_state;

    let walk_in = {
        let (b, error, bump, submitting) = (
            p.backend.clone(),
            walkin_error.clone(),
            bump.clone(),
            submitting.clone(),
        );
        // A walk-in's car is at the workshop.
        let at = workshop
            .as_ref()
            .map_or((52.52, 13.405), |w| (w.lat, w.lon));
        let address = workshop
            .as_ref()
            .map(|w| w.address.clone())
            .unwrap_or_default();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let vin = input_value("walkin-vin").trim().to_uppercase();
            let plate = input_value("walkin-plate").trim().to_uppercase();
            let service = input_value("walkin-service");
            let hours: i64 = input_value("walkin-when").parse().unwrap_or(0);
            let make = input_value("walkin-make");
            let model = input_value("walkin-model");
            let notes = input_value("walkin-notes");
            let customer = input_value("walkin-customer").trim().to_string();
            let phone = input_value("walkin-phone").trim().to_string();
            // A second click while the first is on its way books nothing more; once booked
            // the form is emptied for the next customer.
            if *submitting {
                return;
            }
            submitting.set(true);
            let (b, submitting, address) = (b.clone(), submitting.clone(), address.clone());
            act(error.clone(), bump.clone(), async move {
                let booked = async {
                    let vehicle = find_or_add_vehicle(&b, vin, plate, make, model).await?;
                    let start = now_ms() + hours * 3_600_000;
                    b.book(NewOrder {
                        vehicle_id: vehicle.id,
                        service,
                        lat: at.0,
                        lon: at.1,
                        address,
                        place_note: i18n::english("desk-at-workshop"),
                        window_start: start,
                        window_end: start + 2 * 3_600_000,
                        notes,
                        customer_name: Some(customer).filter(|c| !c.is_empty()),
                        customer_phone: Some(phone).filter(|p| !p.is_empty()),
                    })
                    .await
                }
                .await;
                if booked.is_ok() {
                    for id in [
                        "walkin-vin",
                        "walkin-plate",
                        "walkin-make",
                        "walkin-model",
                        "walkin-notes",
                        "walkin-customer",
                        "walkin-phone",
                    ] {
                        clear_input(id);
                    }
                }
                submitting.set(false);
                booked
            });
        })
    };

    let busy: Vec<Id> = data
        .orders
        .iter()
        .filter(|o| o.status.is_active_job())
        .filter_map(|o| o.technician_id)
        .collect();
    let mut markers: Vec<Marker> = data
        .technicians
        .iter()
        .filter(|t| t.on_shift)
        .filter_map(|t| {
            Some(Marker {
                id: format!("tech-{}", t.id),
                lat: t.lat?,
                lon: t.lon?,
                label: t.name.clone(),
                class: if busy.contains(&t.id) { "busy" } else { "tech" },
            })
        })
        .collect();
    // Open orders as pins (the busiest days stay drawable: at most 100).
    markers.extend(
        data.orders
            .iter()
            .filter(|o| !o.status.is_terminal())
            .take(100)
            .map(|o| Marker {
                id: format!("order-{}", o.id),
                lat: o.lat,
                lon: o.lon,
                label: format!("#{} {}", o.id, o.vehicle.plate),
                class: "order",
            }),
    );
    if let Some(w) = &workshop {
        markers.push(Marker {
            id: "workshop".into(),
            lat: w.lat,
            lon: w.lon,
            label: w.name.clone(),
            class: "dest",
        });
    }
    let current = (*selected)
        .and_then(|id| data.orders.iter().find(|o| o.id == id))
        .cloned();
    // One drawer per order: a PIN or a half-made cancel of one order never shows on another.
    let detail_key = current.as_ref().map_or(0, |o| o.id);

    html! {
      <main class="desk">
        <header>
          <h1>{ "Pitstop" }<span class="muted">{ format!(" · {} · {}", t("desk-title"), p.account.name) }</span></h1>
          <button id="new-walk-in" class="primary" onclick={{ let s = selected.clone(); move |_| {
              s.set(None);
              // The form is below the board: once drawn, bring it into view to type in.
              wasm_bindgen_futures::spawn_local(async {
                  gloo_timers::future::TimeoutFuture::new(30).await;
                  if let Some(el) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("walkin-vin")) {
                      el.scroll_into_view();
                      if let Ok(input) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el) { let _ = input.focus(); }
                  }
              });
          } }}>{ t("desk-new-walk-in") }</button>
          <SyncBadge status={data.sync.clone()} on_dismiss={dismiss} on_retry={retry} on_sync={sync} />
        </header>
        { error_line(&error) }
        <Board orders={data.orders.clone()} technicians={data.technicians.clone()} selected={*selected}
          on_select={{ let s = selected.clone(); move |id| s.set(Some(id)) }} />
        <div class="columns">
          <section class="left">
            <h2>{ t("desk-technicians") }</h2>
            <Map markers={markers} tile_url={p.tile_url.clone()} />
            <ul class="legend" aria-label={t("desk-legend")}>
              <li><span class="dot tech"></span>{ t("desk-legend-free") }</li>
              <li><span class="dot busy"></span>{ t("desk-legend-busy") }</li>
              <li><span class="dot order"></span>{ t("desk-legend-order") }</li>
              <li><span class="dot dest"></span>{ t("desk-legend-workshop") }</li>
            </ul>
            <p class="muted">{ t_args("desk-on-shift", &[("n", data.technicians.iter().filter(|x| x.on_shift).count().into()), ("busy", busy.len().into())]) }</p>
          </section>
          <section class="right">
              <form key="walk-in" id="walk-in" class="card" onsubmit={walk_in}>
                <h3>{ t("desk-walk-in") }</h3>
                <label for="walkin-vin">{ t("desk-vin") }</label>
                <input id="walkin-vin" placeholder={t("desk-vin-hint")} autocomplete="off" />
                <label for="walkin-plate">{ t("desk-plate") }</label>
                <input id="walkin-plate" placeholder={t("desk-plate-example")} autocomplete="off" />
                <div class="row">
                  <label>{ t("desk-make") }<input id="walkin-make" placeholder={t("desk-make-example")} class="narrow" /></label>
                  <label>{ t("desk-model") }<input id="walkin-model" placeholder={t("desk-model-example")} class="narrow" /></label>
                </div>
                <label for="walkin-service">{ t("desk-service") }</label>
                <select id="walkin-service">
                  { for services::catalogue().iter().enumerate().map(|(i, s)| html! {
                      <option value={s.code.clone()} selected={i == 0}>{ format!("{} — {}", i18n::service(&s.code), price(s.price_cents, &p.currency)) }</option>
                  }) }
                </select>
                <label for="walkin-when">{ t("desk-when") }</label>
                <select id="walkin-when">
                  <option value="0" selected=true>{ t("desk-when-now") }</option>
                  <option value="1">{ t("desk-when-1h") }</option>
                  <option value="3">{ t("desk-when-3h") }</option>
                  <option value="24">{ t("desk-when-tomorrow") }</option>
                </select>
                <div class="row">
                  <label>{ t("desk-customer-name") }<input id="walkin-customer" class="narrow" autocomplete="off" /></label>
                  <label>{ t("desk-customer-phone") }<input id="walkin-phone" class="narrow" type="tel" inputmode="tel" autocomplete="off" placeholder={t("desk-customer-phone-example")} /></label>
                </div>
                <label for="walkin-notes">{ t("desk-customer-says") }</label>
                <input id="walkin-notes" placeholder={t("desk-customer-says-example")} />
                { error_near("walkin-error", &walkin_error) }
                <button id="walkin-submit" class="primary" type="submit" disabled={*submitting}
                  aria-busy={submitting.to_string()}>{ t(if *submitting { "desk-creating" } else { "desk-create" }) }</button>
              </form>
          </section>
        </div>
        // The open order slides in as a drawer over the board; the walk-in form stays put.
        if let Some(o) = current {
          <OrderDetail key={detail_key} backend={p.backend.clone()} order={o} technicians={data.technicians.clone()} busy={busy.clone()} on_done={bump.clone()}
            on_close={{ let s = selected.clone(); move |_| s.set(None) }} />
        }
      </main>
    }
}

/// The workshop's vehicle with this VIN or plate, or a new one.
async fn find_or_add_vehicle(
    b: &Shared,
    vin: String,
    plate: String,
    make: String,
    model: String,
) -> Result<Vehicle, BackendError> {
    let known = b.vehicles().await?;
    if let Some(v) = known
        .into_iter()
        .find(|v| (!vin.is_empty() && v.vin == vin) || (!plate.is_empty() && v.plate == plate))
    {
        return Ok(v);
    }
    if vin.is_empty() {
        return Err(BackendError::new("refused", t("desk-plate-unknown")));
    }
    b.add_vehicle(NewVehicle {
        vin,
        plate,
        make: if make.is_empty() {
            i18n::english("desk-unknown")
        } else {
            make
        },
        model: if model.is_empty() {
            i18n::english("desk-unknown")
        } else {
            model
        },
        year: None,
    })
    .await
}

#[derive(Properties, PartialEq)]
struct DetailProps {
    backend: Shared,
    order: Order,
    technicians: Vec<Technician>,
    /// Technicians working a job now.
    busy: Vec<Id>,
    on_done: Callback<()>,
    /// Closes the panel (back to the walk-in form).
    on_close: Callback<()>,
}

/// Reasons a desk gives when cancelling (sent as the step's note; the owner sees it).
const DESK_CANCEL_REASONS: &[&str] = &[
    "desk-reason-phone",
    "desk-reason-no-technician",
    "desk-reason-twice",
    "desk-reason-other",
];

#[function_component(OrderDetail)]
fn order_detail(p: &DetailProps) -> Html {
    let error = use_state(|| None::<String>);
    let o = &p.order;
    let id = o.id;
    let assign = action(&p.backend, &error, &p.on_done, move |b, _: MouseEvent| {
        let t: Option<Id> = input_value("assign-tech").parse().ok();
        Some(Box::pin(async move { b.dispatch(id, t).await }))
    });
    let auto = action(&p.backend, &error, &p.on_done, move |b, _: MouseEvent| {
        Some(Box::pin(async move { b.dispatch(id, None).await }))
    });
    let open = !o.status.is_terminal() && !o.status.is_active_job();
    let candidates = board::candidates(o, &p.technicians, &p.busy);
    let cancelling = use_state(|| false);
    // The customer's masked number: the desk dials the relay and keys in the PIN.
    let contact = use_state(|| None::<pitstop_api::ContactRelay>);
    let call = {
        let (b, error, contact) = (p.backend.clone(), error.clone(), contact.clone());
        Callback::from(move |_: MouseEvent| {
            let (b, error, contact) = (b.clone(), error.clone(), contact.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match b.contact(id).await {
                    Ok(r) => contact.set(Some(r)),
                    Err(e) => error.set(Some(e.message)),
                }
            });
        })
    };
    let cancel = {
        let (b, error, done, cancelling) = (
            p.backend.clone(),
            error.clone(),
            p.on_done.clone(),
            cancelling.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let reason = input_value("desk-cancel-reason");
            cancelling.set(false);
            let b = b.clone();
            act(error.clone(), done.clone(), async move {
                b.step(id, OrderStatus::Cancelled, Some(reason)).await
            });
        })
    };
    let close = {
        let c = p.on_close.clone();
        Callback::from(move |_: MouseEvent| c.emit(()))
    };
    // Escape closes the drawer from anywhere inside it.
    let on_key = {
        let c = p.on_close.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                c.emit(());
            }
        })
    };
    {
        // Opening a ticket moves the focus into the drawer (keyboard and screen readers).
        use_effect_with(id, |_| {
            if let Some(el) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id("detail-close"))
                .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
            {
                let _ = el.focus();
            }
        });
    }
    html! {
      <aside key={format!("detail-{id}")} id="order-detail" class="card drawer" data-order={id.to_string()}
        role="dialog" aria-labelledby="detail-title" onkeydown={on_key}>
        <div class="row">
          <h3 id="detail-title">{ format!("#{id} {} · {}", i18n::service(&o.service), o.vehicle.plate) }</h3>
          <button id="detail-close" type="button" onclick={close} aria-label={t("desk-close-label")}>{ t("desk-close") }</button>
        </div>
        <p class="muted">{ format!("{} {} · {} {} · {} · {}", o.vehicle.make, o.vehicle.model, t("desk-vin"), o.vehicle.vin,
            i18n::status(o.status), price(o.price_cents, &o.currency)) }</p>
        <p id="detail-place">{ if o.address.is_empty() { t_args("desk-pin-at", &[("lat", format!("{:.5}", o.lat).into()), ("lon", format!("{:.5}", o.lon).into())]) } else { o.address.clone() } }
          if !o.place_note.is_empty() { <span class="muted">{ format!(" · {}", i18n::platform_text(&o.place_note)) }</span> }
        </p>
        <p id="detail-people" class="muted">{ t_args("desk-people", &[
            ("customer", o.customer_name.clone().unwrap_or_else(|| t("desk-walk-in-customer")).into()),
            ("technician", o.technician_name.clone().unwrap_or_else(|| t("desk-none-yet")).into())]) }</p>
        if o.customer_contact && !o.status.is_terminal() {
          <div class="inline">
            <button id="desk-call-customer" type="button" onclick={call}>{ t("desk-call-customer") }</button>
            if let Some(r) = &*contact {
              <p id="desk-contact-relay" class="small">
                <a href={r.call_uri.clone()}>{ t_args("desk-call-relay", &[("number", r.number.as_str().into()), ("pin", r.pin.as_str().into())]) }</a>
              </p>
            }
          </div>
        }
        if !o.notes.is_empty() { <p class="customer-notes">{ &o.notes }</p> }
        if let Some(r) = &o.unassigned_reason { <p class="muted">{ i18n::platform_text(r) }</p> }
        { error_line(&error) }
        if o.status.check_step(OrderStatus::Cancelled).is_ok() {
          if *cancelling {
            <section id="desk-cancel-confirm" class="card warn" role="alertdialog" aria-labelledby="desk-cancel-title">
              <h4 id="desk-cancel-title">{ t("desk-cancel-title") }</h4>
              <label for="desk-cancel-reason">{ t("desk-cancel-why") }</label>
              <select id="desk-cancel-reason">
                { for DESK_CANCEL_REASONS.iter().enumerate().map(|(i, r)| html! {
                    <option value={i18n::english(r)} selected={i == 0}>{ t(r) }</option>
                }) }
              </select>
              <div class="actions">
                <button id="desk-cancel-keep" onclick={{ let c = cancelling.clone(); move |_| c.set(false) }}>{ t("desk-keep-order") }</button>
                <button id="desk-cancel-order" class="danger" onclick={cancel}>{ t("desk-cancel-order") }</button>
              </div>
            </section>
          } else {
            <button id="desk-cancel-start" onclick={{ let c = cancelling.clone(); move |_| c.set(true) }}>{ t("desk-cancel-start") }</button>
          }
        }
        if open && candidates.is_empty() {
          <p id="assign-none" class="muted">{ t("desk-no-candidates") }</p>
          <button id="auto-dispatch" onclick={auto.clone()}>{ t("desk-auto") }</button>
        } else if open {
          <div class="inline">
            <label for="assign-tech">{ t("desk-assign-label") }</label>
            <select id="assign-tech">
              { for candidates.into_iter().enumerate().map(|(i, (t, label))| html! {
                  <option value={t.id.to_string()} selected={i == 0}>{ label }</option>
              }) }
            </select>
            <button id="assign" onclick={assign}>{ t("desk-assign") }</button>
            <button id="auto-dispatch" onclick={auto}>{ t("desk-auto") }</button>
          </div>
        }
        { timeline(o) }
      </aside>
    }
}
