"""Lambda@Edge: association checks, the replica lifecycle, and the Lambda
calls that see replicas (ListFunctions with MasterRegion, DeleteFunction).

A replica of version V exists in each replica region from the moment a
distribution referencing V finishes deploying, until `replica_removal`
after the last deployed reference to V went away (its disassociation
deployed, or its distribution deleted)."""

import json
import re
from urllib.parse import unquote

from .xmlutil import ApiError, items, text

VIEWER_EVENTS = {"viewer-request", "viewer-response"}
ARN = re.compile(r"^arn:aws:lambda:(?P<region>[^:]+):(?P<account>\d{12}):function:(?P<name>[^:]+)(?::(?P<qualifier>[^:]+))?$")
REPLICATED = (
    "Lambda was unable to delete {arn} because it is a replicated function. "
    "Please see our documentation for Deleting Lambda@Edge Functions and Replicas."
)


def lambda_refs(config):
    """Qualified function ARNs a distribution config associates."""
    refs = set()
    behaviours = [config.find("DefaultCacheBehavior")] + items(config, "CacheBehaviors")
    for behaviour in behaviours:
        if behaviour is None:
            continue
        for assoc in items(behaviour, "LambdaFunctionAssociations"):
            arn = text(assoc, "LambdaFunctionARN")
            if arn:
                refs.add(arn)
    return refs


def lambda_backend(account, region):
    from moto.awslambda.models import lambda_backends

    return lambda_backends[account][region]


def invalid(message):
    return ApiError("InvalidLambdaFunctionAssociation", message, 400)


def validate_associations(emulator, account, config):
    """CloudFront's checks of each Lambda@Edge association."""
    behaviours = [config.find("DefaultCacheBehavior")] + items(config, "CacheBehaviors")
    for behaviour in behaviours:
        if behaviour is None:
            continue
        associations = items(behaviour, "LambdaFunctionAssociations")
        if len(associations) > 4:
            raise ApiError("TooManyLambdaFunctionAssociations", "Your request contains more Lambda@Edge function associations than are allowed per cache behavior.")
        seen_events = set()
        for assoc in associations:
            arn = text(assoc, "LambdaFunctionARN", "")
            event = text(assoc, "EventType", "")
            if event in seen_events:
                raise invalid(f"The event type {event} is associated with more than one function.")
            seen_events.add(event)
            check_function(account, arn, event)


def check_function(account, arn, event):
    match = ARN.match(arn)
    if not match:
        raise invalid(f"The function ARN is not valid. ARN: {arn}")
    if match["region"] != "us-east-1":
        raise invalid(f"The function must be in region 'us-east-1'. ARN: {arn}")
    qualifier = match["qualifier"]
    if not qualifier or not qualifier.isdigit():
        raise invalid(
            "The function ARN must reference a specific function version. "
            f"(The ARN must end with the version number.) ARN: {arn}"
        )
    try:
        fn = lambda_backend(match["account"], "us-east-1").get_function(match["name"], qualifier)
    except Exception:
        raise invalid(f"The function does not exist or CloudFront cannot read it. ARN: {arn}") from None
    from . import lambda_states

    if lambda_states.pending(fn):
        raise invalid(f"The function must be in an Active state. The current state for function {arn} is Pending")
    if fn.environment_vars:
        raise invalid(f"The function cannot have environment variables. Function: {arn}")
    viewer = event in VIEWER_EVENTS
    max_memory, max_timeout = (128, 5) if viewer else (10240, 30)
    if int(fn.memory_size) > max_memory:
        raise invalid(
            f"The function memory size is larger than the maximum allowed size for the specified event type. "
            f"Function: {arn}, Memory: {fn.memory_size}, Max allowed: {max_memory}"
        )
    if int(fn.timeout) > max_timeout:
        raise invalid(
            f"The function execution time is larger than the maximum allowed for the specified event type. "
            f"Function: {arn}, Timeout: {fn.timeout}, Max allowed: {max_timeout}"
        )


class Replica:
    def __init__(self, master_arn, regions, appeared_at):
        self.master_arn = master_arn
        self.regions = list(regions)
        self.appeared_at = appeared_at
        self.released_at = None


def replica_log_groups(account, record):
    """Where a replica runs, Lambda writes its logs to
    `/aws/lambda/us-east-1.NAME` in that region (created on first use; here
    when the replica appears). They outlive the replicas, as on AWS."""
    from moto.logs.models import logs_backends

    name = ARN.match(record.master_arn)["name"]
    group = f"/aws/lambda/us-east-1.{name}"
    for region in record.regions:
        backend = logs_backends[account][region]
        if group not in backend.groups:
            backend.create_log_group(group, {})


class Replicas:
    def __init__(self, emulator):
        self.emu = emulator
        self.records = {}  # (account, qualified master ARN) -> Replica

    def reset(self):
        self.records.clear()

    def references_changed(self, account, deployed, when):
        """Called when what is deployed changed at time `when`."""
        for arn in deployed:
            record = self.records.get((account, arn))
            if record is None:
                record = Replica(arn, self.emu.config.replica_regions, when)
                self.records[(account, arn)] = record
                replica_log_groups(account, record)
            else:
                record.released_at = None
        for (acct, arn), record in self.records.items():
            if acct == account and arn not in deployed and record.released_at is None:
                record.released_at = when

    def present(self, account):
        """Replica records that still exist now (drops those past removal)."""
        now = self.emu.now()
        delay = self.emu.config.delay("replica_removal")
        gone = [key for key, r in self.records.items() if r.released_at is not None and now >= r.released_at + delay]
        for key in gone:
            del self.records[key]
        return [r for (acct, _), r in self.records.items() if acct == account]

    # ---- Lambda requests ----------------------------------------------------

    def list_functions(self, call, account):
        """ListFunctions with MasterRegion: the replicas in this region."""
        master_region = call.q("MasterRegion")
        if call.q("FunctionVersion") != "ALL":
            raise ApiError("InvalidParameterValueException", "MasterRegion requires FunctionVersion to be set to ALL.")
        found = []
        for record in sorted(self.present(account), key=lambda r: r.master_arn):
            match = ARN.match(record.master_arn)
            if match["region"] != master_region or call.region not in record.regions:
                continue
            found.append(replica_config(record, match, call.region))
        max_items = min(int(call.q("MaxItems") or 50), 50)
        start = int(call.q("Marker") or 0)
        page = found[start:start + max_items]
        doc = {"Functions": page}
        if start + max_items < len(found):
            doc["NextMarker"] = str(start + max_items)
        return 200, [("Content-Type", "application/json")], json.dumps(doc)

    def blocked_delete(self, call, account):
        """The replicated-function error for DeleteFunction, or None to let it through."""
        if call.region != "us-east-1":
            return None
        name = unquote(call.path.rstrip("/").rsplit("/", 1)[-1])
        match = ARN.match(name)
        if match:
            name, qualifier = match["name"], match["qualifier"] or call.q("Qualifier")
        else:
            name, qualifier = name.split(":", 1) if ":" in name else (name, call.q("Qualifier"))
        prefix = f"arn:aws:lambda:us-east-1:{account}:function:{name}:"
        blocking = {r.master_arn for r in self.present(account)}
        blocking |= {arn for arn in self.emu.cloudfront.all_refs(account)}
        versions = sorted(
            (arn for arn in blocking if arn.startswith(prefix)),
            key=lambda arn: int(arn.rsplit(":", 1)[1]) if arn.rsplit(":", 1)[1].isdigit() else 0,
        )
        if qualifier:
            versions = [arn for arn in versions if arn == prefix + qualifier]
        if not versions:
            return None
        return ApiError("InvalidParameterValueException", REPLICATED.format(arn=versions[0]), 400)


def replica_config(record, match, region):
    version = match["qualifier"]
    base = {}
    try:
        fn = lambda_backend(match["account"], "us-east-1").get_function(match["name"], version)
        base = fn.get_configuration()
    except Exception:
        pass  # the master version was deleted: the replica still lists
    name = f"us-east-1.{match['name']}"
    base.update({
        "FunctionName": name,
        "FunctionArn": f"arn:aws:lambda:{region}:{match['account']}:function:{name}:{version}",
        "MasterArn": record.master_arn,
        "Version": version,
        "State": "Active",
    })
    return base
