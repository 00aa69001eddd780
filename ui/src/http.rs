//! [`Backend`] straight to the platform over HTTP (gloo-net), for a plain browser: online
//! only, no local queue. The share-link tracking page uses it with no sign-in.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo_net::http::{Request, RequestBuilder, Response};
use pitstop_api::device::{OfferView, SyncStatus};
use pitstop_api::{
    Account, CodeSent, ContactRelay, DevLogin, DispatchRequest, GeoPlace, Id, JobLine, NewNote,
    NewOrder, NewPart, NewPlace, NewVehicle, Offer, Order, OrderStatus, PublicConfig, Role,
    SavedPlace, Session, ShareLink, ShiftChange, StatusChange, Technician, Tracking, Vehicle,
    Workshop,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::backend::{Backend, BackendError, Fut, SignInForm, StartInfo, Watch, now_ms};

/// The operating system as the browser's user agent tells it.
fn browser_os() -> String {
    let ua = web_sys::window()
        .and_then(|w| w.navigator().user_agent().ok())
        .unwrap_or_default();
    if ua.contains("Android") {
        "android"
    } else if ua.contains("iPhone") || ua.contains("iPad") {
        "ios"
    } else {
        "web"
    }
    .into()
}

/// How often a browser page refreshes (it has no event stream of its own).
pub const POLL_MS: u32 = 1000;
/// The fastest a page may poll, whatever its URL says.
pub const MIN_POLL_MS: u32 = 1000;

/// Talks to the platform at `base`.
#[derive(Clone)]
pub struct HttpBackend {
    base: String,
    token: Rc<RefCell<Option<String>>>,
    /// The refresh token and when the access token expires.
    renew: Rc<RefCell<Option<(String, i64)>>>,
    online: Rc<Cell<bool>>,
    last_ok: Rc<Cell<Option<i64>>>,
    last_error: Rc<RefCell<Option<String>>>,
    /// Tracking links made in this page, by order (the browser keeps no session either).
    shares: Rc<RefCell<std::collections::HashMap<Id, String>>>,
}

impl HttpBackend {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            token: Default::default(),
            renew: Default::default(),
            shares: Default::default(),
            online: Default::default(),
            last_ok: Default::default(),
            last_error: Default::default(),
        }
    }

    fn req(&self, rb: RequestBuilder) -> RequestBuilder {
        match self.token.borrow().as_ref() {
            Some(t) => rb.header("Authorization", &format!("Bearer {t}")),
            None => rb,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn answer<T: DeserializeOwned>(
        &self,
        r: Result<Response, gloo_net::Error>,
    ) -> Result<T, BackendError> {
        let resp = match r {
            Ok(r) => r,
            Err(e) => {
                self.online.set(false);
                *self.last_error.borrow_mut() = Some(e.to_string());
                return Err(BackendError::new(
                    "offline",
                    format!("The platform did not answer: {e}"),
                ));
            }
        };
        self.online.set(true);
        self.last_ok.set(Some(now_ms()));
        if !resp.ok() {
            let detail = resp
                .json::<serde_json::Value>()
                .await
                .ok()
                .and_then(|v| v["detail"].as_str().map(String::from))
                .unwrap_or_else(|| format!("HTTP {}", resp.status()));
            let kind = if resp.status() >= 500 {
                "offline"
            } else {
                "refused"
            };
            return Err(BackendError::new(kind, detail));
        }
        let text = resp
            .text()
            .await
            .map_err(|e| BackendError::new("bad_answer", e.to_string()))?;
        let text = if text.is_empty() { "null".into() } else { text };
        serde_json::from_str(&text).map_err(|e| BackendError::new("bad_answer", e.to_string()))
    }

    /// Keeps a session's access token fresh: renews it a minute before it expires.
    async fn fresh(&self) {
        let due = match self.renew.borrow().as_ref() {
            Some((refresh, expires_at)) if *expires_at - now_ms() < 60_000 => Some(refresh.clone()),
            _ => None,
        };
        let Some(refresh_token) = due else { return };
        let r = match Request::post(&self.url("/v1/auth/refresh"))
            .json(&pitstop_api::RefreshRequest { refresh_token })
        {
            Ok(rb) => rb.send().await,
            Err(_) => return,
        };
        if let Ok(s) = self.answer::<Session>(r).await {
            self.keep(s);
        }
    }

    fn keep(&self, s: Session) {
        *self.token.borrow_mut() = Some(s.token);
        *self.renew.borrow_mut() = Some((s.refresh_token, s.expires_at));
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, BackendError> {
        self.fresh().await;
        let r = self.req(Request::get(&self.url(path))).send().await;
        self.answer(r).await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, BackendError> {
        self.fresh().await;
        let r = match self.req(Request::post(&self.url(path))).json(body) {
            Ok(rb) => rb.send().await,
            Err(e) => return Err(BackendError::new("bad_request", e.to_string())),
        };
        self.answer(r).await
    }
}

impl Backend for HttpBackend {
    fn start_info(&self) -> Fut<'_, StartInfo> {
        let info = StartInfo {
            platform: "browser".into(),
            platform_url: self.base.clone(),
            role: crate::backend::query_param("role").and_then(|r| Role::parse(&r)),
            name: crate::backend::query_param("name"),
            workshop: crate::backend::query_param("workshop").and_then(|w| w.parse().ok()),
            os: browser_os(),
        };
        Box::pin(async move { Ok(info) })
    }
    fn sign_in(&self, name: String, role: Role, workshop: Option<Id>) -> Fut<'_, Account> {
        Box::pin(async move {
            let s: Session = self
                .post(
                    "/v1/auth/dev-login",
                    &DevLogin {
                        name,
                        role,
                        workshop_id: workshop,
                        skills: crate::backend::dev_skills(role),
                    },
                )
                .await?;
            let account = s.account.clone();
            self.keep(s);
            Ok(account)
        })
    }
    fn request_code(&self, address: String) -> Fut<'_, CodeSent> {
        Box::pin(async move {
            self.post("/v1/auth/code", &pitstop_api::CodeRequest { address })
                .await
        })
    }
    fn sign_in_with(&self, form: SignInForm) -> Fut<'_, Account> {
        Box::pin(async move {
            let s: Session = self
                .post(
                    "/v1/auth/sign-in",
                    &pitstop_api::SignIn {
                        address: form.address,
                        code: form.code,
                        password: form.password,
                        device: "Web browser".into(),
                        name: form.name,
                    },
                )
                .await?;
            let account = s.account.clone();
            self.keep(s);
            Ok(account)
        })
    }
    fn resume(&self) -> Fut<'_, Option<Account>> {
        // A browser page keeps nothing: its session lives as long as the page.
        Box::pin(async move { Ok(None) })
    }
    fn sign_out(&self, _force: bool) -> Fut<'_, Vec<String>> {
        Box::pin(async move {
            // Nothing is queued in a browser; the session ends on the platform too.
            let _: Result<serde_json::Value, _> = self.post("/v1/auth/sign-out", &()).await;
            *self.token.borrow_mut() = None;
            *self.renew.borrow_mut() = None;
            self.shares.borrow_mut().clear();
            Ok(Vec::new())
        })
    }
    fn workshops(&self) -> Fut<'_, Vec<Workshop>> {
        Box::pin(self.get("/v1/workshops"))
    }
    fn config(&self) -> Fut<'_, PublicConfig> {
        Box::pin(self.get("/v1/config"))
    }
    fn offers(&self) -> Fut<'_, Vec<OfferView>> {
        Box::pin(async move {
            let offers: Vec<Offer> = self.get("/v1/offers").await?;
            let now = now_ms();
            Ok(offers.into_iter().map(|o| OfferView::at(o, now)).collect())
        })
    }
    fn accept(&self, offer: Id) -> Fut<'_, ()> {
        Box::pin(async move {
            let _: Order = self
                .post(&format!("/v1/offers/{offer}/accept"), &())
                .await?;
            Ok(())
        })
    }
    fn decline(&self, offer: Id) -> Fut<'_, ()> {
        Box::pin(async move {
            let _: Offer = self
                .post(&format!("/v1/offers/{offer}/decline"), &())
                .await?;
            Ok(())
        })
    }
    fn orders(&self) -> Fut<'_, Vec<Order>> {
        Box::pin(self.get("/v1/orders?limit=500"))
    }
    fn step(&self, order: Id, status: OrderStatus, note: Option<String>) -> Fut<'_, ()> {
        Box::pin(async move {
            let _: Order = self
                .post(
                    &format!("/v1/orders/{order}/status"),
                    &StatusChange { status, note },
                )
                .await?;
            Ok(())
        })
    }
    fn add_note(&self, order: Id, text: String) -> Fut<'_, ()> {
        Box::pin(async move {
            let _: JobLine = self
                .post(&format!("/v1/orders/{order}/notes"), &NewNote { text })
                .await?;
            Ok(())
        })
    }
    fn add_part(&self, order: Id, name: String, qty: u32, unit_price_cents: i64) -> Fut<'_, ()> {
        Box::pin(async move {
            let _: JobLine = self
                .post(
                    &format!("/v1/orders/{order}/parts"),
                    &NewPart {
                        name,
                        qty,
                        unit_price_cents,
                    },
                )
                .await?;
            Ok(())
        })
    }
    fn set_shift(&self, shift: ShiftChange) -> Fut<'_, ()> {
        Box::pin(async move {
            let _: Technician = self.post("/v1/technicians/me/shift", &shift).await?;
            Ok(())
        })
    }
    fn on_shift(&self) -> Fut<'_, bool> {
        Box::pin(async move {
            let me: Technician = self.get("/v1/technicians/me").await?;
            Ok(me.on_shift)
        })
    }
    fn sync_status(&self) -> Fut<'_, SyncStatus> {
        let s = SyncStatus {
            online: self.online.get(),
            pending: 0,
            last_sync: self.last_ok.get(),
            last_error: self.last_error.borrow().clone(),
            failed: vec![],
            unsent_fixes: 0,
            oldest_pending_at: None,
        };
        Box::pin(async move { Ok(s) })
    }
    fn dismiss_failure(&self, _seq: i64) -> Fut<'_, ()> {
        Box::pin(async { Ok(()) })
    }
    fn retry_failure(&self, _seq: i64) -> Fut<'_, ()> {
        // Nothing is queued in a browser, so nothing can have been refused later.
        Box::pin(async { Ok(()) })
    }
    fn sync_now(&self) -> Fut<'_, ()> {
        Box::pin(async move {
            let _: pitstop_api::Account = self.get("/v1/me").await?;
            Ok(())
        })
    }
    fn vehicles(&self) -> Fut<'_, Vec<Vehicle>> {
        Box::pin(self.get("/v1/vehicles"))
    }
    fn add_vehicle(&self, v: NewVehicle) -> Fut<'_, Vehicle> {
        Box::pin(async move { self.post("/v1/vehicles", &v).await })
    }
    fn book(&self, order: NewOrder) -> Fut<'_, ()> {
        Box::pin(async move {
            let _: Order = self.post("/v1/orders", &order).await?;
            Ok(())
        })
    }
    fn technicians(&self) -> Fut<'_, Vec<Technician>> {
        Box::pin(self.get("/v1/technicians"))
    }
    fn dispatch(&self, order: Id, technician: Option<Id>) -> Fut<'_, ()> {
        Box::pin(async move {
            let _: Order = self
                .post(
                    &format!("/v1/orders/{order}/dispatch"),
                    &DispatchRequest {
                        technician_id: technician,
                    },
                )
                .await?;
            Ok(())
        })
    }
    fn tracking(&self, order: Id) -> Fut<'_, Option<Tracking>> {
        Box::pin(async move {
            self.get(&format!("/v1/orders/{order}/tracking"))
                .await
                .map(Some)
        })
    }
    fn geocode(&self, query: String) -> Fut<'_, Vec<GeoPlace>> {
        Box::pin(async move {
            let q = String::from(js_sys::encode_uri_component(&query));
            self.get(&format!("/v1/geocode?q={q}")).await
        })
    }
    fn reverse_geocode(&self, lat: f64, lon: f64) -> Fut<'_, GeoPlace> {
        Box::pin(async move {
            self.get(&format!("/v1/geocode/reverse?lat={lat}&lon={lon}"))
                .await
        })
    }
    fn places(&self) -> Fut<'_, Vec<SavedPlace>> {
        Box::pin(self.get("/v1/places"))
    }
    fn save_place(&self, place: NewPlace) -> Fut<'_, SavedPlace> {
        Box::pin(async move { self.post("/v1/places", &place).await })
    }
    fn delete_place(&self, id: Id) -> Fut<'_, ()> {
        Box::pin(async move {
            self.fresh().await;
            let r = self
                .req(Request::delete(&self.url(&format!("/v1/places/{id}"))))
                .send()
                .await;
            self.answer(r).await
        })
    }
    fn contact(&self, order: Id) -> Fut<'_, ContactRelay> {
        Box::pin(async move { self.post(&format!("/v1/orders/{order}/contact"), &()).await })
    }
    fn open_external(&self, uri: String) -> Fut<'_, ()> {
        Box::pin(async move {
            let w = web_sys::window().ok_or_else(|| BackendError::new("browser", "no window"))?;
            let opened = if uri.starts_with("https:") {
                w.open_with_url_and_target(&uri, "_blank").map(|_| ())
            } else {
                // tel:, sms:, geo: go to the phone's own apps.
                w.location().set_href(&uri)
            };
            opened
                .map_err(|_| BackendError::new("browser", "This browser could not open the link."))
        })
    }
    fn earnings(&self) -> Fut<'_, pitstop_api::Earnings> {
        Box::pin(async move {
            let tz = crate::backend::utc_offset_min();
            self.get(&format!("/v1/technicians/me/earnings?utc_offset_min={tz}"))
                .await
        })
    }
    fn here(&self) -> Fut<'_, (f64, f64)> {
        Box::pin(async move {
            Err(BackendError::new(
                "position",
                "This page cannot read your location. Search the address or place the pin on the map.",
            ))
        })
    }
    fn share(&self, order: Id) -> Fut<'_, String> {
        Box::pin(async move {
            let l: ShareLink = self.post(&format!("/v1/orders/{order}/share"), &()).await?;
            let url = format!("{}{}", self.base, l.path);
            self.shares.borrow_mut().insert(order, url.clone());
            Ok(url)
        })
    }
    fn saved_share(&self, order: Id) -> Fut<'_, Option<String>> {
        let url = self.shares.borrow().get(&order).cloned();
        Box::pin(async move { Ok(url) })
    }
    fn revoke_share(&self, order: Id) -> Fut<'_, ()> {
        Box::pin(async move {
            self.fresh().await;
            let r = self
                .req(Request::delete(
                    &self.url(&format!("/v1/orders/{order}/share")),
                ))
                .send()
                .await;
            self.answer::<()>(r).await?;
            self.shares.borrow_mut().remove(&order);
            Ok(())
        })
    }
    fn shared_tracking(&self, token: String) -> Fut<'_, Tracking> {
        Box::pin(async move {
            let token = String::from(js_sys::encode_uri_component(&token));
            self.get(&format!("/v1/track/{token}")).await
        })
    }
    fn watch(&self, on_change: Rc<dyn Fn()>) -> Watch {
        // `&poll_ms=` may slow the page down or speed it up to a floor, never hammer the
        // server.
        let every = crate::backend::query_param("poll_ms")
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(POLL_MS)
            .clamp(MIN_POLL_MS, 60_000);
        Watch(Box::new(gloo_timers::callback::Interval::new(
            every,
            move || on_change(),
        )))
    }
}
