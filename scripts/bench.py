#!/usr/bin/env python3
"""What Terraform operations cost with this provider, against sei-sandbox.

For N integrations sharing 2 credentials in 1 workspace it runs apply, plan,
plan -parallelism=1, plan -refresh=false and destroy, at zero latency and at
real-world latency (SEI 100 ms, Bitbucket 150 ms by default), and the same
operations on N terraform_data resources holding the same attributes (the
floor: what Terraform itself costs). For each it prints wall time, SEI and
Bitbucket calls, the provider processes' CPU and peak RSS, and the ratios
the README quotes. Timings are measurements, never test assertions.

Run through scripts/bench.sh, which builds the release binaries first.
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE = os.environ.get("SEI_RELEASE_DIR", os.path.join(ROOT, "target", "release"))


def http(method, url, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        text = r.read()
    return json.loads(text) if text else None


def config(n, floor):
    if floor:
        return f"""
resource "terraform_data" "x" {{
  count = {n}
  input = {{
    name         = "bench-${{count.index}}"
    repositories = ["acme/api", "acme/web"]
    usernames    = ["ops@acme.example", "ci@acme.example"]
  }}
}}
"""
    return f"""
terraform {{
  required_providers {{
    sei = {{ source = "sei-oss/sei" }}
  }}
}}
variable "ops" {{
  type      = string
  ephemeral = true
}}
variable "ci" {{
  type      = string
  ephemeral = true
}}
resource "sei_bitbucket_integration" "x" {{
  count        = {n}
  name         = "bench-${{count.index}}"
  repositories = ["acme/api", "acme/web"]
  credential {{
    username    = "ops@acme.example"
    password_wo = var.ops
  }}
  credential {{
    username    = "ci@acme.example"
    password_wo = var.ci
  }}
}}
"""


OPERATIONS = [
    ("apply", ["apply", "-auto-approve"]),
    ("plan", ["plan"]),
    ("plan -parallelism=1", ["plan", "-parallelism=1"]),
    ("plan -refresh=false", ["plan", "-refresh=false"]),
    ("destroy", ["destroy", "-auto-approve"]),
]


class Bench:
    def __init__(self, work, base, env):
        self.work, self.base, self.env = work, base, env
        self.rusage = os.path.join(work, "provider.rusage")

    def counters(self):
        routes = http("GET", f"{self.base}/_sandbox/counters")["routes"]
        sei = sum(v for k, v in routes.items() if " /sei/" in k)
        bb = sum(v for k, v in routes.items() if " /bitbucket/" in k)
        return sei, bb

    def run(self, tfdir, args):
        http("DELETE", f"{self.base}/_sandbox/counters")
        open(self.rusage, "w").close()
        total = os.path.join(self.work, "terraform.rusage")
        cmd = ["/usr/bin/time", "-f", "%U %S", "-o", total, "terraform", *args, "-input=false", "-no-color"]
        start = time.monotonic()
        done = subprocess.run(cmd, cwd=tfdir, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wall = time.monotonic() - start
        if done.returncode != 0:
            sys.exit(f"terraform {' '.join(args)} failed:\n{done.stderr[-4000:]}")
        with open(total) as f:
            u, s = (float(x) for x in f.read().split()[-2:])
        cpu = prss = 0.0
        with open(self.rusage) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3:
                    cpu += float(parts[0]) + float(parts[1])
                    prss = max(prss, float(parts[2]) / 1024)
        sei, bb = self.counters()
        return {"wall": wall, "sei": sei, "bb": bb, "pcpu": cpu, "prss": prss, "cpu": u + s}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("n", nargs="?", type=int, default=300, help="integrations (default 300)")
    p.add_argument("--sei-ms", type=int, default=100)
    p.add_argument("--bitbucket-ms", type=int, default=150)
    a = p.parse_args()

    work = tempfile.mkdtemp(prefix="sei-bench-")
    sandbox = None
    try:
        out = open(os.path.join(work, "sandbox.out"), "w+")
        sandbox = subprocess.Popen(
            [os.path.join(RELEASE, "sei-sandbox"), "--listen", "127.0.0.1:0", "--seed",
             os.path.join(ROOT, "examples", "sandbox", "seed.json")],
            stdout=out, stderr=subprocess.DEVNULL, start_new_session=True)
        base = None
        for _ in range(200):
            out.seek(0)
            line = out.readline()
            if line.startswith("sei-sandbox listening on "):
                base = line.split()[-1]
                break
            time.sleep(0.05)
        if not base:
            sys.exit("sei-sandbox did not start")
        # Wraps the provider so each process's CPU and peak RSS are recorded.
        plugins = os.path.join(work, "plugins")
        os.makedirs(plugins)
        wrapper = os.path.join(plugins, "terraform-provider-sei")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\nexec /usr/bin/time -f '%U %S %M' -a -o \"$BENCH_RUSAGE\" "
                    f"\"{os.path.join(RELEASE, 'terraform-provider-sei')}\" \"$@\"\n")
        os.chmod(wrapper, 0o755)
        rc = os.path.join(work, "cli.tfrc")
        with open(rc, "w") as f:
            f.write('provider_installation {\n  dev_overrides {\n    "sei-oss/sei" = "%s"\n  }\n  direct {}\n}\n' % plugins)
        env = dict(os.environ)
        env.pop("TF_LOG", None)
        env.update({
            "TF_CLI_CONFIG_FILE": rc, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1",
            "SEI_ENDPOINT": f"{base}/sei/api", "SEI_API_KEY": "sandbox-sei-api-key",
            "BITBUCKET_API_URL": f"{base}/bitbucket/2.0", "BITBUCKET_OAUTH_URL": f"{base}/bitbucket/site/oauth2",
            "TF_VAR_ops": "ATATT-sandbox-ops-token", "TF_VAR_ci": "ATATT-sandbox-ci-token",
            "BENCH_RUSAGE": os.path.join(work, "provider.rusage"),
        })
        bench = Bench(work, base, env)
        results = {}
        for floor in (True, False):
            tfdir = os.path.join(work, "floor" if floor else "sei")
            os.makedirs(tfdir)
            with open(os.path.join(tfdir, "main.tf"), "w") as f:
                f.write(config(a.n, floor))
            latencies = [("zero", 0, 0)] if floor else [("zero", 0, 0), ("real", a.sei_ms, a.bitbucket_ms)]
            for label, sei_ms, bb_ms in latencies:
                http("PUT", f"{base}/_sandbox/latency", {"sei_ms": sei_ms, "bitbucket_ms": bb_ms})
                for op, args in OPERATIONS:
                    if op == "destroy":
                        continue
                    results[(floor, label, op)] = bench.run(tfdir, args)
                results[(floor, label, "destroy")] = bench.run(tfdir, ["destroy", "-auto-approve"])
        http("PUT", f"{base}/_sandbox/latency", {})

        print(f"N = {a.n} integrations, 2 shared credentials; latency 'real' = SEI {a.sei_ms} ms, Bitbucket {a.bitbucket_ms} ms")
        print(f"{'latency':8} {'operation':22} {'wall_s':>7} {'floor_s':>8} {'x_floor':>8} {'sei':>5} {'bb':>4} "
              f"{'prov_cpu_s':>10} {'cpu_share':>9} {'prov_rss_mb':>11}")
        for label in ("zero", "real"):
            for op, _ in OPERATIONS:
                r = results[(False, label, op)]
                fl = results[(True, "zero", op)]
                share = r["pcpu"] / r["cpu"] if r["cpu"] else 0.0
                print(f"{label:8} {op:22} {r['wall']:7.2f} {fl['wall']:8.2f} {r['wall'] / fl['wall']:8.2f} "
                      f"{r['sei']:5d} {r['bb']:4d} {r['pcpu']:10.2f} {share:9.1%} {r['prss']:11.1f}")
        z, rl = (lambda op: results[(False, "zero", op)]), (lambda op: results[(False, "real", op)])
        serial = z("plan -parallelism=1")["wall"] / z("plan")["wall"]
        latency = rl("plan")["wall"] / z("plan")["wall"]
        budget = min(a.n, math.ceil(a.n / 1000)) + 3
        rtt = a.sei_ms / 1000
        apply_bound = 1.15 * (z("apply")["wall"] + a.n * rtt / 10)
        print()
        print(f"serial ratio  (plan -parallelism=1 / plan, zero latency): {serial:.2f}   target <= 1.5")
        print(f"latency ratio (plan at real / plan at zero latency):      {latency:.2f}   target <= 1.3")
        print(f"SEI calls, plan of {a.n} unchanged in an account of {a.n}: {z('plan')['sei']}   target <= {budget}")
        print(f"apply at real latency: {rl('apply')['wall']:.2f} s   target <= {apply_bound:.2f} s "
              f"(1.15 x (zero-latency apply + N x {a.sei_ms} ms / 10))")
        worst_share = max(results[(False, l, op)]["pcpu"] / max(results[(False, l, op)]["cpu"], 1e-9)
                          for l in ("zero", "real") for op, _ in OPERATIONS)
        peak = max(results[(False, l, op)]["prss"] for l in ("zero", "real") for op, _ in OPERATIONS)
        print(f"provider CPU share, worst operation: {worst_share:.1%}   target <= 10%")
        print(f"provider peak RSS: {peak:.1f} MB   target <= 20 MB (at N = 1000)")
    finally:
        if sandbox:
            try:
                os.killpg(sandbox.pid, 15)
            except ProcessLookupError:
                pass
            sandbox.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
