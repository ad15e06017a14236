//! `validate` on routes: each rule of the route table, checked by its
//! message, its place and its fix; `routes test` against the evaluator.

use crate::support::{run, validate};

const BASE: &str = include_str!("../../profiles/reverse-proxy.toml");

/// The reverse-proxy template with each `(old, new)` edit applied.
fn routes_profile(edits: &[(&str, &str)]) -> String {
    let mut text = BASE.to_string();
    for (old, new) in edits {
        assert!(text.contains(old), "template has no {old:?}");
        text = text.replacen(old, new, 1);
    }
    text
}

#[test]
fn a_shadowed_route_is_named_with_a_path_that_proves_it() {
    let text = routes_profile(&[(
        "[[routes]]\npath = \"/stac/*\"",
        "[[routes]]\npath = \"/api/v2/*\"\norigin = \"stac\"\n\n[[routes]]\npath = \"/stac/*\"",
    )]);
    validate(&text).exit(2).has_error(
        "routes[1].path = \"/api/v2/*\"",
        "route 2 is never reached: every path it matches matches route 1 (/api/*) first, e.g. GET /api/v2/x matches route 1 first",
        "move it above route 1",
    );
}

#[test]
fn the_default_route_is_required_once_and_last() {
    let no_default = routes_profile(&[(
        "path = \"*\"\norigin = \"app\"",
        "path = \"/app/*\"\norigin = \"app\"",
    )]);
    validate(&no_default).exit(2).has_error(
        "routes",
        "no default route",
        "add a last [[routes]] with path = \"*\"",
    );
    let first = routes_profile(&[
        (
            "[[routes]]\npath = \"/api/*\"",
            "[[routes]]\npath = \"*\"\norigin = \"api\"\n\n[[routes]]\npath = \"/api/*\"",
        ),
        (
            "path = \"*\"\norigin = \"app\"",
            "path = \"/app/*\"\norigin = \"app\"",
        ),
    ]);
    let v = validate(&first);
    v.exit(2).has_error(
        "routes[0].path = \"*\"",
        "the default route is route 1 of 6",
        "move the route with path = \"*\" to the end",
    );
}

#[test]
fn a_bare_prefix_is_a_warning_saying_where_it_goes_unless_the_route_says_so() {
    // The template says /api is meant for the app: no warning.
    assert!(!validate(BASE).run.stdout.contains("no trailing slash"));
    let unsaid = routes_profile(&[(
        "bare_path = \"elsewhere\"             # /api itself",
        "# /api itself",
    )]);
    let v = validate(&unsaid);
    v.exit(0).has(
        "warning",
        "routes[0].path = \"/api/*\"",
        "/api (no trailing slash) does not match /api/*: it goes to route 5 (*, origin app)",
        "add a route with path = \"/api\" above; if it is meant for route 5, say so with bare_path = \"elsewhere\" on this route",
    );
    assert!(
        !v.run.stdout.contains("/stac (no trailing slash)"),
        "the other routes say it"
    );

    let unknown = routes_profile(&[(
        "bare_path = \"elsewhere\"             # /api itself",
        "bare_path = \"mine\" # /api itself",
    )]);
    validate(&unknown).exit(2).has_error(
        "routes[0].bare_path = \"mine\"",
        "is not a known value",
        "write bare_path = \"elsewhere\"",
    );
    let default = routes_profile(&[("spa = true ", "bare_path = \"elsewhere\"\nspa = true ")]);
    validate(&default).exit(2).has_error(
        "routes[4].bare_path = \"elsewhere\"",
        "is only for a path ending in /* (this route's is \"*\")",
        "remove it",
    );
}

#[test]
fn strip_prefix_must_be_a_literal_prefix_of_the_path() {
    let text = routes_profile(&[("strip_prefix = \"/api\"", "strip_prefix = \"/v1\"")]);
    validate(&text).exit(2).has_error(
        "routes[0].strip_prefix = \"/v1\"",
        "is not a literal prefix of the route's path \"/api/*\"",
        "use a prefix of \"/api/\", e.g. \"/api\"",
    );
}

#[test]
fn a_listing_grant_that_would_expose_the_bucket_root_is_refused() {
    let text = routes_profile(&[(
        "bucket = \"example-storage\"",
        "bucket = \"example-storage\"\nlist = true",
    )]);
    validate(&text).exit(2).has_error(
        "origins.storage.list = true",
        "GET /storage/ reaches bucket example-storage as / (route 3, /storage/*): with s3:ListBucket granted, S3 answers that with a listing of every key",
        "remove list = true",
    );
    // Without the strip, keys start with storage/: no request reaches the root.
    let safe = routes_profile(&[
        (
            "bucket = \"example-storage\"",
            "bucket = \"example-storage\"\nlist = true",
        ),
        ("strip_prefix = \"/storage\"", ""),
        ("uri = \"/reports/q3.pdf\"", "uri = \"/storage/reports/q3.pdf\""),
    ]);
    validate(&safe).exit(0);
}

#[test]
fn the_authorizer_beside_a_rewrite_is_refused() {
    let hi = include_str!("../../profiles/ahi-delivery.toml").to_string()
        + "\n[origins.app]\nkind = \"s3\"\nbucket = \"viewer-app\"\n\n\
           [[routes]]\npath = \"/datastore/*\"\norigin = \"healthimaging\"\n\n\
           [[routes]]\npath = \"*\"\norigin = \"app\"\nspa = true\nauth = true\n";
    validate(&hi).exit(2).has_error(
        "routes[1].spa = true",
        "route 2 needs both the JWT authorizer (Lambda@Edge, viewer-request) and a rewrite (a CloudFront Function, viewer-request); CloudFront allows no CloudFront Function beside Lambda@Edge on viewer events",
        "drop the rewrite from this route",
    );
    let ok = hi.replace("spa = true\nauth = true\n", "spa = true\n");
    validate(&ok).exit(0);
}

#[test]
fn unknown_origins_failed_route_tests_and_misplaced_sections_are_named() {
    let text = routes_profile(&[("origin = \"stac\"", "origin = \"stack\"")]);
    validate(&text).exit(2).has_error(
        "routes[1].origin = \"stack\"",
        "is not an origin of this profile",
        "use one of: api, stac, storage, thumbnails, app",
    );
    let text = routes_profile(&[("uri = \"/users?x=1\"", "uri = \"/api/users?x=1\"")]);
    validate(&text).exit(2).has_error(
        "route_tests[0]",
        "GET /api/users?x=1 reaches api as /users?x=1, not /api/users?x=1",
        "fix the route table, or the test's expectation",
    );
    let proxy = routes_profile(&[("[origins.api]", "[proxy]\ncpu = 256\n\n[origins.api]")]);
    validate(&proxy).exit(2).has_error(
        "proxy",
        "[proxy] belongs to the HealthImaging stack, and this profile has no [healthimaging]",
        "remove [proxy]",
    );
    let no_region = routes_profile(&[("region = \"us-east-1\"\n", "")]);
    validate(&no_region).exit(2).has_error(
        "stack.region",
        "a routes-only profile needs a region",
        "add region = \"us-east-1\" to [stack]",
    );
    let plain_http = routes_profile(&[(
        "domain = \"api.example.com\"",
        "domain = \"api.example.com\"\nprotocol = \"http\"",
    )]);
    validate(&plain_http).exit(2).has_error(
        "origins.api.insecure_http_acknowledgement",
        "sends requests from CloudFront to this origin unencrypted",
        "write insecure_http_acknowledgement =",
    );
}

#[test]
fn routes_test_prints_the_route_origin_and_origin_uri() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("site.toml"), BASE).unwrap();
    let out = run(
        &[
            "--profile",
            "site.toml",
            "--json",
            "routes",
            "test",
            "GET /api/users?x=1",
            "/dashboard/42",
            "POST /storage/a",
        ],
        dir.path(),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let d = &doc["decisions"];
    assert_eq!(
        (d[0]["route"].as_u64(), d[0]["origin"].as_str()),
        (Some(1), Some("api"))
    );
    assert_eq!(d[0]["origin_uri"], "/users?x=1");
    assert_eq!(d[1]["origin"], "app");
    assert_eq!(d[1]["origin_uri"], "/index.html");
    assert_eq!(d[2]["method_allowed"], false);
    assert!(
        d[2]["notes"][0]
            .as_str()
            .unwrap()
            .contains("CloudFront answers 403 to POST")
    );
    let bad = run(
        &["--profile", "site.toml", "routes", "test", "FETCH /x"],
        dir.path(),
    );
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .contains("\"FETCH\" is not a method CloudFront passes on"),
        "{}",
        bad.stderr
    );
    // Without requests: the profile's own [[route_tests]].
    let own = run(&["--profile", "site.toml", "routes", "test"], dir.path());
    assert_eq!(own.code, 0);
    assert!(
        own.stdout.contains("origin receives: GET /reports/q3.pdf"),
        "{}",
        own.stdout
    );
}

#[test]
fn quotas_are_settings_with_aws_defaults() {
    let text = format!("{BASE}\n[cloudfront.quotas]\nbehaviors = 3\n");
    validate(&text).exit(2).has_error(
        "routes",
        "5 routes make 4 cache behaviours besides the default; the quota is 3",
        "raise the quota with AWS and set [cloudfront.quotas] behaviors",
    );
    let raised = format!("{BASE}\n[cloudfront.quotas]\nbehaviors = 4\norigins = 5\n");
    validate(&raised).exit(0);
    let silly = format!("{BASE}\n[cloudfront.quotas]\nbehaviorz = 4\n");
    validate(&silly).exit(2).has_error(
        "cloudfront.quotas.behaviorz",
        "unknown key",
        "did you mean `behaviors`?",
    );
}

#[test]
fn signers_keys_are_checked_offline() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cli/fixtures");
    let dir = tempfile::tempdir().unwrap();
    for f in ["signer-a.pub.pem", "signer-1024.pub.pem", "signer-a.pem"] {
        std::fs::copy(format!("{fixtures}/{f}"), dir.path().join(f)).unwrap();
    }
    let check = |keys: &str, signed: &str| {
        let text = BASE.replacen(
            "[origins.api]",
            &format!("[signers.storage]\nkeys = [{keys}]\n\n[origins.api]"),
            1,
        );
        let text = text.replacen(
            "strip_prefix = \"/storage\"",
            &format!("strip_prefix = \"/storage\"\n{signed}"),
            1,
        );
        std::fs::write(dir.path().join("p.toml"), text).unwrap();
        run(&["validate", "--profile", "p.toml"], dir.path())
    };
    let ok = check(
        "{ id = \"k1\", public_key = \"signer-a.pub.pem\" }",
        "signed = \"storage\"",
    );
    assert_eq!(ok.code, 0, "{}", ok.stdout);
    let short = check(
        "{ id = \"k1\", public_key = \"signer-1024.pub.pem\" }",
        "signed = \"storage\"",
    );
    assert_eq!(short.code, 2);
    assert!(short.stdout.contains("signers.storage.keys[0].public_key = \"signer-1024.pub.pem\": holds a 1024-bit RSA key; CloudFront takes 2048-bit keys only"), "{}", short.stdout);
    let private = check(
        "{ id = \"k1\", public_key = \"signer-a.pem\" }",
        "signed = \"storage\"",
    );
    assert!(
        private
            .stdout
            .contains("holds a PRIVATE key: never give ahi-edge or CloudFront the private half"),
        "{}",
        private.stdout
    );
    let missing = check(
        "{ id = \"k1\", public_key = \"nope.pem\" }",
        "signed = \"storage\"",
    );
    assert!(
        missing
            .stdout
            .contains("signers.storage.keys[0].public_key = \"nope.pem\": cannot be read"),
        "{}",
        missing.stdout
    );
    let twice = check(
        "{ id = \"k1\", public_key = \"signer-a.pub.pem\" }, { id = \"k1\", public_key = \"signer-a.pub.pem\" }",
        "signed = \"storage\"",
    );
    assert!(
        twice.stdout.contains("is listed twice in this signer"),
        "{}",
        twice.stdout
    );
    let unknown = check(
        "{ id = \"k1\", public_key = \"signer-a.pub.pem\" }",
        "signed = \"store\"",
    );
    assert!(
        unknown
            .stdout
            .contains("routes[2].signed = \"store\": is not a signer of this profile"),
        "{}",
        unknown.stdout
    );
    assert!(
        unknown.stdout.contains("fix: use one of: storage"),
        "{}",
        unknown.stdout
    );
    let unused = check("{ id = \"k1\", public_key = \"signer-a.pub.pem\" }", "");
    assert_eq!(unused.code, 0);
    assert!(
        unused
            .stdout
            .contains("warning: signers.storage: no route uses this signer"),
        "{}",
        unused.stdout
    );
}

#[test]
fn a_signed_healthimaging_route_must_say_whether_the_authorizer_runs_too() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cli/fixtures");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(format!("{fixtures}/signer-a.pub.pem"), dir.path().join("a.pem")).unwrap();
    let text = |auth: &str| {
        include_str!("../../profiles/ahi-delivery.toml").to_string()
            + "\n[signers.frames]\nkeys = [{ id = \"k1\", public_key = \"a.pem\" }]\n\n\
               [[routes]]\npath = \"*\"\norigin = \"healthimaging\"\nsigned = \"frames\"\n"
            + auth
    };
    std::fs::write(dir.path().join("p.toml"), text("")).unwrap();
    let out = run(&["validate", "--profile", "p.toml"], dir.path());
    assert_eq!(out.code, 2);
    assert!(
        out.stdout.contains(
            "routes[0].signed = \"frames\": asks for signed URLs on a route the JWT authorizer also guards"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("fix: say which: auth = false for signed URLs alone, or auth = true to require both"),
        "{}",
        out.stdout
    );
    for auth in ["auth = false\n", "auth = true\n"] {
        std::fs::write(dir.path().join("p.toml"), text(auth)).unwrap();
        let out = run(&["validate", "--profile", "p.toml"], dir.path());
        assert_eq!(out.code, 0, "{auth}: {}", out.stdout);
    }
}
