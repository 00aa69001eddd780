//! Demo mode: the seeded city and simulated people really dispatch orders.

use std::time::Duration;

use pitstop_api::*;
use pitstop_platform::demo::{self, DemoConfig};
use pitstop_tests::{TestPlatform, eventually};

#[tokio::test]
async fn simulated_city_books_offers_and_assigns_orders() {
    let p = TestPlatform::start_with(|c| c.offer_ttl = Duration::from_secs(3)).await;
    let cfg = DemoConfig {
        technicians: 12,
        owners: 5,
        order_every: Duration::from_millis(150),
        tick: Duration::from_millis(100),
        seed: 1,
    };
    let seeded = demo::seed(&p.platform, &cfg).unwrap();
    // Seeding twice reuses the same accounts and workshops.
    demo::seed(&p.platform, &cfg).unwrap();
    assert_eq!(
        p.platform
            .read(pitstop_platform::accounts::workshops)
            .unwrap()
            .len(),
        3
    );
    tokio::spawn(demo::run(p.platform.clone(), cfg, seeded.clone()));

    let mut admin = p.anonymous();
    admin.token = Some(seeded.admin_token.clone());
    let busy = eventually(Duration::from_secs(20), || async {
        let orders: Vec<Order> = admin.get("/v1/orders?limit=1000").await.unwrap();
        let assigned = orders.iter().filter(|o| o.technician_id.is_some()).count();
        (assigned >= 3).then_some(orders)
    })
    .await
    .expect("the simulation assigned no orders");
    assert!(
        busy.iter()
            .any(|o| o.timeline.iter().any(|t| t.status == OrderStatus::Offered))
    );
    let techs: Vec<Technician> = admin.get("/v1/technicians").await.unwrap();
    assert_eq!(techs.len(), 12);
    assert!(techs.iter().any(|t| t.on_shift));
    // What the demo prints for a browser: a share link of a job under way.
    let path = demo::first_share_link(&p.platform, &seeded, Duration::from_secs(20))
        .await
        .expect("a job under way to share");
    let token = path
        .strip_prefix("/app/?track=")
        .expect("a tracking page path");
    let t: Tracking = p
        .anonymous()
        .get(&format!("/v1/track/{token}"))
        .await
        .unwrap();
    assert!(t.technician_id.is_some());
    for (_, token) in &seeded.owner_tokens {
        let mut c = p.anonymous();
        c.token = Some(token.clone());
        let vs: Vec<Vehicle> = c.get("/v1/vehicles").await.unwrap();
        assert!(vin::validate(&vs[0].vin).is_ok());
    }
}
