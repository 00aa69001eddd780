//! Tauri commands: each one calls `pitstop-core` and returns its answer; no rules live here.
//! Reads never touch the network; actions are queued by the core and synced in the
//! background.

use pitstop_api::{
    ContactRelay, DevLogin, GeoPlace, Id, NewOrder, NewPlace, NewVehicle, Order, OrderStatus, Role,
    SavedPlace, ShareLink, ShiftChange, Technician, Tracking, Vehicle,
};
use pitstop_core::{OfferView, SyncStatus};
use tauri::{AppHandle, Manager, State};

use crate::error::{Error, Result};
use crate::state::AppState;

/// Signs in (dev login) and starts background sync for the account.
#[tauri::command]
pub async fn sign_in(
    app: AppHandle,
    state: State<'_, AppState>,
    platform: String,
    name: String,
    role: Role,
    workshop_id: Option<Id>,
    skills: Option<Vec<String>>,
) -> Result<pitstop_api::Account> {
    let session = pitstop_core::remote::sign_in_dev(
        &platform,
        &DevLogin {
            name,
            role,
            workshop_id,
            skills,
        },
    )
    .await?;
    // A demo account is not remembered: the app signs in again at each start.
    state.start(&app, &data_dir(&app)?, &platform, &session, false)?;
    Ok(session.account)
}

/// The app's data folder (created if missing).
fn data_dir(app: &AppHandle) -> Result<std::path::PathBuf> {
    let dir = app
        .path()
        .app_data_dir()
        .map_err(|e| Error::Storage(e.to_string()))?;
    std::fs::create_dir_all(&dir).map_err(|e| Error::Storage(e.to_string()))?;
    Ok(dir)
}

/// Sign-in failures in the platform's own words (wrong code, wait N s), or "no connection".
fn sign_in_error(e: pitstop_core::Error) -> Error {
    match e {
        pitstop_core::Error::Rejected { detail, .. } => Error::SignIn(detail),
        e if e.is_retryable() => {
            Error::SignIn("No connection to the platform; check the network and try again.".into())
        }
        e => Error::Core(e),
    }
}

/// Asks the platform to send a sign-in code to a mobile number or e-mail address.
#[tauri::command]
pub async fn request_code(platform: String, address: String) -> Result<pitstop_api::CodeSent> {
    pitstop_core::remote::request_code(&platform, &address)
        .await
        .map_err(sign_in_error)
}

/// Signs in with a code or a password, keeps the session in the OS keyring, and starts sync.
#[tauri::command]
pub async fn sign_in_with(
    app: AppHandle,
    state: State<'_, AppState>,
    platform: String,
    address: String,
    code: Option<String>,
    password: Option<String>,
    name: Option<String>,
) -> Result<pitstop_api::Account> {
    let req = pitstop_api::SignIn {
        address,
        code,
        password,
        device: format!("Pitstop app ({})", std::env::consts::OS),
        name,
    };
    let session = pitstop_core::remote::sign_in(&platform, &req)
        .await
        .map_err(sign_in_error)?;
    let dir = data_dir(&app)?;
    let kept = crate::vault::save(&dir, &platform, &session);
    state.start(&app, &dir, &platform, &session, kept)?;
    Ok(session.account)
}

/// Opens the account signed in last on this device straight from its local data, network
/// or not (its access token is renewed when the platform can be reached). Async: starting
/// sync needs the runtime, which sync commands (run on the main thread) do not have.
#[tauri::command]
pub async fn resume(
    app: AppHandle,
    state: State<'_, AppState>,
) -> Result<Option<pitstop_api::Account>> {
    let dir = data_dir(&app)?;
    let Some((last, refresh_token)) = crate::vault::load(&dir) else {
        return Ok(None);
    };
    let session = pitstop_api::Session {
        account: last.account.clone(),
        // Expired on purpose: the core renews it before its first request.
        token: String::new(),
        expires_at: 1,
        refresh_token,
        session_id: 0,
    };
    state.start(&app, &dir, &last.platform, &session, true)?;
    Ok(Some(last.account))
}

/// Signs out: unless `force`, refuses while actions wait to be sent and answers them in
/// words; otherwise ends the session on the platform (when reachable), forgets it here and
/// deletes the account's data from the device. An empty answer means signed out.
#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>, force: bool) -> Result<Vec<String>> {
    if let Ok(client) = state.client() {
        let left = client.sign_out(force).await?;
        if !left.is_empty() {
            return Ok(left);
        }
    }
    state.stop(true);
    Ok(Vec::new())
}

/// The offer inbox with time left.
#[tauri::command]
pub fn offers(state: State<'_, AppState>) -> Result<Vec<OfferView>> {
    Ok(state.client()?.offers()?)
}

/// Accepts an offer (queued; the platform decides won or lost).
#[tauri::command]
pub fn accept(state: State<'_, AppState>, offer: Id) -> Result<()> {
    state.client()?.accept(offer)?;
    Ok(())
}

/// Declines an offer.
#[tauri::command]
pub fn decline(state: State<'_, AppState>, offer: Id) -> Result<()> {
    state.client()?.decline(offer)?;
    Ok(())
}

/// Orders, newest first, optionally of one status.
#[tauri::command]
pub fn orders(state: State<'_, AppState>, status: Option<OrderStatus>) -> Result<Vec<Order>> {
    Ok(state.client()?.orders(status, 500)?)
}

/// Open jobs.
#[tauri::command]
pub fn jobs(state: State<'_, AppState>) -> Result<Vec<Order>> {
    Ok(state.client()?.active_jobs()?)
}

/// Finished orders.
#[tauri::command]
pub fn history(state: State<'_, AppState>) -> Result<Vec<Order>> {
    Ok(state.client()?.history(200)?)
}

/// Search by plate, VIN or customer.
#[tauri::command]
pub fn search(state: State<'_, AppState>, query: String) -> Result<Vec<Order>> {
    Ok(state.client()?.search(&query, 50)?)
}

/// One order from the cache.
#[tauri::command]
pub fn order(state: State<'_, AppState>, order: Id) -> Result<Option<Order>> {
    Ok(state.client()?.order(order)?)
}

/// Tracking of an order from the cache (works offline).
#[tauri::command]
pub fn tracking(state: State<'_, AppState>, order: Id) -> Result<Option<Tracking>> {
    Ok(state.client()?.tracking(order)?)
}

/// Moves a job to its next status; setting off starts the desktop's simulated drive.
#[tauri::command]
pub fn step(
    state: State<'_, AppState>,
    order: Id,
    status: OrderStatus,
    note: Option<String>,
) -> Result<()> {
    state.client()?.step(order, status, note)?;
    state.job_stepped(order, status)?;
    Ok(())
}

/// Adds a job note.
#[tauri::command]
pub fn add_note(state: State<'_, AppState>, order: Id, text: String) -> Result<()> {
    state.client()?.add_note(order, &text)?;
    Ok(())
}

/// Adds a parts line.
#[tauri::command]
pub fn add_part(
    state: State<'_, AppState>,
    order: Id,
    name: String,
    qty: u32,
    unit_price_cents: i64,
) -> Result<()> {
    state
        .client()?
        .add_part(order, &name, qty, unit_price_cents)?;
    Ok(())
}

/// Books an order (owner or desk).
#[tauri::command]
pub fn book(state: State<'_, AppState>, order: NewOrder) -> Result<()> {
    state.client()?.book(order)?;
    Ok(())
}

/// Goes on or off shift; on phones this starts or stops the GPS feed.
#[tauri::command]
pub fn set_shift(app: AppHandle, state: State<'_, AppState>, mut shift: ShiftChange) -> Result<()> {
    // On a phone the shift starts where the phone is, not where the UI guessed.
    if shift.on_shift && state.settings.position_source() == crate::settings::PositionSource::Device
    {
        let (lat, lon) = crate::gps::current(&app).map_err(Error::Position)?;
        (shift.lat, shift.lon) = (Some(lat), Some(lon));
    }
    let (on, at) = (shift.on_shift, shift.lat.zip(shift.lon));
    state.client()?.set_shift(shift)?;
    state.shift_changed(&app, on, at)?;
    Ok(())
}

/// Whether this device last put the technician on shift (`None`: never changed here).
#[tauri::command]
pub fn on_shift(state: State<'_, AppState>) -> Result<Option<bool>> {
    Ok(state.client()?.on_shift()?)
}

/// Queues a refused action again.
#[tauri::command]
pub fn retry_failure(state: State<'_, AppState>, seq: i64) -> Result<()> {
    state.client()?.retry_failure(seq)?;
    Ok(())
}

/// Syncs now (the badge's retry when offline); the answer says whether it reached the
/// platform.
#[tauri::command]
pub async fn sync_now(state: State<'_, AppState>) -> Result<()> {
    state.client()?.sync_now().await?;
    Ok(())
}

/// The account's (or workshop's) vehicles; needs the platform.
#[tauri::command]
pub async fn vehicles(state: State<'_, AppState>) -> Result<Vec<Vehicle>> {
    Ok(state.client()?.vehicles().await?)
}

/// Registers a vehicle; needs the platform.
#[tauri::command]
pub async fn add_vehicle(state: State<'_, AppState>, vehicle: NewVehicle) -> Result<Vehicle> {
    Ok(state.client()?.add_vehicle(&vehicle).await?)
}

/// Technicians with shift and position (desk map); needs the platform.
#[tauri::command]
pub async fn technicians(state: State<'_, AppState>) -> Result<Vec<Technician>> {
    Ok(state.client()?.technicians().await?)
}

/// Assigns by hand, or lets dispatch choose when `technician` is absent; needs the platform.
#[tauri::command]
pub async fn dispatch(
    state: State<'_, AppState>,
    order: Id,
    technician: Option<Id>,
) -> Result<Order> {
    Ok(state.client()?.dispatch(order, technician).await?)
}

/// A browser tracking link for an order; needs the platform.
#[tauri::command]
pub async fn share(state: State<'_, AppState>, order: Id) -> Result<ShareLink> {
    let (mut link, url) = state.client()?.share(order).await?;
    link.path = url;
    Ok(link)
}

/// The sync badge.
#[tauri::command]
pub fn sync_status(state: State<'_, AppState>) -> Result<SyncStatus> {
    Ok(state.client()?.status()?)
}

/// Hides a failed action.
#[tauri::command]
pub fn dismiss_failure(state: State<'_, AppState>, seq: i64) -> Result<()> {
    state.client()?.dismiss_failure(seq)?;
    Ok(())
}

/// Address search; needs the platform.
#[tauri::command]
pub async fn geocode(state: State<'_, AppState>, query: String) -> Result<Vec<GeoPlace>> {
    Ok(state.client()?.geocode(&query).await?)
}

/// The address at a pin; needs the platform.
#[tauri::command]
pub async fn reverse_geocode(state: State<'_, AppState>, lat: f64, lon: f64) -> Result<GeoPlace> {
    Ok(state.client()?.reverse_geocode(lat, lon).await?)
}

/// The owner's saved places; needs the platform.
#[tauri::command]
pub async fn places(state: State<'_, AppState>) -> Result<Vec<SavedPlace>> {
    Ok(state.client()?.places().await?)
}

/// Saves a place; needs the platform.
#[tauri::command]
pub async fn save_place(state: State<'_, AppState>, place: NewPlace) -> Result<SavedPlace> {
    Ok(state.client()?.save_place(&place).await?)
}

/// Deletes a saved place; needs the platform.
#[tauri::command]
pub async fn delete_place(state: State<'_, AppState>, id: Id) -> Result<()> {
    Ok(state.client()?.delete_place(id).await?)
}

/// The technician's masked way to reach the customer; needs the platform.
#[tauri::command]
pub async fn contact(state: State<'_, AppState>, order: Id) -> Result<ContactRelay> {
    Ok(state.client()?.contact(order).await?)
}

/// Schemes the app hands to other apps: maps (`geo:`, web map links), phone and messages.
const EXTERNAL_SCHEMES: [&str; 4] = ["geo:", "tel:", "sms:", "https:"];

/// Opens a Navigate, Call or Message link in the app that handles it.
#[tauri::command]
pub fn open_external(app: AppHandle, uri: String) -> Result<()> {
    use tauri_plugin_opener::OpenerExt;
    if uri.len() > 2048 || !EXTERNAL_SCHEMES.iter().any(|s| uri.starts_with(s)) {
        return Err(Error::Invalid(format!(
            "The app does not open links like {uri:.40}."
        )));
    }
    app.opener()
        .open_url(uri, None::<&str>)
        .map_err(|e| Error::Invalid(format!("No app on this device opens that link: {e}")))
}

/// Where this device is now (phones: GPS, after asking permission). Desktop computers do
/// not tell; the owner searches the address or places the pin instead.
#[tauri::command]
pub fn here(app: AppHandle, state: State<'_, AppState>) -> Result<(f64, f64)> {
    if state.settings.position_source() != crate::settings::PositionSource::Device {
        return Err(Error::Position(
            "This computer does not share its location. Search the address or place the pin \
             on the map."
                .into(),
        ));
    }
    crate::gps::current(&app).map_err(Error::Position)
}

/// The platform's public settings (map tiles, dev login, address search). Fetched here,
/// not from the webview: the platform does not accept the webview's cross-origin calls.
#[tauri::command]
pub async fn public_config(platform: String) -> Result<pitstop_api::PublicConfig> {
    Ok(pitstop_core::remote::get_anonymous(&platform, "/v1/config").await?)
}

/// Every workshop (a desk's sign-in, the walk-in's place).
#[tauri::command]
pub async fn workshops(platform: String) -> Result<Vec<pitstop_api::Workshop>> {
    Ok(pitstop_core::remote::get_anonymous(&platform, "/v1/workshops").await?)
}

/// What the technician earned today and this week; needs the platform.
#[tauri::command]
pub async fn earnings(
    state: State<'_, AppState>,
    utc_offset_min: i64,
) -> Result<pitstop_api::Earnings> {
    Ok(state.client()?.earnings(utc_offset_min).await?)
}

/// The tracking link this device made for an order, while it works (offline too).
#[tauri::command]
pub fn saved_share(state: State<'_, AppState>, order: Id) -> Result<Option<String>> {
    Ok(state.client()?.saved_share(order)?)
}

/// Turns an order's tracking links off; needs the platform.
#[tauri::command]
pub async fn revoke_share(state: State<'_, AppState>, order: Id) -> Result<()> {
    Ok(state.client()?.revoke_shares(order).await?)
}
