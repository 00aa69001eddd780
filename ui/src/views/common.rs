//! Pieces every view uses: data loading hooks that refresh on backend changes, the sync
//! badge, the order timeline, prices and times.

use std::cell::Cell;
use std::rc::Rc;

use pitstop_api::device::SyncStatus;
use pitstop_api::{Account, Order, OrderStatus, Workshop};
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::backend::{BackendError, Fut, Shared, now_ms};
use crate::i18n::{self, t, t_args};

/// Formats cents in `currency` the way the UI's language writes money.
pub fn price(cents: i64, currency: &str) -> String {
    i18n::money(cents, currency)
}

/// `HH:MM` local time of a Unix-millisecond instant.
pub fn clock(ms: i64) -> String {
    let d = js_sys::Date::new(&(ms as f64).into());
    format!("{:02}:{:02}", d.get_hours(), d.get_minutes())
}

/// Day and local time, in the UI's language (`1 Dec 14:05` / `12月1日 14:05`).
pub fn day_clock(ms: i64) -> String {
    let d = js_sys::Date::new(&(ms as f64).into());
    i18n::day_time(
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes(),
    )
}

/// "3 min" / "45 s", in the UI's language.
pub fn duration(secs: i64) -> String {
    i18n::duration(secs)
}

/// The words on the button that moves a job on.
pub fn step_label(next: OrderStatus) -> String {
    t(match next {
        OrderStatus::EnRoute => "step-set-off",
        OrderStatus::Arrived => "step-arrived",
        OrderStatus::InProgress => "step-start-work",
        OrderStatus::Completed => "step-complete",
        _ => "step-next",
    })
}

/// What every role view gets from the shell.
#[derive(Properties, PartialEq)]
pub struct RoleProps {
    pub backend: Shared,
    pub account: Account,
    /// Map tile URL template from the platform, if any.
    #[prop_or_default]
    pub tile_url: Option<String>,
    /// A desk's workshop, loaded once at start.
    #[prop_or_default]
    pub workshop: Option<Workshop>,
    /// Whether the platform has address search.
    #[prop_or_default]
    pub geocoding: bool,
    /// The currency of catalogue prices: the desk's workshop's, else the platform's.
    #[prop_or_else(|| pitstop_api::DEFAULT_CURRENCY.to_string())]
    pub currency: String,
    /// Which maps app Navigate hands a destination to on this device.
    #[prop_or(pitstop_api::geo::MapsApp::Web)]
    pub maps_app: pitstop_api::geo::MapsApp,
}

#[derive(Default)]
struct Counter(u32);

impl Reducible for Counter {
    type Action = ();
    fn reduce(self: Rc<Self>, _: ()) -> Rc<Self> {
        Rc::new(Counter(self.0.wrapping_add(1)))
    }
}

/// A number that changes whenever the backend reports a change, plus a callback to bump it
/// after a local action.
#[hook]
pub fn use_changes(backend: &Shared) -> (u32, Callback<()>) {
    let counter = use_reducer(Counter::default);
    {
        let d = counter.dispatcher();
        use_effect_with(backend.clone(), move |b| {
            let w = b.watch(Rc::new(move || d.dispatch(())));
            move || drop(w)
        });
    }
    let d = counter.dispatcher();
    (counter.0, Callback::from(move |_| d.dispatch(())))
}

/// A number to reload by after this view's own actions, and the callback that bumps it.
#[hook]
pub fn use_local_changes() -> (u32, Callback<()>) {
    let counter = use_reducer(Counter::default);
    let d = counter.dispatcher();
    (counter.0, Callback::from(move |_| d.dispatch(())))
}

/// The current time, updated every `every_ms` (offer countdowns).
#[hook]
pub fn use_clock(every_ms: u32) -> i64 {
    let now = use_state(now_ms);
    {
        let now = now.clone();
        use_effect_with(every_ms, move |&ms| {
            let t = gloo_timers::callback::Interval::new(ms, move || now.set(now_ms()));
            move || drop(t)
        });
    }
    *now
}

/// Loads `load(backend)` again whenever `tick` changes; a late answer to an older load is
/// dropped. `None` until the first answer.
#[hook]
pub fn use_data<D: Clone + 'static>(
    backend: &Shared,
    tick: u32,
    load: fn(Shared) -> Fut<'static, D>,
) -> Option<Result<D, BackendError>> {
    let state = use_state(|| None);
    let generation = use_mut_ref(|| Rc::new(Cell::new(0u64)));
    {
        let state = state.clone();
        let generation = generation.borrow().clone();
        use_effect_with((backend.clone(), tick), move |(b, _)| {
            let mine = generation.get() + 1;
            generation.set(mine);
            let b = b.clone();
            spawn_local(async move {
                let r = load(b).await;
                if generation.get() == mine {
                    state.set(Some(r));
                }
            });
        });
    }
    (*state).clone()
}

/// Runs an action and reports its error (or clears it) through `error`, then `done`.
pub fn act(
    error: UseStateHandle<Option<String>>,
    done: Callback<()>,
    fut: impl std::future::Future<Output = Result<(), BackendError>> + 'static,
) {
    spawn_local(async move {
        match fut.await {
            Ok(()) => error.set(None),
            Err(e) => error.set(Some(e.message)),
        }
        done.emit(());
    });
}

/// A callback that runs `f(backend, event)` as an action ([`act`]): its error lands in
/// `error`, then `done` runs. `f` answers `None` when there is nothing to do.
pub fn action<E: 'static>(
    b: &Shared,
    error: &UseStateHandle<Option<String>>,
    done: &Callback<()>,
    f: impl Fn(Shared, E) -> Option<Fut<'static, ()>> + 'static,
) -> Callback<E> {
    let (b, error, done) = (b.clone(), error.clone(), done.clone());
    Callback::from(move |e: E| {
        if let Some(fut) = f(b.clone(), e) {
            act(error.clone(), done.clone(), fut);
        }
    })
}

/// An error line, when there is one.
pub fn error_line(error: &Option<String>) -> Html {
    match error {
        Some(e) => {
            html! { <p class="error" id="error" role="alert">{ i18n::platform_text(e) }</p> }
        }
        None => html! {},
    }
}

/// An error shown next to the form or control that caused it (`id` names it for tests and
/// for `aria-describedby`).
pub fn error_near(id: &str, error: &Option<String>) -> Html {
    match error {
        Some(e) => {
            html! { <p class="error" id={id.to_string()} role="alert">{ i18n::platform_text(e) }</p> }
        }
        None => html! {},
    }
}

#[derive(Properties, PartialEq)]
pub struct SyncBadgeProps {
    pub status: SyncStatus,
    pub on_dismiss: Callback<i64>,
    pub on_retry: Callback<i64>,
    pub on_sync: Callback<()>,
}

/// How long ago `t` was, in words a glance can read.
fn age(at: i64) -> String {
    let min = (now_ms() - at).max(0) / 60_000;
    match min {
        0 => t("age-under-minute"),
        1..=59 => t_args("minutes", &[("n", min.into())]),
        _ => t_args(
            "hours-minutes",
            &[("h", (min / 60).into()), ("m", (min % 60).into())],
        ),
    }
}

/// Online or offline, N pending and how long the oldest has waited, last sync, why the last
/// sync failed, and refused actions with reasons.
#[function_component(SyncBadge)]
pub fn sync_badge(p: &SyncBadgeProps) -> Html {
    let s = &p.status;
    let state = if s.online { "online" } else { "offline" };
    let last = s.last_sync.map_or(t("sync-never"), |at| {
        t_args("sync-last", &[("time", clock(at).into())])
    });
    html! {
      <div id="sync" class={classes!("sync", state)} data-pending={s.pending.to_string()} role="status" aria-live="polite">
        <span class="dot"></span>
        <span id="sync-state" data-state={state}>{ t(if s.online { "sync-online" } else { "sync-offline" }) }</span>
        <span id="sync-pending">{ t_args("sync-pending", &[("n", s.pending.into())]) }</span>
        if let (true, Some(t0)) = (s.pending > 0, s.oldest_pending_at) {
          <span id="sync-oldest" class="muted">{ t_args("sync-oldest", &[("age", age(t0).into())]) }</span>
        }
        <span class="muted">{ last }</span>
        if let Some(e) = &s.last_error {
          <span id="sync-error" class="muted">{ i18n::platform_text(e) }</span>
        }
        if s.unsent_fixes > 0 { <span class="muted">{ t_args("sync-fixes", &[("n", s.unsent_fixes.into())]) }</span> }
        if !s.online || s.pending > 0 {
          <button id="sync-now" class="small" onclick={p.on_sync.reform(|_| ())}>{ t("sync-now") }</button>
        }
        { for s.failed.iter().map(|f| {
            let seq = f.seq;
            let (dismiss, retry) = (p.on_dismiss.clone(), p.on_retry.clone());
            html! {
              <div class="failed" data-seq={seq.to_string()}>
                <strong class="what">{ i18n::action(&f.op) }</strong>{ " " }
                { t_args("sync-not-done", &[("reason", f.reason.as_deref().map_or_else(|| t("sync-refused"), i18n::platform_text).into())]) }
                <button class="small retry" onclick={move |_| retry.emit(seq)}>{ t("retry") }</button>
                <button class="small dismiss" onclick={move |_| dismiss.emit(seq)}>{ t("dismiss") }</button>
              </div>
            }
        }) }
      </div>
    }
}

/// The badge's callbacks: dismiss and retry a refused action, sync now.
pub fn badge_callbacks(
    b: &Shared,
    error: &UseStateHandle<Option<String>>,
    bump: &Callback<()>,
) -> (Callback<i64>, Callback<i64>, Callback<()>) {
    let dismiss = action(b, error, bump, |b, seq: i64| {
        Some(Box::pin(async move { b.dismiss_failure(seq).await }))
    });
    let retry = action(b, error, bump, |b, seq: i64| {
        Some(Box::pin(async move { b.retry_failure(seq).await }))
    });
    let sync = action(b, error, bump, |b, ()| {
        Some(Box::pin(async move { b.sync_now().await }))
    });
    (dismiss, retry, sync)
}

/// The order's status history, notes and parts.
pub fn timeline(o: &Order) -> Html {
    html! {
      <div class="timeline">
        <ol>
          { for o.timeline.iter().map(|e| html! {
              <li data-status={e.status.as_str()} data-at={e.at.to_string()}>
                <span class="muted">{ clock(e.at) }</span>{ " " }{ i18n::status(e.status) }
                { e.note.as_ref().map(|n| format!(" — {}", i18n::platform_text(n))).unwrap_or_default() }
                // Done without a signal: when it happened comes first, when it arrived after.
                if let Some(sent) = e.sent_at {
                  <span class="muted sent-late" title={t("sent-late-title")}>
                    { format!(" · {}", t_args("sent-late", &[("time", clock(sent).into())])) }
                  </span>
                }
              </li>
          }) }
        </ol>
        if !o.job_notes.is_empty() {
          <h4>{ t("notes") }</h4>
          <ul class="notes">{ for o.job_notes.iter().map(|n| html! { <li>{ &n.text }</li> }) }</ul>
        }
        if !o.parts.is_empty() {
          <h4>{ t("parts") }</h4>
          <ul class="parts">{ for o.parts.iter().map(|p| html! {
              <li>{ t_args("part-line", &[("qty", p.qty.into()), ("name", p.name.as_str().into()), ("price", price(p.unit_price_cents, &o.currency).into())]) }</li>
          }) }</ul>
        }
      </div>
    }
}

// Every `<select>` marks its first `<option>` as `selected`: Yew inserts children last to
// first, and a browser selects the first option *inserted*, so an unmarked list would
// default to its last entry (seen in Chromium: bookings defaulting to "tomorrow").

/// Reads an `<input>`'s value by element id.
pub fn input_value(id: &str) -> String {
    use wasm_bindgen::JsCast;
    let doc = web_sys::window().and_then(|w| w.document());
    let Some(el) = doc.and_then(|d| d.get_element_by_id(id)) else {
        return String::new();
    };
    if let Some(i) = el.dyn_ref::<web_sys::HtmlInputElement>() {
        return i.value();
    }
    if let Some(s) = el.dyn_ref::<web_sys::HtmlSelectElement>() {
        return s.value();
    }
    if let Some(t) = el.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        return t.value();
    }
    String::new()
}

/// Clears an `<input>` by element id.
pub fn clear_input(id: &str) {
    use wasm_bindgen::JsCast;
    if let Some(i) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
    {
        i.set_value("");
    }
}
