//! Editing a JSON config file that other programs own too (docker's `config.json`,
//! regctl's own): one member of the top-level object is changed, every other key
//! keeps its place and its bytes, and the file is replaced atomically (a
//! temporary file in the same folder, renamed over it) with mode 0600. A
//! symlinked file stays a symlink: its target is what is replaced.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde_json::value::RawValue;

use super::CredentialError;

/// The members of a JSON object, in file order, each exactly as written.
pub type Members = IndexMap<String, Box<RawValue>>;

/// Reads `path`'s top-level object (empty when the file does not exist).
pub fn read(path: &Path) -> Result<Members, CredentialError> {
    read_with_style(path).map(|(members, _)| members)
}

/// How the file writes line breaks, kept when it is rewritten.
#[derive(Clone, Copy, Debug, Default)]
struct Style {
    crlf: bool,
}

fn read_with_style(path: &Path) -> Result<(Members, Style), CredentialError> {
    let text = match crate::file::read_text(path) {
        Ok(text) => text,
        Err(e) if e.is_not_found() => return Ok((Members::new(), Style::default())),
        Err(e) => return Err(config_error(path, e.to_string())),
    };
    let style = Style {
        crlf: text.contains("\r\n"),
    };
    let members =
        parse(&text).map_err(|e| config_error(path, format!("{e}; the file is left as it is")))?;
    Ok((members, style))
}

/// The members of the JSON object `text` (empty text is an empty object). An
/// error names a line and column or a key, never a value (it may be a secret);
/// a key given twice is an error, as rewriting would drop one of them.
fn parse(text: &str) -> Result<Members, String> {
    if text.starts_with('\u{feff}') {
        return Err("it starts with a byte-order mark, which docker cannot read either".into());
    }
    if text.trim().is_empty() {
        return Ok(Members::new());
    }
    let Ordered(entries) = serde_json::from_str(text).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => "it is not a JSON object".to_string(),
        _ => format!("line {} column {}: not valid JSON", e.line(), e.column()),
    })?;
    let mut members = Members::new();
    for (key, value) in entries {
        if members.insert(key.clone(), value).is_some() {
            return Err(format!(
                "the key {} appears twice",
                crate::text::escape(&key)
            ));
        }
    }
    Ok(members)
}

/// A JSON object's members in order, duplicates included.
struct Ordered(Vec<(String, Box<RawValue>)>);

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Ordered, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                    entries.push(entry);
                }
                Ok(Ordered(entries))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// The object at `name` among `members` (empty when absent or null); an error
/// when it is something else, naming the member only.
pub fn object(members: &Members, name: &str) -> Result<Members, String> {
    match members.get(name) {
        None => Ok(Members::new()),
        Some(raw) if raw.get() == "null" => Ok(Members::new()),
        Some(raw) => {
            parse(raw.get()).map_err(|e| format!("`{name}`: {e}; the file is left as it is"))
        }
    }
}

/// Changes the object member `name` of the file at `path` with `change`, which
/// says whether it changed anything; writes the file only then. The member
/// disappears when it ends empty and did not exist before.
pub fn edit_object(
    path: &Path,
    name: &str,
    change: impl FnOnce(&mut Members) -> Result<bool, String>,
) -> Result<bool, CredentialError> {
    // Another regctl editing the same file waits: no change is lost.
    let _lock = lock_folder(path)?;
    let (mut members, style) = read_with_style(path)?;
    let existed = members.contains_key(name);
    let mut inner = object(&members, name)
        .map_err(|e| config_error(path, format!("{e}; the file is left as it is")))?;
    if !change(&mut inner).map_err(|e| config_error(path, e))? {
        return Ok(false);
    }
    if inner.is_empty() && !existed {
        members.shift_remove(name);
    } else {
        members.insert(
            name.to_string(),
            to_raw(&render(&inner, 1)).map_err(|e| config_error(path, e))?,
        );
    }
    let mut text = render(&members, 0) + "\n";
    if style.crlf {
        text = text.replace("\r\n", "\n").replace('\n', "\r\n");
    }
    write(path, &text)?;
    Ok(true)
}

/// An exclusive lock on the folder of `path` (Unix), held while the file is read,
/// changed and replaced; released when dropped.
fn lock_folder(path: &Path) -> Result<Option<std::fs::File>, CredentialError> {
    if !cfg!(unix) {
        return Ok(None);
    }
    let target = resolve_symlinks(path);
    let Some(folder) = target.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(None);
    };
    match std::fs::File::open(folder) {
        Ok(dir) => {
            dir.lock()
                .map_err(|e| config_error(path, format!("cannot lock its folder: {e}")))?;
            Ok(Some(dir))
        }
        // A folder not made yet has nobody else writing in it.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(config_error(path, format!("cannot open its folder: {e}"))),
    }
}

/// `value` serialised as a raw member, tab-indented for an entry of `auths`.
pub fn raw_of(value: &serde_json::Value) -> Result<Box<RawValue>, String> {
    to_raw(&render_value(value, 2))
}

fn to_raw(text: &str) -> Result<Box<RawValue>, String> {
    RawValue::from_string(text.to_string()).map_err(|_| "an edited value is not JSON".to_string())
}

/// An object as docker writes its config: one member per line, tab-indented at
/// `depth`; members kept byte-for-byte.
fn render(members: &Members, depth: usize) -> String {
    if members.is_empty() {
        return "{}".into();
    }
    let indent = "\t".repeat(depth + 1);
    let lines: Vec<String> = members
        .iter()
        .map(|(key, value)| {
            let key = serde_json::to_string(key).unwrap_or_default();
            format!("{indent}{key}: {}", value.get())
        })
        .collect();
    format!("{{\n{}\n{}}}", lines.join(",\n"), "\t".repeat(depth))
}

/// A new value, tab-indented to sit at `depth`.
fn render_value(value: &serde_json::Value, depth: usize) -> String {
    match value {
        serde_json::Value::Object(map) if !map.is_empty() => {
            let lines: Vec<String> = map
                .iter()
                .map(|(k, v)| {
                    let key = serde_json::to_string(k).unwrap_or_default();
                    format!(
                        "{}{key}: {}",
                        "\t".repeat(depth + 1),
                        render_value(v, depth + 1)
                    )
                })
                .collect();
            format!("{{\n{}\n{}}}", lines.join(",\n"), "\t".repeat(depth))
        }
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// Replaces the file at `path` (or, for a symlink, its target) with `text`:
/// written to a temporary file in the same folder with mode 0600, flushed to
/// disk, then renamed over it. A missing folder is created with mode 0700.
fn write(path: &Path, text: &str) -> Result<(), CredentialError> {
    let target = resolve_symlinks(path);
    let folder = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_private_folder(folder).map_err(|e| {
        config_error(
            path,
            format!("cannot create the folder {}: {e}", folder.display()),
        )
    })?;
    let fail = |e: std::io::Error| config_error(path, format!("cannot write it: {e}"));
    // tempfile creates the file with mode 0600 on Unix.
    let mut file = tempfile::Builder::new()
        .prefix(".regctl-")
        .suffix(".tmp")
        .tempfile_in(folder)
        .map_err(fail)?;
    file.write_all(text.as_bytes()).map_err(fail)?;
    keep_owner(&target, file.as_file());
    file.as_file().sync_all().map_err(fail)?;
    file.persist(&target).map_err(|e| fail(e.error))?;
    Ok(())
}

/// Gives the new file the old one's owner (regctl run with sudo must not leave
/// the user a file only root can read). Nothing to do when it is ours already,
/// and nothing can be done when it is not and regctl is not root.
#[cfg(unix)]
fn keep_owner(old: &Path, new: &std::fs::File) {
    use std::os::unix::fs::MetadataExt as _;
    if let Ok(meta) = std::fs::metadata(old) {
        let _ = std::os::unix::fs::fchown(new, Some(meta.uid()), Some(meta.gid()));
    }
}

#[cfg(not(unix))]
fn keep_owner(_: &Path, _: &std::fs::File) {}

/// The file a path finally names, following symlinks (also one whose target
/// does not exist yet); at most 40 hops, as the kernel allows.
fn resolve_symlinks(path: &Path) -> PathBuf {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::read_link(&current) {
            Ok(next) => {
                current = match current.parent() {
                    Some(parent) if next.is_relative() => parent.join(next),
                    _ => next,
                }
            }
            Err(_) => break,
        }
    }
    current
}

fn create_private_folder(folder: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(folder)
}

fn config_error(path: &Path, detail: String) -> CredentialError {
    CredentialError::Config {
        path: path.to_path_buf(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_member_changes_and_every_other_byte_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let original = "{\n\t\"auths\": {\n\t\t\"a.example\": {\"auth\":  \"eDp5\", \"email\": 1e3}\n\t},\n\t\"proxies\": {\"default\": {\"httpProxy\": \"http://p:3128\"}},\n\t\"x\": [1, 2.50]\n}\n";
        std::fs::write(&path, original).unwrap();
        let changed = edit_object(&path, "auths", |auths| {
            auths.insert(
                "b.example".into(),
                raw_of(&serde_json::json!({"auth": "dTpw"})).unwrap(),
            );
            Ok(true)
        })
        .unwrap();
        assert!(changed);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "{\n\t\"auths\": {\n\t\t\"a.example\": {\"auth\":  \"eDp5\", \"email\": 1e3},\n\t\t\"b.example\": {\n\t\t\t\"auth\": \"dTpw\"\n\t\t}\n\t},\n\t\"proxies\": {\"default\": {\"httpProxy\": \"http://p:3128\"}},\n\t\"x\": [1, 2.50]\n}\n"
        );
        let unchanged = edit_object(&path, "auths", |_| Ok(false)).unwrap();
        assert!(!unchanged);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }

    #[test]
    fn a_member_that_is_not_an_object_leaves_the_file_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, r#"{"auths": ["secret-ish"]}"#).unwrap();
        let err = edit_object(&path, "auths", |_| Ok(true)).unwrap_err();
        assert!(err.to_string().contains("`auths`: it is not a JSON object"));
        assert!(!err.to_string().contains("secret-ish"));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            r#"{"auths": ["secret-ish"]}"#
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_new_file_is_0600_in_a_new_0700_folder_and_symlinks_stay() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new").join("config.json");
        edit_object(&path, "auths", |a| {
            a.insert("h".into(), raw_of(&serde_json::json!({})).unwrap());
            Ok(true)
        })
        .unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);

        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        edit_object(&link, "auths", |a| Ok(a.shift_remove("h").is_some())).unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\n\t\"auths\": {}\n}\n"
        );
    }

    #[test]
    fn duplicate_keys_a_bom_and_wrong_types_are_refused_without_quoting_values() {
        let err = parse(r#"{"auths": {}, "proxies": 1, "auths": {"a": {}}}"#).unwrap_err();
        assert!(err.contains("auths") && err.contains("twice"), "{err}");
        assert!(parse("\u{feff}{}").unwrap_err().contains("byte-order mark"));
        let err = parse(r#""hunter2-secret""#).unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
        let err = parse(r#"{"a": "hunter2-secret""#).unwrap_err();
        assert!(!err.contains("hunter2") && err.contains("line 1"), "{err}");
        assert!(parse("  \n").unwrap().is_empty());
    }

    #[test]
    fn crlf_files_stay_crlf() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, "{\r\n\t\"detachKeys\": \"ctrl-e,e\"\r\n}\r\n").unwrap();
        edit_object(&path, "auths", |a| {
            a.insert(
                "h".into(),
                raw_of(&serde_json::json!({"auth": "x"})).unwrap(),
            );
            Ok(true)
        })
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.replace("\r\n", "").contains('\n'), "{text:?}");
        assert!(
            text.starts_with("{\r\n\t\"detachKeys\": \"ctrl-e,e\",\r\n\t\"auths\""),
            "{text:?}"
        );
    }

    #[test]
    fn concurrent_edits_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, "{}").unwrap();
        let threads: Vec<_> = (0..16)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    edit_object(&path, "auths", |a| {
                        a.insert(format!("host{i}"), raw_of(&serde_json::json!({})).unwrap());
                        Ok(true)
                    })
                    .unwrap();
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let members = read(&path).unwrap();
        assert_eq!(object(&members, "auths").unwrap().len(), 16);
    }
}
