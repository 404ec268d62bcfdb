//! Property tests: the parsers that read untrusted input never panic, whatever
//! the input, and accept what they print.

use proptest::prelude::*;
use regctl::credentials::DockerConfig;
use regctl::graph::Node;
use regctl::registry::auth::{parse_challenge, parse_challenges, Challenge};
use regctl::registry::catalog::next_link;
use regctl::registry::media::{Platform, OCI_INDEX};
use regctl::registry::{Digest, Reference, RegistryTarget};
use regctl::text::escape;
use std::sync::Arc;

/// What Python's `str.splitlines()` takes for a line boundary (`\r\n` is one).
const PYTHON_LINE_BREAKS: [char; 10] = [
    '\n', '\r', '\u{b}', '\u{c}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{85}', '\u{2028}', '\u{2029}',
];

/// Format characters a reader cannot see: soft hyphen, Arabic letter mark,
/// Mongolian vowel separator, zero-width space, marks and overrides, word joiner
/// and invisible operators, isolates, the BOM, interlinear annotation, tags.
const INVISIBLE: [char; 14] = [
    '\u{ad}',
    '\u{61c}',
    '\u{180e}',
    '\u{200b}',
    '\u{200e}',
    '\u{202e}',
    '\u{2060}',
    '\u{2064}',
    '\u{2066}',
    '\u{feff}',
    '\u{fff9}',
    '\u{e0001}',
    '\u{e0041}',
    '\u{e007f}',
];

/// Line breaks, invisible characters, escape sequences, and any character.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        proptest::sample::select(PYTHON_LINE_BREAKS.to_vec()),
        proptest::sample::select(INVISIBLE.to_vec()),
        proptest::sample::select(vec!['\u{1b}', '\u{7f}', '\u{9b}', '[', '\\']),
        any::<char>(),
        proptest::char::range('a', 'z'),
    ]
}

/// `text` split as Python's `str.splitlines()` splits it.
fn python_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if PYTHON_LINE_BREAKS.contains(&c) {
            lines.push(&text[start..i]);
            start = i + c.len_utf8();
            if c == '\r' && chars.peek().is_some_and(|&(_, next)| next == '\n') {
                chars.next();
                start += 1;
            }
        }
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 2000,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn escaped_text_never_starts_a_line(
        chars in proptest::collection::vec(tricky_char(), 0..60),
    ) {
        // Whatever a registry sends, once escaped it stays on the line regctl
        // put it on, for a reader that splits lines as Python does.
        let text: String = chars.into_iter().collect();
        let shown = escape(&text);
        prop_assert!(!shown.contains(PYTHON_LINE_BREAKS), "{:?}", shown);
        let printed = format!("label: {shown}\nnext");
        prop_assert_eq!(python_lines(&printed), vec![&printed[..printed.len() - 5], "next"]);
        prop_assert!(!shown.chars().any(|c| c.is_control() || INVISIBLE.contains(&c)), "{:?}", shown);
    }

    #[test]
    fn references_never_panic(s in "\\PC{0,80}") {
        let _ = s.parse::<Reference>();
        let _ = s.parse::<RegistryTarget>();
        let _ = s.parse::<Digest>();
        let _ = s.parse::<Platform>();
    }

    #[test]
    fn reference_like_strings_never_panic(s in "[a-zA-Z0-9.:/@_\\-\\[\\]]{0,120}") {
        if let Ok(r) = s.parse::<Reference>() {
            // What a reference prints parses back to the same reference.
            prop_assert_eq!(r.to_string().parse::<Reference>().unwrap(), r);
        }
    }

    #[test]
    fn valid_references_round_trip(
        name in "[a-z][a-z0-9]{0,10}(\\.[a-z]{2,5})?",
        port in proptest::option::of(1u16..),
        path in "[a-z0-9]{1,8}((\\.|_|__|-+)[a-z0-9]{1,8}){0,2}(/[a-z0-9]{1,8}){0,3}",
        tag in "[A-Za-z0-9_][A-Za-z0-9_.\\-]{0,20}",
    ) {
        // A valid host: a port from 1 to 65535 (0 and larger numbers are refused).
        let host = match port {
            Some(port) => format!("{name}:{port}"),
            None if name.contains('.') => name,
            None => format!("{name}.example"),
        };
        let text = format!("{host}/{path}:{tag}");
        let r: Reference = text.parse().unwrap();
        prop_assert_eq!(r.registry(), host.as_str());
        prop_assert_eq!(r.repository(), path.as_str());
        prop_assert_eq!(r.tag(), Some(tag.as_str()));
    }

    #[test]
    fn challenges_never_panic(s in "\\PC{0,200}") {
        let _ = parse_challenge(&s);
    }

    #[test]
    fn every_challenge_of_a_header_is_read(
        challenges in proptest::collection::vec(
            (any::<bool>(), "https://[a-z]{1,8}\\.example/[a-z,= ]{0,10}", proptest::option::of("[a-z][a-z .,=]{0,12}")),
            1..5,
        ),
    ) {
        // One header holding several challenges, as RFC 9110 allows: each is
        // read, in order, whatever commas, spaces and `=` their quoted values hold.
        let expected: Vec<Challenge> = challenges
            .iter()
            .map(|(bearer, realm, service)| if *bearer {
                Challenge::Bearer { realm: realm.clone(), service: service.clone(), error: None }
            } else {
                Challenge::Basic
            })
            .collect();
        let header = challenges
            .iter()
            .map(|(bearer, realm, service)| match (bearer, service) {
                (true, Some(s)) => format!("Bearer realm=\"{realm}\",service=\"{s}\""),
                (true, None) => format!("Bearer realm=\"{realm}\""),
                (false, _) => format!("Basic realm=\"{realm}\""),
            })
            .collect::<Vec<_>>()
            .join(", ");
        prop_assert_eq!(parse_challenges(&header), expected);
    }

    #[test]
    fn challenges_of_any_header_never_panic(s in "\\PC{0,200}") {
        let _ = parse_challenges(&s);
    }

    #[test]
    fn challenge_like_strings_never_panic(s in "(Bearer|Basic|bearer) ([a-z]{1,8}=(\"[^\"]{0,20}\"?|[a-z/:]{0,10}),? ?){0,5}") {
        let _ = parse_challenge(&s);
    }

    #[test]
    fn links_never_panic(s in "\\PC{0,200}") {
        let _ = next_link(&s);
    }

    #[test]
    fn link_like_strings_never_panic(s in "(<[^>]{0,30}>?;? ?(rel=\"?(next|prev)\"?)?,? ?){0,4}") {
        let _ = next_link(&s);
    }

    #[test]
    fn docker_configs_never_panic(s in "\\PC{0,200}") {
        if let Ok(cfg) = DockerConfig::parse(&s) {
            let _ = cfg.lookup("registry.example:5000");
        }
    }

    #[test]
    fn config_like_json_never_panics(
        key in "(https?://)?[a-z.:0-9/]{0,20}",
        auth in "[A-Za-z0-9+/=!]{0,24}",
        field in "(auth|username|password|identitytoken)",
    ) {
        let text = format!(r#"{{"auths":{{"{key}":{{"{field}":"{auth}"}}}},"credHelpers":{{}}}}"#);
        if let Ok(cfg) = DockerConfig::parse(&text) {
            let _ = cfg.lookup(&key);
            let _ = cfg.lookup("registry.example");
        }
    }

    #[test]
    fn manifests_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        // Our lenient reading of a manifest, field by field.
        let node = Node::from_bytes("", Arc::from(bytes));
        prop_assert!(node.readable || node.children.is_empty());
    }

    #[test]
    fn an_index_names_exactly_its_children_and_is_unreadable_when_one_is_bad(
        entries in proptest::collection::vec((any::<bool>(), "[0-9a-f]{64}"), 0..6),
    ) {
        let digest = |valid: bool, hex: &str| {
            if valid { format!("sha256:{hex}") } else { format!("sha256:{}", &hex[..10]) }
        };
        let manifests: Vec<serde_json::Value> = entries
            .iter()
            .map(|(valid, hex)| serde_json::json!({"mediaType": "", "size": 1, "digest": digest(*valid, hex)}))
            .collect();
        let body = serde_json::json!({"schemaVersion": 2, "manifests": manifests});
        let node = Node::from_bytes(OCI_INDEX, Arc::from(serde_json::to_vec(&body).unwrap()));
        let expected: Vec<Digest> = entries
            .iter()
            .filter(|(valid, _)| *valid)
            .map(|(_, hex)| format!("sha256:{hex}").parse().unwrap())
            .collect();
        prop_assert!(node.is_index());
        prop_assert_eq!(&node.children, &expected);
        prop_assert_eq!(node.readable, entries.iter().all(|(valid, _)| *valid));
    }
}
