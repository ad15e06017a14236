"""Emulator-wide state: delays, the clock, faults and the call log.

Every modelled delay is a typical real AWS duration (seconds) multiplied by
one time scale, so tests can shrink all of them with a single knob.
"""

import random
import threading
import time

# Typical durations in seconds (shared/design/aws-behaviour.md). Replica
# removal is "typically within a few hours"; 30 minutes is our stand-in.
DEFAULT_DELAYS = {
    "distribution_create": 266.0,
    "distribution_update": 164.0,
    "replica_removal": 1800.0,
    "ecs_service_create": 119.0,
    "ecs_service_update": 71.0,
    "ecs_service_drain": 60.0,
    "alb_provisioning": 116.0,
    # "A few seconds" (aws-behaviour.md): our stand-ins.
    "lambda_create": 5.0,
    "lambda_update": 3.0,
    "lambda_publish": 3.0,
    # Stand-ins for "a short while" (strict.py).
    "ec2_consistency": 2.0,
    "secret_deletion": 30.0,
    "ecs_service_linked_role": 10.0,
    # How long ECS's deployment circuit breaker takes to call a rollout failed.
    "ecs_circuit_breaker": 300.0,
    # A CloudFront invalidation, InProgress to Completed: our stand-in for
    # "typically a minute or a few" (cf_invalidations.py).
    "invalidation": 120.0,
    # How long CloudFront keeps answering "in use" for what a deleted
    # distribution named (its OAC, key groups, policies, functions). AWS
    # documents no figure; 0 here, a test sets one (cloudfront.py).
    "distribution_release": 0.0,
}

# Rules a test turns on (strict.py).
DEFAULT_SWITCHES = {
    "fail_nat_gateways": 0,
    "late_log_delivery": False,
    # The first call naming each new EC2 id answers NotFound (strict.py).
    "ec2_not_found_first": False,
    # Images whose tasks never start (a bad image): see timed.py.
    "failing_images": [],
}

# Regions with CloudFront regional edge caches: where replicas appear.
DEFAULT_REPLICA_REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ap-south-1",
    "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2",
    "eu-central-1", "eu-west-1", "eu-west-2", "sa-east-1",
]

# CloudFront quotas the distribution and function calls enforce (AWS's
# current defaults, cloudfront-routes.md 3.10, 3.6); a test may lower them.
DEFAULT_QUOTAS = {
    "cache_behaviors": 75,
    "origins": 100,
    "function_size": 10240,
    "public_keys_per_key_group": 5,
    # Per AWS account.
    "public_keys": 10,
    "key_groups": 10,
    "key_groups_per_behavior": 4,
    # Per distribution, in progress at once ("Invalidating files", quotas).
    "invalidation_paths_in_progress": 3000,
    "wildcard_invalidations_in_progress": 15,
}

# Access key id -> secret for the calls whose SigV4 signature the emulator
# checks (the HealthImaging data plane): the keys the tests and the demo use.
DEFAULT_SIGNING_SECRETS = {"testing": "testing", "demo": "demo"}

FAULT_KINDS = ("throttle", "500", "drop", "error", "strip_header")


class Config:
    def __init__(self, time_scale):
        self.time_scale = float(time_scale)
        self.delays = dict(DEFAULT_DELAYS)
        self.replica_regions = list(DEFAULT_REPLICA_REGIONS)
        self.switches = dict(DEFAULT_SWITCHES)
        self.quotas = dict(DEFAULT_QUOTAS)
        self.signing_secrets = dict(DEFAULT_SIGNING_SECRETS)

    def delay(self, name):
        """A modelled delay in seconds, after the time scale."""
        return self.delays[name] * self.time_scale

    def as_json(self):
        return {
            "time_scale": self.time_scale,
            "delays": dict(self.delays),
            "replica_regions": list(self.replica_regions),
            "switches": dict(self.switches),
            "quotas": dict(self.quotas),
            "signing_secrets": sorted(self.signing_secrets),
        }

    def update(self, doc):
        """Applies a partial config; raises ValueError naming the bad key."""
        if "time_scale" in doc:
            scale = doc["time_scale"]
            if not isinstance(scale, (int, float)) or scale < 0:
                raise ValueError("time_scale must be a number >= 0")
            self.time_scale = float(scale)
        for name, value in (doc.get("delays") or {}).items():
            if name not in DEFAULT_DELAYS:
                raise ValueError(f"unknown delay {name!r}; known: {', '.join(DEFAULT_DELAYS)}")
            if not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"delay {name!r} must be a number of seconds >= 0")
            self.delays[name] = float(value)
        if "replica_regions" in doc:
            regions = doc["replica_regions"]
            if not isinstance(regions, list) or not all(isinstance(r, str) for r in regions):
                raise ValueError("replica_regions must be a list of region names")
            self.replica_regions = list(regions)
        for name, value in (doc.get("switches") or {}).items():
            if name not in DEFAULT_SWITCHES:
                raise ValueError(f"unknown switch {name!r}; known: {', '.join(DEFAULT_SWITCHES)}")
            if type(value) is not type(DEFAULT_SWITCHES[name]):
                raise ValueError(f"switch {name!r} takes a {type(DEFAULT_SWITCHES[name]).__name__}")
            self.switches[name] = value
        for name, value in (doc.get("quotas") or {}).items():
            if name not in DEFAULT_QUOTAS:
                raise ValueError(f"unknown quota {name!r}; known: {', '.join(DEFAULT_QUOTAS)}")
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"quota {name!r} must be a whole number >= 0")
            self.quotas[name] = value
        secrets = doc.get("signing_secrets")
        if secrets is not None:
            if not isinstance(secrets, dict) or not all(isinstance(v, str) for v in secrets.values()):
                raise ValueError("signing_secrets maps an access key id to its secret")
            self.signing_secrets.update(secrets)
        unknown = set(doc) - {"time_scale", "delays", "replica_regions", "switches", "quotas", "signing_secrets"}
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(sorted(unknown))}")


class Fault:
    """Fails matching calls: the Nth one from now (and `times` in a row), or a
    seeded fraction of them."""

    def __init__(self, fault_id, doc):
        self.id = fault_id
        self.operation = doc.get("operation")
        if not isinstance(self.operation, str) or not self.operation:
            raise ValueError("operation is required, e.g. \"CreateDistribution\" or \"ecs:CreateService\"")
        if ":" in self.operation:
            self.service, self.operation = self.operation.split(":", 1)
        else:
            self.service = None
        self.kind = doc.get("kind", "throttle")
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        self.code = doc.get("code")
        self.message = doc.get("message") or "injected by the ahi-edge emulator"
        self.status = int(doc.get("status", 400))
        if self.kind == "error" and not self.code:
            raise ValueError("kind \"error\" needs a code, e.g. \"DependencyViolation\"")
        # strip_header: the call is answered as usual, without this header
        # (an answer missing a field AWS always sends, e.g. ETag).
        self.header = doc.get("header")
        if self.kind == "strip_header" and not self.header:
            raise ValueError("kind \"strip_header\" needs a header, e.g. \"ETag\"")
        self.region = doc.get("region")
        # Only calls whose path contains this (REST APIs put resource ids in
        # the path), so a test can aim at its own resource.
        self.target = doc.get("target")
        self.nth = doc.get("nth")
        self.times = int(doc.get("times", 1))
        self.fraction = doc.get("fraction")
        if (self.nth is None) == (self.fraction is None):
            raise ValueError("give exactly one of nth (1 = the next call) or fraction (0..1)")
        if self.nth is not None and (not isinstance(self.nth, int) or self.nth < 1):
            raise ValueError("nth must be a whole number >= 1")
        if self.fraction is not None and not (0 <= float(self.fraction) <= 1):
            raise ValueError("fraction must be between 0 and 1")
        self.rng = random.Random(doc.get("seed", 0))
        self.seen = 0
        self.fired = 0

    def matches(self, service, operation, region, path=""):
        return (
            (self.operation == "*" or operation == self.operation)
            and (self.service is None or self.service == service)
            and (self.region is None or self.region == region)
            and (self.target is None or self.target in (path or ""))
        )

    def should_fire(self):
        """Counts one matching call and says whether it fails."""
        self.seen += 1
        if self.fraction is not None:
            fire = self.rng.random() < float(self.fraction)
        else:
            fire = self.nth <= self.seen < self.nth + self.times
        if fire:
            self.fired += 1
        return fire

    def as_json(self):
        return {
            "id": self.id,
            "operation": self.operation,
            "service": self.service,
            "kind": self.kind,
            "code": self.code,
            "nth": self.nth,
            "times": self.times,
            "fraction": self.fraction,
            "region": self.region,
            "target": self.target,
            "seen": self.seen,
            "fired": self.fired,
        }


class Emulator:
    """The one shared state object. Every handler takes `lock` while it reads
    or changes modelled state (the server is threaded)."""

    def __init__(self, time_scale):
        self.lock = threading.RLock()
        self.config = Config(time_scale)
        self.faults = {}
        self.next_fault_id = 1
        self.calls = []
        self.started = time.monotonic()

    def now(self):
        return time.monotonic()

    def add_fault(self, doc):
        fault = Fault(self.next_fault_id, doc)
        self.faults[fault.id] = fault
        self.next_fault_id += 1
        return fault

    def fault_for(self, service, operation, region, path=""):
        for fault in self.faults.values():
            if fault.matches(service, operation, region, path) and fault.should_fire():
                return fault
        return None

    def record(self, service, operation, region, status, fault=None, path=None):
        self.calls.append({
            "seq": len(self.calls) + 1,
            "t": round(self.now() - self.started, 3),
            "service": service,
            "operation": operation,
            "region": region,
            "path": path,
            "status": status,
            "fault": fault,
        })
