//! The technician's ("master's") view, phone-first: shift switch, offer cards with a live
//! countdown and Accept/Decline, the active job with its steps, notes and parts, history, and
//! the sync badge. Every action is queued on the device first (in the app) and works offline.

use pitstop_api::device::{LocalAnswer, OfferView, SyncStatus};
use pitstop_api::geo::{self, MapsApp};
use pitstop_api::{ContactRelay, Order, OrderStatus, ShiftChange, Tracking};
use yew::prelude::*;

use crate::backend::{BackendError, Fut, Shared};
use crate::i18n::{self, t, t_args};
use crate::map::{Map, Marker};
use crate::views::common::*;

/// Where a desktop technician starts a shift (the demo city's centre); phones send their GPS.
const DESKTOP_START: (f64, f64) = (52.5200, 13.4050);

/// The shared role view properties.
pub type Props = RoleProps;

#[derive(Clone, PartialEq)]
struct Data {
    offers: Vec<OfferView>,
    orders: Vec<Order>,
    sync: SyncStatus,
    /// When the offers were read, by this device's clock: each offer's deadline is this
    /// plus its time left, which the core counted by the platform's clock (so a phone with
    /// a wrong clock still counts down the time the technician really has).
    loaded_at: i64,
}

fn load(b: Shared) -> Fut<'static, Data> {
    Box::pin(async move {
        Ok::<_, BackendError>(Data {
            offers: b.offers().await?,
            orders: b.orders().await?,
            sync: b.sync_status().await?,
            loaded_at: crate::backend::now_ms(),
        })
    })
}

/// Earnings need the platform; offline the line says so.
fn load_earnings(b: Shared) -> Fut<'static, pitstop_api::Earnings> {
    Box::pin(async move { b.earnings().await })
}

#[function_component(TechnicianView)]
pub fn technician_view(p: &Props) -> Html {
    let (tick, bump) = use_changes(&p.backend);
    let now = use_clock(250);
    let data = use_data(&p.backend, tick, load);
    // Read again when a job is completed, not on every change (positions change often).
    let completed = data.as_ref().and_then(|d| d.as_ref().ok()).map_or(0, |d| {
        d.orders
            .iter()
            .filter(|o| o.status == OrderStatus::Completed)
            .count() as u32
    });
    let earnings = use_data(&p.backend, completed, load_earnings);
    let error = use_state(|| None::<String>);
    let on_shift = use_state(|| false);
    {
        // Where this device left the shift (kept across restarts, known offline).
        let on_shift = on_shift.clone();
        use_effect_with(p.backend.clone(), move |b| {
            let b = b.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(on) = b.on_shift().await {
                    on_shift.set(on);
                }
            });
        });
    }

    // Going off shift with a job asks first (the job stays this technician's).
    let confirm_off = use_state(|| false);
    let set_shift = {
        let (b, error, bump, on_shift, confirm_off) = (
            p.backend.clone(),
            error.clone(),
            bump.clone(),
            on_shift.clone(),
            confirm_off.clone(),
        );
        Callback::from(move |want: bool| {
            confirm_off.set(false);
            on_shift.set(want);
            let b = b.clone();
            act(error.clone(), bump.clone(), async move {
                b.set_shift(ShiftChange {
                    on_shift: want,
                    lat: Some(DESKTOP_START.0),
                    lon: Some(DESKTOP_START.1),
                })
                .await
            });
        })
    };
    let (dismiss, retry, sync) = badge_callbacks(&p.backend, &error, &bump);

    let Some(data) = data else {
        return html! { <main class="phone"><p>{ t("loading") }</p></main> };
    };
    let data = match data {
        Ok(d) => d,
        Err(e) => return html! { <main class="phone"><p class="error">{ e.message }</p></main> },
    };
    let me = p.account.id;
    let jobs: Vec<&Order> = data
        .orders
        .iter()
        .filter(|o| o.is_active_job_of(me))
        .collect();
    let history: Vec<&Order> = data
        .orders
        .iter()
        .filter(|o| o.is_past_job_of(me))
        .collect();
    // Offers whose time ran out (by this device's clock) and unanswered are hidden.
    let offers: Vec<&OfferView> = data
        .offers
        .iter()
        .filter(|o| o.local.is_some() || data.loaded_at + o.time_left_ms > now)
        .collect();

    let toggle_shift = {
        let (set_shift, on_shift, confirm_off, busy) = (
            set_shift.clone(),
            on_shift.clone(),
            confirm_off.clone(),
            !jobs.is_empty(),
        );
        Callback::from(move |_: MouseEvent| {
            if *on_shift && busy {
                confirm_off.set(true);
            } else {
                set_shift.emit(!*on_shift);
            }
        })
    };
    html! {
      <main class="phone technician">
        <header>
          <h1>{ "Pitstop" }<span class="muted">{ format!(" · {}", p.account.name) }</span></h1>
          <SyncBadge status={data.sync.clone()} on_dismiss={dismiss} on_retry={retry} on_sync={sync} />
        </header>
        { error_line(&error) }
        <section class="shift">
          <button id="shift" class={classes!(if *on_shift { "on" } else { "off" })} onclick={toggle_shift}>
            { t(if *on_shift { "tech-shift-on" } else { "tech-shift-go-on" }) }
          </button>
          if *confirm_off {
            <div id="off-shift-confirm" class="card warn" role="alertdialog" aria-labelledby="off-shift-title">
              <h3 id="off-shift-title">{ t("tech-off-shift-title") }</h3>
              <p>{ t("tech-off-shift-text") }</p>
              <div class="actions">
                <button id="off-shift-stay" class="primary" onclick={{ let c = confirm_off.clone(); move |_| c.set(false) }}>{ t("tech-off-shift-stay") }</button>
                <button id="off-shift-anyway" onclick={{ let s = set_shift.clone(); move |_| s.emit(false) }}>{ t("tech-off-shift-anyway") }</button>
              </div>
            </div>
          }
        </section>
        <section id="offers">
          <h2>{ t("tech-offers") }</h2>
          if offers.is_empty() { <p class="muted">{ t("tech-no-offers") }</p> }
          { for offers.iter().map(|o| offer_card(o, now - data.loaded_at, &p.backend, &error, &bump)) }
        </section>
        <section id="jobs">
          <h2>{ t("tech-active-job") }</h2>
          if jobs.is_empty() { <p class="muted">{ t("tech-no-active-job") }</p> }
          { for jobs.iter().map(|o| html! {
              <JobCard backend={p.backend.clone()} order={(*o).clone()} on_done={bump.clone()}
                tick={tick} tile_url={p.tile_url.clone()} maps_app={p.maps_app} />
          }) }
        </section>
        <section id="earnings" aria-label={t("tech-earnings")}>
          { match &earnings {
              Some(Ok(e)) => html! {
                <p class="row">
                  <span id="earned-today">{ t_args("tech-earned-today", &[("amount", price(e.today_cents, &e.currency).into()), ("n", e.today_jobs.into())]) }</span>
                  <span id="earned-week" class="muted">{ t_args("tech-earned-week", &[("amount", price(e.week_cents, &e.currency).into()), ("n", e.week_jobs.into())]) }</span>
                </p>
              },
              Some(Err(_)) => html! { <p class="muted">{ t("tech-earnings-offline") }</p> },
              None => html! {},
          } }
        </section>
        <section id="history">
          <h2>{ t("tech-history") }</h2>
          if history.is_empty() { <p class="muted">{ t("tech-no-history") }</p> }
          <ul class="history">
            { for history.iter().map(|o| html! {
                <li data-order={o.id.to_string()}>
                  <details>
                    <summary>{ format!("{} · {} · {} · {}", day_clock(o.updated_at), i18n::service(&o.service), o.vehicle.plate, i18n::status(o.status)) }</summary>
                    <p>{ if o.address.is_empty() { format!("{:.5}, {:.5}", o.lat, o.lon) } else { o.address.clone() } }</p>
                    if !o.job_notes.is_empty() {
                      <ul class="notes">{ for o.job_notes.iter().map(|n| html! { <li>{ &n.text }</li> }) }</ul>
                    }
                    if !o.parts.is_empty() {
                      <ul class="parts">{ for o.parts.iter().map(|x| html! {
                          <li>{ t_args("part-line", &[("qty", x.qty.into()), ("name", x.name.as_str().into()), ("price", price(x.unit_price_cents, &o.currency).into())]) }</li>
                      }) }</ul>
                    }
                    { timeline(o) }
                  </details>
                </li>
            }) }
          </ul>
        </section>
      </main>
    }
}

/// `since_load`: milliseconds since the offers were read.
fn offer_card(
    v: &OfferView,
    since_load: i64,
    backend: &Shared,
    error: &UseStateHandle<Option<String>>,
    bump: &Callback<()>,
) -> Html {
    let o = &v.offer;
    let left_s = ((v.time_left_ms - since_load).max(0) + 999) / 1000;
    let id = o.id;
    let accept = action(backend, error, bump, move |b, _: MouseEvent| {
        Some(Box::pin(async move { b.accept(id).await }))
    });
    let decline = action(backend, error, bump, move |b, _: MouseEvent| {
        Some(Box::pin(async move { b.decline(id).await }))
    });
    let state = match v.local {
        Some(LocalAnswer::Accepting) => {
            html! { <p class="answer">{ t("tech-offer-accepting") }</p> }
        }
        Some(LocalAnswer::Declining) => {
            html! { <p class="answer">{ t("tech-offer-declined") }</p> }
        }
        Some(LocalAnswer::Refused) => html! {
            <p class="answer error">{ t_args("tech-offer-refused", &[("reason", v.reason.clone().unwrap_or_default().into())]) }</p>
        },
        None => html! {
            <div class="actions">
              <button class="accept" onclick={accept}>{ t("tech-accept") }</button>
              <button class="decline" onclick={decline}>{ t("tech-decline") }</button>
            </div>
        },
    };
    // The whole answer time, for the bar: from when the offer was made to its deadline.
    let total_s = ((o.expires_at - o.created_at) / 1000).max(1);
    let share = (left_s as f64 / total_s as f64).clamp(0.0, 1.0);
    let service = i18n::service(&o.service);
    // Said once when the offer comes and once more at 10 s, not every second.
    let km = format!("{:.1}", o.distance_m / 1000.0);
    let announce = if left_s <= 10 {
        t_args("tech-offer-urgent", &[("service", service.as_str().into())])
    } else {
        t_args(
            "tech-offer-new",
            &[
                ("service", service.as_str().into()),
                ("km", km.as_str().into()),
                ("amount", price(o.payout_cents, &o.currency).into()),
            ],
        )
    };
    let urgent = left_s <= 10;
    html! {
      <article class="offer" id={format!("offer-{id}")} data-order={o.order_id.to_string()}
        aria-label={t_args("tech-offer-label", &[("service", service.as_str().into())])}>
        <div class="row">
          <strong>{ service.clone() }</strong>
          <span class="pay" id={format!("offer-pay-{id}")}>{ t_args("tech-you-earn", &[("amount", price(o.payout_cents, &o.currency).into())]) }</span>
        </div>
        <ul class="facts">
          if o.window_start > 0 {
            <li>{ t_args("tech-offer-when", &[("start", day_clock(o.window_start).into()), ("end", clock(o.window_end).into())]) }</li>
          }
          if !o.vehicle.is_empty() { <li>{ t_args("tech-offer-car", &[("car", o.vehicle.as_str().into())]) }</li> }
          <li>{ if o.area.is_empty() { t_args("tech-offer-away", &[("km", km.as_str().into())]) } else { t_args("tech-offer-area-away", &[("area", o.area.as_str().into()), ("km", km.as_str().into())]) } }</li>
          if o.minutes > 0 { <li>{ t_args("tech-offer-work", &[("duration", duration(i64::from(o.minutes) * 60).into()), ("price", price(o.price_cents, &o.currency).into())]) }</li> }
        </ul>
        if v.local.is_none() {
          <div class={classes!("countdown-bar", urgent.then_some("urgent"))} role="progressbar"
            aria-label={t("tech-time-left")} aria-valuemin="0" aria-valuemax={total_s.to_string()}
            aria-valuenow={left_s.to_string()} aria-valuetext={t_args("tech-seconds-left", &[("n", left_s.into())])}>
            <span style={format!("width: {:.1}%", share * 100.0)}></span>
          </div>
          <p class="row">
            <span class={classes!("countdown", urgent.then_some("urgent"))} data-seconds={left_s.to_string()}>
              { t_args("tech-seconds-to-answer", &[("n", left_s.into())]) }
            </span>
          </p>
          <p class="sr-only" aria-live="assertive">{ announce }</p>
        }
        { state }
      </article>
    }
}

#[derive(Properties, PartialEq)]
struct JobProps {
    backend: Shared,
    order: Order,
    on_done: Callback<()>,
    /// Changes whenever the device's data may have (new fixes move the map).
    tick: u32,
    tile_url: Option<String>,
    maps_app: MapsApp,
}

/// Where the job is and how to get there: address, note, map with both positions, distance
/// and ETA, Navigate, and Call / Message through the platform's masked number.
fn getting_there(
    o: &Order,
    track: Option<&Tracking>,
    p: &JobProps,
    contact: &UseStateHandle<Option<ContactRelay>>,
    error: &UseStateHandle<Option<String>>,
) -> Html {
    let label = format!("{} {}", o.vehicle.make, o.vehicle.plate);
    let nav = geo::navigate_uri(p.maps_app, o.lat, o.lon, &label);
    let open = |uri: String| {
        let (b, error) = (p.backend.clone(), error.clone());
        Callback::from(move |e: MouseEvent| {
            e.prevent_default();
            let (b, error, uri) = (b.clone(), error.clone(), uri.clone());
            wasm_bindgen_futures::spawn_local(async move {
                if let Err(e) = b.open_external(uri).await {
                    error.set(Some(e.message));
                }
            });
        })
    };
    // Call/Message first ask the platform for the masked number, then open it.
    let on_phone = p.maps_app != MapsApp::Web;
    let reach = |sms: bool| {
        let (b, error, contact, id) = (p.backend.clone(), error.clone(), contact.clone(), o.id);
        Callback::from(move |_: MouseEvent| {
            let (b, error, contact) = (b.clone(), error.clone(), contact.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let relay = match (*contact).clone() {
                    Some(r) => r,
                    None => match b.contact(id).await {
                        Ok(r) => {
                            contact.set(Some(r.clone()));
                            r
                        }
                        Err(e) => {
                            error.set(Some(t_args(
                                "tech-contact-failed",
                                &[("error", e.message.into())],
                            )));
                            return;
                        }
                    },
                };
                // A computer has no phone app: the number and PIN are shown to dial instead.
                if !on_phone {
                    return;
                }
                let uri = if sms { relay.sms_uri } else { relay.call_uri };
                if let Err(e) = b.open_external(uri).await {
                    error.set(Some(e.message));
                }
            });
        })
    };
    let mut markers = vec![Marker {
        id: "marker-dest".into(),
        lat: o.lat,
        lon: o.lon,
        label: o.vehicle.plate.clone(),
        class: "dest",
    }];
    if let Some(f) = track.and_then(|tr| tr.fix.as_ref()) {
        markers.push(Marker {
            id: "marker-tech".into(),
            lat: f.lat,
            lon: f.lon,
            label: t("tech-marker-you"),
            class: "tech",
        });
    }
    let distance = match track.and_then(|tr| tr.distance_m.zip(tr.eta_s)) {
        Some((_, 0)) => t("tech-you-are-there"),
        Some((d, eta)) => t_args(
            "tech-distance-eta",
            &[
                ("km", format!("{:.1}", d / 1000.0).into()),
                ("duration", duration(eta).into()),
            ],
        ),
        None => t("tech-position-unknown"),
    };
    html! {
      <section class="where" aria-label={t("tech-where-label")}>
        <p id="job-address"><strong>{ if o.address.is_empty() { t("tech-pin-only") } else { o.address.clone() } }</strong></p>
        if !o.place_note.is_empty() { <p id="job-place-note" class="customer-notes">{ crate::i18n::platform_text(&o.place_note) }</p> }
        <p id="job-distance" class="muted">{ distance }</p>
        <Map markers={markers} route={Some(("marker-tech".to_string(), "marker-dest".to_string()))} tile_url={p.tile_url.clone()} />
        <div class="go">
          <a id="navigate" class="button primary" href={nav.clone()} onclick={open(nav.clone())}>{ t("tech-navigate") }</a>
          if o.owner_id.is_some() || o.customer_contact {
            <button id="call-customer" type="button" onclick={reach(false)}>{ t("tech-call-customer") }</button>
            <button id="message-customer" type="button" onclick={reach(true)}>{ t("tech-message-customer") }</button>
          }
        </div>
        if let Some(r) = &**contact {
          <p id="contact-relay" class="small">
            <a id="call-link" href={r.call_uri.clone()}>{ t_args("tech-call-relay", &[("number", r.number.as_str().into()), ("pin", r.pin.as_str().into())]) }</a>
            { format!(" · {}", t("tech-relay-private")) }
          </p>
        }
      </section>
    }
}

/// Why `pitstop_api::text::clean` refused a part name, in the UI's language. The rule stays
/// in `clean`: its three cases (a control character, nothing visible, too long) are told
/// apart by asking it again, without the length limit.
fn part_name_problem(name: &str) -> String {
    use pitstop_api::text::{Lines, MAX_LABEL_CHARS, clean};
    let passes = |s: &str| clean("part name", s, usize::MAX, Lines::One, true).is_ok();
    let v = name.trim();
    // Between two visible letters only a control character is refused.
    if let Some(c) = v.chars().find(|c| !passes(&format!("x{c}x"))) {
        return t_args(
            "tech-part-name-control",
            &[("code", format!("{:04X}", c as u32).into())],
        );
    }
    if !passes(v) {
        return t("tech-part-name-empty");
    }
    t_args(
        "tech-part-name-long",
        &[
            ("n", v.chars().count().into()),
            ("max", MAX_LABEL_CHARS.into()),
        ],
    )
}

/// How long the step button stays disabled after a tap.
const STEP_GUARD_MS: u32 = 800;
/// How long "Complete job" can be undone before it is queued.
const UNDO_MS: u32 = 5000;

#[function_component(JobCard)]
fn job_card(p: &JobProps) -> Html {
    let error = use_state(|| None::<String>);
    let o = &p.order;
    let id = o.id;
    let contact = use_state(|| None::<ContactRelay>);
    let track = use_state(|| None::<Tracking>);
    {
        let track = track.clone();
        use_effect_with(
            (p.backend.clone(), id, p.tick, o.version),
            move |(b, id, _, _)| {
                let (b, id) = (b.clone(), *id);
                wasm_bindgen_futures::spawn_local(async move {
                    if let Ok(tr) = b.tracking(id).await {
                        track.set(tr);
                    }
                });
            },
        );
    }
    let next = o.status.next_job_step();
    // The button shows the next step as soon as this one is recorded, under the same
    // finger: it stays disabled a moment so a double tap cannot take two steps.
    let stepping = use_state(|| false);
    // Completing is final: it waits a few seconds, with Undo, before it is queued.
    let completing = use_state(|| None::<i64>);
    let undo_generation = use_mut_ref(|| 0u32);
    // Re-renders every second while the Undo countdown shows.
    let _tick = use_clock(1000);
    let step = {
        let (b, error, done, stepping, completing, generation) = (
            p.backend.clone(),
            error.clone(),
            p.on_done.clone(),
            stepping.clone(),
            completing.clone(),
            undo_generation.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let Some(next) = next else { return };
            if *stepping || completing.is_some() {
                return;
            }
            if next == OrderStatus::Completed {
                completing.set(Some(crate::backend::now_ms() + UNDO_MS as i64));
                let mine = *generation.borrow();
                let (b, completing, generation) =
                    (b.clone(), completing.clone(), generation.clone());
                act(error.clone(), done.clone(), async move {
                    gloo_timers::future::TimeoutFuture::new(UNDO_MS).await;
                    if *generation.borrow() != mine {
                        return Ok(()); // undone
                    }
                    completing.set(None);
                    b.step(id, OrderStatus::Completed, None).await
                });
                return;
            }
            stepping.set(true);
            let (b, stepping) = (b.clone(), stepping.clone());
            act(error.clone(), done.clone(), async move {
                let r = b.step(id, next, None).await;
                gloo_timers::future::TimeoutFuture::new(STEP_GUARD_MS).await;
                stepping.set(false);
                r
            });
        })
    };
    let undo = {
        let (completing, generation) = (completing.clone(), undo_generation.clone());
        Callback::from(move |_: MouseEvent| {
            *generation.borrow_mut() += 1;
            completing.set(None);
        })
    };
    let add_note = {
        let (b, error, done) = (p.backend.clone(), error.clone(), p.on_done.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let text = input_value("note-text");
            if text.trim().is_empty() {
                return;
            }
            clear_input("note-text");
            let b = b.clone();
            act(error.clone(), done.clone(), async move {
                b.add_note(id, text).await
            });
        })
    };
    let add_part = {
        let (b, error, done) = (p.backend.clone(), error.clone(), p.on_done.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let name = input_value("part-name");
            // The platform's rules, checked here so nothing is queued that it would refuse
            // (and a price typed as words is never saved as 0.00).
            if pitstop_api::text::clean(
                "part name",
                &name,
                pitstop_api::text::MAX_LABEL_CHARS,
                pitstop_api::text::Lines::One,
                true,
            )
            .is_err()
            {
                error.set(Some(part_name_problem(&name)));
                return;
            }
            let Some(qty) = input_value("part-qty")
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|q| (1..=pitstop_api::money::MAX_PART_QTY).contains(q))
            else {
                error.set(Some(t("tech-qty-invalid")));
                return;
            };
            let Some(cents) = pitstop_api::money::parse_cents(&input_value("part-price")) else {
                error.set(Some(t("tech-price-invalid")));
                return;
            };
            clear_input("part-name");
            clear_input("part-price");
            let b = b.clone();
            act(error.clone(), done.clone(), async move {
                b.add_part(id, name, qty, cents).await
            });
        })
    };
    let parts_total: i64 = o
        .parts
        .iter()
        .map(|p| p.unit_price_cents * i64::from(p.qty))
        .sum();
    html! {
      <article class="job" id={format!("job-{id}")} data-status={o.status.as_str()}>
        <div class="row">
          <strong>{ i18n::service(&o.service) }</strong>
          <span id="job-status" class={classes!("status", o.status.as_str())}>{ i18n::status(o.status) }</span>
        </div>
        <p class="muted">
          { format!("{} {} · {} · {}", o.vehicle.make, o.vehicle.model, o.vehicle.plate,
              o.customer_name.clone().unwrap_or_default()) }
        </p>
        if !o.notes.is_empty() { <p class="customer-notes">{ &o.notes }</p> }
        { error_line(&error) }
        { getting_there(o, (*track).as_ref(), p, &contact, &error) }
        if let Some(until) = *completing {
          <div id="complete-undo" class="card warn" role="status" aria-live="polite">
            // Whole seconds left, rounded up (use_clock re-renders every second; its `now`
            // can be a second old, so read the clock here).
            // Fluent trims a message's trailing space: it stays here, before the button.
            { format!("{} ", t_args("tech-completing", &[("n", ((until - crate::backend::now_ms() + 999) / 1000).max(1).into())])) }
            <button id="undo-complete" class="primary" onclick={undo}>{ t("tech-undo") }</button>
          </div>
        } else if let Some(next) = next {
          <button id="next-step" class="primary" data-next={next.as_str()} onclick={step}
            disabled={*stepping} aria-busy={stepping.to_string()}>{ step_label(next) }</button>
        }
        { timeline(o) }
        <form class="inline" onsubmit={add_note}>
          <label for="note-text" class="sr-only">{ t("tech-note") }</label>
          <input id="note-text" placeholder={t("tech-note-placeholder")} />
          <button id="add-note" type="submit">{ t("tech-add-note") }</button>
        </form>
        <form class="inline" onsubmit={add_part}>
          <label for="part-name" class="sr-only">{ t("tech-part") }</label>
          <input id="part-name" placeholder={t("tech-part")} />
          <label for="part-qty" class="sr-only">{ t("tech-quantity") }</label>
          <input id="part-qty" type="number" min="1" value="1" class="narrow" />
          <label for="part-price" class="sr-only">{ t_args("tech-unit-price", &[("currency", o.currency.as_str().into())]) }</label>
          <input id="part-price" placeholder={t_args("tech-unit-price-placeholder", &[("currency", o.currency.as_str().into())])} class="narrow" inputmode="decimal" />
          <button id="add-part" type="submit">{ t("tech-add-part") }</button>
        </form>
        <p class="muted">{ t_args("tech-price-parts", &[("price", price(o.price_cents, &o.currency).into()), ("parts", price(parts_total, &o.currency).into())]) }</p>
      </article>
    }
}
