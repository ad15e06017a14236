//! The one query form the proxy accepts: the form the edge writes.
//!
//! The query is read raw, before any decoding, so two spellings can never
//! name one parameter: only the operation's own parameter names, written
//! exactly, each at most once, in the fixed order, each value in its one
//! canonical encoding. Anything else is a 400, never a guess: a proxy that
//! decodes `imageFrame%49d` or takes the first of two `imageFrameId`s
//! would fetch one frame while the cache key names another.

/// A query parameter a HealthImaging read takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    ImageFrameId,
    Version,
    MaxResults,
    NextToken,
}

/// HealthImaging's bound on `nextToken` (API reference: `\p{ASCII}{0,8192}`).
pub const MAX_NEXT_TOKEN: usize = 8192;

impl Param {
    pub fn name(self) -> &'static str {
        match self {
            Param::ImageFrameId => "imageFrameId",
            Param::Version => "version",
            Param::MaxResults => "maxResults",
            Param::NextToken => "nextToken",
        }
    }

    /// Whether `raw` (as it arrived) is the canonical spelling of a valid value.
    fn accepts(self, raw: &str) -> Result<(), &'static str> {
        match self {
            Param::ImageFrameId if crate::operation::is_id(raw) => Ok(()),
            Param::ImageFrameId => Err("imageFrameId is 32 lower-case letters or digits"),
            Param::Version if is_number(raw, 10) => Ok(()),
            Param::Version => Err("version is a number, without leading zeros"),
            Param::MaxResults if is_number(raw, 2) && (1..=50).contains(&raw.parse::<u8>().unwrap_or(0)) => {
                Ok(())
            }
            Param::MaxResults => Err("maxResults is a number from 1 to 50"),
            Param::NextToken => match decode(raw) {
                Some(token)
                    if !token.is_empty()
                        && token.len() <= MAX_NEXT_TOKEN
                        && token.is_ascii()
                        && encode(&token) == raw =>
                {
                    Ok(())
                }
                _ => Err("nextToken is 1 to 8192 ASCII characters, percent-encoded as SigV4 encodes them"),
            },
        }
    }
}

/// Digits, at most `max_len`, no leading zero (one spelling per number).
fn is_number(raw: &str, max_len: usize) -> bool {
    !raw.is_empty()
        && raw.len() <= max_len
        && raw.bytes().all(|b| b.is_ascii_digit())
        && (raw == "0" || !raw.starts_with('0'))
}

/// The parameters of one request, in canonical order, values as sent
/// (already canonical, so they go upstream byte for byte).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query(Vec<(Param, String)>);

impl Query {
    pub fn get(&self, param: Param) -> Option<&str> {
        self.0.iter().find(|(p, _)| *p == param).map(|(_, v)| v.as_str())
    }

    /// `base?name=value&...`, or `base` alone without parameters.
    pub fn append_to(&self, base: String) -> String {
        if self.0.is_empty() {
            return base;
        }
        let pairs: Vec<String> = self.0.iter().map(|(p, v)| format!("{}={v}", p.name())).collect();
        format!("{base}?{}", pairs.join("&"))
    }
}

/// Reads `raw` (the query exactly as received) for an operation taking
/// `params` (in canonical order). The error says what is wrong, never
/// echoing the request's own text.
pub fn parse(raw: &str, params: &[Param]) -> Result<Query, String> {
    let mut out = Vec::new();
    if raw.is_empty() {
        return Ok(Query(out));
    }
    let mut next = 0; // index in `params` the next parameter may take
    for pair in raw.split('&') {
        let (name, value) = pair
            .split_once('=')
            .ok_or("every query parameter is name=value")?;
        if name.contains('%') || name.contains('+') {
            return Err("query parameter names are never encoded".into());
        }
        let Some(position) = params.iter().position(|p| p.name() == name) else {
            return Err(match params.iter().any(|p| p.name().eq_ignore_ascii_case(name)) {
                true => "query parameter names are case-sensitive".into(),
                false => format!(
                    "this operation takes no other query parameters than: {}",
                    names(params)
                ),
            });
        };
        if position < next {
            return Err(match out.iter().any(|(p, _)| *p == params[position]) {
                true => "a query parameter is given twice".into(),
                false => format!("query parameters come in this order: {}", names(params)),
            });
        }
        params[position].accepts(value)?;
        out.push((params[position], value.to_string()));
        next = position + 1;
    }
    Ok(Query(out))
}

fn names(params: &[Param]) -> String {
    match params.is_empty() {
        true => "none".into(),
        false => params.iter().map(|p| p.name()).collect::<Vec<_>>().join(", "),
    }
}

/// Strict percent-decoding: `None` for a `%` not followed by two hex digits
/// or bytes that are not UTF-8.
fn decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Percent-encodes a query value the way SigV4 canonicalises it: the
/// unreserved characters stay, every other byte is `%XX` in upper case.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: &str = "aaaabbbbccccddddeeeeffff00001111";
    const OTHER: &str = "0000111122223333444455556666ffff";
    const FRAME_PARAMS: &[Param] = &[Param::ImageFrameId];
    const PAGING: &[Param] = &[Param::MaxResults, Param::NextToken];

    #[test]
    fn the_canonical_form_is_accepted_and_kept_byte_for_byte() {
        let q = parse(&format!("imageFrameId={FRAME}"), FRAME_PARAMS).unwrap();
        assert_eq!(q.get(Param::ImageFrameId), Some(FRAME));
        let paging = parse("maxResults=50&nextToken=a%20b%2Fc~", PAGING).unwrap();
        assert_eq!(
            paging.append_to("/x".into()),
            "/x?maxResults=50&nextToken=a%20b%2Fc~"
        );
        assert_eq!(parse("", PAGING).unwrap().append_to("/x".into()), "/x");
        assert_eq!(
            parse("version=0", &[Param::Version]).unwrap().get(Param::Version),
            Some("0")
        );
    }

    /// Every poisoning probe of the review, and their neighbours: 400.
    #[test]
    fn every_other_spelling_is_refused() {
        let frame = [
            format!("imageFrame%49d={OTHER}&imageFrameId={FRAME}"),
            format!("imageFrameId={FRAME}&imageFrameId={OTHER}"),
            format!("ImageFrameId={FRAME}"),
            format!("imageframeid={FRAME}"),
            format!("imageFrameId={FRAME}&token=a.b.c"),
            format!("imageFrameId={FRAME}&%74oken=a.b.c"),
            format!("imageFrameId={FRAME}&Token=a.b.c"),
            format!("imageFrameId={FRAME}&debug=1"),
            format!("imageFrameId={FRAME}&"),
            format!("&imageFrameId={FRAME}"),
            format!("imageFrameId={}", FRAME.to_uppercase()),
            format!("imageFrameId=%61{}", &FRAME[1..]),
            format!("imageFrameId+={FRAME}"),
            "imageFrameId".to_string(),
            "imageFrameId=".to_string(),
        ];
        for probe in &frame {
            assert!(parse(probe, FRAME_PARAMS).is_err(), "{probe}");
        }
        for probe in [
            "versio%6E=1",
            "version=01",
            "version=1&version=2",
            "Version=1",
            "version=1%20",
            "version=-1",
            "version=99999999999",
        ] {
            assert!(parse(probe, &[Param::Version]).is_err(), "{probe}");
        }
        for probe in [
            "nextToken=a&maxResults=5",
            "maxResults=0",
            "maxResults=51",
            "maxResults=05",
            "nextToken=a%2fb",
            "nextToken=a%41",
            "nextToken=a b",
            "nextToken=a+b",
            "nextToken=%",
            "nextToken=%C3%A9",
            "nextToken=",
        ] {
            assert!(parse(probe, PAGING).is_err(), "{probe}");
        }
        let long = "a".repeat(MAX_NEXT_TOKEN + 1);
        assert!(parse(&format!("nextToken={long}"), PAGING).is_err());
        assert!(parse(&format!("nextToken={}", &long[1..]), PAGING).is_ok());
    }

    #[test]
    fn refusals_never_echo_the_request() {
        let err = parse("<script>=1", FRAME_PARAMS).unwrap_err();
        assert!(!err.contains("script"), "{err}");
        assert_eq!(
            err,
            "this operation takes no other query parameters than: imageFrameId"
        );
    }
}
