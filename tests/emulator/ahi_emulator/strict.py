"""Rules real AWS enforces that moto lets through (aws-behaviour.md, "Timing
and semantic rules the first emulator missed"), on by default so every test
and the demo meet them. Each has a knob in /_ahi/config (`delays`, and
`switches` for the ones a test turns on):

- Availability Zones: us-east-1 and us-west-2 also list an opted-in Local
  Zone (`us-east-1-bos-1a`, `us-west-2-lax-1a`, ZoneType local-zone) that
  sorts before the real ones.
- EC2 eventual consistency: for `ec2_consistency` seconds after a VPC,
  subnet or NAT gateway is created, any call naming its id answers
  `InvalidVpcID.NotFound` / `InvalidSubnetID.NotFound` / `NatGatewayNotFound`.
- `switches.ec2_not_found_first`: besides the window, the first call naming
  each new id answers NotFound (a test that must meet the rule, whatever
  the machine's load).
- `switches.fail_nat_gateways = N`: the next N NAT gateways created end
  `failed` (and stay listed, as on AWS for about an hour).
- Secrets Manager: for `secret_deletion` seconds after a forced delete,
  CreateSecret of that name answers InvalidRequestException "You can't
  create this secret because a secret with this name is already scheduled
  for deletion."
- ECS in a fresh account: for `ecs_service_linked_role` seconds after the
  account's first CreateCluster, CreateService answers
  InvalidParameterException "Unable to assume the service linked role.
  Please verify that the ECS service linked role exists."
- IAM permissions boundaries: CreateRole and PutRolePermissionsBoundary
  naming a policy the account does not hold answer NoSuchEntity "Scope
  ARN: <arn> does not exist or is not attachable." (moto stores any
  well-formed ARN).
- `switches.late_log_delivery`: the first DeleteBucket of a bucket gets an
  object delivered just before it (a late CloudFront/ALB log) and answers
  BucketNotEmpty.
"""

import functools
import re
from urllib.parse import parse_qs

from .xmlutil import ApiError

LOCAL_ZONES = {
    "us-east-1": ("us-east-1-bos-1a", "use1-bos1-az1"),
    "us-west-2": ("us-west-2-lax-1a", "usw2-lax1-az1"),
}

NOT_FOUND = (
    (re.compile(r"^vpc-[0-9a-f]+$"), "InvalidVpcID.NotFound", "The vpc ID '{}' does not exist"),
    (re.compile(r"^subnet-[0-9a-f]+$"), "InvalidSubnetID.NotFound", "The subnet ID '{}' does not exist"),
    (re.compile(r"^nat-[0-9a-f]+$"), "NatGatewayNotFound", "The Nat Gateway {} was not found"),
)

_STATE = []


def state():
    return _STATE[0]


class Strict:
    def __init__(self, emulator):
        self.emu = emulator
        self.reset()

    def reset(self):
        self.created = {}  # EC2 id -> time
        self.refused_once = set()  # EC2 ids some call was told do not exist
        self.deleted_secrets = {}  # (account, region, name) -> time
        self.first_cluster = {}  # (account, region) -> time
        self.late_delivered = set()  # bucket names
        self.nat_failures_left = 0

    def switch(self, name):
        return self.emu.config.switches.get(name)

    # ---- checks made before moto answers ----------------------------------

    def check(self, call):
        """Raises the error AWS would answer, or returns None."""
        if call.service == "ec2":
            self.ec2_consistency(call)
        if call.service == "s3" and call.method == "DELETE" and call.path.count("/") == 1:
            self.late_log_delivery(call.path.strip("/"))

    def ec2_consistency(self, call):
        window = self.emu.config.delay("ec2_consistency")
        # `switches.ec2_not_found_first`: the first call naming each new id
        # is refused whatever the clock says, so a test meets the rule even
        # when a loaded machine makes its calls slower than the window.
        first = self.switch("ec2_not_found_first")
        if (not window and not first) or call.operation is None or call.operation.startswith("Create") and "Tags" in call.operation:
            return
        params = dict(call.query)
        if call.body:
            params.update(parse_qs(call.body.decode("utf-8", "replace")))
        now = self.emu.now()
        for values in params.values():
            for value in values:
                made = self.created.get(value)
                if made is None:
                    continue
                if now >= made + window and not (first and value not in self.refused_once):
                    continue
                for pattern, code, message in NOT_FOUND:
                    if pattern.match(value):
                        self.refused_once.add(value)
                        raise ApiError(code, message.format(value), 400)

    def late_log_delivery(self, bucket):
        if not self.switch("late_log_delivery") or bucket in self.late_delivered:
            return
        from moto.s3.models import s3_backends

        for per_account in s3_backends.values():
            backend = per_account.get("aws") or next(iter(per_account.values()), None)
            if backend is not None and bucket in backend.buckets:
                self.late_delivered.add(bucket)
                backend.put_object(bucket, "cloudfront/late-delivery.gz", b"late log line\n")
                raise ApiError("BucketNotEmpty", "The bucket you tried to delete is not empty", 409)


def install(emulator):
    strict = Strict(emulator)
    _STATE[:] = [strict]
    emulator.strict = strict
    if getattr(install, "patched", False):
        return strict
    install.patched = True
    _local_zones()
    _ec2_created()
    _secrets_deletion()
    _ecs_service_linked_role()
    _iam_permissions_boundary()
    return strict


def _local_zones():
    from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend, Zone

    for region, (name, zone_id) in LOCAL_ZONES.items():
        zones = RegionsAndZonesBackend.zones.setdefault(region, [])
        if not any(z.name == name for z in zones):
            zones.insert(0, Zone(name, region, zone_id, zone_type="local-zone"))


def _ec2_created():
    from moto.ec2.models import EC2Backend

    def remember(original, attribute):
        @functools.wraps(original)
        def create(self, *args, **kwargs):
            made = original(self, *args, **kwargs)
            s = state()
            with_id = getattr(made, attribute, None)
            if with_id:
                s.created[with_id] = s.emu.now()
            return made

        return create

    EC2Backend.create_vpc = remember(EC2Backend.create_vpc, "id")
    EC2Backend.create_subnet = remember(EC2Backend.create_subnet, "id")
    nat = remember(EC2Backend.create_nat_gateway, "id")

    @functools.wraps(nat)
    def create_nat_gateway(self, *args, **kwargs):
        gateway = nat(self, *args, **kwargs)
        s = state()
        left = int(s.switch("fail_nat_gateways") or 0)
        if left > 0:
            gateway.state = "failed"
            # As on AWS, a failed gateway holds no Elastic IP: it can be
            # given to the next one.
            for eip in self.address_by_allocation([kwargs.get("allocation_id") or args[1]]):
                eip.instance = eip.eni = eip.association_id = None
            s.emu.config.switches["fail_nat_gateways"] = left - 1
        return gateway

    EC2Backend.create_nat_gateway = create_nat_gateway


def _secrets_deletion():
    from moto.secretsmanager.exceptions import InvalidRequestException
    from moto.secretsmanager.models import SecretsManagerBackend

    delete, create = SecretsManagerBackend.delete_secret, SecretsManagerBackend.create_secret

    @functools.wraps(delete)
    def delete_secret(self, secret_id, recovery_window_in_days, force_delete_without_recovery):
        name = self.secrets[secret_id].name if secret_id in self.secrets else secret_id
        answer = delete(self, secret_id, recovery_window_in_days, force_delete_without_recovery)
        if force_delete_without_recovery:
            s = state()
            s.deleted_secrets[(self.account_id, self.region_name, name.split(":")[-1])] = s.emu.now()
        return answer

    @functools.wraps(create)
    def create_secret(self, name, *args, **kwargs):
        s = state()
        deleted = s.deleted_secrets.get((self.account_id, self.region_name, name))
        if deleted is not None and s.emu.now() < deleted + s.emu.config.delay("secret_deletion"):
            raise InvalidRequestException(
                "You can't create this secret because a secret with this name is already scheduled for deletion."
            )
        return create(self, name, *args, **kwargs)

    SecretsManagerBackend.delete_secret = delete_secret
    SecretsManagerBackend.create_secret = create_secret


def _ecs_service_linked_role():
    from moto.ecs.exceptions import InvalidParameterException
    from moto.ecs.models import EC2ContainerServiceBackend as Backend

    cluster, service = Backend.create_cluster, Backend.create_service

    @functools.wraps(cluster)
    def create_cluster(self, *args, **kwargs):
        s = state()
        s.first_cluster.setdefault((self.account_id, self.region_name), s.emu.now())
        return cluster(self, *args, **kwargs)

    @functools.wraps(service)
    def create_service(self, *args, **kwargs):
        s = state()
        first = s.first_cluster.get((self.account_id, self.region_name))
        if first is not None and s.emu.now() < first + s.emu.config.delay("ecs_service_linked_role"):
            raise InvalidParameterException(
                "Unable to assume the service linked role. Please verify that the ECS service linked role exists."
            )
        return service(self, *args, **kwargs)

    Backend.create_cluster = create_cluster
    Backend.create_service = create_service


def _iam_permissions_boundary():
    from moto.iam.exceptions import NotFoundException
    from moto.iam.models import IAMBackend

    create, put = IAMBackend.create_role, IAMBackend.put_role_permissions_boundary

    def attachable(backend, arn):
        if arn and not any(p.arn == arn for p in backend.managed_policies.values()):
            raise NotFoundException(f"Scope ARN: {arn} does not exist or is not attachable.")

    @functools.wraps(create)
    def create_role(self, *args, **kwargs):
        attachable(self, kwargs["permissions_boundary"] if "permissions_boundary" in kwargs else args[3])
        return create(self, *args, **kwargs)

    @functools.wraps(put)
    def put_role_permissions_boundary(self, role_name, permissions_boundary):
        self.get_role(role_name)
        attachable(self, permissions_boundary)
        return put(self, role_name, permissions_boundary)

    IAMBackend.create_role = create_role
    IAMBackend.put_role_permissions_boundary = put_role_permissions_boundary
