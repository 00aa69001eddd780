//! The desk's board for a busy day: search (plate, VIN, customer, order id), filters (status,
//! technician, day, service), sort, and columns by status that each show a page of tickets
//! with "show more", so 500 orders stay quick to draw and to scan.

use pitstop_api::{Id, Order, OrderStatus, Technician, services};
use yew::prelude::*;

use crate::backend::now_ms;
use crate::i18n::{self, t, t_args};
use crate::views::common::*;

/// The board's columns.
pub const COLUMNS: &[(&str, &[OrderStatus])] = &[
    (
        "Waiting",
        &[
            OrderStatus::Pending,
            OrderStatus::Offered,
            OrderStatus::Unassigned,
        ],
    ),
    ("Assigned", &[OrderStatus::Assigned, OrderStatus::EnRoute]),
    ("On site", &[OrderStatus::Arrived, OrderStatus::InProgress]),
    ("Done", &[OrderStatus::Completed, OrderStatus::Cancelled]),
];

/// Tickets a column shows before "show more".
const PAGE: usize = 20;
const DAY: i64 = 24 * 3_600_000;

/// What the desk narrowed the board to.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    pub query: String,
    /// A column title, or empty for all.
    pub column: String,
    /// `Some(None)`: unassigned only; `Some(Some(id))`: one technician's.
    pub technician: Option<Option<Id>>,
    /// `today`, `week` or `all`.
    pub day: String,
    pub service: String,
    /// `window`, `newest` or `status`.
    pub sort: String,
}

/// Whether `o` matches the words typed: every word in the plate, VIN, customer, service,
/// technician or the order number.
pub fn matches(o: &Order, query: &str) -> bool {
    let hay = format!(
        "#{} {} {} {} {} {}",
        o.id,
        o.vehicle.plate,
        o.vehicle.vin,
        o.customer_name.as_deref().unwrap_or(""),
        i18n::service(&o.service),
        o.technician_name.as_deref().unwrap_or("")
    )
    .to_lowercase();
    query
        .split_whitespace()
        .all(|w| hay.contains(&w.to_lowercase()))
}

/// Whether the order belongs to the chosen days: today's work (open orders always are), the
/// next seven days, or everything.
fn in_days(o: &Order, day: &str, now: i64) -> bool {
    let open = !o.status.is_terminal();
    match day {
        "all" => true,
        "week" => open || now - o.updated_at < 7 * DAY,
        _ => (open && o.window_start < now + DAY) || now - o.updated_at < DAY,
    }
}

/// The orders the filter lets through, sorted.
pub fn filtered<'a>(orders: &'a [Order], f: &Filter, now: i64) -> Vec<&'a Order> {
    let mut out: Vec<&Order> = orders
        .iter()
        .filter(|o| in_days(o, &f.day, now))
        .filter(|o| f.service.is_empty() || o.service == f.service)
        .filter(|o| match f.technician {
            None => true,
            Some(t) => o.technician_id == t,
        })
        .filter(|o| f.query.trim().is_empty() || matches(o, &f.query))
        .collect();
    match f.sort.as_str() {
        "newest" => out.sort_by_key(|o| std::cmp::Reverse(o.updated_at)),
        "status" => out.sort_by_key(|o| (o.status.as_str(), o.window_start)),
        _ => out.sort_by_key(|o| (o.window_start, o.id)),
    }
    out
}

#[derive(Properties, PartialEq)]
pub struct Props {
    pub orders: Vec<Order>,
    pub technicians: Vec<Technician>,
    pub selected: Option<Id>,
    pub on_select: Callback<Id>,
}

#[function_component(Board)]
pub fn board(p: &Props) -> Html {
    let filter = use_state(|| Filter {
        day: "today".into(),
        sort: "window".into(),
        ..Filter::default()
    });
    // How many pages each column shows.
    let pages = use_state(std::collections::HashMap::<&'static str, usize>::new);
    let now = now_ms();
    let shown = filtered(&p.orders, &filter, now);
    {
        // For the benchmark: when a board with data was drawn.
        let n = shown.len();
        use_effect_with(n, move |_| {
            if let Some(perf) = web_sys::window().and_then(|w| w.performance()) {
                let _ = perf.mark("desk-board-drawn");
            }
        });
    }
    let set = |f: fn(&mut Filter, String)| {
        let filter = filter.clone();
        let pages = pages.clone();
        Callback::from(move |e: Event| {
            let Some(el) = e
                .target_dyn_into::<web_sys::HtmlInputElement>()
                .map(|i| i.value())
                .or_else(|| {
                    e.target_dyn_into::<web_sys::HtmlSelectElement>()
                        .map(|s| s.value())
                })
            else {
                return;
            };
            let mut next = (*filter).clone();
            f(&mut next, el);
            filter.set(next);
            pages.set(Default::default());
        })
    };
    let on_search = {
        let (filter, pages) = (filter.clone(), pages.clone());
        Callback::from(move |e: InputEvent| {
            let Some(v) = e
                .target_dyn_into::<web_sys::HtmlInputElement>()
                .map(|i| i.value())
            else {
                return;
            };
            let mut next = (*filter).clone();
            next.query = v;
            filter.set(next);
            pages.set(Default::default());
        })
    };
    let columns: Vec<&(&str, &[OrderStatus])> = COLUMNS
        .iter()
        .filter(|(c, _)| filter.column.is_empty() || filter.column == *c)
        .collect();
    let on_shift: Vec<&Technician> = p.technicians.iter().collect();
    html! {
      <section id="board-area" aria-label={t("board-orders")}>
        <div class="toolbar" role="search">
          <label for="desk-search" class="sr-only">{ t("board-search") }</label>
          <input id="desk-search" type="search" placeholder={t("board-search-hint")}
            value={filter.query.clone()} oninput={on_search} />
          <label>{ t("board-status") }
            <select id="desk-filter-status" onchange={set(|f, v| f.column = v)}>
              <option value="" selected={filter.column.is_empty()}>{ t("board-all") }</option>
              { for COLUMNS.iter().map(|(c, _)| html! { <option value={*c} selected={filter.column == *c}>{ column_title(c) }</option> }) }
            </select>
          </label>
          <label>{ t("board-technician") }
            <select id="desk-filter-tech" onchange={set(|f, v| f.technician = match v.as_str() {
                "" => None,
                "none" => Some(None),
                id => id.parse().ok().map(Some),
            })}>
              <option value="" selected={filter.technician.is_none()}>{ t("board-anyone") }</option>
              <option value="none" selected={filter.technician == Some(None)}>{ t("board-not-assigned") }</option>
              { for on_shift.iter().map(|x| html! {
                  <option value={x.id.to_string()} selected={filter.technician == Some(Some(x.id))}>{ &x.name }</option>
              }) }
            </select>
          </label>
          <label>{ t("board-days") }
            <select id="desk-filter-day" onchange={set(|f, v| f.day = v)}>
              <option value="today" selected={filter.day == "today"}>{ t("board-today") }</option>
              <option value="week" selected={filter.day == "week"}>{ t("board-7-days") }</option>
              <option value="all" selected={filter.day == "all"}>{ t("board-all") }</option>
            </select>
          </label>
          <label>{ t("board-service") }
            <select id="desk-filter-service" onchange={set(|f, v| f.service = v)}>
              <option value="" selected={filter.service.is_empty()}>{ t("board-any") }</option>
              { for services::catalogue().into_iter().map(|s| html! {
                  <option value={s.code.clone()} selected={filter.service == s.code}>{ i18n::service(&s.code) }</option>
              }) }
            </select>
          </label>
          <label>{ t("board-sort") }
            <select id="desk-sort" onchange={set(|f, v| f.sort = v)}>
              <option value="window" selected={filter.sort == "window"}>{ t("board-by-time") }</option>
              <option value="newest" selected={filter.sort == "newest"}>{ t("board-newest") }</option>
              <option value="status" selected={filter.sort == "status"}>{ t("board-by-status") }</option>
            </select>
          </label>
          <p id="board-count" class="muted" aria-live="polite">{ t_args("board-count", &[("shown", shown.len().into()), ("total", p.orders.len().into())]) }</p>
        </div>
        <div id="board" class="board">
          { for columns.into_iter().map(|(title, statuses)| {
              let col: Vec<&&Order> = shown.iter().filter(|o| statuses.contains(&o.status)).collect();
              let limit = pages.get(title).copied().unwrap_or(1) * PAGE;
              let more = {
                  let (pages, title) = (pages.clone(), *title);
                  Callback::from(move |_: MouseEvent| {
                      let mut m = (*pages).clone();
                      *m.entry(title).or_insert(1) += 1;
                      pages.set(m);
                  })
              };
              html! {
                <section class="column" data-column={*title} aria-label={column_title(title)}>
                  <h3>{ format!("{} ({})", column_title(title), col.len()) }</h3>
                  { for col.iter().take(limit).map(|o| ticket(o, p.selected == Some(o.id), &p.on_select, now)) }
                  if col.len() > limit {
                    <button type="button" class="more" onclick={more}>{ t_args("board-show-more", &[("n", (col.len() - limit).min(PAGE).into())]) }</button>
                  }
                </section>
              }
          }) }
        </div>
      </section>
    }
}

/// A column's title in the UI's language (its key stays the filter value).
fn column_title(key: &str) -> String {
    t(&format!(
        "board-col-{}",
        key.to_lowercase().replace(' ', "-")
    ))
}

/// "Today 14:00", "Tomorrow 09:00" or "3 Dec 09:00": times a desk reads at a glance.
fn when(at: i64, now: i64) -> String {
    let day = |ms: i64| js_sys::Date::new(&(ms as f64).into()).to_date_string();
    if day(at) == day(now) {
        t_args("board-today-at", &[("time", clock(at).into())])
    } else if day(at) == day(now + DAY) {
        t_args("board-tomorrow-at", &[("time", clock(at).into())])
    } else {
        day_clock(at)
    }
}

fn ticket(o: &Order, selected: bool, on_select: &Callback<Id>, now: i64) -> Html {
    let (cb, id) = (on_select.clone(), o.id);
    html! {
      // A button: reachable with Tab, opened with Enter or Space.
      <button type="button" class={classes!("ticket", o.status.as_str())} data-order={o.id.to_string()}
        aria-pressed={selected.to_string()} onclick={move |_| cb.emit(id)}>
        <strong>{ format!("#{} {}", o.id, i18n::service(&o.service)) }</strong>
        <span class="muted">{ format!("{} · {}", o.vehicle.plate, i18n::status(o.status)) }</span>
        <span class="muted">{ format!("{}{}", when(o.window_start, now),
            o.technician_name.as_ref().map(|n| format!(" · {n}")).unwrap_or_default()) }</span>
        if let Some(r) = &o.unassigned_reason { <span class="reason">{ i18n::platform_text(r) }</span> }
      </button>
    }
}

/// Technicians on shift for `o`, best first: those with the service's skill, then free ones,
/// then the nearest; each with a label that says why ("free · 1.2 km · oil").
pub fn candidates<'a>(
    o: &Order,
    techs: &'a [Technician],
    busy: &[Id],
) -> Vec<(&'a Technician, String)> {
    let skill = services::find(&o.service)
        .map(|s| s.skill)
        .unwrap_or_default();
    let mut list: Vec<(&Technician, bool, bool, Option<f64>)> = techs
        .iter()
        .filter(|t| t.on_shift)
        .map(|t| {
            let km = t
                .lat
                .zip(t.lon)
                .map(|(lat, lon)| pitstop_api::geo::haversine_m(lat, lon, o.lat, o.lon) / 1000.0);
            (t, t.skills.contains(&skill), busy.contains(&t.id), km)
        })
        .collect();
    list.sort_by(|a, b| {
        (!a.1, a.2)
            .cmp(&(!b.1, b.2))
            .then(a.3.unwrap_or(f64::MAX).total_cmp(&b.3.unwrap_or(f64::MAX)))
    });
    let skill_name = i18n::skill(&skill);
    list.into_iter()
        .map(|(tech, skilled, is_busy, km)| {
            let label = format!(
                "{} — {}{}{}",
                tech.name,
                t(if is_busy { "board-busy" } else { "board-free" }),
                km.map(|k| format!(
                    " · {}",
                    t_args("board-km", &[("km", format!("{k:.1}").into())])
                ))
                .unwrap_or_default(),
                if skilled {
                    format!(" · {skill_name}")
                } else {
                    format!(
                        " · {}",
                        t_args("board-no-skill", &[("skill", skill_name.as_str().into())])
                    )
                }
            );
            (tech, label)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An order whose last change was `updated_at`.
    fn order(
        id: Id,
        plate: &str,
        status: OrderStatus,
        window_start: i64,
        tech: Option<Id>,
        updated_at: i64,
    ) -> Order {
        serde_json::from_value(serde_json::json!({
            "id": id, "owner_id": 1, "customer_name": "张伟", "workshop_id": 1, "vehicle_id": 1,
            "vehicle": {"vin": format!("WVWZZZ1JZXW{id:06}"), "plate": plate, "make": "VW", "model": "Golf"},
            "service": "oil_change", "lat": 52.5, "lon": 13.4, "window_start": window_start,
            "window_end": window_start + 7_200_000, "price_cents": 8900, "notes": "",
            "status": status, "technician_id": tech, "unassigned_reason": null,
            "job_notes": [], "parts": [], "timeline": [], "created_at": 0, "updated_at": updated_at,
            "version": 1
        }))
        .unwrap()
    }

    #[test]
    fn search_filters_and_sort_narrow_the_board() {
        let now = 1_800_000_000_000;
        let orders = vec![
            order(
                1,
                "B-AB 1",
                OrderStatus::Unassigned,
                now + 3_600_000,
                None,
                now - 60_000,
            ),
            order(
                2,
                "B-CD 2",
                OrderStatus::Assigned,
                now,
                Some(7),
                now - 120_000,
            ),
            order(
                3,
                "M-XY 3",
                OrderStatus::Completed,
                now - 3 * DAY,
                Some(7),
                now - 3 * DAY,
            ),
            order(
                4,
                "B-AB 4",
                OrderStatus::Pending,
                now + 3 * DAY,
                None,
                now - 2 * DAY,
            ),
        ];
        let ids = |f: &Filter| {
            filtered(&orders, f, now)
                .iter()
                .map(|o| o.id)
                .collect::<Vec<_>>()
        };
        let today = Filter {
            day: "today".into(),
            ..Filter::default()
        };
        // Today: open work due within a day, sorted by time; old and far-off orders are not.
        assert_eq!(ids(&today), vec![2, 1]);
        let all = Filter {
            day: "all".into(),
            ..Filter::default()
        };
        assert_eq!(ids(&all), vec![3, 2, 1, 4]);
        // Every typed word must match: plate, VIN, customer, order number.
        assert_eq!(
            ids(&Filter {
                query: "b-ab".into(),
                ..all.clone()
            }),
            vec![1, 4]
        );
        assert_eq!(
            ids(&Filter {
                query: "#3".into(),
                ..all.clone()
            }),
            vec![3]
        );
        assert_eq!(
            ids(&Filter {
                query: "张伟 m-xy".into(),
                ..all.clone()
            }),
            vec![3]
        );
        assert_eq!(
            ids(&Filter {
                query: "000002".into(),
                ..all.clone()
            }),
            vec![2]
        );
        // One technician's, or nobody's.
        assert_eq!(
            ids(&Filter {
                technician: Some(Some(7)),
                ..all.clone()
            }),
            vec![3, 2]
        );
        assert_eq!(
            ids(&Filter {
                technician: Some(None),
                ..all.clone()
            }),
            vec![1, 4]
        );
        assert_eq!(
            ids(&Filter {
                sort: "newest".into(),
                ..all.clone()
            }),
            vec![1, 2, 4, 3]
        );
    }

    fn tech(id: Id, skills: &[&str], lat: f64, on_shift: bool) -> Technician {
        Technician {
            id,
            name: format!("t{id}"),
            workshop_id: None,
            skills: skills.iter().map(|s| s.to_string()).collect(),
            certifications: vec![],
            on_shift,
            lat: Some(lat),
            lon: Some(13.4),
            fix_at: None,
            vehicle: String::new(),
        }
    }

    #[test]
    fn assign_candidates_come_skilled_then_free_then_nearest() {
        let o = order(1, "B-AB 1", OrderStatus::Unassigned, 0, None, 0);
        let techs = vec![
            tech(1, &["brakes"], 52.5, true), // no oil skill
            tech(2, &["oil"], 52.6, true),    // skilled, free, far
            tech(3, &["oil"], 52.51, true),   // skilled, busy, near
            tech(4, &["oil"], 52.52, true),   // skilled, free, near
            tech(5, &["oil"], 52.5, false),   // off shift: not listed
        ];
        let ranked = candidates(&o, &techs, &[3]);
        let ids: Vec<Id> = ranked.iter().map(|(t, _)| t.id).collect();
        assert_eq!(ids, vec![4, 2, 3, 1]);
        assert_eq!(ranked[0].1, "t4 — free · 2.2 km · oil");
        assert!(ranked[2].1.contains("busy"));
        assert!(ranked[3].1.ends_with("no oil skill"));
    }
}
