//! Demo mode: seeds a small city (workshops, technicians with skills, owners with cars) and
//! runs simulated people, so a newcomer sees live dispatch without any phone.
//!
//! The simulation acts through the same domain functions as the HTTP handlers, with real
//! accounts and tokens, so everything it does shows up in sync, events and tracking.

use std::collections::HashMap;
use std::time::Duration;

use pitstop_api::{
    DevLogin, Fix, Id, LocationBatch, NewOrder, NewVehicle, NewWorkshop, OrderStatus, Role,
    ShiftChange, TechnicianProfile, geo, services, vin,
};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use crate::auth::Caller;
use crate::db::{Cached, now_ms};
use crate::{
    ApiResult, Platform, accounts, dispatch, location, orders, signin, technicians, vehicles,
};

/// Demo settings.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Simulated technicians.
    pub technicians: usize,
    /// Simulated car owners.
    pub owners: usize,
    /// A new order is booked this often.
    pub order_every: Duration,
    /// Simulation step.
    pub tick: Duration,
    /// Random seed, so a demo run can be repeated.
    pub seed: u64,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            technicians: 50,
            owners: 20,
            order_every: Duration::from_secs(4),
            tick: Duration::from_secs(1),
            seed: 7,
        }
    }
}

/// City centre of the demo (Berlin Mitte).
const CENTER: (f64, f64) = (52.5200, 13.4050);
const WORKSHOPS: [(&str, f64, f64, &str); 3] = [
    (
        "Pitstop Mitte",
        52.5230,
        13.4010,
        "Rosenthaler Straße 40, 10178 Berlin",
    ),
    (
        "Kreuzberg Autoservice",
        52.4980,
        13.4180,
        "Skalitzer Straße 80, 10997 Berlin",
    ),
    (
        "Prenzlauer Werkstatt",
        52.5400,
        13.4240,
        "Greifswalder Straße 200, 10405 Berlin",
    ),
];
/// Where to find a car at a demo address.
/// Walk-in customers the simulated desks take.
const WALK_IN_NAMES: [&str; 4] = ["Wei Zhang", "Anna Schmidt", "Li Na", "Jonas Weber"];

const PLACE_NOTES: [&str; 4] = [
    "",
    "Courtyard, second gate",
    "Level -2, bay 41",
    "In front of the bakery",
];
const CARS: [(&str, &str); 6] = [
    ("Volkswagen", "Golf"),
    ("BMW", "320d"),
    ("Toyota", "Corolla"),
    ("Ford", "Focus"),
    ("Renault", "Clio"),
    ("Honda", "Civic"),
];
/// Technician driving speed in the simulation, m/s.
const DRIVE_MPS: f64 = 12.0;

/// Accounts the demo made, with their tokens, for printing.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub admin_token: String,
    pub desk_tokens: Vec<(String, String)>,
    pub owner_tokens: Vec<(String, String)>,
    pub technician_tokens: Vec<(String, String)>,
    technicians: Vec<Caller>,
    owners: Vec<(Caller, Id)>,
    desks: Vec<(Caller, Id)>,
}

fn caller(s: &pitstop_api::Session) -> Caller {
    let a = &s.account;
    Caller::internal(a.id, a.role, &a.name, a.workshop_id)
}

fn jitter(rng: &mut StdRng, (lat, lon): (f64, f64), km: f64) -> (f64, f64) {
    let dlat = rng.random_range(-km..km) / 111.0;
    let dlon = rng.random_range(-km..km) / (111.0 * lat.to_radians().cos());
    (lat + dlat, lon + dlon)
}

/// A random VIN that passes [`vin::validate`] (North American ones get a real check digit).
pub fn random_vin(rng: &mut StdRng) -> String {
    const ALPHA: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
    let wmi = ["1HG", "1FA", "WBA", "WVW", "VF1", "JTD"]
        .choose(rng)
        .copied()
        .unwrap_or("WVW");
    let mut v: Vec<u8> = wmi.bytes().collect();
    while v.len() < 17 {
        v.push(*ALPHA.choose(rng).unwrap_or(&b'A'));
    }
    let mut s = String::from_utf8(v).unwrap_or_default();
    if vin::is_north_american(&s) {
        let d = vin::check_digit(&s);
        s.replace_range(8..9, &d.to_string());
    }
    s
}

/// Creates the demo city once (idempotent by account names) and returns its accounts.
pub fn seed(platform: &Platform, cfg: &DemoConfig) -> ApiResult<Seeded> {
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let life = platform.lifetimes();
    let login = |name: String, role: Role, ws: Option<Id>| {
        platform.write(|tx| {
            signin::dev_login(
                tx,
                &DevLogin {
                    name,
                    role,
                    workshop_id: ws,
                    skills: None,
                },
                life,
            )
        })
    };
    // The admin is provisioned as on a real server (no dev login for admins).
    let admin = platform.write(|tx| {
        let email = pitstop_api::address::Address::Email("admin@demo.pitstop.invalid".into());
        let a = accounts::provision_admin(tx, "demo-admin", &email, None)?;
        crate::sessions::start(tx, a.id, "demo", life)
    })?;
    let admin_c = caller(&admin);
    let existing = platform.read(accounts::workshops)?;
    let mut ws_ids = Vec::new();
    for (name, lat, lon, address) in WORKSHOPS {
        let id = match existing.iter().find(|w| w.name == name) {
            Some(w) => w.id,
            None => {
                platform
                    .write(|tx| {
                        accounts::create_workshop(
                            tx,
                            platform.config(),
                            &admin_c,
                            &NewWorkshop {
                                name: name.into(),
                                lat,
                                lon,
                                address: address.into(),
                                currency: None,
                            },
                        )
                    })?
                    .id
            }
        };
        ws_ids.push(id);
    }
    let mut seeded = Seeded {
        admin_token: admin.token.clone(),
        desk_tokens: Vec::new(),
        owner_tokens: Vec::new(),
        technician_tokens: Vec::new(),
        technicians: Vec::new(),
        owners: Vec::new(),
        desks: Vec::new(),
    };
    for (i, ws) in ws_ids.iter().enumerate() {
        let s = login(format!("desk-{}", i + 1), Role::Desk, Some(*ws))?;
        let c = caller(&s);
        // A made-up number (all demo numbers are in Ofcom's range for drama, +44 7700
        // 900xxx, which no phone has): the relay recognises the desk's calls by it.
        platform.write(|tx| {
            tx.exec(
                "UPDATE accounts SET phone = ?2 WHERE id = ?1 AND phone IS NULL",
                (c.id, format!("+447700900{:03}", 300 + i % 100)),
            )?;
            Ok(())
        })?;
        let veh = ensure_vehicle(platform, &c, &mut rng)?;
        seeded.desk_tokens.push((s.account.name.clone(), s.token));
        seeded.desks.push((c, veh));
    }
    let skills = services::skills();
    for i in 0..cfg.technicians {
        // Two in three work for a workshop; the rest are freelancers on the marketplace.
        let ws = if i % 3 == 2 {
            None
        } else {
            Some(ws_ids[i % ws_ids.len()])
        };
        let s = login(format!("tech-{:02}", i + 1), Role::Technician, ws)?;
        let c = caller(&s);
        // A made-up mobile number: the relay recognises a technician's calls by it (the
        // first hundred; the range has room for no more).
        if i < 100 {
            platform.write(|tx| {
                tx.exec(
                    "UPDATE accounts SET phone = ?2 WHERE id = ?1 AND phone IS NULL",
                    (c.id, format!("+447700900{:03}", 100 + i)),
                )?;
                Ok(())
            })?;
        }
        let n = rng.random_range(2..=4);
        let mine: Vec<String> = skills
            .choose_multiple(&mut rng, n)
            .map(|s| s.to_string())
            .collect();
        let certs: Vec<String> = ["bmw", "vw", "toyota"]
            .choose_multiple(&mut rng, 1)
            .map(|s| s.to_string())
            .collect();
        platform.write(|tx| {
            technicians::set_profile(
                tx,
                &c,
                &TechnicianProfile {
                    skills: mine.clone(),
                    certifications: certs.clone(),
                    vehicle: Some(format!("White service van · B-PS {}", 100 + i)),
                },
            )
        })?;
        seeded
            .technician_tokens
            .push((s.account.name.clone(), s.token));
        seeded.technicians.push(c);
    }
    for i in 0..cfg.owners {
        let s = login(format!("owner-{:02}", i + 1), Role::Owner, None)?;
        let c = caller(&s);
        // A made-up mobile number, so a technician can "call" them through the relay.
        if i < 100 {
            platform.write(|tx| {
                tx.exec(
                    "UPDATE accounts SET phone = ?2 WHERE id = ?1 AND phone IS NULL",
                    (c.id, format!("+447700900{:03}", 200 + i)),
                )?;
                Ok(())
            })?;
        }
        let veh = ensure_vehicle(platform, &c, &mut rng)?;
        seeded.owner_tokens.push((s.account.name.clone(), s.token));
        seeded.owners.push((c, veh));
    }
    Ok(seeded)
}

fn ensure_vehicle(platform: &Platform, c: &Caller, rng: &mut StdRng) -> ApiResult<Id> {
    if let Some(v) = platform.read(|conn| vehicles::list(conn, c))?.first() {
        return Ok(v.id);
    }
    let (make, model) = *CARS.choose(rng).unwrap_or(&CARS[0]);
    let req = NewVehicle {
        vin: random_vin(rng),
        plate: format!("B-PS {}", rng.random_range(100..9999)),
        make: make.into(),
        model: model.into(),
        year: Some(rng.random_range(2008..=2025)),
    };
    Ok(platform.write(|tx| vehicles::create(tx, c, &req))?.id)
}

/// What the simulation remembers about one technician.
#[derive(Debug)]
struct SimTech {
    who: Caller,
    pos: (f64, f64),
    seq: u64,
    /// When the current step of the job may happen next.
    next_step_at: i64,
    /// Offer id -> when this technician will answer it (`None`: lets it expire).
    answers: HashMap<Id, Option<i64>>,
}

/// Seeds the city, then simulates people until the platform closes.
/// Waits until a demo owner's order has a technician on the way and returns a share link
/// path for it (`/app/?track=…`): what the demo prints for watching in a browser.
pub async fn first_share_link(
    platform: &Platform,
    seeded: &Seeded,
    within: Duration,
) -> Option<String> {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        for (owner, _) in &seeded.owners {
            let active = platform
                .read(|c| orders::list(c, owner, None, 20))
                .ok()
                .and_then(|list| list.into_iter().find(|o| o.status.is_active_job()));
            if let Some(o) = active
                && let Ok(link) = platform.write(|tx| crate::share::create(tx, owner, o.id))
            {
                return Some(link.path);
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    None
}

pub async fn run(platform: Platform, cfg: DemoConfig, seeded: Seeded) {
    let mut rng = StdRng::seed_from_u64(cfg.seed.wrapping_add(1));
    let device = "demo-sim";
    let mut techs: Vec<SimTech> = seeded
        .technicians
        .iter()
        .map(|c| SimTech {
            who: c.clone(),
            pos: jitter(&mut rng, CENTER, 6.0),
            seq: (now_ms() as u64) * 10,
            next_step_at: 0,
            answers: HashMap::new(),
        })
        .collect();
    // Four in five start on shift.
    for t in &mut techs {
        let on = rng.random_bool(0.8);
        let req = ShiftChange {
            on_shift: on,
            lat: Some(t.pos.0),
            lon: Some(t.pos.1),
        };
        if let Err(e) =
            platform.write(|tx| technicians::set_shift(tx, platform.config(), &t.who, &req))
        {
            tracing::warn!(error = %e, "demo: shift");
        }
    }
    let mut closing = platform.closing();
    let mut next_order = now_ms();
    let mut interval = tokio::time::interval(cfg.tick);
    loop {
        tokio::select! {
            _ = closing.changed() => return,
            _ = interval.tick() => {}
        }
        let now = now_ms();
        if now >= next_order {
            next_order = now + cfg.order_every.as_millis() as i64;
            if let Err(e) = book(&platform, &seeded, &mut rng) {
                tracing::info!(error = %e, "demo: booking refused");
            }
        }
        for t in &mut techs {
            if let Err(e) = step_technician(&platform, t, &mut rng, device, cfg.tick) {
                tracing::info!(tech = %t.who.name, error = %e, "demo: technician step refused");
            }
        }
    }
}

fn book(platform: &Platform, seeded: &Seeded, rng: &mut StdRng) -> ApiResult<()> {
    let service = services::CATALOGUE
        .choose(rng)
        .map(|s| s.0)
        .unwrap_or("oil_change");
    // One booking in four is a walk-in taken by a desk.
    let (who, vehicle) = if rng.random_bool(0.25) {
        seeded.desks.choose(rng)
    } else {
        seeded.owners.choose(rng)
    }
    .cloned()
    .ok_or_else(|| crate::ApiError::internal(anyhow::anyhow!("demo has nobody to book")))?;
    // Half the cars stand at a known address, the others where a pin was dropped.
    let (lat, lon, address) = match crate::geocode::DEMO_PLACES.choose(rng) {
        Some(&(a, lat, lon)) if rng.random_bool(0.5) => (lat, lon, a.to_string()),
        _ => {
            let (lat, lon) = jitter(rng, CENTER, 5.0);
            (lat, lon, String::new())
        }
    };
    let now = now_ms();
    let req = NewOrder {
        vehicle_id: vehicle,
        service: service.into(),
        lat,
        lon,
        address,
        place_note: PLACE_NOTES.choose(rng).copied().unwrap_or_default().into(),
        window_start: now,
        window_end: now + 2 * 3600 * 1000,
        notes: String::new(),
        // A desk's walk-in: a made-up customer the relay can put calls through to.
        customer_name: (who.role == Role::Desk).then(|| {
            WALK_IN_NAMES
                .choose(rng)
                .copied()
                .unwrap_or("Walk-in")
                .to_string()
        }),
        customer_phone: (who.role == Role::Desk)
            .then(|| format!("+447700900{:03}", rng.random_range(400..1000))),
    };
    let order = platform.write(|tx| orders::create(tx, platform.config(), &who, &req))?;
    tracing::info!(order = order.id, service, by = %who.name, status = ?order.status, "demo: booked");
    Ok(())
}

fn step_technician(
    platform: &Platform,
    t: &mut SimTech,
    rng: &mut StdRng,
    device: &str,
    tick: Duration,
) -> ApiResult<()> {
    let now = now_ms();
    let me = platform.read(|c| technicians::me(c, &t.who))?;
    // Answer offers after a human-like pause; one in ten is left to expire.
    for offer in platform.read(|c| dispatch::pending_for(c, &t.who))? {
        let when = *t.answers.entry(offer.id).or_insert_with(|| {
            (!rng.random_bool(0.1)).then(|| now + rng.random_range(1_000..6_000))
        });
        if when.is_some_and(|w| now >= w) {
            if rng.random_bool(0.8) {
                platform.write(|tx| dispatch::accept(tx, &t.who, offer.id))?;
                tracing::info!(tech = %t.who.name, order = offer.order_id, "demo: accepted");
            } else {
                platform.write(|tx| dispatch::decline(tx, platform.config(), &t.who, offer.id))?;
            }
        }
    }
    let job = platform
        .read(|c| orders::list(c, &t.who, None, 5))?
        .into_iter()
        .find(|o| o.status.is_active_job());
    let mut moved = false;
    if let Some(job) = job {
        let dist = geo::haversine_m(t.pos.0, t.pos.1, job.lat, job.lon);
        let next = match job.status {
            OrderStatus::Assigned => Some(OrderStatus::EnRoute),
            OrderStatus::EnRoute => {
                let step = DRIVE_MPS * tick.as_secs_f64();
                if dist <= step.max(30.0) {
                    t.pos = (job.lat, job.lon);
                    moved = true;
                    Some(OrderStatus::Arrived)
                } else {
                    let f = step / dist;
                    t.pos = (
                        t.pos.0 + (job.lat - t.pos.0) * f,
                        t.pos.1 + (job.lon - t.pos.1) * f,
                    );
                    moved = true;
                    None
                }
            }
            OrderStatus::Arrived if now >= t.next_step_at => Some(OrderStatus::InProgress),
            OrderStatus::InProgress if now >= t.next_step_at => {
                platform.write(|tx| {
                    orders::add_part(tx, &t.who, job.id, "Wiper blades (customer asked)", 1, 1990)
                })?;
                Some(OrderStatus::Completed)
            }
            _ => None,
        };
        if let Some(next) = next {
            platform.write(|tx| orders::step(tx, &t.who, job.id, next, None))?;
            t.next_step_at = now + rng.random_range(3_000..10_000);
        }
    } else if me.on_shift && rng.random_bool(0.01) || !me.on_shift && rng.random_bool(0.03) {
        let req = ShiftChange {
            on_shift: !me.on_shift,
            lat: Some(t.pos.0),
            lon: Some(t.pos.1),
        };
        platform.write(|tx| technicians::set_shift(tx, platform.config(), &t.who, &req))?;
    }
    // Phones on shift report every few seconds even when idle; while driving, every tick.
    if me.on_shift && (moved || rng.random_bool(0.2)) {
        t.seq += 1;
        let fix = Fix {
            seq: t.seq,
            t: now,
            lat: t.pos.0,
            lon: t.pos.1,
            accuracy_m: 5.0,
            speed_mps: Some(if moved { DRIVE_MPS as f32 } else { 0.0 }),
            heading_deg: None,
        };
        let batch = LocationBatch {
            device_id: format!("{device}-{}", t.who.id),
            fixes: vec![fix],
        };
        platform.write(|tx| location::ingest(tx, &t.who, &batch))?;
    }
    Ok(())
}
