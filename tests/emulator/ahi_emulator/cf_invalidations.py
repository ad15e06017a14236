"""CloudFront invalidations: CreateInvalidation, GetInvalidation and
ListInvalidations with AWS's rules, completed after the modelled
`invalidation` delay, when the local edge drops the cached objects they name.

Rules (the developer guide's "Invalidating files" and its quotas; errors as
AWS answers them, tests/test_invalidations.py):
- a path starts with `/`, is at most 4,000 characters, and may hold `*` only
  as its last character (a prefix match); anything else, and characters a
  client must URL-encode sent raw, is InvalidArgument "Your request contains
  one or more invalid invalidation paths.";
- Quantity differing from the Items sent is InconsistentQuantities;
- the same CallerReference with the same paths answers the invalidation
  already made; with other paths, InvalidArgument "Your request contains a
  caller reference that was used for a previous invalidation batch for the
  same distribution.";
- per distribution, at most `invalidation_paths_in_progress` (3,000) paths
  without a wildcard and `wildcard_invalidations_in_progress` (15) wildcard
  paths in progress: TooManyInvalidationsInProgress.

Matching (what the local edge drops when an invalidation completes): paths
are case-sensitive and compared with the cached object's URI as the cache
keyed it (after a viewer-request function), URL-encoded where RFC 1738 says,
and followed by `?` and its query string when the cache key holds query
strings, as AWS documents ("you must include the query strings when
invalidating files", or end the path with `*`)."""

from urllib.parse import quote

from .xmlutil import ApiError, document, parse, random_id, tag, text, timestamp

ROUTES = [
    ("POST", r"/distribution/(?P<id>[^/]+)/invalidation", "CreateInvalidation"),
    ("GET", r"/distribution/(?P<id>[^/]+)/invalidation", "ListInvalidations"),
    ("GET", r"/distribution/(?P<id>[^/]+)/invalidation/(?P<invalidation_id>[^/]+)", "GetInvalidation"),
]
OPERATIONS = {name for _, _, name in ROUTES}

INVALID_PATHS = "Your request contains one or more invalid invalidation paths."
SPENT_REFERENCE = ("Your request contains a caller reference that was used for a previous invalidation batch for "
                   "the same distribution.")
MAX_PATH = 4000
# One batch larger than this is BatchTooLarge whatever else is in progress.
MAX_BATCH = 3000
# Characters a path must carry URL-encoded (RFC 1738's unsafe ones, and
# anything outside printable ASCII); `%` itself starts an encoding.
UNSAFE = set(' "<>\\^`{|}')
# Left as they are when the cached URI is spelled as an invalidation path.
SAFE = "/:@!$&'()*+,;=-._~"


def path_problem(path):
    """Why CloudFront refuses an invalidation path, or None."""
    if not isinstance(path, str) or not path.startswith("/") or len(path) > MAX_PATH:
        return INVALID_PATHS
    if "*" in path[:-1]:
        return INVALID_PATHS
    if any(ord(c) < 0x21 or ord(c) > 0x7e or c in UNSAFE for c in path):
        return INVALID_PATHS
    return None


def is_wildcard(path):
    return path.endswith("*")


def cached_path(uri, query):
    """A cached object's path as an invalidation names it: the URI encoded
    where a client must encode it, then `?query` when the key has one."""
    try:
        raw = uri.encode("latin-1")  # WSGI's PATH_INFO: the bytes the viewer sent, decoded
    except UnicodeEncodeError:
        raw = uri.encode("utf-8")  # a URI a viewer-request function rewrote
    spelled = quote(raw, safe=SAFE)
    return spelled + ("?" + query if query else "")


def matches(invalidation_path, path):
    if is_wildcard(invalidation_path):
        return path.startswith(invalidation_path[:-1])
    return path == invalidation_path


class Invalidation:
    def __init__(self, dist_id, reference, paths, started):
        self.id = random_id("I", 13)
        self.distribution = dist_id
        self.reference = reference
        self.paths = paths
        self.started = started
        self.status = "InProgress"
        self.create_time = timestamp()

    def xml(self):
        items = "".join(tag("Path", p) for p in self.paths)
        return (tag("Id", self.id) + tag("Status", self.status) + tag("CreateTime", self.create_time)
                + "<InvalidationBatch><Paths>" + tag("Quantity", len(self.paths))
                + (f"<Items>{items}</Items>" if self.paths else "") + "</Paths>"
                + tag("CallerReference", self.reference) + "</InvalidationBatch>")

    def summary(self):
        return ("<InvalidationSummary>" + tag("Id", self.id) + tag("CreateTime", self.create_time)
                + tag("Status", self.status) + "</InvalidationSummary>")


class Invalidations:
    def __init__(self, emulator, cloudfront):
        self.emu = emulator
        self.cloudfront = cloudfront
        self.by_distribution = {}  # distribution id -> [Invalidation], oldest first

    def reset(self):
        self.by_distribution.clear()

    # ---- time ---------------------------------------------------------------------

    def tick(self):
        """Completes every invalidation whose modelled time has passed, oldest
        first, and has the local edge drop what it names."""
        now, delay = self.emu.now(), self.emu.config.delay("invalidation")
        for dist_id in list(self.by_distribution):
            if dist_id not in self.cloudfront.distributions:
                del self.by_distribution[dist_id]  # gone with its distribution
                continue
            for inv in self.by_distribution[dist_id]:
                if inv.status == "InProgress" and now >= inv.started + delay:
                    inv.status = "Completed"
                    edge = getattr(self.emu, "edge", None)
                    if edge is not None:
                        edge.invalidate(dist_id, inv.paths)
            self.cloudfront.distributions[dist_id].in_progress_invalidations = len(self.in_progress(dist_id))

    def in_progress(self, dist_id):
        return [i for i in self.by_distribution.get(dist_id, []) if i.status == "InProgress"]

    # ---- requests -----------------------------------------------------------------

    def handle(self, call, account, name, params):
        dist = self.cloudfront.get(account, params["id"])
        if name == "CreateInvalidation":
            return self.create(call, dist)
        if name == "GetInvalidation":
            inv = next((i for i in self.by_distribution.get(dist.id, []) if i.id == params["invalidation_id"]), None)
            if inv is None:
                raise ApiError("NoSuchInvalidation", "The specified invalidation does not exist.", 404)
            return 200, [], document("Invalidation", inv.xml())
        return self.list(call, dist)

    def create(self, call, dist):
        if not call.body or not call.body.strip():
            raise ApiError("MissingBody", "This operation requires a body. Ensure that the body is present and the "
                                          "Content-Type header is set.")
        batch = parse(call.body, "InvalidationBatch")
        reference = text(batch, "CallerReference")
        quantity = text(batch, "Paths/Quantity")
        if not reference or quantity is None:
            missing = "callerReference" if not reference else "paths.quantity"
            raise ApiError("MalformedXML", f"1 validation error detected: Value null at 'invalidationBatch."
                                             f"{missing}' failed to satisfy constraint: Member must not be null")
        items = batch.find("Paths/Items")
        paths = [p.text or "" for p in items.findall("Path")] if items is not None else []
        if not quantity.strip().isdigit() or int(quantity) != len(paths):
            raise ApiError("InconsistentQuantities", f"The specified quantity of Paths ({quantity}) does not "
                                                     f"match the actual quantity supplied ({len(paths)}).")
        if not paths or any(path_problem(p) for p in paths):
            raise ApiError("InvalidArgument", INVALID_PATHS)
        earlier = next((i for i in self.by_distribution.get(dist.id, []) if i.reference == reference), None)
        if earlier is not None:
            if earlier.paths != paths:
                raise ApiError("InvalidArgument", SPENT_REFERENCE)
            return self.created(dist, earlier)
        if len(paths) > MAX_BATCH:
            raise ApiError("BatchTooLarge", "Invalidation batch specified is too large.", 413)
        running = [p for i in self.in_progress(dist.id) for p in i.paths]
        quotas = self.emu.config.quotas
        wildcards = sum(map(is_wildcard, running)) + sum(map(is_wildcard, paths))
        files = len(running) + len(paths) - wildcards
        if wildcards > quotas["wildcard_invalidations_in_progress"]:
            raise ApiError("TooManyInvalidationsInProgress", "Processing your request will cause you to exceed the "
                                                             "maximum number of in-progress wildcard invalidations.")
        if files > quotas["invalidation_paths_in_progress"]:
            raise ApiError("TooManyInvalidationsInProgress", "Processing your request will cause you to exceed the "
                                                             "maximum number of in-progress invalidations.")
        inv = Invalidation(dist.id, reference, paths, self.emu.now())
        self.by_distribution.setdefault(dist.id, []).append(inv)
        dist.in_progress_invalidations = len(self.in_progress(dist.id))
        return self.created(dist, inv)

    def created(self, dist, inv):
        location = f"https://cloudfront.amazonaws.com/2020-05-31/distribution/{dist.id}/invalidation/{inv.id}"
        return 201, [("Location", location)], document("Invalidation", inv.xml())

    def list(self, call, dist):
        newest_first = list(reversed(self.by_distribution.get(dist.id, [])))
        marker = call.q("Marker") or ""
        wanted = call.q("MaxItems") or "100"
        if not wanted.isdigit():
            raise ApiError("InvalidArgument", f"The parameter MaxItems has an invalid value: {wanted}.")
        most = int(wanted)
        start = 0
        if marker:
            ids = [i.id for i in newest_first]
            start = ids.index(marker) + 1 if marker in ids else len(ids)
        page = newest_first[start:start + most]
        truncated = start + most < len(newest_first)
        inner = (tag("Marker", marker) + (tag("NextMarker", page[-1].id) if truncated and page else "")
                 + tag("MaxItems", most) + tag("IsTruncated", "true" if truncated else "false")
                 + tag("Quantity", len(page))
                 + ("<Items>" + "".join(i.summary() for i in page) + "</Items>" if page else ""))
        return 200, [], document("InvalidationList", inner)
