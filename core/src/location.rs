//! The GPS buffer: fixes from any position source are filtered, written to SQLite first (so
//! a killed app loses none), and uploaded in compact gzipped batches when online.
//!
//! Position sources sit behind [`PositionSource`]: [`SimulatedRoute`] replays a route for
//! desktop, demos and tests; on phones the app shell feeds the OS location stream through a
//! [`ChannelSource`].

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use pitstop_api::{Fix, Millis, geo};
use serde::{Deserialize, Serialize};

/// A position as a source reports it, before filtering and numbering.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RawFix {
    pub t: Millis,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: f32,
    pub speed_mps: Option<f32>,
    pub heading_deg: Option<f32>,
}

/// Which fixes are worth keeping.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FixFilter {
    /// Fixes less accurate than this are dropped.
    pub max_accuracy_m: f32,
    /// A fix closer than this to the last kept one is dropped...
    pub min_distance_m: f64,
    /// ...unless this much time has passed (a heartbeat while parked).
    pub heartbeat: Duration,
    /// The heartbeat while a job is en route: the customer watching the map should see a
    /// position a few seconds old even while the car waits at a light. 4 s: with delivery
    /// under a second that stays within the 5 s goal, and the recorded ride's live upload
    /// costs 52x fewer bytes than one OsmAnd request per fix (3 s: 48.6x).
    pub live_heartbeat: Duration,
    /// Implied speeds above this are GPS jumps, not driving.
    pub max_speed_mps: f64,
}

impl Default for FixFilter {
    fn default() -> Self {
        Self {
            max_accuracy_m: 50.0,
            min_distance_m: 20.0,
            heartbeat: Duration::from_secs(60),
            live_heartbeat: Duration::from_secs(4),
            max_speed_mps: 70.0,
        }
    }
}

/// Why a fix was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    Invalid,
    Inaccurate,
    OutOfOrder,
    TooClose,
    ImpossibleJump,
}

impl FixFilter {
    /// Decides on `fix` given the last kept fix.
    pub fn check(&self, fix: &RawFix, last: Option<&Fix>) -> Result<(), Dropped> {
        self.check_as(fix, last, false)
    }

    /// [`Self::check`]; `live`: a job is en route, so the live heartbeat applies.
    pub fn check_as(&self, fix: &RawFix, last: Option<&Fix>, live: bool) -> Result<(), Dropped> {
        let heartbeat = if live {
            self.live_heartbeat
        } else {
            self.heartbeat
        };
        if !geo::valid_coordinates(fix.lat, fix.lon) || !fix.accuracy_m.is_finite() {
            return Err(Dropped::Invalid);
        }
        if fix.accuracy_m > self.max_accuracy_m {
            return Err(Dropped::Inaccurate);
        }
        let Some(last) = last else {
            return Ok(());
        };
        if fix.t <= last.t {
            return Err(Dropped::OutOfOrder);
        }
        let d = geo::haversine_m(last.lat, last.lon, fix.lat, fix.lon);
        let dt = (fix.t - last.t) as f64 / 1000.0;
        if d / dt > self.max_speed_mps {
            return Err(Dropped::ImpossibleJump);
        }
        if d < self.min_distance_m && (fix.t - last.t) < heartbeat.as_millis() as i64 {
            return Err(Dropped::TooClose);
        }
        Ok(())
    }
}

/// Where positions come from.
pub trait PositionSource: Send {
    /// The next fix, or `None` when the source has ended.
    fn next(&mut self) -> Pin<Box<dyn Future<Output = Option<RawFix>> + Send + '_>>;
}

/// Replays a route at a steady speed: straight legs between waypoints, optionally parked at
/// each waypoint, one fix per `interval` of simulated time.
#[derive(Debug, Clone)]
pub struct SimulatedRoute {
    fixes: std::vec::IntoIter<RawFix>,
    /// Real time between fixes handed out (zero: as fast as they are asked for).
    pace: Duration,
}

impl SimulatedRoute {
    /// A route through `waypoints` at `speed_mps`, starting at `start`, a fix every
    /// `interval`, parking `dwell` at each waypoint after the first.
    pub fn new(
        waypoints: &[(f64, f64)],
        speed_mps: f64,
        start: Millis,
        interval: Duration,
        dwell: Duration,
    ) -> Self {
        let step_ms = interval.as_millis().max(1) as i64;
        let mut out = Vec::new();
        let mut t = start;
        let mut push = |t: Millis, lat: f64, lon: f64, speed: f32, heading: Option<f32>| {
            out.push(RawFix {
                t,
                lat,
                lon,
                accuracy_m: 5.0,
                speed_mps: Some(speed),
                heading_deg: heading,
            })
        };
        for w in waypoints.windows(2) {
            let ((la1, lo1), (la2, lo2)) = (w[0], w[1]);
            let d = geo::haversine_m(la1, lo1, la2, lo2);
            let secs = d / speed_mps.max(0.1);
            let n = ((secs * 1000.0) / step_ms as f64).ceil().max(1.0) as i64;
            let heading = bearing(la1, lo1, la2, lo2);
            for i in 0..n {
                let f = i as f64 / n as f64;
                push(
                    t,
                    la1 + (la2 - la1) * f,
                    lo1 + (lo2 - lo1) * f,
                    speed_mps as f32,
                    Some(heading),
                );
                t += step_ms;
            }
            let parked = dwell.as_millis() as i64 / step_ms;
            for _ in 0..parked {
                push(t, la2, lo2, 0.0, None);
                t += step_ms;
            }
        }
        if let Some(&(la, lo)) = waypoints.last() {
            push(t, la, lo, 0.0, None);
        }
        Self {
            fixes: out.into_iter(),
            pace: Duration::ZERO,
        }
    }

    /// Hands fixes out in real time, `pace` apart.
    pub fn paced(mut self, pace: Duration) -> Self {
        self.pace = pace;
        self
    }

    /// How many fixes are left.
    pub fn remaining(&self) -> usize {
        self.fixes.len()
    }
}

impl Iterator for SimulatedRoute {
    type Item = RawFix;
    fn next(&mut self) -> Option<RawFix> {
        self.fixes.next()
    }
}

impl PositionSource for SimulatedRoute {
    fn next(&mut self) -> Pin<Box<dyn Future<Output = Option<RawFix>> + Send + '_>> {
        Box::pin(async move {
            if !self.pace.is_zero() {
                tokio::time::sleep(self.pace).await;
            }
            self.fixes.next()
        })
    }
}

/// Fixes pushed from elsewhere (the phone's location callback in the app shell).
#[derive(Debug)]
pub struct ChannelSource(pub tokio::sync::mpsc::Receiver<RawFix>);

impl PositionSource for ChannelSource {
    fn next(&mut self) -> Pin<Box<dyn Future<Output = Option<RawFix>> + Send + '_>> {
        Box::pin(self.0.recv())
    }
}

/// Initial bearing from point 1 to point 2, degrees clockwise from north.
pub fn bearing(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f32 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dl = (lon2 - lon1).to_radians();
    let y = dl.sin() * p2.cos();
    let x = p1.cos() * p2.sin() - p1.sin() * p2.cos() * dl.cos();
    (y.atan2(x).to_degrees().rem_euclid(360.0)) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last(t: Millis, lat: f64) -> Fix {
        Fix {
            seq: 1,
            t,
            lat,
            lon: 13.4,
            accuracy_m: 5.0,
            speed_mps: None,
            heading_deg: None,
        }
    }

    fn raw(t: Millis, lat: f64, acc: f32) -> RawFix {
        RawFix {
            t,
            lat,
            lon: 13.4,
            accuracy_m: acc,
            speed_mps: None,
            heading_deg: None,
        }
    }

    #[test]
    fn filter_drops_noise_and_keeps_movement_and_heartbeats() {
        let f = FixFilter::default();
        let l = last(0, 52.5);
        assert_eq!(
            f.check(&raw(1000, 52.5, 200.0), Some(&l)),
            Err(Dropped::Inaccurate)
        );
        assert_eq!(
            f.check(&raw(1000, 52.50001, 5.0), Some(&l)),
            Err(Dropped::TooClose)
        );
        assert_eq!(f.check(&raw(61_000, 52.50001, 5.0), Some(&l)), Ok(()));
        // En route, a parked car still sends a fix every few seconds for the customer.
        assert_eq!(
            f.check_as(&raw(3_900, 52.50001, 5.0), Some(&l), true),
            Err(Dropped::TooClose)
        );
        assert_eq!(
            f.check_as(&raw(4_000, 52.50001, 5.0), Some(&l), true),
            Ok(())
        );
        assert_eq!(f.check(&raw(2000, 52.5003, 5.0), Some(&l)), Ok(())); // 33 m in 2 s
        assert_eq!(
            f.check(&raw(1000, 52.6, 5.0), Some(&l)),
            Err(Dropped::ImpossibleJump)
        );
        assert_eq!(
            f.check(&raw(0, 52.6, 5.0), Some(&l)),
            Err(Dropped::OutOfOrder)
        );
        assert_eq!(f.check(&raw(0, 95.0, 5.0), None), Err(Dropped::Invalid));
    }

    #[test]
    fn simulated_route_covers_the_legs_at_the_given_speed() {
        let r = SimulatedRoute::new(
            &[(52.5, 13.4), (52.51, 13.4)],
            10.0,
            0,
            Duration::from_secs(1),
            Duration::from_secs(30),
        );
        let fixes: Vec<RawFix> = r.collect();
        // 1112 m at 10 m/s: 112 driving fixes, 30 parked, 1 final.
        assert_eq!(fixes.len(), 112 + 30 + 1);
        assert!((fixes.last().unwrap().lat - 52.51).abs() < 1e-9);
        assert!(fixes.windows(2).all(|w| w[1].t - w[0].t == 1000));
        assert!((bearing(52.5, 13.4, 52.51, 13.4) - 0.0).abs() < 0.01);
    }
}
