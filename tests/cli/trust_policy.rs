//! Role trust policies (issue 23): the proxy's ECS roles are assumable by
//! ECS only on behalf of this account (`aws:SourceAccount`); the
//! Lambda@Edge role keeps the unconditioned trust AWS documents for it. A
//! stack deployed before the condition existed (its roles and its lockfile
//! as the earlier version left them) is updated in place by `up`, two
//! `UpdateAssumeRolePolicy` calls and nothing else, and the `up` after that
//! makes no write. Read back with boto3.

use serde_json::{Value, json};

use crate::emulator::Emulator;
use crate::stack::Stack;

const ECS_ROLES: [&str; 2] = ["proxy-exec", "proxy-task"];

fn trust_policies(emu: &Emulator, stack: &str) -> Value {
    emu.boto3(&format!(
        "iam = client('iam')\n\
         print(json.dumps({{r: iam.get_role(RoleName='{stack}-' + r)['Role']['AssumeRolePolicyDocument']\n    \
             for r in ('proxy-exec', 'proxy-task', 'edge-auth')}}))"
    ))
}

fn unconditioned(services: &[&str]) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": services}, "Action": "sts:AssumeRole"}]
    })
}

#[test]
fn ecs_roles_trust_only_this_account_and_an_old_stack_is_updated_in_place() {
    let emu = &Emulator::start();
    let name = "t-trust";
    let stack = Stack::new(emu, "ahi-delivery", name, &[]);
    stack.up();
    let account = emu.boto3("print(json.dumps(client('sts').get_caller_identity()['Account']))");
    let account = account.as_str().unwrap();
    let conditioned = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": ["ecs-tasks.amazonaws.com"]},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account}}
        }]
    });
    let expected = json!({
        "proxy-exec": conditioned,
        "proxy-task": conditioned,
        "edge-auth": unconditioned(&["edgelambda.amazonaws.com", "lambda.amazonaws.com"]),
    });
    assert_eq!(trust_policies(emu, name), expected);

    // The stack as the earlier version left it: the ECS roles trusted from
    // any account, and the lockfile recording exactly that.
    let old = unconditioned(&["ecs-tasks.amazonaws.com"]);
    emu.boto3(&format!(
        "iam = client('iam')\n\
         for r in ('proxy-exec', 'proxy-task'):\n    \
             iam.update_assume_role_policy(RoleName='{name}-' + r, PolicyDocument=json.dumps({old}))\n\
         print('null')"
    ));
    let lock_path = stack.path().join("profile.lock");
    let lock = std::fs::read_to_string(&lock_path).unwrap();
    let condition = format!(r#""Condition":{{"StringEquals":{{"aws:SourceAccount":"{account}"}}}},"#);
    assert_eq!(lock.matches(&condition).count(), 2, "{lock}");
    std::fs::write(&lock_path, lock.replace(&condition, "")).unwrap();

    let (code, plan) = stack.json(&["plan"]);
    assert_eq!(code, 4, "{plan}");
    let changed: Vec<(String, String, Value)> = plan["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] != "unchanged")
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["action"].as_str().unwrap().to_string(),
                r["fields"].clone(),
            )
        })
        .collect();
    assert_eq!(
        changed,
        [
            (
                "task_execution_role".to_string(),
                "update".to_string(),
                json!(["trust_policy"])
            ),
            (
                "task_role".to_string(),
                "update".to_string(),
                json!(["trust_policy"])
            ),
        ],
        "{plan}"
    );

    let before = stack.last_seq();
    stack.up();
    assert_eq!(
        stack.writes_since(before),
        ["UpdateAssumeRolePolicy", "UpdateAssumeRolePolicy"],
        "updated in place: no role replaced, nothing else touched"
    );
    assert_eq!(trust_policies(emu, name), expected);
    let lock = std::fs::read_to_string(&lock_path).unwrap();
    assert_eq!(
        lock.matches(&condition).count(),
        2,
        "the lockfile records the trust applied"
    );

    let again = stack.last_seq();
    stack.up();
    assert_eq!(
        stack.writes_since(again),
        Vec::<String>::new(),
        "an unchanged up writes nothing"
    );
    for role in ECS_ROLES {
        assert_eq!(trust_policies(emu, name)[role], conditioned);
    }
}
