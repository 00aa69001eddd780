//! Tauri commands: each one calls `pitstop-core` and returns its answer; no rules live here.
//! Reads never touch the network; actions are queued by the core and synced in the
//! background.

use pitstop_api::{
    DevLogin, Id, NewOrder, NewVehicle, Order, OrderStatus, Role, ShareLink, ShiftChange,
    Technician, Tracking, Vehicle,
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
    let dir = app
        .path()
        .app_data_dir()
        .map_err(|e| Error::Storage(e.to_string()))?;
    std::fs::create_dir_all(&dir).map_err(|e| Error::Storage(e.to_string()))?;
    state.start(&app, &dir, &platform, &session)?;
    Ok(session.account)
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
