//! Times as people read them: relative ("5 minutes ago") in the browser, the exact
//! local time on hover; the server renders the UTC time (readable without JavaScript).

use leptos::prelude::*;

/// `2026-11-30T13:34:59.534479Z` → `2026-11-30 13:34 UTC`.
pub fn readable_utc(iso: &str) -> String {
    match (iso.get(..10), iso.get(11..16)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => iso.to_owned(),
    }
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
/// "just now", "5 minutes ago", "3 hours ago", "2 days ago", for `seconds` ago.
pub fn relative(seconds: f64) -> String {
    let plural = |n: f64, unit: &str| {
        let n = n.floor() as i64;
        format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
    };
    match seconds {
        s if s < 45.0 => "just now".into(),
        s if s < 3600.0 => plural((s / 60.0).max(1.0), "minute"),
        s if s < 86_400.0 => plural(s / 3600.0, "hour"),
        s if s < 30.0 * 86_400.0 => plural(s / 86_400.0, "day"),
        s if s < 365.0 * 86_400.0 => plural(s / (30.0 * 86_400.0), "month"),
        s => plural(s / (365.0 * 86_400.0), "year"),
    }
}

/// A moment: `<time datetime=…>`, relative once the page is interactive.
#[component]
pub fn When(at: String) -> impl IntoView {
    let text = RwSignal::new(readable_utc(&at));
    let title = RwSignal::new(readable_utc(&at));
    #[cfg(feature = "hydrate")]
    {
        let at = at.clone();
        Effect::new(move || {
            let then = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(&at));
            let millis = then.get_time();
            if millis.is_finite() {
                text.set(relative((js_sys::Date::now() - millis) / 1000.0));
                title.set(String::from(
                    then.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED),
                ));
            }
        });
    }
    view! { <time datetime=at title=move || title.get()>{move || text.get()}</time> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_like_people_say_them() {
        assert_eq!(
            readable_utc("2026-11-30T13:34:59.534479Z"),
            "2026-11-30 13:34 UTC"
        );
        assert_eq!(relative(10.0), "just now");
        assert_eq!(relative(61.0), "1 minute ago");
        assert_eq!(relative(7200.0), "2 hours ago");
        assert_eq!(relative(3.0 * 86_400.0), "3 days ago");
    }
}
