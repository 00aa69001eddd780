//! Delivering sign-in codes: the [`CodeSender`] trait, a development sink that prints codes
//! (and keeps the last ones for tests), and a Twilio SMS adapter (`--twilio-*` flags).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use futures::future::BoxFuture;
use pitstop_api::address::Address;

/// Sends a short text to a sign-in address.
pub trait CodeSender: Send + Sync + std::fmt::Debug {
    /// Delivers `text` to `to`; an error means the person will not get it.
    fn send<'a>(&'a self, to: &'a Address, text: &'a str) -> BoxFuture<'a, anyhow::Result<()>>;

    /// Whether this sender can reach this kind of address at all.
    fn reaches(&self, _to: &Address) -> bool {
        true
    }
}

/// Development: prints each message on standard error and remembers the last code per
/// address. Never for production: anyone reading the log can sign in.
#[derive(Debug, Default)]
pub struct DevSink {
    last: Mutex<(HashMap<String, String>, VecDeque<String>)>,
}

/// Addresses whose last code the dev sink remembers.
const DEV_SINK_KEEP: usize = 10_000;

impl DevSink {
    /// The last code sent to `address` (its canonical form).
    pub fn last_code(&self, address: &str) -> Option<String> {
        let last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        last.0.get(address).cloned()
    }
}

/// The 6-digit code inside a message text.
fn code_in(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .map(str::to_string)
}

impl CodeSender for DevSink {
    fn send<'a>(&'a self, to: &'a Address, text: &'a str) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            // stderr, not the tracing log: a code is a credential.
            eprintln!("[dev code sink] to {}: {text}", to.as_str());
            if let Some(code) = code_in(text) {
                let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
                let (map, order) = &mut *last;
                if map.insert(to.as_str().to_string(), code).is_none() {
                    order.push_back(to.as_str().to_string());
                    if order.len() > DEV_SINK_KEEP
                        && let Some(old) = order.pop_front()
                    {
                        map.remove(&old);
                    }
                }
            }
            Ok(())
        })
    }
}

/// Twilio's Messages API (SMS to phone numbers). E-mail addresses it cannot reach: those
/// codes are refused with a clear error, and desks sign in with a password or an invite code.
#[derive(Debug)]
pub struct Twilio {
    http: reqwest::Client,
    /// `https://api.twilio.com` (a test points it at a local server).
    pub api_base: String,
    pub account_sid: String,
    pub auth_token: String,
    /// The sending number or messaging service id.
    pub from: String,
}

impl Twilio {
    /// An adapter with a 10-second deadline per message.
    pub fn new(api_base: &str, account_sid: &str, auth_token: &str, from: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            api_base: api_base.trim_end_matches('/').to_string(),
            account_sid: account_sid.to_string(),
            auth_token: auth_token.to_string(),
            from: from.to_string(),
        }
    }
}

impl CodeSender for Twilio {
    fn reaches(&self, to: &Address) -> bool {
        matches!(to, Address::Phone(_))
    }

    fn send<'a>(&'a self, to: &'a Address, text: &'a str) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let Address::Phone(number) = to else {
                anyhow::bail!("this platform sends codes by SMS only");
            };
            let url = format!(
                "{}/2010-04-01/Accounts/{}/Messages.json",
                self.api_base, self.account_sid
            );
            let resp = self
                .http
                .post(url)
                .basic_auth(&self.account_sid, Some(&self.auth_token))
                .form(&[
                    ("To", number.as_str()),
                    ("From", &self.from),
                    ("Body", text),
                ])
                .send()
                .await?;
            let status = resp.status();
            if !status.is_success() {
                let body: String = resp
                    .text()
                    .await
                    .unwrap_or_default()
                    .chars()
                    .take(300)
                    .collect();
                anyhow::bail!("Twilio answered {status}: {body}");
            }
            Ok(())
        })
    }
}
