//! The UI's words in English and Simplified Chinese: Project Fluent catalogues
//! (`ui/locales/<lang>/*.ftl`, compiled in), the language from `?lang=`, else the
//! browser's or system's, and `<html lang>` set to match; plus money, dates and durations
//! written the way each language writes them. Views ask [`t`] / [`t_args`] by message id;
//! a missing id shows as `⟦id⟧`, which the browser tests look for on every view.

use std::cell::{Cell, RefCell};

use fluent_bundle::{FluentArgs, FluentBundle, FluentResource, FluentValue};

/// How many catalogue files each language has.
const FILES: usize = 6;

/// A language the UI speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    /// The BCP 47 tag (`<html lang>`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    /// The catalogue files, one per part of the UI (an id lives in exactly one of them).
    fn sources(self) -> [&'static str; FILES] {
        macro_rules! files {
            ($dir:literal) => {
                [
                    include_str!(concat!("../locales/", $dir, "/main.ftl")),
                    include_str!(concat!("../locales/", $dir, "/common.ftl")),
                    include_str!(concat!("../locales/", $dir, "/technician.ftl")),
                    include_str!(concat!("../locales/", $dir, "/owner.ftl")),
                    include_str!(concat!("../locales/", $dir, "/desk.ftl")),
                    include_str!(concat!("../locales/", $dir, "/signin.ftl")),
                ]
            };
        }
        match self {
            Lang::En => files!("en"),
            Lang::Zh => files!("zh-CN"),
        }
    }

    /// The language a tag such as `zh-Hans-CN` or `en-US` asks for (English otherwise).
    pub fn from_tag(tag: &str) -> Self {
        if tag.to_ascii_lowercase().starts_with("zh") {
            Lang::Zh
        } else {
            Lang::En
        }
    }
}

fn bundle(lang: Lang) -> FluentBundle<FluentResource> {
    let id = lang.tag().parse().unwrap_or_default();
    let mut b = FluentBundle::new(vec![id]);
    // No Unicode isolation marks around arguments: they would show in copied text.
    b.set_use_isolating(false);
    for src in lang.sources() {
        if let Ok(res) = FluentResource::try_new(src.to_string()) {
            let _ = b.add_resource(res);
        }
    }
    b
}

thread_local! {
    static LANG: Cell<Lang> = const { Cell::new(Lang::En) };
    static BUNDLE: RefCell<Option<(Lang, FluentBundle<FluentResource>)>> = const { RefCell::new(None) };
}

/// The language in use.
pub fn lang() -> Lang {
    LANG.with(Cell::get)
}

/// Switches the language (and `<html lang>`).
pub fn set(lang: Lang) {
    LANG.with(|l| l.set(lang));
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("lang", lang.tag());
    }
}

/// The language to start in: `?lang=`, else the browser's (or the system's, in the app).
pub fn detect() -> Lang {
    if let Some(l) = crate::backend::query_param("lang") {
        return Lang::from_tag(&l);
    }
    web_sys::window()
        .and_then(|w| w.navigator().language())
        .map_or(Lang::En, |l| Lang::from_tag(&l))
}

/// Message `id` with arguments.
pub fn t_args(id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
    let lang = lang();
    BUNDLE.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.as_ref().is_none_or(|(l, _)| *l != lang) {
            *cell = Some((lang, bundle(lang)));
        }
        let Some((_, b)) = cell.as_ref() else {
            return missing(id);
        };
        let Some(pattern) = b.get_message(id).and_then(|m| m.value()) else {
            return missing(id);
        };
        let mut fa = FluentArgs::new();
        for (k, v) in args {
            fa.set(*k, v.clone());
        }
        let mut errors = vec![];
        b.format_pattern(pattern, Some(&fa), &mut errors)
            .into_owned()
    })
}

/// Messages whose English text is what gets sent to the platform (cancel reasons, the
/// walk-in's place note): stored and shared in one language, shown in the reader's.
const SENT_IN_ENGLISH: &[&str] = &[
    "desk-at-workshop",
    "desk-reason-phone",
    "desk-reason-no-technician",
    "desk-reason-twice",
    "desk-reason-other",
    "owner-cancel-plans-changed",
    "owner-cancel-mistake",
    "owner-cancel-wait-too-long",
    "owner-cancel-already-fixed",
    "owner-cancel-other",
];

thread_local! {
    static ENGLISH: FluentBundle<FluentResource> = bundle(Lang::En);
    /// The English text of each [`SENT_IN_ENGLISH`] message, made once.
    static SENT: Vec<(String, &'static str)> =
        SENT_IN_ENGLISH.iter().map(|id| (english(id), *id)).collect();
}

/// Message `id` in English, whatever the UI's language: what is sent to the platform for
/// fixed choices, so everyone reads the same words (each in their own language).
pub fn english(id: &str) -> String {
    ENGLISH.with(|b| {
        let Some(pattern) = b.get_message(id).and_then(|m| m.value()) else {
            return missing(id);
        };
        let mut errors = vec![];
        b.format_pattern(pattern, None, &mut errors).into_owned()
    })
}

/// What a message without text shows: loud enough for a test (and a person) to notice.
fn missing(id: &str) -> String {
    format!("⟦{id}⟧")
}

/// Message `id`.
pub fn t(id: &str) -> String {
    t_args(id, &[])
}

/// Whether the catalogue has message `id` (for optional texts such as service names).
pub fn has(id: &str) -> bool {
    let lang = lang();
    BUNDLE.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.as_ref().is_none_or(|(l, _)| *l != lang) {
            *cell = Some((lang, bundle(lang)));
        }
        cell.as_ref().is_some_and(|(_, b)| b.has_message(id))
    })
}

/// An amount of money in `currency` (ISO 4217), e.g. `€89.00`, `CN¥89.00` in English and
/// `¥89.00` in Chinese, with thousands grouped.
pub fn money(cents: i64, currency: &str) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let units = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let number = format!("{grouped}.{:02}", abs % 100);
    let symbol = match (currency, lang()) {
        ("EUR", _) => "€",
        ("CNY", Lang::Zh) => "¥",
        ("CNY", Lang::En) => "CN¥",
        ("USD", Lang::En) => "$",
        ("USD", Lang::Zh) => "US$",
        ("GBP", _) => "£",
        _ => return format!("{sign}{currency} {number}"),
    };
    format!("{sign}{symbol}{number}")
}

/// A calendar day and time: `1 Dec 14:05` / `12月1日 14:05`.
pub fn day_time(month: u32, day: u32, hour: u32, minute: u32) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    match lang() {
        Lang::Zh => format!("{month}月{day}日 {hour:02}:{minute:02}"),
        Lang::En => format!(
            "{day} {} {hour:02}:{minute:02}",
            MONTHS[(month.clamp(1, 12) - 1) as usize]
        ),
    }
}

/// A length of time a glance can read: `3 min` / `45 s` (`3 分钟` / `45 秒`).
pub fn duration(secs: i64) -> String {
    if secs >= 60 {
        t_args("minutes", &[("n", ((secs + 30) / 60).into())])
    } else {
        t_args("seconds", &[("n", secs.max(0).into())])
    }
}

/// A skill (`oil`, `brakes`, …) in words; an unknown one as it is.
pub fn skill(code: &str) -> String {
    let id = format!("skill-{code}");
    if has(&id) { t(&id) } else { code.to_string() }
}

/// A sentence the platform wrote (a timeline step's note, why an order is unassigned) in the
/// UI's language when it is one of the platform's own; anything else (a person's note) as
/// it is. The platform's sentences are English: this keeps them readable in Chinese.
pub fn platform_text(s: &str) -> String {
    if lang() == Lang::En {
        return s.to_string(); // they are English already, with every detail
    }
    match s {
        // The app's own sentences about the connection and the device (pitstop-core).
        "cannot reach the platform; your changes are kept and will be sent when the connection is back" =>
        {
            return t("error-offline");
        }
        "the device storage is full, so this was not saved; free some space and try again" => {
            return t("error-storage-full");
        }
        "Booked" => return t("note-booked"),
        "Offer accepted" => return t("note-offer-accepted"),
        "Assigned by hand" => return t("note-assigned-by-hand"),
        _ => {}
    }
    if let Some((skill_code, tail)) = s
        .strip_prefix("No technician with the '")
        .and_then(|rest| rest.split_once("' skill is on shift and free"))
    {
        let id = if tail.starts_with(" in this workshop") {
            "reason-no-technician-workshop"
        } else {
            "reason-no-technician"
        };
        return t_args(id, &[("skill", skill(skill_code).into())]);
    }
    if let Some(id) = SENT.with(|sent| sent.iter().find(|(text, _)| text == s).map(|e| e.1)) {
        return t(id);
    }
    if let Some(status) = s
        .strip_prefix("the platform is having trouble (HTTP ")
        .and_then(|r| r.split_once(')'))
        .and_then(|(n, _)| n.parse::<u16>().ok())
    {
        return t_args("error-server", &[("status", status.into())]);
    }
    if let Some(n) = s
        .strip_prefix("All ")
        .and_then(|r| {
            r.strip_suffix(" technician(s) offered this order declined or let the offer expire.")
        })
        .and_then(|n| n.parse::<u32>().ok())
    {
        return t_args("reason-all-declined", &[("n", n.into())]);
    }
    s.to_string()
}

/// An order status in words.
pub fn status(s: pitstop_api::OrderStatus) -> String {
    t(&format!("status-{}", s.as_str()))
}

/// A service code as people read it (the catalogue's own name for one the UI has no words
/// for).
pub fn service(code: &str) -> String {
    let id = format!("service-{code}");
    if has(&id) {
        return t(&id);
    }
    pitstop_api::services::find(code).map_or_else(|| code.to_string(), |s| s.name)
}

/// A queued action in words ("Note on order 12: “brakes…”"), as
/// [`pitstop_api::MutationOp::describe`] says it in English: which of the person's actions a
/// refusal is about.
pub fn action(op: &pitstop_api::MutationOp) -> String {
    use pitstop_api::MutationOp as Op;
    let short = |s: &str| pitstop_api::text::shorten(s, 40);
    match op {
        Op::OrderCreate(o) => t_args("action-booking", &[("service", service(&o.service).into())]),
        Op::OrderStatus {
            order_id,
            status: s,
            ..
        } => t_args(
            "action-step",
            &[
                ("order", order_id.to_string().into()),
                ("status", status(*s).into()),
            ],
        ),
        Op::OrderNote { order_id, text } => t_args(
            "action-note",
            &[
                ("order", order_id.to_string().into()),
                ("text", short(text).into()),
            ],
        ),
        Op::OrderPart {
            order_id,
            name,
            qty,
            ..
        } => t_args(
            "action-part",
            &[
                ("order", order_id.to_string().into()),
                ("qty", (*qty).into()),
                ("name", short(name).into()),
            ],
        ),
        Op::OfferAccept { offer_id } => {
            t_args("action-accept", &[("offer", offer_id.to_string().into())])
        }
        Op::OfferDecline { offer_id } => {
            t_args("action-decline", &[("offer", offer_id.to_string().into())])
        }
        Op::Shift(s) => t(if s.on_shift {
            "action-shift-on"
        } else {
            "action-shift-off"
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(lang: Lang) -> Vec<String> {
        let mut v: Vec<String> = lang
            .sources()
            .join("\n")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with(' ') && l.contains(" = "))
            .filter_map(|l| l.split(" = ").next().map(String::from))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn both_catalogues_have_every_message_and_parse() {
        assert_eq!(ids(Lang::En), ids(Lang::Zh));
        for lang in [Lang::En, Lang::Zh] {
            for (i, src) in lang.sources().iter().enumerate() {
                FluentResource::try_new(src.to_string())
                    .unwrap_or_else(|(_, e)| panic!("{lang:?} file {i}: {e:?}"));
            }
            let all = ids(lang);
            let mut unique = all.clone();
            unique.dedup();
            assert_eq!(all, unique, "{lang:?}: an id is in two files");
            set_for_test(lang);
            for id in all {
                assert!(has(&id), "{lang:?} has no text for {id}");
            }
        }
        set_for_test(Lang::Zh);
        assert_eq!(
            t_args("your-master", &[("name", "王芳".into())]),
            "您的师傅：王芳"
        );
        for s in [
            pitstop_api::OrderStatus::EnRoute,
            pitstop_api::OrderStatus::Unassigned,
        ] {
            set_for_test(Lang::En);
            assert_eq!(status(s), s.label());
        }
    }

    #[test]
    fn money_dates_and_durations_per_language() {
        set_for_test(Lang::En);
        assert_eq!(money(8_900, "EUR"), "€89.00");
        assert_eq!(money(123_456_789, "CNY"), "CN¥1,234,567.89");
        assert_eq!(money(-5, "EUR"), "-€0.05");
        assert_eq!(money(100_000, "CHF"), "CHF 1,000.00");
        assert_eq!(day_time(12, 1, 9, 5), "1 Dec 09:05");
        assert_eq!(duration(200), "3 min");
        assert_eq!(duration(-4), "0 s");
        assert!(!has("no-such-message"));
        assert_eq!(t("no-such-message"), "⟦no-such-message⟧");
        set_for_test(Lang::Zh);
        assert_eq!(money(8_900, "CNY"), "¥89.00");
        assert_eq!(money(8_900, "EUR"), "€89.00");
        assert_eq!(day_time(12, 1, 9, 5), "12月1日 09:05");
        assert_eq!(duration(45), "45 秒");
        assert_eq!(duration(600), "10 分钟");
    }

    #[test]
    fn the_platforms_own_sentences_are_translated_and_peoples_notes_kept() {
        set_for_test(Lang::Zh);
        assert_eq!(platform_text("Booked"), "已下单");
        assert_eq!(
            platform_text(
                "No technician with the 'oil' skill is on shift and free in this workshop."
            ),
            "本门店没有在岗且空闲、具备机油保养技能的师傅。"
        );
        assert_eq!(
            platform_text(
                "All 3 technician(s) offered this order declined or let the offer expire."
            ),
            "已推送给 3 位师傅，都拒绝了或没有及时接单。"
        );
        assert_eq!(platform_text("Blue car, gate 2"), "Blue car, gate 2");
        assert_eq!(english("owner-cancel-mistake"), "I booked by mistake");
        assert_eq!(
            platform_text("I booked by mistake"),
            t("owner-cancel-mistake")
        );
        assert_eq!(platform_text("At the workshop"), "在门店");
        assert_eq!(
            platform_text("the platform is having trouble (HTTP 503); retrying in 5 s"),
            "平台暂时出现问题（HTTP 503），稍后自动重试。"
        );
        assert!(platform_text(
            "cannot reach the platform; your changes are kept and will be sent when the connection is back"
        )
        .starts_with("无法连接平台"));
        set_for_test(Lang::En);
        for s in [
            "Booked",
            "Offer accepted",
            "No technician with the 'brakes' skill is on shift and free.",
            "All 1 technician(s) offered this order declined or let the offer expire.",
        ] {
            assert_eq!(platform_text(s), s, "English stays the platform's words");
        }
    }

    #[test]
    fn a_queued_action_in_words_in_both_languages() {
        use pitstop_api::MutationOp as Op;
        let note = Op::OrderNote {
            order_id: 1234,
            text: "left the old filter in the boot, next to the spare wheel".into(),
        };
        let step = Op::OrderStatus {
            order_id: 7,
            status: pitstop_api::OrderStatus::EnRoute,
            note: None,
        };
        let part = Op::OrderPart {
            order_id: 7,
            name: "Ölfilter".into(),
            qty: 2,
            unit_price_cents: 1250,
        };
        set_for_test(Lang::En);
        // The English words are the platform's own (`describe`), so the CLI and the app agree.
        for op in [&note, &step, &part, &Op::OfferAccept { offer_id: 9 }] {
            assert_eq!(action(op), op.describe());
        }
        set_for_test(Lang::Zh);
        assert_eq!(
            action(&note),
            "订单 1234 的备注：“left the old filter in the boot, next to…”"
        );
        assert_eq!(action(&part), "订单 7 的配件：2 × Ölfilter");
        assert!(action(&step).contains(&status(pitstop_api::OrderStatus::EnRoute)));
    }

    fn set_for_test(lang: Lang) {
        LANG.with(|l| l.set(lang));
    }
}
