//! Every resource kind, by the name the lockfile records. Adding a kind is
//! one module under `src/kinds/` and one line here.

use crate::engine::kind::{Kind, Typed};
use crate::kinds::*;

pub static KINDS: &[&dyn Kind] = &[
    &Typed(bucket_grant::BucketGrant),
    &Typed(cloudfront_function::CloudFrontFunction),
    &cache_policy::CACHE_POLICY,
    &Typed(distribution::Distribution),
    &Typed(ecs_cluster::EcsCluster),
    &Typed(ecs_service::EcsService),
    &Typed(edge_function::EdgeFunction),
    &Typed(elastic_ip::ElasticIp),
    &Typed(iam_role::IamRole),
    &Typed(internet_gateway::InternetGateway),
    &key_group::KEY_GROUP,
    &Typed(listener::ListenerKind),
    &Typed(listener_rule::ListenerRule),
    &Typed(load_balancer::LoadBalancerKind),
    &Typed(log_bucket::LogBucket),
    &Typed(log_group::LogGroup),
    &Typed(nat_gateway::NatGateway),
    &origin_access_control::ORIGIN_ACCESS_CONTROL,
    &Typed(origin_bucket::OriginBucket),
    &origin_request_policy::ORIGIN_REQUEST_POLICY,
    &Typed(origin_secret::OriginSecret),
    &public_key::PUBLIC_KEY,
    &response_headers_policy::RESPONSE_HEADERS_POLICY,
    &Typed(route_table::RouteTable),
    &Typed(security_group::SecurityGroup),
    &Typed(subnet::Subnet),
    &Typed(target_group::TargetGroupKind),
    &Typed(task_definition::TaskDefinition),
    &Typed(vpc::Vpc),
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
