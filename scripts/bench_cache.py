"""The shared-cache benchmark (scripts/bench-cache runs it with the
emulator's venv): the edge hit ratio and the bytes the origin serves when
many signed-in viewers read the same study, for `cloudfront.cache =
"shared"` (the default) and `"per_viewer"`.

For each mode, against a fresh emulator: `ahi-edge up` on
profiles/ahi-delivery.toml with a Cognito pool of the emulator, a loopback
server standing in for the proxy behind the ALB (it answers every frame as
the proxy does: immutable for a year), then VIEWERS users, each with a new
access token every modelled hour, each reading the same FRAMES frames once
an hour for HOURS hours, through the local edge and the deployed Lambda@Edge
authorizer. Modelled hours pass as token re-issues: frames are cached for a
year, so no TTL runs out in between. Nothing here reaches AWS."""

import argparse
import concurrent.futures
import http.client
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import boto3

PASSWORD = "Bench-Passw0rd-1"


def control(endpoint, method, path, doc=None):
    data = json.dumps(doc).encode() if doc is not None else None
    request = urllib.request.Request(endpoint + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(request))


class StandInProxy:
    """Answers every frame with `size` bytes, as the proxy caches them."""

    def __init__(self, size):
        self.requests = 0
        self.bytes = 0
        self.lock = threading.Lock()
        proxy = self
        body = bytes(range(256)) * (size // 256) + bytes(size % 256)

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                with proxy.lock:
                    proxy.requests += 1
                    proxy.bytes += len(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Cache-Control", "public, max-age=31536000, immutable")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"


def run_mode(mode, args, edge_bin):
    emulator = subprocess.Popen(["tests/emulator/serve", "--time-scale", "0.01"], stdout=subprocess.PIPE, text=True)
    endpoint = emulator.stdout.readline().strip().removeprefix("endpoint=")
    work = tempfile.mkdtemp(prefix="bench-cache-")
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_REGION="us-east-1", AHI_EDGE_TIME_SCALE="0.01")
    env.pop("AWS_PROFILE", None)
    try:
        client = lambda service: boto3.client(service, region_name="us-east-1", endpoint_url=endpoint,  # noqa: E731
                                              aws_access_key_id="testing", aws_secret_access_key="testing")
        idp = client("cognito-idp")
        pool = idp.create_user_pool(PoolName="viewers")["UserPool"]["Id"]
        app = idp.create_user_pool_client(UserPoolId=pool, ClientName="viewer", ExplicitAuthFlows=[
            "ADMIN_USER_PASSWORD_AUTH"])["UserPoolClient"]["ClientId"]
        users = [f"viewer-{i}" for i in range(args.viewers)]
        for user in users:
            idp.admin_create_user(UserPoolId=pool, Username=user, MessageAction="SUPPRESS")
            idp.admin_set_user_password(UserPoolId=pool, Username=user, Password=PASSWORD, Permanent=True)
        # The proxy image the profile names (the pre-flight of `up` looks it up).
        doc = {"region": "us-east-1", "repository": "ahi-regional-proxy", "tag": "0.1.0", "architecture": "amd64",
               "index": True, "platforms": ["amd64", "arm64"]}
        urllib.request.urlopen(urllib.request.Request(endpoint + "/_ahi/ecr/images", data=json.dumps(doc).encode(),
                                                      method="POST", headers={"Content-Type": "application/json"})).read()
        profile = open("profiles/ahi-delivery.toml").read()
        profile = profile.replace("us-east-1_Ab12Cd34E", pool).replace("4fr9qmc1oba52s6hrfl5hntu2u", app)
        profile = profile.replace('cache = "shared"', f'cache = "{mode}"')
        with open(os.path.join(work, "profile.toml"), "w") as f:
            f.write(profile)
        up = subprocess.run([edge_bin, "--profile", "profile.toml", "--no-progress", "up"], cwd=work, env=env,
                            capture_output=True, text=True)
        if up.returncode != 0:
            sys.exit(f"ahi-edge up ({mode}) failed:\n{up.stdout}\n{up.stderr}")
        dist = client("cloudfront").list_distributions()["DistributionList"]["Items"][0]["DomainName"]
        group = client("elbv2").describe_target_groups()["TargetGroups"][0]["TargetGroupArn"]
        proxy = StandInProxy(args.frame_bytes)
        control(endpoint, "POST", "/_ahi/edge/targets", {"target_group_arn": group, "url": proxy.url})
        control(endpoint, "DELETE", "/_ahi/edge/cache")
        host, port = endpoint.split("//")[1].split(":")
        frames = [f"/datastore/{'d' * 32}/imageSet/{'1' * 32}/getImageFrame?imageFrameId={i:032x}"
                  for i in range(args.frames)]
        failures = []

        def read_study(token):
            connection = http.client.HTTPConnection(host, int(port), timeout=60)
            for path in frames:
                connection.request("GET", path, headers={"Host": dist, "Authorization": f"Bearer {token}"})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failures.append(response.status)
            connection.close()  # (http.client reopens by itself after a server's close)

        started = time.monotonic()
        for hour in range(args.hours):
            tokens = [idp.admin_initiate_auth(UserPoolId=pool, ClientId=app, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                              AuthParameters={"USERNAME": u, "PASSWORD": PASSWORD}
                                              )["AuthenticationResult"]["AccessToken"] for u in users]
            with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool_of_viewers:
                list(pool_of_viewers.map(read_study, tokens))
            print(f"  {mode}: modelled hour {hour + 1} of {args.hours} done", file=sys.stderr)
        elapsed = time.monotonic() - started
        stats = control(endpoint, "GET", "/_ahi/edge/stats")
        if failures:
            sys.exit(f"{len(failures)} requests failed ({mode}): statuses {sorted(set(failures))}")
        return {"mode": mode, "requests": stats["requests"], "hits": stats["hits"], "misses": stats["misses"],
                "origin_requests": proxy.requests, "origin_bytes": proxy.bytes, "seconds": elapsed}
    finally:
        emulator.terminate()
        emulator.wait()


def main():
    parser = argparse.ArgumentParser(prog="scripts/bench-cache")
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--hours", type=int, default=3)
    parser.add_argument("--frame-bytes", type=int, default=1024,
                        help="bytes per frame from the stand-in proxy (the edge cache holds them in memory)")
    parser.add_argument("--concurrency", type=int, default=8, help="viewers reading at once")
    parser.add_argument("--modes", default="shared,per_viewer")
    args = parser.parse_args()
    edge_bin = os.path.abspath("target/debug/ahi-edge")
    results = [run_mode(mode, args, edge_bin) for mode in args.modes.split(",")]
    ideal_hits = args.viewers * args.frames * args.hours - args.frames
    total = args.viewers * args.frames * args.hours
    print(f"{args.viewers} viewers x {args.frames} frames x {args.hours} modelled hours = {total} requests per mode; "
          f"a new token per viewer per hour; {args.frame_bytes} bytes per frame")
    print(f"ideal: one miss per frame, hit ratio {ideal_hits / total:.4f}")
    print(f"{'mode':<11} {'requests':>9} {'hits':>9} {'hit ratio':>9} {'of ideal':>9} {'origin requests':>15} "
          f"{'origin bytes':>13} {'seconds':>8}")
    for r in results:
        ratio = r["hits"] / r["requests"] if r["requests"] else 0.0
        print(f"{r['mode']:<11} {r['requests']:>9} {r['hits']:>9} {ratio:>9.4f} {ratio / (ideal_hits / total):>9.3f} "
              f"{r['origin_requests']:>15} {r['origin_bytes']:>13} {r['seconds']:>8.0f}")
    shared = next((r for r in results if r["mode"] == "shared"), None)
    if shared:
        of_ideal = (shared["hits"] / shared["requests"]) / (ideal_hits / total)
        print(f"target: shared hit ratio >= 0.95 of ideal: {'met' if of_ideal >= 0.95 else 'NOT met'} ({of_ideal:.3f})")


if __name__ == "__main__":
    main()
