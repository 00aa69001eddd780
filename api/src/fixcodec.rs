//! A compact binary encoding of GPS fix batches for `POST /v1/locations/compact`, so a whole
//! shift of positions costs kilobytes, not megabytes.
//!
//! Layout (version 1), every integer a LEB128 varint, signed ones zigzag-encoded:
//! ```text
//! "PF" 0x01 | device_id length + UTF-8 | fix count
//! per fix: flags (bit0 speed, bit1 heading) | seq delta | time delta-of-delta (ms)
//!          | lat delta | lon delta (units of 1e-5 degree, about 1.1 m)
//!          | accuracy (whole metres) | speed (0.1 m/s) if bit0 | heading (whole degrees) if bit1
//! ```
//! The first fix's deltas are taken from zero, so a batch decodes on its own. Positions are
//! rounded to 1e-5 degree and times stay exact, so (device, seq) idempotency is unaffected.
//! Callers usually gzip the result (`Content-Encoding: gzip`): steady deltas compress well.

use crate::{Fix, LocationBatch};

const MAGIC: &[u8; 3] = b"PF\x01";
/// Content type of an encoded batch.
pub const CONTENT_TYPE: &str = "application/vnd.pitstop.fixes.v1";
const SCALE: f64 = 1e5;

fn put(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn put_i(out: &mut Vec<u8>, v: i64) {
    put(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// Encodes a batch.
pub fn encode(batch: &LocationBatch) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + batch.fixes.len() * 8);
    out.extend_from_slice(MAGIC);
    put(&mut out, batch.device_id.len() as u64);
    out.extend_from_slice(batch.device_id.as_bytes());
    put(&mut out, batch.fixes.len() as u64);
    let (mut seq, mut t, mut dt, mut lat, mut lon) = (0u64, 0i64, 0i64, 0i64, 0i64);
    for f in &batch.fixes {
        let flags = u8::from(f.speed_mps.is_some()) | (u8::from(f.heading_deg.is_some()) << 1);
        out.push(flags);
        put_i(&mut out, f.seq as i64 - seq as i64);
        let this_dt = f.t - t;
        put_i(&mut out, this_dt - dt);
        let (la, lo) = (
            (f.lat * SCALE).round() as i64,
            (f.lon * SCALE).round() as i64,
        );
        put_i(&mut out, la - lat);
        put_i(&mut out, lo - lon);
        put(&mut out, f.accuracy_m.max(0.0).round() as u64);
        if let Some(s) = f.speed_mps {
            put(&mut out, (s.max(0.0) * 10.0).round() as u64);
        }
        if let Some(h) = f.heading_deg {
            put(&mut out, h.max(0.0).round() as u64);
        }
        (seq, t, dt, lat, lon) = (f.seq, f.t, this_dt, la, lo);
    }
    out
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, String> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| format!("truncated at byte {}", self.pos))?;
        self.pos += 1;
        Ok(b)
    }

    fn uint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(format!("varint too long at byte {}", self.pos))
    }

    fn int(&mut self) -> Result<i64, String> {
        let v = self.uint()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }
}

/// Decodes a batch; `max_fixes` bounds the work a hostile count can cause.
pub fn decode(buf: &[u8], max_fixes: usize) -> Result<LocationBatch, String> {
    if buf.len() < 3 || &buf[..3] != MAGIC {
        return Err("not a Pitstop fix batch (bad magic or version)".into());
    }
    let mut r = Reader { buf, pos: 3 };
    let len = r.uint()? as usize;
    if len > 64 || r.pos + len > buf.len() {
        return Err("bad device id length".into());
    }
    let device_id = std::str::from_utf8(&buf[r.pos..r.pos + len])
        .map_err(|_| "device id is not UTF-8".to_string())?
        .to_string();
    r.pos += len;
    let count = r.uint()? as usize;
    if count > max_fixes {
        return Err(format!("{count} fixes in one batch; at most {max_fixes}"));
    }
    let mut fixes = Vec::with_capacity(count);
    let (mut seq, mut t, mut dt, mut lat, mut lon) = (0i64, 0i64, 0i64, 0i64, 0i64);
    for _ in 0..count {
        let flags = r.byte()?;
        seq = seq.checked_add(r.int()?).ok_or("seq overflow")?;
        dt = dt.checked_add(r.int()?).ok_or("time overflow")?;
        t = t.checked_add(dt).ok_or("time overflow")?;
        lat = lat.checked_add(r.int()?).ok_or("latitude overflow")?;
        lon = lon.checked_add(r.int()?).ok_or("longitude overflow")?;
        let accuracy_m = r.uint()? as f32;
        let speed_mps = if flags & 1 != 0 {
            Some(r.uint()? as f32 / 10.0)
        } else {
            None
        };
        let heading_deg = if flags & 2 != 0 {
            Some(r.uint()? as f32)
        } else {
            None
        };
        if seq < 0 {
            return Err("negative sequence number".into());
        }
        fixes.push(Fix {
            seq: seq as u64,
            t,
            lat: lat as f64 / SCALE,
            lon: lon as f64 / SCALE,
            accuracy_m,
            speed_mps,
            heading_deg,
        });
    }
    if r.pos != buf.len() {
        return Err(format!("{} trailing bytes", buf.len() - r.pos));
    }
    Ok(LocationBatch { device_id, fixes })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch() -> LocationBatch {
        let fixes = (0..100u64)
            .map(|i| Fix {
                seq: 1000 + i,
                t: 1_700_000_000_000 + i as i64 * 1000,
                lat: 52.5 + i as f64 * 0.0001,
                lon: 13.4 - i as f64 * 0.00005,
                accuracy_m: 4.0,
                speed_mps: (i % 2 == 0).then_some(11.3),
                heading_deg: Some(271.0),
            })
            .collect();
        LocationBatch {
            device_id: "phone-7".into(),
            fixes,
        }
    }

    #[test]
    fn round_trips_within_resolution() {
        let b = batch();
        let bytes = encode(&b);
        assert!(bytes.len() < b.fixes.len() * 12, "{} bytes", bytes.len());
        let back = decode(&bytes, 1000).unwrap();
        assert_eq!(back.device_id, b.device_id);
        for (a, z) in b.fixes.iter().zip(&back.fixes) {
            assert_eq!((a.seq, a.t), (z.seq, z.t));
            assert!((a.lat - z.lat).abs() < 1e-5 && (a.lon - z.lon).abs() < 1e-5);
            assert_eq!(a.speed_mps.is_some(), z.speed_mps.is_some());
            assert_eq!(z.heading_deg, Some(271.0));
        }
    }

    #[test]
    fn hostile_input_is_an_error_not_a_panic() {
        let bytes = encode(&batch());
        for cut in [0, 2, 3, 5, 20, bytes.len() - 1] {
            assert!(decode(&bytes[..cut], 1000).is_err(), "cut at {cut}");
        }
        assert!(decode(&bytes, 10).unwrap_err().contains("at most"));
        let mut junk = bytes.clone();
        junk.push(0);
        assert!(decode(&junk, 1000).unwrap_err().contains("trailing"));
        assert!(
            decode(
                b"PF\x01\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
                1000
            )
            .is_err()
        );
    }
}
