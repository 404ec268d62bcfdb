//! A pseudo-terminal for the tests that need one (prompts, terminal width).

/// A pseudo-terminal in packet mode: each read of the controlling side says
/// whether it carries output or a change of the terminal's state, such as the
/// flush of typed-ahead input that a password prompt does before it reads.
pub struct Pty {
    master: std::fs::File,
    pub slave: std::os::fd::OwnedFd,
}

/// The first byte of a packet-mode read: output follows (Linux's `<asm-generic/ioctls.h>`).
const TIOCPKT_DATA: u8 = 0;
/// The first byte of a packet-mode read: the input queue was flushed.
const TIOCPKT_FLUSHREAD: u8 = 1;

/// The longest a test waits for the terminal to say something.
const QUIET_LIMIT_MS: i32 = 30_000;

/// What one read of a [`Pty`] gave.
pub enum Packet {
    Output(String),
    InputFlushed,
    Other,
    Closed,
}

impl Pty {
    pub fn open() -> Pty {
        use std::os::fd::FromRawFd as _;
        let (mut master, mut slave) = (0, 0);
        // SAFETY: openpty fills both descriptors when it returns 0; TIOCPKT takes
        // a pointer to an int.
        unsafe {
            assert_eq!(
                libc::openpty(
                    &mut master,
                    &mut slave,
                    std::ptr::null_mut(),
                    std::ptr::null(),
                    std::ptr::null()
                ),
                0
            );
            let on: libc::c_int = 1;
            assert_eq!(libc::ioctl(master, libc::TIOCPKT, &on), 0);
            // No other process the tests start may inherit either side.
            for fd in [master, slave] {
                assert_eq!(libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC), 0);
            }
            Pty {
                master: std::fs::File::from_raw_fd(master),
                slave: std::os::fd::OwnedFd::from_raw_fd(slave),
            }
        }
    }

    /// Sets the terminal's size, as a terminal emulator does.
    pub fn set_size(&self, columns: u16, rows: u16) {
        use std::os::fd::AsRawFd as _;
        let size = libc::winsize {
            ws_row: rows,
            ws_col: columns,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads a winsize.
        assert_eq!(
            unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &size) },
            0
        );
    }

    /// Starts `command` with stdin, stdout and stderr on this terminal, and keeps
    /// no copy of its side here: the child's exit ends the reads.
    pub fn spawn(&mut self, mut command: std::process::Command) -> std::process::Child {
        let child = command
            .stdin(self.stdio())
            .stdout(self.stdio())
            .stderr(self.stdio())
            .spawn()
            .unwrap();
        // The command, and its copies of the terminal's side, end here.
        drop(command);
        self.release();
        child
    }

    /// Closes this process's copy of the terminal's side, so that the child's
    /// exit closes it (and reads end).
    pub fn release(&mut self) {
        drop(std::mem::replace(
            &mut self.slave,
            std::fs::File::open("/dev/null").unwrap().into(),
        ));
    }

    /// Everything the child writes until it exits.
    pub fn read_all(&mut self) -> String {
        let mut seen = String::new();
        loop {
            match self.read() {
                Packet::Output(text) => seen.push_str(&text),
                Packet::Closed => return seen,
                _ => {}
            }
        }
    }

    pub fn stdio(&self) -> std::process::Stdio {
        self.slave.try_clone().unwrap().into()
    }

    /// The next packet; a terminal silent for [`QUIET_LIMIT_MS`] fails the test
    /// (a child that hangs, or waits for input the test does not give) instead
    /// of hanging it.
    pub fn read(&mut self) -> Packet {
        use std::io::Read as _;
        use std::os::fd::AsRawFd as _;
        let mut poll = libc::pollfd {
            fd: self.master.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        loop {
            // SAFETY: poll reads and fills one pollfd.
            match unsafe { libc::poll(&mut poll, 1, QUIET_LIMIT_MS) } {
                0 => panic!("the terminal was silent for {} s", QUIET_LIMIT_MS / 1000),
                n if n > 0 => break,
                _ if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => {}
                _ => panic!("poll: {}", std::io::Error::last_os_error()),
            }
        }
        let mut buf = [0u8; 1024];
        match self.master.read(&mut buf) {
            // EIO once the last holder of the terminal's side has closed it.
            Ok(0) | Err(_) => Packet::Closed,
            Ok(n) if buf[0] == TIOCPKT_DATA => {
                Packet::Output(String::from_utf8_lossy(&buf[1..n]).into_owned())
            }
            Ok(_) if buf[0] & TIOCPKT_FLUSHREAD != 0 => Packet::InputFlushed,
            Ok(_) => Packet::Other,
        }
    }

    pub fn type_in(&mut self, text: &str) {
        use std::io::Write as _;
        self.master.write_all(text.as_bytes()).unwrap();
    }
}
