//! The [`Backend`] trait: everything the views ask for. Two implementations:
//! [`crate::tauri::TauriBackend`] (IPC to the app shell, which answers from `pitstop-core`'s
//! offline cache) and [`crate::http::HttpBackend`] (straight to the platform, for a plain
//! browser: the share-link tracking page, and the views when no app is installed).

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use pitstop_api::device::{OfferView, SyncStatus};
use pitstop_api::geo::MapsApp;
use pitstop_api::{
    Account, CodeSent, ContactRelay, GeoPlace, Id, NewOrder, NewPlace, NewVehicle, Order,
    OrderStatus, PublicConfig, Role, SavedPlace, ShiftChange, Technician, Tracking, Vehicle,
    Workshop,
};
use serde::Deserialize;

/// A failed call: `kind` is `offline`, `refused`, `not_signed_in`, `http`, … and `message`
/// is the sentence to show.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BackendError {
    pub kind: String,
    pub message: String,
}

impl BackendError {
    pub fn new(kind: &str, message: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for BackendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// What a call returns.
pub type Fut<'a, T> = Pin<Box<dyn Future<Output = Result<T, BackendError>> + 'a>>;

/// How the UI was started.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct StartInfo {
    /// `desktop`, `mobile` or `browser`.
    pub platform: String,
    /// Platform base URL.
    pub platform_url: String,
    /// Sign in at start as this role and name (app flags), else a role picker.
    pub role: Option<Role>,
    pub name: Option<String>,
    pub workshop: Option<Id>,
    /// The operating system (`android`, `ios`, `linux`…; in a browser, guessed from the
    /// user agent): which maps app Navigate opens.
    pub os: String,
}

impl StartInfo {
    /// The maps app a Navigate link goes to on this device.
    pub fn maps_app(&self) -> MapsApp {
        match self.os.as_str() {
            "android" => MapsApp::Android,
            "ios" | "macos" => MapsApp::Apple,
            _ => MapsApp::Web,
        }
    }
}

/// What the sign-in screen sends: the address and a code or a password (and a new owner's
/// name).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SignInForm {
    pub address: String,
    pub code: Option<String>,
    pub password: Option<String>,
    pub name: Option<String>,
}

/// Keeps a change subscription alive; dropping it stops the callbacks.
pub struct Watch(#[allow(dead_code)] pub Box<dyn std::any::Any>);

/// Everything the views ask of the app or the platform.
pub trait Backend {
    /// How the UI was started.
    fn start_info(&self) -> Fut<'_, StartInfo>;
    /// Dev sign-in.
    fn sign_in(&self, name: String, role: Role, workshop: Option<Id>) -> Fut<'_, Account>;
    /// Asks the platform to send a sign-in code to a mobile number or e-mail address.
    fn request_code(&self, address: String) -> Fut<'_, CodeSent>;
    /// Signs in with a code or a password.
    fn sign_in_with(&self, form: SignInForm) -> Fut<'_, Account>;
    /// The account signed in on this device before, opened from local data without waiting
    /// for the network; `None` when there is none (or no way to keep one, as in a browser).
    fn resume(&self) -> Fut<'_, Option<Account>>;
    /// Signs out and deletes this account's data from the device. Unless `force`, refuses
    /// while actions wait to be sent and answers what they are (empty: signed out).
    fn sign_out(&self, force: bool) -> Fut<'_, Vec<String>>;
    /// Workshops (for a desk's sign-in).
    fn workshops(&self) -> Fut<'_, Vec<Workshop>>;
    /// Map tiles and other public settings.
    fn config(&self) -> Fut<'_, PublicConfig>;

    fn offers(&self) -> Fut<'_, Vec<OfferView>>;
    fn accept(&self, offer: Id) -> Fut<'_, ()>;
    fn decline(&self, offer: Id) -> Fut<'_, ()>;
    /// Orders the account sees, most recently changed first.
    fn orders(&self) -> Fut<'_, Vec<Order>>;
    fn step(&self, order: Id, status: OrderStatus, note: Option<String>) -> Fut<'_, ()>;
    fn add_note(&self, order: Id, text: String) -> Fut<'_, ()>;
    fn add_part(&self, order: Id, name: String, qty: u32, unit_price_cents: i64) -> Fut<'_, ()>;
    fn set_shift(&self, shift: ShiftChange) -> Fut<'_, ()>;
    /// Whether the technician is on shift, as far as this side knows.
    fn on_shift(&self) -> Fut<'_, bool>;
    fn sync_status(&self) -> Fut<'_, SyncStatus>;
    fn dismiss_failure(&self, seq: i64) -> Fut<'_, ()>;
    /// Queues a refused action again.
    fn retry_failure(&self, seq: i64) -> Fut<'_, ()>;
    /// Syncs now instead of waiting for the next round.
    fn sync_now(&self) -> Fut<'_, ()>;

    fn vehicles(&self) -> Fut<'_, Vec<Vehicle>>;
    fn add_vehicle(&self, v: NewVehicle) -> Fut<'_, Vehicle>;
    fn book(&self, order: NewOrder) -> Fut<'_, ()>;
    fn technicians(&self) -> Fut<'_, Vec<Technician>>;
    /// Assign by hand, or let dispatch choose (`None`).
    fn dispatch(&self, order: Id, technician: Option<Id>) -> Fut<'_, ()>;
    fn tracking(&self, order: Id) -> Fut<'_, Option<Tracking>>;
    /// A browser tracking link (full URL).
    fn share(&self, order: Id) -> Fut<'_, String>;
    /// Turns every tracking link of the order off.
    fn revoke_share(&self, order: Id) -> Fut<'_, ()>;
    /// The tracking link made earlier for `order` while it still works: one link per
    /// order, the same after a restart, until it is turned off.
    fn saved_share(&self, order: Id) -> Fut<'_, Option<String>>;
    /// Tracking through a share link's token (no sign-in).
    fn shared_tracking(&self, token: String) -> Fut<'_, Tracking>;

    /// Address search through the platform's geocoder.
    fn geocode(&self, query: String) -> Fut<'_, Vec<GeoPlace>>;
    /// The address at a pin.
    fn reverse_geocode(&self, lat: f64, lon: f64) -> Fut<'_, GeoPlace>;
    /// The owner's saved places.
    fn places(&self) -> Fut<'_, Vec<SavedPlace>>;
    fn save_place(&self, place: NewPlace) -> Fut<'_, SavedPlace>;
    fn delete_place(&self, id: Id) -> Fut<'_, ()>;
    /// The technician's masked way to call or text the customer of `order`.
    fn contact(&self, order: Id) -> Fut<'_, ContactRelay>;
    /// Hands a Navigate, Call or Message link to the app that opens it.
    fn open_external(&self, uri: String) -> Fut<'_, ()>;
    /// Where this device is now, if it can tell.
    fn here(&self) -> Fut<'_, (f64, f64)>;
    /// The technician's earnings today and this week (needs the platform).
    fn earnings(&self) -> Fut<'_, pitstop_api::Earnings>;

    /// Calls `on_change` whenever data may have changed (app events, or a timer).
    fn watch(&self, on_change: Rc<dyn Fn()>) -> Watch;
    /// The first view is interactive (cold-start figure in the app).
    fn ready(&self) {}
}

/// The backend handed down to every view.
#[derive(Clone)]
pub struct Shared(pub Rc<dyn Backend>);

impl PartialEq for Shared {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl std::ops::Deref for Shared {
    type Target = dyn Backend;
    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

/// This device's time zone, minutes east of UTC.
pub fn utc_offset_min() -> i64 {
    -(js_sys::Date::new_0().get_timezone_offset() as i64)
}

/// Now by the browser's clock, in Unix milliseconds.
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// A query parameter of the page URL.
pub fn query_param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    search.trim_start_matches('?').split('&').find_map(|kv| {
        kv.strip_prefix(&format!("{name}="))
            .map(|v| js_sys::decode_uri_component(v).map_or(v.to_string(), String::from))
    })
}

/// The page's own origin (`http://host:port`).
pub fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// Skills a technician signing in through dev login gets: every skill of the catalogue, so a
/// demo technician can be offered anything.
pub fn dev_skills(role: Role) -> Option<Vec<String>> {
    (role == Role::Technician).then(|| {
        pitstop_api::services::skills()
            .into_iter()
            .map(String::from)
            .collect()
    })
}
