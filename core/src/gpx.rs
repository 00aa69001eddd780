//! Recorded GPS tracks (GPX files) as a [`PositionSource`]: [`parse`] reads the track points,
//! [`GpxReplay`] plays them back with their own timing (optionally sped up), and [`fixes`]
//! turns them into [`RawFix`]es at once for benchmarks and filter tests.
//!
//! Only track points (`<trkpt>`) are read, from every `<trk>` and `<trkseg>` in document order;
//! routes (`<rtept>`) and waypoints (`<wpt>`) are planned positions with no recorded timing and
//! are skipped. Namespaces and prefixes are ignored (elements are matched by local name), and
//! unknown elements (`<extensions>`, heart rate, ...) are skipped. Besides `lat`, `lon` and
//! `<time>`, a point may carry `<ele>`, `<hdop>`, and a speed (m/s) and course (degrees) either
//! as GPX 1.0 `<speed>`/`<course>` children or inside `<extensions>` (Garmin's
//! `TrackPointExtension` v2 `speed`/`course`).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::DateTime;
use pitstop_api::{Millis, geo};
use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::events::Event;

use crate::location::{PositionSource, RawFix, bearing};

/// The accuracy reported for a point whose file gives no `<hdop>`: a typical phone or
/// handheld fix under open sky.
pub const DEFAULT_ACCURACY_M: f32 = 5.0;
/// Metres of accuracy per unit of HDOP (the usual rule of thumb for a consumer receiver).
pub const METRES_PER_HDOP: f32 = 5.0;
/// Below this distance between consecutive points no heading is derived (it would be noise).
const MIN_HEADING_DISTANCE_M: f64 = 2.0;

/// One recorded track point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpxPoint {
    /// When it was recorded, Unix milliseconds (from the point's RFC 3339 `<time>`).
    pub t: Millis,
    pub lat: f64,
    pub lon: f64,
    /// `<ele>`, metres.
    pub ele_m: Option<f64>,
    /// Speed as the device recorded it, m/s, if the file has one.
    pub speed_mps: Option<f32>,
    /// Course over ground as recorded, degrees clockwise from north, if the file has one.
    pub course_deg: Option<f32>,
    /// Horizontal dilution of precision, if the file has it.
    pub hdop: Option<f32>,
}

impl GpxPoint {
    /// The accuracy to report: `hdop` × [`METRES_PER_HDOP`], else [`DEFAULT_ACCURACY_M`].
    pub fn accuracy_m(&self) -> f32 {
        match self.hdop {
            Some(h) => h * METRES_PER_HDOP,
            None => DEFAULT_ACCURACY_M,
        }
    }
}

/// Why a GPX file could not be read. Track points are counted from 0 in document order.
#[derive(Debug, thiserror::Error)]
pub enum GpxError {
    /// The file is not well-formed XML.
    #[error("the GPX file is not well-formed XML at byte {position}: {source}")]
    Xml {
        position: u64,
        source: quick_xml::Error,
    },
    /// The root element is not `<gpx>`.
    #[error("not a GPX file: the root element is <{0}>, not <gpx>")]
    NotGpx(String),
    /// The file ended inside an element.
    #[error("the GPX file ends in the middle of an element (truncated?)")]
    Truncated,
    /// A track point lacks `lat` or `lon`.
    #[error("track point {index} has no {attribute} attribute")]
    MissingCoordinate {
        index: usize,
        attribute: &'static str,
    },
    /// A value is not a number, or a coordinate is out of range.
    #[error("track point {index} has an unusable {field} value {value:?}")]
    BadValue {
        index: usize,
        field: &'static str,
        value: String,
    },
    /// A track point has no `<time>`, so it cannot be replayed.
    #[error("track point {index} has no <time>, so the track cannot be replayed")]
    MissingTime { index: usize },
    /// A `<time>` is not an RFC 3339 timestamp.
    #[error("track point {index} has a <time> that is not an RFC 3339 timestamp: {value:?}")]
    BadTime { index: usize, value: String },
}

/// The child elements of a track point that are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Ele,
    Time,
    Hdop,
    Speed,
    Course,
}

impl Field {
    fn from_local_name(name: &str) -> Option<Self> {
        Some(match name {
            "ele" => Self::Ele,
            "time" => Self::Time,
            "hdop" => Self::Hdop,
            "speed" => Self::Speed,
            "course" => Self::Course,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::Ele => "ele",
            Self::Time => "time",
            Self::Hdop => "hdop",
            Self::Speed => "speed",
            Self::Course => "course",
        }
    }
}

/// A track point being read.
#[derive(Debug)]
struct Partial {
    index: usize,
    lat: f64,
    lon: f64,
    /// Depth below `<trkpt>` of the element being read (1: a direct child).
    depth: usize,
    /// The field whose text is being collected, and its depth.
    field: Option<(Field, usize)>,
    text: String,
    ele: Option<f64>,
    time: Option<Millis>,
    hdop: Option<f32>,
    speed: Option<(f32, usize)>,
    course: Option<(f32, usize)>,
}

impl Partial {
    fn new(index: usize, lat: f64, lon: f64) -> Self {
        Self {
            index,
            lat,
            lon,
            depth: 0,
            field: None,
            text: String::new(),
            ele: None,
            time: None,
            hdop: None,
            speed: None,
            course: None,
        }
    }

    fn bad(&self, field: Field, value: &str) -> GpxError {
        GpxError::BadValue {
            index: self.index,
            field: field.name(),
            value: value.to_owned(),
        }
    }

    fn number(&self, field: Field, value: &str) -> Result<f64, GpxError> {
        value
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| self.bad(field, value))
    }

    /// Stores the collected text of `field`, read at `depth`. `<ele>`, `<time>` and `<hdop>`
    /// count only as direct children; speed and course also from `<extensions>`, where a
    /// direct child wins over an extension.
    fn finish_field(&mut self, field: Field, depth: usize) -> Result<(), GpxError> {
        let text = std::mem::take(&mut self.text);
        let value = text.trim();
        let direct = depth == 1;
        match field {
            Field::Ele if direct => self.ele = Some(self.number(field, value)?),
            Field::Hdop if direct => self.hdop = Some(self.number(field, value)? as f32),
            Field::Time if direct => {
                let t = DateTime::parse_from_rfc3339(value).map_err(|_| GpxError::BadTime {
                    index: self.index,
                    value: value.to_owned(),
                })?;
                self.time = Some(t.timestamp_millis());
            }
            Field::Speed | Field::Course => {
                let v = self.number(field, value)? as f32;
                let slot = if field == Field::Speed {
                    &mut self.speed
                } else {
                    &mut self.course
                };
                if slot.is_none_or(|(_, d)| depth < d) {
                    *slot = Some((v, depth));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn finish(self) -> Result<GpxPoint, GpxError> {
        Ok(GpxPoint {
            t: self
                .time
                .ok_or(GpxError::MissingTime { index: self.index })?,
            lat: self.lat,
            lon: self.lon,
            ele_m: self.ele,
            speed_mps: self.speed.map(|(v, _)| v),
            course_deg: self.course.map(|(v, _)| v),
            hdop: self.hdop,
        })
    }
}

/// Reads the `lat` and `lon` attributes of a `<trkpt>`.
fn coordinates(
    e: &quick_xml::events::BytesStart<'_>,
    index: usize,
    position: u64,
) -> Result<(f64, f64), GpxError> {
    let (mut lat, mut lon) = (None, None);
    for attr in e.attributes() {
        let attr = attr.map_err(|err| GpxError::Xml {
            position,
            source: err.into(),
        })?;
        let slot = match attr.key.local_name().as_ref() {
            "lat" => &mut lat,
            "lon" => &mut lon,
            _ => continue,
        };
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|source| GpxError::Xml { position, source })?;
        *slot = Some(value.trim().to_owned());
    }
    let parse = |value: Option<String>, attribute: &'static str| {
        let value = value.ok_or(GpxError::MissingCoordinate { index, attribute })?;
        value.parse::<f64>().map_err(|_| GpxError::BadValue {
            index,
            field: attribute,
            value,
        })
    };
    let (lat, lon) = (parse(lat, "lat")?, parse(lon, "lon")?);
    if !geo::valid_coordinates(lat, lon) {
        return Err(GpxError::BadValue {
            index,
            field: "lat/lon",
            value: format!("{lat}, {lon}"),
        });
    }
    Ok((lat, lon))
}

/// The track points of a GPX 1.0 or 1.1 document, in document order (all tracks and segments
/// concatenated). Every point must have a `<time>`; the times are not checked for order.
pub fn parse(xml: &str) -> Result<Vec<GpxPoint>, GpxError> {
    // A byte-order mark is not XML; files saved by some Windows tools start with one.
    let xml = xml.strip_prefix('\u{feff}').unwrap_or(xml);
    let mut reader = Reader::from_str(xml);
    let mut points = Vec::new();
    let mut depth = 0usize;
    let mut current: Option<Partial> = None;
    loop {
        let event = reader.read_event().map_err(|source| GpxError::Xml {
            position: reader.error_position(),
            source,
        })?;
        match event {
            Event::Start(e) if depth == 0 => {
                is_gpx(&e)?;
                depth = 1;
            }
            // `<gpx/>`: an empty document.
            Event::Empty(e) if depth == 0 => is_gpx(&e)?,
            Event::Start(e) => {
                depth += 1;
                if let Some(p) = current.as_mut() {
                    p.depth += 1;
                    if p.field.is_none()
                        && let Some(field) = Field::from_local_name(e.local_name().as_ref())
                    {
                        p.field = Some((field, p.depth));
                        p.text.clear();
                    }
                } else if e.local_name().as_ref() == "trkpt" {
                    let (lat, lon) = coordinates(&e, points.len(), reader.buffer_position())?;
                    current = Some(Partial::new(points.len(), lat, lon));
                }
            }
            // `<trkpt lat=".." lon=".."/>` has no time (other empty elements carry no value).
            Event::Empty(e) if current.is_none() && e.local_name().as_ref() == "trkpt" => {
                let (lat, lon) = coordinates(&e, points.len(), reader.buffer_position())?;
                points.push(Partial::new(points.len(), lat, lon).finish()?);
            }
            Event::Text(t) => {
                if let Some(p) = current.as_mut().filter(|p| p.field.is_some()) {
                    p.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(p) = current.as_mut().filter(|p| p.field.is_some()) {
                    p.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(p) = current.as_mut().filter(|p| p.field.is_some()) {
                    let name = r.xml10_content();
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) => Some(c.to_string()),
                        _ => quick_xml::escape::resolve_predefined_entity(&name).map(str::to_owned),
                    };
                    // An unknown entity makes the value unusable, which the number or time
                    // parse then reports with the entity in it.
                    p.text
                        .push_str(&resolved.unwrap_or_else(|| format!("&{name};")));
                }
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if let Some(mut p) = current.take() {
                    if p.depth == 0 {
                        points.push(p.finish()?);
                    } else {
                        if let Some((field, d)) = p.field
                            && d == p.depth
                        {
                            p.field = None;
                            p.finish_field(field, d)?;
                        }
                        p.depth -= 1;
                        current = Some(p);
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if depth != 0 || current.is_some() {
        return Err(GpxError::Truncated);
    }
    Ok(points)
}

/// Checks that the root element is `<gpx>`, whatever its namespace.
fn is_gpx(root: &quick_xml::events::BytesStart<'_>) -> Result<(), GpxError> {
    let name = root.local_name();
    if name.as_ref() == "gpx" {
        Ok(())
    } else {
        Err(GpxError::NotGpx(name.as_ref().to_owned()))
    }
}

/// `speedup` as used: anything not finite and positive counts as real time (1.0).
fn effective_speedup(speedup: f64) -> f64 {
    if speedup.is_finite() && speedup > 0.0 {
        speedup
    } else {
        1.0
    }
}

/// The fixes for `points` with times `start + (recorded − first recorded) / speedup`, at once
/// (no waiting). With `speedup` 1.0 the recorded spacing is kept exactly; a larger one
/// compresses the trip into less time, as [`GpxReplay`] does when restamped.
///
/// `speed_mps` is the file's speed if it has one, else derived from the distance to the
/// previous point (to the next, for the first); either way scaled by `speedup`, so that the
/// speed a fix states agrees with the speed its `t` values imply. `heading_deg` is the file's
/// course, else the bearing from the previous point once it moved a couple of metres.
/// `accuracy_m` is `hdop` × 5 m, else 5 m.
///
/// Note the filter's jump check: [`crate::location::FixFilter`] drops implied speeds above
/// 70 m/s, so a drive at 50 km/h replayed faster than 5× (a bike ride, 9×) loses fixes there;
/// pass 1.0 where realistic speeds matter. Beyond 1000× consecutive fixes recorded a second
/// apart share a millisecond, and the filter drops the later ones as out of order.
pub fn fixes(points: &[GpxPoint], start: Millis, speedup: f64) -> Vec<RawFix> {
    let speedup = effective_speedup(speedup);
    let Some(first) = points.first() else {
        return Vec::new();
    };
    points
        .iter()
        .enumerate()
        .map(|(i, _)| restamp(recorded_fix(points, i), first.t, start, speedup))
        .collect()
}

/// `fix` (recorded time, real-time speed) moved to `start + (t − first) / speedup`, its speed
/// scaled to match.
fn restamp(mut fix: RawFix, first: Millis, start: Millis, speedup: f64) -> RawFix {
    fix.t = start + ((fix.t - first) as f64 / speedup).round() as Millis;
    fix.speed_mps = fix.speed_mps.map(|v| (f64::from(v) * speedup) as f32);
    fix
}

/// The fix for `points[i]` with its recorded time and real-time speed.
fn recorded_fix(points: &[GpxPoint], i: usize) -> RawFix {
    let p = &points[i];
    // The pair the derived speed and heading come from: (previous, this), or (this, next)
    // for the first point.
    let pair = if i > 0 {
        Some((&points[i - 1], p))
    } else {
        points.get(1).map(|next| (p, next))
    };
    let moved = pair.map(|(a, b)| (a, b, geo::haversine_m(a.lat, a.lon, b.lat, b.lon)));
    let speed = p.speed_mps.or_else(|| {
        let (a, b, d) = moved?;
        let dt = (b.t - a.t) as f64 / 1000.0;
        (dt > 0.0).then(|| (d / dt) as f32)
    });
    let heading = p.course_deg.or_else(|| {
        let (a, b, d) = moved?;
        (d >= MIN_HEADING_DISTANCE_M).then(|| bearing(a.lat, a.lon, b.lat, b.lon))
    });
    RawFix {
        t: p.t,
        lat: p.lat,
        lon: p.lon,
        accuracy_m: p.accuracy_m(),
        speed_mps: speed,
        heading_deg: heading,
    }
}

/// How the replayed fixes are stamped.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stamps {
    /// The recorded times, unchanged.
    Recorded,
    /// `start + (recorded − first) / speedup`; `None`: the wall clock when the first fix is
    /// handed out.
    From(Option<Millis>),
}

/// Replays a recorded track as a [`PositionSource`]: the first fix at once, each following one
/// when its recorded gap divided by `speedup` has passed since the replay started (so a slow
/// consumer finds overdue fixes waiting, as with a real receiver, rather than shifting the
/// rest of the trip later).
///
/// By default the fixes keep their recorded times. [`restamped`](Self::restamped) makes the
/// trace start "now" instead, with `t = now + (recorded − first) / speedup`: the recorded
/// spacing compressed by the same factor as the replay itself. That keeps every fix's `t`
/// equal to the wall-clock moment it is handed out, which is what the platform and the
/// filter compare against (fix age, heartbeat, the outbox's "now"); keeping the recorded
/// spacing at a speedup would stamp fixes ever further in the future. The cost is that the
/// vehicle is seen moving `speedup` times faster, and the stated speeds say so too (see
/// [`fixes`]).
#[derive(Debug, Clone)]
pub struct GpxReplay {
    points: Vec<GpxPoint>,
    next: usize,
    speedup: f64,
    stamps: Stamps,
    /// When the first fix was handed out, on the tokio clock and the wall clock.
    started: Option<(tokio::time::Instant, Millis)>,
}

impl GpxReplay {
    /// A replay of `points` at `speedup` times real time (1.0: real time; anything not finite
    /// and positive counts as 1.0), keeping the recorded times.
    pub fn new(points: Vec<GpxPoint>, speedup: f64) -> Self {
        Self {
            points,
            next: 0,
            speedup: effective_speedup(speedup),
            stamps: Stamps::Recorded,
            started: None,
        }
    }

    /// Parses a GPX document and replays its track points.
    pub fn from_gpx(xml: &str, speedup: f64) -> Result<Self, GpxError> {
        Ok(Self::new(parse(xml)?, speedup))
    }

    /// Stamps the fixes as if the trip started when the first fix is handed out.
    pub fn restamped(mut self) -> Self {
        self.stamps = Stamps::From(None);
        self
    }

    /// Stamps the fixes as if the trip started at `start` (Unix ms).
    pub fn starting_at(mut self, start: Millis) -> Self {
        self.stamps = Stamps::From(Some(start));
        self
    }

    /// The speedup in use.
    pub fn speedup(&self) -> f64 {
        self.speedup
    }

    /// How many fixes are left.
    pub fn remaining(&self) -> usize {
        self.points.len() - self.next
    }

    /// Real time from the first fix to `points[i]`.
    fn due_after(&self, i: usize) -> Duration {
        let recorded_ms = (self.points[i].t - self.points[0].t).max(0) as f64;
        Duration::from_secs_f64(recorded_ms / 1000.0 / self.speedup)
    }

    /// The fix for `points[i]`, stamped as configured.
    fn fix(&self, i: usize, now: Millis) -> RawFix {
        let fix = recorded_fix(&self.points, i);
        match self.stamps {
            Stamps::Recorded => fix,
            Stamps::From(start) => {
                restamp(fix, self.points[0].t, start.unwrap_or(now), self.speedup)
            }
        }
    }
}

impl PositionSource for GpxReplay {
    fn next(&mut self) -> Pin<Box<dyn Future<Output = Option<RawFix>> + Send + '_>> {
        Box::pin(async move {
            let i = self.next;
            if i >= self.points.len() {
                return None;
            }
            let (started, wall) = match self.started {
                Some(s) => s,
                None => {
                    let s = (tokio::time::Instant::now(), crate::store::now_ms());
                    self.started = Some(s);
                    s
                }
            };
            tokio::time::sleep_until(started + self.due_after(i)).await;
            self.next += 1;
            Some(self.fix(i, wall))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="hand" xmlns="http://www.topografix.com/GPX/1/1"
     xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v2">
  <metadata><time>2020-01-01T00:00:00Z</time></metadata>
  <wpt lat="1" lon="1"><time>2019-01-01T00:00:00Z</time></wpt>
  <trk><name>t</name><trkseg>
    <trkpt lat="52.5000" lon="13.4000"><ele>34.5</ele><time>2021-06-01T10:00:00Z</time>
      <hdop>2</hdop></trkpt>
    <trkpt lon="13.4000" lat="52.5001"><time>2021-06-01T12:00:01+02:00</time>
      <extensions><gpxtpx:TrackPointExtension><gpxtpx:speed>3.5</gpxtpx:speed>
      <gpxtpx:course>10</gpxtpx:course></gpxtpx:TrackPointExtension></extensions></trkpt>
  </trkseg><trkseg>
    <trkpt lat="52.5003" lon="13.4000"><time>2021-06-01T10:00:03.500Z</time></trkpt>
  </trkseg></trk>
  <rte><rtept lat="2" lon="2"/></rte>
</gpx>"#;

    fn real_trace() -> String {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/data/traces/stoplight-sample-ride.gpx"
        );
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn parses_a_tiny_track_with_namespaces_extensions_and_offsets() {
        let pts = parse(TINY).unwrap();
        assert_eq!(pts.len(), 3);
        let t0 = 1_622_541_600_000; // 2021-06-01T10:00:00Z
        assert_eq!(pts[0].t, t0);
        assert_eq!(pts[1].t, t0 + 1000); // +02:00 offset honoured
        assert_eq!(pts[2].t, t0 + 3500);
        assert_eq!(pts[0].ele_m, Some(34.5));
        assert_eq!(pts[0].accuracy_m(), 10.0);
        assert_eq!(pts[1].accuracy_m(), DEFAULT_ACCURACY_M);
        assert_eq!(pts[1].speed_mps, Some(3.5));
        assert_eq!(pts[1].course_deg, Some(10.0));
        assert!((pts[2].lat - 52.5003).abs() < 1e-12);

        let f = fixes(&pts, 0, 1.0);
        assert_eq!(f.iter().map(|f| f.t).collect::<Vec<_>>(), [0, 1000, 3500]);
        assert_eq!(f[1].speed_mps, Some(3.5)); // the file's speed wins
        let derived = f[2].speed_mps.unwrap(); // 22.2 m in 2.5 s
        assert!((derived - 8.9).abs() < 0.1, "{derived}");
        assert!(f[2].heading_deg.unwrap() < 0.1); // due north
        assert!((f[0].speed_mps.unwrap() - 11.1).abs() < 0.1); // forward difference
        let fast = fixes(&pts, 0, 2.0);
        assert_eq!(fast.iter().map(|f| f.t).collect::<Vec<_>>(), [0, 500, 1750]);
        assert!((fast[2].speed_mps.unwrap() - 2.0 * derived).abs() < 1e-3);
    }

    #[test]
    fn rejects_what_cannot_be_replayed() {
        let gpx = |pt: &str| format!("<gpx><trk><trkseg>{pt}</trkseg></trk></gpx>");
        let err = |pt: &str| parse(&gpx(pt)).unwrap_err();
        assert!(matches!(
            err(r#"<trkpt lat="1" lon="2"></trkpt>"#),
            GpxError::MissingTime { index: 0 }
        ));
        assert!(matches!(
            err(r#"<trkpt lat="1" lon="2"/>"#),
            GpxError::MissingTime { index: 0 }
        ));
        assert!(matches!(
            err(r#"<trkpt lat="1"><time>2021-01-01T00:00:00Z</time></trkpt>"#),
            GpxError::MissingCoordinate {
                attribute: "lon",
                ..
            }
        ));
        assert!(matches!(
            err(r#"<trkpt lat="91" lon="2"><time>2021-01-01T00:00:00Z</time></trkpt>"#),
            GpxError::BadValue { .. }
        ));
        assert!(matches!(
            err(r#"<trkpt lat="1" lon="2"><time>yesterday</time></trkpt>"#),
            GpxError::BadTime { .. }
        ));
        assert!(matches!(
            err(
                r#"<trkpt lat="1" lon="2"><ele>high</ele><time>2021-01-01T00:00:00Z</time></trkpt>"#
            ),
            GpxError::BadValue { field: "ele", .. }
        ));
        assert!(matches!(
            parse("<kml><trkpt/></kml>").unwrap_err(),
            GpxError::NotGpx(_)
        ));
        assert!(matches!(
            parse("<gpx><trk><trkseg><trkpt lat='1' lon='2'>").unwrap_err(),
            GpxError::Truncated
        ));
        assert!(matches!(
            parse("<gpx><trk></gpx>").unwrap_err(),
            GpxError::Xml { .. }
        ));
        assert!(parse("<gpx/>").unwrap().is_empty());
        assert!(parse("\u{feff}<gpx></gpx>").unwrap().is_empty());
    }

    #[test]
    fn parses_the_recorded_ride() {
        let pts = parse(&real_trace()).unwrap();
        assert!(pts.len() > 100, "{}", pts.len());
        assert_eq!(pts.len(), 850);
        assert!(pts.windows(2).all(|w| w[0].t < w[1].t));
        let minutes = (pts[pts.len() - 1].t - pts[0].t) as f64 / 60_000.0;
        assert!((minutes - 22.3).abs() < 0.05, "{minutes}");
        let km: f64 = pts
            .windows(2)
            .map(|w| geo::haversine_m(w[0].lat, w[0].lon, w[1].lat, w[1].lon))
            .sum::<f64>()
            / 1000.0;
        assert!((km - 7.59).abs() < 0.01, "{km}");
        // A bike in town: mostly below 50 km/h, with a few GPS jumps above.
        let f = fixes(&pts, 0, 1.0);
        let fast = f
            .iter()
            .filter(|f| f.speed_mps.unwrap() > 50.0 / 3.6)
            .count();
        assert!(fast < 20, "{fast}");
    }

    #[tokio::test]
    async fn replay_at_a_large_speedup_yields_every_point_in_order() {
        let pts = parse(&real_trace()).unwrap();
        // 22 minutes at 100 000×: about 13 ms.
        let mut replay = GpxReplay::new(pts.clone(), 100_000.0);
        let mut got = Vec::new();
        while let Some(fix) = PositionSource::next(&mut replay).await {
            got.push(fix);
        }
        assert_eq!(replay.remaining(), 0);
        assert_eq!(got.len(), pts.len());
        for (fix, p) in got.iter().zip(&pts) {
            assert_eq!((fix.t, fix.lat, fix.lon), (p.t, p.lat, p.lon));
        }

        let start = 1_700_000_000_000;
        let mut replay = GpxReplay::new(pts.clone(), 1000.0).starting_at(start);
        let mut ts = Vec::new();
        while let Some(fix) = PositionSource::next(&mut replay).await {
            ts.push(fix.t);
        }
        assert_eq!(ts.len(), pts.len());
        assert_eq!(ts[0], start);
        assert!(ts.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(ts[ts.len() - 1], start + (pts[849].t - pts[0].t) / 1000);
    }

    #[tokio::test]
    async fn replay_waits_the_recorded_gaps_divided_by_the_speedup() {
        // Fixes 0, 1 and 3 s apart at 10×: 0, 100 and 300 ms after the first.
        let mut pts = parse(TINY).unwrap();
        pts[2].t = pts[0].t + 3000;
        let mut replay = GpxReplay::new(pts, 10.0).restamped();
        let began = std::time::Instant::now();
        let first = PositionSource::next(&mut replay).await.unwrap();
        assert!(began.elapsed() < Duration::from_millis(50));
        let second = PositionSource::next(&mut replay).await.unwrap();
        let third = PositionSource::next(&mut replay).await.unwrap();
        let elapsed = began.elapsed();
        assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
        assert!(elapsed < Duration::from_millis(2000), "{elapsed:?}");
        assert!(PositionSource::next(&mut replay).await.is_none());
        // Restamped from the wall clock, spacing compressed like the replay.
        let now = crate::store::now_ms();
        assert!((now - first.t - 300).abs() < 1000);
        assert_eq!(second.t - first.t, 100);
        assert_eq!(third.t - first.t, 300);
    }
}
