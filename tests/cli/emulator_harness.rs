//! The emulator harness itself: reachable from Rust, counting calls, and
//! checkable with an independent boto3 client.

use serde_json::json;

use crate::emulator::{Emulator, emulator};

#[test]
fn calls_from_boto3_show_in_the_call_log_and_faults_fire() {
    // Its own emulator: the fault and the call count must see only this test.
    let emu = &Emulator::start();
    let name = "harness-check";
    emu.control(
        "POST",
        "/_ahi/faults",
        Some(&json!({"operation": "logs:CreateLogGroup", "kind": "throttle", "nth": 1})),
    );
    let outcome = emu.boto3(&format!(
        "from botocore.config import Config\n\
         from botocore.exceptions import ClientError\n\
         logs = boto3.client('logs', region_name='eu-west-1', endpoint_url=os.environ['AHI_EMULATOR'],\n    \
             aws_access_key_id='testing', aws_secret_access_key='testing', config=Config(retries={{'total_max_attempts': 1}}))\n\
         try:\n    logs.create_log_group(logGroupName='/{name}')\n    first = 'ok'\n\
         except ClientError as e:\n    first = e.response['Error']['Code']\n\
         logs.create_log_group(logGroupName='/{name}')\n\
         print(json.dumps(first))"
    ));
    assert_eq!(outcome, json!("ThrottlingException"));
    let calls: Vec<_> = emu
        .calls()
        .into_iter()
        .filter(|c| c["operation"] == "CreateLogGroup" && c["region"] == "eu-west-1")
        .collect();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[0]["fault"], "throttle");
    assert_eq!(calls[1]["status"], 200);
    let held = emu.resources_of(name);
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["type"], "log-group");
}

#[test]
fn ahi_edge_accepts_the_emulator_endpoint_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ahi-edge.toml"), crate::support::BASE_PROFILE).unwrap();
    let result = emulator().ahi_edge(&["validate"], dir.path());
    assert_eq!(result.code, 0, "{}", result.stderr);
}
