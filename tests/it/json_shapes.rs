//! The table of JSON shapes in docs/reference.md, checked against what each command prints for
//! a real registry: every key printed is documented, and every key documented
//! without `?` is printed.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::fixture::{image, Storage};
use crate::harness::{regctl, Options, TestRegistry};

/// A row of the table: its keys (documented optional or not), and the keys of
/// the objects of an array key (`du`'s `repositories`).
#[derive(Debug, Default)]
struct Shape {
    keys: BTreeMap<String, bool>,
    nested: BTreeMap<String, BTreeSet<String>>,
}

/// The table under `## JSON shapes` in docs/reference.md, by its first cell.
fn documented() -> BTreeMap<String, Shape> {
    let reference =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/reference.md")).unwrap();
    let section = reference
        .split("## JSON shapes")
        .nth(1)
        .expect("docs/reference.md has JSON shapes");
    let mut shapes = BTreeMap::new();
    for line in section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
    {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (label, keys) = (cells[1].to_string(), cells[2]);
        let mut shape = Shape::default();
        let (mut depth, mut last_top) = (0, String::new());
        let mut rest = keys;
        while let Some(c) = rest.chars().next() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                '`' => {
                    let end = rest[1..].find('`').unwrap() + 1;
                    let key = rest[1..end].to_string();
                    let optional = rest[end + 1..].starts_with('?');
                    if depth == 0 {
                        shape.keys.insert(key.clone(), optional);
                        last_top = key;
                    } else {
                        shape
                            .nested
                            .entry(last_top.clone())
                            .or_default()
                            .insert(key);
                    }
                    rest = &rest[end + 1..];
                    continue;
                }
                _ => {}
            }
            rest = &rest[c.len_utf8()..];
        }
        shapes.insert(label, shape);
    }
    shapes
}

/// Checks `objects` against the shape labelled `label`.
fn check(shapes: &BTreeMap<String, Shape>, label: &str, objects: &[&Value]) {
    let shape = shapes
        .get(label)
        .unwrap_or_else(|| panic!("docs/reference.md documents {label}"));
    assert!(!objects.is_empty(), "{label}: nothing to check");
    let mut seen = BTreeSet::new();
    for object in objects {
        let map = object
            .as_object()
            .unwrap_or_else(|| panic!("{label}: {object}"));
        for (key, value) in map {
            assert!(
                shape.keys.contains_key(key),
                "{label}: `{key}` is printed but not documented: {object}"
            );
            seen.insert(key.clone());
            if let (Some(nested), Value::Array(items)) = (shape.nested.get(key), value) {
                for item in items {
                    let keys: BTreeSet<String> =
                        item.as_object().unwrap().keys().cloned().collect();
                    assert_eq!(&keys, nested, "{label}: `{key}` items");
                }
            }
        }
    }
    for (key, optional) in &shape.keys {
        assert!(
            *optional || seen.contains(key),
            "{label}: `{key}` is documented but never printed"
        );
    }
}

/// The JSON `regctl ARGS --format json` prints, which must exit with `code`.
fn json(args: &[String], reg: &TestRegistry, code: i32) -> Value {
    let run = regctl()
        .trusted(reg)
        .args(args)
        .args(["--format", "json"])
        .run();
    run.code(code);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {}", run.stdout))
}

fn items(value: &Value) -> Vec<&Value> {
    value.as_array().unwrap().iter().collect()
}

#[test]
fn every_json_output_has_the_keys_the_reference_documents() {
    let shapes = documented();
    let reg = TestRegistry::start_with(Options::default(), |s: &Storage| {
        let img = image("linux/amd64", "2024-01-01T00:00:00Z", "shapes-1");
        s.push("app", &["v1", "also"], &img);
        s.push(
            "app",
            &["v2"],
            &image("linux/amd64", "2024-02-01T00:00:00Z", "shapes-2"),
        );
        s.tag("app", "ghost", &format!("sha256:{}", "0".repeat(64)));
        s.push(
            "old",
            &["v0"],
            &image("linux/amd64", "2023-01-01T00:00:00Z", "shapes-0"),
        );
    });
    let host = reg.host();
    let at = |r: &str| format!("{host}/{r}");

    check(
        &shapes,
        "`ls` (array)",
        &items(&json(
            &["ls".into(), host.clone(), "--digests".into()],
            &reg,
            4,
        )),
    );
    check(
        &shapes,
        "`digest` (array)",
        &items(&json(
            &["digest".into(), at("app:v1"), at("app:nope")],
            &reg,
            4,
        )),
    );
    let dry = json(
        &[
            "rm".into(),
            at("app:also"),
            at("app:nope"),
            "--dry-run".into(),
        ],
        &reg,
        4,
    );
    let (planned, skipped): (Vec<&Value>, Vec<&Value>) = items(&dry)
        .into_iter()
        .partition(|r| r.get("action").is_some());
    check(&shapes, "`rm --dry-run` plan rows (array)", &planned);
    let outcomes_label =
        "`rm`, `prune` outcome rows (array; also `rm --dry-run` for references not acted on)";
    check(&shapes, outcomes_label, &skipped);
    check(
        &shapes,
        "`prune --dry-run` plan rows (array)",
        &items(&json(
            &[
                "prune".into(),
                at("app"),
                "--keep".into(),
                "1".into(),
                "--dry-run".into(),
            ],
            &reg,
            0,
        )),
    );
    check(
        &shapes,
        "`inspect` (array)",
        &items(&json(&["inspect".into(), at("app:v1")], &reg, 0)),
    );
    check(
        &shapes,
        "`du` (object)",
        &[&json(&["du".into(), host.clone()], &reg, 0)],
    );
    check(
        &shapes,
        "`du --by tag` (object)",
        &[&json(
            &["du".into(), host.clone(), "--by".into(), "tag".into()],
            &reg,
            0,
        )],
    );
    check(
        &shapes,
        "`doctor` (array)",
        &items(&json(&["doctor".into(), host.clone()], &reg, 0)),
    );
    // Real runs: the outcome rows.
    check(
        &shapes,
        outcomes_label,
        &items(&json(
            &["rm".into(), at("app:also"), "--yes".into()],
            &reg,
            0,
        )),
    );
    check(
        &shapes,
        outcomes_label,
        &items(&json(
            &[
                "prune".into(),
                at("old"),
                "--keep".into(),
                "0".into(),
                "--yes".into(),
                "--allow-empty-repositories".into(),
            ],
            &reg,
            0,
        )),
    );
}
