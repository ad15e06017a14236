//! `[alb]` and `[cloudfront]`: how viewers reach CloudFront and CloudFront the ALB.

use std::collections::BTreeSet;

use super::super::diagnostic::Diagnostics;
use super::super::formats::{self as f};
use super::super::toml_reader::Table;
use super::super::*;
use super::*;

pub(super) fn read_alb(d: &mut Diagnostics, root: &mut Table, ahi_region: Option<&str>) -> Option<AlbOrigin> {
    let mut t = required_table(
        d,
        root,
        "alb",
        "[alb] with protocol = \"https\" (and hostname, certificate_arn) or protocol = \"http\"",
    )?;
    let protocol = t.string(d, "protocol", "\"https\"");
    let hostname = t.string(d, "hostname", "\"alb.example.com\"");
    let cert = t.string(
        d,
        "certificate_arn",
        "\"arn:aws:acm:REGION:ACCOUNT:certificate/ID\"",
    );
    let ack = t.string(
        d,
        "insecure_http_acknowledgement",
        &format!("{INSECURE_HTTP_ACKNOWLEDGEMENT:?}"),
    );
    let protocol = require(
        d,
        &t,
        "protocol",
        protocol,
        "add protocol = \"https\" (recommended) or \"http\"",
    );
    let place = t.place().clone();
    t.finish(d);

    match one_of(d, protocol.as_ref()?, &["https", "http"])?.as_str() {
        "https" => {
            if let Some(ack) = &ack {
                d.error(ack, "is only for protocol = \"http\"", "remove it");
            }
            let hostname = need(
                d,
                &place,
                "hostname",
                hostname,
                "HTTPS to the ALB needs the DNS name on its certificate",
            );
            let cert = need(
                d,
                &place,
                "certificate_arn",
                cert,
                "HTTPS to the ALB needs an ACM certificate",
            );
            if let Some(h) = &hostname
                && let Err(reason) = f::check_dns_name(&h.value, false)
            {
                d.error(
                    h,
                    reason,
                    "use the DNS name you will point at the ALB, e.g. \"alb.example.com\"",
                );
            }
            if let (Some(c), Some(region)) = (&cert, ahi_region)
                && let Err(reason) = f::check_acm_certificate_arn(&c.value, region)
            {
                d.error(
                    c,
                    reason,
                    format!(
                        "use an ACM certificate in the HealthImaging region {region} that covers the hostname"
                    ),
                );
            }
            Some(AlbOrigin::Https {
                hostname: hostname?.value,
                certificate_arn: cert?.value,
            })
        }
        _ => {
            for extra in [&hostname, &cert].into_iter().flatten() {
                d.error(
                    extra,
                    "is only used with protocol = \"https\"",
                    "remove it, or set protocol = \"https\"",
                );
            }
            let fix = format!(
                "write insecure_http_acknowledgement = {INSECURE_HTTP_ACKNOWLEDGEMENT:?}, or use protocol = \"https\""
            );
            match ack {
                None => {
                    d.missing(
                        &place,
                        "insecure_http_acknowledgement",
                        "protocol = \"http\" sends frames, metadata and the origin secret from CloudFront to the ALB unencrypted",
                        fix,
                    );
                    None
                }
                Some(a) if a.value != INSECURE_HTTP_ACKNOWLEDGEMENT => {
                    d.error(&a, "is not the exact acknowledgement text", fix);
                    None
                }
                Some(_) => Some(AlbOrigin::Http),
            }
        }
    }
}

pub(super) fn read_cloudfront(
    d: &mut Diagnostics,
    root: &mut Table,
    auth: &Option<Auth>,
) -> Option<CloudFront> {
    // The section, not `auth`: a [healthimaging] with mistakes of its own
    // leaves `auth` empty, and this key is not one of them.
    let healthimaging = root.contains("healthimaging");
    let Some(mut t) = root.table(d, "cloudfront") else {
        return (!root.contains("cloudfront")).then(CloudFront::default_settings);
    };
    let aliases = t.string_list(d, "aliases", "[\"images.example.com\"]");
    let cert = t.string(
        d,
        "certificate_arn",
        "\"arn:aws:acm:us-east-1:ACCOUNT:certificate/ID\"",
    );
    let price = t.string(d, "price_class", "\"PriceClass_All\"");
    let scope = t.string(d, "cache", "\"shared\"");
    let headers = t.string_list(d, "cache_headers", "[\"accept\"]");
    let waf = t.string(
        d,
        "web_acl_arn",
        "\"arn:aws:wafv2:us-east-1:ACCOUNT:global/webacl/NAME/ID\"",
    );
    let viewer = t.string(d, "viewer_cache_control", "\"private, no-store\"");
    let quotas = t.table(d, "quotas").map(|q| read_quotas(d, q));
    let place = t.place().clone();
    t.finish(d);
    let before = d.error_count();

    let aliases: Vec<String> = aliases
        .map(|a| a.value)
        .unwrap_or_default()
        .into_iter()
        .map(|a| {
            if let Err(reason) = f::check_dns_name(&a.value, true) {
                d.error(
                    &a,
                    reason,
                    "use a DNS name you control, e.g. \"images.example.com\"",
                );
            }
            a.value
        })
        .collect();
    match (&cert, aliases.is_empty()) {
        (None, false) => d.missing(
            &place,
            "certificate_arn",
            "aliases need a certificate that covers them",
            "add certificate_arn = an ACM certificate in us-east-1",
        ),
        (Some(c), true) => d.error(
            c,
            "is only used with aliases",
            "add aliases, or remove certificate_arn",
        ),
        (Some(c), false) => {
            if let Err(reason) = f::check_acm_certificate_arn(&c.value, "us-east-1") {
                d.error(
                    c,
                    reason,
                    "CloudFront uses certificates from us-east-1: request or import the certificate there",
                );
            }
        }
        (None, true) => {}
    }
    let price_class = match &price {
        Some(p) => one_of(d, p, PRICE_CLASSES).unwrap_or_default(),
        None => "PriceClass_All".to_string(),
    };
    let cache = match &scope {
        None => Some(CacheScope::Shared),
        Some(s) => one_of(d, s, CACHE_SCOPES).map(|v| match v.as_str() {
            "per_viewer" => CacheScope::PerViewer,
            _ => CacheScope::Shared,
        }),
    };
    if let (
        Some(s),
        Some(CacheScope::PerViewer),
        Some(Auth {
            mode: AuthMode::None, ..
        }),
    ) = (&scope, cache, auth)
    {
        d.error(
            s,
            "keys the cache on the viewer's token, and auth.mode = \"none\" has no token",
            "remove cache (the shared cache is the default), or set auth.mode to \"cognito_jwt\" or \"oidc\"",
        );
    }
    let cache_headers = match headers {
        None => Vec::new(),
        Some(list) => {
            if list.value.len() > MAX_CACHE_HEADERS {
                d.error(
                    &list,
                    format!(
                        "has {} headers; a cache policy takes at most {MAX_CACHE_HEADERS}",
                        list.value.len()
                    ),
                    "keep only the headers that change the response",
                );
            }
            let mut seen = BTreeSet::new();
            for h in &list.value {
                if let Err(reason) = f::check_header_name(&h.value) {
                    d.error(h, reason, "use a header name such as \"authorization\"");
                } else if !seen.insert(h.value.to_ascii_lowercase()) {
                    d.error(
                        h,
                        "is listed twice (header names ignore case)",
                        "remove the duplicate",
                    );
                } else if h.value.eq_ignore_ascii_case("authorization")
                    && cache != Some(CacheScope::PerViewer)
                {
                    d.error(
                        h,
                        "cannot key the shared cache: the authorizer removes Authorization once the token \
                         is checked, so every signed-in viewer shares one cached copy",
                        "remove \"authorization\" from cache_headers (the default, shared cache), or set \
                         cache = \"per_viewer\" for one cached copy per token (docs/profile.md)",
                    );
                }
            }
            list.value
                .into_iter()
                .map(|h| h.value.to_ascii_lowercase())
                .collect()
        }
    };
    if let Some(w) = &waf
        && let Err(reason) = f::check_cloudfront_web_acl_arn(&w.value)
    {
        d.error(
            w,
            reason,
            "use the ARN of a WAFv2 web ACL created with scope CLOUDFRONT",
        );
    }
    let viewer_cache_control = match &viewer {
        None => cache_control::DEFAULT.to_string(),
        Some(v) if !healthimaging => {
            d.error(
                v,
                "applies to the HealthImaging behaviour, and this profile has no [healthimaging]",
                "remove viewer_cache_control (routes take their headers from their origins)",
            );
            String::new()
        }
        Some(v) => match cache_control::canonical(&v.value) {
            Ok(c) => c,
            Err(reason) => {
                d.error(
                    v,
                    reason,
                    "use \"private, no-store\" (the default), or private with a max-age such as \
                     \"private, max-age=60\" (docs/profile.md)",
                );
                String::new()
            }
        },
    };
    (d.error_count() == before).then(|| CloudFront {
        aliases,
        certificate_arn: cert.map(|c| c.value),
        price_class,
        cache: cache.unwrap_or(CacheScope::Shared),
        cache_headers,
        web_acl_arn: waf.map(|w| w.value),
        viewer_cache_control,
        quotas: quotas.unwrap_or_default(),
    })
}

/// `[cloudfront.quotas]`: raised quotas (AWS's defaults otherwise).
fn read_quotas(d: &mut Diagnostics, mut t: Table) -> crate::routes::Quotas {
    let mut q = crate::routes::Quotas::default();
    let behaviors = t.integer(d, "behaviors", "75");
    let origins = t.integer(d, "origins", "100");
    let size = t.integer(d, "function_size", "10240");
    let keys = t.integer(d, "keys_per_group", "5");
    let groups = t.integer(d, "key_groups", "10");
    t.finish(d);
    for (at, slot, least) in [
        (behaviors, &mut q.behaviors, 1),
        (origins, &mut q.origins, 1),
        (size, &mut q.function_size, 1024),
        (keys, &mut q.keys_per_group, 1),
        (groups, &mut q.key_groups, 1),
    ] {
        if let Some(at) = at {
            if at.value < least || at.value > 1_000_000 {
                d.error(
                    &at,
                    "is not a plausible quota",
                    "use the value AWS granted your account",
                );
            } else {
                *slot = at.value as usize;
            }
        }
    }
    q
}

impl CloudFront {
    fn default_settings() -> Self {
        CloudFront {
            aliases: Vec::new(),
            certificate_arn: None,
            price_class: "PriceClass_All".into(),
            cache: CacheScope::Shared,
            cache_headers: Vec::new(),
            web_acl_arn: None,
            viewer_cache_control: cache_control::DEFAULT.to_string(),
            quotas: crate::routes::Quotas::default(),
        }
    }
}
