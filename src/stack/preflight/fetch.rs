//! Plain HTTPS reads the pre-flight makes outside the AWS SDK: an OIDC
//! issuer's discovery document and keys, and an image config from the
//! download URL ECR hands out. With `--endpoint-url` (the emulator) every
//! read goes to that endpoint with the original `Host` kept, as the AWS
//! calls do, so no test or emulated run reaches the internet.

use std::time::Duration;

pub struct Fetch {
    client: reqwest::Client,
    endpoint: Option<String>,
}

/// A read that got an answer: its status and body.
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Fetch {
    pub fn new(endpoint: Option<&str>) -> Self {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .unwrap_or_default();
        Fetch {
            client,
            endpoint: endpoint.map(|e| e.trim_end_matches('/').to_string()),
        }
    }

    /// GET `url`; `Err` says why no answer came (connection, timeout).
    pub async fn get(&self, url: &str) -> Result<Answer, String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
        let request = match &self.endpoint {
            None => self.client.get(parsed),
            Some(endpoint) => {
                let host = match (parsed.host_str(), parsed.port()) {
                    (Some(h), Some(p)) => format!("{h}:{p}"),
                    (Some(h), None) => h.to_string(),
                    (None, _) => return Err("the URL has no host".into()),
                };
                let mut target = format!("{endpoint}{}", parsed.path());
                if let Some(query) = parsed.query() {
                    target = format!("{target}?{query}");
                }
                self.client.get(target).header(reqwest::header::HOST, host)
            }
        };
        let response = request.send().await.map_err(|e| describe(&e))?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(|e| describe(&e))?.to_vec();
        Ok(Answer { status, body })
    }
}

/// The innermost cause, which names what went wrong (refused, timed out,
/// a certificate problem) rather than reqwest's wrapper text.
fn describe(e: &reqwest::Error) -> String {
    let mut source: &dyn std::error::Error = e;
    while let Some(next) = source.source() {
        source = next;
    }
    match e.is_timeout() {
        true => "no answer within 15 s".into(),
        false => source.to_string(),
    }
}
