//! The message catalogs of the public pages and of the mail to requesters: one Fluent file
//! per language under `locales/`, compiled into the binary. Staff pages stay English and do
//! not use them. A key missing in a language falls back to English, then to the key itself
//! (the catalog tests make both impossible in a build that passes).

use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

pub use crate::domain::Language;

/// Each language's catalog source, as compiled in.
pub const SOURCES: &[(Language, &str)] = &[
    (Language::En, include_str!("../locales/en/main.ftl")),
    (Language::FaAf, include_str!("../locales/fa-AF/main.ftl")),
    (Language::Ps, include_str!("../locales/ps/main.ftl")),
];

struct Catalogs {
    bundles: Vec<(Language, FluentBundle<FluentResource>)>,
}

static CATALOGS: LazyLock<Catalogs> = LazyLock::new(|| Catalogs {
    bundles: SOURCES
        .iter()
        .map(|(lang, source)| (*lang, bundle(*lang, source)))
        .collect(),
});

/// A bundle of one catalog; the sources are compiled in and tested, so a parse error is a
/// build defect, not a runtime condition.
fn bundle(lang: Language, source: &str) -> FluentBundle<FluentResource> {
    let resource = FluentResource::try_new(source.to_string())
        .unwrap_or_else(|(_, errors)| panic!("locales/{lang}/main.ftl: {errors:?}"));
    let id: unic_langid::LanguageIdentifier =
        lang.as_str().parse().expect("language tags are valid");
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // Isolation is done in markup (`<bdi>`, `dir`), where it is visible and testable.
    bundle.set_use_isolating(false);
    bundle
        .add_resource(resource)
        .unwrap_or_else(|errors| panic!("locales/{lang}/main.ftl: {errors:?}"));
    bundle
}

fn format(lang: Language, key: &str, args: Option<&FluentArgs>) -> Option<String> {
    let (_, bundle) = CATALOGS.bundles.iter().find(|(l, _)| *l == lang)?;
    let pattern = bundle.get_message(key)?.value()?;
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, args, &mut errors);
    Some(text.into_owned())
}

/// The message `key` in `lang`, else in English, else the key.
pub fn message(lang: Language, key: &str, args: Option<&FluentArgs>) -> String {
    format(lang, key, args)
        .or_else(|| format(Language::En, key, args))
        .unwrap_or_else(|| key.to_string())
}

/// Translation for one page or mail: the language and lookups templates call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tr(pub Language);

impl Tr {
    pub fn lang(&self) -> Language {
        self.0
    }

    /// The BCP 47 tag, for `<html lang>`.
    pub fn code(&self) -> &'static str {
        self.0.as_str()
    }

    /// `ltr` or `rtl`, for `<html dir>`.
    pub fn dir(&self) -> &'static str {
        self.0.dir()
    }

    /// Whether this is the language with `code`, for `aria-current` in the switch.
    pub fn is(&self, code: &str) -> bool {
        self.0.as_str() == code
    }

    pub fn t(&self, key: &str) -> String {
        message(self.0, key, None)
    }

    /// A message with one text argument (`{ $reference }`).
    pub fn t_with(&self, key: &str, name: &str, value: &str) -> String {
        let mut args = FluentArgs::new();
        args.set(name.to_string(), FluentValue::from(value.to_string()));
        message(self.0, key, Some(&args))
    }

    /// A message with one number argument, for plurals (`{ $count -> … }`).
    pub fn t_count(&self, key: &str, name: &str, count: usize) -> String {
        let mut args = FluentArgs::new();
        args.set(name.to_string(), FluentValue::from(count));
        message(self.0, key, Some(&args))
    }

    /// An answer option: `location-border`, `siv_status-in_process`.
    pub fn option(&self, group: &str, value: &str) -> String {
        self.t(&option_key(group, value))
    }

    /// The translated message of a field error, by its problem code.
    pub fn error(&self, code: &str) -> String {
        self.t(&format!("error-{code}"))
    }

    /// The same, with one text argument (`{ $year }`) for the messages that use it.
    pub fn error_with(&self, code: &str, name: &str, value: &str) -> String {
        self.t_with(&format!("error-{code}"), name, value)
    }
}

/// The language switch: each language's code and its name in that language.
pub fn choices() -> Vec<(&'static str, String)> {
    Language::ALL
        .iter()
        .map(|l| (l.as_str(), Tr(*l).t("language-name")))
        .collect()
}

pub fn option_key(group: &str, value: &str) -> String {
    format!("{group}-{value}")
}

/// The standard guidance and next steps of a category in a language other than English
/// (English uses the lead's text from the database).
pub fn guidance(lang: Language, category: crate::domain::Category) -> (String, String) {
    let tr = Tr(lang);
    (
        tr.t(&format!("guidance-{category}")),
        tr.t(&format!("next-steps-{category}")),
    )
}

#[cfg(test)]
mod tests;
