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
use crate::profile::{AlbOrigin, Network, Profile};
use crate::resources::STACK_TAG;
use crate::resources::role::BOUNDARY_PATH;

/// The EC2 resource types the stack creates, each tagged on create.
const NEW_EC2_TYPES: [&str; 7] = [
    "vpc",
    "subnet",
    "internet-gateway",
    "elastic-ip",
    "natgateway",
    "route-table",
    "security-group",
];

/// The EC2 creates that tag their resource (TagSpecifications).
const EC2_CREATES: [&str; 7] = [
    "CreateVpc",
    "CreateSubnet",
    "CreateInternetGateway",
    "AllocateAddress",
    "CreateNatGateway",
    "CreateRouteTable",
    "CreateSecurityGroup",
];

/// Denied by the policy whatever else allows them: removing a role's
/// boundary, and creating, editing or deleting the boundary policy.
const KEEP_BOUNDARY: [&str; 6] = [
    "iam:DeleteRolePermissionsBoundary",
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
];

/// One AWS operation ahi-edge calls (service as the call log names it,
/// operation), the IAM action that allows it, and the policy statement that
/// grants it. An empty action: allowed to every caller. An empty operation:
/// an action AWS checks on ahi-edge's behalf (PassRole, service-linked
/// roles, Lambda@Edge replication, CloudFront logging's bucket ACL), or an
/// operation's action also granted on a second statement's resources (the
/// origin buckets' policies).
pub struct Operation {
    pub service: &'static str,
    pub operation: &'static str,
    pub action: &'static str,
    pub statement: Statement,
}

/// The policy's statements, each with its own resource scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Statement {
    None,
    Listings,
    /// EC2 creates, only with the stack's tag in the request (tag on create).
    Ec2Create,
    /// The tags EC2 writes as part of those creates (`ec2:CreateAction`).
    Ec2TagOnCreate,
    /// What those creates touch besides the new resource: the stack's own
    /// VPC, subnets and address (by tag), or the profile's existing VPC.
    Ec2CreateIn,
    /// Changes and deletes of the stack's own network, by its tag.
    Ec2Network,
    /// The rules an ingress authorization creates (no tag on them).
    Ec2SecurityGroupRules,
    /// The ALB and target group created only with the stack's tag.
    LoadBalancerCreate,
    LoadBalancerTagOnCreate,
    /// Changes and deletes of the stack's ALB and target group, by tag.
    LoadBalancer,
    /// The ALB's listeners and rules (not tagged): by the ALB's name.
    Listeners,
    /// The cluster, service and task definition created only with the stack's tag.
    EcsCreate,
    EcsTagOnCreate,
    /// Changes and deletes of the stack's cluster, service and task definitions, by tag.
    EcsClusterAndService,
    /// Reads of the cluster, service and tasks, by name.
    EcsReads,
    /// Reads and the writes IAM cannot condition on the boundary (trust
    /// policy, description, tags, delete) of the stack's roles.
    StackRoles,
    /// Creating a role and changing its policies, only with the stack's
    /// permissions boundary on it.
    BoundedRoles,
    /// Attaching exactly the AWS managed policies the stack's roles use,
    /// only to a role with the boundary.
    AwsManagedPolicies,
    /// PassRole of the task roles, to ECS tasks only.
    PassTaskRoles,
    /// PassRole of the authorizer's role, to Lambda only.
    PassEdgeRole,
    /// The pre-flight's read of the boundary policy.
    ReadBoundary,
    /// Denied whatever else the deployer holds: removing a role's boundary
    /// and editing or deleting the boundary policy.
    KeepBoundary,
    ServiceLinkedRoles,
    EdgeAuthorizer,
    CloudFront,
    LogBucket,
    OriginBuckets,
    /// The route buckets the stack creates (`create = true`): their
    /// settings, and with `down --purge-buckets` their content.
    OwnedOriginBuckets,
    /// Where each route bucket is and how it is encrypted (`plan`/`up`
    /// pre-flight: HeadBucket, GetBucketEncryption), reads only.
    OriginBucketReads,
    /// The key policy of an SSE-KMS route bucket's key (reads only; the key
    /// is named by the bucket, so not known from the profile).
    OriginBucketKeys,
    OriginSecret,
    ProxyLogGroup,
    ReplicaLogGroups,
    Certificates,
    ProxyImage,
    IdentityProvider,
    /// The S3 state object and its lock object (`[state] backend = "s3"`).
    StateObjects,
    /// The state bucket's settings `plan` checks (versioning, public access).
    StateBucket,
    /// The KMS key the state is encrypted with, when one is named.
    StateKey,
}

const fn op(
    service: &'static str,
    operation: &'static str,
    action: &'static str,
    statement: Statement,
) -> Operation {
    Operation {
        service,
        operation,
        action,
        statement,
    }
}

use Statement::*;

#[rustfmt::skip]
pub const OPERATIONS: &[Operation] = &[
    op("sts", "GetCallerIdentity", "", None),
    op("cloudfront", "CreateDistributionWithTags", "cloudfront:CreateDistribution", CloudFront),
    op("cloudfront", "GetDistribution", "cloudfront:GetDistribution", CloudFront),
    op("cloudfront", "GetDistributionConfig", "cloudfront:GetDistributionConfig", CloudFront),
    op("cloudfront", "ListDistributions", "cloudfront:ListDistributions", Listings),
    op("cloudfront", "UpdateDistribution", "cloudfront:UpdateDistribution", CloudFront),
    op("cloudfront", "DeleteDistribution", "cloudfront:DeleteDistribution", CloudFront),
    op("cloudfront", "ListTagsForResource", "cloudfront:ListTagsForResource", CloudFront),
    op("cloudfront", "TagResource", "cloudfront:TagResource", CloudFront),
    op("cloudfront", "UntagResource", "cloudfront:UntagResource", CloudFront),
    op("cloudfront", "CreateCachePolicy", "cloudfront:CreateCachePolicy", CloudFront),
    op("cloudfront", "GetCachePolicy", "cloudfront:GetCachePolicy", CloudFront),
    op("cloudfront", "ListCachePolicies", "cloudfront:ListCachePolicies", Listings),
    op("cloudfront", "UpdateCachePolicy", "cloudfront:UpdateCachePolicy", CloudFront),
    op("cloudfront", "DeleteCachePolicy", "cloudfront:DeleteCachePolicy", CloudFront),
    op("cloudfront", "CreateOriginRequestPolicy", "cloudfront:CreateOriginRequestPolicy", CloudFront),
    op("cloudfront", "GetOriginRequestPolicy", "cloudfront:GetOriginRequestPolicy", CloudFront),
    op("cloudfront", "ListOriginRequestPolicies", "cloudfront:ListOriginRequestPolicies", Listings),
    op("cloudfront", "UpdateOriginRequestPolicy", "cloudfront:UpdateOriginRequestPolicy", CloudFront),
    op("cloudfront", "DeleteOriginRequestPolicy", "cloudfront:DeleteOriginRequestPolicy", CloudFront),
    op("cloudfront", "CreateResponseHeadersPolicy", "cloudfront:CreateResponseHeadersPolicy", CloudFront),
    op("cloudfront", "GetResponseHeadersPolicy", "cloudfront:GetResponseHeadersPolicy", CloudFront),
    op("cloudfront", "ListResponseHeadersPolicies", "cloudfront:ListResponseHeadersPolicies", Listings),
    op("cloudfront", "UpdateResponseHeadersPolicy", "cloudfront:UpdateResponseHeadersPolicy", CloudFront),
    op("cloudfront", "DeleteResponseHeadersPolicy", "cloudfront:DeleteResponseHeadersPolicy", CloudFront),
    op("cloudfront", "CreateFunction", "cloudfront:CreateFunction", CloudFront),
    op("cloudfront", "DescribeFunction", "cloudfront:DescribeFunction", CloudFront),
    op("cloudfront", "GetFunction", "cloudfront:GetFunction", CloudFront),
    op("cloudfront", "UpdateFunction", "cloudfront:UpdateFunction", CloudFront),
    op("cloudfront", "PublishFunction", "cloudfront:PublishFunction", CloudFront),
    op("cloudfront", "DeleteFunction", "cloudfront:DeleteFunction", CloudFront),
    op("cloudfront", "CreatePublicKey", "cloudfront:CreatePublicKey", Listings),
    op("cloudfront", "GetPublicKey", "cloudfront:GetPublicKey", Listings),
    op("cloudfront", "ListPublicKeys", "cloudfront:ListPublicKeys", Listings),
    op("cloudfront", "UpdatePublicKey", "cloudfront:UpdatePublicKey", Listings),
    op("cloudfront", "DeletePublicKey", "cloudfront:DeletePublicKey", Listings),
    op("cloudfront", "CreateKeyGroup", "cloudfront:CreateKeyGroup", Listings),
    op("cloudfront", "GetKeyGroup", "cloudfront:GetKeyGroup", Listings),
    op("cloudfront", "ListKeyGroups", "cloudfront:ListKeyGroups", Listings),
    op("cloudfront", "UpdateKeyGroup", "cloudfront:UpdateKeyGroup", Listings),
    op("cloudfront", "DeleteKeyGroup", "cloudfront:DeleteKeyGroup", Listings),
    op("cloudfront", "CreateOriginAccessControl", "cloudfront:CreateOriginAccessControl", Listings),
    op("cloudfront", "GetOriginAccessControl", "cloudfront:GetOriginAccessControl", CloudFront),
    op("cloudfront", "ListOriginAccessControls", "cloudfront:ListOriginAccessControls", Listings),
    op("cloudfront", "UpdateOriginAccessControl", "cloudfront:UpdateOriginAccessControl", CloudFront),
    op("cloudfront", "DeleteOriginAccessControl", "cloudfront:DeleteOriginAccessControl", CloudFront),
    op("lambda", "CreateFunction", "lambda:CreateFunction", EdgeAuthorizer),
    op("lambda", "GetFunction", "lambda:GetFunction", EdgeAuthorizer),
    op("lambda", "GetFunctionConfiguration", "lambda:GetFunctionConfiguration", EdgeAuthorizer),
    op("lambda", "UpdateFunctionCode", "lambda:UpdateFunctionCode", EdgeAuthorizer),
    op("lambda", "UpdateFunctionConfiguration", "lambda:UpdateFunctionConfiguration", EdgeAuthorizer),
    op("lambda", "PublishVersion", "lambda:PublishVersion", EdgeAuthorizer),
    op("lambda", "ListVersionsByFunction", "lambda:ListVersionsByFunction", EdgeAuthorizer),
    op("lambda", "DeleteFunction", "lambda:DeleteFunction", EdgeAuthorizer),
    op("lambda", "ListFunctions", "lambda:ListFunctions", Listings),
    op("lambda", "ListTags", "lambda:ListTags", EdgeAuthorizer),
    op("lambda", "TagResource", "lambda:TagResource", EdgeAuthorizer),
    op("lambda", "UntagResource", "lambda:UntagResource", EdgeAuthorizer),
    op("iam", "GetRole", "iam:GetRole", StackRoles),
    // The pre-flight: the stack's boundary exists.
    op("iam", "GetPolicy", "iam:GetPolicy", ReadBoundary),
    op("iam", "CreateRole", "iam:CreateRole", BoundedRoles),
    op("iam", "UpdateRole", "iam:UpdateRole", StackRoles),
    op("iam", "UpdateAssumeRolePolicy", "iam:UpdateAssumeRolePolicy", StackRoles),
    op("iam", "DeleteRole", "iam:DeleteRole", StackRoles),
    op("iam", "TagRole", "iam:TagRole", StackRoles),
    op("iam", "UntagRole", "iam:UntagRole", StackRoles),
    op("iam", "ListAttachedRolePolicies", "iam:ListAttachedRolePolicies", StackRoles),
    op("iam", "AttachRolePolicy", "iam:AttachRolePolicy", AwsManagedPolicies),
    op("iam", "DetachRolePolicy", "iam:DetachRolePolicy", BoundedRoles),
    op("iam", "ListRolePolicies", "iam:ListRolePolicies", StackRoles),
    op("iam", "GetRolePolicy", "iam:GetRolePolicy", StackRoles),
    op("iam", "PutRolePolicy", "iam:PutRolePolicy", BoundedRoles),
    op("iam", "DeleteRolePolicy", "iam:DeleteRolePolicy", BoundedRoles),
    op("iam", "PutRolePermissionsBoundary", "iam:PutRolePermissionsBoundary", BoundedRoles),
    op("secretsmanager", "GetRandomPassword", "secretsmanager:GetRandomPassword", Listings),
    op("secretsmanager", "CreateSecret", "secretsmanager:CreateSecret", OriginSecret),
    op("secretsmanager", "DescribeSecret", "secretsmanager:DescribeSecret", OriginSecret),
    op("secretsmanager", "GetSecretValue", "secretsmanager:GetSecretValue", OriginSecret),
    op("secretsmanager", "UpdateSecret", "secretsmanager:UpdateSecret", OriginSecret),
    op("secretsmanager", "TagResource", "secretsmanager:TagResource", OriginSecret),
    op("secretsmanager", "UntagResource", "secretsmanager:UntagResource", OriginSecret),
    op("secretsmanager", "DeleteSecret", "secretsmanager:DeleteSecret", OriginSecret),
    // rotate-origin-secret: a new version, then its labels moved.
    op("secretsmanager", "PutSecretValue", "secretsmanager:PutSecretValue", OriginSecret),
    op("secretsmanager", "UpdateSecretVersionStage", "secretsmanager:UpdateSecretVersionStage", OriginSecret),
    op("s3", "HeadBucket", "s3:ListBucket", LogBucket),
    op("s3", "CreateBucket", "s3:CreateBucket", LogBucket),
    op("s3", "DeleteBucket", "s3:DeleteBucket", LogBucket),
    op("s3", "ListObjects", "s3:ListBucket", LogBucket),
    op("s3", "ListObjectVersions", "s3:ListBucketVersions", LogBucket),
    op("s3", "DeleteObjects", "s3:DeleteObject", LogBucket),
    op("s3", "GetBucketTagging", "s3:GetBucketTagging", LogBucket),
    op("s3", "PutBucketTagging", "s3:PutBucketTagging", LogBucket),
    op("s3", "GetBucketPolicy", "s3:GetBucketPolicy", LogBucket),
    op("s3", "PutBucketPolicy", "s3:PutBucketPolicy", LogBucket),
    op("s3", "GetBucketOwnershipControls", "s3:GetBucketOwnershipControls", LogBucket),
    op("s3", "PutBucketOwnershipControls", "s3:PutBucketOwnershipControls", LogBucket),
    op("s3", "GetBucketEncryption", "s3:GetEncryptionConfiguration", LogBucket),
    op("s3", "PutBucketEncryption", "s3:PutEncryptionConfiguration", LogBucket),
    op("s3", "GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock", LogBucket),
    op("s3", "PutPublicAccessBlock", "s3:PutBucketPublicAccessBlock", LogBucket),
    op("ec2", "DescribeVpcs", "ec2:DescribeVpcs", Listings),
    op("ec2", "DescribeVpcAttribute", "ec2:DescribeVpcAttribute", Listings),
    op("ec2", "DescribeSubnets", "ec2:DescribeSubnets", Listings),
    op("ec2", "DescribeAvailabilityZones", "ec2:DescribeAvailabilityZones", Listings),
    op("ec2", "DescribeInternetGateways", "ec2:DescribeInternetGateways", Listings),
    op("ec2", "DescribeAddresses", "ec2:DescribeAddresses", Listings),
    op("ec2", "DescribeNatGateways", "ec2:DescribeNatGateways", Listings),
    op("ec2", "DescribeRouteTables", "ec2:DescribeRouteTables", Listings),
    op("ec2", "DescribeSecurityGroups", "ec2:DescribeSecurityGroups", Listings),
    op("ec2", "DescribeManagedPrefixLists", "ec2:DescribeManagedPrefixLists", Listings),
    op("ec2", "CreateVpc", "ec2:CreateVpc", Ec2Create),
    op("ec2", "ModifyVpcAttribute", "ec2:ModifyVpcAttribute", Ec2Network),
    op("ec2", "DeleteVpc", "ec2:DeleteVpc", Ec2Network),
    op("ec2", "CreateSubnet", "ec2:CreateSubnet", Ec2Create),
    op("ec2", "DeleteSubnet", "ec2:DeleteSubnet", Ec2Network),
    op("ec2", "CreateInternetGateway", "ec2:CreateInternetGateway", Ec2Create),
    op("ec2", "AttachInternetGateway", "ec2:AttachInternetGateway", Ec2Network),
    op("ec2", "DetachInternetGateway", "ec2:DetachInternetGateway", Ec2Network),
    op("ec2", "DeleteInternetGateway", "ec2:DeleteInternetGateway", Ec2Network),
    op("ec2", "AllocateAddress", "ec2:AllocateAddress", Ec2Create),
    op("ec2", "ReleaseAddress", "ec2:ReleaseAddress", Ec2Network),
    op("ec2", "CreateNatGateway", "ec2:CreateNatGateway", Ec2Create),
    op("ec2", "DeleteNatGateway", "ec2:DeleteNatGateway", Ec2Network),
    op("ec2", "CreateRouteTable", "ec2:CreateRouteTable", Ec2Create),
    op("ec2", "CreateRoute", "ec2:CreateRoute", Ec2Network),
    op("ec2", "ReplaceRoute", "ec2:ReplaceRoute", Ec2Network),
    op("ec2", "AssociateRouteTable", "ec2:AssociateRouteTable", Ec2Network),
    op("ec2", "DisassociateRouteTable", "ec2:DisassociateRouteTable", Ec2Network),
    op("ec2", "DeleteRouteTable", "ec2:DeleteRouteTable", Ec2Network),
    op("ec2", "CreateSecurityGroup", "ec2:CreateSecurityGroup", Ec2Create),
    op("ec2", "AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupIngress", Ec2Network),
    op("ec2", "RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", Ec2Network),
    op("ec2", "DeleteSecurityGroup", "ec2:DeleteSecurityGroup", Ec2Network),
    op("ec2", "CreateTags", "ec2:CreateTags", Ec2Network),
    op("ec2", "", "ec2:CreateTags", Ec2TagOnCreate),
    op("ec2", "", "ec2:CreateSubnet", Ec2CreateIn),
    op("ec2", "", "ec2:CreateRouteTable", Ec2CreateIn),
    op("ec2", "", "ec2:CreateSecurityGroup", Ec2CreateIn),
    op("ec2", "", "ec2:CreateNatGateway", Ec2CreateIn),
    op("ec2", "", "ec2:AuthorizeSecurityGroupIngress", Ec2SecurityGroupRules),
    op("ec2", "DeleteTags", "ec2:DeleteTags", Ec2Network),
    op("elasticloadbalancing", "DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancers", Listings),
    op("elasticloadbalancing", "DescribeLoadBalancerAttributes", "elasticloadbalancing:DescribeLoadBalancerAttributes", Listings),
    op("elasticloadbalancing", "DescribeTargetGroups", "elasticloadbalancing:DescribeTargetGroups", Listings),
    op("elasticloadbalancing", "DescribeTargetGroupAttributes", "elasticloadbalancing:DescribeTargetGroupAttributes", Listings),
    op("elasticloadbalancing", "ModifyTargetGroupAttributes", "elasticloadbalancing:ModifyTargetGroupAttributes", LoadBalancer),
    op("elasticloadbalancing", "DescribeListeners", "elasticloadbalancing:DescribeListeners", Listings),
    op("elasticloadbalancing", "DescribeRules", "elasticloadbalancing:DescribeRules", Listings),
    op("elasticloadbalancing", "DescribeTags", "elasticloadbalancing:DescribeTags", Listings),
    op("elasticloadbalancing", "CreateLoadBalancer", "elasticloadbalancing:CreateLoadBalancer", LoadBalancerCreate),
    op("elasticloadbalancing", "ModifyLoadBalancerAttributes", "elasticloadbalancing:ModifyLoadBalancerAttributes", LoadBalancer),
    op("elasticloadbalancing", "SetSubnets", "elasticloadbalancing:SetSubnets", LoadBalancer),
    op("elasticloadbalancing", "SetSecurityGroups", "elasticloadbalancing:SetSecurityGroups", LoadBalancer),
    op("elasticloadbalancing", "SetIpAddressType", "elasticloadbalancing:SetIpAddressType", LoadBalancer),
    op("elasticloadbalancing", "DeleteLoadBalancer", "elasticloadbalancing:DeleteLoadBalancer", LoadBalancer),
    op("elasticloadbalancing", "CreateTargetGroup", "elasticloadbalancing:CreateTargetGroup", LoadBalancerCreate),
    op("elasticloadbalancing", "ModifyTargetGroup", "elasticloadbalancing:ModifyTargetGroup", LoadBalancer),
    op("elasticloadbalancing", "DeleteTargetGroup", "elasticloadbalancing:DeleteTargetGroup", LoadBalancer),
    op("elasticloadbalancing", "CreateListener", "elasticloadbalancing:CreateListener", Listeners),
    op("elasticloadbalancing", "ModifyListener", "elasticloadbalancing:ModifyListener", Listeners),
    op("elasticloadbalancing", "DeleteListener", "elasticloadbalancing:DeleteListener", Listeners),
    op("elasticloadbalancing", "CreateRule", "elasticloadbalancing:CreateRule", Listeners),
    op("elasticloadbalancing", "ModifyRule", "elasticloadbalancing:ModifyRule", Listeners),
    op("elasticloadbalancing", "DeleteRule", "elasticloadbalancing:DeleteRule", Listeners),
    op("elasticloadbalancing", "AddTags", "elasticloadbalancing:AddTags", LoadBalancer),
    op("elasticloadbalancing", "RemoveTags", "elasticloadbalancing:RemoveTags", LoadBalancer),
    op("elasticloadbalancing", "", "elasticloadbalancing:AddTags", LoadBalancerTagOnCreate),
    op("ecs", "CreateCluster", "ecs:CreateCluster", EcsCreate),
    op("ecs", "DescribeClusters", "ecs:DescribeClusters", EcsReads),
    op("ecs", "DeleteCluster", "ecs:DeleteCluster", EcsClusterAndService),
    op("ecs", "CreateService", "ecs:CreateService", EcsCreate),
    op("ecs", "DescribeServices", "ecs:DescribeServices", EcsReads),
    op("ecs", "ListTasks", "ecs:ListTasks", EcsReads),
    op("ecs", "DescribeTasks", "ecs:DescribeTasks", EcsReads),
    op("ecs", "UpdateService", "ecs:UpdateService", EcsClusterAndService),
    op("ecs", "DeleteService", "ecs:DeleteService", EcsClusterAndService),
    op("ecs", "TagResource", "ecs:TagResource", EcsClusterAndService),
    op("ecs", "UntagResource", "ecs:UntagResource", EcsClusterAndService),
    op("ecs", "", "ecs:TagResource", EcsTagOnCreate),
    op("ecs", "RegisterTaskDefinition", "ecs:RegisterTaskDefinition", EcsCreate),
    op("ecs", "DescribeTaskDefinition", "ecs:DescribeTaskDefinition", Listings),
    op("ecs", "ListTaskDefinitions", "ecs:ListTaskDefinitions", Listings),
    op("ecs", "DeregisterTaskDefinition", "ecs:DeregisterTaskDefinition", Listings),
    op("ecs", "DeleteTaskDefinitions", "ecs:DeleteTaskDefinitions", EcsClusterAndService),
    op("logs", "DescribeLogGroups", "logs:DescribeLogGroups", Listings),
    op("logs", "CreateLogGroup", "logs:CreateLogGroup", ProxyLogGroup),
    op("logs", "PutRetentionPolicy", "logs:PutRetentionPolicy", ProxyLogGroup),
    op("logs", "DeleteLogGroup", "logs:DeleteLogGroup", ProxyLogGroup),
    op("logs", "ListTagsForResource", "logs:ListTagsForResource", ProxyLogGroup),
    op("logs", "TagResource", "logs:TagResource", ProxyLogGroup),
    op("logs", "UntagResource", "logs:UntagResource", ProxyLogGroup),
    op("acm", "DescribeCertificate", "acm:DescribeCertificate", Certificates),
    // The pre-flight's reads of CloudFront's quotas (routes profiles).
    op("servicequotas", "GetServiceQuota", "servicequotas:GetServiceQuota", Listings),
    op("servicequotas", "GetAWSDefaultServiceQuota", "servicequotas:GetAWSDefaultServiceQuota", Listings),
    // The pre-flight's reads of the proxy image and the identity provider.
    op("ecr", "DescribeImages", "ecr:DescribeImages", ProxyImage),
    op("ecr", "BatchGetImage", "ecr:BatchGetImage", ProxyImage),
    op("ecr", "GetDownloadUrlForLayer", "ecr:GetDownloadUrlForLayer", ProxyImage),
    op("cognito-idp", "DescribeUserPool", "cognito-idp:DescribeUserPool", IdentityProvider),
    op("cognito-idp", "DescribeUserPoolClient", "cognito-idp:DescribeUserPoolClient", IdentityProvider),
    // `ahi-edge invalidate`.
    op("cloudfront", "CreateInvalidation", "cloudfront:CreateInvalidation", CloudFront),
    op("cloudfront", "GetInvalidation", "cloudfront:GetInvalidation", CloudFront),
    // Not called by ahi-edge itself: what AWS checks on its behalf.
    op("cloudfront", "", "cloudfront:TagResource", CloudFront),
    op("iam", "", "iam:PassRole", PassTaskRoles),
    op("iam", "", "iam:PassRole", PassEdgeRole),
    op("iam", "", "iam:CreateServiceLinkedRole", ServiceLinkedRoles),
    op("lambda", "", "lambda:EnableReplication*", EdgeAuthorizer),
    op("lambda", "", "lambda:DisableReplication*", EdgeAuthorizer),
    op("s3", "DeleteBucketPolicy", "s3:DeleteBucketPolicy", OriginBuckets),
    op("s3", "", "s3:GetBucketPolicy", OriginBuckets),
    op("s3", "", "s3:PutBucketPolicy", OriginBuckets),
    op("s3", "", "s3:ListBucket", OriginBucketReads),
    op("s3", "", "s3:GetEncryptionConfiguration", OriginBucketReads),
    op("kms", "DescribeKey", "kms:DescribeKey", OriginBucketKeys),
    op("kms", "GetKeyPolicy", "kms:GetKeyPolicy", OriginBucketKeys),
    op("s3", "", "s3:DeleteObjectVersion", LogBucket),
    // A bucket the stack creates: the log bucket's calls, on its name.
    op("s3", "", "s3:ListBucket", OwnedOriginBuckets),
    op("s3", "", "s3:CreateBucket", OwnedOriginBuckets),
    op("s3", "", "s3:DeleteBucket", OwnedOriginBuckets),
    op("s3", "", "s3:ListBucketVersions", OwnedOriginBuckets),
    op("s3", "", "s3:DeleteObject", OwnedOriginBuckets),
    op("s3", "", "s3:DeleteObjectVersion", OwnedOriginBuckets),
    op("s3", "", "s3:GetBucketTagging", OwnedOriginBuckets),
    op("s3", "", "s3:PutBucketTagging", OwnedOriginBuckets),
    op("s3", "", "s3:GetBucketOwnershipControls", OwnedOriginBuckets),
    op("s3", "", "s3:PutBucketOwnershipControls", OwnedOriginBuckets),
    op("s3", "", "s3:GetEncryptionConfiguration", OwnedOriginBuckets),
    op("s3", "", "s3:PutEncryptionConfiguration", OwnedOriginBuckets),
    op("s3", "", "s3:GetBucketPublicAccessBlock", OwnedOriginBuckets),
    op("s3", "", "s3:PutBucketPublicAccessBlock", OwnedOriginBuckets),
    op("s3", "", "s3:GetBucketAcl", LogBucket),
    op("s3", "", "s3:PutBucketAcl", LogBucket),
    op("logs", "", "logs:DeleteLogGroup", ReplicaLogGroups),
    // The S3 state: lock (PutObject If-None-Match, DeleteObject If-Match,
    // which also needs s3:GetObject), read, conditional writes.
    op("s3", "GetObject", "s3:GetObject", StateObjects),
    op("s3", "PutObject", "s3:PutObject", StateObjects),
    op("s3", "DeleteObject", "s3:DeleteObject", StateObjects),
    op("s3", "GetBucketVersioning", "s3:GetBucketVersioning", StateBucket),
    op("s3", "", "s3:GetBucketPublicAccessBlock", StateBucket),
    // SSE-KMS: S3 asks KMS on the caller's behalf.
    op("kms", "", "kms:GenerateDataKey", StateKey),
    op("kms", "", "kms:Decrypt", StateKey),
];

/// The IAM action that allows `operation` of `service` (call-log names).
pub fn action_for(service: &str, operation: &str) -> Option<&'static str> {
    OPERATIONS
        .iter()
        .find(|o| !o.operation.is_empty() && o.service == service && o.operation == operation)
        .map(|o| o.action)
}

/// The resources a statement grants on, for this profile (`None`: the
/// statement does not apply to it).
fn scope(statement: Statement, profile: &Profile) -> Option<(Vec<String>, Option<Value>)> {
    let stack = &profile.stack.name;
    let names = StackNames { stack };
    let region = &profile.region;
    let hi = profile.delivery.as_ref();
    let replica_regions: Vec<String> = hi
        .map(|h| h.lambda_edge.replica_regions.clone())
        .unwrap_or_default();
    let edge = EDGE_REGION;
    let alb = names.load_balancer();
    let roles = || {
        vec![
            format!("arn:aws:iam::*:role/{}", names.edge_role()),
            format!("arn:aws:iam::*:role/{}", names.task_execution_role()),
            format!("arn:aws:iam::*:role/{}", names.task_role()),
        ]
    };
    let ec2 = |types: &[&str]| -> Vec<String> {
        types
            .iter()
            .map(|t| format!("arn:aws:ec2:{region}:*:{t}/*"))
            .collect()
    };
    let load_balancers = || {
        vec![
            format!("arn:aws:elasticloadbalancing:{region}:*:loadbalancer/app/{alb}/*"),
            format!(
                "arn:aws:elasticloadbalancing:{region}:*:targetgroup/{}/*",
                names.target_group()
            ),
        ]
    };
    let ecs = || {
        vec![
            format!("arn:aws:ecs:{region}:*:cluster/{}", names.cluster()),
            format!(
                "arn:aws:ecs:{region}:*:service/{}/{}",
                names.cluster(),
                names.service()
            ),
            format!("arn:aws:ecs:{region}:*:task-definition/{}:*", names.task_family()),
        ]
    };
    let tag = format!("aws:RequestTag/{STACK_TAG}");
    let request_tag = json!({"StringEquals": {tag: stack}});
    let tag = format!("aws:ResourceTag/{STACK_TAG}");
    let resource_tag = json!({"StringEquals": {tag: stack}});
    // `${aws:PrincipalAccount}`: the boundary in the deployer's own account,
    // exactly (a `*` account would also match a policy path ending alike).
    let bounded = json!({"ArnEquals": {"iam:PermissionsBoundary": format!(
        "arn:aws:iam::${{aws:PrincipalAccount}}:policy{BOUNDARY_PATH}{}",
        crate::resources::role::boundary_name(stack)
    )}});
    let bucket = format!("arn:aws:s3:::{stack}-logs-*-{region}");
    let authorizer = hi.is_some_and(|h| h.authorizer());
    let regional = hi.is_some();
    Some(match statement {
        None => return Option::None,
        // The HealthImaging stack's regional parts: not in a reverse proxy.
        Ec2Create
        | Ec2TagOnCreate
        | Ec2CreateIn
        | Ec2Network
        | Ec2SecurityGroupRules
        | LoadBalancerCreate
        | LoadBalancerTagOnCreate
        | LoadBalancer
        | Listeners
        | EcsCreate
        | EcsTagOnCreate
        | EcsClusterAndService
        | EcsReads
        | StackRoles
        | BoundedRoles
        | AwsManagedPolicies
        | PassTaskRoles
        | PassEdgeRole
        | KeepBoundary
        | OriginSecret
        | ProxyLogGroup
            if !regional =>
        {
            return Option::None;
        }
        // What AWS does not scope to a resource (listings and lookups, ECS
        // task definition registration), held to the stack's regions.
        Listings => {
            let mut regions: Vec<String> = vec![region.clone(), edge.to_string()];
            regions.extend(replica_regions.iter().cloned());
            regions.sort();
            regions.dedup();
            (
                vec!["*".into()],
                Some(json!({"StringEquals": {"aws:RequestedRegion": regions}})),
            )
        }
        // EC2: a create is allowed only when the request tags the new
        // resource as this stack's; everything after, only on resources
        // carrying that tag (the Service Authorization Reference lists
        // `aws:RequestTag` on each created type, `aws:ResourceTag` on each
        // changed one).
        Ec2Create => (ec2(&NEW_EC2_TYPES), Some(request_tag.clone())),
        Ec2TagOnCreate => (
            ec2(&NEW_EC2_TYPES),
            Some(json!({"StringEquals": {"ec2:CreateAction": EC2_CREATES}})),
        ),
        Ec2CreateIn => match hi.map(|h| &h.network) {
            Some(Network::Existing { vpc_id, .. }) => {
                (vec![format!("arn:aws:ec2:{region}:*:vpc/{vpc_id}")], Option::None)
            }
            _ => (ec2(&["vpc", "subnet", "elastic-ip"]), Some(resource_tag.clone())),
        },
        Ec2Network => (ec2(&NEW_EC2_TYPES), Some(resource_tag.clone())),
        Ec2SecurityGroupRules => (ec2(&["security-group-rule"]), Option::None),
        LoadBalancerCreate => (load_balancers(), Some(request_tag.clone())),
        LoadBalancerTagOnCreate => (
            load_balancers(),
            Some(json!({"StringEquals": {"elasticloadbalancing:CreateAction": [
                "CreateLoadBalancer", "CreateTargetGroup"
            ]}})),
        ),
        LoadBalancer => (load_balancers(), Some(resource_tag.clone())),
        Listeners => (
            vec![
                format!("arn:aws:elasticloadbalancing:{region}:*:loadbalancer/app/{alb}/*"),
                format!("arn:aws:elasticloadbalancing:{region}:*:listener/app/{alb}/*"),
                format!("arn:aws:elasticloadbalancing:{region}:*:listener-rule/app/{alb}/*"),
            ],
            Option::None,
        ),
        EcsCreate => (ecs(), Some(request_tag.clone())),
        EcsTagOnCreate => (
            ecs(),
            Some(json!({"StringEquals": {"ecs:CreateAction": [
                "CreateCluster", "CreateService", "RegisterTaskDefinition"
            ]}})),
        ),
        EcsClusterAndService => (ecs(), Some(resource_tag.clone())),
        EcsReads => {
            let mut arns = ecs();
            arns.push(format!("arn:aws:ecs:{region}:*:task/{}/*", names.cluster()));
            arns.push(format!(
                "arn:aws:ecs:{region}:*:container-instance/{}/*",
                names.cluster()
            ));
            (arns, Option::None)
        }
        StackRoles => (roles(), Option::None),
        BoundedRoles => (roles(), Some(bounded.clone())),
        AwsManagedPolicies => {
            let mut managed = vec![crate::resources::proxy::EXECUTION_POLICY];
            if authorizer {
                managed.push(crate::resources::edge_role::BASIC_EXECUTION);
            }
            let mut condition = bounded.clone();
            condition["ArnEquals"]["iam:PolicyARN"] = json!(managed);
            (roles(), Some(condition))
        }
        PassTaskRoles => (
            vec![
                format!("arn:aws:iam::*:role/{}", names.task_execution_role()),
                format!("arn:aws:iam::*:role/{}", names.task_role()),
            ],
            Some(json!({"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}})),
        ),
        // Lambda checks PassRole on CreateFunction and on a configuration
        // update; edgelambda.amazonaws.com only assumes the role (trust
        // policy), nobody passes the role to it.
        PassEdgeRole if !authorizer => return Option::None,
        PassEdgeRole => (
            vec![format!("arn:aws:iam::*:role/{}", names.edge_role())],
            Some(json!({"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}})),
        ),
        ReadBoundary => (
            vec![format!(
                "arn:aws:iam::*:policy{BOUNDARY_PATH}{}",
                crate::resources::role::boundary_name(stack)
            )],
            Option::None,
        ),
        KeepBoundary => (
            {
                let mut arns = roles();
                arns.push(format!(
                    "arn:aws:iam::*:policy{BOUNDARY_PATH}{}",
                    crate::resources::role::boundary_name(stack)
                ));
                arns
            },
            Option::None,
        ),
        // ECS, ELB, the Lambda@Edge replicator and CloudFront's logger each
        // create their service-linked role on first use, with the caller's rights.
        ServiceLinkedRoles => (
            vec!["arn:aws:iam::*:role/aws-service-role/*".into()],
            Some(json!({"StringEquals": {"iam:AWSServiceName": [
                "ecs.amazonaws.com",
                "elasticloadbalancing.amazonaws.com",
                "replicator.lambda.amazonaws.com",
                "logger.cloudfront.amazonaws.com"
            ]}})),
        ),
        EdgeAuthorizer if !authorizer => return Option::None,
        EdgeAuthorizer => {
            let function = format!("arn:aws:lambda:{edge}:*:function:{}", names.edge_function());
            (vec![function.clone(), format!("{function}:*")], Option::None)
        }
        // Distribution and policy ids are not known before they exist.
        CloudFront => (
            vec![
                "arn:aws:cloudfront::*:distribution/*".into(),
                "arn:aws:cloudfront::*:cache-policy/*".into(),
                "arn:aws:cloudfront::*:origin-request-policy/*".into(),
                "arn:aws:cloudfront::*:response-headers-policy/*".into(),
                "arn:aws:cloudfront::*:origin-access-control/*".into(),
                format!("arn:aws:cloudfront::*:function/{stack}-route-*"),
            ],
            Option::None,
        ),
        // Our statement in each private bucket's policy (read, merged, restored).
        OriginBuckets => {
            let mut buckets: Vec<String> = profile
                .routes
                .origins
                .iter()
                .filter_map(|o| match &o.kind {
                    crate::routes::OriginKind::S3 { bucket, .. } => Some(format!("arn:aws:s3:::{bucket}")),
                    _ => Option::None,
                })
                .collect();
            buckets.sort();
            buckets.dedup();
            if buckets.is_empty() {
                return Option::None;
            }
            (buckets, Option::None)
        }
        OriginBucketReads | OriginBucketKeys => {
            let mut buckets: Vec<String> = profile
                .routes
                .origins
                .iter()
                .filter_map(|o| match &o.kind {
                    crate::routes::OriginKind::S3 { bucket, .. }
                    | crate::routes::OriginKind::S3Website { bucket, .. } => {
                        Some(format!("arn:aws:s3:::{bucket}"))
                    }
                    _ => Option::None,
                })
                .collect();
            buckets.sort();
            buckets.dedup();
            if buckets.is_empty() {
                return Option::None;
            }
            match statement {
                OriginBucketReads => (buckets, Option::None),
                _ => (vec!["arn:aws:kms:*:*:key/*".to_string()], Option::None),
            }
        }
        LogBucket => (vec![bucket.clone(), format!("{bucket}/*")], Option::None),
        OwnedOriginBuckets => {
            let mut arns: Vec<String> = profile
                .routes
                .origins
                .iter()
                .filter_map(|o| match &o.kind {
                    crate::routes::OriginKind::S3 {
                        bucket, create: true, ..
                    } => Some(format!("arn:aws:s3:::{bucket}")),
                    _ => Option::None,
                })
                .flat_map(|arn| [arn.clone(), format!("{arn}/*")])
                .collect();
            arns.sort();
            arns.dedup();
            if arns.is_empty() {
                return Option::None;
            }
            (arns, Option::None)
        }
        OriginSecret => (
            vec![format!(
                "arn:aws:secretsmanager:{region}:*:secret:ahi-edge/{stack}/*"
            )],
            Option::None,
        ),
        ProxyLogGroup => (
            vec![
                format!("arn:aws:logs:{region}:*:log-group:{}", names.proxy_log_group()),
                format!("arn:aws:logs:{region}:*:log-group:{}:*", names.proxy_log_group()),
            ],
            Option::None,
        ),
        // `down --purge-logs` removes the log groups Lambda made for the replicas.
        ReplicaLogGroups if !authorizer => return Option::None,
        ReplicaLogGroups => (
            replica_regions
                .iter()
                .map(|r| {
                    format!(
                        "arn:aws:logs:{r}:*:log-group:/aws/lambda/{edge}.{}:*",
                        names.edge_function()
                    )
                })
                .collect(),
            Option::None,
        ),
        // The image's own repository, in its own region and registry.
        ProxyImage => match hi.and_then(|h| crate::stack::preflight::ecr_repository_arn(&h.proxy.image)) {
            Some(arn) => (vec![arn], Option::None),
            Option::None => return Option::None,
        },
        IdentityProvider => match hi.map(|h| &h.auth.mode) {
            Some(crate::profile::AuthMode::CognitoJwt(c)) => (
                vec![format!(
                    "arn:aws:cognito-idp:{}:*:userpool/{}",
                    c.region, c.user_pool_id
                )],
                Option::None,
            ),
            _ => return Option::None,
        },
        StateObjects => {
            let at = profile.state.as_ref()?;
            (
                vec![
                    format!("arn:aws:s3:::{}/{}", at.bucket, at.key),
                    format!("arn:aws:s3:::{}/{}", at.bucket, at.lock_key()),
                ],
                Option::None,
            )
        }
        StateBucket => (
            vec![format!("arn:aws:s3:::{}", profile.state.as_ref()?.bucket)],
            Option::None,
        ),
        StateKey => {
            let at = profile.state.as_ref()?;
            let id = at.kms_key_id.as_deref()?;
            let alias = id
                .strip_prefix("alias/")
                .or_else(|| id.split_once(":alias/").map(|(_, name)| name));
            match alias {
                // KMS authorizes on the key, not the alias: any key the alias names.
                Some(name) => (
                    vec![format!("arn:aws:kms:{}:*:key/*", at.region)],
                    Some(
                        json!({"ForAnyValue:StringEquals": {"kms:ResourceAliases": format!("alias/{name}")}}),
                    ),
                ),
                Option::None if id.starts_with("arn:") => (vec![id.to_string()], Option::None),
                Option::None => (
                    vec![format!("arn:aws:kms:{}:*:key/{id}", at.region)],
                    Option::None,
                ),
            }
        }
        Certificates => {
            let mut arns = Vec::new();
            if let Some(AlbOrigin::Https { certificate_arn, .. }) = hi.map(|h| &h.alb) {
                arns.push(certificate_arn.clone());
            }
            if let Some(arn) = &profile.cloudfront.certificate_arn {
                arns.push(arn.clone());
            }
            if arns.is_empty() {
                return Option::None;
            }
            (arns, Option::None)
        }
    })
}

/// The policy for `profile`, as one IAM policy document: the table's
/// actions grouped by statement, each statement with its resource scope.
pub fn policy(profile: &Profile) -> Value {
    let mut groups: std::collections::BTreeMap<Statement, Vec<&str>> = std::collections::BTreeMap::new();
    for o in OPERATIONS.iter().filter(|o| !o.action.is_empty()) {
        let actions = groups.entry(o.statement).or_default();
        if !actions.contains(&o.action) {
            actions.push(o.action);
        }
    }
    groups.insert(KeepBoundary, KEEP_BOUNDARY.to_vec());
    let statements: Vec<Value> = groups
        .into_iter()
        .filter_map(|(statement, actions)| {
            let (resources, condition) = scope(statement, profile)?;
            let mut s = json!({
                "Sid": format!("{statement:?}"),
                "Effect": if statement == KeepBoundary { "Deny" } else { "Allow" },
                "Action": actions,
                "Resource": resources,
            });
            if let Some(c) = condition {
                s["Condition"] = c;
            }
            Some(s)
        })
        .collect();
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// IAM's limit on a managed policy document: "6,144 characters, not
/// counting white space" (IAM User Guide, IAM and AWS STS quotas).
pub const MANAGED_POLICY_MAX: usize = 6144;

/// The policy's statements packed, in order, into as few documents as fit
/// `max` characters each (compact JSON has no white space outside strings,
/// and ours carry none inside). Attached together they allow exactly what
/// the one document allows: IAM evaluates a principal's policies as one set.
pub fn split(policy: &Value, max: usize) -> Vec<Value> {
    let doc = |statements: Vec<Value>| json!({"Version": "2012-10-17", "Statement": statements});
    let mut parts: Vec<Vec<Value>> = Vec::new();
    for statement in policy["Statement"].as_array().into_iter().flatten() {
        let fits = |part: &Vec<Value>| {
            let mut with = part.clone();
            with.push(statement.clone());
            doc(with).to_string().len() <= max
        };
        match parts.iter_mut().find(|p| fits(p)) {
            Some(part) => part.push(statement.clone()),
            Option::None => parts.push(vec![statement.clone()]),
        }
    }
    parts.into_iter().map(doc).collect()
}

/// The permissions boundary of the stack's roles: the most any of them may
/// ever do, whatever policy the deployer puts on them. It depends only on
/// the stack's name and region, so an administrator creates it once
/// (`aws iam create-policy --path /ahi-edge/ --policy-name <stack>-boundary`)
/// and profile changes do not need it again: reads of HealthImaging in the
/// region, pulling a container image, the stack's own log groups, and the
/// stack's own secrets (a task definition's `secrets`).
pub fn boundary(profile: &Profile) -> Value {
    let stack = &profile.stack.name;
    let names = StackNames { stack };
    let region = &profile.region;
    let function = names.edge_function();
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadHealthImaging",
                "Effect": "Allow",
                "Action": ["medical-imaging:Get*", "medical-imaging:Search*", "medical-imaging:ListImageSetVersions"],
                "Resource": [
                    format!("arn:aws:medical-imaging:{region}:*:datastore/*"),
                ]
            },
            {
                "Sid": "PullImage",
                "Effect": "Allow",
                "Action": ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
                "Resource": "arn:aws:ecr:*:*:repository/*"
            },
            {
                "Sid": "RegistryToken",
                "Effect": "Allow",
                "Action": "ecr:GetAuthorizationToken",
                "Resource": "*"
            },
            {
                "Sid": "OwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [
                    format!("arn:aws:logs:{region}:*:log-group:{}:*", names.proxy_log_group()),
                    format!("arn:aws:logs:*:*:log-group:/aws/lambda/{function}:*"),
                    format!("arn:aws:logs:*:*:log-group:/aws/lambda/{EDGE_REGION}.{function}:*"),
                ]
            },
            {
                "Sid": "OwnSecrets",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": [format!("arn:aws:secretsmanager:{region}:*:secret:ahi-edge/{stack}/*")]
            }
        ]
    })
}

/// Whether an Allow statement of the policy names `action` (exactly, or by
/// a trailing `*`).
pub fn allows(policy: &Value, action: &str) -> bool {
    policy["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["Effect"] == "Allow")
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
        for o in OPERATIONS {
            // The origin buckets' statement exists with private bucket routes
            // only, the state's with `[state] backend = "s3"` only.
            let conditional = [
                OriginBuckets,
                OriginBucketReads,
                OriginBucketKeys,
                OwnedOriginBuckets,
                StateObjects,
                StateBucket,
                StateKey,
            ];
            assert!(
                o.action.is_empty() || conditional.contains(&o.statement) || allows(&p, o.action),
                "{} {} -> {}",
                o.service,
                o.operation,
                o.action
            );
        }
        let mut seen: Vec<(&str, &str)> = OPERATIONS
            .iter()
            .filter(|o| !o.operation.is_empty())
            .map(|o| (o.service, o.operation))
            .collect();
        seen.sort();
        let before = seen.len();
        seen.dedup();
        assert_eq!(seen.len(), before, "one row per operation");
    }

    #[test]
    fn an_s3_state_adds_exactly_its_objects_bucket_and_key() {
        let local = policy(&profile("reverse-proxy"));
        let sids = |p: &Value| -> Vec<String> {
            p["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["Sid"].as_str().unwrap().to_string())
                .collect()
        };
        assert!(!sids(&local).iter().any(|s| s.starts_with("State")), "{local}");

        let mut team = profile("reverse-proxy");
        team.state = Some(crate::state::S3Location {
            bucket: "team-state".into(),
            key: "ahi-edge/prod.lock".into(),
            region: "eu-west-1".into(),
            kms_key_id: Some("alias/ahi-edge-state".into()),
        });
        let p = policy(&team);
        let statement = |sid: &str| {
            p["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["Sid"] == sid)
                .cloned()
                .unwrap_or_else(|| panic!("no {sid} in {p}"))
        };
        let objects = statement("StateObjects");
        assert_eq!(
            objects["Action"],
            json!(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"])
        );
        assert_eq!(
            objects["Resource"],
            json!([
                "arn:aws:s3:::team-state/ahi-edge/prod.lock",
                "arn:aws:s3:::team-state/ahi-edge/prod.lock.run-lock"
            ])
        );
        let bucket = statement("StateBucket");
        assert_eq!(
            bucket["Action"],
            json!(["s3:GetBucketVersioning", "s3:GetBucketPublicAccessBlock"])
        );
        assert_eq!(bucket["Resource"], json!(["arn:aws:s3:::team-state"]));
        let key = statement("StateKey");
        assert_eq!(key["Action"], json!(["kms:GenerateDataKey", "kms:Decrypt"]));
        assert_eq!(key["Resource"], json!(["arn:aws:kms:eu-west-1:*:key/*"]));
        assert_eq!(
            key["Condition"],
            json!({"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/ahi-edge-state"}})
        );
        // Only the state's statements were added.
        let mut added = sids(&p);
        added.retain(|s| !sids(&local).contains(s));
        assert_eq!(added, ["StateObjects", "StateBucket", "StateKey"]);
    }

    #[test]
    fn a_reverse_proxy_gets_no_regional_stack_and_its_buckets_policies_only() {
        let p = policy(&profile("reverse-proxy"));
        let sids: Vec<&str> = p["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        for absent in [
            "Ec2Network",
            "LoadBalancer",
            "EcsClusterAndService",
            "StackRoles",
            "EdgeAuthorizer",
        ] {
            assert!(!sids.contains(&absent), "{absent} in {sids:?}");
        }
        let buckets = p["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == "OriginBuckets")
            .unwrap();
        assert_eq!(
            buckets["Resource"],
            json!(["arn:aws:s3:::example-app", "arn:aws:s3:::example-storage"])
        );
        assert_eq!(
            buckets["Action"],
            json!([
                "s3:DeleteBucketPolicy",
                "s3:GetBucketPolicy",
                "s3:PutBucketPolicy"
            ])
        );
    }

    #[test]
    fn no_wildcard_action_and_resource_star_only_where_aws_scopes_nothing() {
        let p = policy(&profile("ahi-delivery"));
        for s in p["Statement"].as_array().unwrap() {
            assert!(s["Action"].as_array().unwrap().iter().all(|a| a != "*"), "{s}");
            let star = s["Resource"].as_array().unwrap().iter().any(|r| r == "*");
            assert_eq!(star, s["Sid"] == "Listings", "{s}");
        }
        let text = p.to_string();
        assert!(text.contains("role/ahi-delivery-proxy-task"), "{text}");
        assert!(text.contains("secret:ahi-edge/ahi-delivery/*"), "{text}");
    }

    #[test]
    fn buckets_the_stack_creates_get_their_own_statement_and_only_they() {
        let plain = policy(&profile("reverse-proxy"));
        assert!(!plain.to_string().contains("OwnedOriginBuckets"), "{plain}");
        let mut p = profile("reverse-proxy");
        for origin in p.routes.origins.iter_mut() {
            if let crate::routes::OriginKind::S3 { create, .. } = &mut origin.kind {
                *create = true;
            }
        }
        let made = policy(&p);
        let owned = made["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == "OwnedOriginBuckets")
            .cloned()
            .unwrap_or_else(|| panic!("no OwnedOriginBuckets in {made}"));
        // Each S3 write the kind makes (create, settings, purge), on the
        // bucket and its objects.
        for action in [
            "s3:CreateBucket",
            "s3:PutBucketTagging",
            "s3:PutBucketOwnershipControls",
            "s3:PutEncryptionConfiguration",
            "s3:PutBucketPublicAccessBlock",
            "s3:ListBucketVersions",
            "s3:DeleteObjectVersion",
            "s3:DeleteBucket",
        ] {
            assert!(
                owned["Action"].as_array().unwrap().contains(&json!(action)),
                "{action}: {owned}"
            );
        }
        assert_eq!(
            owned["Resource"],
            json!([
                "arn:aws:s3:::example-app",
                "arn:aws:s3:::example-app/*",
                "arn:aws:s3:::example-storage",
                "arn:aws:s3:::example-storage/*"
            ]),
            "{owned}"
        );
    }

    #[test]
    fn without_an_authorizer_there_is_no_lambda_write() {
        let p = policy(&profile("ahi-delivery-noauth"));
        assert!(!allows(&p, "lambda:CreateFunction"));
        assert!(allows(&p, "lambda:ListFunctions"));
    }
}
