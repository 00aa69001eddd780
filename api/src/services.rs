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
    /// Of the price: the standard parts (filter, pads, …) and consumables (oil, cleaner,
    /// small parts); the rest is labour. Shown before booking so the price is transparent.
    #[serde(default)]
    pub parts_cents: i64,
    #[serde(default)]
    pub consumables_cents: i64,
}

impl ServiceType {
    /// The labour part of the price.
    pub fn labour_cents(&self) -> i64 {
        self.price_cents - self.parts_cents - self.consumables_cents
    }
}

/// `(code, standard parts, consumables)` in cents, inside each service's fixed price.
const BREAKDOWN: &[(&str, i64, i64)] = &[
    ("oil_change", 3_400, 1_500),
    ("brake_pads", 7_900, 600),
    ("tyre_swap", 0, 400),
    ("battery", 9_900, 0),
    ("diagnostics", 0, 0),
    ("ac_service", 0, 3_900),
];

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
        .map(|&(code, name, skill, price_cents, minutes)| {
            let (parts_cents, consumables_cents) = BREAKDOWN
                .iter()
                .find(|b| b.0 == code)
                .map_or((0, 0), |b| (b.1, b.2));
            ServiceType {
                code: code.into(),
                name: name.into(),
                skill: skill.into(),
                price_cents,
                minutes,
                parts_cents,
                consumables_cents,
            }
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

#[cfg(test)]
mod breakdown_tests {
    #[test]
    fn every_price_splits_into_labour_parts_and_consumables() {
        for s in super::catalogue() {
            assert!(s.labour_cents() > 0, "{}: labour left", s.code);
            assert_eq!(
                s.labour_cents() + s.parts_cents + s.consumables_cents,
                s.price_cents
            );
        }
    }
}
