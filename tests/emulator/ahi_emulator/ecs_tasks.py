"""ECS tasks the emulator really runs, so the local edge reaches the real
proxy through an ALB whose target follows the service's rollouts.

`POST /_ahi/ecs/runners` {"image": IMAGE, "command": [PATH, ...],
"environment": {NAME: VALUE}} says: a task whose container has IMAGE runs
as a local process of COMMAND. What a task gets, as ECS gives it:

- the container's `environment`;
- its `secrets`, each `valueFrom` resolved from the emulator's Secrets
  Manager when the task starts (`<secret ARN>:<json-key>:<version-stage>:
  <version-id>`, every part after the ARN optional): ECS does not check
  them at RegisterTaskDefinition; a task whose secret cannot be read stops
  with ECS's `ResourceInitializationError: unable to pull secrets or
  registry auth: ...` and never runs;
- the runner's `environment` (what stands in for the task role and the
  VPC: AHI_ENDPOINT, credentials), and PORT, a free loopback port (each
  Fargate task has its own address; here they share one).

A rollout (service create or update) starts a task of the new task
definition; it is COMPLETED only once that task answers its container's
health check path (`/healthcheck`) and the modelled rollout time has
passed. Then the service's target group delivers to the new task, and the
old one drains: it gets SIGTERM after the target group's deregistration
delay (30 s, scaled; at least one real second), finishing what it serves.
Until then the old task keeps serving, as ECS's rolling deployment does
(minimum healthy 100 %). Deleting the service, or `/_ahi/reset`, stops them.
"""

import ctypes
import json
import os
import queue
import signal
import socket
import subprocess
import threading
import time
import urllib.request

HEALTH_PATH = "/healthcheck"
DEREGISTRATION_DELAY = 30.0


def _die_with_emulator():
    # PR_SET_PDEATHSIG: a task never outlives the emulator that started it.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except OSError:
        pass


class Spawner:
    """Starts every task from one thread that lives as long as the
    emulator: the parent-death signal fires when the *thread* that forked
    the child ends, and each request has a thread of its own."""

    def __init__(self):
        self.requests = queue.Queue()
        threading.Thread(target=self._serve, daemon=True, name="ecs-tasks").start()

    def _serve(self):
        while True:
            args, kwargs, answer = self.requests.get()
            try:
                answer.put(subprocess.Popen(*args, preexec_fn=_die_with_emulator, **kwargs))
            except OSError as e:
                answer.put(e)

    def popen(self, *args, **kwargs):
        answer = queue.Queue()
        self.requests.put((args, kwargs, answer))
        result = answer.get()
        if isinstance(result, OSError):
            raise result
        return result


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SecretError(Exception):
    pass


def resolve(value_from, account):
    """The value ECS would inject for one `secrets` entry."""
    from moto.secretsmanager.models import secretsmanager_backends

    parts = value_from.split(":")
    if len(parts) < 7 or parts[2] != "secretsmanager" or parts[5] != "secret":
        raise SecretError(f"unable to retrieve secret from asm: invalid secret ARN {value_from}")
    region = parts[3]
    arn = ":".join(parts[:7])
    json_key, stage, version = (parts[7:10] + ["", "", ""])[:3]
    backend = secretsmanager_backends[parts[4] or account][region]
    try:
        answer = backend.get_secret_value(secret_id=arn, version_id=version or None,
                                          version_stage=stage or (None if version else "AWSCURRENT"))
    except Exception as e:  # moto's SecretsManagerClientError carries AWS's code and message
        code = getattr(e, "error_type", type(e).__name__)
        message = getattr(e, "message", str(e))
        raise SecretError(f"unable to retrieve secret from asm: service call has been retried 1 time(s): "
                          f"failed to fetch secret {arn} from secrets manager: {code}: {message}") from None
    text = answer.get("SecretString") or ""
    if json_key:
        try:
            text = str(json.loads(text)[json_key])
        except (ValueError, KeyError, TypeError):
            raise SecretError(f"unable to retrieve secret from asm: retrieved secret from Secrets Manager "
                              f"did not contain json key {json_key}") from None
    return text


class Task:
    def __init__(self, task_definition, process, url):
        self.task_definition = task_definition
        self.process = process
        self.url = url
        self.stop_at = None

    def healthy(self):
        try:
            with urllib.request.urlopen(self.url + HEALTH_PATH, timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


class Tasks:
    def __init__(self, emulator):
        self.emu = emulator
        self.runners = {}  # image -> {"command": [...], "environment": {...}}
        self.services = {}  # service ARN -> {"current": Task, "next": Task, "failed": reason, "draining": [Task]}
        self.lock = threading.RLock()
        self.spawner = Spawner()

    def control(self, method, path, doc):
        if path == "/_ahi/ecs/runners" and method == "POST":
            image, command = doc.get("image"), doc.get("command")
            env = doc.get("environment") or {}
            if not isinstance(image, str) or not isinstance(command, list) or not command \
                    or not all(isinstance(c, str) for c in command):
                raise ValueError("give image (the container image) and command (a list: the program and its arguments)")
            if not os.path.isfile(command[0]):
                raise ValueError(f"{command[0]} is not a file: build it first")
            if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
                raise ValueError("environment maps names to string values")
            self.runners[image] = {"command": list(command), "environment": dict(env)}
            return {"runners": sorted(self.runners)}
        if path == "/_ahi/ecs/runners" and method == "GET":
            with self.lock:
                return {arn: {"current": s["current"].url if s.get("current") else None,
                              "task_definition": s["current"].task_definition if s.get("current") else None,
                              "failed": s.get("failed")}
                        for arn, s in self.services.items()}
        raise LookupError(path)

    def reset(self):
        with self.lock:
            for state in self.services.values():
                for task in [state.get("current"), state.get("next"), *state.get("draining", [])]:
                    if task is not None:
                        task.stop()
            self.services.clear()
            self.runners.clear()

    def stop_service(self, service):
        with self.lock:
            state = self.services.pop(service.arn, None)
        for task in [(state or {}).get("current"), (state or {}).get("next"), *(state or {}).get("draining", [])]:
            if task is not None:
                task.stop()

    # ---- rollouts -----------------------------------------------------------

    def runner_for(self, definition):
        containers = definition.container_definitions or []
        image = containers[0].get("image") if containers else None
        return self.runners.get(image), (containers[0] if containers else {})

    def rollout(self, service, definition, account):
        """'none' (no runner for its image: the clock alone decides),
        'running' (a task of the service's task definition serves),
        'starting', or ('failed', reason)."""
        runner, container = self.runner_for(definition)
        if runner is None:
            return "none"
        with self.lock:
            state = self.services.setdefault(service.arn, {"draining": []})
            self._reap(state)
            wanted = service.task_definition
            current, pending = state.get("current"), state.get("next")
            if current is not None and current.task_definition == wanted and pending is None:
                return "running"
            if pending is None or pending.task_definition != wanted:
                if pending is not None:
                    pending.stop()
                state["failed"] = None
                try:
                    pending = self._start(runner, container, wanted, account)
                except SecretError as e:
                    state["next"] = None
                    state["failed"] = f"ResourceInitializationError: unable to pull secrets or registry auth: " \
                                      f"execution resource retrieval failed: {e}"
                    return ("failed", state["failed"])
                state["next"] = pending
            if state.get("failed"):
                return ("failed", state["failed"])
            if pending.process.poll() is not None:
                state["failed"] = f"Essential container in task exited (exit code {pending.process.returncode})"
                state["next"] = None
                return ("failed", state["failed"])
            if not pending.healthy():
                return "starting"
            # The new task is healthy: the target group delivers to it, the old one drains.
            for group in service.load_balancers or []:
                arn = group.get("targetGroupArn")
                if arn:
                    self.emu.edge.origins.targets[arn] = pending.url
            if current is not None:
                delay = max(1.0, DEREGISTRATION_DELAY * self.emu.config.time_scale)
                current.stop_at = time.monotonic() + delay
                state["draining"].append(current)
                timer = threading.Timer(delay, self._drained, args=(service.arn,))
                timer.daemon = True
                timer.start()
            state["current"], state["next"] = pending, None
            return "running"

    def failure(self, service):
        with self.lock:
            return (self.services.get(service.arn) or {}).get("failed")

    def _drained(self, arn):
        with self.lock:
            state = self.services.get(arn)
            if state is not None:
                self._reap(state)

    def _reap(self, state):
        now = time.monotonic()
        keep = []
        for task in state["draining"]:
            if task.stop_at is not None and now + 0.05 >= task.stop_at:
                threading.Thread(target=task.stop, daemon=True).start()
            else:
                keep.append(task)
        state["draining"] = keep

    def _start(self, runner, container, task_definition, account):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        for pair in container.get("environment") or []:
            env[pair["name"]] = pair["value"]
        for secret in container.get("secrets") or []:
            env[secret["name"]] = resolve(secret["valueFrom"], account)
        env.update(runner["environment"])
        port = free_port()
        env["PORT"] = str(port)
        process = self.spawner.popen(runner["command"], env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return Task(task_definition, process, f"http://127.0.0.1:{port}")
