//! One word of what a set-up writes: of a systemd unit line (`%` starts a
//! specifier there; a value with spaces or quotes is quoted C-style), and of a
//! POSIX shell command (single-quoted). A plain word goes as it is in both.

/// True when `text` needs no quoting: letters, digits and `/._-:=,@+`, plus
/// the characters of `also`.
fn plain(text: &str, also: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-:=,@+".contains(c) || also.contains(c))
}

/// `value` as one word of an `ExecStart=` line or one `Environment=`
/// assignment: `%` doubled, quoted (with `\` and `"` escaped) when it holds
/// anything but plain characters.
pub fn unit(value: &str) -> String {
    let value = value.replace('%', "%%");
    if plain(&value, "%") {
        value
    } else {
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
        format!("\"{escaped}\"")
    }
}

/// `text` as one word for a POSIX shell: as it is when plain, else in single quotes.
pub fn shell(text: &str) -> String {
    if plain(text, "") {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::{shell, unit};

    #[test]
    fn specifiers_and_spaces_are_escaped() {
        assert_eq!(unit("/srv/registry/config.yml"), "/srv/registry/config.yml");
        assert_eq!(unit("/srv/my registry"), "\"/srv/my registry\"");
        assert_eq!(
            unit("HTTP_PROXY=http://u:p%40ss@proxy:3128"),
            "HTTP_PROXY=http://u:p%%40ss@proxy:3128"
        );
        assert_eq!(unit("a\"b"), "\"a\\\"b\"");
    }

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell("/srv/a"), "/srv/a");
        assert_eq!(shell("/srv/it's"), "'/srv/it'\\''s'");
    }
}
