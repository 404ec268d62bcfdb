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
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Members::new()),
        Err(e) => return Err(config_error(path, e.to_string())),
    };
    if text.trim().is_empty() {
        return Ok(Members::new());
    }
    serde_json::from_str(&text).map_err(|e| {
        config_error(
            path,
            format!(
                "line {} column {}: {e} (the file is left as it is)",
                e.line(),
                e.column()
            ),
        )
    })
}

/// The object at `name` among `members` (empty when absent or null); an error
/// when it is something else, naming the member only.
pub fn object(members: &Members, name: &str) -> Result<Members, String> {
    match members.get(name) {
        None => Ok(Members::new()),
        Some(raw) if raw.get() == "null" => Ok(Members::new()),
        Some(raw) => serde_json::from_str(raw.get())
            .map_err(|_| format!("`{name}` is not a JSON object; the file is left as it is")),
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
    let mut members = read(path)?;
    let existed = members.contains_key(name);
    let mut inner = object(&members, name).map_err(|e| config_error(path, e))?;
    if !change(&mut inner).map_err(|e| config_error(path, e))? {
        return Ok(false);
    }
    if inner.is_empty() && !existed {
        members.shift_remove(name);
    } else {
        members.insert(name.to_string(), to_raw(&render(&inner, 1)));
    }
    write(path, &(render(&members, 0) + "\n"))?;
    Ok(true)
}

/// `value` serialised as a raw member; an entry built from strings always serialises.
pub fn raw_of(value: &serde_json::Value) -> Box<RawValue> {
    to_raw(&render_value(value, 2))
}

fn to_raw(text: &str) -> Box<RawValue> {
    // `render` and `render_value` produce JSON from parsed or built values.
    RawValue::from_string(text.to_string())
        .unwrap_or_else(|_| RawValue::from_string("{}".to_string()).expect("`{}` is JSON"))
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
            let members: Members = map
                .iter()
                .map(|(k, v)| (k.clone(), to_raw(&render_value(v, depth + 1))))
                .collect();
            render(&members, depth)
        }
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// Replaces the file at `path` (or, for a symlink, its target) with `text`:
/// written to a temporary file in the same folder with mode 0600, flushed to
/// disk, then renamed over it. A missing folder is created with mode 0700.
pub fn write(path: &Path, text: &str) -> Result<(), CredentialError> {
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
    file.as_file().sync_all().map_err(fail)?;
    file.persist(&target).map_err(|e| fail(e.error))?;
    Ok(())
}

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
                raw_of(&serde_json::json!({"auth": "dTpw"})),
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
        assert!(err.to_string().contains("`auths` is not a JSON object"));
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
            a.insert("h".into(), raw_of(&serde_json::json!({})));
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
}
