//! The least-privilege IAM policy a deployer needs for `up`, `plan`,
//! `status` and `down` of one profile (`ahi-edge iam-policy`), and the
//! table from every AWS operation ahi-edge calls to the IAM action that
//! allows it (tested against the emulator's call log). Resources are scoped
//! to the stack's name prefixes and regions wherever the service supports
//! resource-level permissions; the account is `*` (the policy is written
//! before the account is known, and names carry the stack's prefix).

use serde_json::{Value, json};

use crate::aws::EDGE_REGION;
use crate::names::StackNames;
use crate::profile::{AlbOrigin, AuthMode, Profile};

/// (service as the call log names it, operation, IAM action). An empty
/// action: allowed to every caller (no permission needed).
pub const OPERATIONS: &[(&str, &str, &str)] = &[
    ("sts", "GetCallerIdentity", ""),
    // CloudFront
    (
        "cloudfront",
        "CreateDistributionWithTags",
        "cloudfront:CreateDistribution",
    ),
    ("cloudfront", "GetDistribution", "cloudfront:GetDistribution"),
    (
        "cloudfront",
        "GetDistributionConfig",
        "cloudfront:GetDistributionConfig",
    ),
    ("cloudfront", "ListDistributions", "cloudfront:ListDistributions"),
    (
        "cloudfront",
        "UpdateDistribution",
        "cloudfront:UpdateDistribution",
    ),
    (
        "cloudfront",
        "DeleteDistribution",
        "cloudfront:DeleteDistribution",
    ),
    (
        "cloudfront",
        "ListTagsForResource",
        "cloudfront:ListTagsForResource",
    ),
    ("cloudfront", "TagResource", "cloudfront:TagResource"),
    ("cloudfront", "UntagResource", "cloudfront:UntagResource"),
    ("cloudfront", "CreateCachePolicy", "cloudfront:CreateCachePolicy"),
    ("cloudfront", "GetCachePolicy", "cloudfront:GetCachePolicy"),
    ("cloudfront", "ListCachePolicies", "cloudfront:ListCachePolicies"),
    ("cloudfront", "UpdateCachePolicy", "cloudfront:UpdateCachePolicy"),
    ("cloudfront", "DeleteCachePolicy", "cloudfront:DeleteCachePolicy"),
    (
        "cloudfront",
        "CreateOriginRequestPolicy",
        "cloudfront:CreateOriginRequestPolicy",
    ),
    (
        "cloudfront",
        "GetOriginRequestPolicy",
        "cloudfront:GetOriginRequestPolicy",
    ),
    (
        "cloudfront",
        "ListOriginRequestPolicies",
        "cloudfront:ListOriginRequestPolicies",
    ),
    (
        "cloudfront",
        "UpdateOriginRequestPolicy",
        "cloudfront:UpdateOriginRequestPolicy",
    ),
    (
        "cloudfront",
        "DeleteOriginRequestPolicy",
        "cloudfront:DeleteOriginRequestPolicy",
    ),
    // Lambda (the authorizer; ListFunctions lists replicas in every region)
    ("lambda", "CreateFunction", "lambda:CreateFunction"),
    ("lambda", "GetFunction", "lambda:GetFunction"),
    (
        "lambda",
        "GetFunctionConfiguration",
        "lambda:GetFunctionConfiguration",
    ),
    ("lambda", "UpdateFunctionCode", "lambda:UpdateFunctionCode"),
    (
        "lambda",
        "UpdateFunctionConfiguration",
        "lambda:UpdateFunctionConfiguration",
    ),
    ("lambda", "PublishVersion", "lambda:PublishVersion"),
    (
        "lambda",
        "ListVersionsByFunction",
        "lambda:ListVersionsByFunction",
    ),
    ("lambda", "DeleteFunction", "lambda:DeleteFunction"),
    ("lambda", "ListFunctions", "lambda:ListFunctions"),
    ("lambda", "ListTags", "lambda:ListTags"),
    ("lambda", "TagResource", "lambda:TagResource"),
    ("lambda", "UntagResource", "lambda:UntagResource"),
    // IAM
    ("iam", "GetRole", "iam:GetRole"),
    ("iam", "CreateRole", "iam:CreateRole"),
    ("iam", "UpdateRole", "iam:UpdateRole"),
    ("iam", "UpdateAssumeRolePolicy", "iam:UpdateAssumeRolePolicy"),
    ("iam", "DeleteRole", "iam:DeleteRole"),
    ("iam", "TagRole", "iam:TagRole"),
    ("iam", "UntagRole", "iam:UntagRole"),
    ("iam", "ListAttachedRolePolicies", "iam:ListAttachedRolePolicies"),
    ("iam", "AttachRolePolicy", "iam:AttachRolePolicy"),
    ("iam", "DetachRolePolicy", "iam:DetachRolePolicy"),
    ("iam", "ListRolePolicies", "iam:ListRolePolicies"),
    ("iam", "GetRolePolicy", "iam:GetRolePolicy"),
    ("iam", "PutRolePolicy", "iam:PutRolePolicy"),
    ("iam", "DeleteRolePolicy", "iam:DeleteRolePolicy"),
    // Secrets Manager
    (
        "secretsmanager",
        "GetRandomPassword",
        "secretsmanager:GetRandomPassword",
    ),
    ("secretsmanager", "CreateSecret", "secretsmanager:CreateSecret"),
    (
        "secretsmanager",
        "DescribeSecret",
        "secretsmanager:DescribeSecret",
    ),
    (
        "secretsmanager",
        "GetSecretValue",
        "secretsmanager:GetSecretValue",
    ),
    ("secretsmanager", "UpdateSecret", "secretsmanager:UpdateSecret"),
    ("secretsmanager", "TagResource", "secretsmanager:TagResource"),
    ("secretsmanager", "UntagResource", "secretsmanager:UntagResource"),
    ("secretsmanager", "DeleteSecret", "secretsmanager:DeleteSecret"),
    // S3 (the log bucket), as the call log names S3's REST calls
    ("s3", "HeadBucket", "s3:ListBucket"),
    ("s3", "CreateBucket", "s3:CreateBucket"),
    ("s3", "DeleteBucket", "s3:DeleteBucket"),
    ("s3", "ListObjects", "s3:ListBucket"),
    ("s3", "DeleteObjects", "s3:DeleteObject"),
    ("s3", "GetBucketTagging", "s3:GetBucketTagging"),
    ("s3", "PutBucketTagging", "s3:PutBucketTagging"),
    ("s3", "GetBucketPolicy", "s3:GetBucketPolicy"),
    ("s3", "PutBucketPolicy", "s3:PutBucketPolicy"),
    (
        "s3",
        "GetBucketOwnershipControls",
        "s3:GetBucketOwnershipControls",
    ),
    (
        "s3",
        "PutBucketOwnershipControls",
        "s3:PutBucketOwnershipControls",
    ),
    ("s3", "GetBucketEncryption", "s3:GetEncryptionConfiguration"),
    ("s3", "PutBucketEncryption", "s3:PutEncryptionConfiguration"),
    ("s3", "GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
    ("s3", "PutPublicAccessBlock", "s3:PutBucketPublicAccessBlock"),
    // EC2 (the network and the security groups)
    ("ec2", "DescribeVpcs", "ec2:DescribeVpcs"),
    ("ec2", "DescribeVpcAttribute", "ec2:DescribeVpcAttribute"),
    ("ec2", "DescribeSubnets", "ec2:DescribeSubnets"),
    (
        "ec2",
        "DescribeAvailabilityZones",
        "ec2:DescribeAvailabilityZones",
    ),
    ("ec2", "DescribeInternetGateways", "ec2:DescribeInternetGateways"),
    ("ec2", "DescribeAddresses", "ec2:DescribeAddresses"),
    ("ec2", "DescribeNatGateways", "ec2:DescribeNatGateways"),
    ("ec2", "DescribeRouteTables", "ec2:DescribeRouteTables"),
    ("ec2", "DescribeSecurityGroups", "ec2:DescribeSecurityGroups"),
    (
        "ec2",
        "DescribeManagedPrefixLists",
        "ec2:DescribeManagedPrefixLists",
    ),
    ("ec2", "CreateVpc", "ec2:CreateVpc"),
    ("ec2", "ModifyVpcAttribute", "ec2:ModifyVpcAttribute"),
    ("ec2", "DeleteVpc", "ec2:DeleteVpc"),
    ("ec2", "CreateSubnet", "ec2:CreateSubnet"),
    ("ec2", "DeleteSubnet", "ec2:DeleteSubnet"),
    ("ec2", "CreateInternetGateway", "ec2:CreateInternetGateway"),
    ("ec2", "AttachInternetGateway", "ec2:AttachInternetGateway"),
    ("ec2", "DetachInternetGateway", "ec2:DetachInternetGateway"),
    ("ec2", "DeleteInternetGateway", "ec2:DeleteInternetGateway"),
    ("ec2", "AllocateAddress", "ec2:AllocateAddress"),
    ("ec2", "ReleaseAddress", "ec2:ReleaseAddress"),
    ("ec2", "CreateNatGateway", "ec2:CreateNatGateway"),
    ("ec2", "DeleteNatGateway", "ec2:DeleteNatGateway"),
    ("ec2", "CreateRouteTable", "ec2:CreateRouteTable"),
    ("ec2", "CreateRoute", "ec2:CreateRoute"),
    ("ec2", "ReplaceRoute", "ec2:ReplaceRoute"),
    ("ec2", "AssociateRouteTable", "ec2:AssociateRouteTable"),
    ("ec2", "DisassociateRouteTable", "ec2:DisassociateRouteTable"),
    ("ec2", "DeleteRouteTable", "ec2:DeleteRouteTable"),
    ("ec2", "CreateSecurityGroup", "ec2:CreateSecurityGroup"),
    (
        "ec2",
        "AuthorizeSecurityGroupIngress",
        "ec2:AuthorizeSecurityGroupIngress",
    ),
    (
        "ec2",
        "RevokeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupIngress",
    ),
    ("ec2", "DeleteSecurityGroup", "ec2:DeleteSecurityGroup"),
    ("ec2", "CreateTags", "ec2:CreateTags"),
    ("ec2", "DeleteTags", "ec2:DeleteTags"),
    // Elastic Load Balancing
    (
        "elasticloadbalancing",
        "DescribeLoadBalancers",
        "elasticloadbalancing:DescribeLoadBalancers",
    ),
    (
        "elasticloadbalancing",
        "DescribeLoadBalancerAttributes",
        "elasticloadbalancing:DescribeLoadBalancerAttributes",
    ),
    (
        "elasticloadbalancing",
        "DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetGroups",
    ),
    (
        "elasticloadbalancing",
        "DescribeTargetGroupAttributes",
        "elasticloadbalancing:DescribeTargetGroupAttributes",
    ),
    (
        "elasticloadbalancing",
        "ModifyTargetGroupAttributes",
        "elasticloadbalancing:ModifyTargetGroupAttributes",
    ),
    (
        "elasticloadbalancing",
        "DescribeListeners",
        "elasticloadbalancing:DescribeListeners",
    ),
    (
        "elasticloadbalancing",
        "DescribeRules",
        "elasticloadbalancing:DescribeRules",
    ),
    (
        "elasticloadbalancing",
        "DescribeTags",
        "elasticloadbalancing:DescribeTags",
    ),
    (
        "elasticloadbalancing",
        "CreateLoadBalancer",
        "elasticloadbalancing:CreateLoadBalancer",
    ),
    (
        "elasticloadbalancing",
        "ModifyLoadBalancerAttributes",
        "elasticloadbalancing:ModifyLoadBalancerAttributes",
    ),
    (
        "elasticloadbalancing",
        "SetSubnets",
        "elasticloadbalancing:SetSubnets",
    ),
    (
        "elasticloadbalancing",
        "SetSecurityGroups",
        "elasticloadbalancing:SetSecurityGroups",
    ),
    (
        "elasticloadbalancing",
        "SetIpAddressType",
        "elasticloadbalancing:SetIpAddressType",
    ),
    (
        "elasticloadbalancing",
        "DeleteLoadBalancer",
        "elasticloadbalancing:DeleteLoadBalancer",
    ),
    (
        "elasticloadbalancing",
        "CreateTargetGroup",
        "elasticloadbalancing:CreateTargetGroup",
    ),
    (
        "elasticloadbalancing",
        "ModifyTargetGroup",
        "elasticloadbalancing:ModifyTargetGroup",
    ),
    (
        "elasticloadbalancing",
        "DeleteTargetGroup",
        "elasticloadbalancing:DeleteTargetGroup",
    ),
    (
        "elasticloadbalancing",
        "CreateListener",
        "elasticloadbalancing:CreateListener",
    ),
    (
        "elasticloadbalancing",
        "ModifyListener",
        "elasticloadbalancing:ModifyListener",
    ),
    (
        "elasticloadbalancing",
        "DeleteListener",
        "elasticloadbalancing:DeleteListener",
    ),
    (
        "elasticloadbalancing",
        "CreateRule",
        "elasticloadbalancing:CreateRule",
    ),
    (
        "elasticloadbalancing",
        "ModifyRule",
        "elasticloadbalancing:ModifyRule",
    ),
    (
        "elasticloadbalancing",
        "DeleteRule",
        "elasticloadbalancing:DeleteRule",
    ),
    ("elasticloadbalancing", "AddTags", "elasticloadbalancing:AddTags"),
    (
        "elasticloadbalancing",
        "RemoveTags",
        "elasticloadbalancing:RemoveTags",
    ),
    // ECS
    ("ecs", "CreateCluster", "ecs:CreateCluster"),
    ("ecs", "DescribeClusters", "ecs:DescribeClusters"),
    ("ecs", "DeleteCluster", "ecs:DeleteCluster"),
    ("ecs", "CreateService", "ecs:CreateService"),
    ("ecs", "DescribeServices", "ecs:DescribeServices"),
    ("ecs", "ListTasks", "ecs:ListTasks"),
    ("ecs", "DescribeTasks", "ecs:DescribeTasks"),
    ("ecs", "UpdateService", "ecs:UpdateService"),
    ("ecs", "DeleteService", "ecs:DeleteService"),
    ("ecs", "TagResource", "ecs:TagResource"),
    ("ecs", "UntagResource", "ecs:UntagResource"),
    ("ecs", "RegisterTaskDefinition", "ecs:RegisterTaskDefinition"),
    ("ecs", "DescribeTaskDefinition", "ecs:DescribeTaskDefinition"),
    ("ecs", "ListTaskDefinitions", "ecs:ListTaskDefinitions"),
    ("ecs", "DeregisterTaskDefinition", "ecs:DeregisterTaskDefinition"),
    ("ecs", "DeleteTaskDefinitions", "ecs:DeleteTaskDefinitions"),
    // CloudWatch Logs
    ("logs", "DescribeLogGroups", "logs:DescribeLogGroups"),
    ("logs", "CreateLogGroup", "logs:CreateLogGroup"),
    ("logs", "PutRetentionPolicy", "logs:PutRetentionPolicy"),
    ("logs", "DeleteLogGroup", "logs:DeleteLogGroup"),
    ("logs", "ListTagsForResource", "logs:ListTagsForResource"),
    ("logs", "TagResource", "logs:TagResource"),
    ("logs", "UntagResource", "logs:UntagResource"),
    // ACM (status and plan read the certificates the profile names)
    ("acm", "DescribeCertificate", "acm:DescribeCertificate"),
];

/// The IAM action that allows `operation` of `service` (call-log names).
pub fn action_for(service: &str, operation: &str) -> Option<&'static str> {
    OPERATIONS
        .iter()
        .find(|(s, o, _)| *s == service && *o == operation)
        .map(|(_, _, a)| *a)
}

fn actions(prefix: &str, names: &[&str]) -> Vec<String> {
    names.iter().map(|n| format!("{prefix}:{n}")).collect()
}

fn statement(sid: &str, actions: Vec<String>, resources: Vec<String>) -> Value {
    json!({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources})
}

/// The policy for `profile`, as one IAM policy document.
pub fn policy(profile: &Profile) -> Value {
    let stack = &profile.stack.name;
    let names = StackNames { stack };
    let region = &profile.healthimaging.region;
    let edge = EDGE_REGION;
    let mut statements = Vec::new();

    // What AWS does not scope to a resource: listings and lookups, and ECS
    // task definition registration. Held to the regions the stack uses.
    let mut regions: Vec<String> = vec![region.clone(), edge.to_string()];
    regions.extend(profile.lambda_edge.replica_regions.iter().cloned());
    regions.sort();
    regions.dedup();
    let mut unscoped = actions(
        "ec2",
        &[
            "DescribeVpcs",
            "DescribeVpcAttribute",
            "DescribeSubnets",
            "DescribeAvailabilityZones",
            "DescribeInternetGateways",
            "DescribeAddresses",
            "DescribeNatGateways",
            "DescribeRouteTables",
            "DescribeSecurityGroups",
            "DescribeManagedPrefixLists",
        ],
    );
    unscoped.extend(actions(
        "elasticloadbalancing",
        &[
            "DescribeLoadBalancers",
            "DescribeLoadBalancerAttributes",
            "DescribeTargetGroups",
            "DescribeTargetGroupAttributes",
            "DescribeListeners",
            "DescribeRules",
            "DescribeTags",
        ],
    ));
    unscoped.extend(actions(
        "ecs",
        &[
            "RegisterTaskDefinition",
            "DescribeTaskDefinition",
            "ListTaskDefinitions",
            "DeregisterTaskDefinition",
            "DeleteTaskDefinitions",
        ],
    ));
    unscoped.extend(actions("logs", &["DescribeLogGroups"]));
    unscoped.extend(actions("lambda", &["ListFunctions"]));
    unscoped.extend(actions(
        "cloudfront",
        &[
            "ListDistributions",
            "ListCachePolicies",
            "ListOriginRequestPolicies",
        ],
    ));
    unscoped.extend(actions("secretsmanager", &["GetRandomPassword"]));
    let mut listing = statement("ListingsAndLookups", unscoped, vec!["*".into()]);
    listing["Condition"] = json!({"StringEquals": {"aws:RequestedRegion": regions}});
    statements.push(listing);

    statements.push(statement(
        "Ec2NetworkAndSecurityGroups",
        actions(
            "ec2",
            &[
                "CreateVpc",
                "ModifyVpcAttribute",
                "DeleteVpc",
                "CreateSubnet",
                "DeleteSubnet",
                "CreateInternetGateway",
                "AttachInternetGateway",
                "DetachInternetGateway",
                "DeleteInternetGateway",
                "AllocateAddress",
                "ReleaseAddress",
                "CreateNatGateway",
                "DeleteNatGateway",
                "CreateRouteTable",
                "CreateRoute",
                "ReplaceRoute",
                "AssociateRouteTable",
                "DisassociateRouteTable",
                "DeleteRouteTable",
                "CreateSecurityGroup",
                "AuthorizeSecurityGroupIngress",
                "RevokeSecurityGroupIngress",
                "DeleteSecurityGroup",
                "CreateTags",
                "DeleteTags",
            ],
        ),
        vec![format!("arn:aws:ec2:{region}:*:*")],
    ));

    let alb = names.load_balancer();
    statements.push(statement(
        "LoadBalancer",
        actions(
            "elasticloadbalancing",
            &[
                "CreateLoadBalancer",
                "ModifyLoadBalancerAttributes",
                "SetSubnets",
                "SetSecurityGroups",
                "SetIpAddressType",
                "DeleteLoadBalancer",
                "CreateTargetGroup",
                "ModifyTargetGroup",
                "ModifyTargetGroupAttributes",
                "DeleteTargetGroup",
                "CreateListener",
                "ModifyListener",
                "DeleteListener",
                "CreateRule",
                "ModifyRule",
                "DeleteRule",
                "AddTags",
                "RemoveTags",
            ],
        ),
        vec![
            format!("arn:aws:elasticloadbalancing:{region}:*:loadbalancer/app/{alb}/*"),
            format!(
                "arn:aws:elasticloadbalancing:{region}:*:targetgroup/{}/*",
                names.target_group()
            ),
            format!("arn:aws:elasticloadbalancing:{region}:*:listener/app/{alb}/*"),
            format!("arn:aws:elasticloadbalancing:{region}:*:listener-rule/app/{alb}/*"),
        ],
    ));

    statements.push(statement(
        "EcsClusterAndService",
        actions(
            "ecs",
            &[
                "CreateCluster",
                "DescribeClusters",
                "DeleteCluster",
                "CreateService",
                "DescribeServices",
                "ListTasks",
                "DescribeTasks",
                "UpdateService",
                "DeleteService",
                "TagResource",
                "UntagResource",
            ],
        ),
        vec![
            format!("arn:aws:ecs:{region}:*:cluster/{}", names.cluster()),
            format!(
                "arn:aws:ecs:{region}:*:service/{}/{}",
                names.cluster(),
                names.service()
            ),
            format!("arn:aws:ecs:{region}:*:task-definition/{}:*", names.task_family()),
            format!("arn:aws:ecs:{region}:*:task/{}/*", names.cluster()),
            format!("arn:aws:ecs:{region}:*:container-instance/{}/*", names.cluster()),
        ],
    ));

    let roles = vec![
        format!("arn:aws:iam::*:role/{}", names.edge_role()),
        format!("arn:aws:iam::*:role/{}", names.task_execution_role()),
        format!("arn:aws:iam::*:role/{}", names.task_role()),
    ];
    statements.push(statement(
        "StackRoles",
        actions(
            "iam",
            &[
                "GetRole",
                "CreateRole",
                "UpdateRole",
                "UpdateAssumeRolePolicy",
                "DeleteRole",
                "TagRole",
                "UntagRole",
                "ListAttachedRolePolicies",
                "AttachRolePolicy",
                "DetachRolePolicy",
                "ListRolePolicies",
                "GetRolePolicy",
                "PutRolePolicy",
                "DeleteRolePolicy",
            ],
        ),
        roles.clone(),
    ));
    let mut pass = statement("PassStackRoles", actions("iam", &["PassRole"]), roles);
    pass["Condition"] =
        json!({"StringEquals": {"iam:PassedToService": ["lambda.amazonaws.com", "ecs-tasks.amazonaws.com"]}});
    statements.push(pass);
    // ECS, ELB, the Lambda@Edge replicator and CloudFront's logger each
    // create their service-linked role on first use, with the caller's rights.
    let mut linked = statement(
        "ServiceLinkedRoles",
        actions("iam", &["CreateServiceLinkedRole"]),
        vec!["arn:aws:iam::*:role/aws-service-role/*".into()],
    );
    linked["Condition"] = json!({"StringEquals": {"iam:AWSServiceName": [
        "ecs.amazonaws.com",
        "elasticloadbalancing.amazonaws.com",
        "replicator.lambda.amazonaws.com",
        "logger.cloudfront.amazonaws.com"
    ]}});
    statements.push(linked);

    if !matches!(profile.auth.mode, AuthMode::None) {
        let function = format!("arn:aws:lambda:{edge}:*:function:{}", names.edge_function());
        statements.push(statement(
            "EdgeAuthorizer",
            actions(
                "lambda",
                &[
                    "CreateFunction",
                    "GetFunction",
                    "GetFunctionConfiguration",
                    "UpdateFunctionCode",
                    "UpdateFunctionConfiguration",
                    "PublishVersion",
                    "ListVersionsByFunction",
                    "DeleteFunction",
                    "ListTags",
                    "TagResource",
                    "UntagResource",
                    // CloudFront associates a version with the caller's rights.
                    "EnableReplication*",
                ],
            ),
            vec![function.clone(), format!("{function}:*")],
        ));
    }

    statements.push(statement(
        "CloudFront",
        actions(
            "cloudfront",
            &[
                "CreateDistribution",
                "GetDistribution",
                "GetDistributionConfig",
                "UpdateDistribution",
                "DeleteDistribution",
                "ListTagsForResource",
                "TagResource",
                "UntagResource",
                "CreateCachePolicy",
                "GetCachePolicy",
                "UpdateCachePolicy",
                "DeleteCachePolicy",
                "CreateOriginRequestPolicy",
                "GetOriginRequestPolicy",
                "UpdateOriginRequestPolicy",
                "DeleteOriginRequestPolicy",
            ],
        ),
        vec![
            "arn:aws:cloudfront::*:distribution/*".into(),
            "arn:aws:cloudfront::*:cache-policy/*".into(),
            "arn:aws:cloudfront::*:origin-request-policy/*".into(),
        ],
    ));

    let bucket = format!("arn:aws:s3:::{stack}-logs-*-{region}");
    statements.push(statement(
        "LogBucket",
        actions(
            "s3",
            &[
                "CreateBucket",
                "DeleteBucket",
                "ListBucket",
                "GetBucketTagging",
                "PutBucketTagging",
                "GetBucketPolicy",
                "PutBucketPolicy",
                "GetBucketOwnershipControls",
                "PutBucketOwnershipControls",
                "GetEncryptionConfiguration",
                "PutEncryptionConfiguration",
                "GetBucketPublicAccessBlock",
                "PutBucketPublicAccessBlock",
                // CloudFront standard logging adds its grant to the ACL with
                // the caller's credentials.
                "GetBucketAcl",
                "PutBucketAcl",
                "DeleteObject",
            ],
        ),
        vec![bucket.clone(), format!("{bucket}/*")],
    ));

    statements.push(statement(
        "OriginSecret",
        actions(
            "secretsmanager",
            &[
                "CreateSecret",
                "DescribeSecret",
                "GetSecretValue",
                "UpdateSecret",
                "TagResource",
                "UntagResource",
                "DeleteSecret",
            ],
        ),
        vec![format!(
            "arn:aws:secretsmanager:{region}:*:secret:ahi-edge/{stack}/*"
        )],
    ));

    statements.push(statement(
        "ProxyLogGroup",
        actions(
            "logs",
            &[
                "CreateLogGroup",
                "PutRetentionPolicy",
                "DeleteLogGroup",
                "ListTagsForResource",
                "TagResource",
                "UntagResource",
            ],
        ),
        vec![
            format!("arn:aws:logs:{region}:*:log-group:{}", names.proxy_log_group()),
            format!("arn:aws:logs:{region}:*:log-group:{}:*", names.proxy_log_group()),
        ],
    ));
    // `down --purge-logs` removes the log groups Lambda made for the replicas.
    statements.push(statement(
        "ReplicaLogGroups",
        actions("logs", &["DeleteLogGroup"]),
        profile
            .lambda_edge
            .replica_regions
            .iter()
            .map(|r| {
                format!(
                    "arn:aws:logs:{r}:*:log-group:/aws/lambda/{edge}.{}:*",
                    names.edge_function()
                )
            })
            .collect(),
    ));

    let mut certificates = Vec::new();
    if let AlbOrigin::Https { certificate_arn, .. } = &profile.alb {
        certificates.push(certificate_arn.clone());
    }
    if let Some(arn) = &profile.cloudfront.certificate_arn {
        certificates.push(arn.clone());
    }
    if !certificates.is_empty() {
        statements.push(statement(
            "Certificates",
            actions("acm", &["DescribeCertificate"]),
            certificates,
        ));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// Whether the policy allows `action` (exactly, or by a trailing `*`).
pub fn allows(policy: &Value, action: &str) -> bool {
    policy["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["Action"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .any(|a| a == action || a.strip_suffix('*').is_some_and(|p| action.starts_with(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(name: &str) -> Profile {
        let path = format!("{}/profiles/{name}.toml", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        crate::profile::check(std::path::Path::new(&path), &text)
            .profile
            .unwrap()
    }

    #[test]
    fn every_operation_in_the_table_is_allowed_by_the_policy() {
        let p = policy(&profile("ahi-delivery-https"));
        for (service, operation, action) in OPERATIONS {
            assert!(
                action.is_empty() || allows(&p, action),
                "{service} {operation} -> {action}"
            );
        }
        let mut seen: Vec<(&str, &str)> = OPERATIONS.iter().map(|(s, o, _)| (*s, *o)).collect();
        seen.sort();
        let before = seen.len();
        seen.dedup();
        assert_eq!(seen.len(), before, "one row per operation");
    }

    #[test]
    fn no_wildcard_action_and_resource_star_only_where_aws_scopes_nothing() {
        let p = policy(&profile("ahi-delivery"));
        for s in p["Statement"].as_array().unwrap() {
            assert!(s["Action"].as_array().unwrap().iter().all(|a| a != "*"), "{s}");
            let star = s["Resource"].as_array().unwrap().iter().any(|r| r == "*");
            assert_eq!(star, s["Sid"] == "ListingsAndLookups", "{s}");
        }
        let text = p.to_string();
        assert!(text.contains("role/ahi-delivery-proxy-task"), "{text}");
        assert!(text.contains("secret:ahi-edge/ahi-delivery/*"), "{text}");
    }

    #[test]
    fn without_an_authorizer_there_is_no_lambda_write() {
        let p = policy(&profile("ahi-delivery-noauth"));
        assert!(!allows(&p, "lambda:CreateFunction"));
        assert!(allows(&p, "lambda:ListFunctions"));
    }
}
