//! AWS's managed CloudFront policies, by the names a profile uses. Ids from
//! AWS (the same in every account); see docs/cloudfront-routes.md.

/// A managed policy: the profile's name, AWS's name, its id, and whether
/// it puts the viewer's query string into the origin request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Managed {
    pub name: &'static str,
    pub aws_name: &'static str,
    pub id: &'static str,
    pub forwards_query: bool,
}

const fn m(name: &'static str, aws_name: &'static str, id: &'static str, forwards_query: bool) -> Managed {
    Managed {
        name,
        aws_name,
        id,
        forwards_query,
    }
}

pub const CACHE: &[Managed] = &[
    m(
        "optimized",
        "Managed-CachingOptimized",
        "658327ea-f89d-4fab-a63d-7e88639e58f6",
        false,
    ),
    m(
        "optimized_uncompressed",
        "Managed-CachingOptimizedForUncompressedObjects",
        "b2884449-e4de-46a7-ac36-70bc7f1ddd6d",
        false,
    ),
    m(
        "disabled",
        "Managed-CachingDisabled",
        "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
        false,
    ),
    m(
        "origin_cache_control",
        "Managed-UseOriginCacheControlHeaders",
        "83da9c7e-98b4-4e11-a168-04f0df8e2c65",
        false,
    ),
    m(
        "origin_cache_control_query_strings",
        "Managed-UseOriginCacheControlHeaders-QueryStrings",
        "4cc15a8a-d715-48a4-82b8-cc0b614638fe",
        true,
    ),
];

pub const ORIGIN_REQUEST: &[Managed] = &[
    m(
        "all_viewer",
        "Managed-AllViewer",
        "216adef6-5c7f-47e4-b989-5492eafa07d3",
        true,
    ),
    m(
        "all_viewer_except_host",
        "Managed-AllViewerExceptHostHeader",
        "b689b0a8-53d0-40ab-baf2-68738e2966ac",
        true,
    ),
    m(
        "all_viewer_and_cloudfront_headers",
        "Managed-AllViewerAndCloudFrontHeaders-2022-06",
        "33f36d7e-f396-46d9-90e0-52428a34d9dc",
        true,
    ),
    m(
        "cors_s3",
        "Managed-CORS-S3Origin",
        "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf",
        false,
    ),
    m(
        "cors_custom",
        "Managed-CORS-CustomOrigin",
        "59781a5b-3903-41f3-afcb-af62929ccde1",
        false,
    ),
    m(
        "user_agent_referer",
        "Managed-UserAgentRefererHeaders",
        "acba4595-bd28-49b8-b9fe-13317c0390fa",
        false,
    ),
];

pub const RESPONSE_HEADERS: &[Managed] = &[
    m(
        "cors",
        "Managed-SimpleCORS",
        "60669652-455b-4ae9-85a4-c4c02393f86c",
        false,
    ),
    m(
        "cors_preflight",
        "Managed-CORS-With-Preflight",
        "5cc3b908-e619-4b99-88e5-2cf7f45965bd",
        false,
    ),
    m(
        "security",
        "Managed-SecurityHeadersPolicy",
        "67f7725c-6f97-4210-82d7-5512b31e9d03",
        false,
    ),
    m(
        "cors_security",
        "Managed-CORS-and-SecurityHeadersPolicy",
        "e61eb60c-9c35-4d20-a928-2b84e02af89c",
        false,
    ),
    m(
        "cors_preflight_security",
        "Managed-CORS-with-preflight-and-SecurityHeadersPolicy",
        "eaab4381-ed33-4a86-88ca-d9558dc6cd63",
        false,
    ),
];

/// The profile's word for "no policy" (origin request, response headers).
pub const NONE: &str = "none";

pub fn find(table: &[Managed], name: &str) -> Option<Managed> {
    table.iter().copied().find(|p| p.name == name)
}

pub fn names(table: &[Managed]) -> Vec<&'static str> {
    table.iter().map(|p| p.name).collect()
}
