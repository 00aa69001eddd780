//! `pitstop-core` against the real platform: offline work, exactly-once delivery through a
//! faulty network, two devices of one account, a race for one offer, rollback of rejected
//! actions, live events, and GPS upload.

use std::time::Duration;

use pitstop_api::*;
use pitstop_core::{Error, LocalAnswer, Notice};
use pitstop_tests::proxy::{FaultProxy, Faults};
use pitstop_tests::{TestPlatform, eventually, new_order, now_ms};
use serde_json::json;

/// Syncs until a round succeeds (the first request after the network returns may hit a
/// connection the outage cut, exactly as on a phone); bounded.
async fn sync_ok(core: &pitstop_core::Client) -> pitstop_core::sync::Round {
    let mut last = None;
    for _ in 0..20 {
        match core.sync_now().await {
            Ok(r) => return r,
            Err(e) => {
                assert!(e.is_retryable(), "{e}");
                last = Some(e);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    panic!("sync never succeeded: {last:?}");
}

async fn assigned_job(
    p: &TestPlatform,
    tech: &pitstop_tests::Client,
    core: &pitstop_core::Client,
) -> (pitstop_tests::Client, Order) {
    let (owner, car) = p.owner_with_car(&format!("owner-of-{}", tech.id())).await;
    let order: Order = owner
        .post("/v1/orders", &new_order(car, "oil_change", 52.5, 13.4))
        .await
        .unwrap();
    core.sync_now().await.unwrap();
    let offers = core.offers().unwrap();
    let view = offers
        .iter()
        .find(|o| o.offer.order_id == order.id)
        .expect("offer in the inbox after sync");
    assert!(
        view.time_left_ms > 20_000 && view.time_left_ms <= 30_000,
        "{}",
        view.time_left_ms
    );
    core.accept(view.offer.id).unwrap();
    assert_eq!(
        core.offers().unwrap()[0].local,
        Some(LocalAnswer::Accepting)
    );
    core.sync_now().await.unwrap();
    let job = core
        .order(order.id)
        .unwrap()
        .expect("the won order is cached");
    assert_eq!(job.status, OrderStatus::Assigned);
    (owner, job)
}

/// A technician's device behind a fault proxy, holding an assigned job.
async fn behind_proxy(
    p: &TestPlatform,
) -> (
    FaultProxy,
    pitstop_core::Client,
    pitstop_tests::Client,
    Order,
) {
    let proxy = FaultProxy::start(p.addr()).await;
    let tech = p.technician_at("t", &["oil"], 52.5, 13.4).await;
    let core = p.core_client(&tech, &proxy.base());
    let (owner, job) = assigned_job(p, &tech, &core).await;
    (proxy, core, owner, job)
}

#[tokio::test]
async fn a_job_done_entirely_offline_reaches_the_platform_once() {
    let p = TestPlatform::start().await;
    let (proxy, core, owner, job) = behind_proxy(&p).await;

    proxy.set(Faults {
        down: true,
        ..Faults::default()
    });
    for s in [
        OrderStatus::EnRoute,
        OrderStatus::Arrived,
        OrderStatus::InProgress,
    ] {
        core.step(job.id, s, None).unwrap();
    }
    core.add_note(job.id, "Oil was black").unwrap();
    core.add_part(job.id, "Oil filter", 1, 1299).unwrap();
    core.step(job.id, OrderStatus::Completed, Some("Done".into()))
        .unwrap();
    // Skipping ahead is refused on the device; nothing is queued.
    let err = core.step(job.id, OrderStatus::EnRoute, None).unwrap_err();
    assert!(matches!(err, Error::Refused(_)), "{err}");

    // Reads work offline and show the optimistic state.
    let local = core.order(job.id).unwrap().unwrap();
    assert_eq!(local.status, OrderStatus::Completed);
    assert_eq!((local.job_notes.len(), local.parts.len()), (1, 1));
    assert_eq!(core.history(10).unwrap().len(), 1);
    assert!(core.sync_now().await.unwrap_err().is_retryable());
    let st = core.status().unwrap();
    assert_eq!(st.pending, 6);
    assert!(!st.online && st.last_error.is_some());
    assert_eq!(
        owner.order(job.id).await.status,
        OrderStatus::Assigned,
        "nothing leaked out while offline"
    );

    proxy.set(Faults::default());
    sync_ok(&core).await;
    assert_eq!(core.status().unwrap().pending, 0);
    let server = owner.order(job.id).await;
    assert_eq!(server.status, OrderStatus::Completed);
    assert_eq!(server.job_notes.len(), 1);
    assert_eq!(server.parts.len(), 1);
    let mine = core.order(job.id).unwrap().unwrap();
    assert_eq!(
        mine, server,
        "the device and the platform must end in the same state"
    );
    // Searching the cache by plate works without the network too.
    proxy.set(Faults {
        down: true,
        ..Faults::default()
    });
    assert_eq!(
        core.search(&server.vehicle.plate.to_lowercase(), 10)
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_faulty_network_loses_and_duplicates_nothing() {
    let p = TestPlatform::start().await;
    let (proxy, core, owner, job) = behind_proxy(&p).await;
    core.step(job.id, OrderStatus::EnRoute, None).unwrap();
    core.step(job.id, OrderStatus::Arrived, None).unwrap();
    core.step(job.id, OrderStatus::InProgress, None).unwrap();
    const ROUNDS: usize = 10;
    const PER_ROUND: usize = 6;
    const NOTES: usize = ROUNDS * PER_ROUND;
    proxy.set(Faults {
        refuse: 0.3,
        error_503: 0.3,
        reset_mid_response: 0.5,
        delay_ms: 2,
        down: false,
    });
    let mut failures = 0;
    for round in 0..ROUNDS {
        for i in 0..PER_ROUND {
            core.add_note(job.id, &format!("note {round}-{i}")).unwrap();
        }
        for _ in 0..500 {
            match core.sync_now().await {
                Ok(_) if core.status().unwrap().pending == 0 => break,
                Ok(_) => {}
                Err(e) => {
                    assert!(e.is_retryable(), "{e}");
                    failures += 1;
                }
            }
        }
        assert_eq!(
            core.status().unwrap().pending,
            0,
            "round {round} never drained"
        );
    }
    assert!(
        failures > 0,
        "the proxy injected no fault; the test proves nothing"
    );
    assert_eq!(
        core.status().unwrap().pending,
        0,
        "the outbox never drained"
    );
    proxy.set(Faults::default());
    sync_ok(&core).await;
    let server = owner.order(job.id).await;
    let mut texts: Vec<&str> = server.job_notes.iter().map(|n| n.text.as_str()).collect();
    texts.sort();
    texts.dedup();
    assert_eq!(server.job_notes.len(), NOTES, "notes lost or duplicated");
    assert_eq!(texts.len(), NOTES);
    assert_eq!(server.status, OrderStatus::InProgress);
    assert_eq!(core.order(job.id).unwrap().unwrap(), server);
}

#[tokio::test]
async fn rejected_action_rolls_back_and_keeps_a_reason() {
    let p = TestPlatform::start().await;
    let tech = p.technician_at("t", &["oil"], 52.5, 13.4).await;
    let core = p.core_client(&tech, &p.base);
    let (owner, job) = assigned_job(&p, &tech, &core).await;
    // The owner cancels while the technician, not yet synced, sets off.
    let _: Order = owner
        .post(
            &format!("/v1/orders/{}/status", job.id),
            &json!({"status": "cancelled"}),
        )
        .await
        .unwrap();
    core.step(job.id, OrderStatus::EnRoute, None).unwrap();
    assert_eq!(
        core.order(job.id).unwrap().unwrap().status,
        OrderStatus::EnRoute
    );
    core.sync_now().await.unwrap();
    let after = core.order(job.id).unwrap().unwrap();
    assert_eq!(
        after.status,
        OrderStatus::Cancelled,
        "the optimistic step was not rolled back"
    );
    let st = core.status().unwrap();
    assert_eq!(st.pending, 0);
    assert_eq!(st.failed.len(), 1);
    assert!(
        st.failed[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("cancelled"),
        "{:?}",
        st.failed[0]
    );
    // Retrying what the device already knows cannot work is refused at once, with the
    // state machine's sentence, and the failure stays visible.
    let old = st.failed[0].seq;
    let e = core.retry_failure(old).unwrap_err();
    assert!(
        matches!(&e, Error::Refused(m) if m.contains("cancelled")),
        "{e}"
    );
    let st = core.status().unwrap();
    assert_eq!((st.pending, st.failed.len()), (0, 1));
    assert_eq!(st.failed[0].seq, old);
    core.dismiss_failure(st.failed[0].seq).unwrap();
    assert!(core.status().unwrap().failed.is_empty());
}

#[tokio::test]
async fn two_devices_of_one_account_converge() {
    let p = TestPlatform::start().await;
    let tech = p.technician_at("t", &["oil"], 52.5, 13.4).await;
    let phone = p.core_client(&tech, &p.base);
    let tablet = p.core_client(&tech, &p.base);
    let (owner, job) = assigned_job(&p, &tech, &phone).await;
    tablet.sync_now().await.unwrap();
    assert_eq!(
        tablet.order(job.id).unwrap().unwrap().status,
        OrderStatus::Assigned
    );
    // Both, offline from each other, set off and write a note.
    phone.step(job.id, OrderStatus::EnRoute, None).unwrap();
    phone.add_note(job.id, "from the phone").unwrap();
    tablet.step(job.id, OrderStatus::EnRoute, None).unwrap();
    tablet.add_note(job.id, "from the tablet").unwrap();
    phone.sync_now().await.unwrap();
    tablet.sync_now().await.unwrap();
    phone.sync_now().await.unwrap();
    let server = owner.order(job.id).await;
    assert_eq!(server.status, OrderStatus::EnRoute);
    assert_eq!(server.job_notes.len(), 2);
    assert_eq!(phone.order(job.id).unwrap().unwrap(), server);
    assert_eq!(tablet.order(job.id).unwrap().unwrap(), server);
    // The tablet's duplicate step was refused with a reason, not applied twice.
    let failed = tablet.status().unwrap().failed;
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("already en route")
    );
}

#[tokio::test]
async fn two_technicians_race_for_one_offer_through_core() {
    let p = TestPlatform::start_with(|c| c.offer_fanout = 2).await;
    let a = p.technician_at("a", &["oil"], 52.5, 13.4).await;
    let b = p.technician_at("b", &["oil"], 52.5, 13.401).await;
    let (ca, cb) = (p.core_client(&a, &p.base), p.core_client(&b, &p.base));
    let (owner, car) = p.owner_with_car("o").await;
    let order: Order = owner
        .post("/v1/orders", &new_order(car, "oil_change", 52.5, 13.4))
        .await
        .unwrap();
    ca.sync_now().await.unwrap();
    cb.sync_now().await.unwrap();
    let (oa, ob) = (
        ca.offers().unwrap()[0].offer.id,
        cb.offers().unwrap()[0].offer.id,
    );
    ca.accept(oa).unwrap();
    cb.accept(ob).unwrap();
    let (ra, rb) = tokio::join!(ca.sync_now(), cb.sync_now());
    ra.unwrap();
    rb.unwrap();
    let server = owner.order(order.id).await;
    let winner = server.technician_id.unwrap();
    let (won, lost) = if winner == a.id() {
        (&ca, &cb)
    } else {
        (&cb, &ca)
    };
    assert_eq!(
        won.order(order.id).unwrap().unwrap().status,
        OrderStatus::Assigned
    );
    lost.sync_now().await.unwrap();
    assert!(
        lost.order(order.id).unwrap().is_none(),
        "the loser must not see the job"
    );
    let failed = lost.status().unwrap().failed;
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0].reason.as_deref().unwrap().contains("first"),
        "{:?}",
        failed[0]
    );
    assert!(
        lost.offers().unwrap().is_empty(),
        "the lost offer left the inbox"
    );
}

#[tokio::test]
async fn an_expired_offer_cannot_be_accepted_on_the_device() {
    let p = TestPlatform::start_with(|c| c.offer_ttl = Duration::from_millis(400)).await;
    let tech = p.technician_at("t", &["oil"], 52.5, 13.4).await;
    let core = p.core_client(&tech, &p.base);
    let (owner, car) = p.owner_with_car("o").await;
    let _: Order = owner
        .post("/v1/orders", &new_order(car, "oil_change", 52.5, 13.4))
        .await
        .unwrap();
    core.sync_now().await.unwrap();
    let offer = core.offers().unwrap()[0].offer.clone();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let err = core.accept(offer.id).unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");
    assert_eq!(core.status().unwrap().pending, 0);
}

#[tokio::test]
async fn live_events_reach_the_inbox_without_polling() {
    let p = TestPlatform::start().await;
    let tech = p.technician_at("t", &["oil"], 52.5, 13.4).await;
    let core = p.core_client(&tech, &p.base);
    core.sync_now().await.unwrap();
    assert!(
        core.checkpoint_owed().unwrap(),
        "a first sync defers its checkpoint"
    );
    let mut notices = core.subscribe();
    let sync = core.start();
    tokio::time::sleep(Duration::from_millis(200)).await; // let the stream connect
    let (owner, car) = p.owner_with_car("o").await;
    let order: Order = owner
        .post("/v1/orders", &new_order(car, "oil_change", 52.5, 13.4))
        .await
        .unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(Notice::Offers(_)) = notices.recv().await {
                return;
            }
        }
    })
    .await;
    assert!(got.is_ok(), "no offer notice arrived");
    assert_eq!(core.offers().unwrap()[0].offer.order_id, order.id);
    // A new offer is announced once, with a line a person can read.
    let announce = core.offers_to_announce().unwrap();
    assert_eq!(announce.len(), 1);
    assert!(
        announce[0]
            .summary()
            .starts_with("Oil and filter change · "),
        "{}",
        announce[0].summary()
    );
    assert!(core.offers_to_announce().unwrap().is_empty());
    // An accept queued while running is delivered by the worker on its own.
    core.accept(core.offers().unwrap()[0].offer.id).unwrap();
    let assigned = eventually(Duration::from_secs(5), || async {
        (owner.order(order.id).await.status == OrderStatus::Assigned).then_some(())
    })
    .await;
    assert!(assigned.is_some());
    // The worker paid the first sync's checkpoint on its own, off the store's lock.
    assert!(!core.checkpoint_owed().unwrap());
    sync.stop().await;
}

#[tokio::test]
async fn gps_fixes_are_buffered_filtered_and_uploaded_for_tracking() {
    use pitstop_core::location::SimulatedRoute;
    let p = TestPlatform::start().await;
    let (proxy, core, owner, job) = behind_proxy(&p).await;
    proxy.set(Faults {
        down: true,
        ..Faults::default()
    });
    let start = pitstop_tests::now_ms() - 600_000;
    let route = SimulatedRoute::new(
        &[(52.49, 13.4), (52.495, 13.4)],
        10.0,
        start,
        Duration::from_secs(1),
        Duration::from_secs(120),
    );
    let total = route.remaining();
    let kept = core.track(Box::new(route)).await.unwrap();
    assert!(kept < total / 2 && kept > 10, "kept {kept} of {total}");
    assert_eq!(core.status().unwrap().unsent_fixes, kept);
    proxy.set(Faults::default());
    let r = sync_ok(&core).await;
    assert_eq!(r.fixes_uploaded, kept);
    assert_eq!(core.status().unwrap().unsent_fixes, 0);
    let tr: Tracking = owner
        .get(&format!("/v1/orders/{}/tracking", job.id))
        .await
        .unwrap();
    let fix = tr.fix.unwrap();
    assert!((fix.lat - 52.495).abs() < 1e-4, "{fix:?}");
}

#[tokio::test]
async fn a_walk_in_booked_offline_and_noted_reaches_the_platform_in_order() {
    let p = TestPlatform::start().await;
    let ws = p.workshop("W").await;
    let desk = p.login("desk", Role::Desk, Some(ws)).await;
    let v: Vehicle = desk
        .post("/v1/vehicles", &pitstop_tests::new_vehicle())
        .await
        .unwrap();
    let proxy = FaultProxy::start(p.addr()).await;
    let core = p.core_client(&desk, &proxy.base());
    proxy.set(Faults {
        down: true,
        ..Faults::default()
    });
    core.book(new_order(v.id, "tyre_swap", 52.5, 13.4)).unwrap();
    let provisional = core.orders(None, 10).unwrap();
    assert_eq!(provisional.len(), 1);
    let temp = provisional[0].id;
    assert!(temp < 0, "an offline booking has a provisional id");
    core.add_note(temp, "Customer waits in the lounge").unwrap();
    assert_eq!(core.order(temp).unwrap().unwrap().job_notes.len(), 1);
    proxy.set(Faults::default());
    while core.status().unwrap().pending > 0 {
        sync_ok(&core).await;
    }
    assert!(
        core.status().unwrap().failed.is_empty(),
        "{:?}",
        core.status().unwrap().failed
    );
    let mine = core.orders(None, 10).unwrap();
    assert_eq!(
        mine.len(),
        1,
        "the provisional row gave way to the real order"
    );
    assert!(mine[0].id > 0);
    let server = desk.order(mine[0].id).await;
    assert_eq!(server.job_notes.len(), 1);
    assert_eq!(server.workshop_id, Some(ws));
}

#[tokio::test]
async fn the_device_remembers_its_shift_across_restarts() {
    let p = TestPlatform::start().await;
    let tech = p.login("sam", Role::Technician, None).await;
    let dir = tempfile::tempdir().unwrap();
    let open = || {
        pitstop_core::Client::open(pitstop_core::ClientConfig {
            cache: dir.path().join("c.db"),
            platform: p.base.clone(),
            token: tech.token.clone().unwrap(),
            account_id: tech.id(),
            ..Default::default()
        })
        .unwrap()
    };
    let core = open();
    assert_eq!(core.on_shift().unwrap(), None);
    let shift = |on| ShiftChange {
        on_shift: on,
        lat: Some(52.5),
        lon: Some(13.4),
    };
    core.set_shift(shift(true)).unwrap();
    assert_eq!(core.on_shift().unwrap(), Some(true), "offline, at once");
    core.sync_now().await.unwrap();
    drop(core);
    let core = open();
    assert_eq!(core.on_shift().unwrap(), Some(true), "after a restart");
    core.set_shift(shift(false)).unwrap();
    core.sync_now().await.unwrap();
    assert_eq!(core.on_shift().unwrap(), Some(false));
    let me: Technician = tech.get("/v1/technicians/me").await.unwrap();
    assert!(!me.on_shift);
}

#[tokio::test]
async fn job_changes_are_announced_once_and_a_first_sync_is_not_news() {
    let p = TestPlatform::start().await;
    let tech = p.technician_at("tia", &["oil"], 52.5, 13.4).await;
    let (owner, car) = p.owner_with_car("odo").await;
    let order: Order = owner
        .post("/v1/orders", &new_order(car, "oil_change", 52.51, 13.4))
        .await
        .unwrap();
    let core = p.core_client(&owner, &p.base);
    core.sync_now().await.unwrap();
    let ids = [order.id];
    assert!(
        core.job_changes_to_announce(Role::Owner, &ids)
            .unwrap()
            .is_empty(),
        "seen for the first time: not news"
    );
    tech.win(order.id).await;
    assert!(
        tech.step(order.id, OrderStatus::EnRoute)
            .await
            .status
            .is_success()
    );
    core.sync_now().await.unwrap();
    let said = core.job_changes_to_announce(Role::Owner, &ids).unwrap();
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].contains("on the way"), "{said:?}");
    assert!(
        core.job_changes_to_announce(Role::Owner, &ids)
            .unwrap()
            .is_empty(),
        "once"
    );
}

#[tokio::test]
async fn a_step_tapped_offline_keeps_its_tap_time_not_the_sync_time() {
    let p = TestPlatform::start().await;
    let (proxy, core, owner, job) = behind_proxy(&p).await;
    proxy.set(Faults {
        down: true,
        ..Faults::default()
    });
    let tapped = now_ms();
    core.step(job.id, OrderStatus::EnRoute, None).unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    proxy.set(Faults::default());
    let received = now_ms();
    sync_ok(&core).await;
    let server = owner.order(job.id).await;
    let en_route = server
        .timeline
        .iter()
        .find(|t| t.status == OrderStatus::EnRoute)
        .expect("the step reached the platform");
    // Same machine, so the learned offset is about 0: the tap time, not the upload time.
    assert!(
        (en_route.at - tapped).abs() < 500,
        "recorded {} for a tap at {tapped} (sent at {received})",
        en_route.at
    );
    assert!(en_route.at < received - 2000);
    // Under a minute late: no sent-late mark.
    assert_eq!(en_route.sent_at, None);
}

#[tokio::test]
async fn signing_out_lists_unsent_actions_and_then_ends_the_session() {
    let p = TestPlatform::start().await;
    let (proxy, core, _owner, job) = behind_proxy(&p).await;
    proxy.set(Faults {
        down: true,
        ..Faults::default()
    });
    core.add_note(job.id, "Brake fluid topped up").unwrap();
    let left = core.sign_out(false).await.unwrap();
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].contains("Brake fluid"), "{left:?}");
    // Still signed in on the platform: nothing was ended.
    proxy.set(Faults::default());
    sync_ok(&core).await;
    assert!(core.sign_out(false).await.unwrap().is_empty());
    // The session is over: the same token is refused now.
    let r = core.sync_now().await;
    assert!(
        matches!(r, Err(pitstop_core::Error::Rejected { status: 401, .. })),
        "{r:?}"
    );
}

/// Account 1 of one platform and account 1 of another are different people: each device
/// store is keyed by platform and account, so neither ever opens the other's data.
#[tokio::test]
async fn the_same_account_id_on_two_platforms_never_shares_a_device_store() {
    let a = TestPlatform::start().await;
    let b = TestPlatform::start().await;
    let (owner_a, car) = a.owner_with_car("anna").await;
    let _: Order = owner_a
        .post("/v1/orders", &new_order(car, "oil_change", 52.5, 13.4))
        .await
        .unwrap();
    let desk_b = b.login("bert", Role::Owner, None).await;
    assert_eq!(
        owner_a.id(),
        desk_b.id(),
        "the test needs equal account ids"
    );
    let dir = tempfile::tempdir().unwrap();
    let open = |p: &TestPlatform, who: &pitstop_tests::Client| {
        pitstop_core::Client::open(pitstop_core::ClientConfig {
            cache: pitstop_core::cache_file(dir.path(), &p.base, who.id()),
            platform: p.base.clone(),
            token: who.token.clone().unwrap(),
            account_id: who.id(),
            ..Default::default()
        })
        .unwrap()
    };
    let on_a = open(&a, &owner_a);
    on_a.sync_now().await.unwrap();
    assert_eq!(on_a.orders(None, 100).unwrap().len(), 1);
    let on_b = open(&b, &desk_b);
    on_b.sync_now().await.unwrap();
    assert!(
        on_b.orders(None, 100).unwrap().is_empty(),
        "B sees none of A's orders"
    );
    assert_eq!(on_b.status().unwrap().pending, 0);
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".db"))
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    // The same platform written differently (trailing slash, capitals) is the same store.
    assert_eq!(
        pitstop_core::cache_file(dir.path(), &format!("{}/", a.base.to_uppercase()), 1),
        pitstop_core::cache_file(dir.path(), &a.base, 1)
    );
}

/// An owner who read their cars once can book with no network, and the booking shows the
/// car and the place (not "pending · · €89.00").
#[tokio::test]
async fn an_owner_books_offline_with_the_cars_read_before() {
    let p = TestPlatform::start().await;
    let (owner, car) = p.owner_with_car("olga").await;
    let proxy = FaultProxy::start(p.addr()).await;
    let core = p.core_client(&owner, &proxy.base());
    assert_eq!(core.vehicles().await.unwrap().len(), 1);
    proxy.set(Faults {
        down: true,
        ..Faults::default()
    });
    let cars = core.vehicles().await.unwrap();
    assert_eq!(cars[0].id, car, "the list read before answers offline");
    core.book(new_order(car, "oil_change", 52.5, 13.4)).unwrap();
    let booked = &core.orders(None, 10).unwrap()[0];
    assert_eq!(booked.vehicle.plate, "B-PS 1");
    assert_eq!(booked.address, "Oranienstraße 25, 10999 Berlin");
    proxy.set(Faults::default());
    core.sync_now().await.unwrap();
    let on_platform: Vec<Order> = owner.get("/v1/orders").await.unwrap();
    assert_eq!(on_platform.len(), 1);
    assert_eq!(on_platform[0].place_note, "Courtyard, second gate");
}

/// The badge learns within seconds that the platform is gone: at once when the connection
/// drops, and after three missed heartbeats when it just goes silent.
#[tokio::test]
async fn the_status_turns_offline_soon_after_the_platform_is_gone() {
    let p = TestPlatform::start().await;
    let proxy = FaultProxy::start(p.addr()).await;
    let tech = p.technician_at("t", &["oil"], 52.5, 13.4).await;
    let core = p.core_client(&tech, &proxy.base());
    let sync = core.start();
    let online = || async { core.status().unwrap().online };
    assert!(
        eventually(Duration::from_secs(10), || async {
            online().await.then_some(())
        })
        .await
        .is_some()
    );

    // Silent: the connection stays open but nothing comes (a dead server behind a proxy).
    proxy.set(Faults {
        delay_ms: 120_000,
        ..Faults::default()
    });
    let t = std::time::Instant::now();
    let went = eventually(Duration::from_secs(30), || async {
        (!online().await).then_some(())
    })
    .await;
    assert!(
        went.is_some(),
        "still online {:?} after the platform went silent",
        t.elapsed()
    );
    let why = core.status().unwrap().last_error.unwrap_or_default();
    assert!(why.starts_with("cannot reach the platform"), "{why}");
    assert!(
        t.elapsed() < Duration::from_secs(25),
        "offline after {:?}",
        t.elapsed()
    );

    // Back, then cut: offline at once.
    proxy.set(Faults::default());
    core.sync_now().await.unwrap();
    assert!(
        eventually(Duration::from_secs(20), || async {
            online().await.then_some(())
        })
        .await
        .is_some()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy.set(Faults {
        down: true,
        ..Faults::default()
    });
    let went = eventually(Duration::from_secs(3), || async {
        (!online().await).then_some(())
    })
    .await;
    assert!(
        went.is_some(),
        "still online 3 s after the connection dropped"
    );
    sync.stop().await;
}

/// Before the phone's first GPS fix, the technician's own job shows the distance from
/// where the shift started, not "position unknown".
#[tokio::test]
async fn the_own_job_shows_the_distance_from_the_shift_start_before_any_fix() {
    let p = TestPlatform::start().await;
    let tech = p.login("t", Role::Technician, None).await;
    tech.setup_technician(&["oil"], 52.50, 13.40).await;
    let core = p.core_client(&tech, &p.base);
    core.set_shift(ShiftChange {
        on_shift: true,
        lat: Some(52.52),
        lon: Some(13.40),
    })
    .unwrap();
    core.sync_now().await.unwrap();
    let (_owner, order) = p.book("o").await;
    tech.win(order.id).await;
    core.sync_now().await.unwrap();
    let t = core.tracking(order.id).unwrap().unwrap();
    let d = t.distance_m.expect("a distance before any GPS fix");
    let want = geo::haversine_m(52.52, 13.40, 52.5, 13.4);
    assert!(
        want > 2000.0 && (d - want).abs() < 1.0,
        "{d} against {want}"
    );
}

/// One tracking link per order: the device keeps the link it made (the same after a
/// restart, offline too) until it is turned off, and turning it off stops it on the platform.
#[tokio::test]
async fn a_tracking_link_is_kept_across_restarts_until_turned_off() {
    let p = TestPlatform::start().await;
    let (owner, car) = p.owner_with_car("olga").await;
    let order: Order = owner
        .post("/v1/orders", &new_order(car, "oil_change", 52.5, 13.4))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let open = || {
        pitstop_core::Client::open(pitstop_core::ClientConfig {
            cache: dir.path().join("c.db"),
            platform: p.base.clone(),
            token: owner.token.clone().unwrap(),
            account_id: owner.id(),
            ..Default::default()
        })
        .unwrap()
    };
    let core = open();
    assert_eq!(core.saved_share(order.id).unwrap(), None);
    let (link, url) = core.share(order.id).await.unwrap();
    assert!(url.ends_with(&link.path));
    drop(core);
    let core = open();
    assert_eq!(
        core.saved_share(order.id).unwrap(),
        Some(url.clone()),
        "after a restart"
    );
    assert_eq!(
        core.saved_share(order.id + 1).unwrap(),
        None,
        "only that order's"
    );
    let t: Tracking = p
        .anonymous()
        .get(&format!("/v1/track/{}", link.token))
        .await
        .unwrap();
    assert_eq!(t.order_id, order.id);
    core.revoke_shares(order.id).await.unwrap();
    assert_eq!(core.saved_share(order.id).unwrap(), None);
    p.anonymous()
        .send(
            reqwest::Method::GET,
            &format!("/v1/track/{}", link.token),
            None,
        )
        .await
        .problem(404);
}
