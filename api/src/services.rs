//! The service catalogue: what can be booked, which skill it needs, and its up-front price.

use serde::{Deserialize, Serialize};

/// One bookable service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceType {
    /// Stable code used in orders.
    pub code: String,
    /// Name shown to people.
    pub name: String,
    /// Skill a technician must have to be offered it.
    pub skill: String,
    /// Price shown before booking, in cents; labour and standard parts included.
    pub price_cents: i64,
    /// Typical time on site.
    pub minutes: u32,
}

/// `(code, name, skill, price_cents, minutes)` of every service.
pub const CATALOGUE: &[(&str, &str, &str, i64, u32)] = &[
    ("oil_change", "Oil and filter change", "oil", 8_900, 45),
    ("brake_pads", "Brake pads, front axle", "brakes", 18_900, 90),
    ("tyre_swap", "Seasonal tyre swap", "tyres", 6_900, 40),
    (
        "battery",
        "Battery test and replacement",
        "electrical",
        14_900,
        30,
    ),
    (
        "diagnostics",
        "Engine diagnostics (OBD scan)",
        "diagnostics",
        5_900,
        30,
    ),
    ("ac_service", "Air-conditioning service", "ac", 11_900, 60),
];

/// The whole catalogue as wire values.
pub fn catalogue() -> Vec<ServiceType> {
    CATALOGUE
        .iter()
        .map(|&(code, name, skill, price_cents, minutes)| ServiceType {
            code: code.into(),
            name: name.into(),
            skill: skill.into(),
            price_cents,
            minutes,
        })
        .collect()
}

/// Looks a service up by code.
pub fn find(code: &str) -> Option<ServiceType> {
    catalogue().into_iter().find(|s| s.code == code)
}

/// Every skill some service needs.
pub fn skills() -> Vec<&'static str> {
    CATALOGUE.iter().map(|s| s.2).collect()
}
