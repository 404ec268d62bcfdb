//! Edits of a JSON text that leave every byte they do not change: a member
//! removed, a value replaced, a member added after the last one (with the same
//! whitespace before it as the last one has). An addition undone by a removal
//! gives back the text as it was. The text is valid JSON already (the caller
//! parsed it); anything unexpected is an error, never a panic.

use std::ops::Range;

/// One member of an object: its key (decoded) and where it sits.
struct Member {
    key: String,
    /// Where its key's opening quote is.
    key_start: usize,
    /// Its value.
    value: Range<usize>,
}

/// An object in the text: its braces and members.
struct Object {
    open: usize,
    close: usize,
    members: Vec<Member>,
}

/// A path to an object: the top-level one, or the value of one of its members.
#[derive(Clone, Copy)]
pub enum At<'a> {
    /// The text's top-level object.
    Top,
    /// The object that is the value of this top-level member.
    Member(&'a str),
}

const UNEXPECTED: &str = "the file is not laid out as expected; it is left as it is";

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).copied().is_some_and(is_ws) {
        i += 1;
    }
    i
}

/// Past the string that starts at `i`.
fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    i += 1;
    loop {
        match b.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// Past the value that starts at `i`.
fn skip_value(b: &[u8], mut i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => skip_string(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            loop {
                match b.get(i)? {
                    b'"' => {
                        i = skip_string(b, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            while b
                .get(i)
                .is_some_and(|&c| !is_ws(c) && !matches!(c, b',' | b'}' | b']'))
            {
                i += 1;
            }
            Some(i)
        }
    }
}

/// The object whose `{` is at `open`.
fn object_at(text: &str, open: usize) -> Option<Object> {
    let b = text.as_bytes();
    if b.get(open) != Some(&b'{') {
        return None;
    }
    let mut members = Vec::new();
    let mut i = skip_ws(b, open + 1);
    if b.get(i) == Some(&b'}') {
        return Some(Object {
            open,
            close: i,
            members,
        });
    }
    loop {
        let key_start = i;
        let key_end = skip_string(b, i)?;
        let key: String = serde_json::from_str(text.get(key_start..key_end)?).ok()?;
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let start = skip_ws(b, i + 1);
        let end = skip_value(b, start)?;
        members.push(Member {
            key,
            key_start,
            value: start..end,
        });
        i = skip_ws(b, end);
        match b.get(i)? {
            b',' => i = skip_ws(b, i + 1),
            b'}' => {
                return Some(Object {
                    open,
                    close: i,
                    members,
                })
            }
            _ => return None,
        }
    }
}

fn find(text: &str, at: At) -> Result<Object, String> {
    let top = object_at(text, skip_ws(text.as_bytes(), 0)).ok_or(UNEXPECTED)?;
    match at {
        At::Top => Ok(top),
        At::Member(name) => {
            let member = top
                .members
                .iter()
                .find(|m| m.key == name)
                .ok_or(UNEXPECTED)?;
            object_at(text, member.value.start).ok_or_else(|| UNEXPECTED.to_string())
        }
    }
}

fn splice(text: &str, range: Range<usize>, with: &str) -> String {
    let mut out = String::with_capacity(text.len() + with.len());
    out.push_str(&text[..range.start]);
    out.push_str(with);
    out.push_str(&text[range.end..]);
    out
}

/// Line breaks in `inserted` written as `text` writes them (CRLF or LF).
fn as_text_writes(text: &str, inserted: &str) -> String {
    if text.contains("\r\n") {
        inserted.replace("\r\n", "\n").replace('\n', "\r\n")
    } else {
        inserted.to_string()
    }
}

/// `text` without the member `key` of the object at `at`. The only member
/// leaves `{}`.
pub fn remove(text: &str, at: At, key: &str) -> Result<String, String> {
    let object = find(text, at)?;
    let Some(index) = object.members.iter().position(|m| m.key == key) else {
        return Ok(text.to_string());
    };
    let members = &object.members;
    let range = match index {
        _ if members.len() == 1 => return Ok(splice(text, object.open..object.close + 1, "{}")),
        // The first: up to the second's key, whose whitespace stays.
        0 => members[0].key_start..members[1].key_start,
        // Any other: from the end of the one before, its comma included.
        i => members[i - 1].value.end..members[i].value.end,
    };
    Ok(splice(text, range, ""))
}

/// `text` with the value of member `key` of the object at `at` replaced by `value`.
pub fn replace(text: &str, at: At, key: &str, value: &str) -> Result<String, String> {
    let object = find(text, at)?;
    let member = object
        .members
        .iter()
        .find(|m| m.key == key)
        .ok_or(UNEXPECTED)?;
    Ok(splice(
        text,
        member.value.clone(),
        &as_text_writes(text, value),
    ))
}

/// `text` with member `key` (not there yet) added after the last member of the
/// object at `at`, after the same whitespace as the last one (a space when it
/// has none); an empty object
/// gets it on a line of its own, tab-indented to `depth`, as docker writes.
pub fn append(text: &str, at: At, key: &str, value: &str, depth: usize) -> Result<String, String> {
    let object = find(text, at)?;
    let key = serde_json::to_string(key).map_err(|_| UNEXPECTED)?;
    let inserted = match object.members.last() {
        None => {
            let member = format!(
                "{{\n{}{key}: {value}\n{}}}",
                "\t".repeat(depth + 1),
                "\t".repeat(depth)
            );
            return Ok(splice(
                text,
                object.open..object.close + 1,
                &as_text_writes(text, &member),
            ));
        }
        Some(last) => {
            let before = text[..last.key_start].trim_end_matches([' ', '\t', '\n', '\r']);
            // A one-line object gets a space after the comma, as JSON is
            // usually written.
            let whitespace = match &text[before.len()..last.key_start] {
                "" => " ",
                whitespace => whitespace,
            };
            (
                last.value.end,
                format!(",{whitespace}{key}: {}", as_text_writes(text, value)),
            )
        }
    };
    let (at, member) = inserted;
    Ok(splice(text, at..at, &member))
}

/// The value of member `key` of the top-level object, as written.
pub fn value_of<'t>(text: &'t str, key: &str) -> Option<&'t str> {
    let top = object_at(text, skip_ws(text.as_bytes(), 0))?;
    let member = top.members.into_iter().find(|m| m.key == key)?;
    text.get(member.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_added_then_removed_gives_back_every_byte() {
        for (text, at) in [
            ("{\n\t\"detachKeys\": \"ctrl-e,e\"\n}", At::Top),
            (
                "{\"a\":{\"b\":[1,{\"c\":\"}\\\"\"}]},\"d\":null}\n",
                At::Top,
            ),
            ("  {}  ", At::Top),
            ("{\n\t\"auths\": {}\n}", At::Member("auths")),
            (
                "{\"auths\": {\"x\": {\"auth\": \"e30=\"}}, \"y\": 1}",
                At::Member("auths"),
            ),
            (
                "{\r\n  \"auths\": {\r\n    \"x\": 1\r\n  }\r\n}\r\n",
                At::Member("auths"),
            ),
        ] {
            let added = append(text, at, "new\"key", "{\n\t\"auth\": \"dTpw\"\n}", 1).unwrap();
            assert!(added.contains("\"new\\\"key\": {"), "{added:?}");
            if text.contains("\r\n") {
                assert!(!added.replace("\r\n", "").contains('\n'), "{added:?}");
            }
            assert_eq!(remove(&added, at, "new\"key").unwrap(), text, "{added:?}");
        }
    }

    #[test]
    fn removal_and_replacement_touch_nothing_else() {
        let text = "{\n\t\"a\": 1,\n\t\"b\": [2, 3],\n\t\"c\": \"x\"\n}\n";
        assert_eq!(
            remove(text, At::Top, "a").unwrap(),
            "{\n\t\"b\": [2, 3],\n\t\"c\": \"x\"\n}\n"
        );
        assert_eq!(
            remove(text, At::Top, "b").unwrap(),
            "{\n\t\"a\": 1,\n\t\"c\": \"x\"\n}\n"
        );
        assert_eq!(
            remove(text, At::Top, "c").unwrap(),
            "{\n\t\"a\": 1,\n\t\"b\": [2, 3]\n}\n"
        );
        assert_eq!(remove(text, At::Top, "zz").unwrap(), text);
        assert_eq!(remove("{\"a\": 1}", At::Top, "a").unwrap(), "{}");
        assert_eq!(
            replace(text, At::Top, "b", "true").unwrap(),
            "{\n\t\"a\": 1,\n\t\"b\": true,\n\t\"c\": \"x\"\n}\n"
        );
        assert_eq!(value_of(text, "b"), Some("[2, 3]"));
        assert!(remove("[1]", At::Top, "a").is_err());
        assert!(remove("{\"a\": 1}", At::Member("a"), "b").is_err());
    }

    fn leaf() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        prop_oneof![
            any::<i64>().prop_map(serde_json::Value::from),
            "\\PC{0,12}".prop_map(serde_json::Value::from),
            any::<bool>().prop_map(serde_json::Value::from),
            Just(serde_json::Value::Null),
        ]
    }

    fn object() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let inner = proptest::collection::btree_map("\\PC{0,6}", leaf(), 0..4)
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect()));
        proptest::collection::btree_map("\\PC{0,6}", prop_oneof![leaf(), inner], 0..6)
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect()))
    }

    proptest::proptest! {
        #[test]
        fn any_text_never_panics(text in "\\PC{0,60}", key in "\\PC{0,4}") {
            let _ = remove(&text, At::Top, &key);
            let _ = remove(&text, At::Member(&key), "a");
            let _ = replace(&text, At::Top, &key, "1");
            let _ = append(&text, At::Member(&key), "b", "{}", 1);
            let _ = value_of(&text, &key);
        }

        #[test]
        fn an_added_member_removed_gives_back_the_text(
            value in object(),
            pretty in proptest::bool::ANY,
            key in "\\PC{0,6}",
        ) {
            proptest::prop_assume!(value.get(&key).is_none());
            let text = if pretty {
                serde_json::to_string_pretty(&value).unwrap()
            } else {
                serde_json::to_string(&value).unwrap()
            };
            let added = append(&text, At::Top, &key, "{\n\t\"auth\": \"x\"\n}", 0).unwrap();
            let parsed: serde_json::Value = serde_json::from_str(&added).unwrap();
            proptest::prop_assert_eq!(&parsed[&key]["auth"], "x");
            proptest::prop_assert_eq!(remove(&added, At::Top, &key).unwrap(), text);
        }
    }
}
