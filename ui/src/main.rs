//! Pitstop's Yew front end (wasm32): one app with a view per role (technician, front desk,
//! car owner) and the share-link tracking page.
//!
//! The views talk to a [`backend::Backend`]: inside the Tauri app that is IPC to the shell
//! (offline-first, answered by `pitstop-core`); in a plain browser it is HTTP to the platform.
//! `?track=<token>` opens the tracking page of a share link.

mod backend;
mod http;
mod i18n;
mod map;
mod tauri;
mod views;

use std::rc::Rc;

use pitstop_api::{Account, Id, Role, Workshop};
use yew::prelude::*;

use crate::backend::{Shared, StartInfo, query_param};
use crate::i18n::{t, t_args};
use crate::views::common::error_line;
use crate::views::desk::DeskView;
use crate::views::owner::OwnerView;
use crate::views::signin::SignInView;
use crate::views::technician::TechnicianView;
use crate::views::track::{LangSwitch, TrackPage};

/// The backend for where the page runs.
fn pick_backend() -> Shared {
    if tauri::available() {
        Shared(Rc::new(tauri::TauriBackend::new()))
    } else {
        // A browser: only ever the platform serving this page (a `?platform=` would let a
        // link on the real site show another host's data; the CSP's connect-src agrees).
        Shared(Rc::new(http::HttpBackend::new(&backend::origin())))
    }
}

#[function_component(App)]
fn app() -> Html {
    let backend = use_memo((), |_| pick_backend());
    let backend = (*backend).clone();
    if let Some(token) = query_param("track") {
        return html! { <TrackPage backend={backend} token={token} /> };
    }
    html! { <Shell backend={backend} /> }
}

#[derive(Properties, PartialEq)]
struct ShellProps {
    backend: Shared,
}

/// Start info, then: the saved session opened straight from the device's data (no network
/// needed), an automatic dev sign-in when the app was started with a role and name, or the
/// sign-in screen. Then the role's view under an account bar with Sign out.
#[function_component(Shell)]
fn shell(p: &ShellProps) -> Html {
    let info = use_state(|| None::<StartInfo>);
    let account = use_state(|| None::<Account>);
    let error = use_state(|| None::<String>);
    let tiles = use_state(|| None::<String>);
    let dev_login = use_state(|| false);
    let geocoding = use_state(|| false);
    let currency = use_state(|| pitstop_api::DEFAULT_CURRENCY.to_string());
    let workshops = use_state(Vec::<Workshop>::new);
    // Actions not yet sent that signing out would lose, waiting for the person to decide.
    let unsent = use_state(|| None::<Vec<String>>);
    // The language: switching it draws every view again.
    let lang = use_state(i18n::lang);
    let switch = html! { <LangSwitch on_change={{ let l = lang.clone(); move |v| l.set(v) }} /> };

    let sign_in = {
        let (b, account, error) = (p.backend.clone(), account.clone(), error.clone());
        Callback::from(move |(name, role, ws): (String, Role, Option<Id>)| {
            let (b, account, error) = (b.clone(), account.clone(), error.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match b.sign_in(name, role, ws).await {
                    Ok(a) => account.set(Some(a)),
                    Err(e) => error.set(Some(e.message)),
                }
            });
        })
    };
    {
        let (b, info, sign_in, tiles, dev_login, geocoding, currency, workshops, error, account) = (
            p.backend.clone(),
            info.clone(),
            sign_in.clone(),
            tiles.clone(),
            dev_login.clone(),
            geocoding.clone(),
            currency.clone(),
            workshops.clone(),
            error.clone(),
            account.clone(),
        );
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let i = match b.start_info().await {
                    Ok(i) => i,
                    Err(e) => {
                        error.set(Some(e.message));
                        return;
                    }
                };
                if let (Some(r), Some(n)) = (i.role, i.name.clone()) {
                    sign_in.emit((n, r, i.workshop));
                } else {
                    // Signed in before: open the device's data at once, network or not.
                    match b.resume().await {
                        Ok(Some(a)) => account.set(Some(a)),
                        Ok(None) => {}
                        Err(e) => error.set(Some(e.message)),
                    }
                }
                info.set(Some(i));
                b.ready();
                if let Ok(c) = b.config().await {
                    tiles.set(c.tile_url);
                    dev_login.set(c.dev_login);
                    geocoding.set(c.geocoding);
                    currency.set(c.currency);
                }
                if let Ok(w) = b.workshops().await {
                    workshops.set(w);
                }
            });
        });
    }
    let sign_out = {
        let (b, account, unsent, error) = (
            p.backend.clone(),
            account.clone(),
            unsent.clone(),
            error.clone(),
        );
        Callback::from(move |force: bool| {
            let (b, account, unsent, error) =
                (b.clone(), account.clone(), unsent.clone(), error.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match b.sign_out(force).await {
                    Ok(left) if left.is_empty() => {
                        unsent.set(None);
                        error.set(None);
                        account.set(None);
                    }
                    Ok(left) => unsent.set(Some(left)),
                    Err(e) => error.set(Some(e.message)),
                }
            });
        })
    };

    if let Some(a) = &*account {
        let b = p.backend.clone();
        let tl = (*tiles).clone();
        let (g, maps) = (
            *geocoding,
            (*info)
                .as_ref()
                .map(|i| i.maps_app())
                .unwrap_or(pitstop_api::geo::MapsApp::Web),
        );
        let view = match a.role {
            Role::Technician => {
                html! { <TechnicianView backend={b} account={a.clone()} tile_url={tl} maps_app={maps} /> }
            }
            Role::Desk | Role::Admin => {
                let w = workshops
                    .iter()
                    .find(|w| Some(w.id) == a.workshop_id)
                    .cloned();
                let c = w
                    .as_ref()
                    .map_or_else(|| (*currency).clone(), |w| w.currency.clone());
                html! { <DeskView backend={b} account={a.clone()} tile_url={tl} workshop={w} currency={c} /> }
            }
            Role::Owner => {
                html! { <OwnerView backend={b} account={a.clone()} tile_url={tl} geocoding={g} currency={(*currency).clone()} /> }
            }
        };
        let ask = {
            let sign_out = sign_out.clone();
            Callback::from(move |_| sign_out.emit(false))
        };
        let confirm = match &*unsent {
            Some(left) => {
                let (force, keep) = (sign_out.clone(), unsent.clone());
                html! {
                  <section id="sign-out-confirm" class="card warn" role="alertdialog" aria-labelledby="sign-out-title">
                    <h3 id="sign-out-title">{ t_args("signout-unsent", &[("n", left.len().into())]) }</h3>
                    <ul>{ for left.iter().map(|l| html! { <li>{ l }</li> }) }</ul>
                    <p>{ t("signout-explain") }</p>
                    <div class="actions">
                      <button id="sign-out-keep" class="primary" onclick={Callback::from(move |_| keep.set(None))}>{ t("signout-keep") }</button>
                      <button id="sign-out-force" class="danger" onclick={Callback::from(move |_| force.emit(true))}>{ t("signout-force") }</button>
                    </div>
                  </section>
                }
            }
            None => html! {},
        };
        return html! {
          <>
            <nav class="account-bar" aria-label={t("account")}>
              <span id="account-name" data-role={a.role.as_str()}>{ format!("{} · {}", a.name, t(&format!("role-{}", a.role.as_str()))) }</span>
              { switch }
              <button id="sign-out" onclick={ask}>{ t("signout") }</button>
            </nav>
            { confirm }
            <div key={lang.tag()} class="view">{ view }</div>
          </>
        };
    }
    let Some(i) = &*info else {
        return html! { <main><p id="status">{ t("starting") }</p>{ error_line(&error) }</main> };
    };
    let signed_in = {
        let account = account.clone();
        Callback::from(move |a: Account| account.set(Some(a)))
    };
    html! {
      <div key={lang.tag()} class="view">
      <nav class="account-bar" aria-label={t("language")}>{ switch }</nav>
      <SignInView backend={p.backend.clone()}
        platform_line={t_args("platform-line", &[("name", if i.platform == "browser" { t("platform-browser") } else { i.platform.clone() }.into()), ("url", i.platform_url.as_str().into())])}
        dev_login={*dev_login} workshops={(*workshops).clone()}
        on_signed_in={signed_in} on_dev_sign_in={sign_in} error={(*error).clone()} />
      </div>
    }
}

fn main() {
    i18n::set(i18n::detect());
    yew::Renderer::<App>::new().render();
}
