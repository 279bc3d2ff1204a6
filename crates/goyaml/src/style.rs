//! Which style a string scalar is written in: go-yaml v2's encoder asks for one
//! ([`requested_style`]), libyaml's emitter then overrides it when the text does not allow
//! it ([`analyze`], [`select_style`]). Block context only: neither Helm nor kustomize
//! prints flow collections other than `[]` and `{}`.

/// How a string scalar is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    /// `'...'`
    Single,
    /// `"..."`, with escapes.
    Double,
    /// `|` block.
    Literal,
}

/// libyaml's line breaks.
pub fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// libyaml's `IS_PRINTABLE`. It looks at UTF-8 lead bytes, so 4-byte characters (emoji) are
/// not printable and get escaped in double quotes.
pub fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0A
        || (0x20..=0x7E).contains(&u)
        || (0xA0..=0xD7FF).contains(&u)
        || ((0xE000..=0xFFFD).contains(&u) && u != 0xFEFF)
}

/// The style go-yaml v2's encoder requests for a string (`encoder.stringv`): a literal
/// block for multi-line text, plain when the text reads back as the same string, else
/// double quotes.
pub fn requested_style(s: &str) -> Style {
    if s.as_bytes().contains(&b'\n') {
        Style::Literal
    } else if crate::can_use_plain(s) {
        Style::Plain
    } else {
        Style::Double
    }
}

/// What libyaml's `yaml_emitter_analyze_scalar` finds out about a scalar, the parts that
/// matter in block context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Analysis {
    /// Contains a line break.
    pub multiline: bool,
    pub block_plain_allowed: bool,
    pub single_quoted_allowed: bool,
    /// A literal block may hold it.
    pub block_allowed: bool,
}

/// libyaml's `yaml_emitter_analyze_scalar`.
pub fn analyze(value: &str) -> Analysis {
    if value.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    if value.is_ascii() || value.chars().all(|c| c.is_ascii() || ordinary(c)) {
        analyze_bytes(value.as_bytes())
    } else {
        analyze_chars(value, value.chars())
    }
}

/// [`analyze`] of non-empty text whose characters outside ASCII are all [`ordinary`] (nearly
/// all text), on its bytes. Every rule looks at one character and at most its neighbour, and
/// an ordinary character's bytes (0x80 and up) take part in none, like a letter's; so the walk
/// is over pairs of bytes, without branches (the compiler vectorises it).
fn analyze_bytes(b: &[u8]) -> Analysis {
    let n = b.len();
    let is_break = |c: u8| (c == b'\n') | (c == b'\r');
    let is_ws = |c: u8| (c == b' ') | (c == b'\t') | is_break(c);
    // Not printable: control characters other than `\n` (tab and `\r` included), DEL.
    let is_special = |c: u8| ((c < 0x20) & (c != b'\n')) | (c == 0x7F);
    let (first, last) = (b[0], b[n - 1]);
    let (mut break_space, mut space_break, mut indicator) = (false, false, false);
    let (mut line_breaks, mut special) = (is_break(first), is_special(first));
    for (&p, &c) in b.iter().zip(&b[1..]) {
        break_space |= (c == b' ') & is_break(p);
        space_break |= (p == b' ') & is_break(c);
        // `:` before white space, `#` after it.
        indicator |= ((p == b':') & is_ws(c)) | ((c == b'#') & is_ws(p));
        line_breaks |= is_break(c);
        special |= is_special(c);
    }
    // At the start, more indicators; `:` at the end is followed by "white space".
    let first_indicator = match first {
        b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
        | b'"' | b'%' | b'@' | b'`' => true,
        b'?' | b'-' => n == 1 || is_ws(b[1]),
        _ => false,
    };
    let block_indicators = indicator
        || first_indicator
        || last == b':'
        || b.starts_with(b"---")
        || b.starts_with(b"...");
    let leading = first == b' ' || is_break(first);
    let trailing_space = last == b' ';
    let trailing = trailing_space || is_break(last);
    Analysis {
        multiline: line_breaks,
        block_plain_allowed: !(leading
            || trailing
            || break_space
            || space_break
            || special
            || line_breaks
            || block_indicators),
        single_quoted_allowed: !(break_space || space_break || special),
        block_allowed: !(trailing_space || space_break || special),
    }
}

/// Whether a character outside ASCII is one no rule of [`analyze`] singles out: printable and
/// not a line break (no such character is white space or an indicator).
fn ordinary(c: char) -> bool {
    is_printable(c) && !is_break(c)
}

/// [`analyze`] of the non-empty `value`, whose characters `chars` yields.
fn analyze_chars(value: &str, mut chars: impl Iterator<Item = char>) -> Analysis {
    let mut block_indicators = value.starts_with("---") || value.starts_with("...");
    let mut line_breaks = false;
    let mut special = false;
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    let mut preceded_by_ws = true;
    let mut first = true;
    let mut cur = chars.next();
    while let Some(c) = cur {
        let next = chars.next();
        let last = next.is_none();
        let followed_by_ws = next.is_none_or(|n| n == ' ' || n == '\t' || is_break(n));
        if first {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_ws => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_ws => block_indicators = true,
                '#' if preceded_by_ws => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            leading_space |= first;
            trailing_space |= last;
            break_space |= prev_break;
            prev_space = true;
            prev_break = false;
        } else if is_break(c) {
            line_breaks = true;
            leading_break |= first;
            trailing_break |= last;
            space_break |= prev_space;
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_by_ws = c == ' ' || c == '\t' || is_break(c);
        first = false;
        cur = next;
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// The bytes of [`scalar_style`]'s word-like text: ASCII letters, digits and `-._/:`.
const WORD: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'/' | b':');
        c += 1;
    }
    t
};

/// The style a string is written in: [`select_style`] of [`requested_style`], with a quick
/// answer for the common word-like text (`name`, `apps/v1`, `my-app.v2`) that needs neither
/// the full analysis nor, unless it starts like a YAML 1.1 word, resolution.
pub fn scalar_style(value: &str, simple_key: bool) -> Style {
    let b = value.as_bytes();
    // A letter first (no indicator, not `---`/`...`, never a number, timestamp or base-60
    // float), then letters, digits, `-._/`, or `:` not at the end (`:` is an indicator only
    // before white space or the end): no space, break or unprintable character, so libyaml
    // allows it plain, and go-yaml asks for plain unless it reads as a bool or null.
    if b.first().is_some_and(u8::is_ascii_alphabetic)
        && b.last() != Some(&b':')
        && b.iter().all(|&c| WORD[usize::from(c)])
    {
        return if crate::resolve_plain(value) == crate::Resolved::Str {
            Style::Plain
        } else {
            Style::Double
        };
    }
    select_style(value, requested_style(value), simple_key)
}

/// libyaml's `yaml_emitter_select_scalar_style` in block context: the `requested` style
/// unless `value` does not allow it. `simple_key` is a mapping key written as `key:` (not
/// as `? key`): keys stay on one line and are never empty plain scalars.
pub fn select_style(value: &str, requested: Style, simple_key: bool) -> Style {
    let a = analyze(value);
    let mut style = requested;
    if simple_key && a.multiline {
        style = Style::Double;
    }
    if style == Style::Plain && (!a.block_plain_allowed || (value.is_empty() && simple_key)) {
        style = Style::Single;
    }
    if style == Style::Single && !a.single_quoted_allowed {
        style = Style::Double;
    }
    if style == Style::Literal && (!a.block_allowed || simple_key) {
        style = Style::Double;
    }
    style
}

/// Whether libyaml escapes `c` inside double quotes.
pub fn needs_escape(c: char) -> bool {
    !is_printable(c) || c == '\u{FEFF}' || is_break(c) || c == '"' || c == '\\'
}

/// Appends libyaml's double-quoted escape for `c` (`\n`, `\x1F`, `\u2029`, `\U0001F600`,
/// ...) and returns how many characters it wrote (all ASCII), for column tracking.
pub fn push_escape(out: &mut String, c: char) -> usize {
    let short = match c {
        '\0' => '0',
        '\x07' => 'a',
        '\x08' => 'b',
        '\t' => 't',
        '\n' => 'n',
        '\x0b' => 'v',
        '\x0c' => 'f',
        '\r' => 'r',
        '\x1b' => 'e',
        '"' => '"',
        '\\' => '\\',
        '\u{85}' => 'N',
        '\u{A0}' => '_',
        '\u{2028}' => 'L',
        '\u{2029}' => 'P',
        c => {
            let v = c as u32;
            let (prefix, width) = if v <= 0xFF {
                ('x', 2)
            } else if v <= 0xFFFF {
                ('u', 4)
            } else {
                ('U', 8)
            };
            out.push('\\');
            out.push(prefix);
            for k in (0..width).rev() {
                let d = (v >> (k * 4)) & 0xF;
                out.push(char::from_digit(d, 16).unwrap_or('0').to_ascii_uppercase());
            }
            return 2 + width as usize;
        }
    };
    out.push('\\');
    out.push(short);
    2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn style(s: &str, key: bool) -> Style {
        select_style(s, requested_style(s), key)
    }

    #[test]
    fn strings_that_would_change_type_are_double_quoted() {
        for s in [
            "8080",
            "0755",
            "yes",
            "y",
            "1_000",
            "1:20",
            "2020-01-01",
            "0o17",
            "",
        ] {
            assert_eq!(style(s, false), Style::Double, "{s:?}");
        }
    }

    #[test]
    fn indicators_and_edge_spaces_are_single_quoted() {
        for s in [
            "a #b",
            "- dash",
            "'s",
            "  leading",
            "trailing ",
            "key: v",
            "*x",
            "---x",
        ] {
            assert_eq!(style(s, false), Style::Single, "{s:?}");
        }
        for s in [
            "it's",
            "?q",
            "a-b",
            "a:b",
            "é unicode",
            "${PORT}",
            "a#b",
            "-x",
        ] {
            assert_eq!(style(s, false), Style::Plain, "{s:?}");
        }
    }

    #[test]
    fn unprintable_text_and_keys_fall_back_to_double_quotes() {
        assert_eq!(style("tab\there", false), Style::Double);
        assert_eq!(style("emoji 😀", false), Style::Double);
        assert_eq!(style("a\nb", false), Style::Literal);
        assert_eq!(style("a\nb", true), Style::Double);
        assert_eq!(style("trailing \nspace", false), Style::Double);
        // An empty key can not be plain; an empty value is quoted because it reads as null.
        assert_eq!(select_style("", Style::Plain, true), Style::Single);
        assert_eq!(select_style("", Style::Plain, false), Style::Plain);
    }

    #[test]
    fn analysis_of_line_breaks() {
        let a = analyze(" x\ny");
        assert!(a.multiline && !a.block_plain_allowed && a.block_allowed);
        let a = analyze("x \ny");
        assert!(!a.single_quoted_allowed && !a.block_allowed);
        let a = analyze("x\n y");
        assert!(!a.single_quoted_allowed && a.block_allowed);
        assert!(!analyze("").block_allowed);
    }

    #[test]
    fn escapes_as_libyaml() {
        let mut out = String::new();
        let mut n = 0;
        for c in ['\n', '"', '\u{1}', '\u{85}', '\u{FEFF}', '😀', '\t'] {
            assert!(needs_escape(c), "{c:?}");
            n += push_escape(&mut out, c);
        }
        assert_eq!(out, "\\n\\\"\\x01\\N\\uFEFF\\U0001F600\\t");
        assert_eq!(n, out.len());
        assert!(!needs_escape('é') && !needs_escape(' '));
    }
    /// libyaml's analysis as first written here (one `char` vector per call), to check the
    /// allocation-free walk against.
    fn analyze_reference(value: &str) -> Analysis {
        if value.is_empty() {
            return analyze("");
        }
        let mut block_indicators = value.starts_with("---") || value.starts_with("...");
        let (mut line_breaks, mut special) = (false, false);
        let (mut leading_space, mut leading_break) = (false, false);
        let (mut trailing_space, mut trailing_break) = (false, false);
        let (mut break_space, mut space_break) = (false, false);
        let (mut prev_space, mut prev_break) = (false, false);
        let mut preceded_by_ws = true;
        let chars: Vec<char> = value.chars().collect();
        let n = chars.len();
        for (i, &c) in chars.iter().enumerate() {
            let followed_by_ws = chars
                .get(i + 1)
                .is_none_or(|&next| next == ' ' || next == '\t' || is_break(next));
            if i == 0 {
                match c {
                    '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\''
                    | '"' | '%' | '@' | '`' => block_indicators = true,
                    '?' | ':' | '-' if followed_by_ws => block_indicators = true,
                    _ => {}
                }
            } else {
                match c {
                    ':' if followed_by_ws => block_indicators = true,
                    '#' if preceded_by_ws => block_indicators = true,
                    _ => {}
                }
            }
            special |= !is_printable(c);
            if c == ' ' {
                leading_space |= i == 0;
                trailing_space |= i + 1 == n;
                break_space |= prev_break;
                (prev_space, prev_break) = (true, false);
            } else if is_break(c) {
                line_breaks = true;
                leading_break |= i == 0;
                trailing_break |= i + 1 == n;
                space_break |= prev_space;
                (prev_space, prev_break) = (false, true);
            } else {
                (prev_space, prev_break) = (false, false);
            }
            preceded_by_ws = c == ' ' || c == '\t' || is_break(c);
        }
        let edge = leading_space || leading_break || trailing_space || trailing_break;
        Analysis {
            multiline: line_breaks,
            block_plain_allowed: !(edge
                || break_space
                || space_break
                || special
                || line_breaks
                || block_indicators),
            single_quoted_allowed: !(break_space || space_break || special),
            block_allowed: !(trailing_space || space_break || special),
        }
    }

    /// Every string of up to 4 characters from an alphabet of indicators, white space,
    /// breaks, digits, YAML 1.1 word starts and non-ASCII text.
    fn short_strings() -> Vec<String> {
        let alphabet = [
            "a", "n", "o", "Y", "0", "1", "-", ".", ":", "#", "'", "\"", " ", "\t", "\n", "\r",
            "/", "_", "?", "é", "\u{85}", "\u{2028}", "😀", "\u{1}", "~", "<", "\u{FEFF}",
            "\u{A0}",
        ];
        let mut all = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..4 {
            let mut next = Vec::new();
            for s in &last {
                for a in alphabet {
                    next.push(format!("{s}{a}"));
                }
            }
            all.extend(next.iter().cloned());
            last = next;
        }
        all.extend(
            [
                "yes",
                "No",
                "null",
                "NULL",
                "true",
                "off",
                "On",
                "name",
                "apps/v1",
                "a:b",
                "a:",
                "nginx:1.25",
                "---x",
                "...",
                "y",
                "ON:",
                "a-b.c_d/e",
                "Null",
                "tRUE",
            ]
            .map(String::from),
        );
        all
    }

    #[test]
    fn analysis_walk_matches_the_reference_and_the_quick_style_matches_the_full_one() {
        let all = short_strings();
        assert!(all.len() > 400_000);
        for s in &all {
            assert_eq!(analyze(s), analyze_reference(s), "{s:?}");
            for key in [false, true] {
                assert_eq!(
                    scalar_style(s, key),
                    select_style(s, requested_style(s), key),
                    "{s:?} key={key}"
                );
            }
        }
    }
}
