//! Shell completions and man pages are generated from the clap definitions and
//! committed; this test fails when they are out of date. To refresh them:
//! `REGCTL_UPDATE_GENERATED=1 cargo test --test generated`.

use std::path::{Path, PathBuf};

use clap::CommandFactory as _;
use clap_complete::Shell;
use regctl::cli::Cli;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every generated file: path and content.
fn generated() -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for (shell, name) in [
        (Shell::Bash, "regctl.bash"),
        (Shell::Zsh, "_regctl"),
        (Shell::Fish, "regctl.fish"),
    ] {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "regctl", &mut out);
        files.push((root().join("completions").join(name), out));
    }
    let mut command = Cli::command();
    // Building propagates the global flags into each subcommand's page.
    command.build();
    let mut pages = vec![("regctl.1".to_string(), command.clone())];
    for sub in command.get_subcommands() {
        let name = format!("regctl-{}", sub.get_name());
        // clap names are &'static str; a test process may keep these few.
        let name: &'static str = Box::leak(name.into_boxed_str());
        pages.push((format!("{name}.1"), sub.clone().name(name)));
    }
    for (file, cmd) in pages {
        let mut out = Vec::new();
        clap_mangen::Man::new(cmd).render(&mut out).unwrap();
        files.push((root().join("man").join(file), out));
    }
    files
}

fn write(path: &Path, content: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

#[test]
fn completions_and_man_pages_match_the_cli() {
    let update = std::env::var_os("REGCTL_UPDATE_GENERATED").is_some();
    let mut stale = Vec::new();
    for (path, content) in generated() {
        if update {
            write(&path, &content);
        } else if std::fs::read(&path).ok().as_deref() != Some(content.as_slice()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "out of date (run REGCTL_UPDATE_GENERATED=1 cargo test --test generated): {stale:?}"
    );
}
