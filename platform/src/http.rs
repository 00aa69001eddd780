//! The HTTP surface: the axum router, one thin handler per endpoint, and the OpenAPI
//! document generated from the handlers' annotations (served at `/v1/openapi.json`).
//!
//! Handlers only extract, call one domain function inside [`Platform::write`] or
//! [`Platform::read`], and wrap the answer; rules live in the domain modules.

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderValue;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::IntoResponse;
use pitstop_api::services::{self, ServiceType};
use pitstop_api::*;
use serde::Deserialize;
use tower_http::cors::CorsLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::{Json, Path, Query};
use crate::{
    ApiError, ApiResult, Platform, accounts, changes, contact, dispatch, events, geocode, identity,
    location, orders, places, sessions, share, signin, sync, technicians, vehicles,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "Pitstop platform API", description = "Orders, dispatch offers, sync, live events and tracking for car-repair dispatch. Errors are application/problem+json (RFC 9457)."),
    modifiers(&BearerAuth),
    tags(
        (name = "auth"), (name = "orders"), (name = "offers"), (name = "technicians"),
        (name = "vehicles"), (name = "sync"), (name = "location"), (name = "catalogue"),
        (name = "places")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// What the web UI under `/app/` may load and talk to: its own files and its own origin
/// (the API), WebAssembly, map tiles from anywhere; no inline scripts, no framing.
const APP_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data: https: http:; connect-src 'self'; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

/// The whole API as a router, state attached. Tests can drive it without a socket.
pub fn app(platform: Platform) -> Router {
    let (router, mut api) = api_router().split_for_parts();
    // After the routes are in: the error responses derive from each operation's shape.
    crate::contract::Contract.modify(&mut api);
    let limit = platform.config().body_limit;
    let router = match &platform.config().ui_dir {
        // The web UI for share links; the wasm app picks its view from the query string.
        Some(dir) => router.nest_service(
            "/app",
            tower::ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::overriding(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(APP_CSP),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                // A share link's secret is in the page's URL: never pass it on.
                .layer(SetResponseHeaderLayer::overriding(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("no-referrer"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .service(tower_http::services::ServeDir::new(dir)),
        ),
        None => router,
    };
    // Serialised once: the handler hands out the same bytes (a handler that owns the
    // document itself would be copied with the router).
    let spec = axum::body::Bytes::from(serde_json::to_vec(&api).unwrap_or_default());
    let guard_state = (limit, platform.config().limits.body_timeout);
    router
        .route(
            "/v1/openapi.json",
            axum::routing::get(move || {
                let spec = spec.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], spec) }
            }),
        )
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        // `Content-Encoding: gzip` bodies; the limit above applies to the inflated size.
        .layer(RequestDecompressionLayer::new())
        .layer(axum::middleware::from_fn_with_state(guard_state, guard))
        .layer(axum::middleware::from_fn(problems))
        .layer(cors(&platform.config().cors_origins))
        // Spans carry the path, never the query string (the event stream's token may be
        // there) or headers (bearer tokens are).
        .layer(TraceLayer::new_for_http().make_span_with(
            |req: &axum::extract::Request| {
                tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())
            },
        ))
        .with_state(platform)
}

/// The documented routes.
fn api_router() -> OpenApiRouter<Platform> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(dev_login))
        .routes(routes!(request_code))
        .routes(routes!(sign_in))
        .routes(routes!(refresh))
        .routes(routes!(sign_out))
        .routes(routes!(list_sessions))
        .routes(routes!(revoke_session))
        .routes(routes!(set_password))
        .routes(routes!(invite))
        .routes(routes!(staff))
        .routes(routes!(event_ticket))
        .routes(routes!(me))
        .routes(routes!(list_services))
        .routes(routes!(list_workshops, create_workshop))
        .routes(routes!(list_technicians))
        .routes(routes!(my_profile, set_profile))
        .routes(routes!(set_shift))
        .routes(routes!(list_vehicles, create_vehicle))
        .routes(routes!(list_orders, create_order))
        .routes(routes!(get_order))
        .routes(routes!(order_lines))
        .routes(routes!(step_order))
        .routes(routes!(add_note))
        .routes(routes!(add_part))
        .routes(routes!(dispatch_order))
        .routes(routes!(tracking))
        .routes(routes!(share_order, revoke_shares))
        .routes(routes!(shared_tracking))
        .routes(routes!(public_config))
        .routes(routes!(list_offers))
        .routes(routes!(accept_offer))
        .routes(routes!(decline_offer))
        .routes(routes!(pull, push))
        .routes(routes!(event_stream))
        .routes(routes!(upload_locations))
        .routes(routes!(upload_compact_locations))
        .routes(routes!(stream_locations))
        .routes(routes!(geocode_search))
        .routes(routes!(geocode_reverse))
        .routes(routes!(list_places, create_place))
        .routes(routes!(delete_place))
        .routes(routes!(contact_customer))
        .routes(routes!(relay_connect))
        .routes(routes!(set_payout))
        .routes(routes!(earnings))
}

/// Sets the share of the price a workshop's technicians earn (its admin desk, or admin).
#[utoipa::path(put, path = "/v1/workshops/{id}/payout", tag = "catalogue", security(("bearer" = [])),
    params(("id" = Id, Path)), request_body = PayoutRule,
    responses((status = 200, body = Workshop), (status = 404), (status = 422)))]
async fn set_payout(
    State(p): State<Platform>,
    caller: Caller,
    Path(id): Path<Id>,
    Json(req): Json<PayoutRule>,
) -> ApiResult<Json<Workshop>> {
    p.write(|tx| accounts::set_payout(tx, &caller, id, &req))
        .map(Json)
}

#[derive(Debug, Deserialize, IntoParams)]
struct EarningsQuery {
    /// The technician's time zone, minutes east of UTC (default 0).
    utc_offset_min: Option<i64>,
}

/// What the technician earned today and this week (completed jobs, their payout).
#[utoipa::path(get, path = "/v1/technicians/me/earnings", tag = "technicians", security(("bearer" = [])),
    params(EarningsQuery), responses((status = 200, body = Earnings), (status = 403), (status = 422)))]
async fn earnings(
    State(p): State<Platform>,
    caller: Caller,
    Query(q): Query<EarningsQuery>,
) -> ApiResult<Json<Earnings>> {
    p.read(|c| technicians::earnings(c, p.config(), &caller, q.utc_offset_min.unwrap_or(0)))
        .map(Json)
}

/// Before a handler reads a body: a declared length over the limit is refused at once
/// (nothing of it is read), and a body that stalls is cut off. The fix stream keeps its
/// own, longer, silence limit.
async fn guard(
    State((limit, body_timeout)): State<(usize, std::time::Duration)>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = declared
        && n > limit as u64
    {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "The request body is {n} bytes; this server takes at most {} KiB. Send less \
                 (split a batch) and try again.",
                limit / 1024
            ),
        )
        .into_response();
    }
    let req = if req.uri().path() == "/v1/locations/stream" {
        req
    } else {
        req.map(|b| axum::body::Body::new(tower_http::timeout::TimeoutBody::new(body_timeout, b)))
    };
    next.run(req).await
}

/// Cross-origin calls only from the configured origins. None by default: the apps call
/// from native code or from `/app/` on this same origin, and a browser page elsewhere
/// has no business calling the API with its user's token.
fn cors(origins: &[String]) -> CorsLayer {
    let allowed: Vec<axum::http::HeaderValue> =
        origins.iter().filter_map(|o| o.parse().ok()).collect();
    if allowed.is_empty() {
        return CorsLayer::new();
    }
    CorsLayer::new()
        .allow_origin(allowed)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::CONTENT_ENCODING,
            axum::http::HeaderName::from_static("last-event-id"),
        ])
        .max_age(std::time::Duration::from_secs(600))
}

/// Errors made outside the handlers (the static UI's 404, a refused `Content-Encoding`, a
/// body that stopped arriving) come back as plain or empty bodies: they become problem
/// documents like every other error, keeping a short plain-text reason as the detail.
async fn problems(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let kind = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if !(kind.is_empty() || kind.starts_with("text/plain")) {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 1024).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_string();
    let detail = match status {
        StatusCode::NOT_FOUND => format!("There is nothing at {path}."),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "This server takes request bodies plain or \
            gzip-compressed (`Content-Encoding: gzip`) and as `application/json` unless the \
            endpoint says otherwise."
            .to_string(),
        _ if !text.is_empty() => text,
        _ => format!(
            "{}.",
            status.canonical_reason().unwrap_or("The request failed")
        ),
    };
    let mut out = ApiError::new(status, detail).into_response();
    // Keep what the original said about the connection or the allowed methods.
    for name in [header::ALLOW, header::RETRY_AFTER, header::CONNECTION] {
        if let Some(v) = parts.headers.get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("There is no endpoint {method} {}.", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{} does not accept {method}.", uri.path()),
    )
}

/// A list's `limit`: `default` when absent, refused outside 1..=1000 (as documented).
fn page_limit(limit: Option<u32>, default: u32) -> ApiResult<u32> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=1000).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::invalid(format!(
            "`limit` is between 1 and 1000; {n} is not."
        ))),
    }
}

fn created<T: serde::Serialize>(v: T) -> impl IntoResponse {
    (StatusCode::CREATED, Json(v))
}

/// Sign in by name and role (demo and development servers only). Opens only accounts dev
/// login made: never an admin, an invited or a self-registered account.
#[utoipa::path(post, path = "/v1/auth/dev-login", tag = "auth", request_body = DevLogin,
    responses((status = 200, body = Session), (status = 403, description = "an admin was asked for"),
        (status = 404, description = "dev login is off"), (status = 409), (status = 422)))]
async fn dev_login(
    State(p): State<Platform>,
    Json(req): Json<DevLogin>,
) -> ApiResult<Json<Session>> {
    if !p.config().dev_login {
        return Err(ApiError::not_found(
            "Dev login is disabled on this server (start it with --dev-login or --demo).",
        ));
    }
    let life = p.lifetimes();
    p.write(|tx| signin::dev_login(tx, &req, life)).map(Json)
}

/// The client's address as the server saw it (for per-client rate limits). Behind a proxy
/// this is the proxy; see docs/protocol.md.
#[derive(Debug)]
struct Peer(String);

impl axum::extract::FromRequestParts<Platform> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &Platform,
    ) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_else(|| "local".into()),
        ))
    }
}

/// Send a one-time sign-in code to a mobile number or e-mail address. Answers the same
/// whether or not an account has the address.
#[utoipa::path(post, path = "/v1/auth/code", tag = "auth", request_body = CodeRequest,
    responses((status = 200, body = CodeSent), (status = 422), (status = 429, description = "too many codes; see Retry-After"),
        (status = 502, description = "the code could not be delivered")))]
async fn request_code(
    State(p): State<Platform>,
    peer: Peer,
    Json(req): Json<CodeRequest>,
) -> ApiResult<Json<CodeSent>> {
    identity::request_code(&p, &peer.0, &req).await.map(Json)
}

/// Sign in with a code (an unknown address becomes a new car-owner account: give `name`) or
/// with a password. Starts a session for this device.
#[utoipa::path(post, path = "/v1/auth/sign-in", tag = "auth", request_body = SignIn,
    responses((status = 200, body = Session), (status = 401, description = "wrong or expired code, or wrong password"),
        (status = 422), (status = 429, description = "too many attempts; see Retry-After")))]
async fn sign_in(
    State(p): State<Platform>,
    peer: Peer,
    Json(req): Json<SignIn>,
) -> ApiResult<Json<Session>> {
    identity::sign_in(&p, &peer.0, &req).await.map(Json)
}

/// Trade a refresh token for a new access token and a new refresh token (the old one stops
/// working; presenting it again signs the session out).
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = Session), (status = 401, description = "the session has ended")))]
async fn refresh(
    State(p): State<Platform>,
    Json(req): Json<RefreshRequest>,
) -> ApiResult<Json<Session>> {
    let life = p.lifetimes();
    p.write(|tx| sessions::refresh(tx, &req.refresh_token, life))?
        .map(Json)
}

/// Sign this device out: its tokens stop working at once.
#[utoipa::path(post, path = "/v1/auth/sign-out", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401)))]
async fn sign_out(State(p): State<Platform>, caller: Caller) -> ApiResult<StatusCode> {
    p.write(|tx| sessions::sign_out(tx, &caller))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
struct SessionsQuery {
    /// Another account's sessions (a workshop admin: its staff; a platform admin: anyone).
    account_id: Option<Id>,
}

/// Signed-in devices of the caller (or of a staff member, for a workshop admin).
#[utoipa::path(get, path = "/v1/sessions", tag = "auth", security(("bearer" = [])), params(SessionsQuery),
    responses((status = 200, body = [SessionInfo]), (status = 401), (status = 404)))]
async fn list_sessions(
    State(p): State<Platform>,
    caller: Caller,
    Query(q): Query<SessionsQuery>,
) -> ApiResult<Json<Vec<SessionInfo>>> {
    p.read(|c| sessions::list(c, &caller, q.account_id))
        .map(Json)
}

/// Sign a device out (one's own, or a staff member's for a workshop admin).
#[utoipa::path(delete, path = "/v1/sessions/{id}", tag = "auth", security(("bearer" = [])), params(("id" = Id, Path)),
    responses((status = 204), (status = 401), (status = 404)))]
async fn revoke_session(
    State(p): State<Platform>,
    caller: Caller,
    Path(id): Path<Id>,
) -> ApiResult<StatusCode> {
    p.write(|tx| sessions::revoke(tx, &caller, id))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set or change the password (10 to 128 characters); other sessions are signed out.
#[utoipa::path(put, path = "/v1/me/password", tag = "auth", security(("bearer" = [])), request_body = NewPassword,
    responses((status = 204), (status = 401, description = "the current password is wrong"), (status = 422)))]
async fn set_password(
    State(p): State<Platform>,
    caller: Caller,
    Json(req): Json<NewPassword>,
) -> ApiResult<StatusCode> {
    identity::set_password(&p, &caller, &req).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Invite a desk or technician into a workshop (its admin, or a platform admin). The answer
/// holds the first sign-in code; hand it over.
#[utoipa::path(post, path = "/v1/workshops/{id}/invites", tag = "auth", security(("bearer" = [])), params(("id" = Id, Path)),
    request_body = Invite, responses((status = 201, body = Invited), (status = 404), (status = 409), (status = 422)))]
async fn invite(
    State(p): State<Platform>,
    caller: Caller,
    Path(id): Path<Id>,
    Json(req): Json<Invite>,
) -> ApiResult<impl IntoResponse> {
    identity::invite(&p, &caller, id, &req).await.map(created)
}

/// A workshop's staff with their sign-in state (its admin, or a platform admin).
#[utoipa::path(get, path = "/v1/workshops/{id}/staff", tag = "auth", security(("bearer" = [])), params(("id" = Id, Path)),
    responses((status = 200, body = [StaffMember]), (status = 404)))]
async fn staff(
    State(p): State<Platform>,
    caller: Caller,
    Path(id): Path<Id>,
) -> ApiResult<Json<Vec<StaffMember>>> {
    p.read(|c| accounts::staff(c, &caller, id)).map(Json)
}

/// The signed-in account.
#[utoipa::path(get, path = "/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Account), (status = 401)))]
async fn me(caller: Caller) -> Json<Account> {
    Json(caller.account())
}

/// The service catalogue with up-front prices.
#[utoipa::path(get, path = "/v1/services", tag = "catalogue", responses((status = 200, body = [ServiceType])))]
async fn list_services() -> Json<Vec<ServiceType>> {
    Json(services::catalogue())
}

/// Every workshop.
#[utoipa::path(get, path = "/v1/workshops", tag = "catalogue", responses((status = 200, body = [Workshop])))]
async fn list_workshops(State(p): State<Platform>) -> ApiResult<Json<Vec<Workshop>>> {
    p.read(accounts::workshops).map(Json)
}

/// Create a workshop (admin).
#[utoipa::path(post, path = "/v1/workshops", tag = "catalogue", security(("bearer" = [])), request_body = NewWorkshop,
    responses((status = 201, body = Workshop), (status = 403), (status = 422)))]
async fn create_workshop(
    State(p): State<Platform>,
    caller: Caller,
    Json(req): Json<NewWorkshop>,
) -> ApiResult<impl IntoResponse> {
    p.write(|tx| accounts::create_workshop(tx, p.config(), &caller, &req))
        .map(created)
}

/// Technicians of the desk's workshop (all, for admins), with positions for the map.
#[utoipa::path(get, path = "/v1/technicians", tag = "technicians", security(("bearer" = [])),
    responses((status = 200, body = [Technician]), (status = 403)))]
async fn list_technicians(
    State(p): State<Platform>,
    caller: Caller,
) -> ApiResult<Json<Vec<Technician>>> {
    p.read(|c| technicians::list(c, &caller)).map(Json)
}

/// The signed-in technician's profile.
#[utoipa::path(get, path = "/v1/technicians/me", tag = "technicians", security(("bearer" = [])),
    responses((status = 200, body = Technician), (status = 403)))]
async fn my_profile(State(p): State<Platform>, caller: Caller) -> ApiResult<Json<Technician>> {
    p.read(|c| technicians::me(c, &caller)).map(Json)
}

/// Set skills and brand certifications.
#[utoipa::path(put, path = "/v1/technicians/me", tag = "technicians", security(("bearer" = [])), request_body = TechnicianProfile,
    responses((status = 200, body = Technician), (status = 422)))]
async fn set_profile(
    State(p): State<Platform>,
    caller: Caller,
    Json(req): Json<TechnicianProfile>,
) -> ApiResult<Json<Technician>> {
    p.write(|tx| technicians::set_profile(tx, &caller, &req))
        .map(Json)
}

/// Go on or off shift.
#[utoipa::path(post, path = "/v1/technicians/me/shift", tag = "technicians", security(("bearer" = [])), request_body = ShiftChange,
    responses((status = 200, body = Technician), (status = 422)))]
async fn set_shift(
    State(p): State<Platform>,
    caller: Caller,
    Json(req): Json<ShiftChange>,
) -> ApiResult<Json<Technician>> {
    p.write(|tx| technicians::set_shift(tx, p.config(), &caller, &req))
        .map(Json)
}

/// The caller's vehicles.
#[utoipa::path(get, path = "/v1/vehicles", tag = "vehicles", security(("bearer" = [])), responses((status = 200, body = [Vehicle])))]
async fn list_vehicles(State(p): State<Platform>, caller: Caller) -> ApiResult<Json<Vec<Vehicle>>> {
    p.read(|c| vehicles::list(c, &caller)).map(Json)
}

/// Register a vehicle (VIN checked).
#[utoipa::path(post, path = "/v1/vehicles", tag = "vehicles", security(("bearer" = [])), request_body = NewVehicle,
    responses((status = 201, body = Vehicle), (status = 422, description = "bad VIN or fields")))]
async fn create_vehicle(
    State(p): State<Platform>,
    caller: Caller,
    Json(req): Json<NewVehicle>,
) -> ApiResult<impl IntoResponse> {
    p.write(|tx| vehicles::create(tx, &caller, &req))
        .map(created)
}

#[derive(Debug, Deserialize, IntoParams)]
struct OrderQuery {
    /// Only orders in this status.
    status: Option<OrderStatus>,
    /// At most this many (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// The caller's orders, newest first.
#[utoipa::path(get, path = "/v1/orders", tag = "orders", security(("bearer" = [])), params(OrderQuery),
    responses((status = 200, body = [Order])))]
async fn list_orders(
    State(p): State<Platform>,
    caller: Caller,
    Query(q): Query<OrderQuery>,
) -> ApiResult<Json<Vec<Order>>> {
    let limit = page_limit(q.limit, 100)?;
    p.read(|c| orders::list(c, &caller, q.status, limit))
        .map(Json)
}

/// Book an order; dispatch starts at once.
#[utoipa::path(post, path = "/v1/orders", tag = "orders", security(("bearer" = [])), request_body = NewOrder,
    responses((status = 201, body = Order), (status = 404, description = "vehicle not yours"), (status = 422)))]
async fn create_order(
    State(p): State<Platform>,
    caller: Caller,
    Json(req): Json<NewOrder>,
) -> ApiResult<impl IntoResponse> {
    p.write(|tx| orders::create(tx, p.config(), &caller, &req))
        .map(created)
}

/// One order with its timeline and its newest 200 notes and parts lines (`line_counts` has
/// the totals; `/v1/orders/{id}/lines` pages back).
#[utoipa::path(get, path = "/v1/orders/{id}", tag = "orders", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Order), (status = 404)))]
async fn get_order(
    State(p): State<Platform>,
    caller: Caller,
    Path(id): Path<Id>,
) -> ApiResult<Json<Order>> {
    p.read(|c| orders::get(c, &caller, id)).map(Json)
}

#[derive(Debug, Deserialize, IntoParams)]
struct LinesQuery {
    /// `note`, `part` or `step`.
    #[param(pattern = "^(note|part|step)$")]
    kind: String,
    /// Lines with ids below this (the oldest one you have); all when absent.
    before: Option<Id>,
    /// At most this many (default 200, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// Page back through an order's job sheet: `GET /v1/orders/{id}` carries the newest 200
/// notes and parts lines (`line_counts` has the totals); this returns older ones, oldest first.
#[utoipa::path(get, path = "/v1/orders/{id}/lines", tag = "orders", security(("bearer" = [])), params(("id" = i64, Path), LinesQuery),
    responses((status = 200, body = Vec<JobLine>), (status = 404), (status = 422)))]
async fn order_lines(
    State(p): State<Platform>,
    caller: Caller,
    Path(id): Path<Id>,
    Query(q): Query<LinesQuery>,
) -> ApiResult<Json<Vec<JobLine>>> {
    let limit = page_limit(q.limit, 200)?;
    p.read(|c| orders::older_lines(c, &caller, id, &q.kind, q.before, limit))
        .map(Json)
}

/// Move a job to its next status, or cancel an order.
#[utoipa::path(post, path = "/v1/orders/{id}/status", tag = "orders", security(("bearer" = [])), params(("id" = i64, Path)), request_body = StatusChange,
    responses((status = 200, body = Order), (status = 403), (status = 404), (status = 409, description = "illegal step")))]
async fn step_order(
    State(p): State<Platform>,
    caller: Caller,
    Path(id): Path<Id>,
    Json(req): Json<StatusChange>,
) -> ApiResult<Json<Order>> {
    p.write(|tx| orders::step(tx, &caller, id, req.status, req.note.as_deref()))?;
    p.read(|c| orders::get(c, &caller, id)).map(Json)
}

/// Add a note to the job sheet; answers the new line.
#[utoipa::path(post, path = "/v1/orders/{id}/notes", tag = "orders", security(("bearer" = [])), params(("id" = i64, Path)), request_body = NewNote,
    responses((status = 200, body = JobLine), (status = 422, description = "empty or too long, or the job sheet is full")))]
async fn add_note(
    State(p): State<Platform>,
    caller: Caller,
    Path(id): Path<Id>,
    Json(req): Json<NewNote>,
) -> ApiResult<Json<JobLine>> {
    p.write(|tx| orders::add_note(tx, &caller, id, &req.text))
        .map(Json)
}

/// Add a parts line to the job sheet; answers the new line.
#[utoipa::path(post, path = "/v1/orders/{id}/parts", tag = "orders", security(("bearer" = [])), params(("id" = i64, Path)), request_body = NewPart,
    responses((status = 200, body = JobLine), (status = 422, description = "invalid values, or the job sheet is full")))]
async fn add_part(
    State(p): State<Platform>,
    caller: Caller,
    Path(id): Path<Id>,
    Json(req): Json<NewPart>,
) -> ApiResult<Json<JobLine>> {
    p.write(|tx| orders::add_part(tx, &caller, id, &req.name, req.qty, req.unit_price_cents))
        .map(Json)
}

/// Assign by hand (with `technician_id`) or start a new automatic round (without).
#[utoipa::path(post, path = "/v1/orders/{id}/dispatch", tag = "orders", security(("bearer" = [])), params(("id" = i64, Path)), request_body = DispatchRequest,
    responses((status = 200, body = Order), (status = 409)))]
async fn dispatch_order(
    State(p): State<Platform>,
    caller: Caller,
    Path(id): Path<Id>,
    Json(req): Json<DispatchRequest>,
) -> ApiResult<Json<Order>> {
    p.write(|tx| match req.technician_id {
        Some(t) => dispatch::assign_by_hand(tx, &caller, id, t),
        None => dispatch::redispatch(tx, p.config(), &caller, id),
    })?;
    p.read(|c| orders::get(c, &caller, id)).map(Json)
}

/// Where the assigned technician is, and the ETA.
#[utoipa::path(get, path = "/v1/orders/{id}/tracking", tag = "location", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Tracking), (status = 404)))]
async fn tracking(
    State(p): State<Platform>,
    caller: Caller,
    Path(id): Path<Id>,
) -> ApiResult<Json<Tracking>> {
    p.read(|c| location::tracking(c, &caller, id)).map(Json)
}

/// Creates a browser link that shows the order's live tracking without signing in (24 h).
#[utoipa::path(post, path = "/v1/orders/{id}/share", tag = "location", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 201, body = ShareLink), (status = 403), (status = 404)))]
async fn share_order(
    State(p): State<Platform>,
    caller: Caller,
    Path(id): Path<Id>,
) -> ApiResult<(StatusCode, Json<ShareLink>)> {
    p.write(|tx| share::create(tx, &caller, id))
        .map(|l| (StatusCode::CREATED, Json(l)))
}

/// Turn off every tracking link of an order (the owner or the desk).
#[utoipa::path(delete, path = "/v1/orders/{id}/share", tag = "location", security(("bearer" = [])), params(("id" = Id, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404)))]
async fn revoke_shares(
    State(p): State<Platform>,
    caller: Caller,
    Path(id): Path<Id>,
) -> ApiResult<StatusCode> {
    p.write(|tx| share::revoke(tx, &caller, id))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Tracking for the holder of a share link (no sign-in).
#[utoipa::path(get, path = "/v1/track/{token}", tag = "location", params(("token" = String, Path)),
    responses((status = 200, body = Tracking), (status = 404), (status = 410, description = "the job has ended")))]
async fn shared_tracking(
    State(p): State<Platform>,
    Path(token): Path<String>,
) -> ApiResult<Json<Tracking>> {
    p.read(|c| share::tracking(c, &token)).map(Json)
}

/// Settings every client needs before signing in (map tiles, dev login).
#[utoipa::path(get, path = "/v1/config", tag = "catalogue", responses((status = 200, body = PublicConfig)))]
async fn public_config(State(p): State<Platform>) -> Json<PublicConfig> {
    Json(PublicConfig {
        tile_url: p.config().tile_url.clone(),
        dev_login: p.config().dev_login,
        geocoding: p.geocoding().available(),
        contact_relay: p.config().relay.is_some(),
        currency: p.config().currency.clone(),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
struct GeocodeQuery {
    /// What the person typed: street and number, city.
    q: String,
}

/// Address search (the platform's geocoder; 503 when none is set up).
#[utoipa::path(get, path = "/v1/geocode", tag = "places", security(("bearer" = [])), params(GeocodeQuery),
    responses((status = 200, body = [GeoPlace]), (status = 422), (status = 429), (status = 502), (status = 503)))]
async fn geocode_search(
    State(p): State<Platform>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<GeocodeQuery>,
) -> ApiResult<Json<Vec<GeoPlace>>> {
    let lang = geocode::language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    p.geocoding().search(caller.id, &q.q, &lang).await.map(Json)
}

#[derive(Debug, Deserialize, IntoParams)]
struct ReverseQuery {
    lat: f64,
    lon: f64,
}

/// The address at a pin (404 when nothing is known there).
#[utoipa::path(get, path = "/v1/geocode/reverse", tag = "places", security(("bearer" = [])), params(ReverseQuery),
    responses((status = 200, body = GeoPlace), (status = 404), (status = 422), (status = 429), (status = 502), (status = 503)))]
async fn geocode_reverse(
    State(p): State<Platform>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<ReverseQuery>,
) -> ApiResult<Json<GeoPlace>> {
    let lang = geocode::language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    p.geocoding()
        .reverse(caller.id, q.lat, q.lon, &lang)
        .await
        .map(Json)
}

/// The caller's saved places.
#[utoipa::path(get, path = "/v1/places", tag = "places", security(("bearer" = [])),
    responses((status = 200, body = [SavedPlace])))]
async fn list_places(
    State(p): State<Platform>,
    caller: Caller,
) -> ApiResult<Json<Vec<SavedPlace>>> {
    p.read(|c| places::list(c, &caller)).map(Json)
}

/// Save a place (at most 20 per account).
#[utoipa::path(post, path = "/v1/places", tag = "places", security(("bearer" = [])), request_body = NewPlace,
    responses((status = 201, body = SavedPlace), (status = 422)))]
async fn create_place(
    State(p): State<Platform>,
    caller: Caller,
    Json(req): Json<NewPlace>,
) -> ApiResult<(StatusCode, Json<SavedPlace>)> {
    p.write(|tx| places::create(tx, &caller, &req))
        .map(|v| (StatusCode::CREATED, Json(v)))
}

/// Delete one of the caller's places.
#[utoipa::path(delete, path = "/v1/places/{id}", tag = "places", security(("bearer" = [])), params(("id" = Id, Path)),
    responses((status = 204), (status = 404)))]
async fn delete_place(
    State(p): State<Platform>,
    caller: Caller,
    Path(id): Path<Id>,
) -> ApiResult<StatusCode> {
    p.write(|tx| places::delete(tx, &caller, id))?;
    Ok(StatusCode::NO_CONTENT)
}

/// The assigned technician's (while the job runs) or the workshop desk's (until the order
/// ends) masked way to call or text the customer.
#[utoipa::path(post, path = "/v1/orders/{id}/contact", tag = "orders", security(("bearer" = [])), params(("id" = Id, Path)),
    responses((status = 200, body = ContactRelay), (status = 403), (status = 404), (status = 409), (status = 410), (status = 503)))]
async fn contact_customer(
    State(p): State<Platform>,
    caller: Caller,
    Path(id): Path<Id>,
) -> ApiResult<Json<ContactRelay>> {
    let relay = p.config().relay.clone();
    p.write(|tx| contact::open(tx, relay.as_ref(), &caller, id))
        .map(Json)
}

/// For the telephony provider (bearer: the relay secret): where to put a call or text with
/// this PIN through. Works only while the job runs.
#[utoipa::path(post, path = "/v1/relay/connect", tag = "orders", request_body = RelayConnect,
    responses((status = 200, body = RelayTarget), (status = 401), (status = 403), (status = 404), (status = 410)))]
async fn relay_connect(
    State(p): State<Platform>,
    headers: HeaderMap,
    Json(req): Json<RelayConnect>,
) -> ApiResult<Json<RelayTarget>> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !contact::is_relay(p.config().relay.as_ref(), token) {
        return Err(ApiError::unauthorized(
            "Only the telephony relay may call this.",
        ));
    }
    p.read(|c| contact::connect(c, &req)).map(Json)
}

/// The technician's open offers.
#[utoipa::path(get, path = "/v1/offers", tag = "offers", security(("bearer" = [])), responses((status = 200, body = [Offer])))]
async fn list_offers(State(p): State<Platform>, caller: Caller) -> ApiResult<Json<Vec<Offer>>> {
    p.read(|c| dispatch::pending_for(c, &caller)).map(Json)
}

/// Accept an offer; the first accept wins the order.
#[utoipa::path(post, path = "/v1/offers/{id}/accept", tag = "offers", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Order), (status = 409, description = "expired, lost or declined")))]
async fn accept_offer(
    State(p): State<Platform>,
    caller: Caller,
    Path(id): Path<Id>,
) -> ApiResult<Json<Order>> {
    let order = p.write(|tx| dispatch::accept(tx, &caller, id))?;
    p.read(|c| orders::get(c, &caller, order.id)).map(Json)
}

/// Decline an offer; the order moves to the next candidate.
#[utoipa::path(post, path = "/v1/offers/{id}/decline", tag = "offers", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Offer), (status = 409)))]
async fn decline_offer(
    State(p): State<Platform>,
    caller: Caller,
    Path(id): Path<Id>,
) -> ApiResult<Json<Offer>> {
    p.write(|tx| dispatch::decline(tx, p.config(), &caller, id))
        .map(Json)
}

#[derive(Debug, Deserialize, IntoParams)]
struct PullQuery {
    /// The highest cursor already seen (0 for everything).
    #[serde(default)]
    #[param(minimum = 0)]
    cursor: i64,
    /// Page size (default 500, at most 5000; pages also stop at 1 MiB).
    #[param(minimum = 1, maximum = 5000)]
    limit: Option<u32>,
}

/// The caller's changes after a cursor.
#[utoipa::path(get, path = "/v1/sync", tag = "sync", security(("bearer" = [])), params(PullQuery),
    responses((status = 200, body = SyncPage), (status = 410, description = "the cursor cannot be continued (pruned past, or not issued here): sync again from 0"), (status = 422, description = "limit out of 1..5000")))]
async fn pull(
    State(p): State<Platform>,
    caller: Caller,
    Query(q): Query<PullQuery>,
) -> ApiResult<impl IntoResponse> {
    let body = sync::pull(&p, &caller, q.cursor, q.limit.unwrap_or(500))?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    ))
}

/// Apply queued mutations, each exactly once.
#[utoipa::path(post, path = "/v1/sync", tag = "sync", security(("bearer" = [])), request_body = PushRequest,
    responses((status = 200, body = PushResponse), (status = 422)))]
async fn push(
    State(p): State<Platform>,
    caller: Caller,
    Json(req): Json<PushRequest>,
) -> ApiResult<Json<PushResponse>> {
    sync::push(&p, &caller, &req).map(Json)
}

#[derive(Debug, Deserialize, IntoParams)]
struct EventQuery {
    /// Resume after this cursor (the `Last-Event-ID` header wins when both are given).
    #[param(minimum = 0)]
    cursor: Option<i64>,
    /// For browsers' EventSource, which cannot send headers: a single-use ticket from
    /// `POST /v1/events/ticket` (never the bearer token).
    #[allow(dead_code)]
    ticket: Option<String>,
}

/// A single-use ticket to open the event stream from a browser's `EventSource`.
#[utoipa::path(post, path = "/v1/events/ticket", tag = "sync", security(("bearer" = [])),
    responses((status = 200, body = EventTicket), (status = 401)))]
async fn event_ticket(State(p): State<Platform>, caller: Caller) -> ApiResult<Json<EventTicket>> {
    p.write(|tx| sessions::ticket(tx, &caller)).map(Json)
}

/// Server-Sent Events: `id` is the change cursor, `event` the kind, `data` a `Change`.
#[utoipa::path(get, path = "/v1/events", tag = "sync", security(("bearer" = [])), params(EventQuery),
    responses((status = 200, content_type = "text/event-stream", description = "stream of Change"), (status = 429, description = "the account has all the event streams it may open")))]
async fn event_stream(
    State(p): State<Platform>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<EventQuery>,
) -> ApiResult<impl IntoResponse> {
    let last = match headers.get("last-event-id") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .filter(|c| *c >= 0)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "`Last-Event-ID` must be a change cursor (a non-negative integer).",
                    )
                })?,
        ),
        None => q.cursor,
    };
    if let Some(c) = last {
        p.read(|conn| changes::check_cursor(conn, c))?;
    }
    let slot = events::StreamSlot::take(&p, caller.id)?;
    Ok(events::stream(p, caller, last, slot))
}

/// Upload a batch of GPS fixes (idempotent by device and seq).
#[utoipa::path(post, path = "/v1/locations", tag = "location", security(("bearer" = [])), request_body = LocationBatch,
    responses((status = 200, body = LocationAck), (status = 422, description = "a fix is out of range")))]
async fn upload_locations(
    State(p): State<Platform>,
    caller: Caller,
    Json(req): Json<LocationBatch>,
) -> ApiResult<Json<LocationAck>> {
    p.write(|tx| location::ingest(tx, &caller, &req)).map(Json)
}

/// Stream GPS fixes as they are measured: one long request body in the fix-stream encoding
/// (`pitstop_api::fixcodec::StreamEncoder`), each fix stored (and shown to the owner) as
/// soon as its bytes arrive; the answer, when the client ends the body, counts them. Same
/// validation as `/v1/locations`; a bad fix ends the stream with 422 (earlier fixes stay).
#[utoipa::path(post, path = "/v1/locations/stream", tag = "location", security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "application/vnd.pitstop.fix-stream.v1"),
    responses((status = 200, body = LocationAck), (status = 408, description = "silent for 90 s, or open for 10 min"),
        (status = 415), (status = 422, description = "malformed stream or a fix out of range")))]
async fn stream_locations(
    State(p): State<Platform>,
    caller: Caller,
    headers: HeaderMap,
    body: axum::body::Body,
) -> ApiResult<Json<LocationAck>> {
    caller.require(&[Role::Technician], "upload locations")?;
    let ct = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct != pitstop_api::fixcodec::STREAM_CONTENT_TYPE {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "Send the stream as `{}`.",
                pitstop_api::fixcodec::STREAM_CONTENT_TYPE
            ),
        ));
    }
    location::ingest_stream(&p, &caller, body.into_data_stream())
        .await
        .map(Json)
}

/// Upload a batch of GPS fixes in the compact binary encoding (`pitstop_api::fixcodec`),
/// usually gzipped (`Content-Encoding: gzip`). Same rules and answer as `/v1/locations`.
#[utoipa::path(post, path = "/v1/locations/compact", tag = "location", security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "application/vnd.pitstop.fixes.v1"),
    responses((status = 200, body = LocationAck), (status = 422, description = "malformed batch or a fix out of range")))]
async fn upload_compact_locations(
    State(p): State<Platform>,
    caller: Caller,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Json<LocationAck>> {
    let body = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(r.status(), "The request body is too large.")
        } else {
            ApiError::bad_request(format!("The body could not be read: {}", r.body_text()))
        }
    })?;
    let batch = pitstop_api::fixcodec::decode(&body, MAX_FIXES_PER_BATCH)
        .map_err(|e| ApiError::invalid(format!("The compact fix batch is malformed: {e}.")))?;
    p.write(|tx| location::ingest(tx, &caller, &batch))
        .map(Json)
}
