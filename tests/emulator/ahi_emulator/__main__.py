"""Starts the emulator: `python -m ahi_emulator [--port N] [--time-scale S]`.

Prints `endpoint=http://127.0.0.1:PORT` as the first line of stdout once the
socket accepts connections, stays in the foreground, and stops on SIGTERM,
SIGINT, or when the process that started it dies."""

import argparse
import os
import signal
import sys
import threading
import time


def die_with_parent():
    # The launcher passes its caller's pid: by the time we run, that caller
    # may already be gone, and getppid() would name our new parent instead.
    # "none" keeps the emulator running after its caller (`scripts/demo --keep`).
    if os.environ.get("AHI_EMULATOR_PARENT") == "none":
        return None
    parent = int(os.environ.get("AHI_EMULATOR_PARENT") or os.getppid())
    # Not prctl(PR_SET_PDEATHSIG): it fires when the *thread* that started
    # us exits, and test harnesses start us from short-lived test threads.
    if os.getppid() != parent:
        sys.exit(0)  # the caller died before we started

    def watch():  # The parent process is gone once we are re-parented.
        while os.getppid() == parent:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True).start()
    return parent


def main(argv=None):
    parser = argparse.ArgumentParser(prog="serve", description="ahi-edge's local AWS emulator")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (loopback only by default)")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument(
        "--time-scale", type=float, default=0.01,
        help="multiplies every modelled delay; 1.0 = typical real AWS durations (default 0.01)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every HTTP request to stderr")
    args = parser.parse_args(argv)
    if not args.verbose:
        import logging

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
    if args.time_scale < 0:
        parser.error("--time-scale must be >= 0")
    # Before the slow imports, so a parent that dies meanwhile is noticed.
    parent = die_with_parent()


    # Real accounts have AWS managed policies; load the ones the stack attaches
    # (all ~1,200 would cost a second on every reset).
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    from . import iam_policies

    iam_policies.keep_only(iam_policies.ATTACHED_BY_AHI_EDGE)
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from . import cognito, ecr, ecs_tasks, fidelity, lambda_states, oidc, strict, timed
    from .app import App
    from .cloudfront import CloudFront
    from .edge import Replicas
    from .healthimaging import HealthImaging
    from .holds import Holds
    from .local_edge import LocalEdge
    from .node import RUNTIME
    from .s3_conditional import S3Conditional
    from .state import Emulator

    emulator = Emulator(args.time_scale)
    emulator.cloudfront = CloudFront(emulator)
    emulator.replicas = Replicas(emulator)
    emulator.edge = LocalEdge(emulator)
    emulator.healthimaging = HealthImaging(emulator)
    emulator.ecr = ecr.Registry(emulator)
    emulator.oidc = oidc.Issuers(emulator)
    emulator.holds = Holds(emulator)
    emulator.s3_conditional = S3Conditional(emulator)
    emulator.tasks = ecs_tasks.Tasks(emulator)
    timed.install(emulator)
    fidelity.install()
    lambda_states.install(emulator)
    strict.install(emulator)
    ecr.install(emulator)
    cognito.install()

    app = App(DomainDispatcherApplication(create_backend_app), emulator)
    server = make_server(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)
    os.environ["MOTO_PORT"] = str(server.port)
    RUNTIME.start(f"http://127.0.0.1:{server.port}")

    def stop(*_):
        # Once: a second signal (e.g. the parent-death one) must not
        # interrupt the shutdown already under way.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if parent is not None and os.getppid() != parent:
        stop()
    print(f"endpoint=http://{args.host}:{server.port}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        RUNTIME.stop()
        emulator.tasks.reset()


if __name__ == "__main__":
    main()
