//! `[proxy]`, `[network]`, `[logs]` and `[lambda_edge]`.

use std::collections::BTreeSet;

use super::super::diagnostic::{Diagnostics, Located};
use super::super::formats::{self as f};
use super::super::toml_reader::Table;
use super::super::*;
use super::*;

pub(super) fn read_proxy(d: &mut Diagnostics, root: &mut Table) -> Option<Proxy> {
    let mut t = required_table(
        d,
        root,
        "proxy",
        "[proxy] with image = \"ACCOUNT.dkr.ecr.REGION.amazonaws.com/ahi-regional-proxy:0.1.0\"",
    )?;
    let image = t.string(
        d,
        "image",
        "\"ACCOUNT.dkr.ecr.REGION.amazonaws.com/ahi-regional-proxy:0.1.0\"",
    );
    let arch = t.string(d, "architecture", "\"x86_64\"");
    let cpu = t.integer(d, "cpu", "256");
    let memory = t.integer(d, "memory", "512");
    let desired = t.integer(d, "desired_count", "1");
    let level = t.string(d, "log_level", "\"info\"");
    let image = require(
        d,
        &t,
        "image",
        image,
        "add image = the regional proxy image in ECR (see artifacts/regional-proxy)",
    );
    t.finish(d);
    let before = d.error_count();

    if let Some(i) = &image {
        if let Err(reason) = f::check_image(&i.value) {
            d.error(
                i,
                reason,
                "use a reference such as \"ACCOUNT.dkr.ecr.REGION.amazonaws.com/ahi-regional-proxy:0.1.0\"",
            );
        } else if !f::image_is_pinned(&i.value) {
            d.warning(
                i,
                "has no fixed tag or digest, so `up` cannot tell when the image changed",
                "pin a version tag or a @sha256 digest",
            );
        }
    }
    let architecture = match &arch {
        None => Some("x86_64".to_string()),
        Some(a) => match a.value.as_str() {
            "amd64" | "x64" | "x86-64" => {
                d.error(a, "is spelled differently in ECS", "write \"x86_64\"");
                None
            }
            "aarch64" | "arm" => {
                d.error(a, "is spelled differently in ECS", "write \"arm64\"");
                None
            }
            _ => one_of(d, a, ARCHITECTURES),
        },
    };
    let log_level = level
        .as_ref()
        .map_or(Some("info".to_string()), |l| one_of(d, l, LOG_LEVELS));
    let cpu_value = cpu.as_ref().map_or(256, |c| c.value);
    let memory_value = memory.as_ref().map_or(512, |m| m.value);
    match (f::fargate_memory_options(cpu_value), &cpu) {
        (None, Some(c)) => d.error(
            c,
            "is not a Fargate CPU size",
            format!("use one of: {}", join_nums(f::FARGATE_CPU)),
        ),
        (Some(options), _) if !options.contains(&memory_value) => {
            let fix = format!(
                "with cpu = {cpu_value}, memory is one of: {}",
                join_nums(&options)
            );
            match &memory {
                Some(m) => d.error(
                    m,
                    format!("is not a memory size Fargate accepts with cpu = {cpu_value}"),
                    fix,
                ),
                None => d.error(cpu.as_ref()?, "does not accept the default memory = 512", fix),
            }
        }
        _ => {}
    }
    let desired_count = desired.as_ref().map_or(1, |n| n.value);
    if let Some(n) = &desired
        && !(1..=1000).contains(&n.value)
    {
        d.error(
            n,
            "must be between 1 and 1000",
            "use at least 1 task (2 for availability across zones)",
        );
    }
    (d.error_count() == before).then(|| Proxy {
        image: image.map(|i| i.value).unwrap_or_default(),
        architecture: architecture.unwrap_or_default(),
        cpu: cpu_value as u32,
        memory: memory_value as u32,
        desired_count: desired_count as u32,
        log_level: log_level.unwrap_or_default(),
    })
}

pub(super) fn read_network(d: &mut Diagnostics, root: &mut Table) -> Option<Network> {
    let Some(mut t) = root.table(d, "network") else {
        return (!root.contains("network")).then_some(Network::Create);
    };
    let vpc = t.string(d, "vpc_id", "\"vpc-0abc1234def567890\"");
    let public = t.string_list(
        d,
        "public_subnet_ids",
        "[\"subnet-0aaa1111\", \"subnet-0bbb2222\"]",
    );
    let private = t.string_list(
        d,
        "private_subnet_ids",
        "[\"subnet-0ccc3333\", \"subnet-0ddd4444\"]",
    );
    let place = t.place().clone();
    t.finish(d);
    let before = d.error_count();

    let why =
        "an existing network needs the VPC and both subnet lists (or remove [network] to have one created)";
    let vpc = need(d, &place, "vpc_id", vpc, why);
    let public = need(d, &place, "public_subnet_ids", public, why);
    let private = need(d, &place, "private_subnet_ids", private, why);
    if let Some(v) = &vpc
        && !f::is_vpc_id(&v.value)
    {
        d.error(
            v,
            "is not a VPC id",
            "use the id from the VPC console, e.g. \"vpc-0abc1234def567890\"",
        );
    }
    let mut seen = BTreeSet::new();
    for list in [&public, &private].into_iter().flatten() {
        if list.value.len() < 2 {
            d.error(
                list,
                "needs at least two subnets in different Availability Zones (an ALB requires two)",
                "list two or more subnet ids",
            );
        }
        for s in &list.value {
            if !f::is_subnet_id(&s.value) {
                d.error(s, "is not a subnet id", "use an id such as \"subnet-0aaa1111\"");
            } else if !seen.insert(s.value.clone()) {
                d.error(
                    s,
                    "is listed twice (public and private subnets must differ)",
                    "remove the duplicate",
                );
            }
        }
    }
    let ids =
        |l: Option<Located<Vec<Located<String>>>>| l.map(|l| l.value.into_iter().map(|s| s.value).collect());
    let (vpc, public, private) = (vpc?, ids(public)?, ids(private)?);
    (d.error_count() == before).then_some(Network::Existing {
        vpc_id: vpc.value,
        public_subnet_ids: public,
        private_subnet_ids: private,
    })
}

pub(super) fn read_logs(d: &mut Diagnostics, root: &mut Table) -> Option<Logs> {
    let Some(mut t) = root.table(d, "logs") else {
        return (!root.contains("logs")).then_some(Logs { retention_days: 30 });
    };
    let retention = t.integer(d, "retention_days", "30");
    let present = t.contains("retention_days");
    t.finish(d);
    match retention {
        None => (!present).then_some(Logs { retention_days: 30 }),
        Some(r) if f::LOG_RETENTION_DAYS.contains(&r.value) => Some(Logs {
            retention_days: r.value as u32,
        }),
        Some(r) => {
            d.error(
                &r,
                "is not a retention period CloudWatch Logs accepts",
                format!("use one of: {}", join_nums(f::LOG_RETENTION_DAYS)),
            );
            None
        }
    }
}

pub(super) fn read_lambda_edge(
    d: &mut Diagnostics,
    root: &mut Table,
    auth: &Option<Auth>,
) -> Option<LambdaEdge> {
    let defaults = || LambdaEdge {
        replica_regions: f::DEFAULT_REPLICA_REGIONS.iter().map(|r| r.to_string()).collect(),
    };
    let Some(mut t) = root.table(d, "lambda_edge") else {
        return (!root.contains("lambda_edge")).then(defaults);
    };
    let regions = t.string_list(d, "replica_regions", "[\"us-east-1\", \"eu-west-1\"]");
    let present = t.contains("replica_regions");
    t.finish(d);
    let Some(regions) = regions else {
        return (!present).then(defaults);
    };
    if let Some(Auth {
        mode: AuthMode::None, ..
    }) = auth
    {
        d.warning(
            &regions,
            "is ignored: with auth.mode = \"none\" there is no Lambda@Edge function",
            "remove it",
        );
    }
    let before = d.error_count();
    if regions.value.is_empty() {
        d.error(
            &regions,
            "is empty, so `down --wait-replicas` could not see any replica",
            "remove the key to use the default list, or list regions",
        );
    }
    let mut seen = BTreeSet::new();
    for r in &regions.value {
        if !f::is_region(&r.value) {
            d.error(
                r,
                "is not an AWS region",
                f::region_fix(
                    &r.value,
                    f::AWS_REGIONS,
                    "use a region name such as \"eu-west-1\"",
                ),
            );
        } else if !seen.insert(r.value.as_str()) {
            d.error(r, "is listed twice", "remove the duplicate");
        }
    }
    (d.error_count() == before).then(|| LambdaEdge {
        replica_regions: regions.value.into_iter().map(|r| r.value).collect(),
    })
}
