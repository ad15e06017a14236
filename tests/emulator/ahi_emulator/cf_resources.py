"""CloudFront cache / origin request / response headers policies and
CloudFront Functions, with ETags and the in-use rules."""

import base64
import json
import re
import uuid

from . import cf_managed, node
from .cf_sets import POLICY_SETS, reordered
from .xmlutil import ApiError, document, items, new_etag, parse, tag, text, timestamp, to_string

# kind -> (path segment, entity tag, the id element in cache behaviours)
POLICY_KINDS = {
    "CachePolicy": ("cache-policy", "CachePolicyId"),
    "OriginRequestPolicy": ("origin-request-policy", "OriginRequestPolicyId"),
    "ResponseHeadersPolicy": ("response-headers-policy", "ResponseHeadersPolicyId"),
}

ROUTES = []
for _kind, (_segment, _) in POLICY_KINDS.items():
    ROUTES += [
        ("POST", rf"/{_segment}", f"Create{_kind}"),
        ("GET", rf"/{_segment}", f"List{_kind[:-1]}ies"),
        ("GET", rf"/{_segment}/(?P<id>[^/]+)", f"Get{_kind}"),
        ("GET", rf"/{_segment}/(?P<id>[^/]+)/config", f"Get{_kind}Config"),
        ("PUT", rf"/{_segment}/(?P<id>[^/]+)", f"Update{_kind}"),
        ("DELETE", rf"/{_segment}/(?P<id>[^/]+)", f"Delete{_kind}"),
    ]
ROUTES += [
    ("POST", r"/function", "CreateFunction"),
    ("GET", r"/function", "ListFunctions"),
    ("GET", r"/function/(?P<name>[^/]+)/describe", "DescribeFunction"),
    ("GET", r"/function/(?P<name>[^/]+)", "GetFunction"),
    ("PUT", r"/function/(?P<name>[^/]+)", "UpdateFunction"),
    ("POST", r"/function/(?P<name>[^/]+)/publish", "PublishFunction"),
    ("DELETE", r"/function/(?P<name>[^/]+)", "DeleteFunction"),
    ("POST", r"/function/(?P<name>[^/]+)/test", "TestFunction"),
]
OPERATIONS = {name for _, _, name in ROUTES}
NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")


def behaviours(config):
    default = config.find("DefaultCacheBehavior")
    return ([default] if default is not None else []) + items(config, "CacheBehaviors")


class Policy:
    def __init__(self, kind, account, config):
        self.kind = kind
        self.account = account
        self.id = str(uuid.uuid4())
        self.config = config
        self.etag = new_etag()
        self.last_modified = timestamp()

    @property
    def name(self):
        return text(self.config, "Name")

    @property
    def managed(self):
        return self.account is None

    def xml(self):
        return tag("Id", self.id) + tag("LastModifiedTime", self.last_modified) + to_string(self.answered())

    def answered(self):
        """The config as a GET answers it: header, cookie and query string
        names in another order (cf_sets.py). Response headers policies are
        left as sent: their lists are not modelled as sets here."""
        if self.kind in ("CachePolicy", "OriginRequestPolicy"):
            return reordered(self.config, POLICY_SETS)
        return self.config


class Function:
    def __init__(self, account, name, config, code):
        self.account = account
        self.name = name
        self.arn = f"arn:aws:cloudfront::{account}:function/{name}"
        self.config = config
        self.code = code
        self.live = None  # (config, code) once published
        self.etag = new_etag()
        self.created = timestamp()
        self.last_modified = self.created

    def summary(self, stage, in_use):
        config, _ = (self.config, self.code) if stage == "DEVELOPMENT" else self.live
        status = "UNPUBLISHED" if stage == "DEVELOPMENT" else ("DEPLOYED" if in_use else "UNASSOCIATED")
        return (
            tag("Name", self.name) + tag("Status", status) + to_string(config)
            + "<FunctionMetadata>" + tag("FunctionARN", self.arn) + tag("Stage", stage)
            + tag("CreatedTime", self.created) + tag("LastModifiedTime", self.last_modified)
            + "</FunctionMetadata>"
        )


class Resources:
    def __init__(self, emulator, cloudfront):
        self.emu = emulator
        self.cloudfront = cloudfront
        self.policies = {}  # id -> Policy (custom ones)
        self.managed = cf_managed.policies(Policy)
        self.functions = {}  # (account, name) -> Function

    def reset(self):
        self.policies.clear()
        self.functions.clear()

    def handle(self, call, account, name, params):
        for kind in POLICY_KINDS:
            if name.endswith(kind) or name.endswith(kind + "Config") or name == f"List{kind[:-1]}ies":
                return self.policy_op(call, account, kind, name, params.get("id"))
        return getattr(self, "op_" + name)(call, account, **params)

    # ---- references from distributions --------------------------------------

    def in_use(self, account, element_name, value):
        for config in self.cloudfront.configs_in_use(account):
            for behaviour in behaviours(config):
                if text(behaviour, element_name) == value:
                    return True
                if element_name == "FunctionARN" and any(
                    text(a, "FunctionARN") == value for a in items(behaviour, "FunctionAssociations")
                ):
                    return True
        return False

    def check_references(self, account, config):
        """A distribution may name only policies and published functions that exist."""
        for behaviour in behaviours(config):
            for kind, (_, id_element) in POLICY_KINDS.items():
                ref = text(behaviour, id_element)
                if ref and not self._policy(account, kind, ref, must_exist=False):
                    raise ApiError(f"NoSuch{kind}", f"The {kind} does not exist: {ref}", 404)
            self.check_function_associations(account, behaviour)

    def check_function_associations(self, account, behaviour):
        events = set()
        for assoc in items(behaviour, "FunctionAssociations"):
            arn = text(assoc, "FunctionARN")
            event = text(assoc, "EventType")
            if event not in ("viewer-request", "viewer-response"):
                raise ApiError("InvalidFunctionAssociation",
                               f"You cannot use origin-facing event types with a CloudFront function: {event}")
            if event in events:
                raise ApiError("InvalidFunctionAssociation",
                               f"The event type {event} is associated with more than one function.")
            events.add(event)
            fn = next((f for f in self.functions.values() if f.arn == arn and f.account == account), None)
            if fn is None or fn.live is None:
                raise ApiError("InvalidFunctionAssociation",
                               f"CloudFront functions must be published to the LIVE stage to associate them: {arn}")
        lambda_events = {text(a, "EventType") for a in items(behaviour, "LambdaFunctionAssociations")}
        if events and lambda_events & {"viewer-request", "viewer-response"}:
            raise ApiError("InvalidFunctionAssociation",
                           "A cache behavior cannot have both a CloudFront function and a Lambda@Edge function "
                           "on viewer events.")

    # ---- policies -------------------------------------------------------------

    def _policy(self, account, kind, policy_id, must_exist=True):
        policy = self.policies.get(policy_id) or self.managed.get(policy_id)
        if policy is None or (policy.account != account and not policy.managed) or policy.kind != kind:
            if must_exist:
                raise ApiError(f"NoSuch{kind}", f"The {kind} does not exist.", 404)
            return None
        return policy

    def _check_name(self, account, kind, config, exclude=None):
        name = text(config, "Name")
        if not name:
            raise ApiError("MalformedInput", f"{kind}Config needs a Name.")
        for other in self.policies.values():
            if other.account == account and other.kind == kind and other.name == name and other is not exclude:
                raise ApiError(f"{kind}AlreadyExists", f"A {kind} with this name already exists: {name}", 409)

    def policy_op(self, call, account, kind, name, policy_id):
        segment, id_element = POLICY_KINDS[kind]
        if name == f"Create{kind}":
            config = parse(call.body, f"{kind}Config")
            self._check_name(account, kind, config)
            policy = Policy(kind, account, config)
            self.policies[policy.id] = policy
            location = f"https://cloudfront.amazonaws.com/2020-05-31/{segment}/{policy.id}"
            return 201, [("ETag", policy.etag), ("Location", location)], document(kind, policy.xml())
        if name == f"List{kind[:-1]}ies":
            custom = [p for p in self.policies.values() if p.account == account and p.kind == kind]
            managed = [p for p in self.managed.values() if p.kind == kind]
            wanted = call.q("Type")
            mine = (managed if wanted != "custom" else []) + (custom if wanted != "managed" else [])
            summaries = "".join(
                f"<{kind}Summary>" + tag("Type", "managed" if p.managed else "custom") + f"<{kind}>" + p.xml()
                + f"</{kind}>" + f"</{kind}Summary>"
                for p in mine
            )
            inner = tag("MaxItems", 100) + tag("Quantity", len(mine)) + (f"<Items>{summaries}</Items>" if mine else "")
            return 200, [], document(f"{kind}List", inner)
        policy = self._policy(account, kind, policy_id)
        if name == f"Get{kind}":
            return 200, [("ETag", policy.etag)], document(kind, policy.xml())
        if name == f"Get{kind}Config":
            inner = "".join(to_string(child) for child in policy.answered())
            return 200, [("ETag", policy.etag)], document(f"{kind}Config", inner)
        if policy.managed:
            verb = "update" if name.startswith("Update") else "delete"
            raise ApiError("IllegalUpdate" if verb == "update" else "IllegalDelete",
                           f"You cannot {verb} an AWS managed {kind}: {policy.id}")
        self.cloudfront.check_etag(call, policy.etag)
        if name == f"Update{kind}":
            config = parse(call.body, f"{kind}Config")
            self._check_name(account, kind, config, exclude=policy)
            policy.config = config
            policy.etag = new_etag()
            policy.last_modified = timestamp()
            return 200, [("ETag", policy.etag)], document(kind, policy.xml())
        # Delete
        if self.in_use(account, id_element, policy.id):
            raise ApiError(f"{kind}InUse", f"Cannot delete the {kind} because it is attached to one or more cache behaviors.", 409)
        del self.policies[policy.id]
        return 204, [], ""

    # ---- CloudFront Functions -------------------------------------------------

    def _function(self, account, name, stage="DEVELOPMENT"):
        fn = self.functions.get((account, name))
        if fn is None or (stage == "LIVE" and fn.live is None):
            raise ApiError("NoSuchFunctionExists", f"The function does not exist: {name}", 404)
        return fn

    def _summary_doc(self, fn, stage):
        return document("FunctionSummary", fn.summary(stage, self.in_use(fn.account, "FunctionARN", fn.arn)))

    def _code(self, request):
        """The request's config and code, held to CloudFront's rules."""
        config = request.find("FunctionConfig")
        runtime = text(config, "Runtime") if config is not None else None
        if runtime not in ("cloudfront-js-1.0", "cloudfront-js-2.0"):
            raise ApiError("InvalidArgument", f"The parameter Runtime has an invalid value: {runtime}.")
        # API reference, FunctionConfig: "The comment cannot be longer than
        # 128 characters." (botocore's model has no length constraint, so
        # only the service refuses it.)
        if len(text(config, "Comment", "")) > 128:
            raise ApiError("InvalidArgument", "The parameter Comment is longer than 128 characters.")
        code = base64.b64decode(text(request, "FunctionCode", ""))
        if len(code) > self.emu.config.quotas["function_size"]:
            raise ApiError("FunctionSizeLimitExceeded", "The function is too large.", 413)
        return config, code

    def op_CreateFunction(self, call, account):
        request = parse(call.body, "CreateFunctionRequest")
        name = text(request, "Name") or ""
        if not NAME.fullmatch(name):
            raise ApiError("InvalidArgument", f"The parameter Name has an invalid value: {name!r}.")
        if (account, name) in self.functions:
            raise ApiError("FunctionAlreadyExists", f"A function with the same name already exists: {name}", 409)
        fn = Function(account, name, *self._code(request))
        self.functions[(account, name)] = fn
        location = f"https://cloudfront.amazonaws.com/2020-05-31/function/{fn.arn}"
        return 201, [("ETag", fn.etag), ("Location", location)], self._summary_doc(fn, "DEVELOPMENT")

    def op_DescribeFunction(self, call, account, name):
        stage = call.q("Stage") or "DEVELOPMENT"
        fn = self._function(account, name, stage)
        return 200, [("ETag", fn.etag)], self._summary_doc(fn, stage)

    def op_GetFunction(self, call, account, name):
        stage = call.q("Stage") or "DEVELOPMENT"
        fn = self._function(account, name, stage)
        code = fn.code if stage == "DEVELOPMENT" else fn.live[1]
        return 200, [("ETag", fn.etag), ("Content-Type", "application/octet-stream")], code

    def op_UpdateFunction(self, call, account, name):
        fn = self._function(account, name)
        self.cloudfront.check_etag(call, fn.etag)
        request = parse(call.body, "UpdateFunctionRequest")
        fn.config, fn.code = self._code(request)
        fn.etag = new_etag()
        fn.last_modified = timestamp()
        # AWS spells this one header "ETtag"; the SDKs' models expect it so.
        return 200, [("ETtag", fn.etag)], self._summary_doc(fn, "DEVELOPMENT")

    def op_PublishFunction(self, call, account, name):
        fn = self._function(account, name)
        self.cloudfront.check_etag(call, fn.etag)
        fn.live = (fn.config, fn.code)
        fn.etag = new_etag()
        fn.last_modified = timestamp()
        return 200, [], self._summary_doc(fn, "LIVE")

    def op_TestFunction(self, call, account, name):
        fn = self._function(account, name)
        self.cloudfront.check_etag(call, fn.etag)
        request = parse(call.body, "TestFunctionRequest")
        stage = text(request, "Stage") or "DEVELOPMENT"
        fn = self._function(account, name, stage)
        code = fn.code if stage == "DEVELOPMENT" else fn.live[1]
        try:
            event = json.loads(base64.b64decode(text(request, "EventObject", "")))
        except ValueError:
            raise ApiError("InvalidArgument", "The parameter EventObject is not a JSON event object.") from None
        error, output, logs = "", "", []
        try:
            result, logs = node.RUNTIME.cloudfront_function(code.decode("utf-8"), event)
            side = "request" if isinstance(result, dict) and "uri" in result else "response"
            output = json.dumps({side: result})
        except node.EdgeCodeError as e:
            error = str(e)
        summary = fn.summary(stage, self.in_use(account, "FunctionARN", fn.arn))
        inner = (
            f"<FunctionSummary>{summary}</FunctionSummary>" + tag("ComputeUtilization", 1)
            + "<FunctionExecutionLogs>" + "".join(tag("member", line) for line in logs) + "</FunctionExecutionLogs>"
            + tag("FunctionErrorMessage", error) + tag("FunctionOutput", output)
        )
        return 200, [], document("TestResult", inner)

    def op_DeleteFunction(self, call, account, name):
        fn = self._function(account, name)
        self.cloudfront.check_etag(call, fn.etag)
        if self.in_use(account, "FunctionARN", fn.arn):
            raise ApiError("FunctionInUse", f"Cannot delete function {name}: a distribution uses it.", 409)
        del self.functions[(account, name)]
        return 204, [], ""

    def op_ListFunctions(self, call, account):
        stage = call.q("Stage")
        mine = [f for f in self.functions.values() if f.account == account and (stage != "LIVE" or f.live)]
        summaries = "".join(
            "<FunctionSummary>" + f.summary(stage or "DEVELOPMENT", self.in_use(account, "FunctionARN", f.arn))
            + "</FunctionSummary>"
            for f in mine
        )
        inner = tag("MaxItems", 100) + tag("Quantity", len(mine)) + (f"<Items>{summaries}</Items>" if mine else "")
        return 200, [], document("FunctionList", inner)
