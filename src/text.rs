//! Text from outside (a registry, a token server, a credential helper, a config
//! file) made safe for a terminal, by the one function that does it.

/// `text` with every control character (escape sequences, carriage returns,
/// newlines, bells...) shown escaped (`\u{1b}`, `\r`, `\n`), the rest as it is.
/// Used wherever such text is formatted for display; JSON output encodes strings
/// itself.
pub fn escape(text: &str) -> String {
    if !text.chars().any(hidden) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hidden(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Control characters, and the invisible ones that change how text reads:
/// bidirectional overrides and isolates, zero-width characters, the BOM.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}'
        )
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(escape("plain text: ok"), "plain text: ok");
        assert_eq!(escape("a\u{1b}[31mred"), "a\\u{1b}[31mred");
        assert_eq!(escape("line\r\nfake"), "line\\r\\nfake");
        assert_eq!(escape("bell\u{7}\u{9b}csi"), "bell\\u{7}\\u{9b}csi");
        assert_eq!(escape("ünïcödé ✓"), "ünïcödé ✓");
        assert_eq!(escape("v1\u{202e}gpj.exe"), "v1\\u{202e}gpj.exe");
    }
}
