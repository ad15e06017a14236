"""Every resource the emulator holds, across services, regions and accounts,
for leak checks. Defaults that moto creates by itself (default VPC, its
subnets, security groups and route tables) are left out."""


def _regions(backend_dict):
    for account, per_region in list(dict.items(backend_dict)):
        for region, backend in list(dict.items(per_region)):
            yield account, region, backend


def _tags(tag_list):
    if isinstance(tag_list, dict):
        return dict(tag_list)
    return {t.get("Key", t.get("key")): t.get("Value", t.get("value")) for t in tag_list or []}


def resources(emulator):
    from moto.acm.models import acm_backends
    from moto.awslambda.models import lambda_backends
    from moto.ec2.models import ec2_backends
    from moto.ecs.models import ecs_backends
    from moto.elbv2.models import elbv2_backends
    from moto.iam.models import iam_backends
    from moto.logs.models import logs_backends
    from moto.s3.models import s3_backends
    from moto.secretsmanager.models import secretsmanager_backends

    out = []

    def add(service, account, region, kind, ident, tags=None, **extra):
        out.append({"service": service, "account": account, "region": region, "type": kind, "id": ident,
                    "tags": tags or {}, **extra})

    for account, region, ec2 in _regions(ec2_backends):
        ec2_tags = lambda rid: ec2.tags.get(rid, {})  # noqa: E731
        default_vpcs = {v.id for v in ec2.vpcs.values() if v.is_default}
        for vpc in ec2.vpcs.values():
            if not vpc.is_default:
                add("ec2", account, region, "vpc", vpc.id, ec2_tags(vpc.id))
        for per_az in ec2.subnets.values():
            for subnet in per_az.values():
                if subnet.vpc_id not in default_vpcs:
                    add("ec2", account, region, "subnet", subnet.id, ec2_tags(subnet.id))
        for igw in ec2.internet_gateways.values():
            add("ec2", account, region, "internet-gateway", igw.id, ec2_tags(igw.id))
        for nat in ec2.nat_gateways.values():
            if getattr(nat, "state", "available") != "deleted":
                add("ec2", account, region, "nat-gateway", nat.id, ec2_tags(nat.id))
        for address in ec2.addresses:
            add("ec2", account, region, "elastic-ip", address.allocation_id, ec2_tags(address.allocation_id))
        for vpc_id, groups in ec2.groups.items():
            for group in groups.values():
                if vpc_id not in default_vpcs and group.name != "default":
                    add("ec2", account, region, "security-group", group.id, ec2_tags(group.id))
        for table in ec2.route_tables.values():
            # A VPC's main route table goes with the VPC; only extra ones can leak.
            if table.vpc_id not in default_vpcs and not table.main_association_id:
                add("ec2", account, region, "route-table", table.id, ec2_tags(table.id))
    for account, region, elb in _regions(elbv2_backends):
        for lb in elb.load_balancers.values():
            add("elbv2", account, region, "load-balancer", lb.arn, elb.tagging_service.get_tag_dict_for_resource(lb.arn), name=lb.name)
            for listener in lb.listeners.values():
                add("elbv2", account, region, "listener", listener.arn)
                for rule in listener.rules.values():
                    if not rule.is_default:
                        add("elbv2", account, region, "listener-rule", rule.arn)
        for tg in elb.target_groups.values():
            add("elbv2", account, region, "target-group", tg.arn, elb.tagging_service.get_tag_dict_for_resource(tg.arn), name=tg.name)
    for account, region, ecs in _regions(ecs_backends):
        for cluster in ecs.clusters.values():
            if cluster.status != "INACTIVE":
                add("ecs", account, region, "cluster", cluster.arn, _tags(cluster.tags))
        for service in ecs.services.values():
            if service.status != "INACTIVE" or getattr(service, "_ahi_deleted_at", None) is None:
                add("ecs", account, region, "service", service.arn, _tags(service.tags), status=service.status)
        for family in ecs.task_definitions.values():
            for td in family.values():
                # INACTIVE (deregistered) revisions stay until deleted: a leak too.
                if td.status in ("ACTIVE", "INACTIVE"):
                    add("ecs", account, region, "task-definition", td.arn, _tags(td.tags), status=td.status)
    for account, region, iam in _regions(iam_backends):
        for role in iam.roles.values():
            add("iam", account, "global", "role", role.arn, _tags(role.tags))
        for policy in iam.managed_policies.values():
            if ":iam::aws:policy/" not in policy.arn:  # AWS-managed, in any partition
                add("iam", account, "global", "policy", policy.arn)
    for account, region, lam in _regions(lambda_backends):
        for fn in lam.list_functions():
            add("lambda", account, region, "function", fn.function_arn, dict(fn.tags or {}))
    for account, region, s3 in _regions(s3_backends):
        for bucket in s3.buckets.values():
            add("s3", account, bucket.region_name, "bucket", bucket.name)
    for account, region, sm in _regions(secretsmanager_backends):
        for secret in sm.secrets.values():
            add("secretsmanager", account, region, "secret", secret.arn, _tags(secret.tags))
    for account, region, logs in _regions(logs_backends):
        for group in logs.groups.values():
            add("logs", account, region, "log-group", group.name, logs.tagger.get_tag_dict_for_resource(group.arn))
    for account, region, acm in _regions(acm_backends):
        for cert in acm._certificates.values():
            add("acm", account, region, "certificate", cert.arn)

    cloudfront = emulator.cloudfront
    for dist in cloudfront.distributions.values():
        add("cloudfront", dist.account, "global", "distribution", dist.id, dist.tags, status=dist.status)
    for policy in cloudfront.resources.policies.values():
        add("cloudfront", policy.account, "global", policy.kind, policy.id, name=policy.name)
    for fn in cloudfront.resources.functions.values():
        add("cloudfront", fn.account, "global", "function", fn.arn, name=fn.name)
    access = cloudfront.access
    for kind, table in (("OriginAccessControl", access.oacs), ("PublicKey", access.public_keys), ("KeyGroup", access.key_groups)):
        for entity in table.values():
            add("cloudfront", entity.account, "global", kind, entity.id, name=entity.config.findtext("Name"))
    for (account, _), record in list(emulator.replicas.records.items()):
        if record in emulator.replicas.present(account):
            for region in record.regions:
                add("lambda", account, region, "replica", record.master_arn)
    return out
