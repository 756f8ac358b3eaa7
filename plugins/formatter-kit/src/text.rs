//! The text rules every formatter applies, written down once.
//!
//! Resource data comes from AWS and from whoever tagged the resources, so
//! any value may hold control characters, run to tens of thousands of
//! characters, or start like a spreadsheet formula. The rules, as the
//! README states them:
//!
//! * **Control characters** ([`clean`]): a C0 control other than tab, line
//!   feed and carriage return becomes its visible Control Pictures sign
//!   (U+0000..U+001F become U+2400..U+241F, so ESC shows as `␛` and a
//!   vertical tab as `␋`); DEL becomes `␡` (U+2421); C1 controls
//!   (U+0080..U+009F) and Unicode noncharacters (U+FDD0..U+FDEF and every
//!   code point ending in FFFE or FFFF, such as U+FFFF) become U+FFFD.
//!   Tab, line feed and carriage return are kept, for the format to render.
//! * **Line ends** ([`one_line_end`]): in cells and paragraphs, CR LF and a
//!   lone CR become LF.
//! * **Length** ([`cut`]): a value longer than a format allows is cut, and
//!   ends with a visible marker saying so; the JSON document always holds
//!   the whole value.
//! * **Formula-like text** ([`neutralise`]): in CSV, a value starting with
//!   `=`, `+`, `-`, `@`, tab or CR gets a leading apostrophe, so that a
//!   spreadsheet opening the file shows text instead of running it.

use std::borrow::Cow;

/// Whether `c` is changed by [`clean`].
fn needs_cleaning(c: char) -> bool {
    let cp = c as u32;
    (cp < 0x20 && !matches!(c, '\t' | '\n' | '\r'))
        || (0x7f..=0x9f).contains(&cp)
        || (0xfdd0..=0xfdef).contains(&cp)
        || cp & 0xfffe == 0xfffe
}

/// The replacement [`clean`] puts for `c`.
fn replacement(c: char) -> char {
    let cp = c as u32;
    match cp {
        0x00..=0x1f => char::from_u32(0x2400 + cp).unwrap_or('\u{fffd}'),
        0x7f => '\u{2421}',
        _ => '\u{fffd}',
    }
}

/// Applies the control-character rule. Borrows when nothing changes.
pub fn clean(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_cleaning) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.chars().map(|c| if needs_cleaning(c) { replacement(c) } else { c }).collect())
}

/// Turns CR LF and lone CR into LF. Borrows when there is no CR.
pub fn one_line_end(text: &str) -> Cow<'_, str> {
    if !text.contains('\r') {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
}

/// [`clean`] then [`one_line_end`]: the text of a cell or paragraph.
pub fn cell_text(text: &str) -> Cow<'_, str> {
    match clean(text) {
        Cow::Borrowed(b) => one_line_end(b),
        Cow::Owned(o) => Cow::Owned(one_line_end(&o).into_owned()),
    }
}

/// The length of `text` in UTF-16 code units, the unit of Excel's limits.
pub fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// The marker that ends a cut value.
fn marker(shown: usize, total: usize) -> String {
    format!(
        "… [cut: {shown} of {total} characters shown; \
         the JSON document holds the whole value]"
    )
}

/// Cuts `text` so that it fits in `limit` UTF-16 code units, the marker
/// included. Text within the limit is returned as it is.
///
/// The marker reads `… [cut: N of M characters shown; the JSON document
/// holds the whole value]`, counting characters (code points).
pub fn cut(text: &str, limit: usize) -> Cow<'_, str> {
    cut_of(text, limit, text.chars().count())
}

/// [`cut`], with the marker giving `total` as the value's length: the
/// length of the value as it was before other rules (line ends) changed
/// `text`.
pub fn cut_of(text: &str, limit: usize, total: usize) -> Cow<'_, str> {
    if utf16_len(text) <= limit {
        return Cow::Borrowed(text);
    }
    // The marker's length depends on the count it shows; the count never
    // has more digits than the total, so reserve for that.
    let room = limit.saturating_sub(utf16_len(&marker(total, total)));
    let mut used = 0;
    let mut end = 0;
    let mut shown = 0;
    for (i, c) in text.char_indices() {
        if used + c.len_utf16() > room {
            break;
        }
        used += c.len_utf16();
        end = i + c.len_utf8();
        shown += 1;
    }
    let mut out = String::with_capacity(end + 100);
    out.push_str(&text[..end]);
    out.push_str(&marker(shown, total));
    Cow::Owned(out)
}

/// Cuts `text` to at most `max` characters for a one-line summary, ending
/// with `…` when cut.
pub fn ellipsis(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max.saturating_sub(1)) {
        Some((i, _)) if text[i..].chars().nth(1).is_some() => {
            Cow::Owned(format!("{}…", &text[..i]))
        }
        _ => Cow::Borrowed(text),
    }
}

/// The characters that make a spreadsheet treat a value as a formula or
/// command when it comes first.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Applies the CSV formula rule: a value starting with `=`, `+`, `-`, `@`,
/// tab or CR gets a leading `'`.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Escapes `&`, `<`, `>`, `"` and `'` for XML text and attributes. Run
/// [`clean`] first: XML 1.0 cannot hold most control characters at all.
pub fn xml_escape(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_visible_or_replacement_signs() {
        assert_eq!(clean("a\u{b}b"), "a\u{240b}b");
        assert_eq!(clean("\u{1b}[31mred\u{1b}[0m"), "\u{241b}[31mred\u{241b}[0m");
        assert_eq!(clean("x\u{ffff}y\u{fffe}"), "x\u{fffd}y\u{fffd}");
        assert_eq!(clean("\u{7f}\u{85}\u{fdd0}\u{1fffe}"), "\u{2421}\u{fffd}\u{fffd}\u{fffd}");
        assert_eq!(clean("\0"), "\u{2400}");
        assert!(matches!(clean("tab\tlf\ncr\r名前 🚀"), Cow::Borrowed(_)));
    }

    #[test]
    fn line_ends_become_lf() {
        assert_eq!(one_line_end("a\r\nb\rc\nd"), "a\nb\nc\nd");
        assert_eq!(cell_text("a\r\n\u{b}"), "a\n\u{240b}");
    }

    #[test]
    fn long_text_is_cut_within_the_limit_with_a_marker() {
        let long = "é".repeat(40_000);
        let out = cut(&long, 32_767);
        assert!(utf16_len(&out) <= 32_767);
        assert!(out.starts_with("éé"));
        assert!(out.ends_with("the JSON document holds the whole value]"));
        assert!(out.contains("of 40000 characters shown"));
        assert_eq!(cut("short", 10), "short");
        // Astral characters count twice and are never split.
        let emoji = "🚀".repeat(20_000);
        let out = cut(&emoji, 32_767);
        assert!(utf16_len(&out) <= 32_767);
        assert_eq!(
            cut("abc", 0),
            "… [cut: 0 of 3 characters shown; the JSON document holds the whole value]"
        );
    }

    #[test]
    fn ellipsis_cuts_at_characters() {
        assert_eq!(ellipsis("abcdef", 4), "abc…");
        assert_eq!(ellipsis("abcd", 4), "abcd");
        assert_eq!(ellipsis("名前名前名", 3), "名前…");
    }

    #[test]
    fn formula_like_values_get_an_apostrophe() {
        for v in ["=1+1", "+cmd", "-1+1", "@SUM(A1)", "\tx", "\rx", "===="] {
            assert_eq!(neutralise(v), format!("'{v}"));
        }
        assert_eq!(neutralise("plain = text"), "plain = text");
        assert_eq!(neutralise(""), "");
    }

    #[test]
    fn xml_metacharacters_are_escaped() {
        assert_eq!(xml_escape(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;");
    }
}
