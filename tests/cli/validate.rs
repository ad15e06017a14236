//! `ahi-edge validate`: every rule, checked by its message text.

use crate::support::{BASE_PROFILE, bin, edited, run, validate};

const POOL: &str = "user_pool_id = \"us-east-1_Ab12Cd34E\"";
const CLIENTS: &str = "client_ids = [\"4fr9qmc1oba52s6hrfl5hntu2u\"]";
const ACK_LINE: &str = "insecure_http_acknowledgement = \"I understand encryption in transit is disabled between CloudFront to the ALB\"";
const HTTP_ALB: &str = "protocol = \"http\"";

#[test]
fn shipped_profiles_are_valid() {
    let root = env!("CARGO_MANIFEST_DIR");
    for name in [
        "ahi-delivery",
        "ahi-delivery-https",
        "ahi-delivery-noauth",
        "reverse-proxy",
    ] {
        let path = format!("{root}/profiles/{name}.toml");
        let out = run(&["validate", "--profile", &path], std::path::Path::new(root));
        assert_eq!(out.code, 0, "{name}: {}", out.stdout);
        assert!(out.stdout.contains(": valid"), "{}", out.stdout);
    }
}

#[test]
fn many_mistakes_are_all_reported_in_one_run_and_nothing_is_written() {
    let text = edited(&[
        ("name = \"ahi-delivery\"", "name = \"Ahi_Prod\""),
        ("region = \"us-east-1\"", "region = \"eu-central-1\""),
        (POOL, "user_pool = \"us-east-1_Ab12Cd34E\""),
        ("cpu = 256", "cpu = 300"),
        ("retention_days = 30", "retention_days = \"30\""),
    ]);
    let v = validate(&text);
    v.exit(2)
        .has_error(
            "stack.name = \"Ahi_Prod\"",
            "must be lower-case letters",
            "rename the stack",
        )
        .has_error(
            "healthimaging.region = \"eu-central-1\"",
            "not a region where AWS HealthImaging",
            "us-west-2",
        )
        .has_error(
            "auth.cognito.user_pool",
            "unknown key",
            "did you mean `user_pool_id`?",
        )
        .has_error(
            "auth.cognito.user_pool_id",
            "missing required key",
            "add user_pool_id",
        )
        .has_error("proxy.cpu = 300", "is not a Fargate CPU size", "256, 512, 1024")
        .has_error(
            "logs.retention_days = \"30\"",
            "expected a whole number, found string",
            "retention_days = 30",
        );
    assert_eq!(v.errors(), 6, "{}", v.run.stdout);
    assert!(v.run.stdout.contains("6 error(s)"));
    // Validation never creates a lockfile or anything else beside the profile.
    let dir = v.path.parent().unwrap();
    let files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files, vec![std::ffi::OsString::from("profile.toml")]);
}

#[test]
fn problems_carry_line_and_column_of_the_value() {
    let text = edited(&[("cpu = 256", "cpu = 256\nmemory_mb = 1")]);
    let line = text.lines().position(|l| l.starts_with("memory_mb")).unwrap() + 1;
    validate(&text)
        .exit(2)
        .at(&format!("{line}:1"), "proxy.memory_mb")
        .has_error("proxy.memory_mb", "unknown key", "did you mean `memory`?");
    let text = edited(&[("log_level = \"info\"", "log_level = \"verbose\"")]);
    let line = text.lines().position(|l| l.starts_with("log_level")).unwrap() + 1;
    validate(&text)
        .at(&format!("{line}:13"), "proxy.log_level")
        .has_error(
            "proxy.log_level = \"verbose\"",
            "is not a supported value",
            "error, warn, info, debug, trace",
        );
}

#[test]
fn malformed_toml_reports_the_parsers_line_and_column() {
    let v = validate("[stack]\nname = \"x\"\n[auth\nmode = 1\n");
    v.exit(2).at("3:6", "(toml)");
    assert!(v.run.stdout.contains("not valid TOML"), "{}", v.run.stdout);
}

#[test]
fn wrong_types_are_named() {
    validate(&edited(&[
        ("desired_count = 1", "desired_count = \"two\""),
        ("query_token = false", "query_token = 0"),
    ]))
    .exit(2)
    .has_error(
        "proxy.desired_count = \"two\"",
        "expected a whole number, found string",
        "desired_count = 1",
    )
    .has_error(
        "auth.query_token = 0",
        "expected true or false, found integer",
        "query_token = true",
    );
    validate(&edited(&[(
        CLIENTS,
        "client_ids = \"4fr9qmc1oba52s6hrfl5hntu2u\"",
    )]))
    .exit(2)
    .has_error(
        "auth.cognito.client_ids = \"4fr9qmc1oba52s6hrfl5hntu2u\"",
        "expected a list of strings, found string",
        "client_ids = [",
    );
    validate(&edited(&[(
        "cache_headers = []",
        "cache_headers = [\"accept\", 7]",
    )]))
    .exit(2)
    .has_error(
        "cloudfront.cache_headers[1] = 7",
        "expected a string, found integer",
        "cache_headers = [",
    );
}

#[test]
fn missing_required_tables_and_keys() {
    let text = BASE_PROFILE.replace("[proxy]", "[proxy_settings]");
    validate(&text)
        .exit(2)
        .has_error("proxy", "missing required table", "[proxy]")
        .has_error("proxy_settings", "unknown key", "did you mean `proxy`?");
    validate(&edited(&[("mode = \"cognito_jwt\"", "")]))
        .exit(2)
        .has_error("auth.mode", "missing required key", "mode = \"cognito_jwt\"");
}

#[test]
fn cognito_pool_id_format_and_length() {
    validate(&edited(&[(POOL, "user_pool_id = \"useast1Ab12\"")]))
        .exit(2)
        .has_error(
            "auth.cognito.user_pool_id = \"useast1Ab12\"",
            "expected <region>_<id>",
            "copy the pool id from the Cognito console",
        );
    validate(&edited(&[(POOL, "user_pool_id = \"us-east-1_Ab-12\"")]))
        .exit(2)
        .has_error(
            "auth.cognito.user_pool_id",
            "must be letters and digits",
            "Cognito console",
        );
    let long = format!("user_pool_id = \"us-east-1_{}\"", "A".repeat(50));
    validate(&edited(&[(POOL, &long)])).exit(2).has_error(
        "auth.cognito.user_pool_id",
        "is 60 characters long; a user pool id has at most 55",
        "Cognito console",
    );
}

#[test]
fn cognito_client_ids() {
    let long = format!("client_ids = [\"{}\"]", "a".repeat(129));
    validate(&edited(&[(CLIENTS, &long)])).exit(2).has_error(
        "auth.cognito.client_ids[0]",
        "is 129 characters long; an app client id has 1 to 128",
        "app client id from the Cognito console",
    );
    validate(&edited(&[(CLIENTS, "client_ids = []")]))
        .exit(2)
        .has_error(
            "auth.cognito.client_ids = []",
            "is empty",
            "at least one app client id",
        );
}

#[test]
fn cognito_jwt_needs_pool_and_clients() {
    validate(&edited(&[(POOL, ""), (CLIENTS, "")]))
        .exit(2)
        .has_error(
            "auth.cognito.user_pool_id",
            "missing required key",
            "user_pool_id",
        )
        .has_error("auth.cognito.client_ids", "missing required key", "client_ids");
    let text = BASE_PROFILE
        .replace("[auth.cognito]", "[unused]")
        .replace(POOL, "")
        .replace(CLIENTS, "");
    let text = text.replace("token_use = \"access\"", "");
    validate(&text)
        .exit(2)
        .has_error("auth.cognito", "needs the user pool", "add [auth.cognito]");
}

#[test]
fn pool_region_must_match_the_id_prefix() {
    validate(&edited(&[(
        POOL,
        "user_pool_id = \"us-east-1_Ab12Cd34E\"\nregion = \"eu-west-1\"",
    )]))
    .exit(2)
    .has_error(
        "auth.cognito.region = \"eu-west-1\"",
        "does not match the user pool id, which is in us-east-1",
        "set region = \"us-east-1\"",
    );
    validate(&edited(&[(POOL, "user_pool_id = \"mars-1_Ab12Cd34E\"")]))
        .exit(2)
        .has_error(
            "auth.cognito.user_pool_id",
            "starts with \"mars-1\", which is not an AWS region",
            "Cognito",
        );
}

#[test]
fn oidc_needs_https_issuer_and_audiences() {
    let oidc = "mode = \"oidc\"";
    let text = edited(&[("mode = \"cognito_jwt\"", oidc)])
        .replace(
            "[auth.cognito]",
            "[auth.oidc]\nissuer = \"http://login.example.com\"\naudiences = []",
        )
        .replace(POOL, "")
        .replace(CLIENTS, "")
        .replace("token_use = \"access\"", "");
    validate(&text)
        .exit(2)
        .has_error(
            "auth.oidc.issuer = \"http://login.example.com\"",
            "must start with https://",
            "https URL",
        )
        .has_error(
            "auth.oidc.audiences = []",
            "at least one non-empty audience",
            "`aud`",
        );
}

#[test]
fn settings_for_another_auth_mode_are_refused() {
    validate(&edited(&[("mode = \"cognito_jwt\"", "mode = \"none\"")]))
        .exit(2)
        .has_error(
            "auth.mode = \"none\"",
            "does not use [auth.cognito], which is also set",
            "remove [auth.cognito]",
        );
}

#[test]
fn unsupported_healthimaging_region() {
    validate(&edited(&[("region = \"us-east-1\"", "region = \"us-east-2\"")]))
        .exit(2)
        .has_error(
            "healthimaging.region = \"us-east-2\"",
            "is not a region where AWS HealthImaging is offered",
            "us-east-1, us-west-2, ap-southeast-2, eu-west-1",
        );
}

#[test]
fn https_alb_needs_hostname_and_certificate_in_the_healthimaging_region() {
    validate(&edited(&[(HTTP_ALB, "protocol = \"https\""), (ACK_LINE, "")]))
        .exit(2)
        .has_error(
            "alb.hostname",
            "HTTPS to the ALB needs the DNS name",
            "add hostname",
        )
        .has_error(
            "alb.certificate_arn",
            "HTTPS to the ALB needs an ACM certificate",
            "add certificate_arn",
        );
    let cert = "arn:aws:acm:eu-west-1:123456789012:certificate/0b9c1b6e-1c1f-4a5e-9d7e-2d3f4a5b6c7d";
    let https = format!("protocol = \"https\"\nhostname = \"alb.example.com\"\ncertificate_arn = \"{cert}\"");
    validate(&edited(&[(HTTP_ALB, &https), (ACK_LINE, "")]))
        .exit(2)
        .has_error(
            &format!("alb.certificate_arn = \"{cert}\""),
            "is in region eu-west-1, but it must be in us-east-1",
            "ACM certificate in the HealthImaging region us-east-1",
        );
    let https = "protocol = \"https\"\nhostname = \"alb..example.com\"\ncertificate_arn = \"arn:aws:iam::123456789012:role/x\"";
    validate(&edited(&[(HTTP_ALB, https), (ACK_LINE, "")]))
        .exit(2)
        .has_error(
            "alb.hostname = \"alb..example.com\"",
            "has label \"\"",
            "DNS name",
        )
        .has_error(
            "alb.certificate_arn",
            "is a iam ARN, not an ACM certificate ARN",
            "ACM certificate",
        );
}

#[test]
fn http_alb_needs_the_exact_acknowledgement() {
    validate(&edited(&[(
        ACK_LINE,
        "insecure_http_acknowledgement = \"I understand\"",
    )]))
    .exit(2)
    .has_error(
        "alb.insecure_http_acknowledgement = \"I understand\"",
        "is not the exact acknowledgement text",
        "\"I understand encryption in transit is disabled between CloudFront to the ALB\"",
    );
    validate(&edited(&[(ACK_LINE, "")])).exit(2).has_error(
        "alb.insecure_http_acknowledgement",
        "sends frames, metadata and the origin secret from CloudFront to the ALB unencrypted",
        "or use protocol = \"https\"",
    );
}

#[test]
fn aliases_need_valid_names_and_a_us_east_1_certificate() {
    let cf = "price_class = \"PriceClass_All\"";
    validate(&edited(&[(
        cf,
        "aliases = [\"images.example.com\", \"bad_name.example.com\"]",
    )]))
    .exit(2)
    .has_error(
        "cloudfront.certificate_arn",
        "aliases need a certificate",
        "ACM certificate in us-east-1",
    )
    .has_error(
        "cloudfront.aliases[1] = \"bad_name.example.com\"",
        "has label \"bad_name\"",
        "DNS name",
    );
    let cert = "arn:aws:acm:us-west-2:123456789012:certificate/0b9c1b6e-1c1f-4a5e-9d7e-2d3f4a5b6c7d";
    let with_cert = format!("aliases = [\"*.example.com\"]\ncertificate_arn = \"{cert}\"");
    validate(&edited(&[(cf, &with_cert)])).exit(2).has_error(
        "cloudfront.certificate_arn",
        "is in region us-west-2, but it must be in us-east-1",
        "CloudFront uses certificates from us-east-1",
    );
}

#[test]
fn cache_headers_are_valid_unique_and_at_most_ten() {
    let line = "cache_headers = []";
    validate(&edited(&[(
        line,
        "cache_headers = [\"Accept\", \"accept\", \"x bad\"]",
    )]))
    .exit(2)
    .has_error(
        "cloudfront.cache_headers[1] = \"accept\"",
        "is listed twice",
        "remove the duplicate",
    )
    .has_error(
        "cloudfront.cache_headers[2] = \"x bad\"",
        "not allowed in a header name",
        "header name",
    );
    let eleven: Vec<String> = (0..11).map(|i| format!("\"x-h{i}\"")).collect();
    validate(&edited(&[(
        line,
        &format!("cache_headers = [{}]", eleven.join(", ")),
    )]))
    .exit(2)
    .has_error(
        "cloudfront.cache_headers",
        "has 11 headers; a cache policy takes at most 10",
        "keep only",
    );
}

#[test]
fn contradictory_cache_settings_are_refused_with_the_fix() {
    // A profile from before the shared cache: its per-token key is named.
    validate(&edited(&[(
        "cache_headers = []",
        "cache_headers = [\"Authorization\"]",
    )]))
    .exit(2)
    .has_error(
        "cloudfront.cache_headers[0] = \"Authorization\"",
        "cannot key the shared cache: the authorizer removes Authorization",
        "set cache = \"per_viewer\" for one cached copy per token",
    );
    validate(&edited(&[
        ("cache = \"shared\"", "cache = \"per_viewer\""),
        ("cache_headers = []", "cache_headers = [\"authorization\"]"),
    ]))
    .exit(0);
    // No authorizer, no token to key on.
    let noauth = std::fs::read_to_string(format!(
        "{}/profiles/ahi-delivery-noauth.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .replace("cache = \"shared\"", "cache = \"per_viewer\"");
    validate(&noauth).exit(2).has_error(
        "cloudfront.cache = \"per_viewer\"",
        "keys the cache on the viewer's token, and auth.mode = \"none\" has no token",
        "remove cache (the shared cache is the default)",
    );
    validate(&edited(&[("cache = \"shared\"", "cache = \"private\"")]))
        .exit(2)
        .has_error("cloudfront.cache = \"private\"", "", "shared");
}

#[test]
fn stack_name_charset_and_derived_name_lengths() {
    validate(&edited(&[("name = \"ahi-delivery\"", "name = \"ahi--x\"")]))
        .exit(2)
        .has_error("stack.name = \"ahi--x\"", "single hyphens", "rename the stack");
    let long = "a".repeat(29);
    validate(&edited(&[(
        "name = \"ahi-delivery\"",
        &format!("name = \"{long}\""),
    )]))
    .exit(2)
    .has_error(
        "stack.name",
        &format!("the load balancer name \"{long}-alb\" would be 33 characters (limit 32)"),
        "at most 28 characters",
    );
}

#[test]
fn fargate_cpu_and_memory_must_be_a_valid_pair() {
    validate(&edited(&[("memory = 512", "memory = 4096")]))
        .exit(2)
        .has_error(
            "proxy.memory = 4096",
            "is not a memory size Fargate accepts with cpu = 256",
            "memory is one of: 512, 1024, 2048",
        );
}

#[test]
fn enums_suggest_the_right_spelling() {
    validate(&edited(&[(
        "architecture = \"x86_64\"",
        "architecture = \"ARM64\"",
    )]))
    .exit(2)
    .has_error(
        "proxy.architecture = \"ARM64\"",
        "is not a supported value",
        "did you mean \"arm64\"?",
    );
    validate(&edited(&[(
        "architecture = \"x86_64\"",
        "architecture = \"amd64\"",
    )]))
    .exit(2)
    .has_error(
        "proxy.architecture = \"amd64\"",
        "spelled differently in ECS",
        "write \"x86_64\"",
    );
    validate(&edited(&[(
        "price_class = \"PriceClass_All\"",
        "price_class = \"PriceClass_300\"",
    )]))
    .exit(2)
    .has_error(
        "cloudfront.price_class",
        "is not a supported value",
        "PriceClass_100",
    );
}

#[test]
fn arns_must_parse_and_name_the_right_service() {
    let cf = "price_class = \"PriceClass_All\"";
    validate(&edited(&[(
        cf,
        "web_acl_arn = \"arn:aws:wafv2:us-east-1:123456789012:regional/webacl/x/1\"",
    )]))
    .exit(2)
    .has_error(
        "cloudfront.web_acl_arn",
        "is not a CloudFront-scoped web ACL",
        "scope CLOUDFRONT",
    );
    validate(&edited(&[(cf, "web_acl_arn = \"not-an-arn\"")]))
        .exit(2)
        .has_error(
            "cloudfront.web_acl_arn = \"not-an-arn\"",
            "is not an ARN",
            "WAFv2 web ACL",
        );
    validate(&edited(&[(
        cf,
        "web_acl_arn = \"arn:aws:wafv2:us-east-1:12345:global/webacl/x/1\"",
    )]))
    .exit(2)
    .has_error("cloudfront.web_acl_arn", "not a 12-digit AWS account id", "WAFv2");
}

#[test]
fn warnings_do_not_fail_validation() {
    let v = validate(&edited(&[(
        "ahi-regional-proxy:0.1.0\"",
        "ahi-regional-proxy:latest\"",
    )]));
    v.exit(0).has(
        "warning",
        "proxy.image",
        "has no fixed tag or digest",
        "pin a version tag",
    );
    assert!(v.run.stdout.contains(": valid with "), "{}", v.run.stdout);
}

#[test]
fn json_output_lists_problems_as_data() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.toml"), edited(&[("cpu = 256", "cpu = 300")])).unwrap();
    let out = run(&["--json", "validate", "--profile", "p.toml"], dir.path());
    assert_eq!(out.code, 2);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    assert_eq!(doc["valid"], false);
    assert_eq!(doc["errors"], 1);
    let problem = doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["severity"] == "error")
        .unwrap();
    assert_eq!(problem["key"], "proxy.cpu");
    assert_eq!(problem["value"], "300");
    assert_eq!(problem["severity"], "error");
    assert!(problem["line"].as_u64().unwrap() > 1);
    assert!(problem["fix"].as_str().unwrap().contains("256"));
}

#[test]
fn a_missing_profile_and_bad_flags_are_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("profiles")).unwrap();
    let out = run(&["validate", "--profile", "profiles"], dir.path());
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("is a directory, not a profile"),
        "{}",
        out.stderr
    );
    let out = run(&["validate", "--profile", "nope.toml"], dir.path());
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("nope.toml: profile not found"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("ahi-edge init"), "{}", out.stderr);
    // A named AWS profile that no shared file defines is refused, as
    // `aws --profile nosuch` refuses it, even when environment credentials exist.
    std::fs::write(
        dir.path().join("config"),
        "[default]\nregion = us-east-1\n[profile ops]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("credentials"), "[ci]\naws_access_key_id = x\n").unwrap();
    let with_files = |name: &str| {
        bin()
            .args(["validate", "--aws-profile", name])
            .env("AWS_CONFIG_FILE", dir.path().join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("credentials"))
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let out = with_files("nosuch");
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains(
            "--aws-profile = \"nosuch\": names no profile in the shared AWS config or credentials file"
        ),
        "{text}"
    );
    assert!(text.contains("aws configure list-profiles"), "{text}");
    for known in ["ops", "ci", "default"] {
        let text = String::from_utf8_lossy(&with_files(known).stderr).to_string();
        assert!(!text.contains("--aws-profile"), "{known}: {text}");
    }
    // The flag that did nothing is gone.
    let out = bin()
        .args(["validate", "--region", "us-west-2"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = bin()
        .args(["validate"])
        .env("AWS_ENDPOINT_URL", "127.0.0.1:5000")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not an http(s) URL with a host"));
}

#[test]
fn a_broken_lockfile_beside_the_profile_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.toml"), BASE_PROFILE).unwrap();
    std::fs::write(
        dir.path().join("p.lock"),
        "schema = 1\nstack = \"other\"\ntool_version = \"0\"\ncreated_at = \"x\"\nupdated_at = \"x\"\n",
    )
    .unwrap();
    let out = run(&["validate", "--profile", "p.toml"], dir.path());
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("p.lock: belongs to stack \"other\""),
        "{}",
        out.stderr
    );
    std::fs::write(dir.path().join("p.lock"), "schema = [").unwrap();
    let out = run(&["validate", "--profile", "p.toml"], dir.path());
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("p.lock: cannot be read as an ahi-edge lockfile"),
        "{}",
        out.stderr
    );
}

/// Names AWS reserves, by the resource each stack name would produce, and
/// the rule; nothing is created with them.
#[test]
fn stack_names_that_give_reserved_aws_names_are_refused_naming_the_resource_and_rule() {
    for (stack, derived, rule) in [
        (
            "sg-imaging",
            "security group name \"sg-imaging-alb\"",
            "security group names may not begin with \"sg-\"",
        ),
        (
            "internal-imaging",
            "load balancer name \"internal-imaging-alb\"",
            "Elastic Load Balancing names may not begin with \"internal-\"",
        ),
        (
            "sthree-imaging",
            "S3 log bucket name \"sthree-imaging-logs-000000000000-us-east-1\"",
            "S3 bucket names may not begin with \"sthree-\" or \"amzn-s3-demo-\"",
        ),
        (
            "amzn-s3-demo-x",
            "S3 log bucket name \"amzn-s3-demo-x-logs-000000000000-us-east-1\"",
            "S3 bucket names may not begin",
        ),
    ] {
        let text = edited(&[("name = \"ahi-delivery\"", &format!("name = \"{stack}\""))]);
        validate(&text).exit(2).has_error(
            &format!("stack.name = \"{stack}\""),
            &format!("gives the {derived}, which AWS refuses: {rule}"),
            "choose a stack name that does not begin with",
        );
    }
}

#[test]
fn an_image_with_a_url_scheme_is_refused() {
    let text = edited(&[(
        "image = \"123456789012.dkr.ecr",
        "image = \"https://123456789012.dkr.ecr",
    )]);
    validate(&text).exit(2).has_error(
        "proxy.image = \"https://123456789012.dkr.ecr.us-east-1.amazonaws.com/ahi-regional-proxy:0.1.0\"",
        "starts with a URL scheme (https://)",
        "ACCOUNT.dkr.ecr.REGION.amazonaws.com",
    );
}

#[test]
fn a_duplicate_key_or_table_is_named() {
    let twice = format!("{BASE_PROFILE}\n[logs]\nretention_days = 7\n");
    validate(&twice).exit(2).has_error(
        "logs",
        "the table [logs] is defined twice",
        "merge the two [logs] tables into one",
    );
    let key = edited(&[("retention_days = 30", "retention_days = 30\nretention_days = 31")]);
    validate(&key).exit(2).has_error(
        "retention_days",
        "the key retention_days is set twice in its table",
        "keep one retention_days = ... line",
    );
}

#[test]
fn fixes_use_the_users_own_value_and_suggest_a_region_for_a_typo() {
    validate(&edited(&[("desired_count = 1", "desired_count = \"2\"")]))
        .exit(2)
        .has_error(
            "proxy.desired_count = \"2\"",
            "expected a whole number, found string",
            "write it as desired_count = 2",
        );
    validate(&edited(&[("region = \"us-east-1\"", "region = \"us-east1\"")]))
        .exit(2)
        .has_error(
            "healthimaging.region = \"us-east1\"",
            "is not a region where AWS HealthImaging is offered",
            "did you mean \"us-east-1\"?",
        );
    validate(&format!(
        "{}\n[lambda_edge]\nreplica_regions = [\"eu-west-l\"]\n",
        edited(&[])
    ))
    .exit(2)
    .has_error(
        "lambda_edge.replica_regions[0] = \"eu-west-l\"",
        "is not an AWS region",
        "did you mean \"eu-west-1\"?",
    );
}
