//! Address search and reverse lookup behind the [`Geocoder`] trait: an adapter for any
//! Nominatim-compatible HTTP service (`--geocoder-url`) and a small built-in gazetteer of the
//! demo city (`--demo` without a URL). With neither, the endpoints answer 503 and people
//! type the address and place the pin themselves.

use std::num::NonZeroU32;
use std::time::Duration;

use futures::future::BoxFuture;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use pitstop_api::text::{self, Lines};
use pitstop_api::{GeoPlace, Id, geo};

use crate::{ApiError, ApiResult};

/// Results of one search, at most.
pub const MAX_RESULTS: usize = 5;
/// A pin is "at" a gazetteer address within this distance.
const REVERSE_RADIUS_M: f64 = 250.0;
/// Largest answer read from the geocoding service.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// Turns words into places and places into words.
pub trait Geocoder: Send + Sync + std::fmt::Debug {
    /// Places matching `query`, best first; `lang` is an `Accept-Language` value.
    fn search<'a>(
        &'a self,
        query: &'a str,
        lang: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<Vec<GeoPlace>>>;
    /// The address at a point, if there is one near.
    fn reverse<'a>(
        &'a self,
        lat: f64,
        lon: f64,
        lang: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<Option<GeoPlace>>>;
}

/// A Nominatim-compatible service (`/search` and `/reverse` with `format=jsonv2`): the
/// public OpenStreetMap instance (mind its 1 request/s policy), a self-hosted one, or a
/// commercial provider speaking the same protocol.
#[derive(Debug)]
pub struct Nominatim {
    base: String,
    http: reqwest::Client,
}

#[derive(serde::Deserialize)]
struct NominatimPlace {
    lat: String,
    lon: String,
    display_name: String,
}

impl Nominatim {
    /// An adapter for the service at `base` with a 5-second deadline per request. Redirects
    /// are not followed (a misconfigured or hijacked service cannot point the platform at
    /// internal addresses).
    pub fn new(base: &str) -> anyhow::Result<Self> {
        Ok(Self {
            base: base.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(3))
                .timeout(Duration::from_secs(5))
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("pitstop-platform/", env!("CARGO_PKG_VERSION")))
                .build()?,
        })
    }

    async fn get(&self, path: &str, query: &[(&str, &str)], lang: &str) -> anyhow::Result<Vec<u8>> {
        let mut resp = self
            .http
            .get(format!("{}{path}", self.base))
            .query(query)
            .header(reqwest::header::ACCEPT_LANGUAGE, lang)
            .send()
            .await?;
        anyhow::ensure!(
            resp.status().is_success(),
            "the geocoder answered {}",
            resp.status()
        );
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await? {
            body.extend_from_slice(&chunk);
            anyhow::ensure!(
                body.len() <= MAX_ANSWER_BYTES,
                "the geocoder's answer is too large"
            );
        }
        Ok(body)
    }
}

/// A place from outside, checked like anything a person typed.
fn checked(p: NominatimPlace) -> Option<GeoPlace> {
    let (lat, lon) = (p.lat.parse().ok()?, p.lon.parse().ok()?);
    if !geo::valid_coordinates(lat, lon) {
        return None;
    }
    let address: String = p.display_name.chars().take(text::MAX_PLACE_CHARS).collect();
    let address = text::clean("address", &address, text::MAX_PLACE_CHARS, Lines::One, true).ok()?;
    Some(GeoPlace { address, lat, lon })
}

impl Geocoder for Nominatim {
    fn search<'a>(
        &'a self,
        query: &'a str,
        lang: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<Vec<GeoPlace>>> {
        Box::pin(async move {
            let limit = MAX_RESULTS.to_string();
            let body = self
                .get(
                    "/search",
                    &[("q", query), ("format", "jsonv2"), ("limit", &limit)],
                    lang,
                )
                .await?;
            let found: Vec<NominatimPlace> = serde_json::from_slice(&body)?;
            Ok(found
                .into_iter()
                .filter_map(checked)
                .take(MAX_RESULTS)
                .collect())
        })
    }

    fn reverse<'a>(
        &'a self,
        lat: f64,
        lon: f64,
        lang: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<Option<GeoPlace>>> {
        Box::pin(async move {
            let (lat, lon) = (lat.to_string(), lon.to_string());
            let body = self
                .get(
                    "/reverse",
                    &[
                        ("lat", &lat),
                        ("lon", &lon),
                        ("format", "jsonv2"),
                        ("zoom", "18"),
                    ],
                    lang,
                )
                .await?;
            // Nothing there is `{"error": "Unable to geocode"}`, not an HTTP error.
            Ok(serde_json::from_slice::<NominatimPlace>(&body)
                .ok()
                .and_then(checked))
        })
    }
}

/// A fixed list of addresses searched in memory: the demo city's, so the demo has address
/// search with no network. Not a real geocoder; it knows only its list.
#[derive(Debug)]
pub struct Gazetteer {
    places: Vec<GeoPlace>,
}

/// Addresses in the demo city (Berlin centre), with their real coordinates.
pub const DEMO_PLACES: &[(&str, f64, f64)] = &[
    ("Alexanderplatz 1, 10178 Berlin", 52.521_9, 13.413_2),
    ("Pariser Platz 1, 10117 Berlin", 52.516_3, 13.379_0),
    ("Friedrichstraße 43, 10117 Berlin", 52.507_6, 13.390_2),
    ("Potsdamer Platz 1, 10785 Berlin", 52.509_6, 13.376_0),
    ("Oranienstraße 25, 10999 Berlin", 52.500_9, 13.421_6),
    ("Kastanienallee 7, 10435 Berlin", 52.536_7, 13.408_0),
    ("Torstraße 140, 10119 Berlin", 52.529_1, 13.401_0),
    ("Warschauer Straße 34, 10243 Berlin", 52.507_2, 13.451_0),
    ("Karl-Marx-Allee 90, 10243 Berlin", 52.517_6, 13.436_0),
    ("Schönhauser Allee 36, 10435 Berlin", 52.540_0, 13.412_1),
    ("Kurfürstendamm 21, 10719 Berlin", 52.503_0, 13.332_5),
    ("Invalidenstraße 50, 10557 Berlin", 52.528_0, 13.373_0),
];

impl Gazetteer {
    pub fn new(places: &[(&str, f64, f64)]) -> Self {
        Self {
            places: places
                .iter()
                .map(|&(a, lat, lon)| GeoPlace {
                    address: a.to_string(),
                    lat,
                    lon,
                })
                .collect(),
        }
    }
}

impl Geocoder for Gazetteer {
    fn search<'a>(
        &'a self,
        query: &'a str,
        _lang: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<Vec<GeoPlace>>> {
        let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        let found = self
            .places
            .iter()
            .filter(|p| {
                let a = p.address.to_lowercase();
                words.iter().all(|w| a.contains(w.trim_matches(',')))
            })
            .take(MAX_RESULTS)
            .cloned()
            .collect();
        Box::pin(async move { Ok(found) })
    }

    fn reverse<'a>(
        &'a self,
        lat: f64,
        lon: f64,
        _lang: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<Option<GeoPlace>>> {
        let near = self
            .places
            .iter()
            .map(|p| (geo::haversine_m(lat, lon, p.lat, p.lon), p))
            .filter(|(d, _)| *d <= REVERSE_RADIUS_M)
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, p)| p.clone());
        Box::pin(async move { Ok(near) })
    }
}

/// The geocoder in use, if any, and a per-account limit that keeps one client from using up
/// the service's quota (the public Nominatim allows one request a second in all).
#[derive(Debug)]
pub struct Geocoding {
    geocoder: Option<Box<dyn Geocoder>>,
    per_account: DefaultKeyedRateLimiter<Id>,
    /// Everyone together: the service's own limit (the public Nominatim allows one request a
    /// second from a whole platform), so many accounts cannot get the platform blocked.
    overall: governor::DefaultDirectRateLimiter,
}

impl Geocoding {
    /// `per_second`: requests a second the service takes from this platform in all.
    pub fn new(geocoder: Option<Box<dyn Geocoder>>, per_second: u32) -> Self {
        let quota = Quota::per_second(NonZeroU32::MIN)
            .allow_burst(NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN));
        let overall = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
        Self {
            geocoder,
            per_account: governor::RateLimiter::keyed(quota),
            overall: governor::RateLimiter::direct(Quota::per_second(overall)),
        }
    }

    /// Whether address search works here.
    pub fn available(&self) -> bool {
        self.geocoder.is_some()
    }

    fn ready(&self, account: Id) -> ApiResult<&dyn Geocoder> {
        let g = self.geocoder.as_deref().ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "Address search is not set up on this platform. Type the address and place \
                 the pin on the map.",
            )
        })?;
        self.per_account.check_key(&account).map_err(|not_until| {
            let s = not_until
                .wait_time_from(DefaultClock::default().now())
                .as_secs()
                + 1;
            ApiError::too_many(
                format!("Too many address searches; wait {s} s and try again."),
                s,
            )
        })?;
        self.overall.check().map_err(|not_until| {
            let s = not_until
                .wait_time_from(DefaultClock::default().now())
                .as_secs()
                + 1;
            ApiError::too_many(
                format!(
                    "Address search is busy; wait {s} s, or type the address and place the pin."
                ),
                s,
            )
        })?;
        Ok(g)
    }

    /// Address search for `account`.
    pub async fn search(&self, account: Id, query: &str, lang: &str) -> ApiResult<Vec<GeoPlace>> {
        let q = text::clean("search", query, text::MAX_PLACE_CHARS, Lines::One, true)
            .map_err(ApiError::invalid)?;
        if q.chars().count() < 3 {
            return Err(ApiError::invalid(
                "Type at least 3 characters of the address.",
            ));
        }
        let g = self.ready(account)?;
        g.search(&q, lang).await.map_err(unreachable)
    }

    /// The address at a pin, for `account`.
    pub async fn reverse(
        &self,
        account: Id,
        lat: f64,
        lon: f64,
        lang: &str,
    ) -> ApiResult<GeoPlace> {
        if !geo::valid_coordinates(lat, lon) {
            return Err(ApiError::invalid(
                "Coordinates are out of range: latitude is -90..90 and longitude -180..180.",
            ));
        }
        let g = self.ready(account)?;
        g.reverse(lat, lon, lang)
            .await
            .map_err(unreachable)?
            .ok_or_else(|| {
                ApiError::not_found("There is no known address at this pin; type it in.")
            })
    }
}

fn unreachable(e: anyhow::Error) -> ApiError {
    tracing::warn!(error = %e, "geocoder failed");
    ApiError::new(
        axum::http::StatusCode::BAD_GATEWAY,
        "Address search is not answering right now. Type the address and place the pin on the map.",
    )
}

/// An `Accept-Language` value safe to pass on: short and plain.
pub fn language(header: Option<&str>) -> String {
    header
        .filter(|v| {
            v.len() <= 64
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ",;=.- ".contains(c))
        })
        .unwrap_or("en")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_gazetteer_finds_by_words_and_by_pin() {
        let g = Gazetteer::new(DEMO_PLACES);
        let found = g.search("oranien 25", "en").await.unwrap();
        assert_eq!(found.len(), 1);
        assert!(found[0].address.starts_with("Oranienstraße 25"));
        let at = g.reverse(52.5009, 13.4217, "en").await.unwrap().unwrap();
        assert_eq!(at.address, found[0].address);
        assert!(g.reverse(0.0, 0.0, "en").await.unwrap().is_none());
        assert_eq!(language(Some("zh-CN,zh;q=0.9")), "zh-CN,zh;q=0.9");
        assert_eq!(language(Some("x\r\ny")), "en");
    }
}
