//! Distances and the ETA rule, shared so that the platform, core and the UI print the same
//! numbers.

/// Mean Earth radius in metres (IUGG).
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Roads are longer than straight lines; this factor turns one into the other on average
/// in a city grid.
pub const ROAD_FACTOR: f64 = 1.3;
/// The speed assumed for the ETA until a routing engine is plugged in: 30 km/h in town.
pub const ASSUMED_SPEED_MPS: f64 = 30.0 / 3.6;

/// Great-circle distance between two WGS84 points, in metres.
pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

/// Seconds to cover `straight_line_m` by road at the assumed city speed, rounded up.
pub fn eta_seconds(straight_line_m: f64) -> i64 {
    (straight_line_m * ROAD_FACTOR / ASSUMED_SPEED_MPS).ceil() as i64
}

/// A latitude/longitude pair that is finite and inside the WGS84 ranges.
pub fn valid_coordinates(lat: f64, lon: f64) -> bool {
    lat.is_finite()
        && lon.is_finite()
        && (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_degree_of_latitude_is_about_111_km() {
        let d = haversine_m(0.0, 0.0, 1.0, 0.0);
        assert!((d - 111_195.0).abs() < 50.0, "{d}");
    }

    #[test]
    fn eta_uses_road_factor_and_speed() {
        // 1 km straight -> 1.3 km by road at 8.33 m/s -> 156 s.
        assert_eq!(eta_seconds(1000.0), 156);
        assert_eq!(eta_seconds(1001.0), 157);
        assert_eq!(eta_seconds(0.0), 0);
    }

    #[test]
    fn coordinate_ranges() {
        assert!(valid_coordinates(52.5, 13.4));
        assert!(!valid_coordinates(91.0, 0.0));
        assert!(!valid_coordinates(0.0, -180.5));
        assert!(!valid_coordinates(f64::NAN, 0.0));
    }
}

/// Which maps app a Navigate button hands the destination to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapsApp {
    /// Android: a `geo:` URI, which opens the user's chosen maps app.
    Android,
    /// iOS: an Apple Maps link, which the system opens in Maps.
    Apple,
    /// Desktop and browsers: a web map with directions.
    Web,
}

/// A link that starts turn-by-turn directions to `lat`,`lon` in the platform's maps app;
/// `label` names the pin where the app shows one.
pub fn navigate_uri(app: MapsApp, lat: f64, lon: f64, label: &str) -> String {
    let label = percent(label);
    match app {
        MapsApp::Android => format!("geo:{lat:.6},{lon:.6}?q={lat:.6},{lon:.6}({label})"),
        MapsApp::Apple => {
            format!("https://maps.apple.com/?daddr={lat:.6},{lon:.6}&q={label}&dirflg=d")
        }
        MapsApp::Web => format!(
            "https://www.openstreetmap.org/directions?engine=fossgis_osrm_car&route=%3B{lat:.6}%2C{lon:.6}#map=16/{lat:.6}/{lon:.6}"
        ),
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters (UTF-8 bytes).
pub fn percent(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod navigate_tests {
    use super::*;

    #[test]
    fn each_app_gets_its_own_link_with_the_destination() {
        let (lat, lon) = (52.516_3, 13.377_7);
        assert_eq!(
            navigate_uri(MapsApp::Android, lat, lon, "Golf B-PS 1"),
            "geo:52.516300,13.377700?q=52.516300,13.377700(Golf%20B-PS%201)"
        );
        assert!(
            navigate_uri(MapsApp::Apple, lat, lon, "x")
                .starts_with("https://maps.apple.com/?daddr=52.516300,13.377700")
        );
        let web = navigate_uri(MapsApp::Web, lat, lon, "x");
        assert!(web.contains("route=%3B52.516300%2C13.377700"), "{web}");
        assert_eq!(percent("张 a/b"), "%E5%BC%A0%20a%2Fb");
    }
}
