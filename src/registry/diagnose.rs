//! Questions a diagnosis asks of a registry, each answered without changing
//! anything: what `GET /v2/` says (status, API version, challenge), whether a
//! catalog or tag list is paged, whether the referrers API answers.

use reqwest::header::LINK;
use reqwest::StatusCode;

use super::catalog::MAX_PAGE_BODY;
use super::challenge::{challenge_of, Challenge, Scope};
use super::client::Registry;
use super::digest::Digest;
use super::error::{RegistryError, Result};

/// What an unauthenticated `GET /v2/` answered.
#[derive(Clone, Debug)]
pub struct ApiAnswer {
    /// The HTTP status.
    pub status: u16,
    /// `Docker-Distribution-API-Version`, when sent.
    pub api_version: Option<String>,
    /// The challenge of a 401.
    pub challenge: Option<Challenge>,
}

/// A one-item page of a list: how the list is paged, and what the page held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListPage {
    /// How the list is paged.
    pub paging: Paging,
    /// The names on the page (empty when it was refused).
    pub items: Vec<String>,
}

/// What a one-item page of a list answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paging {
    /// The list is paged: a `Link` header points at the next page.
    Paged,
    /// One page held it all (no `Link` header, no more than asked).
    OnePage,
    /// More items than asked for came at once: the registry ignores `n`.
    Unpaged(usize),
    /// The registry refused the list (HTTP status).
    Refused(u16),
}

impl Registry {
    /// `GET /v2/` without credentials, as it comes.
    pub async fn api_answer(&self) -> Result<ApiAnswer> {
        let answer = self.api_root(&self.url("v2/")?).await?;
        Ok(ApiAnswer {
            status: answer.status.as_u16(),
            api_version: answer
                .headers
                .get("docker-distribution-api-version")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            challenge: (answer.status == StatusCode::UNAUTHORIZED)
                .then(|| challenge_of(&answer.headers))
                .flatten(),
        })
    }

    /// Whether the catalog is paged (`GET /v2/_catalog?n=1`, with credentials),
    /// and the repositories on that first page.
    pub async fn catalog_paging(&self) -> Result<ListPage> {
        self.paging("v2/_catalog?n=1", &Scope::Catalog, "repositories")
            .await
    }

    /// Whether `repository`'s tag list is paged (`?n=1`).
    pub async fn tags_paging(&self, repository: &str) -> Result<ListPage> {
        self.paging(
            &format!("v2/{repository}/tags/list?n=1"),
            &Scope::Pull(repository.to_string()),
            "tags",
        )
        .await
    }

    async fn paging(&self, path: &str, scope: &Scope, field: &str) -> Result<ListPage> {
        let url = self.url(path)?;
        let refused = |status| ListPage {
            paging: Paging::Refused(status),
            items: Vec::new(),
        };
        match self.get(&url, scope, None, MAX_PAGE_BODY).await {
            Ok(answer) if answer.status.is_success() => {
                let items: Vec<String> = serde_json::from_slice::<serde_json::Value>(&answer.body)
                    .ok()
                    .and_then(|v| {
                        v.get(field)?.as_array().map(|names| {
                            names
                                .iter()
                                .filter_map(|n| n.as_str().map(str::to_string))
                                .collect()
                        })
                    })
                    .unwrap_or_default();
                let paging = if answer.headers.contains_key(LINK) {
                    Paging::Paged
                } else if items.len() > 1 {
                    Paging::Unpaged(items.len())
                } else {
                    Paging::OnePage
                };
                Ok(ListPage { paging, items })
            }
            Ok(answer) => Ok(refused(answer.status.as_u16())),
            Err(RegistryError::Unauthorized { .. }) => Ok(refused(401)),
            Err(e) => Err(e),
        }
    }

    /// Whether the registry answers the referrers API for `repository` (asked
    /// about a digest that cannot exist: 200 with an empty list where it does).
    pub async fn has_referrers_api(&self, repository: &str) -> Result<bool> {
        let nothing = Digest::sha256_of(b"regctl: probe for the referrers API");
        Ok(self.referrers(repository, &nothing).await?.is_some())
    }
}
