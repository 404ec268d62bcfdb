//! Lists: the catalog and tag lists, following `Link: <...>; rel="next"` pages,
//! bounded in items and in pages.

use std::collections::HashSet;
use std::hash::{BuildHasher, Hash, RandomState};

use reqwest::header::LINK;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use url::Url;

use super::auth::{Challenge, Scope};
use super::client::Registry;
use super::error::{parse_json, RegistryError, Result};
use super::hint::Hint;
use super::redact::DisplaySafeUrl;

/// Repositories asked for per catalog page.
const CATALOG_PAGE_SIZE: u32 = 1000;
/// Empty pages in a row that still point to a next one, before giving up.
const MAX_EMPTY_PAGES: usize = 3;
/// The most pages one listing reads, unless the bound on items allows more (one
/// page per [`ITEMS_PER_PAGE_BOUND`] items): Distribution's catalog pages of 1,000
/// make the default bound of a million repositories 1,000 pages, and a registry
/// that pages tags by 50 still lists 500,000 of them.
const MAX_PAGES: usize = 10_000;
/// Items of the bound on items that allow one more page beyond [`MAX_PAGES`].
const ITEMS_PER_PAGE_BOUND: usize = 100;
/// Largest list page read into memory.
pub(super) const MAX_PAGE_BODY: usize = 16 * 1024 * 1024;

#[derive(Deserialize)]
struct CatalogPage {
    #[serde(default)]
    repositories: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct TagsPage {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

/// The `rel="next"` target of a `Link` header, if there is one. Never panics.
pub fn next_link(header: &str) -> Option<&str> {
    header.split(',').find_map(|link| {
        let link = link.trim();
        let target = link.strip_prefix('<')?;
        let (target, params) = target.split_once('>')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim();
            p.split_once('=').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("rel")
                    && v.trim()
                        .trim_matches('"')
                        .split_whitespace()
                        .any(|r| r.eq_ignore_ascii_case("next"))
            })
        });
        is_next.then_some(target)
    })
}

impl Registry {
    /// Every repository in the registry (`GET /v2/_catalog`, all pages).
    pub async fn catalog(&self) -> Result<Vec<String>> {
        let first = self.url(&format!("v2/_catalog?n={CATALOG_PAGE_SIZE}"))?;
        let result = self.pages(first, &Scope::Catalog, "the catalog", |bytes, url| {
            Ok(parse_json::<CatalogPage>(bytes, url)?
                .repositories
                .unwrap_or_default())
        });
        match result.await {
            Err(PageError::PageSizeRefused) => {
                let plain = self.url("v2/_catalog")?;
                self.pages(plain, &Scope::Catalog, "the catalog", |bytes, url| {
                    Ok(parse_json::<CatalogPage>(bytes, url)?
                        .repositories
                        .unwrap_or_default())
                })
                .await
                .map_err(|e| self.catalog_error(e))
            }
            Err(PageError::Registry(RegistryError::Unauthorized {
                at_token_server: true,
                ..
            })) if self.grants_without_catalog().await =>
            {
                Err(self.no_catalog(
                    "the token server refuses registry:catalog:* to these credentials while granting others"
                        .into(),
                ))
            }
            other => other.map_err(|e| self.catalog_error(e)),
        }
    }

    /// Whether a token server that refused the catalog scope grants a token
    /// without it: then the credentials are good, and only the catalog is off
    /// limits (a repository can still be named and listed).
    async fn grants_without_catalog(&self) -> bool {
        let Ok(Some(challenge @ Challenge::Bearer { .. })) = self.challenge().await else {
            return false;
        };
        self.authorization(&challenge, &Scope::None).await.is_ok()
    }

    /// The registry lists no repositories to this client, for `detail`.
    fn no_catalog(&self, detail: String) -> RegistryError {
        RegistryError::Unsupported {
            registry: self.host().to_string(),
            operation: "listing repositories (catalog)".into(),
            detail,
            hint: Some(Hint::ListOneRepository {
                registry: self.host().to_string(),
            }),
        }
    }

    fn catalog_error(&self, err: PageError) -> RegistryError {
        match err {
            PageError::PageSizeRefused => self.no_catalog("it refuses every page size".into()),
            PageError::Registry(RegistryError::NotFound { detail, .. }) => self.no_catalog(detail),
            PageError::Registry(RegistryError::Unauthorized {
                insufficient_scope: true,
                ..
            }) => self.no_catalog(if self.has_credential() {
                "the token server does not grant registry:catalog:* to these credentials".into()
            } else {
                "the token server does not grant registry:catalog:* to anonymous users; log in to list".into()
            }),
            PageError::Registry(e) => e,
        }
    }

    /// Every tag of `repository` (`GET /v2/<name>/tags/list`, all pages).
    pub async fn tags(&self, repository: &str) -> Result<Vec<String>> {
        let first = self.url(&format!("v2/{repository}/tags/list"))?;
        let what = format!("repository {}/{repository}", self.host());
        self.pages(
            first,
            &Scope::Pull(repository.to_string()),
            &what,
            |bytes, url| Ok(parse_json::<TagsPage>(bytes, url)?.tags.unwrap_or_default()),
        )
        .await
        .map_err(|e| match e {
            PageError::Registry(e) => e,
            PageError::PageSizeRefused => RegistryError::InvalidResponse {
                url: what.clone(),
                reason: "the registry refused the tag list's page size".into(),
            },
        })
    }

    /// The most pages one listing may read.
    fn max_pages(&self) -> usize {
        MAX_PAGES.max(self.max_list_items() / ITEMS_PER_PAGE_BOUND)
    }

    /// Fetches `first` and every page its `Link` headers lead to, same origin
    /// only. A registry whose pagination never ends must not grow memory and
    /// requests without limit: the listing stops with an error past the bound on
    /// items (checked on every page, the last one too), past the bound on pages,
    /// at a page that brings nothing new (every entry on it was listed before),
    /// after a few empty pages in a row, and at a link back to a page read.
    pub(crate) async fn pages<T, F>(
        &self,
        first: Url,
        scope: &Scope,
        what: &str,
        parse: F,
    ) -> std::result::Result<Vec<T>, PageError>
    where
        T: Hash,
        F: Fn(&[u8], &Url) -> Result<Vec<T>>,
    {
        let mut items = Vec::new();
        // Hashes of the items listed (keyed per run: a registry cannot aim at them).
        let hasher = RandomState::new();
        let mut listed = HashSet::new();
        let mut seen = HashSet::new();
        let mut empty_pages = 0usize;
        let mut pages = 0usize;
        let mut url = first;
        loop {
            seen.insert(url.to_string());
            let page = self.get(&url, scope, None, MAX_PAGE_BODY).await?;
            pages += 1;
            if !page.status.is_success() {
                let refused_size = page.status == StatusCode::BAD_REQUEST
                    && url.query().is_some_and(|q| q.contains("n="))
                    && page
                        .errors()
                        .iter()
                        .any(|e| e.code == "PAGINATION_NUMBER_INVALID");
                if refused_size {
                    return Err(PageError::PageSizeRefused);
                }
                return Err(self.error_for(&Method::GET, &url, &page, what).into());
            }
            let next = page
                .headers
                .get_all(LINK)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(|v| next_link(v).map(str::to_string));
            let page_items = parse(&page.body, &url)?;
            let new = page_items
                .iter()
                .filter(|item| listed.insert(hasher.hash_one(item)))
                .count();
            if new == 0 && !page_items.is_empty() {
                return Err(RegistryError::InvalidResponse {
                    url: DisplaySafeUrl::from(&url).to_string(),
                    reason: format!(
                        "{what}: page {pages} brings nothing new (each of its {} entries was listed before); stopped",
                        page_items.len()
                    ),
                }
                .into());
            }
            empty_pages = if page_items.is_empty() {
                empty_pages + 1
            } else {
                0
            };
            items.extend(page_items);
            if items.len() > self.max_list_items() {
                return Err(RegistryError::TooManyItems {
                    url: DisplaySafeUrl::from(&url),
                    what: what.to_string(),
                    bound: self.max_list_items(),
                }
                .into());
            }
            let Some(next) = next else {
                return Ok(items);
            };
            if pages >= self.max_pages() {
                return Err(RegistryError::TooManyPages {
                    url: DisplaySafeUrl::from(&url),
                    what: what.to_string(),
                    bound: self.max_pages(),
                }
                .into());
            }
            if empty_pages > MAX_EMPTY_PAGES {
                return Err(RegistryError::InvalidResponse {
                    url: DisplaySafeUrl::from(&url).to_string(),
                    reason: format!(
                        "{what}: {empty_pages} pages in a row were empty yet pointed to another; stopped"
                    ),
                }
                .into());
            }
            let next_url = url
                .join(&next)
                .map_err(|e| RegistryError::InvalidResponse {
                    url: DisplaySafeUrl::from(&url).to_string(),
                    reason: format!("pagination link `{next}` is not a URL: {e}"),
                })?;
            if next_url.origin() != url.origin() {
                return Err(RegistryError::InvalidResponse {
                    url: DisplaySafeUrl::from(&url).to_string(),
                    reason: format!(
                        "pagination link leads to another origin ({}); not followed",
                        next_url.origin().ascii_serialization()
                    ),
                }
                .into());
            }
            if !seen.insert(next_url.to_string()) {
                return Err(RegistryError::InvalidResponse {
                    url: DisplaySafeUrl::from(&url).to_string(),
                    reason: format!(
                        "pagination loops back to {}",
                        DisplaySafeUrl::from(&next_url)
                    ),
                }
                .into());
            }
            url = next_url;
        }
    }
}

/// A page failure, or the registry refusing the page size asked for.
pub(crate) enum PageError {
    PageSizeRefused,
    Registry(RegistryError),
}

impl From<RegistryError> for PageError {
    fn from(e: RegistryError) -> Self {
        PageError::Registry(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_next_links() {
        assert_eq!(
            next_link(r#"</v2/_catalog?last=b&n=100>; rel="next""#),
            Some("/v2/_catalog?last=b&n=100")
        );
        assert_eq!(
            next_link(r#"<https://x/prev>; rel="prev", <https://x/next>; rel=next"#),
            Some("https://x/next")
        );
        assert_eq!(next_link(r#"</a>; rel="prev""#), None);
        // Malformed values name no next page.
        for junk in ["", "<", ">", "<a", "a>; rel=next", ";;;,,,", "<a>; rel"] {
            assert_eq!(next_link(junk), None, "{junk:?}");
        }
        // `rel` holds several relation types; `next` among them counts.
        assert_eq!(
            next_link(r#"<https://x/n>; rel="last next""#),
            Some("https://x/n")
        );
    }
}
