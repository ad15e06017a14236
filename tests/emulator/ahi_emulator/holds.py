"""Holds: park a matching AWS call in flight until the test releases it.

A test that must act *while* another client is part way through a run (a
lock broken while its holder still works, a delete landing while a
conditional write is in flight) cannot rely on timing. A hold makes the
interleaving exact: the matching call is received, counted as `waiting`,
and answered only once the test releases it.

    POST   /_ahi/holds          {"operation": "cloudfront:CreateDistributionWithTags",
                                 "target": "optional substring of the path",
                                 "path": "optional exact path",
                                 "times": 1}
    GET    /_ahi/holds          every hold, with `waiting` (parked now) and `held` (so far)
    POST   /_ahi/holds/release  {"id": N} (or {} for all): the parked calls go on;
                                 with "drop": true they are dropped instead (the
                                 connection closes, the call never reaches AWS), as
                                 when a client dies before its request is sent
    DELETE /_ahi/holds          release everything and forget the holds

A parked call never waits longer than `MAX_WAIT` seconds, so a forgotten
hold slows a test down instead of hanging it.
"""

import threading

MAX_WAIT = 120.0


class Hold:
    def __init__(self, hold_id, doc):
        operation = doc.get("operation")
        if not isinstance(operation, str) or not operation:
            raise ValueError("operation is required, e.g. \"s3:PutObject\" or \"CreateDistributionWithTags\"")
        self.id = hold_id
        self.service, _, self.operation = operation.rpartition(":")
        self.target = doc.get("target")
        if self.target is not None and not isinstance(self.target, str):
            raise ValueError("target is a substring of the request path")
        self.path = doc.get("path")
        if self.path is not None and not isinstance(self.path, str):
            raise ValueError("path is the exact request path, e.g. \"/bucket/key\"")
        self.times = doc.get("times", 1)
        if not isinstance(self.times, int) or self.times < 1:
            raise ValueError("times must be a whole number >= 1")
        self.released = threading.Event()
        self.dropped = False
        self.held = 0
        self.waiting = 0

    def matches(self, call):
        return (
            call.operation == self.operation
            and (not self.service or call.service == self.service)
            and (self.target is None or self.target in (call.path or ""))
            and (self.path is None or call.path == self.path)
        )

    def as_json(self):
        return {
            "id": self.id,
            "operation": f"{self.service}:{self.operation}" if self.service else self.operation,
            "target": self.target,
            "path": self.path,
            "times": self.times,
            "held": self.held,
            "waiting": self.waiting,
            "released": self.released.is_set(),
            "dropped": self.dropped,
        }


class Holds:
    def __init__(self, emulator):
        self.emu = emulator
        self.holds = {}
        self.next_id = 1

    def reset(self):
        self.release(None)
        self.holds.clear()

    def wait(self, call):
        """Parks `call` if a hold with calls left matches it; True when the
        test dropped it. Takes the emulator's lock only to count, never
        while parked."""
        with self.emu.lock:
            hold = next((h for h in self.holds.values()
                         if h.held < h.times and not h.released.is_set() and h.matches(call)), None)
            if hold is None:
                return False
            hold.held += 1
            hold.waiting += 1
        try:
            hold.released.wait(MAX_WAIT)
        finally:
            with self.emu.lock:
                hold.waiting -= 1
        return hold.dropped

    def release(self, hold_id, drop=False):
        for hold in self.holds.values():
            if hold_id is None or hold.id == hold_id:
                hold.dropped = hold.dropped or drop
                hold.released.set()

    def control(self, method, path, doc):
        """The /_ahi/holds endpoints (called with the emulator's lock held)."""
        if path == "/_ahi/holds" and method == "POST":
            hold = Hold(self.next_id, doc)
            self.holds[hold.id] = hold
            self.next_id += 1
            return hold.as_json()
        if path == "/_ahi/holds" and method == "GET":
            return [h.as_json() for h in self.holds.values()]
        if path == "/_ahi/holds/release" and method == "POST":
            hold_id = doc.get("id")
            if hold_id is not None and hold_id not in self.holds:
                raise ValueError(f"no hold {hold_id}; see GET /_ahi/holds")
            self.release(hold_id, drop=doc.get("drop") is True)
            return [h.as_json() for h in self.holds.values()]
        if path == "/_ahi/holds" and method == "DELETE":
            self.reset()
            return {"cleared": True}
        raise LookupError(path)


def dropped(environ, start_response):
    """A dropped connection: no answer at all (the request never went on)."""
    import socket

    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    start_response("500 Internal Server Error", [("Content-Length", "0")])
    return [b""]
