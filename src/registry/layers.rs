//! The layering of the client, held by reading its source: every module of
//! `src/registry` imports only modules of its own layer or of a layer below,
//! and no import cycle runs through them. The order is the one in `mod.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layers, from the bottom. A module imports modules of its own layer or
/// of one below; a new module must be placed here.
const LAYERS: &[&[&str]] = &[
    &[
        "secret", "digest", "hint", "redact", "limits", "retry", "proxy",
    ],
    &[
        "error",
        "reference",
        "media",
        "credential",
        "challenge",
        "token_cache",
        "tag_deletion",
    ],
    &[
        "tls",
        "tls_words",
        "tls_probe",
        "options",
        "redirect",
        "direct",
    ],
    &["transport"],
    &["auth"],
    &["client"],
    &[
        "catalog",
        "tags",
        "manifests",
        "blobs",
        "uploads",
        "referrers",
    ],
    &["diagnose", "prefix"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// The part of a file that is not its unit tests, without comment lines.
fn code_of(source: &str) -> String {
    let code = match source.find("#[cfg(test)]\nmod tests") {
        Some(at) => &source[..at],
        None => source,
    };
    code.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules of the client that `code` names: every path that starts with
/// `super::` or `crate::registry::`, grouped imports (`super::{a, b::C}`)
/// included. A name that is not a module (a re-export of `mod.rs`) is given as
/// is, so that it fails as an unknown module.
fn imports(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for prefix in ["super::", "crate::registry::"] {
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            rest = &rest[at + prefix.len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() && name != "self" {
                        found.insert(name);
                    }
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.insert(name);
                }
            }
        }
    }
    found
}

/// Each module of `dir` and the modules it imports.
fn import_graph(dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        // mod.rs is the root; the others are the unit tests' own.
        let tests_own = ["layers", "test_server"];
        if path.extension().is_none_or(|e| e != "rs")
            || name == "mod"
            || tests_own.contains(&name.as_str())
        {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        let mut used = imports(&code_of(&source));
        used.remove(&name);
        graph.insert(name, used);
    }
    graph
}

/// The violations of the layering in `graph`, in words.
fn violations(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut found = Vec::new();
    for (module, used) in graph {
        let Some(own) = layer_of(module) else {
            found.push(format!("{module} is in no layer: place it in LAYERS"));
            continue;
        };
        for target in used {
            match layer_of(target) {
                None => found.push(format!(
                    "{module} imports `{target}`, which is no module of a layer (import from the module, not from mod.rs)"
                )),
                Some(layer) if layer > own => found.push(format!(
                    "{module} (layer {}) imports {target} of a higher layer ({})",
                    own + 1,
                    layer + 1
                )),
                Some(_) => {}
            }
        }
    }
    found.extend(cycles(graph));
    found
}

/// One message per import cycle found (a depth-first search).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        found: &mut Vec<String>,
    ) {
        if let Some(at) = path.iter().position(|p| p == node) {
            found.push(format!(
                "import cycle: {} -> {node}",
                path[at..].join(" -> ")
            ));
            return;
        }
        if done.contains(node) {
            return;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, path, done, found);
        }
        path.pop();
        done.insert(node.to_string());
    }
    let (mut done, mut found) = (BTreeSet::new(), Vec::new());
    for node in graph.keys() {
        visit(node, graph, &mut Vec::new(), &mut done, &mut found);
    }
    found
}

#[test]
fn imports_point_down() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/registry");
    let graph = import_graph(&dir);
    assert!(graph.contains_key("transport") && graph.contains_key("client"));
    let found = violations(&graph);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn an_import_upwards_or_in_a_cycle_is_found() {
    let graph = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, to) in edges {
            g.entry(from.to_string())
                .or_default()
                .insert(to.to_string());
            g.entry(to.to_string()).or_default();
        }
        g
    };
    assert!(violations(&graph(&[("client", "auth"), ("auth", "transport")])).is_empty());
    let up = violations(&graph(&[("transport", "auth")]));
    assert!(up[0].contains("higher layer"), "{up:?}");
    let cycle = violations(&graph(&[
        ("catalog", "manifests"),
        ("manifests", "catalog"),
    ]));
    assert!(
        cycle.iter().any(|v| v.contains("import cycle")),
        "{cycle:?}"
    );
    let root = violations(&graph(&[("tags", "Registry")]));
    assert!(root.iter().any(|v| v.contains("no module")), "{root:?}");
    let code = "use super::client::Registry;\nuse crate::registry::{hint::Hint, self};\n// super::auth\nlet x = super::limits::MAX;\n#[cfg(test)]\nmod tests {\n    use super::transport;\n}";
    assert_eq!(
        imports(&code_of(code)).into_iter().collect::<Vec<_>>(),
        ["client", "hint", "limits"]
    );
}

#[test]
fn only_the_modules_used_outside_the_crate_are_public() {
    // tests/parsers.rs reads challenges, catalog links and media types; the
    // rest of the client is reached through the re-exports of mod.rs.
    let root = include_str!("mod.rs");
    let public: Vec<&str> = root
        .lines()
        .filter_map(|line| line.strip_prefix("pub mod "))
        .map(|rest| rest.trim_end_matches(';'))
        .collect();
    assert_eq!(public, ["auth", "catalog", "media"]);
}
