//! The terminal's settings, saved before a prompt and put back should the run
//! end while the prompt holds the terminal in raw mode (a SIGINT from outside:
//! `kill -INT`, a supervisor), so that the user's shell is not left without echo.

/// The settings of standard input's terminal, as they were.
#[cfg(unix)]
pub struct Saved(libc::termios);

/// Standard input's terminal settings, when it is a terminal.
#[cfg(unix)]
pub fn save() -> Option<Saved> {
    let mut settings = std::mem::MaybeUninit::<libc::termios>::uninit();
    // SAFETY: isatty and tcgetattr only read the descriptor's state;
    // tcgetattr fills `settings` entirely when it returns 0.
    unsafe {
        if libc::isatty(libc::STDIN_FILENO) != 1
            || libc::tcgetattr(libc::STDIN_FILENO, settings.as_mut_ptr()) != 0
        {
            return None;
        }
        Some(Saved(settings.assume_init()))
    }
}

/// Puts the saved settings back.
#[cfg(unix)]
pub fn restore(saved: &Saved) {
    // SAFETY: `saved` holds settings tcgetattr returned for this descriptor.
    unsafe {
        libc::tcsetattr(libc::STDIN_FILENO, libc::TCSADRAIN, &saved.0);
    }
}
