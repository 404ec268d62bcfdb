//! Digest prefixes as terminal tables show them (`sha256:0123456789ab…`):
//! resolved against the digests a repository's tags point at, refused when no
//! tag's digest starts so, or when several do.

use futures_util::StreamExt as _;

use super::client::Registry;
use super::digest::Digest;
use super::error::{RegistryError, Result};
use super::reference::Reference;

/// The fewest hex digits a prefix may have (what tables show).
pub const MIN_PREFIX: usize = 12;

/// The hex digits of a sha256 digest prefix written `sha256:HEX` or `HEX`,
/// 12 to 63 lowercase hex digits, with or without the `…` (or `...`) a
/// shortened table adds; `None` for anything else (a whole digest included).
pub fn parse_prefix(text: &str) -> Option<String> {
    let text = text.strip_prefix("sha256:").unwrap_or(text);
    let text = text
        .strip_suffix('…')
        .or_else(|| text.strip_suffix("..."))
        .unwrap_or(text);
    let hex = (MIN_PREFIX..64).contains(&text.len())
        && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    hex.then(|| text.to_string())
}

/// `input` split at a digest prefix: what comes before `@`, and the prefix's hex
/// digits; `None` when it has no `@` followed by a prefix.
pub fn split_prefix(input: &str) -> Option<(&str, String)> {
    let (name, after) = input.rsplit_once('@')?;
    parse_prefix(after).map(|hex| (name, hex))
}

impl Registry {
    /// The one digest among those `repository`'s tags point at that starts
    /// with `hex`, read with up to `concurrency` requests at once. No such
    /// digest is [`RegistryError::NotFound`]; several are
    /// [`RegistryError::AmbiguousDigest`], naming them.
    pub async fn resolve_prefix(
        &self,
        repository: &str,
        hex: &str,
        concurrency: usize,
    ) -> Result<Digest> {
        let tags = self.tags(repository).await?;
        let host = self.host();
        let heads: Vec<Result<Digest>> = futures_util::stream::iter(tags)
            .map(|tag| async move {
                self.resolve(&Reference::with_tag(host, repository, &tag))
                    .await
                    .map(|h| h.digest)
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        let mut found = Vec::new();
        for head in heads {
            match head {
                Ok(d) => found.push(d),
                // A tag deleted while its list was read points at nothing.
                Err(RegistryError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        pick(&format!("{host}/{repository}"), hex, found)
    }
}

/// The one digest of `digests` that starts with `sha256:` and `hex`.
fn pick(repository: &str, hex: &str, digests: Vec<Digest>) -> Result<Digest> {
    let prefix = format!("sha256:{hex}");
    let found: std::collections::BTreeSet<Digest> = digests
        .into_iter()
        .filter(|d| d.to_string().starts_with(&prefix))
        .collect();
    let mut found = found.into_iter();
    match (found.next(), found.next()) {
        (Some(one), None) => Ok(one),
        (None, _) => Err(RegistryError::NotFound {
            what: format!("manifest {repository}@{prefix}…"),
            detail: "no tag of the repository points at a digest that starts so".into(),
        }),
        (Some(first), Some(second)) => Err(RegistryError::AmbiguousDigest {
            prefix,
            candidates: [first, second].into_iter().chain(found).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_is_12_to_63_hex_digits_as_tables_show_them() {
        let hex12 = "0123456789ab";
        assert_eq!(parse_prefix(hex12).as_deref(), Some(hex12));
        assert_eq!(
            parse_prefix(&format!("sha256:{hex12}…")).as_deref(),
            Some(hex12)
        );
        assert_eq!(
            parse_prefix(&format!("sha256:{hex12}...")).as_deref(),
            Some(hex12)
        );
        assert_eq!(parse_prefix("0123456789a"), None, "11 digits are too few");
        assert_eq!(
            parse_prefix(&"a".repeat(64)),
            None,
            "a whole digest is no prefix"
        );
        assert_eq!(
            parse_prefix("0123456789AB"),
            None,
            "upper case is not a digest"
        );
        assert_eq!(parse_prefix("sha512:0123456789ab"), None);
        assert_eq!(
            split_prefix("h:5000/app@sha256:0123456789ab…"),
            Some(("h:5000/app", hex12.to_string()))
        );
        assert_eq!(split_prefix("h:5000/app:v1"), None);
    }

    #[test]
    fn a_prefix_names_one_digest_or_is_refused() {
        let d = |hex: &str| format!("sha256:{hex}").parse::<Digest>().unwrap();
        let a1 = d(&format!("0123456789ab{}", "1".repeat(52)));
        let a2 = d(&format!("0123456789ab{}", "2".repeat(52)));
        let b = d(&format!("fedcba987654{}", "3".repeat(52)));
        let all = vec![a1.clone(), b.clone(), a1.clone(), a2.clone()];
        // Two tags on one manifest are one digest.
        assert_eq!(pick("h/r", "fedcba987654", all.clone()).unwrap(), b);
        assert_eq!(pick("h/r", "0123456789ab1", all.clone()).unwrap(), a1);
        match pick("h/r", "0123456789ab", all.clone()) {
            Err(e @ RegistryError::AmbiguousDigest { .. }) => {
                assert_eq!(e.kind(), crate::registry::ErrorKind::Usage);
                let text = e.to_string();
                assert!(
                    text.contains(&a1.to_string()) && text.contains(&a2.to_string()),
                    "{text}"
                );
            }
            other => panic!("{other:?}"),
        }
        match pick("h/r", "aaaaaaaaaaaa", all) {
            Err(e @ RegistryError::NotFound { .. }) => {
                assert_eq!(e.to_string().lines().count(), 1);
                assert!(e
                    .to_string()
                    .starts_with("manifest h/r@sha256:aaaaaaaaaaaa… not found"));
            }
            other => panic!("{other:?}"),
        }
    }
}
