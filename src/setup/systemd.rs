//! Writing values into systemd unit files: `%` starts a specifier there, and
//! a value with spaces or quotes must be quoted, C-style.

/// `value` as one word of an `ExecStart=` line or one `Environment=`
/// assignment: `%` doubled, quoted (with `\` and `"` escaped) when it holds
/// anything but plain characters.
pub fn word(value: &str) -> String {
    let value = value.replace('%', "%%");
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-:=,@+%".contains(c));
    if plain {
        value
    } else {
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
        format!("\"{escaped}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::word;

    #[test]
    fn specifiers_and_spaces_are_escaped() {
        assert_eq!(word("/srv/registry/config.yml"), "/srv/registry/config.yml");
        assert_eq!(word("/srv/my registry"), "\"/srv/my registry\"");
        assert_eq!(
            word("HTTP_PROXY=http://u:p%40ss@proxy:3128"),
            "HTTP_PROXY=http://u:p%%40ss@proxy:3128"
        );
        assert_eq!(word("a\"b"), "\"a\\\"b\"");
    }
}
