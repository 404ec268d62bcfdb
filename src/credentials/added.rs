//! What `regctl login` created in a docker config (the file, or a member of
//! it), recorded in regctl's config so that `regctl logout` can take it away
//! again and give back the file's bytes from before login.

use std::path::Path;

use super::json_file::{self, Created};
use super::Resolver;

/// The member of regctl's config that records, per docker config file, what
/// login created there: `"file"`, or the members it added (`"auths"`,
/// `"credHelpers"`: one name, or a list of them).
const ADDED: &str = "added_by_login";

/// What login created in one docker config file, as [`ADDED`] records it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Made {
    /// Nothing recorded.
    Nothing,
    /// The file.
    File,
    /// These members of a file that was there.
    Members(Vec<String>),
}

impl Made {
    fn parse(raw: Option<&str>) -> Made {
        match raw.and_then(|raw| serde_json::from_str::<serde_json::Value>(raw).ok()) {
            Some(serde_json::Value::String(s)) if s == "file" => Made::File,
            Some(serde_json::Value::String(s)) => Made::Members(vec![s]),
            Some(serde_json::Value::Array(names)) => Made::Members(
                names
                    .iter()
                    .filter_map(|n| n.as_str().map(str::to_string))
                    .collect(),
            ),
            _ => Made::Nothing,
        }
    }

    fn to_json(&self) -> Option<serde_json::Value> {
        match self {
            Made::Nothing => None,
            Made::File => Some("file".into()),
            Made::Members(names) => match names.as_slice() {
                [] => None,
                [one] => Some(one.as_str().into()),
                _ => Some(names.clone().into()),
            },
        }
    }

    /// What an edit of `member` may undo.
    fn undo_for(&self, member: &str) -> Created {
        match self {
            Made::File => Created::File,
            Made::Members(names) if names.iter().any(|n| n == member) => Created::Member,
            _ => Created::Nothing,
        }
    }
}

impl Resolver {
    /// Records in regctl's config that login created `created` (`member`, or
    /// the file) in docker's config at `path`, for logout to take away again.
    pub(super) fn record_created(
        &self,
        path: &Path,
        member: &str,
        created: Created,
        notes: &mut Vec<String>,
    ) {
        let Some(record) = &self.regctl_config else {
            return;
        };
        let key = path.display().to_string();
        let result = json_file::edit_object(record, ADDED, self.edit(Created::Nothing), |added| {
            let made = match (created, Made::parse(added.get(&key).map(|r| r.get()))) {
                (Created::Nothing, _) => return Ok(false),
                (Created::File, _) | (Created::Member, Made::File) => Made::File,
                (Created::Member, Made::Nothing) => Made::Members(vec![member.to_string()]),
                (Created::Member, Made::Members(mut names)) => {
                    if !names.iter().any(|n| n == member) {
                        names.push(member.to_string());
                    }
                    Made::Members(names)
                }
            };
            let Some(value) = made.to_json() else {
                return Ok(false);
            };
            added.insert(key.clone(), json_file::raw_of(&value)?);
            Ok(true)
        });
        match result {
            Ok(edited) => notes.extend(edited.notes),
            Err(e) => notes.push(format!(
                "{e}; logout will leave an empty `{member}` in {}",
                path.display()
            )),
        }
    }

    /// What an edit of `member` in docker's config at `path` may undo of what
    /// login recorded it created there.
    pub(super) fn created_by_login(&self, path: &Path, member: &str) -> Created {
        let Some(record) = &self.regctl_config else {
            return Created::Nothing;
        };
        let added = json_file::read(record)
            .ok()
            .and_then(|members| json_file::object(&members, ADDED).ok());
        let raw = added
            .as_ref()
            .and_then(|added| added.get(&path.display().to_string()))
            .map(|raw| raw.get());
        Made::parse(raw).undo_for(member)
    }

    /// Forgets what login created in docker's config at `path` once an edit of
    /// `member` took it away (`removed`); the record goes, and regctl's config
    /// with it when nothing else is in it. A file login created stays recorded
    /// while it holds other members.
    pub(super) fn forget_created(
        &self,
        path: &Path,
        member: &str,
        removed: Created,
        notes: &mut Vec<String>,
    ) {
        let Some(record) = &self.regctl_config else {
            return;
        };
        if removed == Created::Nothing {
            return;
        }
        let key = path.display().to_string();
        let forgotten = json_file::edit_object(record, ADDED, self.edit(Created::File), |added| {
            let made = Made::parse(added.get(&key).map(|r| r.get()));
            let left = match (removed, made) {
                (_, Made::Nothing) => return Ok(false),
                (Created::Member, Made::File) => return Ok(false),
                (Created::Member, Made::Members(mut names)) => {
                    names.retain(|n| n != member);
                    Made::Members(names)
                }
                _ => Made::Nothing,
            };
            match left.to_json() {
                Some(value) => {
                    added.insert(key.clone(), json_file::raw_of(&value)?);
                }
                None => {
                    added.shift_remove(&key);
                }
            }
            Ok(true)
        });
        match forgotten {
            Ok(edited) => notes.extend(edited.notes),
            Err(e) => notes.push(e.to_string()),
        }
    }
}
