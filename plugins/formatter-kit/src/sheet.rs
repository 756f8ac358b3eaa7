//! Worksheet names Excel accepts, made from data.
//!
//! Sheet names come from service and resource-type names, which a
//! collector may spell any way it likes. The rule, applied in order:
//!
//! 1. each of `[ ] : * ? / \` and every control character becomes `_`;
//! 2. spaces and apostrophes are trimmed from both ends (Excel refuses an
//!    apostrophe at either end); an empty name becomes `Sheet`;
//! 3. `History`, which Excel reserves, becomes `History_`;
//! 4. the name is cut to 31 UTF-16 code units (and trimmed again);
//! 5. a name already taken, ignoring case, gets ` (2)`, ` (3)`, ... with
//!    the stem cut so that the whole stays within 31.
//!
//! Names are handed out in the order asked, so the first claimant keeps
//! the plain name.

use std::collections::HashSet;

use crate::text::utf16_len;

/// The longest sheet name Excel accepts, in UTF-16 code units.
pub const MAX_SHEET_NAME: usize = 31;

/// Hands out unique, valid sheet names.
#[derive(Default)]
pub struct SheetNamer {
    taken: HashSet<String>,
}

/// Cuts `text` to at most `max` UTF-16 code units, on a character.
fn cut_utf16(text: &str, max: usize) -> &str {
    let mut used = 0;
    for (i, c) in text.char_indices() {
        if used + c.len_utf16() > max {
            return &text[..i];
        }
        used += c.len_utf16();
    }
    text
}

/// Trims what may not start or end a name.
fn trim_ends(text: &str) -> &str {
    text.trim_matches(|c: char| c == '\'' || c.is_whitespace())
}

/// Steps 1 to 4 of the rule: a valid name, not yet made unique.
pub fn valid_name(wanted: &str) -> String {
    let replaced: String = wanted
        .chars()
        .map(|c| {
            if matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let mut name = trim_ends(&replaced).to_string();
    if name.is_empty() {
        name = "Sheet".to_string();
    }
    if name.eq_ignore_ascii_case("history") {
        name.push('_');
    }
    let name = trim_ends(cut_utf16(&name, MAX_SHEET_NAME));
    if name.is_empty() { "Sheet".to_string() } else { name.to_string() }
}

impl SheetNamer {
    /// A namer with nothing taken.
    pub fn new() -> SheetNamer {
        SheetNamer::default()
    }

    /// A unique valid name for `wanted`, now taken.
    pub fn name(&mut self, wanted: &str) -> String {
        let base = valid_name(wanted);
        let mut candidate = base.clone();
        let mut n = 2u32;
        while self.taken.contains(&candidate.to_lowercase()) {
            let suffix = format!(" ({n})");
            let room = MAX_SHEET_NAME.saturating_sub(utf16_len(&suffix));
            let stem = trim_ends(cut_utf16(&base, room));
            let stem = if stem.is_empty() { "Sheet" } else { stem };
            candidate = format!("{stem}{suffix}");
            n += 1;
        }
        self.taken.insert(candidate.to_lowercase());
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str) {
        assert!(utf16_len(name) <= MAX_SHEET_NAME, "{name:?} is too long");
        assert!(!name.contains(['[', ']', ':', '*', '?', '/', '\\']), "{name:?}");
        assert!(!name.starts_with('\'') && !name.ends_with('\''), "{name:?}");
        assert!(!name.is_empty());
    }

    #[test]
    fn awkward_names_become_valid_and_unique_ignoring_case() {
        let mut namer = SheetNamer::new();
        for reserved in ["Summary", "Coverage", "Compliance"] {
            assert_eq!(namer.name(reserved), reserved);
        }
        let alias = "Platform Engineering Shared Services 1";
        assert_eq!(alias.len(), 38);
        let names: Vec<String> = [
            alias,
            alias,
            "Dev/Test [legacy]",
            "ops'",
            "'ops",
            "Prod",
            "prod",
            "PROD",
            "summary",
            "history",
            "",
            "''",
            "a\u{1b}b",
            "名前🚀".repeat(10).as_str(),
        ]
        .iter()
        .map(|w| namer.name(w))
        .collect();
        for n in &names {
            check(n);
        }
        let lower: HashSet<String> = names.iter().map(|n| n.to_lowercase()).collect();
        assert_eq!(lower.len(), names.len(), "{names:?}");
        assert_eq!(names[0], "Platform Engineering Shared Ser");
        assert_eq!(names[1], "Platform Engineering Shared (2)");
        assert_eq!(names[2], "Dev_Test _legacy_");
        assert_eq!(names[3], "ops");
        assert_eq!(names[4], "ops (2)");
        assert_eq!(names[5], "Prod");
        assert_eq!(names[6], "prod (2)");
        assert_eq!(names[7], "PROD (3)");
        assert_eq!(names[8], "summary (2)");
        assert_eq!(names[9], "history_");
        assert_eq!(names[10], "Sheet");
        assert_eq!(names[11], "Sheet (2)");
        assert_eq!(names[12], "a_b");
    }
}
