"""CloudFront, modelled here instead of by moto: distributions that keep
every field (Lambda@Edge and function associations included), InProgress for
a modelled time after each change, ETags with If-Match, and the delete rules.
Policies and CloudFront Functions live in cf_resources.py, invalidations in
cf_invalidations.py."""

import re

from . import cf_access, cf_invalidations, cf_resources, edge
from .cf_sets import DISTRIBUTION_SETS, reordered
from .xmlutil import ApiError, document, items, new_etag, parse, random_id, tag, text, timestamp, to_string

# (method, path pattern after /2020-05-31, operation)
ROUTES = [
    ("POST", r"/distribution", "CreateDistribution"),
    ("GET", r"/distribution", "ListDistributions"),
    ("GET", r"/distribution/(?P<id>[^/]+)", "GetDistribution"),
    ("GET", r"/distribution/(?P<id>[^/]+)/config", "GetDistributionConfig"),
    ("PUT", r"/distribution/(?P<id>[^/]+)/config", "UpdateDistribution"),
    ("DELETE", r"/distribution/(?P<id>[^/]+)", "DeleteDistribution"),
    ("POST", r"/tagging", "Tagging"),
    ("GET", r"/tagging", "ListTagsForResource"),
] + cf_resources.ROUTES + cf_access.ROUTES + cf_invalidations.ROUTES


def operation(call):
    """The CloudFront operation a request names, and its path parameters."""
    path = call.path.split("/2020-05-31", 1)[-1].rstrip("/") or "/"
    for method, pattern, name in ROUTES:
        match = re.fullmatch(pattern, path)
        if match and call.method == method:
            if name == "CreateDistribution" and "WithTags" in call.query:
                name = "CreateDistributionWithTags"
            if name == "Tagging":
                name = {"Tag": "TagResource", "Untag": "UntagResource"}.get(call.q("Operation"), "TagResource")
            return name, match.groupdict()
    return None, {}


class Distribution:
    def __init__(self, account, config):
        self.id = random_id("E", 13)
        self.account = account
        self.arn = f"arn:aws:cloudfront::{account}:distribution/{self.id}"
        self.domain = random_id("d", 13, "abcdefghijklmnopqrstuvwxyz0123456789") + ".cloudfront.net"
        self.config = config
        self.etag = new_etag()
        self.status = "InProgress"
        self.last_modified = timestamp()
        # A deploy in flight: when it started and which delay it takes. The
        # end is computed when asked, so a changed time scale applies at once.
        self.deploy = None
        self.deployed_refs = set()
        self.tags = {}
        self.in_progress_invalidations = 0  # kept by cf_invalidations.py

    @property
    def caller_reference(self):
        return text(self.config, "CallerReference")

    @property
    def enabled(self):
        return text(self.config, "Enabled") == "true"

    def aliases(self):
        return [a.text for a in items(self.config, "Aliases")]

    def xml(self):
        inner = (
            tag("Id", self.id) + tag("ARN", self.arn) + tag("Status", self.status)
            + tag("LastModifiedTime", self.last_modified)
            + tag("InProgressInvalidationBatches", self.in_progress_invalidations)
            + tag("DomainName", self.domain)
            + "<ActiveTrustedSigners><Enabled>false</Enabled><Quantity>0</Quantity></ActiveTrustedSigners>"
            + "<ActiveTrustedKeyGroups><Enabled>false</Enabled><Quantity>0</Quantity></ActiveTrustedKeyGroups>"
            + to_string(self.answered())
        )
        return inner

    def answered(self):
        """The config as a GET answers it: set-like lists in another order."""
        return reordered(self.config, DISTRIBUTION_SETS)

    def summary(self):
        config = self.answered()
        copied = "".join(
            to_string(config.find(name)) for name in (
                "Aliases", "Origins", "OriginGroups", "DefaultCacheBehavior", "CacheBehaviors",
                "CustomErrorResponses", "Comment", "PriceClass", "Enabled", "ViewerCertificate",
                "Restrictions", "WebACLId", "HttpVersion", "IsIPV6Enabled",
            ) if config.find(name) is not None
        )
        return (
            "<DistributionSummary>" + tag("Id", self.id) + tag("ARN", self.arn) + tag("Status", self.status)
            + tag("LastModifiedTime", self.last_modified) + tag("DomainName", self.domain) + copied
            + tag("Staging", "false") + "</DistributionSummary>"
        )


class CloudFront:
    def __init__(self, emulator):
        self.emu = emulator
        self.distributions = {}  # id -> Distribution
        self.releasing = []  # (account, config, released at): deleted distributions
        self.spent_references = set()  # (account, CallerReference) ever sent
        self.resources = cf_resources.Resources(emulator, self)
        self.access = cf_access.Access(emulator, self)
        self.invalidations = cf_invalidations.Invalidations(emulator, self)

    def reset(self):
        self.releasing.clear()
        self.distributions.clear()
        self.spent_references.clear()
        self.resources.reset()
        self.access.reset()
        self.invalidations.reset()

    # ---- time -------------------------------------------------------------

    def tick(self):
        """Finishes every deploy whose modelled time has passed, in time order,
        and tells the replica model what became deployed when."""
        now = self.emu.now()
        due = sorted(
            ((self.done_at(d), d) for d in self.distributions.values() if d.deploy is not None),
            key=lambda pair: pair[0],
        )
        for done_at, dist in due:
            if done_at > now:
                continue
            dist.status = "Deployed"
            dist.deploy = None
            dist.deployed_refs = edge.lambda_refs(dist.config)
            self.emu.replicas.references_changed(dist.account, self.deployed_refs(dist.account), done_at)
        self.invalidations.tick()

    def done_at(self, dist):
        started, kind = dist.deploy
        return started + self.emu.config.delay(kind)

    def deployed_refs(self, account):
        refs = set()
        for dist in self.distributions.values():
            if dist.account == account:
                refs |= dist.deployed_refs
        return refs

    def configs_in_use(self, account):
        """The configs whose references hold an OAC, key group, policy or
        function: every distribution's, and a deleted one's until released."""
        now = self.emu.now()
        self.releasing = [r for r in self.releasing if r[2] > now]
        return [d.config for d in self.distributions.values() if d.account == account] + [
            config for owner, config, _ in self.releasing if owner == account]

    def all_refs(self, account):
        """Versions referenced by any distribution, deployed or not."""
        refs = self.deployed_refs(account)
        for dist in self.distributions.values():
            if dist.account == account:
                refs |= edge.lambda_refs(dist.config)
        return refs

    def start_deploy(self, dist, kind):
        dist.status = "InProgress"
        dist.last_modified = timestamp()
        dist.etag = new_etag()
        dist.deploy = (self.emu.now(), kind)

    # ---- requests -----------------------------------------------------------

    def handle(self, call, account, name, params):
        self.tick()
        if name in cf_resources.OPERATIONS:
            return self.resources.handle(call, account, name, params)
        if name in cf_access.OPERATIONS:
            return self.access.handle(call, account, name, params)
        if name in cf_invalidations.OPERATIONS:
            return self.invalidations.handle(call, account, name, params)
        handler = getattr(self, "op_" + name, None)
        if handler is None:
            raise ApiError("InvalidAction", f"{name} is not modelled by the ahi-edge emulator", 400)
        return handler(call, account, **params)

    def get(self, account, dist_id):
        dist = self.distributions.get(dist_id)
        if dist is None or dist.account != account:
            raise ApiError("NoSuchDistribution", "The specified distribution does not exist.", 404)
        return dist

    def check_config(self, account, config, dist_id=None):
        for required in ("CallerReference", "Origins", "DefaultCacheBehavior", "Comment", "Enabled"):
            if config.find(required) is None:
                raise ApiError("MalformedInput", f"DistributionConfig is missing {required}.")
        for alias in [a.text for a in items(config, "Aliases")]:
            for other in self.distributions.values():
                if other.account == account and other.id != dist_id and alias in other.aliases():
                    raise ApiError(
                        "CNAMEAlreadyExists",
                        f"One or more of the CNAMEs you provided are already associated with a different resource.",
                        409,
                    )
        self.check_shape(config)
        self.resources.check_references(account, config)
        self.access.check_references(account, config)
        edge.validate_associations(self.emu, account, config)

    def check_shape(self, config):
        """Quotas, and every behaviour names an origin that exists."""
        quotas = self.emu.config.quotas
        origin_ids = [text(o, "Id") for o in items(config, "Origins")]
        if len(origin_ids) > quotas["origins"]:
            raise ApiError("TooManyOrigins", "You cannot create more origins for the distribution.")
        cache_behaviours = items(config, "CacheBehaviors")
        if len(cache_behaviours) > quotas["cache_behaviors"]:
            raise ApiError("TooManyCacheBehaviors", "Your request contains more CacheBehaviors than are allowed per distribution.")
        for behaviour in cf_resources.behaviours(config):
            if text(behaviour, "TargetOriginId") not in origin_ids:
                raise ApiError("NoSuchOrigin", "No origin exists with the specified Origin Id.", 404)
            if not text(behaviour, "CachePolicyId") and behaviour.find("ForwardedValues") is None:
                raise ApiError("InvalidArgument", "A CacheBehavior must include either a CachePolicyId or ForwardedValues.")

    def op_CreateDistribution(self, call, account):
        return self._create(call, account, parse(call.body, "DistributionConfig"), {})

    def op_CreateDistributionWithTags(self, call, account):
        wrapper = parse(call.body, "DistributionConfigWithTags")
        config = wrapper.find("DistributionConfig")
        if config is None:
            raise ApiError("MalformedInput", "DistributionConfigWithTags needs a DistributionConfig.")
        tags = {text(t, "Key"): text(t, "Value", "") for t in items(wrapper, "Tags")}
        return self._create(call, account, config, tags)

    def _create(self, call, account, config, tags):
        reference = text(config, "CallerReference")
        # CloudFront remembers every reference ever sent, the deleted
        # distributions' too: a reference is spent forever.
        live = any(d.account == account and d.caller_reference == reference for d in self.distributions.values())
        if live or (account, reference) in self.spent_references:
            raise ApiError(
                "DistributionAlreadyExists",
                "The caller reference that you are using to create a distribution is associated with another distribution.",
                409,
            )
        self.check_config(account, config)
        dist = Distribution(account, config)
        dist.tags = tags
        self.distributions[dist.id] = dist
        self.spent_references.add((account, reference))
        self.start_deploy(dist, "distribution_create")
        headers = [("ETag", dist.etag), ("Location", f"https://cloudfront.amazonaws.com/2020-05-31/distribution/{dist.id}")]
        return 201, headers, document("Distribution", dist.xml())

    def op_GetDistribution(self, call, account, id):
        dist = self.get(account, id)
        return 200, [("ETag", dist.etag)], document("Distribution", dist.xml())

    def op_GetDistributionConfig(self, call, account, id):
        dist = self.get(account, id)
        inner = "".join(to_string(child) for child in dist.answered())
        return 200, [("ETag", dist.etag)], document("DistributionConfig", inner)

    def op_ListDistributions(self, call, account):
        dists = [d for d in self.distributions.values() if d.account == account]
        inner = (
            tag("Marker", "") + tag("MaxItems", 100) + tag("IsTruncated", "false") + tag("Quantity", len(dists))
            + ("<Items>" + "".join(d.summary() for d in dists) + "</Items>" if dists else "")
        )
        return 200, [], document("DistributionList", inner)

    def check_etag(self, call, etag):
        sent = call.headers.get("if-match")
        if not sent:
            raise ApiError("InvalidIfMatchVersion", "The If-Match version is missing or not valid for the resource.", 400)
        if sent != etag:
            raise ApiError(
                "PreconditionFailed",
                "The request failed because it didn't meet the preconditions in one or more request-header fields.",
                412,
            )

    def op_UpdateDistribution(self, call, account, id):
        dist = self.get(account, id)
        config = parse(call.body, "DistributionConfig")
        self.check_etag(call, dist.etag)
        if text(config, "CallerReference") != dist.caller_reference:
            raise ApiError("IllegalUpdate", "The update contains modifications that are not allowed: CallerReference.")
        self.check_config(account, config, dist.id)
        dist.config = config
        self.start_deploy(dist, "distribution_update")
        return 200, [("ETag", dist.etag)], document("Distribution", dist.xml())

    def op_DeleteDistribution(self, call, account, id):
        dist = self.get(account, id)
        self.check_etag(call, dist.etag)
        if dist.enabled or dist.status != "Deployed":
            raise ApiError(
                "DistributionNotDisabled", "The distribution you are trying to delete has not been disabled.", 409
            )
        del self.distributions[dist.id]
        # What it named stays "in use" a while after (distribution_release).
        self.releasing.append((account, dist.config, self.emu.now() + self.emu.config.delay("distribution_release")))
        self.emu.replicas.references_changed(account, self.deployed_refs(account), self.emu.now())
        return 204, [], ""

    # ---- tags ---------------------------------------------------------------

    def tagged(self, call, account):
        arn = call.q("Resource") or ""
        for dist in self.distributions.values():
            if dist.arn == arn and dist.account == account:
                return dist
        raise ApiError("NoSuchResource", f"The specified resource does not exist: {arn}", 404)

    def op_TagResource(self, call, account):
        dist = self.tagged(call, account)
        for t in items(parse(call.body, "Tags"), "."):
            dist.tags[text(t, "Key")] = text(t, "Value", "")
        return 204, [], ""

    def op_UntagResource(self, call, account):
        dist = self.tagged(call, account)
        for key in items(parse(call.body, "TagKeys"), "."):
            dist.tags.pop(key.text, None)
        return 204, [], ""

    def op_ListTagsForResource(self, call, account):
        dist = self.tagged(call, account)
        inner = "<Items>" + "".join(
            "<Tag>" + tag("Key", k) + tag("Value", v) + "</Tag>" for k, v in sorted(dist.tags.items())
        ) + "</Items>"
        return 200, [], document("Tags", inner)
