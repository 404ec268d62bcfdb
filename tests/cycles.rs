//! No two files of `src/` import each other, directly or round a loop: the
//! library reads one way, file by file, not only layer by layer (`layers.rs`).
//!
//! A file's imports are its `use` paths and the paths it writes in code that
//! start at `crate::`, `super::`, `self::` or one of its own child modules. A
//! name a `mod.rs` re-exports (`pub use child::Name`) is followed to the file
//! that defines it, so a facade is not a loop; a `mod.rs` that calls into its
//! children while they use what it defines is. A file's own tests (`#[cfg(test)]
//! mod tests` at its end) are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path inside the crate: `["registry", "client"]`.
type ModPath = Vec<String>;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The file holding module `path`, if there is one.
fn file_of(path: &[String]) -> Option<PathBuf> {
    let mut base = src();
    if path.is_empty() {
        return Some(base.join("lib.rs"));
    }
    for seg in &path[..path.len() - 1] {
        base = base.join(seg);
    }
    let last = &path[path.len() - 1];
    let flat = base.join(format!("{last}.rs"));
    let nested = base.join(last).join("mod.rs");
    [flat, nested].into_iter().find(|p| p.is_file())
}

/// The module a file of `src/` is.
fn module_of(file: &Path) -> ModPath {
    let relative = file.strip_prefix(src()).unwrap();
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    if last != "mod.rs" && last != "lib.rs" {
        parts.push(last.trim_end_matches(".rs").to_string());
    }
    parts
}

fn code_of(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let code = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => &text,
    };
    // Comments say things like `crate::x` without importing them.
    code.lines()
        .map(|l| match l.find("//") {
            Some(at) => &l[..at],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Expands a path written at the start of `text` (`a::b::{c, d::e as f}`) into
/// its full paths; `self` inside a group names the group's own path.
fn expand(text: &str) -> Vec<(Vec<String>, usize)> {
    fn path(chars: &[char], mut i: usize, prefix: Vec<String>) -> (Vec<Vec<String>>, usize) {
        let mut segs = prefix;
        loop {
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
            if i < chars.len() && chars[i] == '{' {
                i += 1;
                let mut out = Vec::new();
                loop {
                    while i < chars.len() && (chars[i].is_whitespace() || chars[i] == ',') {
                        i += 1;
                    }
                    if i >= chars.len() || chars[i] == '}' {
                        return (out, i + 1);
                    }
                    let (mut inner, next) = path(chars, i, segs.clone());
                    out.append(&mut inner);
                    i = next;
                }
            }
            let start = i;
            while i < chars.len() && is_ident(chars[i]) {
                i += 1;
            }
            if start == i {
                return (vec![segs], i);
            }
            let seg: String = chars[start..i].iter().collect();
            if seg != "self" || segs.is_empty() {
                segs.push(seg);
            }
            if chars.get(i) == Some(&':') && chars.get(i + 1) == Some(&':') {
                i += 2;
                continue;
            }
            // `as alias` ends the path.
            let mut j = i;
            while j < chars.len() && chars[j].is_whitespace() {
                j += 1;
            }
            if chars.get(j) == Some(&'a')
                && chars.get(j + 1) == Some(&'s')
                && chars.get(j + 2).is_some_and(|c| c.is_whitespace())
            {
                j += 2;
                while j < chars.len() && chars[j].is_whitespace() {
                    j += 1;
                }
                while j < chars.len() && is_ident(chars[j]) {
                    j += 1;
                }
                i = j;
            }
            return (vec![segs], i);
        }
    }
    let chars: Vec<char> = text.chars().collect();
    let (paths, end) = path(&chars, 0, Vec::new());
    paths.into_iter().map(|p| (p, end)).collect()
}

/// One path a file writes, and whether it is a re-export (`pub use`).
struct Written {
    path: Vec<String>,
    reexport: bool,
}

/// The paths a file writes that may name a module of the crate.
fn written(code: &str, children: &BTreeSet<String>) -> Vec<Written> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let fresh = i == 0 || !(is_ident(chars[i - 1]) || chars[i - 1] == ':');
        if !fresh || !is_ident(chars[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_ident(chars[i]) {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        let (from, reexport) = if word == "use" {
            let line_start = chars[..start]
                .iter()
                .rposition(|c| *c == '\n')
                .map_or(0, |n| n + 1);
            let head: String = chars[line_start..start].iter().collect();
            let mut from = i;
            while from < chars.len() && chars[from].is_whitespace() {
                from += 1;
            }
            (from, head.trim_start().starts_with("pub"))
        } else if chars.get(i) == Some(&':')
            && chars.get(i + 1) == Some(&':')
            && (["crate", "super", "self"].contains(&word.as_str()) || children.contains(&word))
        {
            (start, false)
        } else {
            continue;
        };
        let rest: String = chars[from..].iter().collect();
        let paths = expand(&rest);
        if let Some((_, end)) = paths.first() {
            i = from + end;
        }
        out.extend(
            paths
                .into_iter()
                .map(|(path, _)| Written { path, reexport }),
        );
    }
    out
}

/// The child modules a module's file declares (`mod x;`).
fn children_of(code: &str) -> BTreeSet<String> {
    code.lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l
                .strip_prefix("pub(crate) ")
                .or_else(|| l.strip_prefix("pub "))
                .unwrap_or(l);
            let name = l.strip_prefix("mod ")?.strip_suffix(';')?;
            Some(name.trim().to_string())
        })
        .collect()
}

/// Makes `path`, written in module `at`, absolute.
fn absolute(at: &[String], path: &[String]) -> Option<ModPath> {
    let mut out: ModPath = at.to_vec();
    let mut segs = path.iter().peekable();
    match segs.peek().map(|s| s.as_str()) {
        Some("crate") => {
            out.clear();
            segs.next();
        }
        Some("super") => {
            while segs.peek().map(|s| s.as_str()) == Some("super") {
                out.pop()?;
                segs.next();
            }
        }
        Some("self") => {
            segs.next();
        }
        _ => {}
    }
    out.extend(segs.cloned());
    Some(out)
}

struct Crate {
    /// Module path → its file's code.
    code: BTreeMap<ModPath, String>,
}

impl Crate {
    fn read() -> Crate {
        let mut files = Vec::new();
        collect(&src(), &mut files);
        let mut code = BTreeMap::new();
        for file in files {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            // The binaries are crates of their own.
            if name == "main.rs" || file.starts_with(src().join("bin")) {
                continue;
            }
            code.insert(module_of(&file), code_of(&file));
        }
        Crate { code }
    }

    fn children(&self, module: &[String]) -> BTreeSet<String> {
        self.code
            .get(module)
            .map(|c| children_of(c))
            .unwrap_or_default()
    }

    /// The file that defines what absolute `path` names: the deepest module
    /// on it, with names a `mod.rs` re-exports followed to where they live.
    fn resolve(&self, path: &[String], depth: usize) -> Option<ModPath> {
        let mut module: ModPath = Vec::new();
        for (n, seg) in path.iter().enumerate() {
            let mut next = module.clone();
            next.push(seg.clone());
            if self.code.contains_key(&next) && file_of(&next).is_some() {
                module = next;
                continue;
            }
            if depth < 8 {
                if let Some(target) = self.reexport(&module, seg) {
                    let mut rest = target;
                    rest.extend(path[n + 1..].iter().cloned());
                    return self.resolve(&rest, depth + 1);
                }
            }
            break;
        }
        Some(module)
    }

    /// Where module `module` re-exports `name` from, as an absolute path.
    fn reexport(&self, module: &[String], name: &str) -> Option<ModPath> {
        let code = self.code.get(module)?;
        let children = self.children(module);
        written(code, &children)
            .into_iter()
            .filter(|w| w.reexport)
            .find(|w| w.path.last().map(String::as_str) == Some(name))
            .and_then(|w| absolute(module, &w.path))
    }

    /// Module → the modules it imports.
    fn edges(&self) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
        let mut edges: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
        for (module, code) in &self.code {
            let children = self.children(module);
            let entry = edges.entry(module.clone()).or_default();
            for w in written(code, &children) {
                if w.reexport {
                    continue;
                }
                let Some(abs) = absolute(module, &w.path) else {
                    continue;
                };
                // Paths outside the crate (std, other crates) resolve to the root.
                let first_is_ours = abs
                    .first()
                    .is_some_and(|f| self.code.contains_key(&vec![f.clone()]));
                if !first_is_ours {
                    continue;
                }
                if let Some(target) = self.resolve(&abs, 0) {
                    if &target != module && !target.is_empty() {
                        entry.insert(target);
                    }
                }
            }
        }
        edges
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The loops of a graph, one per strongly connected part with more than one module.
fn loops(edges: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<Vec<ModPath>> {
    // Two modules are in one loop when each reaches the other.
    let reach = |from: &ModPath| -> BTreeSet<ModPath> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(m) = stack.pop() {
            for next in edges.get(&m).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&ModPath, BTreeSet<ModPath>> =
        edges.keys().map(|m| (m, reach(m))).collect();
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for (m, from_m) in &reached {
        if done.contains(*m) || !from_m.contains(*m) {
            continue;
        }
        let part: Vec<ModPath> = from_m
            .iter()
            .filter(|o| reached.get(o).is_some_and(|r| r.contains(*m)))
            .cloned()
            .collect();
        done.extend(part.iter().cloned());
        out.push(part);
    }
    out
}

#[test]
fn no_file_of_the_library_imports_round_a_loop() {
    let krate = Crate::read();
    let found = loops(&krate.edges());
    let words: Vec<String> = found
        .iter()
        .map(|part| {
            part.iter()
                .map(|m| m.join("::"))
                .collect::<Vec<_>>()
                .join(" <-> ")
        })
        .collect();
    assert!(words.is_empty(), "import loops:\n{}", words.join("\n"));
}

#[test]
fn the_check_follows_groups_reexports_and_sees_a_loop() {
    let paths: Vec<Vec<String>> = expand("crate::a::{b, c::{self, D as E}};")
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert_eq!(
        paths,
        [
            vec!["crate", "a", "b"],
            vec!["crate", "a", "c"],
            vec!["crate", "a", "c", "D"]
        ]
    );
    let m = |s: &str| -> ModPath { s.split("::").map(String::from).collect() };
    let mut edges = BTreeMap::new();
    edges.insert(m("a"), BTreeSet::from([m("b")]));
    edges.insert(m("b"), BTreeSet::from([m("c")]));
    edges.insert(m("c"), BTreeSet::from([m("a")]));
    edges.insert(m("d"), BTreeSet::from([m("a")]));
    assert_eq!(loops(&edges), [vec![m("a"), m("b"), m("c")]]);
    let children = BTreeSet::from(["rm".to_string()]);
    let w = written(
        "pub use x::Y;\nfn f() { rm::run(); crate::z::W::new(); }",
        &children,
    );
    let seen: Vec<(String, bool)> = w.iter().map(|w| (w.path.join("::"), w.reexport)).collect();
    assert_eq!(
        seen,
        [
            ("x::Y".to_string(), true),
            ("rm::run".to_string(), false),
            ("crate::z::W::new".to_string(), false)
        ]
    );
}
