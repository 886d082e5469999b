//! Escaping text into the few HTML pages the API writes itself (the OpenAPI page, the token
//! claim pages). Anything a caller or a provider chose goes through it before it is shown.

/// Escapes text for HTML, in element content and in quoted attributes.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_both_quotes() {
        assert_eq!(escape("\"'&"), "&quot;&#39;&amp;");
        assert_eq!(
            escape("<a href='x'>é</a>"),
            "&lt;a href=&#39;x&#39;&gt;é&lt;/a&gt;"
        );
    }
}
