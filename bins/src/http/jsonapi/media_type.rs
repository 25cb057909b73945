//! Media-type negotiation for JSON:API (jsonapi.org v1.1, "Content Negotiation").
//!
//! - A request body must be `application/vnd.api+json`; the only media type parameter
//!   accepted is `profile` (which servers may ignore). `ext` names extensions this
//!   server does not support, so it is refused like any other parameter: 415.
//! - `Accept` must allow `application/vnd.api+json` without parameters: through
//!   `*/*`, `application/*`, or the JSON:API media type itself. Instances of the
//!   JSON:API media type with parameters other than `profile` (and the `q` weight)
//!   are ignored; when nothing acceptable is left, the answer is 406. An absent
//!   `Accept` header accepts anything.

/// The JSON:API media type.
pub const JSON_API: &str = "application/vnd.api+json";

/// One media type or media range with its parameters, borrowed from a header.
#[derive(Debug, PartialEq, Eq)]
struct MediaType<'a> {
    essence: &'a str,
    params: Vec<(&'a str, &'a str)>,
}

/// Splits `value` at `separator`, ignoring separators inside double quotes.
fn split_unquoted(value: &str, separator: char) -> impl Iterator<Item = &str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    let mut escaped = false;
    for (index, c) in value.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == separator && !quoted => {
                parts.push(&value[start..index]);
                start = index + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts.into_iter()
}

fn parse_media_type(value: &str) -> Option<MediaType<'_>> {
    let mut pieces = split_unquoted(value, ';');
    let essence = pieces.next()?.trim();
    let (kind, subtype) = essence.split_once('/')?;
    if kind.is_empty() || subtype.is_empty() || kind.contains(char::is_whitespace) {
        return None;
    }
    let mut params = Vec::new();
    for piece in pieces {
        let piece = piece.trim();
        if piece.is_empty() {
            continue;
        }
        let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
        params.push((name.trim(), value.trim().trim_matches('"')));
    }
    Some(MediaType { essence, params })
}

/// Checks a request's `Content-Type`: `Ok` for JSON:API (with at most a `profile`
/// parameter), otherwise the reason to answer 415.
pub fn check_content_type(value: &str) -> Result<(), String> {
    let Some(media) = parse_media_type(value) else {
        return Err(format!("{value:?} is not a media type; send {JSON_API}."));
    };
    if !media.essence.eq_ignore_ascii_case(JSON_API) {
        return Err(format!(
            "Request bodies must be {JSON_API}, not {}.",
            media.essence
        ));
    }
    for (name, _) in &media.params {
        if name.eq_ignore_ascii_case("profile") {
            continue;
        }
        if name.eq_ignore_ascii_case("ext") {
            return Err("This server supports no JSON:API extensions (ext).".to_owned());
        }
        return Err(format!(
            "{JSON_API} must be sent without media type parameters (got {name:?})."
        ));
    }
    Ok(())
}

/// Whether an `Accept` header value allows a JSON:API answer.
pub fn accepts_json_api(value: &str) -> bool {
    // What almost every client sends, answered without parsing (this runs on every
    // request).
    if value.eq_ignore_ascii_case(JSON_API) || value == "*/*" {
        return true;
    }
    split_unquoted(value, ',')
        .filter_map(|entry| parse_media_type(entry.trim()))
        .any(|media| {
            let mut weight_zero = false;
            let mut other_params = false;
            for (name, value) in &media.params {
                if name.eq_ignore_ascii_case("q") {
                    weight_zero = value.parse::<f32>().is_ok_and(|q| q <= 0.0);
                } else if !name.eq_ignore_ascii_case("profile") {
                    other_params = true;
                }
            }
            if weight_zero {
                return false;
            }
            let essence = media.essence;
            essence == "*/*"
                || essence.eq_ignore_ascii_case("application/*")
                || (essence.eq_ignore_ascii_case(JSON_API) && !other_params)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_rules() {
        assert!(check_content_type("application/vnd.api+json").is_ok());
        assert!(check_content_type("Application/VND.API+JSON").is_ok());
        assert!(
            check_content_type(r#"application/vnd.api+json; profile="https://example.com/p""#)
                .is_ok()
        );
        assert!(check_content_type("application/vnd.api+json; charset=utf-8").is_err());
        assert!(
            check_content_type(r#"application/vnd.api+json; ext="https://jsonapi.org/ext/atomic""#)
                .is_err()
        );
        assert!(check_content_type("application/json").is_err());
        assert!(check_content_type("text/plain").is_err());
        assert!(check_content_type("garbage").is_err());
    }

    #[test]
    fn accept_rules() {
        assert!(accepts_json_api("application/vnd.api+json"));
        assert!(accepts_json_api("*/*"));
        assert!(accepts_json_api("application/*"));
        assert!(accepts_json_api(
            "text/html, application/xhtml+xml, */*;q=0.8"
        ));
        assert!(accepts_json_api(
            "application/vnd.api+json; charset=utf-8, application/vnd.api+json"
        ));
        assert!(accepts_json_api(
            r#"application/vnd.api+json; profile="a b""#
        ));
        assert!(!accepts_json_api("application/vnd.api+json; charset=utf-8"));
        assert!(!accepts_json_api(
            r#"application/vnd.api+json; ext="x", text/html"#
        ));
        assert!(!accepts_json_api("application/json"));
        assert!(!accepts_json_api("text/html"));
        assert!(!accepts_json_api("application/vnd.api+json;q=0"));
        assert!(!accepts_json_api(""));
    }

    #[test]
    fn quoted_commas_do_not_split_entries() {
        assert!(!accepts_json_api(
            r#"application/vnd.api+json; ext="a,application/vnd.api+json""#
        ));
    }
}
