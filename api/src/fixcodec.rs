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
//!
//! The *stream* form (`POST /v1/locations/stream`, [`STREAM_CONTENT_TYPE`]) is the same fixes
//! in one long request body, written as they are measured: `"PS" 0x01 | device_id length +
//! UTF-8`, then fixes back to back with no count, each delta taken from the fix before it in
//! the stream ([`StreamEncoder`], [`StreamDecoder`]). A kept fix then costs a handful of
//! bytes on the wire instead of a request.

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

/// Content type of a fix stream.
pub const STREAM_CONTENT_TYPE: &str = "application/vnd.pitstop.fix-stream.v1";
const STREAM_MAGIC: &[u8; 3] = b"PS\x01";

/// What each fix is encoded relative to: the fix before it.
#[derive(Debug, Clone, Copy, Default)]
struct Deltas {
    seq: i64,
    t: i64,
    dt: i64,
    lat: i64,
    lon: i64,
}

fn put_fix(out: &mut Vec<u8>, f: &Fix, d: &mut Deltas) {
    let flags = u8::from(f.speed_mps.is_some()) | (u8::from(f.heading_deg.is_some()) << 1);
    out.push(flags);
    put_i(out, f.seq as i64 - d.seq);
    let this_dt = f.t - d.t;
    put_i(out, this_dt - d.dt);
    let (la, lo) = (
        (f.lat * SCALE).round() as i64,
        (f.lon * SCALE).round() as i64,
    );
    put_i(out, la - d.lat);
    put_i(out, lo - d.lon);
    put(out, f.accuracy_m.max(0.0).round() as u64);
    if let Some(s) = f.speed_mps {
        put(out, (s.max(0.0) * 10.0).round() as u64);
    }
    if let Some(h) = f.heading_deg {
        put(out, h.max(0.0).round() as u64);
    }
    *d = Deltas {
        seq: f.seq as i64,
        t: f.t,
        dt: this_dt,
        lat: la,
        lon: lo,
    };
}

fn put_device(out: &mut Vec<u8>, magic: &[u8; 3], device_id: &str) {
    out.extend_from_slice(magic);
    put(out, device_id.len() as u64);
    out.extend_from_slice(device_id.as_bytes());
}

/// Encodes a batch.
pub fn encode(batch: &LocationBatch) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + batch.fixes.len() * 8);
    put_device(&mut out, MAGIC, &batch.device_id);
    put(&mut out, batch.fixes.len() as u64);
    let mut d = Deltas::default();
    for f in &batch.fixes {
        put_fix(&mut out, f, &mut d);
    }
    out
}

/// Writes a fix stream: [`StreamEncoder::start`] once, then [`StreamEncoder::fix`] per fix.
#[derive(Debug, Clone, Default)]
pub struct StreamEncoder {
    d: Deltas,
}

impl StreamEncoder {
    /// The stream's header; a new encoder starts from zero deltas.
    pub fn start(device_id: &str) -> (Self, Vec<u8>) {
        let mut out = Vec::with_capacity(8 + device_id.len());
        put_device(&mut out, STREAM_MAGIC, device_id);
        (Self::default(), out)
    }

    /// The bytes of one more fix.
    pub fn fix(&mut self, f: &Fix) -> Vec<u8> {
        let mut out = Vec::with_capacity(12);
        put_fix(&mut out, f, &mut self.d);
        out
    }
}

/// Reads a fix stream as its bytes arrive, in any split.
#[derive(Debug, Default)]
pub struct StreamDecoder {
    buf: Vec<u8>,
    device_id: Option<String>,
    d: Deltas,
}

impl StreamDecoder {
    /// A decoder waiting for a stream header.
    pub fn new() -> Self {
        Self::default()
    }

    /// The device named by the header, once read.
    pub fn device_id(&self) -> Option<&str> {
        self.device_id.as_deref()
    }

    /// Takes more bytes and returns the fixes they complete (a fix split across pushes
    /// comes out with the push that ends it). Bad bytes are an error, never a panic.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<Fix>, String> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut pos = 0;
        if self.device_id.is_none() {
            if self.buf.len() < 3 {
                return Ok(out);
            }
            if &self.buf[..3] != STREAM_MAGIC {
                return Err("not a Pitstop fix stream (bad magic or version)".into());
            }
            let mut r = Reader {
                buf: &self.buf,
                pos: 3,
            };
            let Ok(len) = r.uint() else {
                return Ok(out); // header not complete yet
            };
            if len > 64 {
                return Err("bad device id length".into());
            }
            if r.pos + len as usize > self.buf.len() {
                return Ok(out);
            }
            let id = std::str::from_utf8(&self.buf[r.pos..r.pos + len as usize])
                .map_err(|_| "device id is not UTF-8".to_string())?;
            self.device_id = Some(id.to_string());
            pos = r.pos + len as usize;
        }
        loop {
            let mut r = Reader {
                buf: &self.buf,
                pos,
            };
            let mut d = self.d;
            match read_fix(&mut r, &mut d) {
                Ok(f) => {
                    out.push(f);
                    self.d = d;
                    pos = r.pos;
                }
                Err(e) if r.pos >= self.buf.len() && e.starts_with("truncated") => break,
                Err(e) => return Err(e),
            }
        }
        self.buf.drain(..pos);
        if self.buf.len() > 64 {
            return Err("a fix in the stream is longer than any fix can be".into());
        }
        Ok(out)
    }

    /// Whether bytes of an unfinished fix (or header) are waiting.
    pub fn has_partial(&self) -> bool {
        !self.buf.is_empty()
    }
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

fn read_fix(r: &mut Reader<'_>, d: &mut Deltas) -> Result<Fix, String> {
    let flags = r.byte()?;
    d.seq = d.seq.checked_add(r.int()?).ok_or("seq overflow")?;
    d.dt = d.dt.checked_add(r.int()?).ok_or("time overflow")?;
    d.t = d.t.checked_add(d.dt).ok_or("time overflow")?;
    d.lat = d.lat.checked_add(r.int()?).ok_or("latitude overflow")?;
    d.lon = d.lon.checked_add(r.int()?).ok_or("longitude overflow")?;
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
    if d.seq < 0 {
        return Err("negative sequence number".into());
    }
    Ok(Fix {
        seq: d.seq as u64,
        t: d.t,
        lat: d.lat as f64 / SCALE,
        lon: d.lon as f64 / SCALE,
        accuracy_m,
        speed_mps,
        heading_deg,
    })
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
    let mut d = Deltas::default();
    for _ in 0..count {
        fixes.push(read_fix(&mut r, &mut d)?);
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
    fn a_stream_decodes_in_any_split_and_costs_a_few_bytes_a_fix() {
        let b = batch();
        let (mut enc, mut wire) = StreamEncoder::start(&b.device_id);
        let mut sizes = Vec::new();
        for f in &b.fixes {
            let bytes = enc.fix(f);
            sizes.push(bytes.len());
            wire.extend(bytes);
        }
        // After the first two (absolute values, then the first time step), a steady fix
        // costs at most 10 bytes.
        assert!(sizes[2..].iter().all(|&n| n <= 10), "{sizes:?}");
        for split in [1, 2, 3, 7, 64, wire.len()] {
            let mut dec = StreamDecoder::new();
            let mut got = Vec::new();
            for chunk in wire.chunks(split) {
                got.extend(dec.push(chunk).unwrap());
            }
            assert_eq!(dec.device_id(), Some("phone-7"));
            assert!(!dec.has_partial());
            assert_eq!(got.len(), b.fixes.len(), "split {split}");
            for (a, z) in b.fixes.iter().zip(&got) {
                assert_eq!((a.seq, a.t), (z.seq, z.t));
                assert!((a.lat - z.lat).abs() < 1e-5);
            }
        }
        assert!(StreamDecoder::new().push(b"XX\x01").is_err());
        let mut dec = StreamDecoder::new();
        dec.push(&wire[..10]).unwrap();
        assert!(
            dec.push(&[0xff; 80]).is_err(),
            "an endless varint is refused"
        );
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
