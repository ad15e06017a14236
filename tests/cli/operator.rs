//! `up --no-wait` and `invalidate` (#28): a run that returns before
//! CloudFront deploys, with `status` saying when it is serving; an object
//! served stale from the edge's cache until `ahi-edge invalidate` says
//! otherwise, checked through the local edge.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::emulator::Emulator;
use crate::stack::Stack;

/// A one-route site: everything from one private bucket (cached, as a
/// single-page app's files are).
fn site<'a>(emu: &'a Emulator, name: &str) -> Stack<'a> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("profile.toml"),
        format!(
            "[stack]\nname = \"{name}\"\nregion = \"us-east-1\"\n\n\
             [origins.site]\nkind = \"s3\"\nbucket = \"{name}-site\"\n\n\
             [[routes]]\npath = \"*\"\norigin = \"site\"\n"
        ),
    )
    .unwrap();
    emu.boto3(&format!(
        "s3 = client('s3')\n\
         s3.create_bucket(Bucket='{name}-site')\n\
         s3.put_object(Bucket='{name}-site', Key='index.html', Body=b'build 1', ContentType='text/html')\n\
         print('null')"
    ));
    Stack {
        emu,
        name: name.to_string(),
        dir,
    }
}

fn domain(stack: &Stack) -> String {
    let (code, out) = stack.json(&["outputs"]);
    assert_eq!(code, 0, "{out}");
    out["distribution_domain"].as_str().unwrap().to_string()
}

#[test]
fn up_no_wait_returns_before_the_deploy_and_status_says_when_it_is_serving() {
    let emu = &Emulator::start();
    // A deploy of about twenty seconds at the tests' time scale.
    emu.control(
        "POST",
        "/_ahi/config",
        Some(&json!({"delays": {"distribution_create": 10000}})),
    );
    let stack = site(emu, "t-nowait");
    let (code, up) = stack.json(&["up", "--no-wait"]);
    assert_eq!(code, 0, "{up}");
    assert_eq!(up["complete"], true);
    let waits: Vec<(String, String)> = up["waits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["id"].as_str().unwrap().into(),
                w["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        waits,
        [("distribution_deployed".to_string(), "skipped".to_string())]
    );
    // boto3: created, not yet deployed.
    let live = emu.boto3(&format!(
        "cf = client('cloudfront')\n\
         d = [d for d in cf.list_distributions()['DistributionList'].get('Items', []) if d['Comment'].startswith('ahi-edge stack {}:')]\n\
         print(json.dumps([x['Status'] for x in d]))",
        stack.name
    ));
    assert_eq!(live, json!(["InProgress"]), "up returned before the deploy");
    let (code, status) = stack.json(&["status"]);
    assert_eq!(
        (code, status["state"].as_str()),
        (3, Some("deploying")),
        "{status}"
    );

    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (code, status) = stack.json(&["status"]);
        if code == 0 {
            assert_eq!(status["state"], "healthy");
            break;
        }
        assert_eq!(code, 3, "only deploying until it is served: {status}");
        assert!(Instant::now() < deadline, "never deployed: {status}");
        std::thread::sleep(Duration::from_millis(500));
    }
    let after = stack.last_seq();
    let again = stack.up();
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        stack.writes_since(after),
        Vec::<String>::new(),
        "nothing done twice"
    );
    assert_eq!(stack.run(&["down", "--wait-replicas", "--yes"]).code, 0);
}

#[test]
fn an_invalidation_makes_the_edge_serve_the_new_object_and_bad_paths_are_refused_first() {
    // Its own emulator: "no call at all" must not see other tests' calls.
    let emu = &Emulator::start();
    let stack = site(emu, "t-invalidate");
    assert_eq!(stack.up().code, 0);
    let d = domain(&stack);
    assert_eq!(
        emu.viewer(&d, "GET", "/index.html", &[]),
        (200, "build 1".to_string())
    );
    // A new build reaches the bucket; the edge still has the old one.
    emu.boto3(&format!(
        "client('s3').put_object(Bucket='{}-site', Key='index.html', Body=b'build 2', ContentType='text/html')\n\
         print('null')",
        stack.name
    ));
    assert_eq!(emu.viewer(&d, "GET", "/index.html", &[]).1, "build 1", "cached");

    // Refused before any call: the path, and * before the end.
    for (bad, says) in [
        (
            "index.html",
            "\"index.html\" does not start with / (fix: write it from the distribution's root, e.g. /index.html)",
        ),
        (
            "/assets/*.js",
            "\"/assets/*.js\" has a * before its end; CloudFront allows * only as the last character (fix: use /assets/*)",
        ),
    ] {
        let after = stack.last_seq();
        let run = stack.run(&["invalidate", bad]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains(says), "{}", run.stderr);
        assert!(stack.calls_since(after).is_empty(), "no call at all");
    }

    let (code, done) = stack.json(&["invalidate", "/index.html"]);
    assert_eq!(code, 0, "{done}");
    assert_eq!(done["status"], "Completed");
    assert_eq!(done["paths"], json!(["/index.html"]));
    let id = done["invalidation_id"].as_str().unwrap();
    let seen = emu.boto3(&format!(
        "cf = client('cloudfront')\n\
         i = cf.get_invalidation(DistributionId='{}', Id='{id}')['Invalidation']\n\
         print(json.dumps([i['Status'], i['InvalidationBatch']['Paths']['Items']]))",
        done["distribution_id"].as_str().unwrap()
    ));
    assert_eq!(seen, json!(["Completed", ["/index.html"]]));
    assert_eq!(
        emu.viewer(&d, "GET", "/index.html", &[]).1,
        "build 2",
        "fresh after the invalidation"
    );

    // A route by number: its whole path space, without waiting.
    let (code, started) = stack.json(&["invalidate", "--route", "1", "--no-wait"]);
    assert_eq!(code, 0, "{started}");
    assert_eq!(started["paths"], json!(["/*"]));
    assert_eq!(started["status"], "InProgress");
    let unknown = stack.run(&["invalidate", "--route", "/nope/*"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("--route \"/nope/*\": no such route"),
        "{}",
        unknown.stderr
    );
    assert!(unknown.stderr.contains("routes: 1 *"), "{}", unknown.stderr);
    assert_eq!(stack.run(&["down", "--wait-replicas", "--yes"]).code, 0);
}
