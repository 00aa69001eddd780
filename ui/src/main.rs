//! Pitstop's Yew front end (wasm32): one app with a view per role (technician, front desk,
//! car owner) and the share-link tracking page.
//!
//! The views talk to a [`backend::Backend`]: inside the Tauri app that is IPC to the shell
//! (offline-first, answered by `pitstop-core`); in a plain browser it is HTTP to the platform.
//! `?track=<token>` opens the tracking page of a share link.

mod backend;
mod http;
mod map;
mod tauri;
mod views;

use std::rc::Rc;

use pitstop_api::{Account, Id, Role, Workshop};
use yew::prelude::*;

use crate::backend::{Shared, StartInfo, query_param};
use crate::views::common::{error_line, input_value};
use crate::views::desk::DeskView;
use crate::views::owner::OwnerView;
use crate::views::technician::TechnicianView;
use crate::views::track::TrackPage;

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

/// Start info, sign-in (automatic when the app was started with a role and name), then the
/// role's view.
#[function_component(Shell)]
fn shell(p: &ShellProps) -> Html {
    let info = use_state(|| None::<StartInfo>);
    let account = use_state(|| None::<Account>);
    let error = use_state(|| None::<String>);
    let tiles = use_state(|| None::<String>);
    let workshops = use_state(Vec::<Workshop>::new);
    let role = use_state(|| Role::Technician);

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
        let (b, info, sign_in, tiles, workshops, error) = (
            p.backend.clone(),
            info.clone(),
            sign_in.clone(),
            tiles.clone(),
            workshops.clone(),
            error.clone(),
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
                }
                info.set(Some(i));
                b.ready();
                if let Ok(c) = b.config().await {
                    tiles.set(c.tile_url);
                }
                if let Ok(w) = b.workshops().await {
                    workshops.set(w);
                }
            });
        });
    }

    if let Some(a) = &*account {
        let b = p.backend.clone();
        let t = (*tiles).clone();
        return match a.role {
            Role::Technician => html! { <TechnicianView backend={b} account={a.clone()} /> },
            Role::Desk | Role::Admin => {
                let w = workshops
                    .iter()
                    .find(|w| Some(w.id) == a.workshop_id)
                    .cloned();
                html! { <DeskView backend={b} account={a.clone()} tile_url={t} workshop={w} /> }
            }
            Role::Owner => html! { <OwnerView backend={b} account={a.clone()} tile_url={t} /> },
        };
    }
    let Some(i) = &*info else {
        return html! { <main><p id="status">{ "Starting…" }</p>{ error_line(&error) }</main> };
    };
    let pick = |r: Role| {
        let role = role.clone();
        Callback::from(move |_| role.set(r))
    };
    let submit = {
        let (sign_in, role, error) = (sign_in.clone(), role.clone(), error.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let name = input_value("signin-name");
            if name.trim().is_empty() {
                error.set(Some("Type your name.".into()));
                return;
            }
            let ws = input_value("signin-workshop").parse().ok();
            let ws = matches!(*role, Role::Desk | Role::Technician)
                .then_some(ws)
                .flatten();
            sign_in.emit((name.trim().to_string(), *role, ws));
        })
    };
    let tab = |r: Role, label: &'static str, id: &'static str| {
        html! {
          <button type="button" id={id} class={classes!("tab", (*role == r).then_some("active"))} onclick={pick(r)}>{ label }</button>
        }
    };
    html! {
      <main class="signin">
        <h1>{ "Pitstop" }</h1>
        <p class="muted" id="status">{ format!("{} · platform {}", i.platform, i.platform_url) }</p>
        <div class="tabs">
          { tab(Role::Technician, "I am a master", "role-technician") }
          { tab(Role::Desk, "Front desk", "role-desk") }
          { tab(Role::Owner, "Car owner", "role-owner") }
        </div>
        <form id="signin" class="card" onsubmit={submit}>
          <input id="signin-name" placeholder="Your name" />
          if *role == Role::Desk {
            <select id="signin-workshop">
              { for workshops.iter().enumerate().map(|(i, w)| html! { <option value={w.id.to_string()} selected={i == 0}>{ &w.name }</option> }) }
            </select>
          }
          <button id="signin-submit" class="primary" type="submit">{ "Sign in" }</button>
        </form>
        { error_line(&error) }
      </main>
    }
}

fn main() {
    yew::Renderer::<App>::new().render();
}
