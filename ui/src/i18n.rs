//! The UI's words in English and Simplified Chinese: Project Fluent catalogues
//! (`ui/locales/<lang>/main.ftl`, compiled in), the language from `?lang=`, else the
//! browser's or system's, and `<html lang>` set to match. Views ask [`t`] / [`t_args`] by
//! message id; a missing id shows as the id itself, which the tests look for.
//!
//! Localised so far: the live tracking view and the share-link page. The other views are
//! still English (issue #14).

use std::cell::{Cell, RefCell};

use fluent_bundle::{FluentArgs, FluentBundle, FluentResource, FluentValue};

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

    fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("../locales/en/main.ftl"),
            Lang::Zh => include_str!("../locales/zh-CN/main.ftl"),
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
    if let Ok(res) = FluentResource::try_new(lang.source().to_string()) {
        let _ = b.add_resource(res);
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
            return id.to_string();
        };
        let Some(pattern) = b.get_message(id).and_then(|m| m.value()) else {
            return id.to_string();
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

/// Message `id`.
pub fn t(id: &str) -> String {
    t_args(id, &[])
}

/// An order status in words.
pub fn status(s: pitstop_api::OrderStatus) -> String {
    t(&format!("status-{}", s.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(src: &str) -> Vec<String> {
        let mut v: Vec<String> = src
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with(' ') && l.contains(" = "))
            .filter_map(|l| l.split(" = ").next().map(String::from))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn both_catalogues_have_every_message_and_parse() {
        assert_eq!(ids(Lang::En.source()), ids(Lang::Zh.source()));
        for lang in [Lang::En, Lang::Zh] {
            FluentResource::try_new(lang.source().to_string())
                .unwrap_or_else(|(_, e)| panic!("{lang:?}: {e:?}"));
            set_for_test(lang);
            for id in ids(lang.source()) {
                assert_ne!(t(&id), id, "{lang:?} has no text for {id}");
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

    fn set_for_test(lang: Lang) {
        LANG.with(|l| l.set(lang));
    }
}
