//! URLs as messages show them: redacted (secret-looking query values and user
//! info become `***`), or as `host:port`.

use url::Url;

/// The URL with secret-looking query values replaced by `***`.
pub fn redact_url(url: &Url) -> String {
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

    #[test]
    fn redacts_secret_query_values() {
        let url = Url::parse(
            "https://r.example/token?service=s&refresh_token=abc&X-Amz-Signature=zz&scope=a",
        )
        .unwrap();
        let shown = redact_url(&url);
        assert!(!shown.contains("abc") && !shown.contains("zz"), "{shown}");
        assert!(shown.contains("service=s") && shown.contains("scope=a"));
        assert_eq!(
            redact_url(&Url::parse("https://r.example/v2/").unwrap()),
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
            let shown = redact_url(&Url::parse(raw).unwrap());
            assert!(
                !shown.contains("hunter2") && !shown.contains("user"),
                "{shown}"
            );
            assert!(shown.starts_with("https://***@r.example/v2/"), "{shown}");
        }
    }
}
