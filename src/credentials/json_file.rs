//! Editing a JSON config file that other programs own too (docker's `config.json`,
//! regctl's own): one member of the top-level object is changed, every byte
//! that did not change is kept (an entry added, then removed, gives back the
//! file as it was), and the file is replaced atomically (a temporary file in the
//! same folder, renamed over it) with mode 0600. A symlinked file stays a
//! symlink: its target is what is replaced.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use serde_json::value::RawValue;

use super::json_text::{self, At};
use super::CredentialError;

/// The members of a JSON object, in file order, each exactly as written.
pub type Members = IndexMap<String, Box<RawValue>>;

/// Reads `path`'s top-level object (empty when the file does not exist).
pub fn read(path: &Path) -> Result<Members, CredentialError> {
    let text = read_text(path)?.unwrap_or_default();
    parse(&text).map_err(|e| config_error(path, format!("{e}; the file is left as it is")))
}

/// The file's text, `None` when it does not exist.
fn read_text(path: &Path) -> Result<Option<String>, CredentialError> {
    match crate::file::read_text(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(config_error(path, e.to_string())),
    }
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

/// What an edit brought into being that was not there before, or took away:
/// what a later edit may take away again to give back the bytes from before.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Created {
    /// Nothing: the file and the member were there.
    #[default]
    Nothing,
    /// The member (the file was there).
    Member,
    /// The file (and so the member).
    File,
}

/// How an edit is made.
#[derive(Clone, Copy, Debug)]
pub struct Edit {
    /// How long to wait for a lock another process holds on the file's folder.
    pub wait: Duration,
    /// What an earlier edit created: when this one leaves the member empty, the
    /// member goes ([`Created::Member`]), and the file too when it then holds
    /// nothing ([`Created::File`]).
    pub undo: Created,
}

/// What an edit did.
#[derive(Debug, Default)]
pub struct Edited {
    /// The file changed.
    pub changed: bool,
    /// What it created.
    pub created: Created,
    /// What it took away (as [`Edit::undo`] allowed).
    pub removed: Created,
    /// What the user should know (the file changed owner).
    pub notes: Vec<String>,
}

/// Changes the object member `name` of the file at `path` with `change`, which
/// says whether it changed anything; writes the file only then. Only the bytes
/// of what changed are touched: an entry removed, replaced or added (after the
/// last, as the last is laid out). The member is not added when it would be
/// empty, and goes when it ends empty if [`Edit::undo`] says an earlier edit
/// created it.
pub fn edit_object(
    path: &Path,
    name: &str,
    edit: Edit,
    change: impl FnOnce(&mut Members) -> Result<bool, String>,
) -> Result<Edited, CredentialError> {
    // Another regctl editing the same file waits: no change is lost.
    let _lock = lock_folder(path, edit.wait)?;
    let old = read_text(path)?;
    let text = old.clone().unwrap_or_default();
    let members =
        parse(&text).map_err(|e| config_error(path, format!("{e}; the file is left as it is")))?;
    let before = object(&members, name)
        .map_err(|e| config_error(path, format!("{e}; the file is left as it is")))?;
    let mut after = before.clone();
    if !change(&mut after).map_err(|e| config_error(path, e))? {
        return Ok(Edited::default());
    }
    let had_member = members.contains_key(name);
    if after.is_empty() && !had_member {
        return Ok(Edited::default());
    }
    let drop_member = after.is_empty() && edit.undo != Created::Nothing;
    let new = if text.trim().is_empty() {
        fresh(name, &after)
    } else {
        edited(&text, name, &before, &after, had_member, drop_member)
    }
    .map_err(|e| config_error(path, e))?;
    let mut done = Edited::default();
    // (The member was there, so the file was.)
    if edit.undo == Created::File && drop_member && parse(&new).is_ok_and(|m| m.is_empty()) {
        std::fs::remove_file(resolve_symlinks(path))
            .map_err(|e| config_error(path, format!("cannot remove it: {e}")))?;
        done.changed = true;
        done.removed = Created::File;
        return Ok(done);
    }
    if old.as_deref() == Some(new.as_str()) {
        return Ok(done);
    }
    done.notes = write(path, &new)?;
    done.changed = true;
    done.created = match (&old, had_member) {
        (None, _) => Created::File,
        (Some(_), false) => Created::Member,
        (Some(_), true) => Created::Nothing,
    };
    if drop_member {
        done.removed = Created::Member;
    }
    Ok(done)
}

/// A new file holding member `name`, as docker writes one.
fn fresh(name: &str, after: &Members) -> Result<String, String> {
    let mut members = Members::new();
    members.insert(name.to_string(), to_raw(&render(after, 1))?);
    Ok(render(&members, 0) + "\n")
}

/// `text` with member `name` changed from `before` to `after`, each change
/// made where it is, every other byte kept.
fn edited(
    text: &str,
    name: &str,
    before: &Members,
    after: &Members,
    had_member: bool,
    drop_member: bool,
) -> Result<String, String> {
    if drop_member {
        return json_text::remove(text, At::Top, name);
    }
    let is_object = json_text::value_of(text, name).is_some_and(|v| v.starts_with('{'));
    if !had_member {
        return json_text::append(text, At::Top, name, &render(after, 1), 0);
    }
    if !is_object {
        // `null`: an object is written in its place.
        return json_text::replace(text, At::Top, name, &render(after, 1));
    }
    let at = At::Member(name);
    let mut text = text.to_string();
    for key in before.keys().filter(|k| !after.contains_key(*k)) {
        text = json_text::remove(&text, at, key)?;
    }
    for (key, value) in after {
        match before.get(key) {
            Some(old) if old.get() == value.get() => {}
            Some(_) => text = json_text::replace(&text, at, key, value.get())?,
            None => text = json_text::append(&text, at, key, value.get(), 1)?,
        }
    }
    Ok(text)
}

/// An exclusive lock on the folder of `path` (Unix), held while the file is read,
/// changed and replaced; released when dropped. Waited for at most `wait`:
/// another process (another user's, even) may hold it for ever.
fn lock_folder(path: &Path, wait: Duration) -> Result<Option<std::fs::File>, CredentialError> {
    if !cfg!(unix) {
        return Ok(None);
    }
    let target = resolve_symlinks(path);
    let Some(folder) = target.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(None);
    };
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    // Only a folder is opened, and without blocking: a FIFO in its place
    // cannot hold the open.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        libc::O_DIRECTORY | libc::O_NONBLOCK,
    );
    let dir = match options.open(folder) {
        Ok(dir) => dir,
        // A folder not made yet has nobody else writing in it.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(config_error(path, format!("cannot open its folder: {e}"))),
    };
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_millis(1);
    loop {
        match dir.try_lock() {
            Ok(()) => return Ok(Some(dir)),
            Err(std::fs::TryLockError::WouldBlock) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(CredentialError::FolderLocked {
                        folder: folder.to_path_buf(),
                        file: path.to_path_buf(),
                        waited: wait,
                    });
                }
                std::thread::sleep(pause.min(left));
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(config_error(path, format!("cannot lock its folder: {e}")))
            }
        }
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
fn write(path: &Path, text: &str) -> Result<Vec<String>, CredentialError> {
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
    let notes = keep_owner(&target, file.as_file()).into_iter().collect();
    file.as_file().sync_all().map_err(fail)?;
    file.persist(&target).map_err(|e| fail(e.error))?;
    Ok(notes)
}

/// Gives the new file the old one's owner when that owner is root or the user
/// who ran regctl with sudo (`SUDO_UID`): `sudo regctl login` must not leave
/// the user a file only root can read. A file of anyone else's (a symlink or a
/// folder another user controls) is not handed back to them with the new
/// credential in it: the new file stays the writer's, mode 0600, and the note
/// returned says so.
#[cfg(unix)]
fn keep_owner(old: &Path, new: &std::fs::File) -> Option<String> {
    use std::os::unix::fs::MetadataExt as _;
    let meta = std::fs::metadata(old).ok()?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() == me {
        return None;
    }
    let sudo_user = std::env::var("SUDO_UID")
        .ok()
        .and_then(|uid| uid.parse::<u32>().ok());
    if meta.uid() == 0 || Some(meta.uid()) == sudo_user {
        // Refused when regctl is not root: the file stays the writer's.
        let _ = std::os::unix::fs::fchown(new, Some(meta.uid()), Some(meta.gid()));
        return None;
    }
    Some(format!(
        "{} belonged to uid {}, neither root nor the user who ran regctl (SUDO_UID): the new file \
         belongs to uid {me}, mode 0600, and was not handed to uid {}",
        old.display(),
        meta.uid(),
        meta.uid()
    ))
}

#[cfg(not(unix))]
fn keep_owner(_: &Path, _: &std::fs::File) -> Option<String> {
    None
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

    fn plain() -> Edit {
        Edit {
            wait: Duration::from_secs(30),
            undo: Created::Nothing,
        }
    }

    #[test]
    fn one_member_changes_and_every_other_byte_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let original = "{\n\t\"auths\": {\n\t\t\"a.example\": {\"auth\":  \"eDp5\", \"email\": 1e3}\n\t},\n\t\"proxies\": {\"default\": {\"httpProxy\": \"http://p:3128\"}},\n\t\"x\": [1, 2.50]\n}\n";
        std::fs::write(&path, original).unwrap();
        let edited = edit_object(&path, "auths", plain(), |auths| {
            auths.insert(
                "b.example".into(),
                raw_of(&serde_json::json!({"auth": "dTpw"})).unwrap(),
            );
            Ok(true)
        })
        .unwrap();
        assert!(edited.changed);
        assert_eq!(edited.created, Created::Nothing);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "{\n\t\"auths\": {\n\t\t\"a.example\": {\"auth\":  \"eDp5\", \"email\": 1e3},\n\t\t\"b.example\": {\n\t\t\t\"auth\": \"dTpw\"\n\t\t}\n\t},\n\t\"proxies\": {\"default\": {\"httpProxy\": \"http://p:3128\"}},\n\t\"x\": [1, 2.50]\n}\n"
        );
        let unchanged = edit_object(&path, "auths", plain(), |_| Ok(false)).unwrap();
        assert!(!unchanged.changed);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }

    #[test]
    fn a_member_that_is_not_an_object_leaves_the_file_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, r#"{"auths": ["secret-ish"]}"#).unwrap();
        let err = edit_object(&path, "auths", plain(), |_| Ok(true)).unwrap_err();
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
        edit_object(&path, "auths", plain(), |a| {
            a.insert("h".into(), raw_of(&serde_json::json!({})).unwrap());
            Ok(true)
        })
        .unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);

        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        edit_object(&link, "auths", plain(), |a| {
            Ok(a.shift_remove("h").is_some())
        })
        .unwrap();
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
        edit_object(&path, "auths", plain(), |a| {
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
                    edit_object(&path, "auths", plain(), |a| {
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

    #[test]
    fn what_an_edit_created_goes_when_a_later_edit_undoes_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let add = |a: &mut Members| {
            a.insert(
                "h".into(),
                raw_of(&serde_json::json!({"auth": "x"})).unwrap(),
            );
            Ok(true)
        };
        let remove = |a: &mut Members| Ok(a.shift_remove("h").is_some());
        let undo = |undo| Edit { undo, ..plain() };
        // A file made by an edit goes with it.
        assert_eq!(
            edit_object(&path, "auths", plain(), add).unwrap().created,
            Created::File
        );
        let done = edit_object(&path, "auths", undo(Created::File), remove).unwrap();
        assert_eq!((done.changed, done.removed), (true, Created::File));
        assert!(!path.exists());
        // A member made by an edit goes with it, and the file keeps its bytes.
        std::fs::write(&path, "{\"x\": 1}").unwrap();
        assert_eq!(
            edit_object(&path, "auths", plain(), add).unwrap().created,
            Created::Member
        );
        let done = edit_object(&path, "auths", undo(Created::File), remove).unwrap();
        assert_eq!(done.removed, Created::Member);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"x\": 1}");
        // Without undo, the empty member stays, as docker leaves it.
        edit_object(&path, "auths", plain(), add).unwrap();
        edit_object(&path, "auths", plain(), remove).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"x\": 1, \"auths\": {}}"
        );
    }

    #[test]
    fn a_lock_held_elsewhere_is_waited_for_only_so_long() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let held = std::fs::File::open(dir.path()).unwrap();
        held.lock().unwrap();
        let wait = Edit {
            wait: Duration::from_millis(50),
            ..plain()
        };
        let err = edit_object(&path, "auths", wait, |_| Ok(true)).unwrap_err();
        assert!(matches!(err, CredentialError::FolderLocked { .. }), "{err}");
        assert!(
            err.to_string().contains(&dir.path().display().to_string()),
            "{err}"
        );
        drop(held);
        edit_object(&path, "auths", wait, |a| {
            a.insert("h".into(), raw_of(&serde_json::json!({})).unwrap());
            Ok(true)
        })
        .unwrap();
    }
}
