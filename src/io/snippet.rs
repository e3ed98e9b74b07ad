//! Short, printable quotes of file content for error messages: a user may point a command at any
//! file (`/etc/shadow`, a binary), and a message must not copy more than a few characters of it
//! to a terminal or a log, nor control characters that would rewrite the terminal.

/// Most characters of file content an error message quotes.
pub const SNIPPET_CHARS: usize = 40;

/// The first `max` characters of `text`, control characters escaped (`\n`, `\u{1b}`), with `…`
/// when cut.
pub fn snippet(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        push_printable(&mut out, c);
    }
    out
}

fn push_printable(out: &mut String, c: char) {
    if c.is_control() {
        out.extend(c.escape_debug());
    } else {
        out.push(c);
    }
}

/// A message with every quoted part (between `"` or `` ` ``) cut to [`SNIPPET_CHARS`] characters
/// and control characters escaped, for messages of parsers that quote the content they found.
pub fn sanitize_quotes(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(512));
    let mut open: Option<char> = None;
    let mut quoted = 0usize;
    for c in message.chars() {
        match open {
            Some(q) if c == q => {
                open = None;
                out.push(c);
            }
            Some(_) => {
                quoted += 1;
                if quoted <= SNIPPET_CHARS {
                    push_printable(&mut out, c);
                } else if quoted == SNIPPET_CHARS + 1 {
                    out.push('…');
                }
            }
            None => {
                if c == '"' || c == '`' {
                    open = Some(c);
                    quoted = 0;
                }
                push_printable(&mut out, c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_short_and_printable() {
        assert_eq!(snippet("abc", 40), "abc");
        assert_eq!(snippet("abcdef", 3), "abc…");
        assert_eq!(snippet("a\nb\u{1b}[2J", 40), "a\\nb\\u{1b}[2J");
    }

    #[test]
    fn long_quotes_are_cut() {
        let secret = "root:$6$saltsalt$hashhashhashhashhashhashhashhashhash:19000:0:99999:7:::";
        let m = sanitize_quotes(&format!(
            "invalid type: string \"{secret}\", expected `a table`\x07"
        ));
        assert_eq!(
            m,
            format!(
                "invalid type: string \"{}…\", expected `a table`\\u{{7}}",
                &secret[..40]
            )
        );
        assert!(!m.contains("99999"), "{m}");
    }
}
