//! Planning with the referrers API: a plan deletes a manifest's attachments with
//! it, and a registry's referrers API may know of attachments no tag names, so
//! the manifests a plan deletes are asked about, and the referrers found in turn,
//! until no new one turns up.

use std::collections::BTreeSet;

use super::plan::{plan, Plan, Request};
use crate::graph::{Loader, Snapshot};
use crate::registry::{Digest, RegistryError};

/// The deepest chain of referrers (a signature of a signature of ...) followed.
pub const MAX_REFERRER_DEPTH: usize = 1_000;

/// The most referrers read through the referrers API for one repository's plan.
pub const MAX_REFERRERS_READ: usize = 100_000;

/// The plan for `request`, after asking the referrers API (where the registry
/// has it) about every manifest the plan deletes (and, for `--orphans`, every
/// subject known to be gone), and about the referrers found in turn (an
/// attachment may have attachments), until no new referrer turns up. The walk
/// is bounded: [`MAX_REFERRER_DEPTH`] levels, [`MAX_REFERRERS_READ`] referrers.
pub async fn plan_with_referrers(
    loader: &Loader<'_>,
    snapshot: &mut Snapshot,
    request: &Request,
) -> Result<Plan, RegistryError> {
    let mut read = 0;
    loop {
        let planned = plan(snapshot, request);
        if request.keep_attachments {
            return Ok(planned);
        }
        // What the plan deletes, and with --orphans the subjects known to be
        // gone: a registry's referrers API may still list referrers of those.
        let gone = snapshot.absent.iter().filter(|_| request.orphans);
        let mut unasked: Vec<Digest> = planned
            .deleted()
            .into_iter()
            .chain(gone)
            .filter(|d| !snapshot.referrers.contains_key(*d))
            .cloned()
            .collect::<BTreeSet<Digest>>()
            .into_iter()
            .collect();
        if unasked.is_empty() {
            return Ok(planned);
        }
        let mut depth = 0;
        while !unasked.is_empty() {
            depth += 1;
            let bound = if depth > MAX_REFERRER_DEPTH {
                Some(format!("{MAX_REFERRER_DEPTH} levels deep"))
            } else if read > MAX_REFERRERS_READ {
                Some(format!("{MAX_REFERRERS_READ} referrers"))
            } else {
                None
            };
            if let Some(bound) = bound {
                return Err(RegistryError::InvalidResponse {
                    url: format!(
                        "referrers of {}/{}@{}",
                        loader.registry.host(),
                        snapshot.repository,
                        unasked[0]
                    ),
                    reason: format!(
                        "the referrers go on past {bound}, more than any real graph of \
                         signatures and attestations; a referrers API that invents \
                         referrers? Stopped before changing anything"
                    ),
                });
            }
            if !loader.read_referrers(snapshot, &unasked).await? {
                return Ok(plan(snapshot, request));
            }
            // The referrers just found that name their subject: their own
            // referrers are asked about next.
            let next: BTreeSet<Digest> = unasked
                .iter()
                .flat_map(|subject| {
                    snapshot
                        .referrers
                        .get(subject)
                        .into_iter()
                        .flatten()
                        .filter(|d| {
                            snapshot
                                .manifests
                                .get(&d.digest)
                                .is_some_and(|n| n.subject.as_ref() == Some(subject))
                        })
                        .map(|d| d.digest.clone())
                })
                .filter(|d| !snapshot.referrers.contains_key(d))
                .collect();
            read += next.len();
            unasked = next.into_iter().collect();
        }
    }
}
