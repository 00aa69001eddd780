//! [`Backend`] over Tauri IPC: `window.__TAURI__.core.invoke` (the shell sets
//! `withGlobalTauri`), answered by the shell's commands from `pitstop-core`. Reads come from
//! the offline cache; actions are queued there and synced in the background. Changes arrive as
//! the `pitstop://changed` event.

use std::rc::Rc;

use pitstop_api::device::{OfferView, SyncStatus};
use pitstop_api::{
    Account, CodeSent, ContactRelay, GeoPlace, Id, NewOrder, NewPlace, NewVehicle, Order,
    OrderStatus, PublicConfig, Role, SavedPlace, ShareLink, ShiftChange, Technician, Tracking,
    Vehicle, Workshop,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use wasm_bindgen::prelude::*;

use crate::backend::{Backend, BackendError, Fut, SignInForm, StartInfo, Watch};
use crate::http;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = ["window", "__TAURI__", "core"], js_name = invoke)]
    async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "event"], js_name = listen)]
    fn tauri_listen(event: &str, handler: &Closure<dyn FnMut(JsValue)>) -> js_sys::Promise;
}

/// Whether the page runs inside the Tauri shell.
pub fn available() -> bool {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &"__TAURI__".into()).ok())
        .is_some_and(|v| !v.is_undefined())
}

fn to_js(v: &Value) -> JsValue {
    js_sys::JSON::parse(&v.to_string()).unwrap_or(JsValue::NULL)
}

fn from_js<T: DeserializeOwned>(v: &JsValue) -> Result<T, BackendError> {
    let text = if v.is_undefined() {
        "null".to_string()
    } else {
        js_sys::JSON::stringify(v)
            .map(String::from)
            .unwrap_or_else(|_| "null".into())
    };
    serde_json::from_str(&text).map_err(|e| BackendError::new("bad_answer", e.to_string()))
}

/// Calls a shell command; arguments are camelCase at the IPC boundary.
async fn invoke<T: DeserializeOwned>(cmd: &str, args: Value) -> Result<T, BackendError> {
    match tauri_invoke(cmd, to_js(&args)).await {
        Ok(v) => from_js(&v),
        Err(e) => Err(from_js::<BackendError>(&e).unwrap_or_else(|_| {
            BackendError::new(
                "ipc",
                e.as_string().unwrap_or_else(|| format!("{cmd} failed")),
            )
        })),
    }
}

fn arg<T: Serialize>(v: T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The app's backend.
pub struct TauriBackend {
    /// Public platform calls the shell does not proxy (workshops, config) go straight there.
    platform: std::cell::RefCell<Option<http::HttpBackend>>,
}

impl TauriBackend {
    pub fn new() -> Self {
        Self {
            platform: Default::default(),
        }
    }

    async fn platform(&self) -> Result<http::HttpBackend, BackendError> {
        if let Some(p) = self.platform.borrow().as_ref() {
            return Ok(p.clone());
        }
        let info = self.start_info().await?;
        let p = http::HttpBackend::new(&info.platform_url);
        *self.platform.borrow_mut() = Some(p.clone());
        Ok(p)
    }
}

#[derive(serde::Deserialize)]
struct AppInfo {
    platform: String,
    #[serde(default)]
    os: String,
    settings: AppSettings,
}

#[derive(serde::Deserialize)]
struct AppSettings {
    platform: String,
    role: Option<Role>,
    name: Option<String>,
    workshop: Option<Id>,
}

impl Backend for TauriBackend {
    fn start_info(&self) -> Fut<'_, StartInfo> {
        Box::pin(async move {
            let a: AppInfo = invoke("app_info", json!({})).await?;
            Ok(StartInfo {
                platform: a.platform,
                platform_url: a.settings.platform,
                role: a.settings.role,
                name: a.settings.name,
                workshop: a.settings.workshop,
                os: a.os,
            })
        })
    }
    fn sign_in(&self, name: String, role: Role, workshop: Option<Id>) -> Fut<'_, Account> {
        Box::pin(async move {
            let url = self.start_info().await?.platform_url;
            invoke(
                "sign_in",
                json!({"platform": url, "name": name, "role": arg(role), "workshopId": workshop,
                    "skills": crate::backend::dev_skills(role)}),
            )
            .await
        })
    }
    fn request_code(&self, address: String) -> Fut<'_, CodeSent> {
        Box::pin(async move {
            let url = self.start_info().await?.platform_url;
            invoke("request_code", json!({"platform": url, "address": address})).await
        })
    }
    fn sign_in_with(&self, form: SignInForm) -> Fut<'_, Account> {
        Box::pin(async move {
            let url = self.start_info().await?.platform_url;
            invoke(
                "sign_in_with",
                json!({"platform": url, "address": form.address, "code": form.code,
                    "password": form.password, "name": form.name}),
            )
            .await
        })
    }
    fn resume(&self) -> Fut<'_, Option<Account>> {
        Box::pin(invoke("resume", json!({})))
    }
    fn sign_out(&self, force: bool) -> Fut<'_, Vec<String>> {
        Box::pin(invoke("sign_out", json!({"force": force})))
    }
    fn workshops(&self) -> Fut<'_, Vec<Workshop>> {
        Box::pin(async move {
            let url = self.start_info().await?.platform_url;
            invoke("workshops", json!({ "platform": url })).await
        })
    }
    fn config(&self) -> Fut<'_, PublicConfig> {
        Box::pin(async move {
            let url = self.start_info().await?.platform_url;
            invoke("public_config", json!({ "platform": url })).await
        })
    }
    fn offers(&self) -> Fut<'_, Vec<OfferView>> {
        Box::pin(invoke("offers", json!({})))
    }
    fn accept(&self, offer: Id) -> Fut<'_, ()> {
        Box::pin(invoke("accept", json!({ "offer": offer })))
    }
    fn decline(&self, offer: Id) -> Fut<'_, ()> {
        Box::pin(invoke("decline", json!({ "offer": offer })))
    }
    fn orders(&self) -> Fut<'_, Vec<Order>> {
        Box::pin(invoke("orders", json!({ "status": null })))
    }
    fn step(&self, order: Id, status: OrderStatus, note: Option<String>) -> Fut<'_, ()> {
        Box::pin(invoke(
            "step",
            json!({"order": order, "status": arg(status), "note": note}),
        ))
    }
    fn add_note(&self, order: Id, text: String) -> Fut<'_, ()> {
        Box::pin(invoke("add_note", json!({"order": order, "text": text})))
    }
    fn add_part(&self, order: Id, name: String, qty: u32, unit_price_cents: i64) -> Fut<'_, ()> {
        Box::pin(invoke(
            "add_part",
            json!({"order": order, "name": name, "qty": qty, "unitPriceCents": unit_price_cents}),
        ))
    }
    fn set_shift(&self, shift: ShiftChange) -> Fut<'_, ()> {
        Box::pin(invoke("set_shift", json!({ "shift": arg(shift) })))
    }
    fn on_shift(&self) -> Fut<'_, bool> {
        Box::pin(async move {
            let on: Option<bool> = invoke("on_shift", json!({})).await?;
            Ok(on.unwrap_or(false))
        })
    }
    fn sync_status(&self) -> Fut<'_, SyncStatus> {
        Box::pin(invoke("sync_status", json!({})))
    }
    fn dismiss_failure(&self, seq: i64) -> Fut<'_, ()> {
        Box::pin(invoke("dismiss_failure", json!({ "seq": seq })))
    }
    fn retry_failure(&self, seq: i64) -> Fut<'_, ()> {
        Box::pin(invoke("retry_failure", json!({ "seq": seq })))
    }
    fn sync_now(&self) -> Fut<'_, ()> {
        Box::pin(invoke("sync_now", json!({})))
    }
    fn vehicles(&self) -> Fut<'_, Vec<Vehicle>> {
        Box::pin(invoke("vehicles", json!({})))
    }
    fn add_vehicle(&self, v: NewVehicle) -> Fut<'_, Vehicle> {
        Box::pin(invoke("add_vehicle", json!({ "vehicle": arg(v) })))
    }
    fn book(&self, order: NewOrder) -> Fut<'_, ()> {
        Box::pin(invoke("book", json!({ "order": arg(order) })))
    }
    fn technicians(&self) -> Fut<'_, Vec<Technician>> {
        Box::pin(invoke("technicians", json!({})))
    }
    fn dispatch(&self, order: Id, technician: Option<Id>) -> Fut<'_, ()> {
        Box::pin(async move {
            let _: Order = invoke(
                "dispatch",
                json!({"order": order, "technician": technician}),
            )
            .await?;
            Ok(())
        })
    }
    fn tracking(&self, order: Id) -> Fut<'_, Option<Tracking>> {
        Box::pin(invoke("tracking", json!({ "order": order })))
    }
    fn geocode(&self, query: String) -> Fut<'_, Vec<GeoPlace>> {
        Box::pin(invoke("geocode", json!({ "query": query })))
    }
    fn reverse_geocode(&self, lat: f64, lon: f64) -> Fut<'_, GeoPlace> {
        Box::pin(invoke("reverse_geocode", json!({ "lat": lat, "lon": lon })))
    }
    fn places(&self) -> Fut<'_, Vec<SavedPlace>> {
        Box::pin(invoke("places", json!({})))
    }
    fn save_place(&self, place: NewPlace) -> Fut<'_, SavedPlace> {
        Box::pin(invoke("save_place", json!({ "place": arg(place) })))
    }
    fn delete_place(&self, id: Id) -> Fut<'_, ()> {
        Box::pin(invoke("delete_place", json!({ "id": id })))
    }
    fn contact(&self, order: Id) -> Fut<'_, ContactRelay> {
        Box::pin(invoke("contact", json!({ "order": order })))
    }
    fn open_external(&self, uri: String) -> Fut<'_, ()> {
        Box::pin(invoke("open_external", json!({ "uri": uri })))
    }
    fn here(&self) -> Fut<'_, (f64, f64)> {
        Box::pin(invoke("here", json!({})))
    }
    fn earnings(&self) -> Fut<'_, pitstop_api::Earnings> {
        Box::pin(invoke(
            "earnings",
            json!({ "utcOffsetMin": crate::backend::utc_offset_min() }),
        ))
    }
    fn share(&self, order: Id) -> Fut<'_, String> {
        Box::pin(async move {
            let l: ShareLink = invoke("share", json!({ "order": order })).await?;
            Ok(l.path)
        })
    }
    fn revoke_share(&self, order: Id) -> Fut<'_, ()> {
        Box::pin(invoke("revoke_share", json!({ "order": order })))
    }
    fn saved_share(&self, order: Id) -> Fut<'_, Option<String>> {
        Box::pin(invoke("saved_share", json!({ "order": order })))
    }
    fn shared_tracking(&self, token: String) -> Fut<'_, Tracking> {
        Box::pin(async move { self.platform().await?.shared_tracking(token).await })
    }
    fn watch(&self, on_change: Rc<dyn Fn()>) -> Watch {
        let cb = Closure::<dyn FnMut(JsValue)>::new(move |_| on_change());
        let unlisten = tauri_listen("pitstop://changed", &cb);
        Watch(Box::new(Listening {
            cb: Some(cb),
            unlisten,
        }))
    }
    fn ready(&self) {
        wasm_bindgen_futures::spawn_local(async {
            let _: Result<(), _> = invoke("ui_ready", json!({})).await;
        });
    }
}

/// A `listen` registration; unlistens on drop, and keeps the closure alive until then.
struct Listening {
    cb: Option<Closure<dyn FnMut(JsValue)>>,
    unlisten: js_sys::Promise,
}

impl Drop for Listening {
    fn drop(&mut self) {
        let cb = self.cb.take();
        let p = self.unlisten.clone();
        wasm_bindgen_futures::spawn_local(async move {
            if let Ok(f) = wasm_bindgen_futures::JsFuture::from(p).await
                && let Some(f) = f.dyn_ref::<js_sys::Function>()
            {
                let _ = f.call0(&JsValue::NULL);
            }
            drop(cb);
        });
    }
}
