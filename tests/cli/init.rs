//! `ahi-edge init`: templates are written, valid, and never overwrite by accident.

use crate::support::{run, type_http_acknowledgement};

/// The templates whose ALB origin is plain HTTP.
const HTTP_TEMPLATES: [&str; 2] = ["ahi-delivery", "ahi-delivery-noauth"];

/// Every template `init` writes.
const TEMPLATES: [&str; 4] = [
    "ahi-delivery",
    "ahi-delivery-https",
    "ahi-delivery-noauth",
    "reverse-proxy",
];

#[test]
fn each_template_writes_a_profile_that_validates() {
    for template in TEMPLATES {
        let dir = tempfile::tempdir().unwrap();
        let out = run(&["init", "--template", template], dir.path());
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(out.stdout.contains("wrote ahi-edge.toml"), "{}", out.stdout);
        let profile = dir.path().join("ahi-edge.toml");
        let text = std::fs::read_to_string(&profile).unwrap();
        assert!(text.starts_with("# ahi-edge profile"), "commented template");
        if HTTP_TEMPLATES.contains(&template) {
            type_http_acknowledgement(&profile);
        }
        // The default --profile is ./ahi-edge.toml, so validate finds it.
        let check = run(&["validate"], dir.path());
        assert_eq!(check.code, 0, "{template}: {}", check.stdout);
    }
}

/// Plain HTTP to the ALB carries PHI and the origin secret unencrypted: no
/// template says yes for the user. `init` says so, `validate` refuses the
/// profile until the user types the acknowledgement, naming the key, why,
/// the exact words and the alternative; nothing else is wrong with it.
#[test]
fn the_http_acknowledgement_is_left_for_the_user_to_type() {
    for template in HTTP_TEMPLATES {
        let dir = tempfile::tempdir().unwrap();
        let out = run(&["init", "--template", template], dir.path());
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(
            out.stdout
                .contains("type the plain HTTP acknowledgement under [alb] or use protocol = \"https\""),
            "{}",
            out.stdout
        );
        let text = std::fs::read_to_string(dir.path().join("ahi-edge.toml")).unwrap();
        assert!(
            !text.contains("insecure_http_acknowledgement = \"I"),
            "{template}: pre-filled"
        );
        let check = run(&["validate"], dir.path());
        assert_eq!(check.code, 2, "{template}: {}", check.stdout);
        let all = format!("{}{}", check.stdout, check.stderr);
        let errors: Vec<&str> = all.lines().filter(|l| l.contains(": error: ")).collect();
        assert_eq!(errors.len(), 1, "{template}: one error only:\n{all}");
        for part in [
            "alb.insecure_http_acknowledgement",
            "sends frames, metadata and the origin secret from CloudFront to the ALB unencrypted",
        ] {
            assert!(errors[0].contains(part), "{template}: {part} not in {all}");
        }
        for part in [
            "write insecure_http_acknowledgement = \"I understand encryption in transit is disabled between CloudFront to the ALB\"",
            "or use protocol = \"https\"",
        ] {
            assert!(all.contains(part), "{template}: {part} not in {all}");
        }
    }
}

#[test]
fn stack_name_is_set_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        &["init", "--stack-name", "imaging-prod", "--profile", "p.toml"],
        dir.path(),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = std::fs::read_to_string(dir.path().join("p.toml")).unwrap();
    assert!(text.contains("name = \"imaging-prod\""));
    // The header's advice names the file written, not the template's.
    assert!(
        text.contains("#   ahi-edge validate --profile p.toml\n"),
        "{text}"
    );
    let out = run(
        &["init", "--stack-name", "Imaging_Prod", "--profile", "q.toml"],
        dir.path(),
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("--stack-name = \"Imaging_Prod\": must be lower-case"),
        "{}",
        out.stderr
    );
    assert!(!dir.path().join("q.toml").exists());
}

#[test]
fn an_existing_profile_is_kept_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ahi-edge.toml"), "# mine\n").unwrap();
    let out = run(&["init"], dir.path());
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("ahi-edge.toml: already exists"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--force"), "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("ahi-edge.toml")).unwrap(),
        "# mine\n"
    );
    let out = run(
        &["init", "--force", "--template", "ahi-delivery-noauth"],
        dir.path(),
    );
    assert_eq!(out.code, 0);
    assert!(
        std::fs::read_to_string(dir.path().join("ahi-edge.toml"))
            .unwrap()
            .contains("mode = \"none\"")
    );
}

#[test]
fn help_lists_commands_and_global_flags() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["--help"], dir.path());
    assert_eq!(out.code, 0);
    for word in [
        "init",
        "validate",
        "--profile",
        "--lockfile",
        "--json",
        "--yes",
        "--verbose",
        "--quiet",
        "--no-progress",
        "--endpoint-url",
        "--aws-profile",
        "Exit codes",
    ] {
        assert!(out.stdout.contains(word), "help lacks {word}:\n{}", out.stdout);
    }
}

#[test]
fn flags_that_do_nothing_together_are_refused_and_outputs_says_when_nothing_is_deployed() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(run(&["init", "--profile", "p.toml"], dir.path()).code, 0);
    type_http_acknowledgement(&dir.path().join("p.toml"));
    // --timeout bounds only the replica wait.
    let out = run(
        &["down", "--profile", "p.toml", "--timeout", "10m", "--yes"],
        dir.path(),
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--wait-replicas"), "{}", out.stderr);
    // No lockfile: a script reading the URL must not go on with null.
    let out = run(&["--json", "outputs", "--profile", "p.toml"], dir.path());
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stdout.contains("\"url\": null"), "{}", out.stdout);
    assert!(
        out.stderr.contains("nothing deployed")
            && out.stderr.contains("run `ahi-edge up --profile p.toml` first"),
        "{}",
        out.stderr
    );
}

#[test]
fn every_subcommand_help_has_examples_and_its_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    for command in [
        "init",
        "validate",
        "package",
        "plan",
        "up",
        "status",
        "outputs",
        "down",
        "iam-policy",
        "routes",
        "sign",
    ] {
        let out = run(&[command, "--help"], dir.path());
        assert_eq!(out.code, 0, "{command}: {}", out.stderr);
        assert!(
            out.stdout.contains("Example"),
            "{command} --help has no example:\n{}",
            out.stdout
        );
        assert!(
            out.stdout.contains("Exit codes: 0 "),
            "{command} --help has no exit codes:\n{}",
            out.stdout
        );
    }
}

#[test]
fn the_templates_example_values_warn_and_up_against_aws_refuses_them_before_any_call() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(run(&["init"], dir.path()).code, 0);
    type_http_acknowledgement(&dir.path().join("ahi-edge.toml"));
    let check = run(&["validate"], dir.path());
    assert_eq!(check.code, 0);
    assert!(
        check.stdout.contains(
            "warning: auth.cognito.user_pool_id = \"us-east-1_Ab12Cd34E\": is the template's example user pool, still as `ahi-edge init` wrote it"
        ),
        "{}",
        check.stdout
    );
    // No --endpoint-url: this would be AWS. Refused before any call (there
    // are no credentials here, and no error about them).
    let up = crate::support::bin()
        .args(["up"])
        .current_dir(dir.path())
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_ACCESS_KEY_ID", "none")
        .env("AWS_SECRET_ACCESS_KEY", "none")
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&up.stderr);
    assert_eq!(up.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("still holds the template's example values (22:14 healthimaging.datastores, 44:16 auth.cognito.user_pool_id"),
        "{stderr}"
    );
    assert!(stderr.contains("pass --yes if they are meant"), "{stderr}");
    assert!(!dir.path().join("ahi-edge.lock").exists(), "nothing recorded");
}

/// A user must tell the template's choices from their own mistakes: after
/// `init`, every warning is about a value to replace, and each is said once
/// (by `validate` and by `routes show` alike).
#[test]
fn each_template_warns_only_about_its_example_values_and_each_once() {
    for template in TEMPLATES {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(run(&["init", "--template", template], dir.path()).code, 0);
        if HTTP_TEMPLATES.contains(&template) {
            type_http_acknowledgement(&dir.path().join("ahi-edge.toml"));
        }
        let mut runs = vec![("validate", run(&["validate"], dir.path()))];
        if template == "reverse-proxy" {
            runs.push(("routes show", run(&["routes", "show"], dir.path())));
        }
        for (command, out) in runs {
            assert_eq!(out.code, 0, "{template} {command}: {}", out.stderr);
            let text = format!("{}{}", out.stdout, out.stderr);
            let warnings: Vec<&str> = text.lines().filter(|l| l.contains(": warning: ")).collect();
            assert!(!warnings.is_empty(), "{template}: the examples are marked");
            for w in &warnings {
                assert!(
                    w.ends_with("still as `ahi-edge init` wrote it"),
                    "{template} {command}: a warning about the template's own choice: {w}"
                );
                assert_eq!(
                    warnings.iter().filter(|x| *x == w).count(),
                    1,
                    "{template} {command}: said twice: {w}"
                );
            }
        }
    }
}
