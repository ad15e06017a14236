//! What `up` records is what it sent, for every kind and every profile
//! field; out-of-band changes are seen and repaired; changes the stack
//! cannot absorb are refused before any call; the lockfile alone is enough
//! for `down`. Checked with boto3 and the emulator's inventory, not only
//! with our own `status`.

use serde_json::{Value, json};

use crate::emulator::{Emulator, emulator};
use crate::stack::{Stack, mutating};

/// Inventory types whose resources carry tags.
const TAGGED: &[&str] = &[
    "vpc",
    "subnet",
    "internet-gateway",
    "nat-gateway",
    "elastic-ip",
    "security-group",
    "route-table",
    "load-balancer",
    "target-group",
    "cluster",
    "service",
    "task-definition",
    "role",
    "function",
    "secret",
    "log-group",
    "distribution",
];

/// What boto3 sees of every value a profile field feeds.
fn observed(stack: &Stack) -> Value {
    stack.emu.boto3(&format!(
        "import re\n\
         lock = open('{lock}').read()\n\
         def rec(id):\n    return re.search(r'\\[resources.' + id + r'\\][^\\[]*physical_id = \"([^\"]+)\"', lock).group(1)\n\
         cf = client('cloudfront')\n\
         cp = cf.get_cache_policy_config(Id=rec('cache_policy'))['CachePolicyConfig']\n\
         rh = cf.get_response_headers_policy_config(Id=rec('response_headers_policy'))['ResponseHeadersPolicyConfig']\n\
         dc = cf.get_distribution_config(Id=rec('distribution'))['DistributionConfig']\n\
         ecs = client('ecs')\n\
         svc = ecs.describe_services(cluster='{n}', services=['{n}-proxy'])['services'][0]\n\
         td = ecs.describe_task_definition(taskDefinition=svc['taskDefinition'])['taskDefinition']\n\
         c = td['containerDefinitions'][0]\n\
         env = {{e['name']: e['value'] for e in c['environment']}}\n\
         logs = [g for g in client('logs').describe_log_groups(logGroupNamePrefix='/ahi-edge/{n}/')['logGroups']]\n\
         fn = client('lambda').get_function(FunctionName='{n}-edge-auth')['Configuration']\n\
         bucket = [b['Name'] for b in client('s3').list_buckets()['Buckets'] if b['Name'].startswith('{n}-logs-')][0]\n\
         btags = {{t['Key']: t['Value'] for t in client('s3').get_bucket_tagging(Bucket=bucket)['TagSet']}}\n\
         print(json.dumps({{\n\
           'cache_headers': sorted(cp['ParametersInCacheKeyAndForwardedToOrigin']['HeadersConfig'].get('Headers', {{}}).get('Items', [])),\n\
           'cache_query': cp['ParametersInCacheKeyAndForwardedToOrigin']['QueryStringsConfig']['QueryStringBehavior'],\n\
           'cors_origins': rh['CorsConfig']['AccessControlAllowOrigins']['Items'],\n\
           'headers_policy': dc['DefaultCacheBehavior']['ResponseHeadersPolicyId'] == rec('response_headers_policy'),\n\
           'proxy_auth': env['AUTH_MODE'],\n\
           'price_class': dc['PriceClass'],\n\
           'authorizer': dc['DefaultCacheBehavior']['LambdaFunctionAssociations']['Items'][0]['LambdaFunctionARN'],\n\
           'cpu': td['cpu'], 'memory': td['memory'], 'image': c['image'],\n\
           'architecture': td.get('runtimePlatform', {{}}).get('cpuArchitecture'),\n\
           'log_level': env['PROXY_LOG_LEVEL'], 'token_use': env.get('COGNITO_TOKEN_USE'),\n\
           'desired_count': svc['desiredCount'], 'retention_days': logs[0].get('retentionInDays'),\n\
           'code': fn['CodeSha256'], 'bucket_project': btags.get('project'),\n\
         }}))",
        lock = stack.path().join("profile.lock").display(),
        n = stack.name
    ))
}

/// Every change of a profile field reaches AWS in one `up`, after which
/// `plan` has nothing left to do; tags reach every taggable resource.
#[test]
fn every_profile_field_and_every_tag_reaches_aws_in_one_up_and_plan_then_settles() {
    let emu = emulator();
    let stack = Stack::new(emu, "ahi-delivery", "t-fields", &[]);
    // The image the table switches to, built for both architectures it
    // switches between: the pre-flight of `up` looks both up.
    emu.control(
        "POST",
        "/_ahi/ecr/images",
        Some(
            &json!({"region": "us-east-1", "repository": "ahi-regional-proxy", "tag": "0.2.0",
            "architecture": "amd64", "index": true, "platforms": ["amd64", "arm64"]}),
        ),
    );
    stack.up();
    let before = observed(&stack);

    // Tags: the change `up` once recorded but never sent.
    stack.edit("project = \"medical-imaging\"", "project = \"radiology\"");
    stack.planned_up();
    let stale: Vec<String> = emu
        .resources_of(&stack.name)
        .iter()
        .filter(|r| TAGGED.contains(&r["type"].as_str().unwrap_or_default()))
        // Lambda makes the replicas' log groups itself, untagged.
        .filter(|r| !r["id"].as_str().unwrap_or_default().starts_with("/aws/lambda/"))
        .filter(|r| r["tags"]["project"] != "radiology")
        .map(|r| format!("{} {}", r["type"], r["id"]))
        .collect();
    assert!(stale.is_empty(), "still the old tag: {stale:?}");
    assert_eq!(observed(&stack)["bucket_project"], "radiology");
    assert_eq!(stack.json(&["plan"]).0, 0, "plan settles after the tag change");

    // (profile text, its replacement, what boto3 shows, the value it must show)
    // The shared cache (the default): no credentials in the key, the HealthImaging
    // query strings, CORS on every response, and the proxy does not check tokens
    // the edge removed.
    assert_eq!(before["cache_headers"], json!([]));
    assert_eq!(before["cache_query"], "whitelist");
    assert_eq!(before["cors_origins"], json!(["*"]));
    assert_eq!(before["headers_policy"], true);
    assert_eq!(before["proxy_auth"], "none");
    let cases: &[(&str, &str, &str, Value)] = &[
        // Per-viewer: the seed's key, and the proxy checks the token again
        // (COGNITO_TOKEN_USE below is observable from here on).
        (
            "cache = \"shared\"",
            "cache = \"per_viewer\"",
            "cache_headers",
            json!(["authorization"]),
        ),
        (
            "cache_headers = []",
            "cache_headers = [\"accept\"]",
            "cache_headers",
            // A set to CloudFront: boto3's answer is sorted above.
            json!(["accept", "authorization"]),
        ),
        (
            "price_class = \"PriceClass_All\"",
            "price_class = \"PriceClass_100\"",
            "price_class",
            json!("PriceClass_100"),
        ),
        // Fargate takes cpu and memory in pairs.
        (
            "cpu = 256\nmemory = 512",
            "cpu = 512\nmemory = 1024",
            "cpu",
            json!("512"),
        ),
        ("memory = 1024", "memory = 2048", "memory", json!("2048")),
        (
            "desired_count = 1",
            "desired_count = 2",
            "desired_count",
            json!(2),
        ),
        (
            "log_level = \"info\"",
            "log_level = \"debug\"",
            "log_level",
            json!("debug"),
        ),
        (
            "ahi-regional-proxy:0.1.0",
            "ahi-regional-proxy:0.2.0",
            "image",
            json!("123456789012.dkr.ecr.us-east-1.amazonaws.com/ahi-regional-proxy:0.2.0"),
        ),
        (
            "architecture = \"x86_64\"",
            "architecture = \"arm64\"",
            "architecture",
            json!("ARM64"),
        ),
        (
            "retention_days = 30",
            "retention_days = 90",
            "retention_days",
            json!(90),
        ),
        (
            "token_use = \"access\"",
            "token_use = \"id\"",
            "token_use",
            json!("id"),
        ),
    ];
    for (old, new, key, want) in cases {
        stack.edit(old, new);
        let run = stack.planned_up();
        let seen = observed(&stack);
        assert_eq!(
            &seen[key], want,
            "{new}: boto3 sees {}\n{}",
            seen[key], run.stdout
        );
        let (code, plan) = stack.json(&["plan"]);
        assert_eq!(code, 0, "{new}: plan after up: {plan}");
    }
    // Settings baked into the authorizer's package reach the function (new
    // code, a new version) and the distribution points at that version.
    let code = observed(&stack)["code"].clone();
    let authorizer = observed(&stack)["authorizer"].clone();
    assert_ne!(code, before["code"], "token_use is in the package");
    assert_ne!(authorizer, before["authorizer"]);
    // CORS origins live in the response headers policy alone: the
    // authorizer's code and the distribution stay as they are.
    stack.edit(
        "cors_allow_origins = [\"*\"]",
        "cors_allow_origins = [\"https://viewer.example.com\"]",
    );
    stack.planned_up();
    let seen = observed(&stack);
    assert_eq!(seen["cors_origins"], json!(["https://viewer.example.com"]));
    assert_eq!((&seen["code"], &seen["authorizer"]), (&code, &authorizer));
    assert_eq!(stack.json(&["plan"]).0, 0, "plan after the origins change");
    // query_token is in the package: new code, and the distribution follows.
    stack.edit("query_token = false", "query_token = true");
    stack.planned_up();
    let seen = observed(&stack);
    assert_ne!(seen["code"], code, "query_token changes the deployed code");
    assert_ne!(
        seen["authorizer"], authorizer,
        "the distribution follows the new version"
    );
    assert_eq!(stack.json(&["plan"]).0, 0, "plan after the query_token change");
    down_leaves_nothing(&stack);
}

/// `down --wait-replicas --purge-logs --yes`, then nothing of the stack is
/// left anywhere in the emulator (every region).
fn down_leaves_nothing(stack: &Stack) {
    let run = stack.run(&["down", "--wait-replicas", "--purge-logs", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let left: Vec<Value> = stack
        .emu
        .resources_of(&stack.name)
        .into_iter()
        .filter(|r| r["type"] != "replica")
        .collect();
    assert!(left.is_empty(), "left behind: {left:#?}");
}

/// One out-of-band change per kind, the security-relevant field where there
/// is one: `status` and `plan` see each (exit 4), one `up` repairs all, and
/// boto3 confirms the repairs that matter most.
#[test]
fn out_of_band_changes_to_every_kind_are_reported_and_one_up_repairs_them() {
    let emu = &Emulator::start();
    let stack = Stack::new(emu, "ahi-delivery", "t-oob", &[]);
    stack.up();
    let n = &stack.name;
    emu.boto3(&format!(
        "import re\n\
         lock = open('{lock}').read()\n\
         def rec(id, key='physical_id'):\n    return re.search(r'\\[resources.' + id + r'\\][^\\[]*' + key + r' = \"([^\"]+)\"', lock).group(1)\n\
         ec2 = client('ec2')\n\
         ec2.modify_vpc_attribute(VpcId=rec('vpc'), EnableDnsHostnames={{'Value': False}})\n\
         for id in ('subnet_public_a', 'internet_gateway', 'nat_eip', 'nat_gateway'):\n    ec2.delete_tags(Resources=[rec(id)], Tags=[{{'Key': 'project'}}])\n\
         ec2.replace_route(RouteTableId=rec('private_routes'), DestinationCidrBlock='0.0.0.0/0', GatewayId=rec('internet_gateway'))\n\
         ec2.authorize_security_group_ingress(GroupId=rec('alb_security_group'), IpPermissions=[{{'IpProtocol': 'tcp', 'FromPort': 80, 'ToPort': 80, 'IpRanges': [{{'CidrIp': '0.0.0.0/0'}}]}}])\n\
         elb = client('elbv2')\n\
         elb.modify_load_balancer_attributes(LoadBalancerArn=rec('load_balancer', 'arn'), Attributes=[{{'Key': 'routing.http.drop_invalid_header_fields.enabled', 'Value': 'false'}}])\n\
         elb.modify_target_group(TargetGroupArn=rec('target_group', 'arn'), HealthCheckPath='/')\n\
         elb.modify_target_group_attributes(TargetGroupArn=rec('target_group', 'arn'), Attributes=[{{'Key': 'deregistration_delay.timeout_seconds', 'Value': '300'}}])\n\
         elb.modify_listener(ListenerArn=rec('listener', 'arn'), DefaultActions=[{{'Type': 'forward', 'TargetGroupArn': rec('target_group', 'arn')}}])\n\
         elb.modify_rule(RuleArn=rec('listener_rule', 'arn'), Conditions=[{{'Field': 'http-header', 'HttpHeaderConfig': {{'HttpHeaderName': 'X-Custom-Header', 'Values': ['guessable']}}}}])\n\
         cf = client('cloudfront')\n\
         d = cf.get_distribution_config(Id=rec('distribution'))\n\
         d['DistributionConfig']['Origins']['Items'][0]['DomainName'] = 'attacker.example.com'\n\
         cf.update_distribution(Id=rec('distribution'), IfMatch=d['ETag'], DistributionConfig=d['DistributionConfig'])\n\
         p = cf.get_cache_policy_config(Id=rec('cache_policy'))\n\
         p['CachePolicyConfig']['MaxTTL'] = 60\n\
         cf.update_cache_policy(Id=rec('cache_policy'), IfMatch=p['ETag'], CachePolicyConfig=p['CachePolicyConfig'])\n\
         o = cf.get_origin_request_policy_config(Id=rec('origin_request_policy'))\n\
         o['OriginRequestPolicyConfig']['CookiesConfig'] = {{'CookieBehavior': 'all'}}\n\
         cf.update_origin_request_policy(Id=rec('origin_request_policy'), IfMatch=o['ETag'], OriginRequestPolicyConfig=o['OriginRequestPolicyConfig'])\n\
         h = cf.get_response_headers_policy_config(Id=rec('response_headers_policy'))\n\
         del h['ResponseHeadersPolicyConfig']['SecurityHeadersConfig']\n\
         cf.update_response_headers_policy(Id=rec('response_headers_policy'), IfMatch=h['ETag'], ResponseHeadersPolicyConfig=h['ResponseHeadersPolicyConfig'])\n\
         client('s3').delete_bucket_policy(Bucket=rec('log_bucket'))\n\
         client('secretsmanager').untag_resource(SecretId=rec('origin_secret', 'arn'), TagKeys=['project'])\n\
         iam = client('iam')\n\
         iam.put_role_policy(RoleName='{n}-proxy-task', PolicyName='healthimaging-read', PolicyDocument=json.dumps({{'Version': '2012-10-17', 'Statement': [{{'Effect': 'Allow', 'Action': '*', 'Resource': '*'}}]}}))\n\
         iam.attach_role_policy(RoleName='{n}-edge-auth', PolicyArn='arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy')\n\
         iam.untag_role(RoleName='{n}-proxy-exec', TagKeys=['project'])\n\
         client('lambda').update_function_configuration(FunctionName='{n}-edge-auth', MemorySize=1024)\n\
         ecs = client('ecs')\n\
         ecs.untag_resource(resourceArn=rec('cluster', 'arn'), tagKeys=['project'])\n\
         ecs.update_service(cluster='{n}', service='{n}-proxy', desiredCount=3, deploymentConfiguration={{'deploymentCircuitBreaker': {{'enable': False, 'rollback': False}}}})\n\
         td = ecs.describe_task_definition(taskDefinition='{n}-proxy')['taskDefinition']\n\
         ecs.register_task_definition(family='{n}-proxy', containerDefinitions=[dict(td['containerDefinitions'][0], image='public.ecr.aws/evil:latest')], requiresCompatibilities=['FARGATE'], networkMode='awsvpc', cpu=td['cpu'], memory=td['memory'])\n\
         client('logs').put_retention_policy(logGroupName='/ahi-edge/{n}/proxy', retentionInDays=1)\n\
         print(json.dumps(True))",
        lock = stack.path().join("profile.lock").display(),
    ));
    let (code, status) = stack.json(&["status"]);
    assert_eq!(code, 4, "{status}");
    let drifted: Vec<&str> = status["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["health"] == "drifted")
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let every_kind = [
        "alb_security_group",
        "cache_policy",
        "cluster",
        "distribution",
        "edge_function",
        "edge_role",
        "internet_gateway",
        "listener",
        "listener_rule",
        "load_balancer",
        "log_bucket",
        "log_group",
        "nat_eip",
        "nat_gateway",
        "origin_request_policy",
        "origin_secret",
        "private_routes",
        "response_headers_policy",
        "service",
        "subnet_public_a",
        "target_group",
        "task_definition",
        "task_execution_role",
        "task_role",
        "vpc",
    ];
    assert_eq!(drifted, every_kind, "{status}");
    let (code, plan) = stack.json(&["plan"]);
    assert_eq!(code, 4, "{plan}");
    let planned: Vec<&str> = plan["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["action"] == "update")
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    for id in every_kind {
        assert!(planned.contains(&id), "plan misses {id}: {plan}");
    }

    stack.planned_up();
    let (code, status) = stack.json(&["status"]);
    assert_eq!(code, 0, "one up repairs everything: {status}");
    let seen = emu.boto3(&format!(
        "import re\n\
         lock = open('{lock}').read()\n\
         def rec(id, key='physical_id'):\n    return re.search(r'\\[resources.' + id + r'\\][^\\[]*' + key + r' = \"([^\"]+)\"', lock).group(1)\n\
         ec2 = client('ec2')\n\
         sg = ec2.describe_security_groups(GroupIds=[rec('alb_security_group')])['SecurityGroups'][0]\n\
         rt = ec2.describe_route_tables(RouteTableIds=[rec('private_routes')])['RouteTables'][0]\n\
         route = [r for r in rt['Routes'] if r.get('DestinationCidrBlock') == '0.0.0.0/0'][0]\n\
         elb = client('elbv2')\n\
         listener = elb.describe_listeners(ListenerArns=[rec('listener', 'arn')])['Listeners'][0]\n\
         iam = client('iam')\n\
         doc = iam.get_role_policy(RoleName='{n}-proxy-task', PolicyName='healthimaging-read')['PolicyDocument']\n\
         attached = [p['PolicyArn'] for p in iam.list_attached_role_policies(RoleName='{n}-edge-auth')['AttachedPolicies']]\n\
         origin = client('cloudfront').get_distribution_config(Id=rec('distribution'))['DistributionConfig']['Origins']['Items'][0]['DomainName']\n\
         policy = json.loads(client('s3').get_bucket_policy(Bucket=rec('log_bucket'))['Policy'])\n\
         tga = {{a['Key']: a['Value'] for a in client('elbv2').describe_target_group_attributes(TargetGroupArn=rec('target_group', 'arn'))['Attributes']}}\n\
         svc = client('ecs').describe_services(cluster='{n}', services=['{n}-proxy'])['services'][0]\n\
         rh = client('cloudfront').get_response_headers_policy_config(Id=rec('response_headers_policy'))['ResponseHeadersPolicyConfig']\n\
         print(json.dumps({{\n\
           'hsts': rh.get('SecurityHeadersConfig', {{}}).get('StrictTransportSecurity', {{}}).get('AccessControlMaxAgeSec'),\n\
           'ip_ranges': [r for p in sg['IpPermissions'] for r in p.get('IpRanges', [])],\n\
           'prefix_lists': len([r for p in sg['IpPermissions'] for r in p.get('PrefixListIds', [])]),\n\
           'private_default': route.get('NatGatewayId'),\n\
           'default_action': listener['DefaultActions'][0]['Type'],\n\
           'task_actions': doc['Statement'][0]['Action'],\n\
           'edge_policies': attached, 'origin': origin,\n\
           'bucket_sids': [s['Sid'] for s in policy['Statement']],\n\
           'deregistration_delay': tga['deregistration_delay.timeout_seconds'],\n\
           'circuit_breaker': svc['deploymentConfiguration']['deploymentCircuitBreaker'],\n\
         }}))",
        lock = stack.path().join("profile.lock").display(),
    ));
    assert_eq!(seen["ip_ranges"], json!([]), "the open door is closed: {seen}");
    assert_eq!(seen["hsts"], 31_536_000, "the security headers are back: {seen}");
    assert_eq!(seen["prefix_lists"], 1, "{seen}");
    assert!(
        seen["private_default"].as_str().unwrap().starts_with("nat-"),
        "{seen}"
    );
    assert_eq!(seen["default_action"], "fixed-response", "{seen}");
    assert!(seen["task_actions"].as_array().unwrap().len() > 1, "{seen}");
    assert_eq!(
        seen["edge_policies"],
        json!(["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"])
    );
    assert!(seen["origin"].as_str().unwrap().contains("-alb-"), "{seen}");
    assert_eq!(
        seen["bucket_sids"],
        json!(["DenyInsecureTransport", "AlbAccessLogs"])
    );
    assert_eq!(seen["deregistration_delay"], "30", "{seen}");
    assert_eq!(
        seen["circuit_breaker"],
        json!({"enable": true, "rollback": true}),
        "{seen}"
    );
    down_leaves_nothing(&stack);
}

/// The lockfile and the emulator's call log, to prove nothing changed.
fn untouched(stack: &Stack, lock: &str, after: u64) {
    assert_eq!(
        stack.lockfile().as_deref(),
        Some(lock),
        "the lockfile is as it was"
    );
    let writes: Vec<Value> = stack
        .calls_since(after)
        .into_iter()
        .filter(|c| mutating(c["operation"].as_str().unwrap_or_default()))
        .collect();
    assert!(writes.is_empty(), "no write call: {writes:?}");
}

/// A region change would orphan the whole regional stack: `validate`,
/// `plan` and `up` refuse it (exit 2) naming recorded and new values, and
/// change nothing; `down` with the edited profile still removes everything
/// in the region the lockfile records.
#[test]
fn a_region_change_is_refused_and_down_still_cleans_the_recorded_region() {
    // Its own emulator: the call log must hold only this test's calls.
    let emu = &Emulator::start();
    let stack = Stack::new(emu, "ahi-delivery", "t-region", &[]);
    stack.up();
    stack.edit("region = \"us-east-1\"", "region = \"us-west-2\"");
    let lock = stack.lockfile().unwrap();
    let after = stack.last_seq();
    for command in ["validate", "plan", "up"] {
        let run = stack.run(&[command]);
        assert_eq!(run.code, 2, "{command}: {}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr
                .contains("vpc: recorded in region us-east-1, the profile now puts it in us-west-2"),
            "{command}: {}",
            run.stderr
        );
        assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
        assert!(run.stderr.contains("Moving a stack"), "{}", run.stderr);
    }
    untouched(&stack, &lock, after);
    down_leaves_nothing(&stack);
}

/// Switching from a network the tool made to an existing VPC would put new
/// security groups beside an ALB and tasks left in the old VPC: refused
/// before any call; `down` removes the stack it made.
#[test]
fn a_network_change_is_refused_and_changes_nothing() {
    let emu = &Emulator::start();
    let stack = Stack::new(emu, "ahi-delivery", "t-netswap", &[]);
    stack.up();
    let theirs = emu.boto3(
        "ec2 = client('ec2')\n\
         v = ec2.create_vpc(CidrBlock='10.8.0.0/16')['Vpc']['VpcId']\n\
         zones = [z['ZoneName'] for z in ec2.describe_availability_zones()['AvailabilityZones']][:2]\n\
         s = [ec2.create_subnet(VpcId=v, CidrBlock=f'10.8.{i}.0/24', AvailabilityZone=zones[i % 2])['Subnet']['SubnetId'] for i in range(4)]\n\
         print(json.dumps([v] + s))",
    );
    let ids: Vec<&str> = theirs
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let file = stack.path().join("profile.toml");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str(&format!(
        "\n[network]\nvpc_id = \"{}\"\npublic_subnet_ids = [\"{}\", \"{}\"]\nprivate_subnet_ids = [\"{}\", \"{}\"]\n",
        ids[0], ids[1], ids[2], ids[3], ids[4]
    ));
    std::fs::write(&file, text).unwrap();
    let lock = stack.lockfile().unwrap();
    let after = stack.last_seq();
    for command in ["validate", "plan", "up"] {
        let run = stack.run(&[command]);
        assert_eq!(run.code, 2, "{command}: {}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("alb_security_group: vpc = \"vpc-") && run.stderr.contains(ids[0]),
            "{command}: {}",
            run.stderr
        );
    }
    untouched(&stack, &lock, after);
    down_leaves_nothing(&stack);
    let kept = emu.boto3(&format!(
        "print(json.dumps(len(client('ec2').describe_subnets(Filters=[{{'Name': 'vpc-id', 'Values': ['{}']}}])['Subnets'])))",
        ids[0]
    ));
    assert_eq!(kept, 4, "the operator's network stays");
}

/// `status`, `outputs` and `down` work from the lockfile alone.
#[test]
fn with_the_profile_gone_status_outputs_and_down_work_from_the_lockfile() {
    let emu = emulator();
    let stack = Stack::new(emu, "ahi-delivery", "t-noprofile", &[]);
    stack.up();
    std::fs::remove_file(stack.path().join("profile.toml")).unwrap();
    let (code, status) = stack.json(&["status"]);
    assert_eq!(code, 0, "{status}");
    assert_eq!(status["stack"], "t-noprofile");
    let (code, outputs) = stack.json(&["outputs"]);
    assert_eq!(code, 0, "{outputs}");
    assert!(
        outputs["url"].as_str().unwrap().ends_with(".cloudfront.net"),
        "{outputs}"
    );
    down_leaves_nothing(&stack);
    assert!(stack.lockfile().is_none(), "the lockfile goes with the stack");
}

/// A lockfile written by the schema-1 release (tests/cli/fixtures, made by
/// that release's `up` against the emulator) is read as it is, migrated on
/// the first write with the original kept beside it, and the stack it
/// records is brought up and torn down.
#[test]
fn a_schema_1_lockfile_is_migrated_with_a_backup_and_keeps_working() {
    let emu = emulator();
    let stack = Stack::new(emu, "ahi-delivery", "ahi-old", &[]);
    let fixture = include_str!("fixtures/schema1-ahi-old.lock");
    let lock = stack.path().join("profile.lock");
    std::fs::write(&lock, fixture).unwrap();
    // Read-only commands read it and write nothing (its resources are not in
    // this fresh emulator: status says missing).
    let (code, status) = stack.json(&["status"]);
    assert_eq!(code, 4, "{status}");
    assert!(
        status["resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["health"] == "missing"),
        "{status}"
    );
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), fixture);
    stack.up();
    let backup = stack.path().join("profile.lock.schema1.bak");
    assert_eq!(
        std::fs::read_to_string(backup).unwrap(),
        fixture,
        "the original is kept"
    );
    let migrated = stack.lockfile().unwrap();
    assert!(migrated.starts_with("schema = 2\n"), "{migrated}");
    assert!(migrated.contains("needs = ["), "{migrated}");
    assert_eq!(stack.json(&["status"]).0, 0);
    assert_eq!(stack.json(&["plan"]).0, 0);
    down_leaves_nothing(&stack);
}

/// With the timing and semantic rules real AWS enforces turned up (Lambda
/// states, EC2 eventual consistency, a NAT gateway that fails, a secret name
/// still scheduled for deletion, a fresh account's ECS service-linked role,
/// logs delivered after the last listing), every `up` converges in one run,
/// an authorizer change too, and up -> down -> up -> down leaves nothing.
#[test]
fn with_strict_aws_rules_every_up_converges_in_one_run() {
    let emu = &Emulator::start();
    emu.control(
        "POST",
        "/_ahi/config",
        Some(&json!({
            "delays": {"ec2_consistency": 20, "secret_deletion": 60, "ecs_service_linked_role": 60,
                       "lambda_create": 10, "lambda_update": 10, "lambda_publish": 10},
            // The first call naming each new EC2 id is refused too: the run
            // meets eventual consistency however slow a loaded machine makes it.
            "switches": {"fail_nat_gateways": 1, "late_log_delivery": true, "ec2_not_found_first": true},
        })),
    );
    let stack = Stack::new(emu, "ahi-delivery", "t-strict", &[]);
    stack.up();
    assert_eq!(stack.json(&["plan"]).0, 0, "one up converged");
    let made = emu
        .calls()
        .iter()
        .filter(|c| c["operation"] == "CreateNatGateway" && c["status"] == 200)
        .count();
    assert_eq!(made, 2, "the failed NAT gateway was replaced in the same run");
    let consistency: Vec<String> = emu
        .calls()
        .iter()
        .filter(|c| c["service"] == "ec2" && c["status"] == 400)
        .map(|c| c["operation"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(!consistency.is_empty(), "the run met EC2's eventual consistency");
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
    stack.up();
    assert_eq!(
        stack.json(&["plan"]).0,
        0,
        "an authorizer change converges in one up"
    );
    let conflicts: Vec<Value> = emu
        .calls()
        .into_iter()
        .filter(|c| c["service"] == "lambda" && c["status"] == 409)
        .collect();
    assert!(
        conflicts.is_empty(),
        "ahi-edge waited instead of colliding: {conflicts:?}"
    );
    down_leaves_nothing(&stack);
    // The secret's name is still scheduled for deletion; logs arrive late.
    emu.control(
        "POST",
        "/_ahi/config",
        Some(&json!({"switches": {"late_log_delivery": true}})),
    );
    stack.up();
    down_leaves_nothing(&stack);
}
