//! Credentials never leave vouch through what it prints.
//!
//! Users put credentials in URLs (`http://user:pass@node:8332/`, API keys in
//! a query); vouch uses them to connect and shows every URL without them, in
//! errors, records and logs alike. The password may itself hold `@` or `:`:
//! the user information ends at the *last* `@` of the authority.

/// `url` without its user information, and with any query's values hidden.
pub fn url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return url.to_string() };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host_start = rest[..authority_end].rfind('@').map_or(0, |at| at + 1);
    let mut shown = format!("{}{}", &url[..scheme_end], &rest[host_start..authority_end]);
    let after = &rest[authority_end..];
    match after.split_once('?') {
        Some((path, query)) => {
            let hidden: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) => format!("{key}=…"),
                    None => "…".to_string(),
                })
                .collect();
            shown.push_str(path);
            shown.push('?');
            shown.push_str(&hidden.join("&"));
        }
        None => shown.push_str(after),
    }
    shown
}

/// `text` with the user information of every URL in it removed: the last
/// line of defence for messages that quote a URL vouch did not build.
pub fn text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let end = after.find(|c: char| c == '/' || c.is_whitespace()).unwrap_or(after.len());
        match after[..end].rfind('@') {
            Some(userinfo_end) => out.push_str(&after[userinfo_end + 1..end]),
            None => out.push_str(&after[..end]),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_with_at_signs_and_colons_are_removed_whole() {
        assert_eq!(url("http://alice:p@ss:w0rd@127.0.0.1:8332/wallet"), "http://127.0.0.1:8332/wallet");
        assert_eq!(url("https://user@node.example"), "https://node.example");
        assert_eq!(url("http://127.0.0.1:9/x"), "http://127.0.0.1:9/x");
        assert_eq!(url("https://node.example/v3?apikey=s3cret&x=1"), "https://node.example/v3?apikey=…&x=…");
        assert_eq!(url("not a url"), "not a url");
    }

    #[test]
    fn urls_inside_messages_lose_their_credentials() {
        let message = "http://alice:p@ss:w0rd@127.0.0.1:9/digest: io: refused (see https://bob:x@y.example/z)";
        let clean = text(message);
        assert!(!clean.contains("p@ss") && !clean.contains("w0rd") && !clean.contains("bob:x"), "{clean}");
        assert_eq!(clean, "http://127.0.0.1:9/digest: io: refused (see https://y.example/z)");
    }
}
