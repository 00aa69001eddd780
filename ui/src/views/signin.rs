//! Signing in: a mobile number or e-mail address, then the one-time code the platform sends
//! (or a password, for desks that set one); a new car owner also gives a name. Errors sit
//! under the field they are about, in plain words. A development server also offers its demo
//! accounts (dev login) behind a fold.

use pitstop_api::address::Address;
use pitstop_api::{Account, CodeSent, Id, Role, Workshop};
use yew::prelude::*;

use crate::backend::{Shared, SignInForm, now_ms};
use crate::i18n::{t, t_args};
use crate::views::common::input_value;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub backend: Shared,
    /// Shown under the title (which platform this is).
    pub platform_line: String,
    /// The server offers dev login (demo accounts).
    pub dev_login: bool,
    pub workshops: Vec<Workshop>,
    pub on_signed_in: Callback<Account>,
    /// Dev login: name, role, workshop.
    pub on_dev_sign_in: Callback<(String, Role, Option<Id>)>,
    /// An error from the shell (dev login, resuming), shown at the bottom.
    #[prop_or_default]
    pub error: Option<String>,
}

#[derive(Clone, PartialEq)]
enum Step {
    /// Typing the address.
    Address,
    /// A code was sent; it can be sent again after `resend_at`.
    Code { sent: CodeSent, resend_at: i64 },
    /// Signing in with a password.
    Password,
}

#[function_component(SignInView)]
pub fn sign_in_view(p: &Props) -> Html {
    let step = use_state(|| Step::Address);
    let address = use_state(String::new);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    // The address has no account yet: ask for a name to create one.
    let new_account = use_state(|| false);
    let now = crate::views::common::use_clock(1000);

    let send_code = {
        let (b, step, address, error, busy) = (
            p.backend.clone(),
            step.clone(),
            address.clone(),
            error.clone(),
            busy.clone(),
        );
        Callback::from(move |typed: String| {
            if Address::parse(&typed).is_err() {
                error.set(Some(address_problem(&typed)));
                return;
            }
            let (b, step, address, error, busy) = (
                b.clone(),
                step.clone(),
                address.clone(),
                error.clone(),
                busy.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                match b.request_code(typed.clone()).await {
                    Ok(sent) => {
                        address.set(typed);
                        error.set(None);
                        step.set(Step::Code {
                            resend_at: now_ms() + sent.resend_after_s as i64 * 1000,
                            sent,
                        });
                    }
                    Err(e) => error.set(Some(e.message)),
                }
                busy.set(false);
            });
        })
    };
    let submit_form = {
        let (b, address, error, busy, new_account, done) = (
            p.backend.clone(),
            address.clone(),
            error.clone(),
            busy.clone(),
            new_account.clone(),
            p.on_signed_in.clone(),
        );
        Callback::from(move |form: SignInForm| {
            let (b, error, busy, new_account, done) = (
                b.clone(),
                error.clone(),
                busy.clone(),
                new_account.clone(),
                done.clone(),
            );
            let form = SignInForm {
                address: (*address).clone(),
                ..form
            };
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                match b.sign_in_with(form).await {
                    Ok(a) => done.emit(a),
                    Err(e) if e.message.contains("no account yet") => {
                        new_account.set(true);
                        error.set(Some(t("signin-new-here")));
                    }
                    Err(e) => error.set(Some(e.message)),
                }
                busy.set(false);
            });
        })
    };

    let error_html = match &*error {
        Some(e) => html! { <p class="error" id="signin-error" role="alert">{ e }</p> },
        None => html! {},
    };
    let body = match &*step {
        Step::Address => {
            let on_submit = {
                let send_code = send_code.clone();
                Callback::from(move |e: SubmitEvent| {
                    e.prevent_default();
                    send_code.emit(input_value("signin-address"));
                })
            };
            let use_password = {
                let (step, address, error) = (step.clone(), address.clone(), error.clone());
                Callback::from(move |_| {
                    let typed = input_value("signin-address");
                    match Address::parse(&typed) {
                        Ok(a) => {
                            address.set(a.as_str().to_string());
                            error.set(None);
                            step.set(Step::Password);
                        }
                        Err(_) => error.set(Some(address_problem(&typed))),
                    }
                })
            };
            html! {
              <form id="signin-form" class="card" onsubmit={on_submit}>
                <label for="signin-address">{ t("signin-address-label") }</label>
                <input id="signin-address" type="text" autocomplete="username" inputmode="email"
                  value={(*address).clone()} aria-describedby="signin-address-hint" />
                <p class="muted small" id="signin-address-hint">
                  { t("signin-address-hint") }
                </p>
                { error_html }
                <button id="signin-send" class="primary" type="submit" disabled={*busy}>{ t("signin-send-code") }</button>
                <button id="signin-use-password" type="button" onclick={use_password} disabled={*busy}>{ t("signin-use-password") }</button>
              </form>
            }
        }
        Step::Code { sent, resend_at } => {
            let on_submit = {
                let (submit_form, error, new_account) =
                    (submit_form.clone(), error.clone(), new_account.clone());
                Callback::from(move |e: SubmitEvent| {
                    e.prevent_default();
                    let code: String = input_value("signin-code")
                        .chars()
                        .filter(|c| c.is_ascii_digit())
                        .collect();
                    if code.len() != 6 {
                        error.set(Some(t("signin-code-incomplete")));
                        return;
                    }
                    let name = new_account.then(|| input_value("signin-newname"));
                    if name.as_deref().is_some_and(|n| n.trim().is_empty()) {
                        error.set(Some(t("signin-name-needed")));
                        return;
                    }
                    submit_form.emit(SignInForm {
                        code: Some(code),
                        name,
                        ..SignInForm::default()
                    });
                })
            };
            let wait_s = ((resend_at - now) / 1000).max(0);
            let resend = {
                let (send_code, address) = (send_code.clone(), address.clone());
                Callback::from(move |_| send_code.emit((*address).clone()))
            };
            let back = {
                let (step, error, new_account) = (step.clone(), error.clone(), new_account.clone());
                Callback::from(move |_| {
                    error.set(None);
                    new_account.set(false);
                    step.set(Step::Address);
                })
            };
            html! {
              <form id="signin-form" class="card" onsubmit={on_submit}>
                <p id="signin-sent">{ t_args("signin-code-sent", &[("to", sent.sent_to.as_str().into())]) }</p>
                <label for="signin-code">{ t("signin-code-label") }</label>
                <input id="signin-code" type="text" inputmode="numeric" autocomplete="one-time-code"
                  maxlength="6" pattern="[0-9]*" />
                if *new_account {
                  <label for="signin-newname">{ t("signin-your-name") }</label>
                  <input id="signin-newname" type="text" autocomplete="name" maxlength="80" />
                }
                { error_html }
                <button id="signin-submit" class="primary" type="submit" disabled={*busy}>{ t("signin-submit") }</button>
                <button id="signin-resend" type="button" onclick={resend} disabled={*busy || wait_s > 0}>
                  { if wait_s > 0 { t_args("signin-resend-in", &[("n", wait_s.into())]) } else { t("signin-resend") } }
                </button>
                <button id="signin-back" type="button" onclick={back}>{ t("signin-other-address") }</button>
              </form>
            }
        }
        Step::Password => {
            let on_submit = {
                let submit_form = submit_form.clone();
                Callback::from(move |e: SubmitEvent| {
                    e.prevent_default();
                    submit_form.emit(SignInForm {
                        password: Some(input_value("signin-password")),
                        ..SignInForm::default()
                    });
                })
            };
            let back = {
                let (step, error) = (step.clone(), error.clone());
                Callback::from(move |_| {
                    error.set(None);
                    step.set(Step::Address);
                })
            };
            html! {
              <form id="signin-form" class="card" onsubmit={on_submit}>
                <p>{ t_args("signin-as", &[("address", address.as_str().into())]) }</p>
                <label for="signin-password">{ t("signin-password-label") }</label>
                <input id="signin-password" type="password" autocomplete="current-password" />
                { error_html }
                <button id="signin-submit" class="primary" type="submit" disabled={*busy}>{ t("signin-submit") }</button>
                <button id="signin-back" type="button" onclick={back}>{ t("signin-code-instead") }</button>
              </form>
            }
        }
    };
    html! {
      <main class="signin">
        <h1>{ "Pitstop" }</h1>
        <p class="muted" id="status">{ &p.platform_line }</p>
        { body }
        if p.dev_login {
          <DevSignIn workshops={p.workshops.clone()} on_sign_in={p.on_dev_sign_in.clone()} />
        }
        if let Some(e) = &p.error {
          <p class="error" id="error" role="alert">{ e }</p>
        }
      </main>
    }
}

/// Why `Address::parse` refused what was typed, in the UI's language: it refuses an e-mail
/// address (anything with an `@`) that does not look right, or else a mobile number.
fn address_problem(typed: &str) -> String {
    t(if typed.contains('@') {
        "signin-bad-email"
    } else {
        "signin-bad-phone"
    })
}

#[derive(Properties, PartialEq)]
struct DevProps {
    workshops: Vec<Workshop>,
    on_sign_in: Callback<(String, Role, Option<Id>)>,
}

/// The development server's demo accounts: any name, any role but admin.
#[function_component(DevSignIn)]
fn dev_sign_in(p: &DevProps) -> Html {
    let role = use_state(|| Role::Technician);
    let error = use_state(|| None::<String>);
    let pick = |r: Role| {
        let role = role.clone();
        Callback::from(move |_| role.set(r))
    };
    let submit = {
        let (on_sign_in, role, error) = (p.on_sign_in.clone(), role.clone(), error.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let name = input_value("signin-name");
            if name.trim().is_empty() {
                error.set(Some(t("signin-dev-name-needed")));
                return;
            }
            let ws = input_value("signin-workshop").parse().ok();
            let ws = matches!(*role, Role::Desk | Role::Technician)
                .then_some(ws)
                .flatten();
            on_sign_in.emit((name.trim().to_string(), *role, ws));
        })
    };
    let tab = |r: Role, label: String, id: &'static str| {
        html! {
          <button type="button" id={id} aria-pressed={(*role == r).to_string()}
            class={classes!("tab", (*role == r).then_some("active"))} onclick={pick(r)}>{ label }</button>
        }
    };
    html! {
      <details id="dev-signin" class="card">
        <summary>{ t("signin-dev-title") }</summary>
        <div class="tabs">
          { tab(Role::Technician, t("signin-role-technician"), "role-technician") }
          { tab(Role::Desk, t("signin-role-desk"), "role-desk") }
          { tab(Role::Owner, t("signin-role-owner"), "role-owner") }
        </div>
        <form id="signin" onsubmit={submit}>
          <label for="signin-name">{ t("signin-dev-name") }</label>
          <input id="signin-name" />
          if *role == Role::Desk {
            <label for="signin-workshop">{ t("signin-workshop") }</label>
            <select id="signin-workshop">
              { for p.workshops.iter().enumerate().map(|(i, w)| html! { <option value={w.id.to_string()} selected={i == 0}>{ &w.name }</option> }) }
            </select>
          }
          if let Some(e) = &*error { <p class="error" role="alert">{ e }</p> }
          <button id="signin-submit-dev" class="primary" type="submit">{ t("signin-dev-open") }</button>
        </form>
      </details>
    }
}
