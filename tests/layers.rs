//! The layers of `src/` hold by a test, not by discipline: a module may use
//! only modules of its own layer or below, and nothing below the commands
//! prints. From the bottom:
//!
//! 0. `text`, `file`: leaves
//! 1. `registry`: the distribution client
//! 2. `credentials`: where credentials come from and go (over the registry's types)
//! 3. `graph`: the image graph, read from a registry; `layout`: images on disk
//! 4. `deletion`, `inspect`, `copy`: engines over the graph; `setup`: the files a set-up writes
//! 5. `output`, `hints`, `terminal`, `interrupt`, `cli`, `exit`: the command line's parts
//! 6. `commands`: one file per subcommand
//! 7. `lib`, `main`, `bin`: the entry points
//!
//! A file's own tests (`#[cfg(test)] mod tests` at its end) are left out.

use std::path::{Path, PathBuf};

fn layer(module: &str) -> Option<usize> {
    Some(match module {
        "text" | "file" => 0,
        "registry" => 1,
        "credentials" => 2,
        "graph" | "layout" => 3,
        "deletion" | "inspect" | "copy" | "setup" => 4,
        "output" | "hints" | "terminal" | "interrupt" | "cli" | "exit" => 5,
        "commands" => 6,
        "lib" | "main" | "bin" => 7,
        _ => return None,
    })
}

/// The highest layer that must not print.
const SILENT_UP_TO: usize = 4;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to.
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap();
    let first = relative.components().next().unwrap().as_os_str();
    first.to_string_lossy().trim_end_matches(".rs").to_string()
}

/// The code of a file without its trailing unit tests.
fn code_of(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// Every top-level module the code names as `crate::NAME`, or in a
/// `use crate::{NAME, ...}` group.
fn modules_used(code: &str) -> Vec<String> {
    let mut used = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            // Top-level names of the group: what starts each comma-separated item.
            let mut depth = 0;
            let mut item = String::new();
            for c in group[..end].chars().chain([',']) {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        let name: String = item
                            .trim()
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        if !name.is_empty() {
                            used.push(name);
                        }
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            used.push(name);
        }
    }
    used
}

#[test]
fn no_module_uses_a_higher_layer_and_nothing_below_the_commands_prints() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut wrong = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        let Some(own) = layer(&module) else {
            wrong.push(format!(
                "{}: module `{module}` has no layer (add it to this test)",
                file.display()
            ));
            continue;
        };
        let code = code_of(file);
        for used in modules_used(&code) {
            match layer(&used) {
                Some(theirs) if theirs > own => wrong.push(format!(
                    "{}: `{module}` (layer {own}) uses `{used}` (layer {theirs})",
                    file.display()
                )),
                Some(_) => {}
                None => wrong.push(format!(
                    "{}: uses `crate::{used}`, which has no layer",
                    file.display()
                )),
            }
        }
        if own <= SILENT_UP_TO {
            for printing in [
                "println!",
                "eprintln!",
                "print!(",
                "eprint!(",
                "stdout()",
                "stderr()",
            ] {
                if code.contains(printing) {
                    wrong.push(format!(
                        "{}: `{module}` is a library and must not print (`{printing}`)",
                        file.display()
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
}

#[test]
fn the_check_sees_a_use_of_a_higher_layer() {
    let code = "use crate::{text::escape, commands::Context};\nfn f() { crate::output::x(); }";
    assert_eq!(modules_used(code), ["text", "commands", "output"]);
}
