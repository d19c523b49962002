#!/usr/bin/env python3
"""Kiln on a big repository, measured (`make bench-scale`; prints figures, asserts nothing).

Builds a corpus of real source nobody on the team wrote — crates from the local cargo
registry, then Python's standard library — up to SIZE_MB (hard links, no copies),
imports it through the real upload path (`kiln import`) into one project of a fresh
`kiln serve` on the default embedded engine, and reports:
  - resident memory (VmRSS, sampled every 0.5 s): before, peak, and steady (after
    indexing, and after a restart on the same data);
  - the data directory's size against the source's;
  - indexing throughput (files/s and MB/s) in the first and the last tenth of the files;
  - search latency p50/p99 over a fixed set of identifier and word queries;
  - how long a restart on that data takes to be ready.
  - what each table and index costs in the engine (`kiln storage`).
With KILN_SCALE_ENGINES=surrealkv,rocksdb the same corpus is imported once per engine
and the figures are printed side by side.
Usage: scale.py <kiln binary> [SIZE_MB, default 500]; KILN_SCALE_KEEP=1 keeps the data
directories (printed) for a closer look; KILN_DB_MEMORY_MB and KILN_DB_ENGINE_SETTINGS
reach the server as they are.
"""
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

KILN = os.path.abspath(sys.argv[1])
SIZE_MB = float(sys.argv[2]) if len(sys.argv) > 2 else 500.0
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCE_EXTENSIONS = {".rs", ".py", ".go", ".js", ".ts", ".md", ".toml", ".c", ".h"}
QUERIES = ["serialize", "from_str", "HashMap", "parse config", "read_to_string",
           "unwrap_or_default", "deserialize_any", "Iterator", "lock", "error handling"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def corpus(target, limit_bytes):
    """Hard-links whole packages into `target` until `limit_bytes` of source files."""
    roots = []
    registry = os.path.expanduser("~/.cargo/registry/src")
    for index in sorted(os.listdir(registry)) if os.path.isdir(registry) else []:
        base = os.path.join(registry, index)
        roots += [os.path.join(base, name) for name in sorted(os.listdir(base))]
    roots += [p for p in ["/usr/lib/python3.11", "/usr/lib/go/src"] if os.path.isdir(p)]
    total = files = 0
    for package in roots:
        if total >= limit_bytes:
            break
        for directory, _, names in os.walk(package):
            for name in names:
                path = os.path.join(directory, name)
                if os.path.splitext(name)[1] not in SOURCE_EXTENSIONS or os.path.islink(path):
                    continue
                size = os.path.getsize(path)
                if size == 0 or size > 1_000_000:
                    continue
                dest = os.path.join(target, os.path.relpath(path, "/"))
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                try:
                    os.link(path, dest)
                except OSError:
                    shutil.copyfile(path, dest)
                total += size
                files += 1
    return total, files


def rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def anonymous_mb(pid):
    """Anonymous (heap) memory: what file-backed pages, which the kernel can drop, are not."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Anonymous:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def request(addr, method, path, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://{addr}{path}", data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=120) as reply:
        return json.loads(reply.read() or b"null")


def database_url(engine, data):
    return f"{engine}://{data}/db"


class Server:
    def __init__(self, engine, data, addr):
        self.data, self.addr = data, addr
        env = dict(os.environ,
                   DATABASE_URL=database_url(engine, data), KILN_CONFIG=f"{data}/kiln.toml",
                   LEPTOS_SITE_ADDR=addr, KILN_PLUGIN_DIR=f"{ROOT}/plugins/dist",
                   # The import outlasts an access token's default 15 minutes.
                   KILN_ACCESS_TOKEN_TTL_SECS="86400",
                   KILN_PLUGIN_CACHE_DIR=f"{data}/cache", RUST_LOG="warn",
                   KILN_JWT_KEYS="k1:" + "".join(random.choice("abcdef0123456789") for _ in range(48)))
        self.log = open(f"{data}/kiln.log", "a")
        started = time.monotonic()
        self.process = subprocess.Popen([KILN, "serve"], env=env, stdout=self.log, stderr=self.log)
        while True:
            try:
                request(addr, "GET", "/health/ready")
                break
            except OSError:
                if self.process.poll() is not None:
                    sys.exit(f"kiln serve exited; see {data}/kiln.log")
                time.sleep(0.05)
        self.ready_after = time.monotonic() - started
        self.peak = 0.0
        self.sampling = True
        threading.Thread(target=self.sample, daemon=True).start()

    def sample(self):
        while self.sampling:
            self.peak = max(self.peak, rss_mb(self.process.pid))
            time.sleep(0.5)

    def rss(self):
        return rss_mb(self.process.pid)

    def stop(self):
        self.sampling = False
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)


def du_mb(path):
    total = 0
    for directory, _, names in os.walk(path):
        for name in names:
            try:
                total += os.lstat(os.path.join(directory, name)).st_blocks * 512
            except OSError:
                pass
    return total / 1e6


def percentile(values, fraction):
    values = sorted(values)
    return values[min(len(values) - 1, int(fraction * len(values)))]


def run(engine, work, source, source_bytes, source_files):
    """Imports the corpus on a fresh data directory of `engine`; returns its figures."""
    data = f"{work}/data-{engine}"
    os.makedirs(data)
    with open(f"{data}/kiln.toml", "w") as config:
        config.write("[rate_limit]\nip_per_minute = 1000000\nuser_per_minute = 1000000\n"
                     "auth_per_minute = 1000000\n")
    addr = f"127.0.0.1:{free_port()}"
    server = Server(engine, data, addr)
    idle_rss = server.rss()
    login = request(addr, "POST", "/api/auth/register",
                    body={"email": "scale@example.org", "password": "a long scale passphrase"})
    token = login["access_token"]
    project = request(addr, "POST", "/api/projects", token, {"name": "scale"})["id"]

    # Progress: (seconds, files indexed, queued, resident MB) while the import and the
    # indexer run.
    progress, done = [], threading.Event()
    started = time.monotonic()

    def watch():
        while not done.is_set():
            status = request(addr, "GET", f"/api/projects/{project}/index-status", token)
            indexed = status["indexed"] + status["failed"]
            progress.append((time.monotonic() - started, indexed, status["queued"], server.rss()))
            time.sleep(1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    imported = subprocess.run([KILN, "import", "--url", f"http://{addr}", "--token", token,
                               "--project", project, source], capture_output=True, text=True)
    upload_seconds = time.monotonic() - started
    print(imported.stdout.strip().splitlines()[0] if imported.stdout else imported.stderr[-500:])
    while True:
        status = request(addr, "GET", f"/api/projects/{project}/index-status", token)
        if status["queued"] == 0:
            break
        time.sleep(1)
    done.set()
    watcher.join()
    total_seconds = time.monotonic() - started
    total_files = status["indexed"] + status["failed"]
    steady_rss = server.rss()
    mean_file_mb = source_bytes / 1e6 / max(1, source_files)

    def tenth_rate(low, high):
        points = [(t, n) for t, n, _, _ in progress if low <= n <= high]
        if len(points) < 2 or points[-1][0] == points[0][0]:
            return float("nan")
        (t0, n0), (t1, n1) = points[0], points[-1]
        return (n1 - n0) / (t1 - t0)

    first = tenth_rate(0, total_files // 10)
    last = tenth_rate(total_files - total_files // 10, total_files)
    # Resident memory when a quarter, half, three quarters and all of the files were in.
    by_quarter = []
    for quarter in (1, 2, 3, 4):
        reached = [rss for _, n, _, rss in progress if n >= total_files * quarter // 4]
        by_quarter.append(reached[0] if reached else float("nan"))

    latencies = {}
    for query in QUERIES:
        times = []
        for _ in range(20):
            q = urllib.request.quote(query)
            began = time.monotonic()
            request(addr, "GET", f"/api/projects/{project}/search?q={q}", token)
            times.append((time.monotonic() - began) * 1000)
        latencies[query] = times
    every = [t for times in latencies.values() for t in times]
    server.stop()
    peak_rss = server.peak
    data_mb = du_mb(f"{data}/db")

    restarted = Server(engine, data, addr)
    time.sleep(5)
    restart_rss = restarted.rss()
    anonymous = anonymous_mb(restarted.process.pid)
    restarted.stop()
    storage = subprocess.run([KILN, "storage"], capture_output=True, text=True,
                             env=dict(os.environ, DATABASE_URL=database_url(engine, data)))

    figures = {
        "indexing MB/s end to end": source_bytes / 1e6 / total_seconds,
        "files/s first tenth": first,
        "files/s last tenth": last,
        "last/first tenth": last / first,
        "memory idle MB": idle_rss,
        "memory peak MB": peak_rss,
        "memory after indexing MB": steady_rss,
        "memory after restart MB": restart_rss,
        "anonymous after restart MB": anonymous,
        "data directory MB": data_mb,
        "data / source": data_mb / (source_bytes / 1e6),
        "search p50 ms": statistics.median(every),
        "search p99 ms": percentile(every, 0.99),
        "restart to ready s": restarted.ready_after,
    }
    print(f"[{engine}] indexed: {total_files} files ({status['failed']} failed) in "
          f"{total_seconds:.0f} s (upload {upload_seconds:.0f} s); "
          f"{figures['indexing MB/s end to end']:.2f} MB/s end to end")
    print(f"[{engine}] throughput first tenth: {first:.1f} files/s ({first * mean_file_mb:.2f} MB/s); "
          f"last tenth: {last:.1f} files/s ({last * mean_file_mb:.2f} MB/s); "
          f"ratio {last / first:.2f}")
    print(f"[{engine}] memory (VmRSS): idle {idle_rss:.0f} MB, at 1/4 2/4 3/4 4/4 of the files "
          + " ".join(f"{mb:.0f}" for mb in by_quarter)
          + f" MB, peak {peak_rss:.0f} MB, after indexing {steady_rss:.0f} MB, "
          f"after a restart {restart_rss:.0f} MB ({anonymous:.0f} MB of it anonymous)")
    print(f"[{engine}] data directory: {data_mb:.0f} MB for {source_bytes / 1e6:.1f} MB of source "
          f"({figures['data / source']:.1f}x)")
    print(f"[{engine}] search ({len(every)} queries): p50 {figures['search p50 ms']:.1f} ms, "
          f"p99 {figures['search p99 ms']:.1f} ms")
    print(f"[{engine}] restart to ready: {restarted.ready_after:.2f} s")
    print(f"[{engine}] what each kind of record costs (kiln storage):")
    print(storage.stdout.rstrip() or storage.stderr[-500:])
    return figures


def main():
    work = tempfile.mkdtemp(prefix="kiln-scale-")
    source = f"{work}/source"
    source_bytes, source_files = corpus(source, SIZE_MB * 1e6)
    print(f"corpus: {source_files} files, {source_bytes / 1e6:.1f} MB of source")
    engines = os.environ.get("KILN_SCALE_ENGINES", "rocksdb").split(",")
    results = {engine: run(engine, work, source, source_bytes, source_files)
               for engine in engines}
    if len(results) > 1:
        print("\n" + f"{'':28}" + "".join(f"{engine:>12}" for engine in engines))
        for figure in results[engines[0]]:
            print(f"{figure:28}" + "".join(f"{results[e][figure]:>12.2f}" for e in engines))
    if os.environ.get("KILN_SCALE_KEEP"):
        print(f"kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
