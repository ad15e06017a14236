"""AWS managed cache, origin request and response headers policies: every
account can name them by id, `List*Policies(Type=managed)` lists them, and
nobody can change or delete them.

Ids and names are AWS's (shared/design/cloudfront-routes.md 3.8, 3.9). The
settings follow AWS's documentation of each policy; where a detail is not
documented (SimpleCORS's allowed methods), the choice is the narrowest that
answers what the policy is for."""

from .xmlutil import parse

def _names(element, values):
    if not values:
        return f"<{element}><Quantity>0</Quantity></{element}>"
    inner = "".join(f"<Name>{v}</Name>" for v in values)
    return f"<{element}><Quantity>{len(values)}</Quantity><Items>{inner}</Items></{element}>"


def _params(headers=("none", ()), cookies=("none", ()), query=("none", ()), gzip=True, brotli=True):
    return (
        "<ParametersInCacheKeyAndForwardedToOrigin>"
        f"<EnableAcceptEncodingGzip>{str(gzip).lower()}</EnableAcceptEncodingGzip>"
        f"<EnableAcceptEncodingBrotli>{str(brotli).lower()}</EnableAcceptEncodingBrotli>"
        f"<HeadersConfig><HeaderBehavior>{headers[0]}</HeaderBehavior>{_names('Headers', headers[1]) if headers[1] else ''}</HeadersConfig>"
        f"<CookiesConfig><CookieBehavior>{cookies[0]}</CookieBehavior>{_names('Cookies', cookies[1]) if cookies[1] else ''}</CookiesConfig>"
        f"<QueryStringsConfig><QueryStringBehavior>{query[0]}</QueryStringBehavior>{_names('QueryStrings', query[1]) if query[1] else ''}</QueryStringsConfig>"
        "</ParametersInCacheKeyAndForwardedToOrigin>"
    )


def _cache(name, comment, ttl, **params):
    minimum, default, maximum = ttl
    return (
        f"<CachePolicyConfig><Comment>{comment}</Comment><Name>{name}</Name>"
        f"<DefaultTTL>{default}</DefaultTTL><MaxTTL>{maximum}</MaxTTL><MinTTL>{minimum}</MinTTL>"
        + _params(**params) + "</CachePolicyConfig>"
    )


def _origin_request(name, comment, headers=("none", ()), cookies=("none", ()), query=("none", ())):
    return (
        f"<OriginRequestPolicyConfig><Comment>{comment}</Comment><Name>{name}</Name>"
        f"<HeadersConfig><HeaderBehavior>{headers[0]}</HeaderBehavior>{_names('Headers', headers[1]) if headers[1] else ''}</HeadersConfig>"
        f"<CookiesConfig><CookieBehavior>{cookies[0]}</CookieBehavior>{_names('Cookies', cookies[1]) if cookies[1] else ''}</CookiesConfig>"
        f"<QueryStringsConfig><QueryStringBehavior>{query[0]}</QueryStringBehavior>{_names('QueryStrings', query[1]) if query[1] else ''}</QueryStringsConfig>"
        "</OriginRequestPolicyConfig>"
    )


def _list(element, member, values):
    inner = "".join(f"<{member}>{v}</{member}>" for v in values)
    return f"<{element}><Quantity>{len(values)}</Quantity><Items>{inner}</Items></{element}>"


ALL_METHODS = ("GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE")


def _cors(methods, preflight):
    return (
        "<CorsConfig>"
        + _list("AccessControlAllowOrigins", "Origin", ["*"])
        + _list("AccessControlAllowHeaders", "Header", ["*"])
        + _list("AccessControlAllowMethods", "Method", ["ALL"] if preflight else list(methods))
        + "<AccessControlAllowCredentials>false</AccessControlAllowCredentials>"
        + (_list("AccessControlExposeHeaders", "Header", ["*"]) if preflight else "")
        + ("<AccessControlMaxAgeSec>600</AccessControlMaxAgeSec>" if preflight else "")
        + "<OriginOverride>false</OriginOverride></CorsConfig>"
    )


SECURITY = (
    "<SecurityHeadersConfig>"
    "<XSSProtection><Override>false</Override><Protection>true</Protection><ModeBlock>true</ModeBlock></XSSProtection>"
    "<FrameOptions><Override>false</Override><FrameOption>SAMEORIGIN</FrameOption></FrameOptions>"
    "<ReferrerPolicy><Override>false</Override><ReferrerPolicy>strict-origin-when-cross-origin</ReferrerPolicy></ReferrerPolicy>"
    "<ContentTypeOptions><Override>true</Override></ContentTypeOptions>"
    "<StrictTransportSecurity><Override>false</Override><IncludeSubdomains>false</IncludeSubdomains>"
    "<Preload>false</Preload><AccessControlMaxAgeSec>31536000</AccessControlMaxAgeSec></StrictTransportSecurity>"
    "</SecurityHeadersConfig>"
)


def _headers_policy(name, comment, cors=None, security=False):
    return (
        f"<ResponseHeadersPolicyConfig><Comment>{comment}</Comment><Name>{name}</Name>"
        + (cors or "") + (SECURITY if security else "") + "</ResponseHeadersPolicyConfig>"
    )


YEAR = 31536000
ORIGIN_CACHE_HEADERS = ("whitelist", ("host", "origin", "x-http-method-override", "x-http-method", "x-method-override"))
CLOUDFRONT_VIEWER_HEADERS = (
    "cloudfront-viewer-address", "cloudfront-viewer-asn", "cloudfront-viewer-city", "cloudfront-viewer-country",
    "cloudfront-viewer-country-name", "cloudfront-viewer-country-region", "cloudfront-viewer-http-version",
    "cloudfront-viewer-latitude", "cloudfront-viewer-longitude", "cloudfront-viewer-tls",
)

# (kind, id, config XML)
MANAGED = [
    ("CachePolicy", "658327ea-f89d-4fab-a63d-7e88639e58f6", _cache(
        "Managed-CachingOptimized", "Policy with caching enabled. Supports Gzip and Brotli compression.",
        (1, 86400, YEAR))),
    ("CachePolicy", "b2884449-e4de-46a7-ac36-70bc7f1ddd6d", _cache(
        "Managed-CachingOptimizedForUncompressedObjects", "Default policy when compression is disabled",
        (1, 86400, YEAR), gzip=False, brotli=False)),
    ("CachePolicy", "4135ea2d-6df8-44a3-9df3-4b5a84be39ad", _cache(
        "Managed-CachingDisabled", "Policy with caching disabled", (0, 0, 0), gzip=False, brotli=False)),
    ("CachePolicy", "83da9c7e-98b4-4e11-a168-04f0df8e2c65", _cache(
        "Managed-UseOriginCacheControlHeaders", "Policy for origins that return Cache-Control headers",
        (0, 0, YEAR), headers=ORIGIN_CACHE_HEADERS, cookies=("all", ()))),
    ("CachePolicy", "4cc15a8a-d715-48a4-82b8-cc0b614638fe", _cache(
        "Managed-UseOriginCacheControlHeaders-QueryStrings",
        "Policy for origins that return Cache-Control headers and serve different content based on query strings",
        (0, 0, YEAR), headers=ORIGIN_CACHE_HEADERS, cookies=("all", ()), query=("all", ()))),
    ("OriginRequestPolicy", "216adef6-5c7f-47e4-b989-5492eafa07d3", _origin_request(
        "Managed-AllViewer", "Policy to forward all parameters in viewer requests",
        headers=("allViewer", ()), cookies=("all", ()), query=("all", ()))),
    ("OriginRequestPolicy", "b689b0a8-53d0-40ab-baf2-68738e2966ac", _origin_request(
        "Managed-AllViewerExceptHostHeader", "Policy to forward all parameters in viewer requests except for the Host header",
        headers=("allExcept", ("host",)), cookies=("all", ()), query=("all", ()))),
    ("OriginRequestPolicy", "33f36d7e-f396-46d9-90e0-52428a34d9dc", _origin_request(
        "Managed-AllViewerAndCloudFrontHeaders-2022-06", "Policy to forward all parameters in viewer requests and all CloudFront headers",
        headers=("allViewerAndWhitelistCloudFront", CLOUDFRONT_VIEWER_HEADERS), cookies=("all", ()), query=("all", ()))),
    ("OriginRequestPolicy", "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf", _origin_request(
        "Managed-CORS-S3Origin", "Policy for origin request to support CORS for S3 origins",
        headers=("whitelist", ("origin", "access-control-request-headers", "access-control-request-method")))),
    ("OriginRequestPolicy", "59781a5b-3903-41f3-afcb-af62929ccde1", _origin_request(
        "Managed-CORS-CustomOrigin", "Policy for origin request to support CORS for custom origins",
        headers=("whitelist", ("origin",)))),
    ("OriginRequestPolicy", "acba4595-bd28-49b8-b9fe-13317c0390fa", _origin_request(
        "Managed-UserAgentRefererHeaders", "Policy to forward user-agent and referer headers to origin",
        headers=("whitelist", ("user-agent", "referer")))),
    ("ResponseHeadersPolicy", "60669652-455b-4ae9-85a4-c4c02393f86c", _headers_policy(
        "Managed-SimpleCORS", "Allows all origins for simple CORS requests",
        cors=_cors(("GET", "HEAD"), preflight=False))),
    ("ResponseHeadersPolicy", "5cc3b908-e619-4b99-88e5-2cf7f45965bd", _headers_policy(
        "Managed-CORS-With-Preflight", "Allows all origins for CORS requests, including preflight requests",
        cors=_cors(ALL_METHODS, preflight=True))),
    ("ResponseHeadersPolicy", "67f7725c-6f97-4210-82d7-5512b31e9d03", _headers_policy(
        "Managed-SecurityHeadersPolicy", "Adds a set of security headers to every response", security=True)),
    ("ResponseHeadersPolicy", "e61eb60c-9c35-4d20-a928-2b84e02af89c", _headers_policy(
        "Managed-CORS-and-SecurityHeadersPolicy", "Allows all origins for simple CORS requests and adds security headers",
        cors=_cors(("GET", "HEAD"), preflight=False), security=True)),
    ("ResponseHeadersPolicy", "eaab4381-ed33-4a86-88ca-d9558dc6cd63", _headers_policy(
        "Managed-CORS-with-preflight-and-SecurityHeadersPolicy",
        "Allows all origins for CORS requests, including preflight requests, and adds security headers",
        cors=_cors(ALL_METHODS, preflight=True), security=True)),
]


def policies(policy_class):
    """The managed policies as `policy_class(kind, account=None, config)`
    objects with AWS's ids, by id."""
    out = {}
    for kind, policy_id, xml in MANAGED:
        policy = policy_class(kind, None, parse(xml, f"{kind}Config"))
        policy.id = policy_id
        out[policy_id] = policy
    return out
