//! Text that came from outside (a server's answer, a commit, a remote URL) made fit to show:
//! without control characters for a terminal or a log, without credentials in URLs, escaped for
//! a chat message.

use std::borrow::Cow;

/// `text` without control characters (ESC sequences, carriage returns, bells; C0 and C1) and
/// bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069, which reorder what a
/// terminal shows); a tab becomes a space. What a terminal or a log line shows can then only be
/// the text itself.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .filter_map(|c| match c {
                '\t' => Some(' '),
                c if c.is_control() || is_bidi_control(c) => None,
                c => Some(c),
            })
            .collect(),
    )
}

/// The embedding, override and isolate controls of Unicode's bidirectional algorithm.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
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

/// The `[alerts] prefix` for a Slack-compatible message: Slack's mention tokens (`<!here>`,
/// `<!channel>`, `<!everyone>`, `<@U…>` or `<@W…>` for a person, `<!subteam^S…>` for a group)
/// are kept, everything else is escaped as [`for_chat`] does. The prefix is committed, so it may
/// mention, which is what it is for, but never link (`<https://evil|log in>`).
pub fn mentions_for_chat(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len());
    let mut rest = prefix;
    while let Some(start) = rest.find('<') {
        out.push_str(&for_chat(&rest[..start]));
        let from = &rest[start..];
        let token = from.find('>').map(|end| &from[..=end]);
        match token.filter(|t| is_mention(t)) {
            Some(token) => {
                out.push_str(token);
                rest = &from[token.len()..];
            }
            None => {
                out.push_str("&lt;");
                rest = &from[1..];
            }
        }
    }
    out.push_str(&for_chat(rest));
    out
}

/// `<…>` that Slack reads as a mention and nothing else.
fn is_mention(token: &str) -> bool {
    let inner = &token[1..token.len() - 1];
    let id = |id: &str, kinds: &[char]| {
        id.len() > 1
            && id.starts_with(kinds)
            && id
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    };
    matches!(inner, "!here" | "!channel" | "!everyone")
        || inner
            .strip_prefix('@')
            .is_some_and(|rest| id(rest, &['U', 'W']))
        || inner
            .strip_prefix("!subteam^")
            .is_some_and(|rest| id(rest, &['S']))
}

/// The first seven hex digits of a commit id, as git shows it short (and status files are named).
pub fn sha7(sha: &str) -> &str {
    &sha[..sha.len().min(7)]
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

    #[test]
    fn a_prefix_keeps_mentions_and_nothing_else() {
        assert_eq!(
            mentions_for_chat("<!here> <@U024BE7LH> <!subteam^SAZ94GDB8> <!channel>"),
            "<!here> <@U024BE7LH> <!subteam^SAZ94GDB8> <!channel>"
        );
        assert_eq!(
            mentions_for_chat("<!channel> <https://evil|log in> & <@U1|x> <!here"),
            "<!channel> &lt;https://evil|log in&gt; &amp; &lt;@U1|x&gt; &lt;!here"
        );
        assert_eq!(mentions_for_chat("<<!here>>"), "&lt;<!here>&gt;");
        assert_eq!(mentions_for_chat("deploys\u{1b}[2J:"), "deploys[2J:");
    }
}
