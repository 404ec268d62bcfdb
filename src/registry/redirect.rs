//! Redirects, followed by the client itself one leg at a time, so that each leg
//! goes out on the HTTP client for its origin (the registry's TLS settings on
//! its own origin only): the registry's credentials stay on its origin, HTTPS
//! never leads to HTTP, a write is never turned into a GET, at most
//! [`MAX_REDIRECTS`] in a row.

use reqwest::header::{HeaderMap, HeaderValue, LOCATION};
use reqwest::{Method, StatusCode};
use url::{Origin, Url};

/// A request body, kept so that the request can be sent again (a retry, a 307
/// or 308 leg).
pub(crate) struct Body {
    /// Its `Content-Type`.
    pub content_type: Option<String>,
    /// Its bytes (shared: a retry or a redirect sends them again without a copy).
    pub bytes: bytes::Bytes,
}

/// The most redirects followed for one request.
pub(crate) const MAX_REDIRECTS: usize = 10;

/// One leg of a request: where it goes after the redirects so far, and what it
/// carries there.
pub(crate) struct Leg<'a> {
    /// The method (a 303 turns a GET's next leg into a GET, too).
    pub method: Method,
    /// Where it goes.
    pub url: Url,
    /// The body, sent again on a 307 or 308.
    pub body: Option<&'a Body>,
    /// The `Authorization` value: on the registry's own origin only, and never
    /// again once a redirect has left it.
    pub auth: Option<&'a HeaderValue>,
}

/// The leg that the answer to `leg` (`status`, `headers`) leads to, `followed`
/// redirects into the request, with `own` the registry's origin. `Ok(None)`:
/// not a redirect to follow, the answer is the request's (not a redirect, no
/// `Location`, or a 301, 302 or 303 answering a write: it is never sent again as
/// a GET, whose answer would pass for the write's). `Err`: why a redirect is
/// refused.
pub(crate) fn next_leg<'a>(
    leg: &Leg<'a>,
    status: StatusCode,
    headers: &HeaderMap,
    followed: usize,
    own: &Origin,
) -> Result<Option<Leg<'a>>, String> {
    let reads = leg.method == Method::GET || leg.method == Method::HEAD;
    let keeps_body = match status {
        StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND | StatusCode::SEE_OTHER if reads => false,
        StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT => true,
        _ => return Ok(None),
    };
    let Some(location) = headers.get(LOCATION) else {
        return Ok(None);
    };
    let location = location
        .to_str()
        .map_err(|_| "a redirect's Location is not text".to_string())?;
    let next = leg
        .url
        .join(location)
        .map_err(|e| format!("a redirect's Location is not a URL: {e}"))?;
    if !["http", "https"].contains(&next.scheme()) {
        return Err(format!(
            "a redirect leads to a `{}` URL; not followed",
            next.scheme()
        ));
    }
    if leg.url.scheme() == "https" && next.scheme() != "https" {
        return Err("refusing a redirect from HTTPS to HTTP".into());
    }
    if followed >= MAX_REDIRECTS {
        return Err(format!(
            "too many redirects (more than {MAX_REDIRECTS}); stopped"
        ));
    }
    let auth = leg.auth.filter(|_| next.origin() == *own);
    Ok(Some(Leg {
        method: leg.method.clone(),
        body: leg.body.filter(|_| keeps_body),
        auth,
        url: next,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to(location: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(LOCATION, HeaderValue::from_str(location).unwrap());
        headers
    }

    fn own() -> Origin {
        Url::parse("https://r.example:5000/").unwrap().origin()
    }

    fn leg<'a>(method: Method, body: Option<&'a Body>, auth: Option<&'a HeaderValue>) -> Leg<'a> {
        Leg {
            method,
            url: Url::parse("https://r.example:5000/v2/a/blobs/sha256:x").unwrap(),
            body,
            auth,
        }
    }

    #[test]
    fn credentials_stay_on_the_registrys_origin_and_do_not_come_back() {
        let auth = HeaderValue::from_static("Bearer t");
        let first = leg(Method::GET, None, Some(&auth));
        let same = next_leg(
            &first,
            StatusCode::TEMPORARY_REDIRECT,
            &to("/v2/b"),
            0,
            &own(),
        )
        .unwrap()
        .unwrap();
        assert!(same.auth.is_some());
        let away = next_leg(
            &first,
            StatusCode::TEMPORARY_REDIRECT,
            &to("https://storage.example/blob"),
            0,
            &own(),
        )
        .unwrap()
        .unwrap();
        assert!(away.auth.is_none());
        assert_eq!(away.url.as_str(), "https://storage.example/blob");
        let back = next_leg(
            &away,
            StatusCode::FOUND,
            &to("https://r.example:5000/v2/c"),
            1,
            &own(),
        )
        .unwrap()
        .unwrap();
        assert!(back.auth.is_none(), "once left, the origin gets none back");
        // Another port is another origin.
        let port = next_leg(
            &first,
            StatusCode::FOUND,
            &to("https://r.example:5001/v2/"),
            0,
            &own(),
        )
        .unwrap()
        .unwrap();
        assert!(port.auth.is_none());
    }

    #[test]
    fn https_never_leads_to_http_and_redirects_are_bounded() {
        let first = leg(Method::GET, None, None);
        for location in ["http://r.example:5000/v2/", "ftp://r.example/x"] {
            assert!(
                next_leg(&first, StatusCode::FOUND, &to(location), 0, &own()).is_err(),
                "{location}"
            );
        }
        let refused = next_leg(
            &first,
            StatusCode::FOUND,
            &to("/v2/b"),
            MAX_REDIRECTS,
            &own(),
        );
        assert!(matches!(refused, Err(reason) if reason.contains("too many redirects")));
        assert!(next_leg(
            &first,
            StatusCode::FOUND,
            &to("/v2/b"),
            MAX_REDIRECTS - 1,
            &own()
        )
        .unwrap()
        .is_some());
    }

    #[test]
    fn a_write_keeps_its_body_on_307_and_308_and_is_never_turned_into_a_get() {
        let body = Body {
            content_type: None,
            bytes: bytes::Bytes::from_static(b"x"),
        };
        let put = leg(Method::PUT, Some(&body), None);
        for status in [
            StatusCode::TEMPORARY_REDIRECT,
            StatusCode::PERMANENT_REDIRECT,
        ] {
            let next = next_leg(&put, status, &to("/v2/b"), 0, &own())
                .unwrap()
                .unwrap();
            assert_eq!(next.method, Method::PUT);
            assert!(next.body.is_some());
        }
        for status in [
            StatusCode::MOVED_PERMANENTLY,
            StatusCode::FOUND,
            StatusCode::SEE_OTHER,
        ] {
            assert!(next_leg(&put, status, &to("/v2/b"), 0, &own())
                .unwrap()
                .is_none());
        }
        // Not a redirect, or no Location: the answer is the request's.
        let get = leg(Method::GET, None, None);
        assert!(next_leg(&get, StatusCode::OK, &to("/v2/b"), 0, &own())
            .unwrap()
            .is_none());
        assert!(
            next_leg(&get, StatusCode::FOUND, &HeaderMap::new(), 0, &own())
                .unwrap()
                .is_none()
        );
        assert!(
            next_leg(&get, StatusCode::NOT_MODIFIED, &to("/v2/b"), 0, &own())
                .unwrap()
                .is_none()
        );
    }
}
