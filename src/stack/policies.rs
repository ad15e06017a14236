//! The specs of the distribution's three CloudFront policies, from the
//! profile (the producer's side: the kinds in `crate::kinds::*_policy` map
//! them to CloudFront and never see the profile).

use crate::kinds::cache_policy::CachePolicySpec;
use crate::kinds::origin_request_policy::{FORWARDED_HEADERS, OriginRequestPolicySpec};
use crate::kinds::response_headers_policy::{
    ALLOWED_HEADERS, ALLOWED_METHODS, HSTS_SECONDS, MAX_AGE_SECONDS, ResponseHeadersPolicySpec,
};
use crate::names::StackNames;
use crate::profile::{CACHE_QUERY_STRINGS, Delivery, Profile};

impl CachePolicySpec {
    pub fn for_profile(profile: &Profile) -> Self {
        let stack = &profile.stack.name;
        // Both scopes key on the canonical parameters the enabled
        // operations take (the edge rewrites every HealthImaging query to
        // them), never on "all": nothing else can split or merge entries.
        let query_strings = "whitelist";
        let query_string_names = cache_query_strings(profile);
        CachePolicySpec {
            name: StackNames { stack }.cache_policy(),
            comment: format!("ahi-edge stack {stack}: HealthImaging frames and metadata"),
            min_ttl: 0,
            default_ttl: 86_400,
            max_ttl: 31_536_000,
            headers: profile.cloudfront.cache_key_headers(),
            cookies: "none".into(),
            query_strings: query_strings.into(),
            query_string_names,
            gzip: true,
            brotli: true,
        }
    }
}

/// The query strings of the cache key: those the enabled operations take
/// (frames `imageFrameId`, metadata `version`, listings the paging pair),
/// in [`CACHE_QUERY_STRINGS`]' order.
pub fn cache_query_strings(profile: &Profile) -> Vec<String> {
    use crate::profile::Operation;
    let ops = profile
        .delivery
        .as_ref()
        .map(|d| d.healthimaging.operations.clone())
        .unwrap_or_default();
    let takes = |name: &str| match name {
        "imageFrameId" => ops.contains(&Operation::GetImageFrame),
        "version" => ops.contains(&Operation::GetImageSetMetadata) || ops.contains(&Operation::GetImageSet),
        _ => ops.contains(&Operation::ListImageSetVersions) || ops.contains(&Operation::SearchImageSets),
    };
    CACHE_QUERY_STRINGS
        .iter()
        .filter(|q| takes(q))
        .map(|q| q.to_string())
        .collect()
}

impl OriginRequestPolicySpec {
    pub fn for_profile(profile: &Profile) -> Self {
        let stack = &profile.stack.name;
        OriginRequestPolicySpec {
            name: StackNames { stack }.origin_request_policy(),
            comment: format!("ahi-edge stack {stack}: CORS preflight headers to the ALB"),
            headers: FORWARDED_HEADERS.iter().map(|h| h.to_string()).collect(),
            cookies: "none".into(),
            query_strings: "none".into(),
        }
    }
}

impl ResponseHeadersPolicySpec {
    pub fn for_profile(profile: &Profile, hi: &Delivery) -> Self {
        let stack = &profile.stack.name;
        ResponseHeadersPolicySpec {
            name: StackNames { stack }.response_headers_policy(),
            comment: format!("ahi-edge stack {stack}: CORS for viewers and security headers"),
            allow_origins: hi.auth.cors_allow_origins.clone(),
            allow_methods: ALLOWED_METHODS.iter().map(|m| m.to_string()).collect(),
            allow_headers: ALLOWED_HEADERS.iter().map(|h| h.to_string()).collect(),
            max_age_seconds: MAX_AGE_SECONDS,
            hsts_seconds: HSTS_SECONDS,
            nosniff: true,
            viewer_cache_control: profile.cloudfront.viewer_cache_control.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // cache policy

    fn profile() -> Profile {
        let text = include_str!("../../profiles/ahi-delivery.toml");
        crate::profile::check(std::path::Path::new("p.toml"), text)
            .profile
            .unwrap()
    }

    #[test]
    fn the_cache_policy_comment_fits_for_the_longest_stack_name() {
        let mut profile = profile();
        profile.stack.name = "s".repeat(crate::names::max_stack_name_len("us-east-1"));
        let spec = CachePolicySpec::for_profile(&profile);
        assert!(
            spec.comment.len() <= crate::names::CLOUDFRONT_COMMENT_MAX,
            "{}",
            spec.comment
        );
    }

    #[test]
    fn the_key_holds_the_enabled_operations_parameters_in_either_scope() {
        let text = include_str!("../../profiles/ahi-delivery.toml")
            .replace(
                "operations = [\"GetImageFrame\", \"GetImageSetMetadata\", \"GetImageSet\"]",
                "operations = [\"GetImageFrame\", \"SearchImageSets\"]",
            )
            .replace("cache = \"shared\"", "cache = \"per_viewer\"");
        let report = crate::profile::check(std::path::Path::new("p.toml"), &text);
        let spec = CachePolicySpec::for_profile(&report.profile.expect("valid"));
        assert_eq!(spec.query_strings, "whitelist");
        assert_eq!(
            spec.query_string_names,
            ["imageFrameId", "maxResults", "nextToken"]
        );
        assert_eq!(spec.headers, ["authorization"]);
    }

    #[test]
    fn the_spec_follows_the_profile_and_survives_a_round_trip() {
        let spec = CachePolicySpec::for_profile(&profile());
        assert_eq!(spec.name, "ahi-delivery-cache");
        assert!(spec.headers.is_empty(), "the shared cache keys on no credentials");
        assert_eq!(spec.query_strings, "whitelist");
        assert_eq!(spec.query_string_names, ["imageFrameId", "version"]);
        assert_eq!(
            (spec.min_ttl, spec.default_ttl, spec.max_ttl),
            (0, 86_400, 31_536_000)
        );
        assert!(spec.gzip && spec.brotli);
        let config = spec.to_config().unwrap();
        assert_eq!(CachePolicySpec::from_config(&config), spec);
        let per_viewer = CachePolicySpec {
            headers: vec!["authorization".into()],
            ..spec
        };
        assert_eq!(
            CachePolicySpec::from_config(&per_viewer.to_config().unwrap()),
            per_viewer
        );
    }

    // origin_request policy

    #[test]
    fn the_origin_request_policy_comment_fits_for_the_longest_stack_name() {
        let text = include_str!("../../profiles/ahi-delivery.toml");
        let mut profile = crate::profile::check(std::path::Path::new("p.toml"), text)
            .profile
            .unwrap();
        profile.stack.name = "s".repeat(crate::names::max_stack_name_len("us-east-1"));
        let spec = OriginRequestPolicySpec::for_profile(&profile);
        assert!(
            spec.comment.len() <= crate::names::CLOUDFRONT_COMMENT_MAX,
            "{}",
            spec.comment
        );
    }

    #[test]
    fn the_spec_forwards_the_preflight_headers_and_round_trips() {
        let text = include_str!("../../profiles/ahi-delivery.toml");
        let profile = crate::profile::check(std::path::Path::new("p.toml"), text)
            .profile
            .unwrap();
        let spec = OriginRequestPolicySpec::for_profile(&profile);
        assert_eq!(spec.name, "ahi-delivery-origin-request");
        assert_eq!(spec.headers, FORWARDED_HEADERS);
        assert_eq!(
            spec.query_strings, "none",
            "no query string beyond the cache key's"
        );
        assert_eq!(
            OriginRequestPolicySpec::from_config(&spec.to_config().unwrap()),
            spec
        );
    }

    // response_headers policy

    #[test]
    fn the_spec_takes_the_profiles_origins_and_round_trips() {
        let text = include_str!("../../profiles/ahi-delivery.toml").replace(
            "cors_allow_origins = [\"*\"]",
            "cors_allow_origins = [\"https://viewer.example\"]",
        );
        let profile = crate::profile::check(std::path::Path::new("p.toml"), &text)
            .profile
            .unwrap();
        let spec = ResponseHeadersPolicySpec::for_profile(&profile, profile.delivery.as_ref().unwrap());
        assert_eq!(spec.name, "ahi-delivery-headers");
        assert_eq!(spec.allow_origins, ["https://viewer.example"]);
        assert_eq!(spec.allow_methods, ALLOWED_METHODS);
        assert_eq!(spec.viewer_cache_control, "private, no-store");
        assert_eq!(
            ResponseHeadersPolicySpec::from_config(&spec.to_config().unwrap()),
            spec
        );
    }
}
