"""Runs edge code under node: CloudFront Functions and Lambda@Edge handlers,
in one long-lived node process (edge_runtime.js) started on first use, so a
request costs a message, not a process start."""

import hashlib
import io
import json
import os
import shutil
import subprocess
import tempfile
import threading
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
TIMEOUT = 10.0  # seconds for one invocation (Lambda@Edge viewer events allow 5)


class EdgeCodeError(Exception):
    """The code threw, timed out or returned nothing usable."""


class Runtime:
    def __init__(self):
        self.lock = threading.Lock()
        self.proc = None
        self.next_id = 1
        self.waiting = {}  # id -> [event, answer]
        self.endpoint = None
        self.unpacked = {}  # sha256 of a zip -> directory
        self.workdir = tempfile.mkdtemp(prefix="ahi-edge-code-")

    def start(self, endpoint):
        self.endpoint = endpoint

    def _process(self):
        if self.proc is None or self.proc.poll() is not None:
            node = shutil.which("node")
            if node is None:
                raise EdgeCodeError("node is not on PATH: the local edge runs edge functions under node")
            self.proc = subprocess.Popen(
                [node, os.path.join(HERE, "edge_runtime.js"), self.endpoint or "http://127.0.0.1:9"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1,
            )
            threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()
        return self.proc

    def _read(self, proc):
        for line in proc.stdout:
            try:
                answer = json.loads(line)
            except ValueError:
                continue
            with self.lock:
                slot = self.waiting.pop(answer.get("id"), None)
            if slot is not None:
                slot[1] = answer
                slot[0].set()
        with self.lock:  # the process died: fail whoever still waits
            for slot in self.waiting.values():
                slot[1] = {"ok": False, "error": "the edge runtime (node) exited"}
                slot[0].set()
            self.waiting.clear()

    def invoke(self, message):
        with self.lock:
            proc = self._process()
            message = dict(message, id=self.next_id)
            self.next_id += 1
            slot = [threading.Event(), None]
            self.waiting[message["id"]] = slot
            proc.stdin.write(json.dumps(message) + "\n")
            proc.stdin.flush()
        if not slot[0].wait(TIMEOUT):
            with self.lock:
                self.waiting.pop(message["id"], None)
            raise EdgeCodeError(f"the function did not answer within {TIMEOUT:.0f} s")
        answer = slot[1]
        if not answer.get("ok"):
            raise EdgeCodeError(answer.get("error") or "the function failed")
        return answer["result"], answer.get("logs", [])

    def cloudfront_function(self, code, event):
        return self.invoke({"kind": "cff", "code": code, "event": event})

    def lambda_edge(self, zip_bytes, handler, event, name="edge"):
        digest = hashlib.sha256(zip_bytes).hexdigest()
        with self.lock:
            directory = self.unpacked.get(digest)
            if directory is None:
                directory = os.path.join(self.workdir, digest[:16])
                with zipfile.ZipFile(io.BytesIO(zip_bytes)) as z:
                    z.extractall(directory)
                self.unpacked[digest] = directory
        return self.invoke({"kind": "lambda", "dir": directory, "handler": handler, "event": event, "functionName": name})

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)


RUNTIME = Runtime()
