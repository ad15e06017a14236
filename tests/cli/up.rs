//! `up`, `plan`, `status` and `outputs` on whole stacks, checked with boto3
//! and the emulator's inventory and call log as well as with `status`.

use serde_json::{Value, json};

use crate::emulator::{Emulator, emulator};
use crate::stack::{Stack, full_stack, mutating, without_replicas};

/// A self-signed certificate for `names` imported into ACM in each region;
/// their ARNs in that order.
fn imported_certificates(emu: &Emulator, names: &[&str], regions: &[&str]) -> Vec<String> {
    let arns = emu.boto3(&format!(
        "import datetime\n\
         from cryptography import x509\n\
         from cryptography.x509.oid import NameOID\n\
         from cryptography.hazmat.primitives import hashes, serialization\n\
         from cryptography.hazmat.primitives.asymmetric import rsa\n\
         names = {names:?}\n\
         key = rsa.generate_private_key(public_exponent=65537, key_size=2048)\n\
         subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])\n\
         now = datetime.datetime.now(datetime.timezone.utc)\n\
         cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())\n    \
             .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=30))\n    \
             .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)\n    \
             .sign(key, hashes.SHA256()))\n\
         pem = cert.public_bytes(serialization.Encoding.PEM)\n\
         pkey = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())\n\
         print(json.dumps([client('acm', r).import_certificate(Certificate=pem, PrivateKey=pkey)['CertificateArn'] for r in {regions:?}]))"
    ));
    arns.as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

const HTTPS_ALB_CERT: &str =
    "arn:aws:acm:us-west-2:123456789012:certificate/0b9c1b6e-1c1f-4a5e-9d7e-2d3f4a5b6c7d";
const HTTPS_CF_CERT: &str =
    "arn:aws:acm:us-east-1:123456789012:certificate/7e1d2c3b-4a5f-4e6d-8c9b-0a1b2c3d4e5f";

/// The HTTPS profile names ACM certificates; import one for the profile's
/// names (`*.example.com`) in both regions and point the profile at them.
fn https_stack<'a>(emu: &'a Emulator, name: &str) -> Stack<'a> {
    let arns = imported_certificates(emu, &["*.example.com"], &["us-west-2", "us-east-1"]);
    Stack::new(
        emu,
        "ahi-delivery-https",
        name,
        &[(HTTPS_ALB_CERT, &arns[0]), (HTTPS_CF_CERT, &arns[1])],
    )
}

/// Certificates are checked before any write: a missing one, or one that
/// does not cover the aliases, fails `plan` and `up` with exit 2 naming the
/// key, the value and the fix, and `up` writes nothing.
#[test]
fn a_wrong_certificate_fails_plan_and_up_before_any_write() {
    let emu = &Emulator::start();
    let other = imported_certificates(emu, &["images.example.org"], &["us-east-1"]);
    let alb = imported_certificates(emu, &["ahi-origin.example.com"], &["us-west-2"]);
    let missing = "arn:aws:acm:us-west-2:123456789012:certificate/00000000-0000-4000-8000-000000000000";
    let stack = Stack::new(
        emu,
        "ahi-delivery-https",
        "t-badcert",
        &[(HTTPS_ALB_CERT, missing), (HTTPS_CF_CERT, &other[0])],
    );
    let run = stack.run(&["plan"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "alb.certificate_arn = \"{missing}\": no such certificate in us-west-2"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("cloudfront.certificate_arn = ")
            && run.stderr.contains("does not cover images.example.com"),
        "{}",
        run.stderr
    );
    stack.edit(missing, &alb[0]);
    emu.control("DELETE", "/_ahi/calls", None);
    let run = stack.run(&["up"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("does not cover images.example.com"),
        "{}",
        run.stderr
    );
    // (The template's example values are warnings; no problem names the ALB's certificate.)
    assert!(
        !run.stderr
            .lines()
            .any(|l| l.contains("alb.certificate_arn") && !l.contains(": warning: ")),
        "the ALB's is right now: {}",
        run.stderr
    );
    let writes: Vec<Value> = emu
        .calls()
        .into_iter()
        .filter(|c| mutating(c["operation"].as_str().unwrap_or_default()))
        .collect();
    assert!(writes.is_empty(), "up wrote before the check: {writes:?}");
    assert!(
        stack.lockfile().is_none_or(|l| !l.contains("[resources.")),
        "nothing recorded"
    );
}

/// The distribution, listener and service as boto3 sees them.
fn live(stack: &Stack, region: &str) -> Value {
    stack.emu.boto3(&format!(
        "cf = client('cloudfront')\n\
         lock = open('{lock}').read()\n\
         import re\n\
         dist = re.search(r'\\[resources.distribution\\][^\\[]*physical_id = \"([^\"]+)\"', lock).group(1)\n\
         c = cf.get_distribution_config(Id=dist)['DistributionConfig']\n\
         elb = client('elbv2', '{region}')\n\
         lb = elb.describe_load_balancers(Names=['{name}-alb'])['LoadBalancers'][0]\n\
         attrs = {{a['Key']: a['Value'] for a in elb.describe_load_balancer_attributes(LoadBalancerArn=lb['LoadBalancerArn'])['Attributes']}}\n\
         listener = elb.describe_listeners(LoadBalancerArn=lb['LoadBalancerArn'])['Listeners'][0]\n\
         rules = [r for r in elb.describe_rules(ListenerArn=listener['ListenerArn'])['Rules'] if not r['IsDefault']]\n\
         ecs = client('ecs', '{region}')\n\
         svc = ecs.describe_services(cluster='{name}', services=['{name}-proxy'])['services'][0]\n\
         td = ecs.describe_task_definition(taskDefinition=svc['taskDefinition'])['taskDefinition']\n\
         iam = client('iam')\n\
         policy = iam.get_role_policy(RoleName='{name}-proxy-task', PolicyName='healthimaging-read')['PolicyDocument']\n\
         sm = client('secretsmanager', '{region}')\n\
         secret = sm.get_secret_value(SecretId='ahi-edge/{name}/origin-header')['SecretString']\n\
         assoc = c['DefaultCacheBehavior'].get('LambdaFunctionAssociations', {{}}).get('Items', [])\n\
         print(json.dumps({{\n\
           'enabled': c['Enabled'], 'price_class': c['PriceClass'], 'http': c['HttpVersion'], 'ipv6': c['IsIPV6Enabled'],\n\
           'origin_protocol': c['Origins']['Items'][0]['CustomOriginConfig']['OriginProtocolPolicy'],\n\
           'origin_domain': c['Origins']['Items'][0]['DomainName'],\n\
           'header_is_secret': c['Origins']['Items'][0]['CustomHeaders']['Items'][0]['HeaderValue'] == secret,\n\
           'associations': [(a['EventType'], a['LambdaFunctionARN'].split(':')[-1]) for a in assoc],\n\
           'aliases': c['Aliases'].get('Items', []),\n\
           'tls': c['ViewerCertificate'].get('MinimumProtocolVersion'),\n\
           'alb_scheme': lb['Scheme'], 'drop_invalid': attrs.get('routing.http.drop_invalid_header_fields.enabled'),\n\
           'access_logs': attrs.get('access_logs.s3.enabled'), 'log_prefix': attrs.get('access_logs.s3.prefix'),\n\
           'listener': [listener['Protocol'], listener['Port']],\n\
           'default_action': listener['DefaultActions'][0]['FixedResponseConfig']['StatusCode'],\n\
           'rule_header': rules[0]['Conditions'][0]['HttpHeaderConfig']['HttpHeaderName'],\n\
           'rule_value_is_secret': rules[0]['Conditions'][0]['HttpHeaderConfig']['Values'] == [secret],\n\
           'secret_len': len(secret), 'secret_alnum': secret.isalnum(),\n\
           'desired': svc['desiredCount'], 'running': svc['runningCount'],\n\
           'public_ip': svc['networkConfiguration']['awsvpcConfiguration']['assignPublicIp'],\n\
           'cpu': td['cpu'], 'memory': td['memory'],\n\
           'env': {{e['name']: e['value'] for e in td['containerDefinitions'][0]['environment']}},\n\
           'task_actions': sorted(set(a.split(':')[0] for a in policy['Statement'][0]['Action'])),\n\
         }}))",
        lock = stack.path().join("profile.lock").display(),
        name = stack.name,
    ))
}

#[test]
fn up_on_each_shipped_profile_creates_every_resource_once_and_status_outputs_agree() {
    let emu = emulator();
    let cases = [
        (
            Stack::new(emu, "ahi-delivery", "t-each-cognito", &[]),
            "us-east-1",
            true,
            true,
        ),
        (
            Stack::new(emu, "ahi-delivery-noauth", "t-each-noauth", &[]),
            "eu-west-1",
            false,
            true,
        ),
        (https_stack(emu, "t-each-https"), "us-west-2", true, true),
    ];
    for (stack, region, authorizer, network) in &cases {
        let up = stack.up();
        assert_eq!(
            without_replicas(stack),
            full_stack(*authorizer, *network),
            "{}",
            stack.name
        );
        let (code, status) = stack.json(&["status"]);
        assert_eq!(code, 0, "{}: {status}", stack.name);
        assert_eq!(status["healthy"], true);
        assert!(
            status["resources"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["health"] == "ok")
        );
        let (code, outputs) = stack.json(&["outputs"]);
        assert_eq!(code, 0);
        let url = outputs["url"].as_str().unwrap();
        assert!(url.starts_with("https://"), "{outputs}");

        let seen = live(stack, region);
        assert_eq!(seen["enabled"], true);
        assert_eq!(seen["http"], "http2");
        assert_eq!(seen["ipv6"], true);
        assert_eq!(seen["header_is_secret"], true);
        assert_eq!(seen["rule_value_is_secret"], true);
        assert_eq!(seen["rule_header"], "X-Custom-Header");
        assert_eq!(
            (seen["secret_len"].as_u64(), seen["secret_alnum"].as_bool()),
            (Some(32), Some(true))
        );
        assert_eq!(seen["alb_scheme"], "internet-facing");
        assert_eq!(seen["drop_invalid"], "true");
        assert_eq!(
            (seen["access_logs"].as_str(), seen["log_prefix"].as_str()),
            (Some("true"), Some("alb"))
        );
        assert_eq!(seen["default_action"], "403");
        assert_eq!(seen["public_ip"], "DISABLED");
        assert_eq!(seen["task_actions"], json!(["medical-imaging"]));
        assert_eq!(seen["env"]["AHI_REGION"], *region);
        if *authorizer {
            assert_eq!(seen["associations"], json!([["viewer-request", "1"]]));
        } else {
            assert_eq!(seen["associations"], json!([]));
            assert_eq!(seen["env"]["AUTH_MODE"], "none");
        }
        if stack.name == "t-each-https" {
            assert_eq!(seen["listener"], json!(["HTTPS", 443]));
            assert_eq!(seen["origin_protocol"], "https-only");
            assert_eq!(seen["origin_domain"], "ahi-origin.example.com");
            assert_eq!(seen["aliases"], json!(["images.example.com"]));
            assert_eq!(seen["tls"], "TLSv1.2_2021");
            assert_eq!(url, "https://images.example.com");
            let records = outputs["dns_records"].as_array().unwrap();
            assert_eq!(records.len(), 2, "{outputs}");
            assert!(
                status["certificates"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|c| c["status"] == "ISSUED")
            );
        } else {
            assert_eq!(seen["listener"], json!(["HTTP", 80]));
            assert_eq!(seen["origin_protocol"], "http-only");
            assert_eq!(seen["price_class"], "PriceClass_All");
        }
        // The lockfile never holds the secret.
        let lock = stack.lockfile().unwrap();
        let secret = emu.boto3(&format!(
            "print(json.dumps(client('secretsmanager', '{region}').get_secret_value(SecretId='ahi-edge/{}/origin-header')['SecretString']))",
            stack.name
        ));
        let secret = secret.as_str().unwrap();
        assert!(!lock.contains(secret));
        let status_text = stack.run(&["status", "-v"]);
        for text in [&up.stdout, &up.stderr, &status_text.stdout, &status_text.stderr] {
            assert!(!text.contains(secret), "the origin secret reached the output");
        }
    }
}

#[test]
fn a_second_up_makes_no_mutating_call_and_a_changed_value_updates_only_its_resources() {
    // Its own emulator: the call log must hold this stack's calls only.
    let emu = &Emulator::start();
    let stack = Stack::new(emu, "ahi-delivery", "t-second", &[]);
    stack.up();
    let before = stack.last_seq();
    let again = stack.up();
    assert!(again.stdout.contains("is up"));
    let calls = stack.calls_since(before);
    let writes: Vec<&Value> = calls
        .iter()
        .filter(|c| mutating(c["operation"].as_str().unwrap()))
        .filter(|c| c["path"].as_str().is_none_or(|p| !p.contains("/_ahi/")))
        .collect();
    assert!(writes.is_empty(), "second up wrote: {writes:?}");

    let (code, plan) = stack.json(&["plan"]);
    assert_eq!(code, 0, "{plan}");
    assert_eq!(plan["changes"], 0);

    stack.edit("cache_headers = []", "cache_headers = [\"accept\"]");
    stack.edit("desired_count = 1", "desired_count = 2");
    let (code, plan) = stack.json(&["plan"]);
    assert_eq!(code, 4, "{plan}");
    let changed: Vec<(String, String)> = plan["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["action"] != "unchanged")
        .map(|s| {
            (
                s["id"].as_str().unwrap().into(),
                s["action"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        changed,
        [
            ("cache_policy".to_string(), "update".to_string()),
            ("service".into(), "update".into())
        ]
    );
    // Each change with its old and new value; counts by action; where it was read.
    assert_eq!(plan["schema"], 1);
    assert_eq!(plan["counts"]["update"], 2, "{plan}");
    assert_eq!(plan["counts"]["create"], 0, "{plan}");
    assert!(plan["account"].as_str().is_some_and(|a| a.len() == 12), "{plan}");
    assert_eq!(plan["regions"]["regional"], "us-east-1");
    let service = plan["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "service")
        .unwrap();
    assert_eq!(
        service["changes"],
        json!([{"field": "desired_count", "old": 1, "new": 2}]),
        "{plan}"
    );
    let text = stack.run(&["plan"]);
    assert!(
        text.stdout.contains("    desired_count: 1 -> 2"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("    headers: [] -> [\"accept\"]"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("0 to create, 2 to update, 0 to replace, 0 to delete"),
        "{}",
        text.stdout
    );
    let before = stack.last_seq();
    let (code, report) = stack.json(&["up"]);
    assert_eq!(code, 0, "{report}");
    let mut writes: Vec<String> = stack
        .calls_since(before)
        .iter()
        .map(|c| c["operation"].as_str().unwrap().to_string())
        .filter(|o| mutating(o))
        .collect();
    writes.sort();
    assert_eq!(writes, ["UpdateCachePolicy", "UpdateService"]);
    // `up --json` says the same: exactly those two updated, every other
    // resource unchanged, each wait ready.
    assert_eq!(report["schema"], 1);
    let status_of = |list: &str| -> Vec<(String, String)> {
        report[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["id"].as_str().unwrap().to_string(),
                    r["status"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let resources = status_of("resources");
    let updated: Vec<&str> = resources
        .iter()
        .filter(|(_, s)| s == "updated")
        .map(|(i, _)| i.as_str())
        .collect();
    assert_eq!(updated, ["cache_policy", "service"], "{report}");
    assert!(
        resources.iter().all(|(_, s)| s == "updated" || s == "unchanged"),
        "{report}"
    );
    assert!(status_of("waits").iter().all(|(_, s)| s == "ready"), "{report}");
    let desired = emu.boto3(
        "print(json.dumps(client('ecs').describe_services(cluster='t-second', services=['t-second-proxy'])['services'][0]['desiredCount']))",
    );
    assert_eq!(desired, 2);
}

#[test]
fn out_of_band_changes_show_in_status_and_up_repairs_them() {
    let emu = emulator();
    let stack = Stack::new(emu, "ahi-delivery-noauth", "t-drift", &[]);
    stack.up();
    emu.boto3(
        "elb = client('elbv2', 'eu-west-1')\n\
         lb = elb.describe_load_balancers(Names=['t-drift-alb'])['LoadBalancers'][0]\n\
         listener = elb.describe_listeners(LoadBalancerArn=lb['LoadBalancerArn'])['Listeners'][0]\n\
         for r in elb.describe_rules(ListenerArn=listener['ListenerArn'])['Rules']:\n\
         \x20   if not r['IsDefault']: elb.delete_rule(RuleArn=r['RuleArn'])\n\
         client('ecs', 'eu-west-1').update_service(cluster='t-drift', service='t-drift-proxy', desiredCount=3)\n\
         client('logs', 'eu-west-1').put_retention_policy(logGroupName='/ahi-edge/t-drift/proxy', retentionInDays=1)\n\
         print('null')",
    );
    let (code, status) = stack.json(&["status"]);
    assert_eq!(code, 4, "{status}");
    let health = |id: &str| {
        status["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(health("listener_rule")["health"], "missing");
    assert_eq!(health("service")["health"], "drifted");
    assert_eq!(health("service")["drift"], json!(["desired_count"]));
    assert_eq!(health("log_group")["drift"], json!(["retention_days"]));
    let text = stack.run(&["status"]);
    assert!(text.stdout.contains("differs: desired_count"), "{}", text.stdout);

    stack.up();
    let (code, status) = stack.json(&["status"]);
    assert_eq!(code, 0, "{status}");
    assert_eq!(without_replicas(&stack), full_stack(false, true));
}

/// Kills `up` at five moments spread over the run (an early IAM create, the
/// network, the ALB, the distribution create, the distribution deploy
/// wait); each re-run resumes, and the end is one stack, nothing twice.
#[test]
fn up_killed_at_five_moments_converges_without_duplicates_or_orphans() {
    // Its own emulator: the kill points are read from the call log.
    let emu = &Emulator::start();
    let stack = Stack::new(emu, "ahi-delivery", "t-killup", &[]);
    for operation in [
        "CreateRole",
        "CreateSubnet",
        "CreateLoadBalancer",
        "CreateDistributionWithTags",
        "GetDistribution",
    ] {
        assert!(
            stack.kill_at(&["up"], operation),
            "up finished before {operation}"
        );
    }
    stack.up();
    assert_eq!(without_replicas(&stack), full_stack(true, true));
    let (code, status) = stack.json(&["status"]);
    assert_eq!(code, 0, "{status}");
}

/// Throttling and 500s on a tenth of all calls: the SDK's retries and ours
/// carry `up` through. Its own emulator, so the faults reach no other test.
#[test]
fn up_completes_through_throttling_and_server_errors() {
    let emu = Emulator::start();
    emu.control(
        "POST",
        "/_ahi/faults",
        Some(&json!({"operation": "*", "kind": "throttle", "fraction": 0.08, "seed": 7})),
    );
    emu.control(
        "POST",
        "/_ahi/faults",
        Some(&json!({"operation": "*", "kind": "500", "fraction": 0.05, "seed": 11})),
    );
    let stack = Stack::new(&emu, "ahi-delivery", "t-faults", &[]);
    stack.up();
    let faults = emu.control("GET", "/_ahi/faults", None);
    let fired: u64 = faults
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fired"].as_u64().unwrap())
        .sum();
    assert!(fired > 5, "too few faults fired to prove anything: {faults}");
    emu.control("DELETE", "/_ahi/faults", None);
    assert_eq!(without_replicas(&stack), full_stack(true, true));
    let (code, status) = stack.json(&["status"]);
    assert_eq!(code, 0, "{status}");
}

#[test]
fn oidc_with_an_existing_vpc_and_a_web_acl_deploys_into_that_vpc_and_down_leaves_it() {
    let emu = emulator();
    let network = emu.boto3(
        "ec2 = client('ec2', 'eu-west-1')\n\
         vpc = ec2.create_vpc(CidrBlock='10.9.0.0/16')['Vpc']['VpcId']\n\
         ec2.get_waiter('vpc_exists').wait(VpcIds=[vpc], WaiterConfig={'Delay': 1, 'MaxAttempts': 30})  # EC2 is eventually consistent\n\
         subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f'10.9.{i}.0/24', AvailabilityZone='eu-west-1' + 'ab'[i % 2])['Subnet']['SubnetId'] for i in range(4)]\n\
         print(json.dumps([vpc] + subnets))",
    );
    let ids: Vec<&str> = network
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let acl =
        "arn:aws:wafv2:us-east-1:123456789012:global/webacl/ahi-acl/a1b2c3d4-5678-90ab-cdef-0123456789ab";
    let stack = Stack::new(
        emu,
        "ahi-delivery-noauth",
        "t-oidc-vpc",
        &[
            ("public = true\n", ""),
            (
                "mode = \"none\"",
                "mode = \"oidc\"\n\n[auth.oidc]\nissuer = \"https://login.example.com\"\naudiences = [\"ahi-viewer\"]",
            ),
            (
                "cache = \"shared\"",
                &format!("cache = \"per_viewer\"\nweb_acl_arn = \"{acl}\""),
            ),
        ],
    );
    let network_table = format!(
        "\n[network]\nvpc_id = \"{}\"\npublic_subnet_ids = [\"{}\", \"{}\"]\nprivate_subnet_ids = [\"{}\", \"{}\"]\n",
        ids[0], ids[1], ids[2], ids[3], ids[4]
    );
    let file = stack.path().join("profile.toml");
    let text = std::fs::read_to_string(&file).unwrap() + &network_table;
    std::fs::write(&file, text).unwrap();
    stack.up();
    assert_eq!(without_replicas(&stack), full_stack(true, false));
    let seen = emu.boto3(&format!(
        "cf = client('cloudfront')\n\
         import re\n\
         dist = re.search(r'\\[resources.distribution\\][^\\[]*physical_id = \"([^\"]+)\"', open('{lock}').read()).group(1)\n\
         c = cf.get_distribution_config(Id=dist)['DistributionConfig']\n\
         lb = client('elbv2', 'eu-west-1').describe_load_balancers(Names=['t-oidc-vpc-alb'])['LoadBalancers'][0]\n\
         ecs = client('ecs', 'eu-west-1')\n\
         svc = ecs.describe_services(cluster='t-oidc-vpc', services=['t-oidc-vpc-proxy'])['services'][0]\n\
         env = {{e['name']: e['value'] for e in ecs.describe_task_definition(taskDefinition=svc['taskDefinition'])['taskDefinition']['containerDefinitions'][0]['environment']}}\n\
         print(json.dumps({{'acl': c.get('WebACLId'), 'vpc': lb['VpcId'],\n\
           'task_subnets': sorted(svc['networkConfiguration']['awsvpcConfiguration']['subnets']),\n\
           'auth': env['AUTH_MODE'], 'issuer': env['OIDC_ISSUER'], 'assoc': len(c['DefaultCacheBehavior']['LambdaFunctionAssociations'].get('Items', []))}}))",
        lock = stack.path().join("profile.lock").display()
    ));
    let mut private = vec![ids[3].to_string(), ids[4].to_string()];
    private.sort();
    assert_eq!(
        seen,
        json!({"acl": acl, "vpc": ids[0], "task_subnets": private, "auth": "oidc", "issuer": "https://login.example.com", "assoc": 1})
    );
    let run = stack.run(&["down", "--wait-replicas", "--yes", "--purge-logs"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let left = emu.boto3(&format!(
        "ec2 = client('ec2', 'eu-west-1')\n\
         print(json.dumps([len(ec2.describe_vpcs(VpcIds=['{}'])['Vpcs']), len(ec2.describe_subnets(Filters=[{{'Name': 'vpc-id', 'Values': ['{}']}}])['Subnets'])]))",
        ids[0], ids[0]
    ));
    assert_eq!(left, json!([1, 4]), "the operator's VPC and subnets stay");
}

#[test]
fn new_auth_settings_publish_a_new_authorizer_version_and_repoint_the_distribution() {
    let emu = emulator();
    // Per-viewer: the proxy checks tokens too (the shared cache's proxy does not).
    let stack = Stack::new(
        emu,
        "ahi-delivery",
        "t-reauth",
        &[("cache = \"shared\"", "cache = \"per_viewer\"")],
    );
    stack.up();
    // A second app client of the pool (the pre-flight looks it up).
    emu.control(
        "POST",
        "/_ahi/cognito/pools",
        Some(&json!({"id": "us-east-1_Ab12Cd34E", "client_ids": ["5gs0rnd2pcb63t7isgm6iouv3v"]})),
    );
    stack.edit(
        "client_ids = [\"4fr9qmc1oba52s6hrfl5hntu2u\"]",
        "client_ids = [\"5gs0rnd2pcb63t7isgm6iouv3v\"]",
    );
    let (code, plan) = stack.json(&["plan"]);
    assert_eq!(code, 4, "{plan}");
    let actions: Vec<(&str, &str)> = plan["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["action"] != "unchanged")
        .map(|s| (s["id"].as_str().unwrap(), s["action"].as_str().unwrap()))
        .collect();
    // The per-viewer proxy checks tokens too, so its task definition changes with them;
    // a new function version and a new task revision move what points at them.
    assert_eq!(
        actions,
        [
            ("edge_function", "update"),
            ("task_definition", "update"),
            ("service", "update"),
            ("distribution", "update")
        ]
    );
    stack.up();
    let association = emu.boto3(&format!(
        "import re\n\
         dist = re.search(r'\\[resources.distribution\\][^\\[]*physical_id = \"([^\"]+)\"', open('{}').read()).group(1)\n\
         c = client('cloudfront').get_distribution_config(Id=dist)['DistributionConfig']\n\
         print(json.dumps(c['DefaultCacheBehavior']['LambdaFunctionAssociations']['Items'][0]['LambdaFunctionARN'].split(':')[-1]))",
        stack.path().join("profile.lock").display()
    ));
    assert_eq!(association, "2");
    let (code, status) = stack.json(&["status"]);
    assert_eq!(code, 0, "{status}");
    // The previous task definition revision is deregistered once the service runs the new one.
    assert_eq!(without_replicas(&stack), full_stack(true, true));
}

/// Ctrl-C (SIGINT) stops `up` cleanly with what it finished recorded; the
/// next `up` resumes and finishes without duplicates.
#[test]
fn ctrl_c_stops_up_cleanly_and_the_next_up_resumes() {
    let emu = emulator();
    let stack = Stack::new(emu, "ahi-delivery-noauth", "t-ctrlc", &[]);
    let child = stack
        .emu
        .command(&["--profile", "profile.toml", "up"], stack.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the distribution is recorded: the run is then waiting
    // on AWS (deploy, ALB, service).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !stack
        .lockfile()
        .is_some_and(|l| l.contains("[resources.distribution]"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the distribution was never recorded"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains(
            "interrupted: every finished step is recorded in the lockfile; run `ahi-edge up --profile profile.toml"
        ),
        "{stderr}"
    );
    stack.up();
    assert_eq!(without_replicas(&stack), full_stack(false, true));
}

/// A second run on the same lockfile while `up` works fails at once with
/// exit 5 naming the holder; `status` still reads (it takes no lock).
#[test]
fn a_second_run_while_up_works_exits_5_and_status_still_answers() {
    let emu = emulator();
    let stack = Stack::new(emu, "ahi-delivery-noauth", "t-locked", &[]);
    let mut first = stack.spawn(&["up"]);
    while !stack.lockfile().is_some_and(|l| l.contains("[resources.")) {}
    let second = stack.run(&["up"]);
    assert_eq!(second.code, 5, "{}", second.stderr);
    assert!(
        second
            .stderr
            .contains(&format!("held by another ahi-edge run (pid {},", first.id())),
        "{}",
        second.stderr
    );
    let (code, status) = stack.json(&["status"]);
    // Healthy, deploying or not yet complete, depending on the moment.
    assert!(code == 0 || code == 3 || code == 4, "{status}");
    assert_eq!(status["deployed"], true);
    assert!(first.wait().unwrap().success());
    assert_eq!(without_replicas(&stack), full_stack(false, true));
}

/// Switching `auth.mode` to `none`: the distribution drops the authorizer,
/// and `up` removes the function and its role, or leaves the function
/// `awaiting-replicas` for the next `up` while CloudFront still holds copies.
#[test]
fn switching_auth_off_removes_the_authorizer_once_its_replicas_are_gone() {
    let emu = emulator();
    let stack = Stack::new(emu, "ahi-delivery", "t-authoff", &[]);
    stack.up();
    stack.edit("mode = \"cognito_jwt\"", "mode = \"none\"");
    stack.edit("[auth.cognito]\n", "");
    stack.edit("user_pool_id = \"us-east-1_Ab12Cd34E\"", "");
    stack.edit("client_ids = [\"4fr9qmc1oba52s6hrfl5hntu2u\"]", "");
    stack.edit("token_use = \"access\"", "");
    let (code, plan) = stack.json(&["plan"]);
    assert_eq!(code, 4, "{plan}");
    let removed: Vec<&str> = plan["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["action"] == "delete")
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(removed, ["edge_function", "edge_role"]);
    let run = stack.up();
    assert!(
        run.stdout
            .contains("no longer in the profile: edge_function: awaiting-replicas"),
        "{}",
        run.stdout
    );
    let associations = emu.boto3(&format!(
        "import re\n\
         dist = re.search(r'\\[resources.distribution\\][^\\[]*physical_id = \"([^\"]+)\"', open('{}').read()).group(1)\n\
         c = client('cloudfront').get_distribution_config(Id=dist)['DistributionConfig']\n\
         print(json.dumps(c['DefaultCacheBehavior']['LambdaFunctionAssociations']['Quantity']))",
        stack.path().join("profile.lock").display()
    ));
    assert_eq!(associations, 0);
    assert!(stack.lockfile().unwrap().contains("awaiting-replicas"));
    // Once CloudFront has dropped the replicas, the next `up` finishes.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        assert!(std::time::Instant::now() < deadline, "the replicas never went");
        let run = stack.up();
        if run.stdout.contains("edge_function: deleted") {
            assert!(run.stdout.contains("edge_role: deleted"), "{}", run.stdout);
            break;
        }
    }
    assert_eq!(without_replicas(&stack), full_stack(false, true));
    let (code, plan) = stack.json(&["plan"]);
    assert_eq!(code, 0, "{plan}");
}

/// A bad image: ECS's circuit breaker (enabled, with rollback) ends the
/// rollout FAILED and `up` fails with ECS's reason instead of waiting out its
/// whole deadline; the target group deregisters in 30 s, not 5 minutes.
#[test]
fn a_bad_image_fails_up_with_the_circuit_breakers_reason() {
    let emu = &Emulator::start();
    emu.control(
        "POST",
        "/_ahi/config",
        Some(&json!({"switches": {"failing_images": [
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/ahi-regional-proxy:0.1.0"
        ]}})),
    );
    let stack = Stack::new(emu, "ahi-delivery", "t-badimage", &[]);
    let run = stack.run(&["up"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("service_steady: failed")
            && run
                .stdout
                .contains("ECS deployment circuit breaker: tasks failed to start."),
        "{}",
        run.stdout
    );
    let seen = emu.boto3(&format!(
        "svc = client('ecs').describe_services(cluster='{n}', services=['{n}-proxy'])['services'][0]\n\
         elb = client('elbv2')\n\
         tg = elb.describe_target_groups(Names=['{n}-tg'])['TargetGroups'][0]['TargetGroupArn']\n\
         attrs = {{a['Key']: a['Value'] for a in elb.describe_target_group_attributes(TargetGroupArn=tg)['Attributes']}}\n\
         print(json.dumps([svc['deploymentConfiguration']['deploymentCircuitBreaker'], attrs['deregistration_delay.timeout_seconds']]))",
        n = stack.name
    ));
    assert_eq!(seen, json!([{"enable": true, "rollback": true}, "30"]));
}
