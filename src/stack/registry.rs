//! Every resource kind, by the name the lockfile records. Adding a kind is
//! one module under `src/kinds/` and one line here.

use super::kind::Kind;
use crate::kinds::*;

pub static KINDS: &[&dyn Kind] = &[
    &bucket_grant::BucketGrant,
    &cloudfront_function::CloudFrontFunction,
    &cloudfront_policy::CACHE_POLICY,
    &distribution::Distribution,
    &ecs_cluster::EcsCluster,
    &ecs_service::EcsService,
    &edge_function::EdgeFunction,
    &elastic_ip::ElasticIp,
    &iam_role::IamRole,
    &internet_gateway::InternetGateway,
    &key_group::KEY_GROUP,
    &listener::ListenerKind,
    &listener_rule::ListenerRule,
    &load_balancer::LoadBalancerKind,
    &log_bucket::LogBucket,
    &log_group::LogGroup,
    &nat_gateway::NatGateway,
    &origin_access_control::ORIGIN_ACCESS_CONTROL,
    &cloudfront_policy::ORIGIN_REQUEST_POLICY,
    &origin_secret::OriginSecret,
    &public_key::PUBLIC_KEY,
    &cloudfront_policy::RESPONSE_HEADERS_POLICY,
    &route_table::RouteTable,
    &security_group::SecurityGroup,
    &subnet::Subnet,
    &target_group::TargetGroupKind,
    &task_definition::TaskDefinition,
    &vpc::Vpc,
];

/// The kind the lockfile calls `name`.
pub fn kind(name: &str) -> Option<&'static dyn Kind> {
    KINDS.iter().copied().find(|k| k.name() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_are_unique() {
        let mut names: Vec<&str> = KINDS.iter().map(|k| k.name()).collect();
        names.sort();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before);
    }
}
