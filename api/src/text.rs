//! The one rule for text a person typed, used by every string field on both sides of the
//! wire: trimmed, within a documented length (counted in characters, not bytes), no control
//! characters (line breaks and tabs only where a field is multi-line), no bidirectional
//! overrides (they make "gpj.exe" read as "exe.jpg"), and not made of invisible characters
//! only.

/// Longest name of a person, workshop or device, in characters.
pub const MAX_NAME_CHARS: usize = 80;
/// Longest short label (make, model, plate, part name, reason), in characters.
pub const MAX_LABEL_CHARS: usize = 120;
/// Longest address or place note (one line).
pub const MAX_PLACE_CHARS: usize = 200;

/// Whether a field may hold several lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    One,
    Many,
}

/// Characters that reorder the text around them (Unicode bidi embeddings, overrides and
/// isolates). Marks (U+200E/U+200F) stay allowed: Arabic and Hebrew text needs them.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that draw nothing.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}'
        )
}

/// Checks `value` for a field called `field` (used in the sentence) that may be empty or not
/// (`required`), at most `max` characters after trimming. Returns the trimmed text, or the
/// sentence to show next to the field.
pub fn clean(
    field: &str,
    value: &str,
    max: usize,
    lines: Lines,
    required: bool,
) -> Result<String, String> {
    let v = value.trim();
    if let Some(c) = v.chars().find(|&c| {
        is_bidi_control(c)
            || (c.is_control() && !(lines == Lines::Many && matches!(c, '\n' | '\t' | '\r')))
    }) {
        return Err(format!(
            "The {field} contains an invisible control character (U+{:04X}); remove it and try again.",
            c as u32
        ));
    }
    if v.chars().all(is_invisible) {
        if v.is_empty() && !required {
            return Ok(String::new());
        }
        if required || !v.is_empty() {
            return Err(format!(
                "The {field} is empty; type at least one visible character."
            ));
        }
    }
    let n = v.chars().count();
    if n > max {
        return Err(format!(
            "The {field} is {n} characters long; it can have at most {max}."
        ));
    }
    Ok(v.to_string())
}

/// At most `max` characters of `s`, with "…" when it was cut (a note quoted in a list).
pub fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortens_by_characters() {
        assert_eq!(shorten("brakes", 6), "brakes");
        assert_eq!(shorten("brakes squeal", 6), "brakes…");
        assert_eq!(shorten("机油滤清器", 2), "机油…");
    }

    #[test]
    fn trims_and_counts_characters_not_bytes() {
        assert_eq!(
            clean("name", "  李师傅 ", 3, Lines::One, true).unwrap(),
            "李师傅"
        );
        let e = clean("name", "李师傅傅", 3, Lines::One, true).unwrap_err();
        assert!(e.contains("4 characters") && e.contains("at most 3"), "{e}");
    }

    #[test]
    fn refuses_controls_bidi_overrides_and_invisible_only_text() {
        assert!(clean("name", "a\u{0}b", 80, Lines::One, true).is_err());
        assert!(clean("name", "a\nb", 80, Lines::One, true).is_err());
        assert_eq!(
            clean("note", "a\nb", 80, Lines::Many, true).unwrap(),
            "a\nb"
        );
        assert!(
            clean("note", "evil\u{202E}gpj.exe", 80, Lines::Many, true)
                .unwrap_err()
                .contains("U+202E")
        );
        assert!(
            clean("name", "\u{200B}\u{200B}", 80, Lines::One, true)
                .unwrap_err()
                .contains("empty")
        );
        assert!(clean("note", "\u{200B}", 80, Lines::Many, false).is_err());
        assert_eq!(clean("note", "  ", 80, Lines::Many, false).unwrap(), "");
        assert!(clean("name", "", 80, Lines::One, true).is_err());
        // Right-to-left marks are ordinary text.
        assert!(clean("name", "\u{200F}שלום", 80, Lines::One, true).is_ok());
    }
}
