//! Text that came from outside (a server's answer, a commit, a remote URL) made fit to show:
//! without control characters for a terminal or a log, without credentials in URLs, escaped for
//! a chat message.

use std::borrow::Cow;

/// `text` without control characters (ESC sequences, carriage returns, bells); a tab becomes a
/// space. What a terminal or a log line shows can then only be the text itself.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .filter_map(|c| match c {
                '\t' => Some(' '),
                c if c.is_control() => None,
                c => Some(c),
            })
            .collect(),
    )
}

/// `text` with the user and password taken out of every URL in it
/// (`https://user:pw@host/x` becomes `https://host/x`): for any line that may show a remote.
pub fn without_credentials(text: &str) -> Cow<'_, str> {
    if !text.contains("://") || !text.contains('@') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        // The authority ends at the first character that cannot be in it.
        let end = after
            .find(|c: char| {
                matches!(c, '/' | '?' | '#' | '\'' | '"' | '`' | '<' | '>') || c.is_whitespace()
            })
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(i) => out.push_str(&authority[i + 1..]),
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// `text` for a Slack-compatible message: `&`, `<` and `>` escaped, so nothing in it can become a
/// mention (`<!channel>`) or a link; control characters dropped.
pub fn for_chat(text: &str) -> String {
    printable(text)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_dropped() {
        assert_eq!(printable("ok"), "ok");
        assert_eq!(printable("a\x1b[2Jb\rc\td\u{9b}e"), "a[2Jbc de");
    }

    #[test]
    fn credentials_leave_every_url() {
        assert_eq!(
            without_credentials("fatal: 'http://user:pw@h:80/r.git' and https://t@x/y z"),
            "fatal: 'http://h:80/r.git' and https://x/y z"
        );
        assert_eq!(
            without_credentials("git@host:repo.git"),
            "git@host:repo.git"
        );
        assert_eq!(
            without_credentials("ssh://git@host/repo"),
            "ssh://host/repo"
        );
    }

    #[test]
    fn chat_text_cannot_mention_or_link() {
        assert_eq!(
            for_chat("<!channel> <https://evil|x> & co"),
            "&lt;!channel&gt; &lt;https://evil|x&gt; &amp; co"
        );
    }
}
