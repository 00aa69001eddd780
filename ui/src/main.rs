//! Pitstop's Yew front end (wasm32). Today it shows the platform's service catalogue with
//! up-front prices and whether the platform answers; the per-role views (technician, desk,
//! owner) are built on top of this app.

mod backend;

use pitstop_api::services::ServiceType;
use yew::prelude::*;

/// Formats cents as a price.
fn price(cents: i64) -> String {
    format!("€{}.{:02}", cents / 100, cents % 100)
}

#[function_component(App)]
fn app() -> Html {
    let services = use_state(|| None::<Result<Vec<ServiceType>, String>>);
    {
        let services = services.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                services.set(Some(backend::services().await));
            });
        });
    }
    let body = match &*services {
        None => html! { <p id="status">{ "Connecting to the platform…" }</p> },
        Some(Err(e)) => {
            html! { <p id="status" class="error">{ format!("The platform at {} did not answer: {e}", backend::base_url()) }</p> }
        }
        Some(Ok(list)) => html! {
            <>
            <p id="status">{ format!("Connected to {}", backend::base_url()) }</p>
            <table id="services">
              <thead><tr><th>{ "Service" }</th><th>{ "Time on site" }</th><th>{ "Price" }</th></tr></thead>
              <tbody>
              { for list.iter().map(|s| html! {
                  <tr data-code={s.code.clone()}><td>{ &s.name }</td><td>{ format!("{} min", s.minutes) }</td><td>{ price(s.price_cents) }</td></tr>
              }) }
              </tbody>
            </table>
            </>
        },
    };
    html! {
        <main>
          <h1>{ "Pitstop" }</h1>
          <h2>{ "Services and prices" }</h2>
          { body }
        </main>
    }
}

fn main() {
    yew::Renderer::<App>::new().render();
}
