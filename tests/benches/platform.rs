//! Platform benchmark: location ingest throughput and create-order -> first offer event
//! latency, against a real server on loopback with a real SQLite file.
//!
//! Run: `cargo bench -p pitstop-tests --bench platform` (add `-- --quick` for a smoke run).
//! Figures go to `docs/benchmarks.md`.

use std::time::{Duration, Instant};

use pitstop_api::*;
use pitstop_tests::{TestPlatform, new_order, now_ms};
use serde_json::json;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn ingest(p: &TestPlatform, clients: usize, per_client: usize, batch: usize) {
    let mut techs = Vec::new();
    for i in 0..clients {
        techs.push(
            p.technician_at(&format!("ingest-{batch}-{i}"), &["oil"], 52.5, 13.4)
                .await,
        );
    }
    let start = Instant::now();
    let mut handles = Vec::new();
    for (i, t) in techs.into_iter().enumerate() {
        handles.push(tokio::spawn(async move {
            let mut seq = 0u64;
            for _ in 0..per_client {
                let fixes: Vec<Fix> = (0..batch)
                    .map(|_| {
                        seq += 1;
                        Fix {
                            seq,
                            t: now_ms(),
                            lat: 52.5 + seq as f64 * 1e-6,
                            lon: 13.4,
                            accuracy_m: 5.0,
                            speed_mps: Some(10.0),
                            heading_deg: Some(90.0),
                        }
                    })
                    .collect();
                let ack: LocationAck = t
                    .post(
                        "/v1/locations",
                        &LocationBatch {
                            device_id: format!("bench-{i}"),
                            fixes,
                        },
                    )
                    .await
                    .expect("ingest");
                assert_eq!(ack.accepted as usize, batch);
            }
        }));
    }
    for h in handles {
        h.await.expect("client");
    }
    let secs = start.elapsed().as_secs_f64();
    let reqs = (clients * per_client) as f64;
    println!(
        "location ingest, {clients} clients, {batch} fix(es)/request: {:.0} requests/s, {:.0} fixes/s ({} requests in {secs:.2} s)",
        reqs / secs,
        reqs * batch as f64 / secs,
        clients * per_client
    );
}

async fn offer_latency(p: &TestPlatform, runs: usize) {
    let tech = p.technician_at("latency-tech", &["oil"], 52.5, 13.4).await;
    let (owner, car) = p.owner_with_car("latency-owner").await;
    let mut stream = tech.events(None).await;
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t0 = Instant::now();
        let order: Order = owner
            .post("/v1/orders", &new_order(car, "oil_change", 52.5, 13.4))
            .await
            .expect("order");
        loop {
            let ev = stream
                .next(Duration::from_secs(5))
                .await
                .expect("offer event");
            if let ChangeBody::Offer(o) = &ev.change.body
                && o.order_id == order.id
                && o.status == OfferStatus::Pending
            {
                samples.push(t0.elapsed());
                break;
            }
        }
        let _: Order = owner
            .post(
                &format!("/v1/orders/{}/status", order.id),
                &json!({"status": "cancelled"}),
            )
            .await
            .expect("cancel");
    }
    samples.sort();
    println!(
        "create order -> offer event on the technician's stream, {runs} runs: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&samples, 0.50).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    println!("{}", pitstop_tests::machine());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let p = TestPlatform::start().await;
        let scale = if quick { 10 } else { 1 };
        ingest(&p, 8, 1000 / scale, 1).await;
        ingest(&p, 8, 200 / scale, 50).await;
        offer_latency(&p, 500 / scale).await;
    });
}
