//! URLs as messages show them: a [`DisplaySafeUrl`], which shows itself with
//! secret-looking query values and user info as `***`, or `host:port`.

use std::fmt;

use url::Url;

/// A URL that redacts itself whenever it is shown: its `Display` and `Debug`
/// replace user info and the values of secret-looking query parameters
/// (`token`, `password`, `secret`, `key`, `sig`, `credential` in their name)
/// by `***`. Errors and the request log hold URLs as this type, so that none
/// is shown whole by accident. (Boxed: errors that hold one stay small.)
#[derive(Clone, PartialEq, Eq)]
pub struct DisplaySafeUrl(Box<Url>);

impl From<Url> for DisplaySafeUrl {
    fn from(url: Url) -> Self {
        DisplaySafeUrl(Box::new(url))
    }
}

impl From<&Url> for DisplaySafeUrl {
    fn from(url: &Url) -> Self {
        DisplaySafeUrl(Box::new(url.clone()))
    }
}

impl fmt::Display for DisplaySafeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redacted(&self.0))
    }
}

impl fmt::Debug for DisplaySafeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DisplaySafeUrl")
            .field(&redacted(&self.0))
            .finish()
    }
}

/// The URL with user info and secret-looking query values replaced by `***`.
fn redacted(url: &Url) -> String {
    const SECRET_WORDS: [&str; 6] = ["token", "password", "secret", "key", "sig", "credential"];
    let mut redacted = url.clone();
    // User info a server put in a URL (a Location, a Link) is a credential too.
    if !url.username().is_empty() || url.password().is_some() {
        let _ = redacted.set_username("***");
        let _ = redacted.set_password(None);
    }
    if url.query().is_none() {
        return redacted.to_string();
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let lower = k.to_ascii_lowercase();
            let hidden = SECRET_WORDS.iter().any(|w| lower.contains(w));
            (
                k.into_owned(),
                if hidden {
                    "***".to_string()
                } else {
                    v.into_owned()
                },
            )
        })
        .collect();
    redacted.query_pairs_mut().clear().extend_pairs(pairs);
    redacted.to_string()
}

/// `host:port` of a URL, for messages.
pub(crate) fn authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(url: &Url) -> String {
        DisplaySafeUrl::from(url).to_string()
    }

    #[test]
    fn a_secret_never_shows_in_display_or_debug() {
        let url = Url::parse(
            "https://bob:pw-s3cret@r.example/v2/x?X-Amz-Signature=sig-s3cret&access_token=tok-s3cret&n=5",
        )
        .unwrap();
        let safe = DisplaySafeUrl::from(url);
        for text in [
            safe.to_string(),
            format!("{safe:?}"),
            format!("{safe:#?}"),
            format!("{:?}", Some(&safe)),
        ] {
            assert!(!text.contains("s3cret") && !text.contains("bob"), "{text}");
            assert!(
                text.contains("r.example/v2/x?") && text.contains("n=5"),
                "{text}"
            );
        }
    }

    #[test]
    fn redacts_secret_query_values() {
        let url = Url::parse(
            "https://r.example/token?service=s&refresh_token=abc&X-Amz-Signature=zz&scope=a",
        )
        .unwrap();
        let shown = show(&url);
        assert!(!shown.contains("abc") && !shown.contains("zz"), "{shown}");
        assert!(shown.contains("service=s") && shown.contains("scope=a"));
        assert_eq!(
            show(&Url::parse("https://r.example/v2/").unwrap()),
            "https://r.example/v2/"
        );
    }

    #[test]
    fn redacts_user_info_in_urls() {
        for raw in [
            "https://user:hunter2@r.example/v2/_catalog?last=a",
            "https://hunter2@r.example/v2/",
            "https://:hunter2@r.example/v2/",
        ] {
            let shown = show(&Url::parse(raw).unwrap());
            assert!(
                !shown.contains("hunter2") && !shown.contains("user"),
                "{shown}"
            );
            assert!(shown.starts_with("https://***@r.example/v2/"), "{shown}");
        }
    }
}
