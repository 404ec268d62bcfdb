//! Text from outside (a registry, a token server, a credential helper, a config
//! file) made safe for a terminal, by the one function that does it.

use unicode_general_category::{get_general_category, GeneralCategory};

/// `text` with every control and format character, and every line or paragraph
/// separator, shown escaped (`\u{1b}`, `\r`, `\n`, `\u{2028}`), the rest as it is.
/// Escaped, text from outside stays on the line regctl put it on, for a terminal
/// and for any reader that splits lines (Python's `str.splitlines()` also breaks
/// at `\v`, `\f`, `\x1c`-`\x1e`, U+0085, U+2028 and U+2029), and hides nothing.
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

/// The characters of Unicode's general categories Cc (controls: C0, DEL, C1,
/// U+0085 among them), Cf (format: the soft hyphen, bidirectional marks,
/// overrides and isolates, zero-width characters, the word joiner and invisible
/// operators, the BOM, tags), Zl (U+2028) and Zp (U+2029); and the whole tag
/// block, whose unassigned code points (U+E0000, U+E0002-U+E001F) a newer Unicode
/// may make format characters too.
pub fn hidden(c: char) -> bool {
    matches!(
        get_general_category(c),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    ) || ('\u{e0000}'..='\u{e007f}').contains(&c)
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

    #[test]
    fn line_separators_and_invisible_characters_are_shown() {
        // Every line break Python's str.splitlines() knows, besides \n and \r.
        assert_eq!(
            escape("a\u{b}b\u{c}c\u{1c}d\u{1d}e\u{1e}f\u{85}g\u{2028}h\u{2029}i"),
            "a\\u{b}b\\u{c}c\\u{1c}d\\u{1d}e\\u{1e}f\\u{85}g\\u{2028}h\\u{2029}i"
        );
        // Format characters (Cf) a reader cannot see.
        for c in [
            '\u{ad}',
            '\u{600}',
            '\u{61c}',
            '\u{6dd}',
            '\u{180e}',
            '\u{2060}',
            '\u{2061}',
            '\u{2064}',
            '\u{206a}',
            '\u{fff9}',
            '\u{110bd}',
            '\u{1d173}',
            '\u{e0001}',
            '\u{e0020}',
            '\u{e007f}',
        ] {
            assert_eq!(
                escape(&format!("x{c}y")),
                format!("x\\u{{{:x}}}y", c as u32),
                "{c:?}"
            );
        }
        // The tag block's unassigned code points too.
        assert_eq!(escape("\u{e0000}\u{e0002}"), "\\u{e0000}\\u{e0002}");
        // Visible text is left alone: letters, combining marks, no-break
        // spaces, emoji and their modifiers, private use.
        for text in ["café", "日本語", "a\u{a0}b", "e\u{301}", "👍🏽", "\u{e000}"] {
            assert_eq!(escape(text), text);
        }
    }
}
