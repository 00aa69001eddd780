//! Real sign-in against a real platform on 127.0.0.1: one-time codes, passwords, sessions
//! that renew, expire and are revoked at once, invitations, rate limits, dev login's limits,
//! event-stream tickets, and the Twilio adapter against a local stand-in for Twilio's API.

use std::time::Duration;

use pitstop_api::*;
use pitstop_tests::{Client, TestPlatform};
use reqwest::{Method, StatusCode};
use serde_json::json;

const PHONE: &str = "+86 138 0013 8000";
const PHONE_CANON: &str = "+8613800138000";

/// Asks for a code for `address` and reads it from the development sink.
async fn code_for(p: &TestPlatform, address: &str) -> String {
    let sent: CodeSent = p
        .anonymous()
        .post("/v1/auth/code", &json!({ "address": address }))
        .await
        .expect("code sent");
    assert!(sent.resend_after_s > 0 && sent.expires_at > pitstop_tests::now_ms());
    assert!(!sent.sent_to.contains("0013"), "masked: {}", sent.sent_to);
    let canon = address::Address::parse(address).unwrap();
    p.platform
        .dev_code(canon.as_str())
        .expect("the dev sink got a code")
}

async fn sign_in(p: &TestPlatform, body: serde_json::Value) -> pitstop_tests::Reply {
    p.anonymous()
        .send(Method::POST, "/v1/auth/sign-in", Some(body))
        .await
}

/// `POST /v1/auth/refresh` with `token`, whatever the answer.
async fn refresh(p: &TestPlatform, token: &str) -> pitstop_tests::Reply {
    p.anonymous()
        .send(
            Method::POST,
            "/v1/auth/refresh",
            Some(json!({ "refresh_token": token })),
        )
        .await
}

fn session(r: pitstop_tests::Reply) -> Session {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    serde_json::from_value(r.body).expect("a session")
}

#[tokio::test]
async fn a_new_owner_signs_up_with_a_code_and_the_code_works_once() {
    let p = TestPlatform::start().await;
    let code = code_for(&p, PHONE).await;
    // No account yet and no name: asked for the name, and the code is not used up.
    let d = sign_in(
        &p,
        json!({"address": PHONE, "code": code, "device": "Li's phone"}),
    )
    .await
    .problem(422);
    assert!(d.contains("name"), "{d}");
    let s = session(
        sign_in(
            &p,
            json!({"address": PHONE, "code": code, "device": "Li's phone", "name": "李伟"}),
        )
        .await,
    );
    assert_eq!(s.account.role, Role::Owner);
    assert_eq!(s.account.name, "李伟");
    let me: Account = p.client_for(s.clone()).get("/v1/me").await.unwrap();
    assert_eq!(me.id, s.account.id);
    // Used up.
    sign_in(
        &p,
        json!({"address": PHONE, "code": code, "device": "again"}),
    )
    .await
    .problem(401);
    // The same number typed differently is the same account.
    let code = code_for(&p, "+86-138-0013-8000").await;
    let again = session(
        sign_in(
            &p,
            json!({"address": PHONE_CANON, "code": code, "device": "tablet"}),
        )
        .await,
    );
    assert_eq!(again.account.id, s.account.id);
    // Two people with one name are two accounts.
    let other = "+49 170 1234567";
    let code = code_for(&p, other).await;
    let s2 = session(
        sign_in(
            &p,
            json!({"address": other, "code": code, "device": "d", "name": "李伟"}),
        )
        .await,
    );
    assert_ne!(s2.account.id, s.account.id);
}

#[tokio::test]
async fn wrong_codes_count_down_and_then_the_code_is_gone() {
    let p = TestPlatform::start().await;
    let code = code_for(&p, PHONE).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for left in (1..=4).rev() {
        let d = sign_in(
            &p,
            json!({"address": PHONE, "code": wrong, "device": "d", "name": "x"}),
        )
        .await
        .problem(401);
        assert!(d.contains(&format!("{left} tries left")), "{d}");
    }
    let d = sign_in(
        &p,
        json!({"address": PHONE, "code": wrong, "device": "d", "name": "x"}),
    )
    .await
    .problem(401);
    assert!(d.contains("last try"), "{d}");
    // Even the right code no longer works.
    sign_in(
        &p,
        json!({"address": PHONE, "code": code, "device": "d", "name": "x"}),
    )
    .await
    .problem(401);
}

#[tokio::test]
async fn codes_and_attempts_are_rate_limited_with_retry_after() {
    let p = TestPlatform::start().await;
    let http = reqwest::Client::new();
    let ask = || {
        http.post(format!("{}/v1/auth/code", p.base))
            .json(&json!({ "address": PHONE }))
            .send()
    };
    let mut limited = None;
    for _ in 0..4 {
        let r = ask().await.unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = limited.expect("a burst of codes to one address is limited");
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("wait"), "{body}");

    // Sign-in attempts for one address: a burst, then 429 (wrong passwords never tell
    // whether the address exists).
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let r = sign_in(
            &p,
            json!({"address": "nobody@example.com", "password": "not the password", "device": "d"}),
        )
        .await;
        statuses.push(r.status.as_u16());
    }
    assert!(statuses[..10].iter().all(|s| *s == 401), "{statuses:?}");
    assert_eq!(statuses[11], 429, "{statuses:?}");
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_refresh_token_ends_the_session() {
    let p = TestPlatform::start().await;
    let code = code_for(&p, PHONE).await;
    let s = session(
        sign_in(
            &p,
            json!({"address": PHONE, "code": code, "device": "d", "name": "Ann"}),
        )
        .await,
    );
    let anon = p.anonymous();
    let s2: Session = anon
        .post(
            "/v1/auth/refresh",
            &RefreshRequest {
                refresh_token: s.refresh_token.clone(),
            },
        )
        .await
        .unwrap();
    assert_ne!(s2.token, s.token);
    assert_ne!(s2.refresh_token, s.refresh_token);
    assert_eq!(s2.session_id, s.session_id);
    let fresh = p.client_for(s2.clone());
    fresh.get::<Account>("/v1/me").await.unwrap();
    // The old refresh token again: someone copied it. The session ends for everyone.
    refresh(&p, &s.refresh_token).await.problem(401);
    fresh.send(Method::GET, "/v1/me", None).await.problem(401);
    refresh(&p, &s2.refresh_token).await.problem(401);
}

#[tokio::test]
async fn access_tokens_expire_and_say_to_refresh() {
    let p = TestPlatform::start_with(|c| c.access_ttl = Duration::from_millis(1500)).await;
    let c = p.login("short", Role::Owner, None).await;
    c.get::<Account>("/v1/me").await.unwrap();
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let d = c.send(Method::GET, "/v1/me", None).await.problem(401);
    assert!(d.contains("expired") && d.contains("refresh"), "{d}");
}

#[tokio::test]
async fn a_core_client_renews_its_token_and_keeps_syncing() {
    let p = TestPlatform::start_with(|c| c.access_ttl = Duration::from_secs(2)).await;
    let s: Session = p
        .anonymous()
        .post(
            "/v1/auth/dev-login",
            &DevLogin {
                name: "renewing owner".into(),
                role: Role::Owner,
                workshop_id: None,
                skills: None,
            },
        )
        .await
        .unwrap();
    let renewed = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Session>::new()));
    let seen = renewed.clone();
    let core = pitstop_core::Client::open(pitstop_core::ClientConfig::for_session(
        p.dir.path().join("renew.db"),
        &p.base,
        &s,
        pitstop_core::remote::OnRenew(Some(std::sync::Arc::new(move |s: &Session| {
            seen.lock().unwrap().push(s.clone())
        }))),
    ))
    .unwrap();
    for _ in 0..3 {
        core.sync_now().await.expect("sync with a renewed token");
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    let renewed = renewed.lock().unwrap().clone();
    assert!(!renewed.is_empty(), "the token was renewed");
    assert!(renewed.iter().all(|r| r.session_id == s.session_id));
    // Each renewal spent the previous refresh token: the first one is refused now.
    refresh(&p, &s.refresh_token).await.problem(401);
}

#[tokio::test]
async fn revoking_a_session_or_signing_out_refuses_the_next_request_at_once() {
    let p = TestPlatform::start().await;
    let code = code_for(&p, PHONE).await;
    let phone = p.client_for(session(
        sign_in(
            &p,
            json!({"address": PHONE, "code": code, "device": "phone", "name": "Bo"}),
        )
        .await,
    ));
    let code = code_for(&p, PHONE).await;
    let tablet = p.client_for(session(
        sign_in(
            &p,
            json!({"address": PHONE, "code": code, "device": "tablet"}),
        )
        .await,
    ));
    let list: Vec<SessionInfo> = phone.get("/v1/sessions").await.unwrap();
    assert_eq!(list.len(), 2);
    let tablet_session = list.iter().find(|s| s.device == "tablet").unwrap();
    assert!(!tablet_session.current);
    assert!(list.iter().any(|s| s.device == "phone" && s.current));
    // The phone signs the tablet out; the tablet's very next request is refused.
    let r = phone
        .send(
            Method::DELETE,
            &format!("/v1/sessions/{}", tablet_session.id),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    tablet.send(Method::GET, "/v1/me", None).await.problem(401);
    // Someone else's session reads as missing.
    let stranger = p.login("stranger", Role::Owner, None).await;
    let mine: Vec<SessionInfo> = phone.get("/v1/sessions").await.unwrap();
    stranger
        .send(
            Method::DELETE,
            &format!("/v1/sessions/{}", mine[0].id),
            None,
        )
        .await
        .problem(404);
    // Signing out.
    let r = phone.send(Method::POST, "/v1/auth/sign-out", None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    phone.send(Method::GET, "/v1/me", None).await.problem(401);
}

#[tokio::test]
async fn a_workshop_admin_invites_staff_who_sign_in_and_can_be_signed_out() {
    let p = TestPlatform::start().await;
    let admin = p.admin().await;
    let ws = p.workshop("Invite Motors").await;
    let other_ws = p.workshop("Elsewhere").await;
    // The platform admin invites the workshop's first desk, who administers it.
    let invited: Invited = admin
        .post(
            &format!("/v1/workshops/{ws}/invites"),
            &Invite {
                role: Role::Desk,
                address: "Front.Desk@Invite.example".into(),
                name: "Mei".into(),
                workshop_admin: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(invited.account.workshop_id, Some(ws));
    let desk_s = session(
        sign_in(
            &p,
            json!({"address": "front.desk@invite.example", "code": invited.code, "device": "desk pc"}),
        )
        .await,
    );
    assert!(desk_s.account.workshop_admin);
    let desk = p.client_for(desk_s);
    // The desk sets a password and signs in with it from then on.
    let weak = desk
        .send(
            Method::PUT,
            "/v1/me/password",
            Some(json!({"password": "short"})),
        )
        .await
        .problem(422);
    assert!(weak.contains("10 to 128"), "{weak}");
    let r = desk
        .send(
            Method::PUT,
            "/v1/me/password",
            Some(json!({"password": "correct horse battery"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    sign_in(
        &p,
        json!({"address": "front.desk@invite.example", "password": "wrong horse battery", "device": "x"}),
    )
    .await
    .problem(401);
    let desk = p.client_for(session(
        sign_in(
            &p,
            json!({"address": "front.desk@invite.example", "password": "correct horse battery", "device": "laptop"}),
        )
        .await,
    ));
    // The desk invites a technician by phone; the technician signs in with the code.
    let tech_inv: Invited = desk
        .post(
            &format!("/v1/workshops/{ws}/invites"),
            &Invite {
                role: Role::Technician,
                address: PHONE.into(),
                name: "Master Zhang".into(),
                workshop_admin: false,
            },
        )
        .await
        .unwrap();
    let tech = p.client_for(session(
        sign_in(
            &p,
            json!({"address": PHONE, "code": tech_inv.code, "device": "phone"}),
        )
        .await,
    ));
    assert_eq!(tech.account.as_ref().unwrap().role, Role::Technician);
    // Not into another workshop, and not an owner or admin.
    desk.send(
        Method::POST,
        &format!("/v1/workshops/{other_ws}/invites"),
        Some(json!({"role": "technician", "address": "+4915112345678", "name": "X"})),
    )
    .await
    .problem(404);
    desk.send(
        Method::POST,
        &format!("/v1/workshops/{ws}/invites"),
        Some(json!({"role": "admin", "address": "+4915112345678", "name": "X"})),
    )
    .await
    .problem(422);
    // The desk sees its staff and signs the technician's phone out.
    let staff: Vec<StaffMember> = desk
        .get(&format!("/v1/workshops/{ws}/staff"))
        .await
        .unwrap();
    let zhang = staff
        .iter()
        .find(|m| m.account.name == "Master Zhang")
        .unwrap();
    assert_eq!(zhang.sessions, 1);
    assert!(zhang.address.as_deref().unwrap().contains("•"));
    let sessions: Vec<SessionInfo> = desk
        .get(&format!("/v1/sessions?account_id={}", tech.id()))
        .await
        .unwrap();
    let r = desk
        .send(
            Method::DELETE,
            &format!("/v1/sessions/{}", sessions[0].id),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    tech.send(Method::GET, "/v1/me", None).await.problem(401);
    // A desk that is not an admin cannot see the staff.
    let plain = p.login("plain desk", Role::Desk, Some(ws)).await;
    plain
        .send(Method::GET, &format!("/v1/workshops/{ws}/staff"), None)
        .await
        .problem(404);
    plain
        .send(
            Method::GET,
            &format!("/v1/sessions?account_id={}", tech.id()),
            None,
        )
        .await
        .problem(404);
}

#[tokio::test]
async fn dev_login_refuses_admins_and_never_opens_a_real_account() {
    let p = TestPlatform::start().await;
    let d = p
        .anonymous()
        .send(
            Method::POST,
            "/v1/auth/dev-login",
            Some(json!({"name": "admin", "role": "admin"})),
        )
        .await
        .problem(403);
    assert!(d.contains("pitstop-platform admin"), "{d}");
    // A real (self-registered) owner called "Ann": dev login as owner "Ann" is another account.
    let code = code_for(&p, PHONE).await;
    let real = session(
        sign_in(
            &p,
            json!({"address": PHONE, "code": code, "device": "d", "name": "Ann"}),
        )
        .await,
    );
    let dev = p.login("Ann", Role::Owner, None).await;
    assert_ne!(dev.id(), real.account.id);
    let mine: Vec<Order> = dev.get("/v1/orders").await.unwrap();
    assert!(mine.is_empty());
}

#[tokio::test]
async fn the_event_stream_takes_a_single_use_ticket_never_a_token_in_the_url() {
    let p = TestPlatform::start().await;
    let c = p.login("ticket owner", Role::Owner, None).await;
    let http = reqwest::Client::new();
    let url = |q: &str| format!("{}/v1/events?{q}", p.base);
    let r = http
        .get(url(&format!("access_token={}", c.token.clone().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let t: EventTicket = c.post("/v1/events/ticket", &json!({})).await.unwrap();
    let r = http
        .get(url(&format!("ticket={}", t.ticket)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    drop(r);
    // Used up.
    let r = http
        .get(url(&format!("ticket={}", t.ticket)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // A ticket opens nothing but the event stream.
    let t: EventTicket = c.post("/v1/events/ticket", &json!({})).await.unwrap();
    let r = http
        .get(format!("{}/v1/orders?ticket={}", p.base, t.ticket))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_signed_out_sessions_event_stream_ends() {
    let p = TestPlatform::start().await;
    let c = p.login("stream owner", Role::Owner, None).await;
    let resp = reqwest::Client::new()
        .get(format!("{}/v1/events", p.base))
        .bearer_auth(c.token.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let r = c.send(Method::POST, "/v1/auth/sign-out", None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    // The stream notices within its recheck interval and ends.
    let ended = tokio::time::timeout(Duration::from_secs(25), async {
        use futures::StreamExt;
        let mut body = resp.bytes_stream();
        while let Some(Ok(_)) = body.next().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stream of a signed-out session ended");
}

/// A stand-in for Twilio's Messages API on 127.0.0.1: records what it was asked to send.
async fn fake_twilio() -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>,
) {
    use axum::routing::post;
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = got.clone();
    let app = axum::Router::new().route(
        "/2010-04-01/Accounts/AC123/Messages.json",
        post(
            move |headers: axum::http::HeaderMap,
                  axum::extract::Form(form): axum::extract::Form<
                std::collections::HashMap<String, String>,
            >| {
                let seen = seen.clone();
                async move {
                    // Basic auth with the account SID and the auth token.
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string();
                    let expected = format!("Basic {}", base64_encode(b"AC123:secret-token"));
                    if auth != expected
                        || form.get("From").map(String::as_str) != Some("+15550001111")
                    {
                        return StatusCode::UNAUTHORIZED;
                    }
                    seen.lock().unwrap().push((
                        form.get("To").cloned().unwrap_or_default(),
                        form.get("Body").cloned().unwrap_or_default(),
                    ));
                    StatusCode::CREATED
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, got)
}

fn base64_encode(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &c)| n | (c as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[tokio::test]
async fn codes_go_out_by_sms_through_the_twilio_adapter() {
    let (twilio, got) = fake_twilio().await;
    let p = TestPlatform::start_with(|c| {
        c.sms = Some(pitstop_platform::SmsConfig {
            api_base: twilio.clone(),
            account_sid: "AC123".into(),
            auth_token: "secret-token".into(),
            from: "+15550001111".into(),
        })
    })
    .await;
    let anon = p.anonymous();
    let _: CodeSent = anon
        .post("/v1/auth/code", &json!({ "address": PHONE }))
        .await
        .unwrap();
    let (to, body) = got.lock().unwrap().first().cloned().expect("one SMS");
    assert_eq!(to, PHONE_CANON);
    let code: String = body
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap()
        .to_string();
    assert!(p.platform.dev_code(PHONE_CANON).is_none(), "no dev sink");
    let s = session(
        sign_in(
            &p,
            json!({"address": PHONE, "code": code, "device": "d", "name": "Sms"}),
        )
        .await,
    );
    assert_eq!(s.account.role, Role::Owner);
    // E-mail cannot go by SMS: a plain answer instead of a code that never arrives.
    let d = anon
        .send(
            Method::POST,
            "/v1/auth/code",
            Some(json!({"address": "me@example.com"})),
        )
        .await
        .problem(422);
    assert!(d.contains("SMS"), "{d}");
}

#[tokio::test]
async fn addresses_and_names_follow_the_one_text_rule() {
    let p = TestPlatform::start().await;
    let anon = p.anonymous();
    for bad in ["13800138000", "+1", "not an address", "a@b"] {
        anon.send(
            Method::POST,
            "/v1/auth/code",
            Some(json!({ "address": bad })),
        )
        .await
        .problem(422);
    }
    let code = code_for(&p, PHONE).await;
    for name in ["\u{202E}evil", "\u{200B}\u{200B}", "a\u{0}b"] {
        sign_in(
            &p,
            json!({"address": PHONE, "code": code, "device": "d", "name": name}),
        )
        .await
        .problem(422);
    }
    let long = "x".repeat(81);
    let d = sign_in(
        &p,
        json!({"address": PHONE, "code": code, "device": "d", "name": long}),
    )
    .await
    .problem(422);
    assert!(d.contains("at most 80"), "{d}");
    let _ = Client::clone(&anon);
}
