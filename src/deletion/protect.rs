//! What must never be pruned, read from what users have at hand: the JSON or
//! YAML `kubectl get ... -o json|yaml` prints (a `List` or single objects; the
//! `image` of every container, init and ephemeral ones included, and the
//! `imageID` digests of pod statuses), rendered manifests (multi-document YAML,
//! as `helm template` writes), a docker-compose file (`services.*.image`), or a
//! plain list of references, one a line. References are read as docker reads
//! them (`nginx` is `docker.io/library/nginx:latest`; a bare `sha256:` digest,
//! as some runtimes write an `imageID`, protects that manifest in every
//! repository).
//!
//! A reference that cannot be read is an error, never skipped: skipping it
//! could delete what is running. So is a source that names no image at all
//! (an empty file, a shape this reader does not know), unless it is a
//! Kubernetes object or list, which may rightly hold none.

use std::collections::HashMap;

use serde_json::Value;

use super::retention::Protected;
use crate::registry::reference::Reference;
use crate::registry::Digest;

/// One protected reference and where it was named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    /// The registry, as normalised (`registry-1.docker.io` for Docker Hub);
    /// `None` for a bare digest, which protects it everywhere.
    pub registry: Option<String>,
    /// The repository (`library/nginx`).
    pub repository: Option<String>,
    /// The tag (`latest` when neither tag nor digest is given).
    pub tag: Option<String>,
    /// The digest.
    pub digest: Option<Digest>,
    /// `FILE: Kind/namespace/name`, `FILE: service web`, `FILE: line 3`.
    pub source: String,
}

/// Why a protection source cannot be read. Nothing is read from a registry
/// then.
#[derive(Debug, thiserror::Error)]
pub enum ProtectError {
    /// Not JSON, not YAML, not a list of references.
    #[error("{source_name}: {why}")]
    Unreadable {
        /// The file (or `-`, or the kubectl command).
        source_name: String,
        /// Why, with the line where known.
        why: String,
    },
    /// A reference in it cannot be read.
    #[error("{at}: `{reference}` is not an image reference: {why}")]
    BadReference {
        /// Where.
        at: String,
        /// The text.
        reference: String,
        /// Why.
        why: String,
    },
}

/// Every reference `text` (read from `name`) names.
pub fn read(name: &str, text: &str) -> Result<Vec<Named>, ProtectError> {
    let unreadable = |why: String| ProtectError::Unreadable {
        source_name: name.to_string(),
        why,
    };
    let trimmed = text.trim_start();
    let documents: Vec<Value> = if trimmed.starts_with('{') || trimmed.starts_with('[') {
        vec![serde_json::from_str(text).map_err(|e| unreadable(format!("not JSON: {e}")))?]
    } else {
        let mut docs = Vec::new();
        for doc in serde_yaml_ng::Deserializer::from_str(text) {
            match serde::Deserialize::deserialize(doc) {
                Ok(value) => docs.push(value),
                Err(e) => return plain_list(name, text).map_err(|_| unreadable(yaml_error(&e))),
            }
        }
        docs
    };
    if documents.iter().all(|d| !d.is_object() && !d.is_array()) {
        return non_empty(name, plain_list(name, text)?, false);
    }
    let mut out = Vec::new();
    for doc in &documents {
        match doc.as_array() {
            // A list of references, as `jq '[.. | .image? | strings]'` prints.
            Some(items) if !items.is_empty() && items.iter().all(Value::is_string) => {
                for (i, item) in items.iter().enumerate() {
                    let text = item.as_str().unwrap_or_default();
                    out.push(named(text, &format!("{name}: item {}", i + 1))?);
                }
            }
            _ => walk(doc, name, name, false, &mut out)?,
        }
    }
    let kubernetes = documents
        .iter()
        .any(|d| d.get("kind").is_some_and(Value::is_string));
    non_empty(name, out, kubernetes)
}

/// `names`, or an error when a source that is not a Kubernetes object names
/// no image: its shape was not understood, and protecting nothing silently
/// would delete what it meant to keep.
fn non_empty(name: &str, names: Vec<Named>, kubernetes: bool) -> Result<Vec<Named>, ProtectError> {
    if names.is_empty() && !kubernetes {
        return Err(ProtectError::Unreadable {
            source_name: name.to_string(),
            why: "names no image: expected Kubernetes objects (an `image` of each container), a \
                  compose file (`services.NAME.image`), a list of references, or one reference a line"
                .into(),
        });
    }
    Ok(names)
}

fn yaml_error(e: &serde_yaml_ng::Error) -> String {
    let text = e.to_string();
    match e.location() {
        Some(at) if !text.contains("line") => format!(
            "not JSON, YAML or a list of references: line {} column {}: {text}",
            at.line(),
            at.column()
        ),
        _ => format!("not JSON, YAML or a list of references: {text}"),
    }
}

/// One reference a line; `#` starts a comment.
fn plain_list(name: &str, text: &str) -> Result<Vec<Named>, ProtectError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        out.push(named(line, &format!("{name}: line {}", i + 1))?);
    }
    Ok(out)
}

/// Walks a document: `image` and `imageID` strings, each named after the
/// object (a Kubernetes object, a compose service) it is in.
fn walk(
    value: &Value,
    name: &str,
    at: &str,
    in_services: bool,
    out: &mut Vec<Named>,
) -> Result<(), ProtectError> {
    match value {
        Value::Object(map) => {
            let here = object_name(map).map_or_else(|| at.to_string(), |o| format!("{name}: {o}"));
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("image" | "imageID", Value::String(reference)) if !reference.is_empty() => {
                        out.push(named(reference, &here)?);
                    }
                    ("image", Value::Object(parts)) => out.push(helm_image(parts, &here)?),
                    ("services", Value::Object(_)) => walk(child, name, &here, true, out)?,
                    (service, Value::Object(_)) if in_services => {
                        walk(
                            child,
                            name,
                            &format!("{name}: service {service}"),
                            false,
                            out,
                        )?;
                    }
                    _ => walk(child, name, &here, false, out)?,
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                walk(item, name, at, false, out)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// A Helm values `image:` block: `registry`, `repository`, `tag`, `digest`.
fn helm_image(parts: &serde_json::Map<String, Value>, at: &str) -> Result<Named, ProtectError> {
    let part = |key: &str| {
        parts
            .get(key)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    let Some(repository) = part("repository") else {
        return Err(ProtectError::BadReference {
            at: at.to_string(),
            reference: crate::text::escape(&Value::Object(parts.clone()).to_string()),
            why: "an `image` block without `repository`".into(),
        });
    };
    let mut text = match part("registry") {
        Some(registry) => format!("{registry}/{repository}"),
        None => repository.to_string(),
    };
    if let Some(tag) = part("tag") {
        text += &format!(":{tag}");
    }
    if let Some(digest) = part("digest") {
        text += &format!("@{digest}");
    }
    named(&text, at)
}

/// `Kind/namespace/name` of a Kubernetes object.
fn object_name(map: &serde_json::Map<String, Value>) -> Option<String> {
    let kind = map.get("kind")?.as_str()?;
    let metadata = map.get("metadata")?;
    let name = metadata.get("name")?.as_str()?;
    Some(match metadata.get("namespace").and_then(Value::as_str) {
        Some(ns) => format!("{kind}/{ns}/{name}"),
        None => format!("{kind}/{name}"),
    })
}

/// A reference read as docker reads it; `docker-pullable://` and `docker://`
/// (pod statuses) dropped.
fn named(text: &str, at: &str) -> Result<Named, ProtectError> {
    let bare = text
        .trim()
        .trim_start_matches("docker-pullable://")
        .trim_start_matches("docker://");
    let bad = |why: String| ProtectError::BadReference {
        at: at.to_string(),
        reference: crate::text::escape(text),
        why,
    };
    if bare.starts_with("sha256:") && !bare.contains('/') {
        let digest = bare.parse::<Digest>().map_err(|e| bad(e.to_string()))?;
        return Ok(Named {
            registry: None,
            repository: None,
            tag: None,
            digest: Some(digest),
            source: at.to_string(),
        });
    }
    let reference: Reference = bare
        .parse()
        .map_err(|e: crate::registry::reference::ReferenceError| bad(e.to_string()))?;
    let tag = match (reference.tag(), reference.digest()) {
        (None, None) => Some("latest".to_string()),
        (tag, _) => tag.map(str::to_string),
    };
    Ok(Named {
        registry: Some(same_host(reference.registry())),
        repository: Some(reference.repository().to_string()),
        tag,
        digest: reference.digest().cloned(),
        source: at.to_string(),
    })
}

/// Protected references grouped by repository, looked up once per repository.
#[derive(Clone, Debug, Default)]
pub struct Protection {
    by_repository: HashMap<(String, String), Protected>,
    everywhere: HashMap<Digest, String>,
    /// How many references were read.
    pub count: usize,
}

impl Protection {
    /// Groups `names`.
    pub fn new(names: Vec<Named>) -> Protection {
        let mut protection = Protection {
            count: names.len(),
            ..Protection::default()
        };
        for n in names {
            let (Some(registry), Some(repository)) = (n.registry, n.repository) else {
                if let Some(digest) = n.digest {
                    protection.everywhere.entry(digest).or_insert(n.source);
                }
                continue;
            };
            let entry = protection
                .by_repository
                .entry((registry, repository))
                .or_default();
            // A pinned reference (`repo:tag@digest`) is pulled by its digest.
            match (n.digest, n.tag) {
                (Some(digest), _) => {
                    entry.digests.entry(digest).or_insert(n.source);
                }
                (None, Some(tag)) => {
                    entry.tags.entry(tag).or_insert(n.source);
                }
                (None, None) => {}
            }
        }
        protection
    }

    /// What is protected in `repository` of `registry` (`host[:port]` as the
    /// user typed it; normalised as references are).
    pub fn for_repository(&self, registry: &str, repository: &str) -> Protected {
        let registry = normalise_host(registry);
        let mut protected = self
            .by_repository
            .get(&(registry, repository.to_string()))
            .cloned()
            .unwrap_or_default();
        for (digest, source) in &self.everywhere {
            protected
                .digests
                .entry(digest.clone())
                .or_insert_with(|| source.clone());
        }
        protected
    }
}

/// `registry` as a reference's registry reads after docker's normalisation.
fn normalise_host(registry: &str) -> String {
    let parsed = format!("{registry}/x")
        .parse::<Reference>()
        .map(|r| r.registry().to_string())
        .unwrap_or_else(|_| registry.to_string());
    same_host(&parsed)
}

/// One spelling per registry: host names know no case, and 443 is HTTPS's
/// own port.
fn same_host(registry: &str) -> String {
    let lower = registry.to_ascii_lowercase();
    lower
        .strip_suffix(":443")
        .map(str::to_string)
        .unwrap_or(lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn docker_hub_names_are_normalised_as_docker_does() {
        let names = read("list", "nginx\ndocker.io/library/redis:7 # cache\n\nindex.docker.io/me/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n").unwrap();
        let p = Protection::new(names);
        assert_eq!(
            p.for_repository("docker.io", "library/nginx").tags["latest"],
            "list: line 1"
        );
        assert!(p
            .for_repository("registry-1.docker.io", "library/redis")
            .tags
            .contains_key("7"));
        assert!(!p.for_repository("docker.io", "me/app").digests.is_empty());
        assert!(p
            .for_repository("other.example", "library/nginx")
            .is_empty());
    }

    #[test]
    fn kubernetes_lists_with_init_ephemeral_and_status_digests_are_read() {
        let json = format!(
            r#"{{"kind":"List","items":[{{"kind":"Pod","metadata":{{"name":"web","namespace":"prod"}},
              "spec":{{"initContainers":[{{"image":"r.example:5000/init:1"}}],
                       "containers":[{{"image":"r.example:5000/app:v1"}}],
                       "ephemeralContainers":[{{"image":"r.example:5000/debug:2"}}]}},
              "status":{{"containerStatuses":[{{"image":"r.example:5000/app:v1","imageID":"docker-pullable://r.example:5000/app@{DIGEST}"}}]}}}}]}}"#
        );
        let names = read("pods.json", &json).unwrap();
        let p = Protection::new(names);
        let app = p.for_repository("r.example:5000", "app");
        assert_eq!(app.tags["v1"], "pods.json: Pod/prod/web");
        assert!(app.digests.contains_key(&DIGEST.parse::<Digest>().unwrap()));
        assert!(p
            .for_repository("r.example:5000", "init")
            .tags
            .contains_key("1"));
        assert!(p
            .for_repository("r.example:5000", "debug")
            .tags
            .contains_key("2"));
    }

    #[test]
    fn multi_document_yaml_and_compose_files_are_read() {
        let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n      - image: r.example/api:3\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  x: y\n";
        let names = read("chart.yaml", yaml).unwrap();
        assert_eq!(names.len(), 1);
        assert_eq!(names[0].source, "chart.yaml: Deployment/api");
        let compose =
            "services:\n  web:\n    image: r.example/web:1.2\n  db:\n    image: postgres:16\n";
        let names = read("compose.yaml", compose).unwrap();
        let web = names
            .iter()
            .find(|n| n.source == "compose.yaml: service web")
            .unwrap();
        assert_eq!(web.tag.as_deref(), Some("1.2"));
        let db = names
            .iter()
            .find(|n| n.source == "compose.yaml: service db")
            .unwrap();
        assert_eq!(db.repository.as_deref(), Some("library/postgres"));
    }

    #[test]
    fn host_spellings_and_other_shapes_of_a_list_are_read() {
        let p = Protection::new(read("l.json", "[\"Registry.Example:443/app:v1\"]").unwrap());
        assert!(p
            .for_repository("registry.example", "app")
            .tags
            .contains_key("v1"));
        assert!(p
            .for_repository("REGISTRY.example:443", "app")
            .tags
            .contains_key("v1"));
        let values = "image:\n  registry: r.example:5000\n  repository: team/app\n  tag: \"2.1\"\n";
        let p = Protection::new(read("values.yaml", values).unwrap());
        assert!(p
            .for_repository("r.example:5000", "team/app")
            .tags
            .contains_key("2.1"));
        // An empty kubectl list is fine: nothing runs.
        assert!(read("pods.json", "{\"kind\":\"List\",\"items\":[]}")
            .unwrap()
            .is_empty());
    }

    #[test]
    fn what_cannot_be_read_is_an_error_not_skipped() {
        for nothing in [
            "",
            "app: r.example/app:v1\n",
            "{\"a\": 1}",
            "# only a comment\n",
        ] {
            assert!(read("x", nothing).is_err(), "{nothing:?}");
        }
        assert!(matches!(
            read("x", "{\"a\": "),
            Err(ProtectError::Unreadable { .. })
        ));
        let err = read(
            "chart.yaml",
            "containers:\n- image: \"{{ .Values.image }}\"\n",
        )
        .unwrap_err();
        assert!(matches!(err, ProtectError::BadReference { .. }), "{err}");
        assert!(read("list", "not a reference!\n").is_err());
    }
}
