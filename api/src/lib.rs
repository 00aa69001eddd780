//! Wire types shared by every side of Pitstop: the platform server, `pitstop-core` and the UI.
//!
//! # Layout
//! - [`device`]: the offer inbox and sync badge a device shows (computed by `pitstop-core`).
//! - [`fixcodec`]: the compact binary encoding of GPS fix batches.
//! - [`geo`]: distances and the ETA rule, so client and server agree on numbers.
//! - [`vin`]: VIN validation (length, alphabet, North American check digit).
//! - [`status`]: the order state machine, checked on both sides of the wire.
//! - [`services`]: the service catalogue with transparent prices.
//! - [`text`]: the one rule for typed text (lengths, control and bidi characters).
//! - [`address`]: sign-in addresses (mobile number or e-mail) in canonical form.
//! - [`money`]: prices as people type them, in cents.
//! - the rest of this file: request and response bodies of the `/v1` API.
//!
//! Architecture invariant: this crate depends on serde (and, behind the `openapi` feature,
//! utoipa) only, so it compiles to wasm32 for the UI. No I/O, no clocks, no randomness.

pub mod address;
pub mod device;
pub mod fixcodec;
pub mod geo;
pub mod money;
pub mod services;
pub mod status;
pub mod text;
pub mod vin;

use serde::{Deserialize, Serialize};
pub use status::{OfferStatus, OrderStatus};
pub use uuid::Uuid;

/// Server-assigned row id.
pub type Id = i64;
/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// Most mutations one `POST /v1/sync` may carry.
pub const MAX_MUTATIONS_PER_PUSH: usize = 500;
/// Most fixes one `POST /v1/locations` may carry.
pub const MAX_FIXES_PER_BATCH: usize = 1000;
/// Largest page `GET /v1/sync` returns, in changes (pages are also capped in bytes).
pub const MAX_SYNC_LIMIT: u32 = 5000;
/// A pull page or SSE catch-up batch stops growing once it holds this many bytes of changes
/// (a single larger change is still sent, alone). With the longest free text at
/// [`MAX_TEXT_CHARS`], no single change comes near the client's 16 MiB answer cap.
pub const MAX_SYNC_PAGE_BYTES: usize = 1024 * 1024;
/// Longest free text (order notes, job notes, step notes), in characters.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Most notes plus parts lines one order may carry; more is a 422.
pub const MAX_LINES_PER_ORDER: u32 = 20_000;

macro_rules! wire {
    ($($item:item)*) => {
        $(
            #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
            #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
            $item
        )*
    };
}

impl Order {
    /// A live job of technician `tech` (assigned through in progress): their work list.
    pub fn is_active_job_of(&self, tech: Id) -> bool {
        self.technician_id == Some(tech) && self.status.is_active_job()
    }

    /// A finished (completed or cancelled) job of technician `tech`: their history.
    pub fn is_past_job_of(&self, tech: Id) -> bool {
        self.technician_id == Some(tech) && self.status.is_terminal()
    }
}

impl TechnicianFix {
    /// A device's fix as the position of `technician`, relevant to `order`.
    pub fn of(f: &Fix, technician: Id, order: Option<Id>) -> Self {
        TechnicianFix {
            technician_id: technician,
            order_id: order,
            lat: f.lat,
            lon: f.lon,
            accuracy_m: f.accuracy_m,
            speed_mps: f.speed_mps,
            heading_deg: f.heading_deg,
            t: f.t,
        }
    }
}

impl Tracking {
    /// What tracking shows for `order` given the technician's latest position: distance and
    /// ETA by [`geo::eta_seconds`] while on the way, zero once there, and the position only
    /// while the job is live. The platform and the offline app compute it alike.
    pub fn of(order: &Order, fix: Option<TechnicianFix>) -> Self {
        let mut out = Tracking {
            order_id: order.id,
            status: order.status,
            technician_id: order.technician_id,
            technician_name: order.technician_name.clone(),
            technician_vehicle: order.technician_vehicle.clone(),
            fix: None,
            destination_lat: order.lat,
            destination_lon: order.lon,
            distance_m: None,
            eta_s: None,
        };
        if !order.status.is_active_job() {
            return out;
        }
        if let Some(f) = &fix {
            let d = geo::haversine_m(f.lat, f.lon, order.lat, order.lon);
            match order.status {
                OrderStatus::Assigned | OrderStatus::EnRoute => {
                    out.distance_m = Some(d);
                    out.eta_s = Some(geo::eta_seconds(d));
                }
                OrderStatus::Arrived | OrderStatus::InProgress => {
                    out.distance_m = Some(d);
                    out.eta_s = Some(0);
                }
                _ => {}
            }
        }
        out.fix = fix;
        out
    }
}

/// Who an account is; decides what it may see and do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A mobile mechanic ("master") who receives offers and works jobs.
    Technician,
    /// A workshop front desk; belongs to one workshop.
    Desk,
    /// A car owner who books services and tracks the technician.
    Owner,
    /// Operator of the platform; sees everything.
    Admin,
}

impl Role {
    /// The lowercase name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Technician => "technician",
            Role::Desk => "desk",
            Role::Owner => "owner",
            Role::Admin => "admin",
        }
    }

    /// Parses [`Role::as_str`] output.
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "technician" => Role::Technician,
            "desk" => Role::Desk,
            "owner" => Role::Owner,
            "admin" => Role::Admin,
            _ => return None,
        })
    }
}

wire! {
    /// A signed-in account.
    pub struct Account {
        pub id: Id,
        pub role: Role,
        pub name: String,
        /// Set for desks (always) and for technicians attached to a workshop.
        pub workshop_id: Option<Id>,
        /// A desk that may invite staff and revoke their sessions.
        #[serde(default)]
        pub workshop_admin: bool,
    }

    /// Body of `POST /v1/auth/dev-login`: creates the account on first use.
    pub struct DevLogin {
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 80))]
        pub name: String,
        pub role: Role,
        #[serde(default)]
        pub workshop_id: Option<Id>,
        /// A new technician's skills (ignored for other roles and existing accounts).
        #[serde(default)]
        pub skills: Option<Vec<String>>,
    }

    /// A signed-in device: a short-lived access token and the refresh token that renews it.
    pub struct Session {
        pub account: Account,
        /// Send as `Authorization: Bearer <token>`; the server keeps only its hash. It stops
        /// working at `expires_at`: get a new one with `POST /v1/auth/refresh`.
        pub token: String,
        /// When `token` stops working.
        pub expires_at: Millis,
        /// Single use: each refresh answers a new one. Keep it secret (the OS keyring).
        pub refresh_token: String,
        /// This device's session (listed by `GET /v1/sessions`).
        pub session_id: Id,
    }

    /// Body of `POST /v1/auth/code`: send a one-time sign-in code.
    pub struct CodeRequest {
        /// A mobile number with country code (`+86 138 0013 8000`) or an e-mail address.
        #[cfg_attr(feature = "openapi", schema(max_length = 254))]
        pub address: String,
    }

    /// Answer of `POST /v1/auth/code`. The same whether or not an account has the address.
    pub struct CodeSent {
        /// The address in canonical form, masked.
        pub sent_to: String,
        /// The code stops working at this time.
        pub expires_at: Millis,
        /// Another code can be asked for after this many seconds.
        pub resend_after_s: u32,
    }

    /// Body of `POST /v1/auth/sign-in`: a code (or, where one is set, a password) for an
    /// address. An unknown address signing in with a code becomes a new car-owner account.
    pub struct SignIn {
        #[cfg_attr(feature = "openapi", schema(max_length = 254))]
        pub address: String,
        /// The 6-digit code from `POST /v1/auth/code` or from an invitation.
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 16))]
        pub code: Option<String>,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 128))]
        pub password: Option<String>,
        /// What the user calls this device ("Li's phone"), shown in the session list.
        #[cfg_attr(feature = "openapi", schema(max_length = 80))]
        pub device: String,
        /// The name of a new owner account (ignored for existing accounts).
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 80))]
        pub name: Option<String>,
    }

    /// Body of `POST /v1/auth/refresh`.
    pub struct RefreshRequest {
        #[cfg_attr(feature = "openapi", schema(max_length = 128))]
        pub refresh_token: String,
    }

    /// One signed-in device of an account.
    pub struct SessionInfo {
        pub id: Id,
        pub account_id: Id,
        pub device: String,
        pub created_at: Millis,
        /// Last time the device renewed its access.
        pub last_used_at: Millis,
        /// Signed out automatically after this unless it renews.
        pub expires_at: Millis,
        /// The session this request came from.
        pub current: bool,
    }

    /// Body of `PUT /v1/me/password`.
    pub struct NewPassword {
        /// 10 to 128 characters.
        #[cfg_attr(feature = "openapi", schema(min_length = 10, max_length = 128))]
        pub password: String,
        /// Required when the account already has a password.
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 128))]
        pub current_password: Option<String>,
    }

    /// Body of `POST /v1/workshops/{id}/invites` (the workshop's admin or a platform admin).
    pub struct Invite {
        /// `desk` or `technician`.
        pub role: Role,
        #[cfg_attr(feature = "openapi", schema(max_length = 254))]
        pub address: String,
        #[cfg_attr(feature = "openapi", schema(max_length = 80))]
        pub name: String,
        /// A desk that may invite others and revoke sessions.
        #[serde(default)]
        pub workshop_admin: bool,
    }

    /// An invitation made: the account exists, and signs in with `code` (valid 7 days; also
    /// sent to the address where a sender is configured). Hand the code over in person.
    pub struct Invited {
        pub account: Account,
        pub code: String,
        pub expires_at: Millis,
    }

    /// A member of a workshop's staff, for its admin.
    pub struct StaffMember {
        pub account: Account,
        /// The sign-in address, masked.
        pub address: Option<String>,
        /// Sessions signed in now.
        pub sessions: u32,
    }

    /// A single-use pass to open `GET /v1/events?ticket=…` from a browser's `EventSource`
    /// (which cannot send headers), valid for a few seconds.
    pub struct EventTicket {
        pub ticket: String,
        pub expires_at: Millis,
    }

    /// A workshop with a front desk and, usually, its own technicians.
    pub struct Workshop {
        pub id: Id,
        pub name: String,
        pub lat: f64,
        pub lon: f64,
        /// Street address, for people (may be empty for workshops made before addresses).
        #[serde(default)]
        pub address: String,
        /// The share of an order's price its technician earns, in percent.
        #[serde(default = "default_payout_percent")]
        pub payout_percent: u8,
        /// The currency its prices are in (ISO 4217, e.g. `EUR`, `CNY`).
        #[serde(default = "default_currency")]
        pub currency: String,
    }

    /// Body of `PUT /v1/workshops/{id}/payout`.
    pub struct PayoutRule {
        #[cfg_attr(feature = "openapi", schema(maximum = 100))]
        pub percent: u8,
    }

    /// Answer to `GET /v1/technicians/me/earnings`.
    pub struct Earnings {
        pub today_cents: i64,
        pub today_jobs: u32,
        /// The currency of the amounts (the technician's workshop's).
        #[serde(default = "default_currency")]
        pub currency: String,
        /// Since Monday 00:00, in the time zone the request gave.
        pub week_cents: i64,
        pub week_jobs: u32,
    }

    /// Body of `POST /v1/workshops` (admin only).
    pub struct NewWorkshop {
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 80))]
        pub name: String,
        #[cfg_attr(feature = "openapi", schema(minimum = -90.0, maximum = 90.0))]
        pub lat: f64,
        #[cfg_attr(feature = "openapi", schema(minimum = -180.0, maximum = 180.0))]
        pub lon: f64,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 200))]
        pub address: String,
        /// ISO 4217 code of its prices; the platform's default (`--currency`) when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(min_length = 3, max_length = 3))]
        pub currency: Option<String>,
    }

    /// A technician as desks and admins see them (also the map marker).
    pub struct Technician {
        pub id: Id,
        pub name: String,
        pub workshop_id: Option<Id>,
        /// Service skills, matched against [`services::ServiceType::skill`].
        pub skills: Vec<String>,
        /// Brand certifications such as `"bmw"`.
        pub certifications: Vec<String>,
        pub on_shift: bool,
        pub lat: Option<f64>,
        pub lon: Option<f64>,
        /// When the position above was measured.
        pub fix_at: Option<Millis>,
        /// The car the technician drives, as customers should recognise it ("White VW
        /// Caddy · B-PS 77"); empty when not given.
        #[serde(default)]
        pub vehicle: String,
    }

    /// Body of `PUT /v1/technicians/me`.
    pub struct TechnicianProfile {
        /// At most 50, each 1 to 40 characters.
        #[cfg_attr(feature = "openapi", schema(max_items = 50))]
        pub skills: Vec<String>,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_items = 50))]
        pub certifications: Vec<String>,
        /// The car the technician drives, for customers to recognise; absent keeps it.
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 80))]
        pub vehicle: Option<String>,
    }

    /// Body of `POST /v1/technicians/me/shift`; the position seeds matching until GPS arrives.
    pub struct ShiftChange {
        pub on_shift: bool,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(minimum = -90.0, maximum = 90.0))]
        pub lat: Option<f64>,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(minimum = -180.0, maximum = 180.0))]
        pub lon: Option<f64>,
    }

    /// A car.
    pub struct Vehicle {
        pub id: Id,
        pub owner_id: Option<Id>,
        pub workshop_id: Option<Id>,
        pub vin: String,
        pub plate: String,
        pub make: String,
        pub model: String,
        pub year: Option<u16>,
    }

    /// Body of `POST /v1/vehicles`. Owners register their own cars; desks register walk-ins.
    pub struct NewVehicle {
        /// 17 characters, no I, O or Q; North American VINs must carry a right check digit.
        #[cfg_attr(feature = "openapi", schema(min_length = 17, max_length = 17, pattern = "^[A-HJ-NPR-Za-hj-npr-z0-9]{17}$"))]
        pub vin: String,
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 16))]
        pub plate: String,
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 40))]
        pub make: String,
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 40))]
        pub model: String,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(minimum = 1886, maximum = 2100))]
        pub year: Option<u16>,
    }

    /// What a technician needs to recognise the car.
    pub struct VehicleSummary {
        pub vin: String,
        pub plate: String,
        pub make: String,
        pub model: String,
    }

    /// A note on a job, written by the technician or the desk.
    pub struct JobNote {
        pub id: Id,
        pub author_id: Id,
        pub text: String,
        pub at: Millis,
    }

    /// A parts line on a job.
    pub struct PartLine {
        pub id: Id,
        pub name: String,
        pub qty: u32,
        pub unit_price_cents: i64,
    }

    /// How long an order's job sheet is (carried by snapshots instead of the lines).
    #[derive(Default, Copy)]
    pub struct LineCounts {
        pub notes: u32,
        pub parts: u32,
        pub steps: u32,
    }


    /// One step in an order's timeline.
    pub struct TimelineEntry {
        /// When it happened (for a step done offline: when it was tapped).
        pub at: Millis,
        pub status: OrderStatus,
        pub actor_id: Option<Id>,
        pub note: Option<String>,
        /// When the platform heard of it, if over a minute later.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub sent_at: Option<Millis>,
    }

    /// A service order and, once assigned, the job a technician works.
    /// Fields without a value are left out of its JSON (a missing one reads as none):
    /// a first sync carries 50,000 of them.
    pub struct Order {
        pub id: Id,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub owner_id: Option<Id>,
        /// The owner's name, for desks and search; `None` for walk-ins without an account.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub customer_name: Option<String>,
        /// Whether the customer can be called through the masked relay (an owner or a
        /// walk-in customer with a phone number); the number itself is never sent.
        #[serde(default)]
        pub customer_contact: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub workshop_id: Option<Id>,
        pub vehicle_id: Id,
        pub vehicle: VehicleSummary,
        /// Code from [`services::CATALOGUE`].
        pub service: String,
        /// Where the car is: the service location.
        pub lat: f64,
        pub lon: f64,
        /// That place in words (street and number, city); empty for orders from before
        /// places, and when the owner only placed a pin.
        #[serde(default)]
        pub address: String,
        /// How to find the car there ("level -2, bay 41").
        #[serde(default)]
        pub place_note: String,
        pub window_start: Millis,
        pub window_end: Millis,
        /// The price shown before booking, in cents.
        pub price_cents: i64,
        /// The currency of its prices (its workshop's when booked).
        #[serde(default = "default_currency")]
        pub currency: String,
        pub notes: String,
        pub status: OrderStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub technician_id: Option<Id>,
        /// The assigned technician's name, for the customer and the desk.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub technician_name: Option<String>,
        /// The car the assigned technician drives, if they said.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub technician_vehicle: Option<String>,
        /// Why dispatch gave up, when `status` is `unassigned`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub unassigned_reason: Option<String>,
        /// The job sheet. Filled in REST answers and on devices (assembled from
        /// [`JobLine`]s); empty in change-log snapshots, where each line is its own change.
        pub job_notes: Vec<JobNote>,
        pub parts: Vec<PartLine>,
        pub timeline: Vec<TimelineEntry>,
        /// How many lines the job sheet has, also in change-log snapshots.
        #[serde(default)]
        pub line_counts: LineCounts,
        pub created_at: Millis,
        pub updated_at: Millis,
        /// Bumped on every change; a client keeps the highest it has seen.
        pub version: i64,
    }

    /// Body of `POST /v1/orders`.
    pub struct NewOrder {
        pub vehicle_id: Id,
        /// A service code from `GET /v1/services`.
        #[cfg_attr(feature = "openapi", schema(max_length = 40))]
        pub service: String,
        #[cfg_attr(feature = "openapi", schema(minimum = -90.0, maximum = 90.0))]
        pub lat: f64,
        #[cfg_attr(feature = "openapi", schema(minimum = -180.0, maximum = 180.0))]
        pub lon: f64,
        /// The place in words, one line.
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 200))]
        pub address: String,
        /// How to find the car there, one line.
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 200))]
        pub place_note: String,
        /// The window is at most 7 days long and ends no earlier than an hour ago.
        pub window_start: Millis,
        pub window_end: Millis,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
        pub notes: String,
        /// A walk-in customer's name (desk bookings; an owner's booking is theirs).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(max_length = 80))]
        pub customer_name: Option<String>,
        /// A walk-in customer's phone (E.164), for masked calls: it is never shown to
        /// anyone, only put through by the relay.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(max_length = 20))]
        pub customer_phone: Option<String>,
    }

    /// Body of `POST /v1/orders/{id}/status`.
    pub struct StatusChange {
        pub status: OrderStatus,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
        pub note: Option<String>,
    }

    /// Body of `POST /v1/orders/{id}/notes`.
    pub struct NewNote {
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 2000))]
        pub text: String,
    }

    /// Body of `POST /v1/orders/{id}/parts`.
    pub struct NewPart {
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 120))]
        pub name: String,
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
        pub qty: u32,
        #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100_000_000))]
        pub unit_price_cents: i64,
    }

    /// Body of `POST /v1/orders/{id}/dispatch`: a technician to assign by hand, or none to let
    /// the matcher start a new round.
    pub struct DispatchRequest {
        #[serde(default)]
        pub technician_id: Option<Id>,
    }

    /// A dispatch offer made to one technician.
    pub struct Offer {
        pub id: Id,
        pub order_id: Id,
        pub technician_id: Id,
        pub status: OfferStatus,
        pub service: String,
        pub lat: f64,
        pub lon: f64,
        pub price_cents: i64,
        /// The currency of `price_cents` and `payout_cents`.
        #[serde(default = "default_currency")]
        pub currency: String,
        /// What the technician earns for the job (the workshop's payout rule applied to
        /// the price).
        #[serde(default)]
        pub payout_cents: i64,
        /// Straight-line distance from the technician when offered.
        pub distance_m: f64,
        /// The customer's time window.
        #[serde(default)]
        pub window_start: Millis,
        #[serde(default)]
        pub window_end: Millis,
        /// Make and model of the car.
        #[serde(default)]
        pub vehicle: String,
        /// The area of the job (postcode and city), not the exact address, which the
        /// technician sees once the job is theirs.
        #[serde(default)]
        pub area: String,
        /// How long the job is expected to take.
        #[serde(default)]
        pub minutes: u32,
        pub created_at: Millis,
        /// After this instant an accept is rejected.
        pub expires_at: Millis,
    }

    /// One GPS fix from a device.
    pub struct Fix {
        /// Per-device sequence number; (device, seq) makes uploads idempotent.
        #[cfg_attr(feature = "openapi", schema(maximum = 9_223_372_036_854_775_807_u64))]
        pub seq: u64,
        /// Not older than 7 days, not more than 5 minutes ahead of the server's clock.
        pub t: Millis,
        #[cfg_attr(feature = "openapi", schema(minimum = -90.0, maximum = 90.0))]
        pub lat: f64,
        #[cfg_attr(feature = "openapi", schema(minimum = -180.0, maximum = 180.0))]
        pub lon: f64,
        #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 100000.0))]
        pub accuracy_m: f32,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 150.0))]
        pub speed_mps: Option<f32>,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 360.0))]
        pub heading_deg: Option<f32>,
    }

    /// Body of `POST /v1/locations`.
    pub struct LocationBatch {
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]{1,64}$"))]
        pub device_id: String,
        #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 1000))]
        pub fixes: Vec<Fix>,
    }

    /// Answer to `POST /v1/locations`.
    pub struct LocationAck {
        /// Fixes stored now.
        pub accepted: u32,
        /// Fixes already stored by an earlier upload.
        pub duplicates: u32,
    }

    /// A technician's latest position, as sent to the owner being served and to desks.
    pub struct TechnicianFix {
        pub technician_id: Id,
        /// The active order this position is relevant to.
        pub order_id: Option<Id>,
        pub lat: f64,
        pub lon: f64,
        pub accuracy_m: f32,
        pub speed_mps: Option<f32>,
        pub heading_deg: Option<f32>,
        pub t: Millis,
    }

    /// A browser link that shows one order's live tracking without signing in.
    pub struct ShareLink {
        pub order_id: Id,
        /// Secret part of the link; shown once, stored hashed.
        pub token: String,
        /// Path of the tracking page on the platform, e.g. `/app/?track=…`.
        pub path: String,
        pub expires_at: Millis,
    }

    /// Settings the platform tells every client (no sign-in needed).
    pub struct PublicConfig {
        /// Map tile URL template (`{z}/{x}/{y}`), or `None` to draw maps without tiles.
        pub tile_url: Option<String>,
        /// Whether `POST /v1/auth/dev-login` is enabled.
        pub dev_login: bool,
        /// Whether address search (`GET /v1/geocode`) works here; without it, people type
        /// the address and place a pin.
        #[serde(default)]
        pub geocoding: bool,
        /// Whether technicians can call or text customers through a masked number.
        #[serde(default)]
        pub contact_relay: bool,
        /// The currency of catalogue prices before a workshop is known.
        #[serde(default = "default_currency")]
        pub currency: String,
    }

    /// A place found by address search or by reverse lookup of a pin.
    pub struct GeoPlace {
        pub address: String,
        pub lat: f64,
        pub lon: f64,
    }

    /// A place an owner keeps for booking (home, work).
    pub struct SavedPlace {
        pub id: Id,
        /// What the owner calls it ("Home").
        pub label: String,
        pub address: String,
        pub lat: f64,
        pub lon: f64,
        /// How to find the car there.
        pub note: String,
    }

    /// Body of `POST /v1/places`.
    pub struct NewPlace {
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 40))]
        pub label: String,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 200))]
        pub address: String,
        #[cfg_attr(feature = "openapi", schema(minimum = -90.0, maximum = 90.0))]
        pub lat: f64,
        #[cfg_attr(feature = "openapi", schema(minimum = -180.0, maximum = 180.0))]
        pub lon: f64,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 200))]
        pub note: String,
    }

    /// How the assigned technician reaches the customer without seeing their number: call
    /// or text the platform's relay number and key in the PIN. Works while the job runs.
    pub struct ContactRelay {
        pub order_id: Id,
        /// The relay's phone number (E.164), not the customer's.
        pub number: String,
        /// Keyed in after the call connects, or put first in a text.
        pub pin: String,
        /// `tel:` link that dials the relay and then the PIN.
        pub call_uri: String,
        /// `sms:` link to the relay with the PIN as the start of the message.
        pub sms_uri: String,
    }

    /// Body of `POST /v1/relay/connect`, sent by the telephony provider for a call or text.
    pub struct RelayConnect {
        #[cfg_attr(feature = "openapi", schema(max_length = 12))]
        pub pin: String,
        /// The caller's number (E.164).
        #[cfg_attr(feature = "openapi", schema(max_length = 20))]
        pub from: String,
    }

    /// Answer to `POST /v1/relay/connect`: where to connect the call or text.
    pub struct RelayTarget {
        pub to: String,
    }

    /// Answer to `GET /v1/orders/{id}/tracking`.
    pub struct Tracking {
        pub order_id: Id,
        pub status: OrderStatus,
        pub technician_id: Option<Id>,
        pub technician_name: Option<String>,
        /// The car the master drives, to recognise it ("White VW Caddy · B-PS 77").
        #[serde(default)]
        pub technician_vehicle: Option<String>,
        pub fix: Option<TechnicianFix>,
        pub destination_lat: f64,
        pub destination_lon: f64,
        pub distance_m: Option<f64>,
        /// Seconds until arrival by [`geo::eta_seconds`]; `None` without a fix or once arrived.
        pub eta_s: Option<i64>,
    }


    /// Answer to `GET /v1/sync`.
    pub struct SyncPage {
        /// The platform's clock when it answered: devices learn their clock's offset from it.
        #[serde(default)]
        pub server_time: Millis,
        pub changes: Vec<Change>,
        /// Cursor to ask for next; equals the request's cursor when nothing is new.
        pub next_cursor: i64,
        /// More changes wait after `next_cursor`.
        pub has_more: bool,
    }

    /// One client action inside `POST /v1/sync`.
    pub struct Mutation {
        /// Made by the client; the server applies each id at most once.
        pub id: Uuid,
        /// When the person tapped it, by the platform's clock (the device's clock corrected
        /// by the offset it learned at its last sync). The platform records it, bounded: not
        /// in the future, not before the order's previous step, at most 7 days back.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub at: Option<Millis>,
        #[serde(flatten)]
        pub op: MutationOp,
    }

    /// Body of `POST /v1/sync`.
    pub struct PushRequest {
        pub mutations: Vec<Mutation>,
    }

    /// The server's verdict on one mutation. A replay of the same id gets the same verdict.
    pub struct MutationResult {
        pub id: Uuid,
        pub outcome: Outcome,
        /// HTTP-like status of the verdict (200, 404, 409, 422).
        pub code: u16,
        /// Why it was rejected, in a sentence the UI can show.
        pub reason: Option<String>,
        /// The order as the mutation left it, when it touched one: its snapshot without the
        /// job sheet (see `lines`).
        pub order: Option<Order>,
        /// Job-sheet lines this mutation created.
        #[serde(default)]
        pub lines: Vec<JobLine>,
    }

    /// Answer to `POST /v1/sync`, one result per mutation, in order.
    pub struct PushResponse {
        pub results: Vec<MutationResult>,
    }

    /// An RFC 9457 problem document, as clients read it.
    pub struct Problem {
        #[serde(rename = "type", default)]
        pub kind: Option<String>,
        pub title: Option<String>,
        pub status: Option<u16>,
        pub detail: Option<String>,
    }
}

/// What changed; the payload is the entity's full current state, so applying a change twice
/// or out of order (by `version`) is harmless.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum ChangeBody {
    /// An order's own fields and line counts; its job sheet comes as [`ChangeBody::Line`]s.
    Order(Order),
    Offer(Offer),
    Location(TechnicianFix),
    Technician(Technician),
    Line(JobLine),
}

/// One entry of the caller's change log.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    /// Position in the server's change log; pass the highest seen as `cursor`.
    pub cursor: i64,
    pub at: Millis,
    #[serde(flatten)]
    pub body: ChangeBody,
    /// The body's JSON as it arrived (set when decoded, never sent), so a device can store
    /// it without encoding it again.
    #[serde(skip)]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub raw_body: Option<Box<str>>,
}

impl PartialEq for Change {
    /// Equal when they say the same; how the body was written does not matter.
    fn eq(&self, other: &Self) -> bool {
        (self.cursor, self.at, &self.body) == (other.cursor, other.at, &other.body)
    }
}

/// One line of a job sheet (a note, a parts line, a status step), published as its own
/// append-only change so a long job sheet never re-sends the whole order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobLine {
    /// Unique per kind of line.
    pub id: Id,
    pub order_id: Id,
    pub at: Millis,
    /// Left out of the JSON when none (platform lines), like `mutation_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_id: Option<Id>,
    /// The client mutation that created it, so a device that still holds that action as
    /// pending never shows it twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutation_id: Option<Uuid>,
    /// Bumped if the line is ever edited; a client keeps the highest.
    pub version: i64,
    /// When the platform received it, if that was over a minute after `at` (it was done
    /// offline and sent late).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<Millis>,
    #[serde(flatten)]
    pub body: LineBody,
}

// `Change` and `JobLine` are decoded by hand: derived code for `flatten` and tagged enums
// buffers every value into an intermediate tree first, which made decoding a first sync's
// pages (150,000 changes) about twice as slow. Unknown fields are ignored as before.

impl<'de> Deserialize<'de> for Change {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        struct Raw {
            cursor: i64,
            at: Millis,
            kind: String,
            data: Box<serde_json::value::RawValue>,
        }
        let r = Raw::deserialize(d)?;
        fn body<T: serde::de::DeserializeOwned, E: Error>(raw: &str) -> Result<T, E> {
            serde_json::from_str(raw).map_err(E::custom)
        }
        let raw = r.data.get();
        let body = match r.kind.as_str() {
            "order" => ChangeBody::Order(body(raw)?),
            "offer" => ChangeBody::Offer(body(raw)?),
            "location" => ChangeBody::Location(body(raw)?),
            "technician" => ChangeBody::Technician(body(raw)?),
            "line" => ChangeBody::Line(body(raw)?),
            other => {
                return Err(D::Error::unknown_variant(
                    other,
                    &["order", "offer", "location", "technician", "line"],
                ));
            }
        };
        Ok(Change {
            cursor: r.cursor,
            at: r.at,
            body,
            raw_body: Some(raw.into()),
        })
    }
}

impl<'de> Deserialize<'de> for JobLine {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        struct Raw {
            id: Id,
            order_id: Id,
            at: Millis,
            #[serde(default)]
            author_id: Option<Id>,
            #[serde(default)]
            mutation_id: Option<Uuid>,
            version: i64,
            #[serde(default)]
            sent_at: Option<Millis>,
            line: String,
            text: Option<String>,
            name: Option<String>,
            qty: Option<u32>,
            unit_price_cents: Option<i64>,
            status: Option<OrderStatus>,
            #[serde(default)]
            note: Option<String>,
        }
        let r = Raw::deserialize(d)?;
        let need = |f: &'static str| D::Error::missing_field(f);
        let body = match r.line.as_str() {
            "note" => LineBody::Note {
                text: r.text.ok_or_else(|| need("text"))?,
            },
            "part" => LineBody::Part {
                name: r.name.ok_or_else(|| need("name"))?,
                qty: r.qty.ok_or_else(|| need("qty"))?,
                unit_price_cents: r.unit_price_cents.ok_or_else(|| need("unit_price_cents"))?,
            },
            "step" => LineBody::Step {
                status: r.status.ok_or_else(|| need("status"))?,
                note: r.note,
            },
            other => return Err(D::Error::unknown_variant(other, &["note", "part", "step"])),
        };
        Ok(JobLine {
            id: r.id,
            order_id: r.order_id,
            at: r.at,
            author_id: r.author_id,
            mutation_id: r.mutation_id,
            version: r.version,
            sent_at: r.sent_at,
            body,
        })
    }
}

/// What a job-sheet line says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "line", rename_all = "snake_case")]
pub enum LineBody {
    Note {
        text: String,
    },
    Part {
        name: String,
        qty: u32,
        unit_price_cents: i64,
    },
    Step {
        status: OrderStatus,
        #[serde(default)]
        note: Option<String>,
    },
}

impl LineBody {
    /// `note`, `part` or `step`: with the line's id, the line's identity.
    pub fn kind(&self) -> &'static str {
        match self {
            LineBody::Note { .. } => "note",
            LineBody::Part { .. } => "part",
            LineBody::Step { .. } => "step",
        }
    }
}

/// The share of an order's price a technician earns unless their workshop says otherwise
/// (freelancers on the marketplace, and workshops from before payout rules).
pub const DEFAULT_PAYOUT_PERCENT: u8 = 70;

fn default_payout_percent() -> u8 {
    DEFAULT_PAYOUT_PERCENT
}

/// The currency of prices when a platform names none.
pub const DEFAULT_CURRENCY: &str = "EUR";

fn default_currency() -> String {
    DEFAULT_CURRENCY.to_string()
}

/// Whether `code` looks like an ISO 4217 currency code (three capital letters).
pub fn valid_currency(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// What a technician earns of `price_cents` at `percent` (rounded down to the cent).
pub fn payout(price_cents: i64, percent: u8) -> i64 {
    price_cents * i64::from(percent.min(100)) / 100
}

impl Order {
    /// Puts job-sheet lines into the order's notes, parts and timeline, in order of time.
    pub fn add_lines<'a>(&mut self, lines: impl IntoIterator<Item = &'a JobLine>) {
        for l in lines {
            match &l.body {
                LineBody::Note { text } => self.job_notes.push(JobNote {
                    id: l.id,
                    author_id: l.author_id.unwrap_or_default(),
                    text: text.clone(),
                    at: l.at,
                }),
                LineBody::Part {
                    name,
                    qty,
                    unit_price_cents,
                } => self.parts.push(PartLine {
                    id: l.id,
                    name: name.clone(),
                    qty: *qty,
                    unit_price_cents: *unit_price_cents,
                }),
                LineBody::Step { status, note } => self.timeline.push(TimelineEntry {
                    at: l.at,
                    status: *status,
                    actor_id: l.author_id,
                    note: note.clone(),
                    sent_at: l.sent_at,
                }),
            }
        }
    }
}

impl ChangeBody {
    /// The SSE event name for this change.
    pub fn kind(&self) -> &'static str {
        match self {
            ChangeBody::Order(_) => "order",
            ChangeBody::Offer(_) => "offer",
            ChangeBody::Location(_) => "location",
            ChangeBody::Technician(_) => "technician",
            ChangeBody::Line(_) => "line",
        }
    }

    /// The entity this change describes (`order:7`, `line:note:12`, ...): a newer change
    /// of the same entity supersedes an older one, which the platform compacts away.
    pub fn entity(&self) -> String {
        match self {
            ChangeBody::Order(o) => format!("order:{}", o.id),
            ChangeBody::Offer(f) => format!("offer:{}", f.id),
            ChangeBody::Location(f) => format!("location:{}", f.technician_id),
            ChangeBody::Technician(t) => format!("technician:{}", t.id),
            ChangeBody::Line(l) => format!("line:{}:{}", l.body.kind(), l.id),
        }
    }
}

/// The operations a client may queue offline and push through `POST /v1/sync`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "op", content = "args", rename_all = "snake_case")]
pub enum MutationOp {
    OrderCreate(NewOrder),
    OrderStatus {
        order_id: Id,
        status: OrderStatus,
        #[serde(default)]
        note: Option<String>,
    },
    OrderNote {
        order_id: Id,
        text: String,
    },
    OrderPart {
        order_id: Id,
        name: String,
        qty: u32,
        unit_price_cents: i64,
    },
    OfferAccept {
        offer_id: Id,
    },
    OfferDecline {
        offer_id: Id,
    },
    Shift(ShiftChange),
}

impl MutationOp {
    /// One line a person recognises as what they did ("Note on order 12: “brakes…”").
    pub fn describe(&self) -> String {
        let short = |s: &str| text::shorten(s, 40);
        match self {
            Self::OrderCreate(o) => format!(
                "Booking: {}",
                services::find(&o.service).map_or(o.service.clone(), |s| s.name)
            ),
            Self::OrderStatus {
                order_id, status, ..
            } => {
                format!("Order {order_id}: {}", status.label())
            }
            Self::OrderNote { order_id, text } => {
                format!("Note on order {order_id}: “{}”", short(text))
            }
            Self::OrderPart {
                order_id,
                name,
                qty,
                ..
            } => {
                format!("Part on order {order_id}: {qty} × {}", short(name))
            }
            Self::OfferAccept { offer_id } => format!("Accepting offer {offer_id}"),
            Self::OfferDecline { offer_id } => format!("Declining offer {offer_id}"),
            Self::Shift(s) => (if s.on_shift {
                "Going on shift"
            } else {
                "Going off shift"
            })
            .into(),
        }
    }
}

/// Applied or rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Applied,
    Rejected,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutation_wire_shape_is_tagged() {
        let m = Mutation {
            id: Uuid::nil(),
            at: None,
            op: MutationOp::OfferAccept { offer_id: 7 },
        };
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["op"], "offer_accept");
        assert_eq!(v["args"]["offer_id"], 7);
        let back: Mutation = serde_json::from_value(v).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn changes_and_lines_decode_what_they_encode_and_refuse_what_they_do_not_know() {
        let line = |body: LineBody| JobLine {
            id: 3,
            order_id: 9,
            at: 1_000,
            author_id: Some(2),
            mutation_id: Some(Uuid::nil()),
            version: 1,
            sent_at: Some(90_000),
            body,
        };
        let lines = [
            line(LineBody::Note {
                text: "Pads worn".into(),
            }),
            line(LineBody::Part {
                name: "Filter".into(),
                qty: 2,
                unit_price_cents: 1_250,
            }),
            line(LineBody::Step {
                status: OrderStatus::EnRoute,
                note: None,
            }),
        ];
        for l in &lines {
            let c = Change {
                cursor: 42,
                at: 7,
                body: ChangeBody::Line(l.clone()),
                raw_body: None,
            };
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(serde_json::from_str::<Change>(&json).unwrap(), c, "{json}");
            // From a parsed tree too (how tests and tools read them).
            let tree: serde_json::Value = serde_json::from_str(&json).unwrap();
            assert_eq!(serde_json::from_value::<Change>(tree).unwrap(), c);
        }
        let tech = Change {
            cursor: 1,
            at: 2,
            body: ChangeBody::Technician(Technician {
                id: 5,
                name: "tom".into(),
                workshop_id: None,
                skills: vec!["oil".into()],
                certifications: vec![],
                on_shift: true,
                lat: None,
                lon: None,
                fix_at: None,
                vehicle: String::new(),
            }),
            raw_body: None,
        };
        let json = serde_json::to_string(&tech).unwrap();
        assert_eq!(serde_json::from_str::<Change>(&json).unwrap(), tech);
        // Fields added later are ignored; unknown kinds and missing fields are errors.
        let extra = r#"{"cursor":1,"at":2,"kind":"line","new":1,"data":{"id":1,"order_id":1,"at":1,"author_id":null,"version":1,"line":"note","text":"x","colour":"red"}}"#;
        assert!(serde_json::from_str::<Change>(extra).is_ok());
        for bad in [
            r#"{"cursor":1,"at":2,"kind":"invoice","data":{}}"#,
            r#"{"cursor":1,"at":2,"kind":"line","data":{"id":1,"order_id":1,"at":1,"version":1,"line":"note"}}"#,
            r#"{"cursor":1,"at":2,"kind":"line","data":{"id":1,"order_id":1,"at":1,"version":1,"line":"memo","text":"x"}}"#,
        ] {
            assert!(serde_json::from_str::<Change>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn role_round_trips() {
        for r in [Role::Technician, Role::Desk, Role::Owner, Role::Admin] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
