//! The pre-flight of `plan` and `up` (#28): the proxy's image, the Cognito
//! pool and its app clients, an OIDC issuer and its keys are looked up
//! before the first write; each mistake is exit 2 naming the key, the value
//! and the fix, with no write call (the emulator's call log), and every
//! problem is listed at once.

use serde_json::json;

use crate::emulator::Emulator;
use crate::stack::Stack;

const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ahi-regional-proxy:0.1.0";

/// `up` refuses with exit 2, says each of `needles` on stderr, and makes
/// no write call; `plan` says the same.
pub(crate) fn refused(stack: &Stack, needles: &[&str]) {
    for command in ["plan", "up"] {
        let after = stack.last_seq();
        let run = stack.run(&[command]);
        assert_eq!(run.code, 2, "{command}: {}\n{}", run.stdout, run.stderr);
        for needle in needles {
            assert!(
                run.stderr.contains(needle),
                "{command}: no {needle:?} in:\n{}",
                run.stderr
            );
        }
        assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
        assert_eq!(stack.writes_since(after), Vec::<String>::new(), "{command} wrote");
    }
    assert!(stack.lockfile().is_none(), "nothing recorded");
}

#[test]
fn image_mistakes_are_refused_before_any_write() {
    // Its own emulator: "no write" must not see other tests' calls.
    let emu = &Emulator::start();
    // A single-platform image (its architecture is in the config blob).
    emu.control(
        "POST",
        "/_ahi/ecr/images",
        Some(&json!({"region": "us-east-1", "repository": "proxy-amd64", "tag": "1.0", "architecture": "amd64"})),
    );
    let single = "123456789012.dkr.ecr.us-east-1.amazonaws.com/proxy-amd64:1.0";
    let stack = Stack::new(emu, "ahi-delivery", "t-pf-image", &[]);

    stack.edit(IMAGE, &IMAGE.replace(":0.1.0", ":9.9.9"));
    refused(
        &stack,
        &[
            "proxy.image",
            "tag \"9.9.9\" was never pushed to ahi-regional-proxy",
            "fix: push it",
        ],
    );

    stack.edit(":9.9.9", ":0.1.0");
    stack.edit("ahi-regional-proxy:0.1.0", "no-such-repo:0.1.0");
    refused(
        &stack,
        &["no repository \"no-such-repo\" in registry 123456789012 in us-east-1"],
    );

    // The right repository in the wrong region is not there.
    stack.edit(
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/no-such-repo:0.1.0",
        &IMAGE.replace("us-east-1", "ap-southeast-2"),
    );
    refused(
        &stack,
        &["no repository \"ahi-regional-proxy\" in registry 123456789012 in ap-southeast-2"],
    );

    stack.edit(&IMAGE.replace("us-east-1", "ap-southeast-2"), single);
    stack.edit("architecture = \"x86_64\"", "architecture = \"arm64\"");
    refused(
        &stack,
        &[
            "proxy.image",
            "is built for linux/amd64, but proxy.architecture = \"arm64\" needs linux/arm64",
            "fix: set proxy.architecture",
        ],
    );

    // The same image with the architecture it was built for passes, and
    // the checks write nothing (plan exits 4: everything to create).
    stack.edit("architecture = \"arm64\"", "architecture = \"x86_64\"");
    let after = stack.last_seq();
    let plan = stack.run(&["plan"]);
    assert_eq!(plan.code, 4, "{}", plan.stderr);
    assert_eq!(stack.writes_since(after), Vec::<String>::new());
    let reads: Vec<String> = stack
        .calls_since(after)
        .iter()
        .filter_map(|c| c["operation"].as_str().map(str::to_string))
        .filter(|o| ["DescribeImages", "BatchGetImage", "GetDownloadUrlForLayer"].contains(&o.as_str()))
        .collect();
    assert_eq!(
        reads,
        ["DescribeImages", "BatchGetImage", "GetDownloadUrlForLayer"]
    );
}

#[test]
fn identity_mistakes_are_refused_before_any_write_all_at_once() {
    // Its own emulator: "no write" must not see other tests' calls.
    let emu = &Emulator::start();
    let stack = Stack::new(emu, "ahi-delivery", "t-pf-cognito", &[]);
    // A pool id of another region: the pool lives in us-east-1 only.
    stack.edit("us-east-1_Ab12Cd34E", "eu-west-1_Ab12Cd34E");
    refused(
        &stack,
        &[
            "auth.cognito.user_pool_id = \"eu-west-1_Ab12Cd34E\": no such user pool in eu-west-1",
            "fix: copy the pool id",
        ],
    );
    stack.edit("eu-west-1_Ab12Cd34E", "us-east-1_Ab12Cd34E");
    stack.edit("4fr9qmc1oba52s6hrfl5hntu2u", "1nosuchclient0000000000000");
    // With a missing image too: both problems in one answer.
    stack.edit(IMAGE, &IMAGE.replace(":0.1.0", ":0.0.1"));
    refused(
        &stack,
        &[
            "auth.cognito.client_ids: \"1nosuchclient0000000000000\" is no app client of pool us-east-1_Ab12Cd34E",
            "list-user-pool-clients",
            "tag \"0.0.1\" was never pushed",
        ],
    );
}

#[test]
fn oidc_issuer_mistakes_are_refused_before_any_write() {
    // Its own emulator: "no write" must not see other tests' calls.
    let emu = &Emulator::start();
    let issuer = |doc: serde_json::Value| emu.control("POST", "/_ahi/oidc/issuers", Some(&doc));
    issuer(
        json!({"issuer": "https://idp-renamed.example.org", "advertised_issuer": "https://idp-renamed.example.org/"}),
    );
    issuer(json!({"issuer": "https://idp-down.example.org", "jwks_status": 503}));
    issuer(json!({"issuer": "https://idp-ec.example.org", "algorithms": ["ES256"]}));
    issuer(json!({"issuer": "https://idp-good.example.org/realms/imaging"}));
    let oidc = |host: &str| {
        format!("mode = \"oidc\"\n\n[auth.oidc]\nissuer = \"https://{host}\"\naudiences = [\"ahi-viewer\"]")
    };
    let stack = Stack::new(
        emu,
        "ahi-delivery-noauth",
        "t-pf-oidc",
        &[
            ("public = true\n", ""),
            ("mode = \"none\"", &oidc("idp-renamed.example.org")),
        ],
    );
    refused(
        &stack,
        &[
            "auth.oidc.issuer = \"https://idp-renamed.example.org\": the provider names itself \"https://idp-renamed.example.org/\"",
            "fix: set issuer = \"https://idp-renamed.example.org/\"",
        ],
    );
    stack.edit("idp-renamed.example.org", "idp-down.example.org");
    refused(
        &stack,
        &[
            "auth.oidc.jwks_url: the keys at https://idp-down.example.org/.well-known/jwks.json answered HTTP 503",
            "fix: set jwks_url",
        ],
    );
    stack.edit("idp-down.example.org", "idp-ec.example.org");
    refused(
        &stack,
        &["holds no RSA signing key for RS256/RS384/RS512 (it holds: EC ES256)"],
    );
    // Nobody answers for this host at all.
    stack.edit("idp-ec.example.org", "idp-unknown.example.org");
    refused(
        &stack,
        &["its discovery document https://idp-unknown.example.org/.well-known/openid-configuration"],
    );
    // A correct issuer (with a path) passes: plan lists what to create.
    stack.edit("idp-unknown.example.org", "idp-good.example.org/realms/imaging");
    let after = stack.last_seq();
    let plan = stack.run(&["plan"]);
    assert_eq!(plan.code, 4, "{}", plan.stderr);
    assert_eq!(stack.writes_since(after), Vec::<String>::new());
}
