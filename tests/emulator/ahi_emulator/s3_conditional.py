"""S3 conditional writes and deletes, atomic as on AWS.

moto 5.2.5 checks `If-None-Match: *` and `If-Match` on PutObject, `If-Match`
on DeleteObject and `If-None-Match: *` on CompleteMultipartUpload, but it
checks, then writes, without a lock, on a threaded server: two writers
racing with `If-None-Match: *` can both win. What AWS does, and what this
module makes the emulator do (sources: the S3 User Guide's "How to prevent
object overwrites with conditional writes",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html,
and "How to perform conditional deletes",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html):

- Every object write and delete of a key is serialised here, and a
  condition is evaluated when the write completes: of concurrent
  conditional writes the first to finish wins and the others answer
  412 `PreconditionFailed` ("At least one of the pre-conditions you
  specified did not hold").
- PutObject, CopyObject (the destination) and CompleteMultipartUpload:
  `If-None-Match: *` fails (412) when a current version exists (a delete
  marker counts as absent; an upload still in progress does not count);
  `If-Match: <etag>` fails (412) on another ETag and answers 404
  `NoSuchKey` when there is no current object. moto does not check
  `If-Match` on CompleteMultipartUpload; this does.
- DeleteObject: `If-Match: <etag>` deletes only that version of the
  content (412 otherwise); `If-Match: *` deletes only an existing object.
  Either answers 404 `NoSuchKey` when there is none. (moto compares `*`
  with the ETag and refuses every `If-Match: *`.)
- 409 `ConditionalRequestConflict`: a delete of the key that succeeds
  while a conditional write is in flight fails that write (PutObject may
  retry; a multipart upload must start again); a put or delete that
  succeeds while a conditional delete is in flight fails the delete.
  In flight means received and not yet complete: a test makes that window
  with a hold (holds.py) on the conditional call, which parks it after its
  start is recorded and before it completes.

The 409 message follows S3's wording for conflicting conditional
operations; the code and status are the documented ones.
"""

import threading

from . import holds, protocol

PRECONDITION_FAILED = ("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412)
NO_SUCH_KEY = ("NoSuchKey", "The specified key does not exist.", 404)
CONFLICT = ("ConditionalRequestConflict",
            "A conflicting conditional operation is currently in progress against this resource. Try again.", 409)

# Object operations whose writes this module serialises.
WRITES = ("PutObject", "DeleteObject", "PostObject")


class S3Conditional:
    def __init__(self, emulator):
        self.emu = emulator
        # Held for the whole evaluate-then-write of one object request.
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.deletes = {}  # (bucket, key) -> completed deletes
        self.writes = {}  # (bucket, key) -> completed puts and deletes

    def applies(self, call):
        """A write or delete of an object (not a part, tag, ACL or abort)."""
        if call.service != "s3" or call.operation not in WRITES or object_of(call) is None:
            return False
        if call.method == "PUT":
            return not ({"partNumber", "tagging", "acl", "retention", "legal-hold"} & set(call.query))
        if call.method == "DELETE":
            return not ({"uploadId", "tagging"} & set(call.query))
        return call.method == "POST" and "uploadId" in call.query  # CompleteMultipartUpload

    def serve(self, call, environ, start_response, pass_to_moto):
        target = object_of(call)
        conditions = self.conditions(call)
        if conditions:
            with self.lock:
                started = (self.deletes.get(target, 0), self.writes.get(target, 0))
        # In flight: a test's hold parks the call here (or drops it).
        if self.emu.holds.wait(call):
            return holds.dropped(environ, start_response)
        with self.lock:
            if conditions:
                refusal = self.conflict(call, target, started) or self.refusal(call, target, conditions)
                if refusal is not None:
                    return self.answer(call, start_response, refusal)
                # Evaluated here, atomically with the write: moto must not
                # judge them again (it refuses every `If-Match: *` delete).
                environ.pop("HTTP_IF_MATCH", None)
                if conditions.get("if-none-match") == "*":
                    environ.pop("HTTP_IF_NONE_MATCH", None)
            seen = {}

            def recording(status, headers, exc_info=None):
                seen["status"] = int(status.split()[0])
                return start_response(status, headers, exc_info)

            body = list(pass_to_moto(call, environ, recording))
            if seen.get("status", 0) < 300:
                self.writes[target] = self.writes.get(target, 0) + 1
                if call.method == "DELETE":
                    self.deletes[target] = self.deletes.get(target, 0) + 1
            return body

    @staticmethod
    def conditions(call):
        found = {h: call.headers[h] for h in ("if-match", "if-none-match") if h in call.headers}
        # A copy's `x-amz-copy-source-if-*` headers are about the source: moto's.
        return found

    def conflict(self, call, target, started):
        deletes, writes = started
        if call.method == "DELETE":
            changed = self.writes.get(target, 0) != writes
        else:
            changed = self.deletes.get(target, 0) != deletes
        return CONFLICT if changed else None

    def refusal(self, call, target, conditions):
        current = current_object(*target)
        if_match = conditions.get("if-match")
        if_none_match = conditions.get("if-none-match")
        if if_match is not None:
            if current is None:
                return NO_SUCH_KEY
            if if_match.strip() != "*" and if_match.strip().strip('"') != current.etag.strip('"'):
                return PRECONDITION_FAILED
        if if_none_match == "*" and call.method != "DELETE" and current is not None:
            return PRECONDITION_FAILED
        return None

    def answer(self, call, start_response, refusal):
        code, message, status = refusal
        line, headers, body = protocol.error("s3", code, message, status)
        with self.emu.lock:
            self.emu.record(call.service, call.operation, call.region, status, None, call.path)
        start_response(line, headers)
        return [body.encode("utf-8")]


def object_of(call):
    """(bucket, key) of a path-style object request, else None."""
    bucket, _, key = call.path.lstrip("/").partition("/")
    return (bucket, key) if bucket and key else None


def current_object(bucket, key):
    """The key's current version, or None (absent, or a delete marker)."""
    from moto.s3.models import s3_backends

    for per_account in list(dict.values(s3_backends)):
        for backend in list(dict.values(per_account)):
            if bucket in backend.buckets:
                return backend.get_object(bucket, key)
    return None
