//! A command on a real terminal emulator: a tmux server of its own (its socket
//! in a temporary folder), one window of a given size, what the screen shows,
//! and a wait that wakes on the window's output (piped out through a FIFO).

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: PathBuf,
    /// A message each time the window prints something; closed when it ends.
    output: mpsc::Receiver<()>,
    _dir: tempfile::TempDir,
}

/// Printed by the window's shell once the command ends.
const EXITED: &str = "exited with ";

fn tmux(socket: &Path) -> Command {
    let mut tmux = Command::new("tmux");
    tmux.arg("-S").arg(socket).args(["-f", "/dev/null"]);
    tmux
}

fn checked(mut command: Command) {
    let status = command.status().expect("tmux runs");
    assert!(status.success(), "{command:?}: {status}");
}

impl Tmux {
    /// Runs `command` (its program, arguments and environment) in a `columns` x
    /// `rows` window; the window stays once it ends, showing its exit status.
    pub fn run(command: &Command, columns: u16, rows: u16) -> Tmux {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("socket");
        let fifo = dir.path().join("output");
        checked({
            let mut mkfifo = Command::new("mkfifo");
            mkfifo.arg(&fifo);
            mkfifo
        });
        // The shell waits for a line before it starts the command, so that the
        // window's output is piped out from the start.
        let mut new = tmux(&socket);
        new.args(["new-session", "-d", "-s", "t"])
            .args(["-x", &columns.to_string(), "-y", &rows.to_string()])
            .args([
                "--",
                "sh",
                "-c",
                &format!("read go; \"$0\" \"$@\"; echo \"{EXITED}$?\"; read wait"),
            ])
            .arg(command.get_program())
            .args(command.get_args())
            .env("TERM", "xterm-256color");
        for (key, value) in command.get_envs() {
            match value {
                Some(v) => new.env(key, v),
                None => new.env_remove(key),
            };
        }
        checked(new);
        let mut pipe = tmux(&socket);
        pipe.args(["pipe-pane", "-t", "t", "-o"])
            .arg(format!("cat > '{}'", fifo.display()));
        checked(pipe);
        let (tx, output) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = std::fs::File::open(&fifo).unwrap();
            let mut buf = [0u8; 4096];
            while matches!(reader.read(&mut buf), Ok(n) if n > 0) {
                if tx.send(()).is_err() {
                    return;
                }
            }
        });
        let mut go = tmux(&socket);
        go.args(["send-keys", "-t", "t", "Enter"]);
        checked(go);
        Tmux {
            socket,
            output,
            _dir: dir,
        }
    }

    /// The window's text, wrapped lines joined (`-J`): a line wider than the
    /// window is one the terminal had to wrap.
    pub fn screen(&self) -> String {
        let out = tmux(&self.socket)
            .args(["capture-pane", "-p", "-J", "-t", "t", "-S", "-", "-E", "-"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits (at most 30 s) until the screen satisfies `ready`, looking again
    /// each time the window prints, and returns it.
    pub fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(()) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("waited 30 s for {what}; screen:\n{screen}")
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let screen = self.screen();
                    assert!(ready(&screen), "the window closed before {what}:\n{screen}");
                    return screen;
                }
            }
        }
    }

    /// Waits for the command to end and returns its exit status and the screen.
    pub fn wait_exit(&self) -> (i32, String) {
        let screen = self.wait_for("the command to end", |s| s.contains(EXITED));
        let code = screen
            .split(EXITED)
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("no exit status on screen:\n{screen}"));
        (code, screen)
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = tmux(&self.socket).arg("kill-server").status();
    }
}
