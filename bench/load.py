"""Load benchmark of the real app: `python app.py` on a free loopback port, hammered by
HTTP clients, its memory watched from outside.

    python bench/load.py                                  # the full run (about 7 minutes)
    python bench/load.py --duration 10 --warmup 5 --clients 5 --model-duration 20 --burst 6
    python bench/load.py --skip-model                     # extractive and search only

Phases, one after the other, against one server process (after `--warmup` seconds of the
phase 1 load, not measured):
  1. `--clients` clients (default 20) for `--duration` seconds (default 60), each sending
     POST /api/ask (extractive generator) or GET /api/search, half and half;
  2. `--model-clients` clients (default 4) for `--model-duration` seconds (default 60, at
     most `--model-requests` requests) sending POST /api/ask with the transformers generator
     (SmolLM2), after one ask that loads the model;
  3. a burst of `--burst` model asks at once (default 12, over the server's 4 model slots):
     the extra ones must get 503 with Retry-After at once, and the server's memory must not
     grow with the queue.
Reports requests, errors (any non-2xx that is not a deliberate 503, and any transport
failure), deliberate 503s, latency p50/p95/p99, throughput, and the server's RSS at the
start and end of each phase (sampled every 0.5 s for the peak). Writes
bench/results/load.md and load.json (or --out). Loopback only; every phase ends by itself
(a deadline, a request bound and a per-request timeout).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent

from eval.metrics import percentile

SAMPLE = ROOT / "data" / "cables"
MODEL_SLOTS = 4  # web/api.py MODEL_SLOTS: model asks running or waiting
QUESTIONS = [
    "How did Zhejiang's new policy change hukou rules for migrant workers?",
    "What do labor NGOs do for migrant workers in Guangxi?",
    "What did Chinese officials say about Tibet?",
    "What did the embassy report about North Korean refugees in China?",
    "How did China prepare security for the Beijing Olympics?",
    "What did the Deputy Secretary discuss with Chinese officials?",
    "What happened to migrant workers after factories closed in the economic downturn?",
    "Which cable reports on human rights lawyers?",
]
SEARCHES = ["hukou", "migrant workers", "Tibet", "North Korean refugees", "Olympics security",
            "Zhejiang residency permit", "labor NGO", "Taiwan arms sales", "Dalai Lama",
            "financial crisis exports"]
REQUEST_TIMEOUT = 600.0  # a model ask waits behind up to three others on two busy cores


@dataclass
class Result:
    kind: str  # ask, search, model-ask
    status: int  # 0 for a transport failure (refused, reset, timed out)
    seconds: float
    retry_after: str | None = None


@dataclass
class Phase:
    name: str
    clients: int
    seconds: float = 0.0
    results: list[Result] = field(default_factory=list)
    rss_start: int = 0
    rss_end: int = 0
    rss_peak: int = 0

    def summary(self) -> dict:
        ok = [r for r in self.results if 200 <= r.status < 300]
        deliberate = [r for r in self.results if is_deliberate_503(r)]
        errors = [r for r in self.results if not 200 <= r.status < 300
                  and not is_deliberate_503(r)]
        by_kind = {kind: len([r for r in self.results if r.kind == kind])
                   for kind in sorted({r.kind for r in self.results})}
        return {
            "phase": self.name, "clients": self.clients, "seconds": round(self.seconds, 1),
            "requests": len(self.results), "by_kind": by_kind, "ok": len(ok),
            "errors": len(errors),
            "error_statuses": sorted({r.status for r in errors}),
            "deliberate_503": len(deliberate),
            "latency_ok_s": percentiles([r.seconds for r in ok]),
            "latency_503_s": percentiles([r.seconds for r in deliberate]),
            "throughput_rps": round(len(ok) / self.seconds, 2) if self.seconds else 0.0,
            "rss_start_mb": mb(self.rss_start), "rss_end_mb": mb(self.rss_end),
            "rss_peak_mb": mb(self.rss_peak),
            "rss_growth_pct": round(100 * (self.rss_end - self.rss_start) / self.rss_start, 1)
            if self.rss_start else None,
        }


def is_deliberate_503(r: Result) -> bool:
    """The model queue saying 'busy, come back': 503 with Retry-After, on a model ask."""
    return r.status == 503 and r.kind == "model-ask" and bool(r.retry_after)


def percentiles(seconds: list[float]) -> dict:
    """p50/p95/p99 and max, in seconds.

    >>> percentiles([1.0, 2.0, 3.0, 4.0])["p50"]
    2.5
    """
    if not seconds:
        return {}
    return {f"p{p}": round(percentile(seconds, p), 3) for p in (50, 95, 99)} | {"max": round(max(seconds), 3)}


def mb(n: int) -> float:
    return round(n / 2**20, 1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss(pid: int) -> int:
    """Resident memory of the server and any children it started."""
    proc = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)])


class RssWatch:
    """Samples a process's RSS in a thread; `peak` is the highest seen since `reset`."""

    def __init__(self, pid: int, every_s: float = 0.5):
        self.pid, self.every_s, self.peak = pid, every_s, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.peak = max(self.peak, rss(self.pid))

    def reset(self) -> int:
        self.peak = now = rss(self.pid)
        return now

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def ensure_index(index_dir: Path) -> None:
    """Build the sample index with the project's own CLI when the folder holds none."""
    if (index_dir / "CURRENT").exists():
        return
    print(f"building the sample index in {index_dir}", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "embeddings", "build", str(SAMPLE), "--index",
                    str(index_dir)], cwd=ROOT, check=True)


def start_app(index_dir: Path, port: int, log_path: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PILCROW_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "app.py", "--host", "127.0.0.1", "--port",
                                 str(port), "--index", str(index_dir), "--generator",
                                 "extractive"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                env=env)
    url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 300
    while True:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"app.py did not start:\n{log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/api/health", timeout=5).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.5)


def send(client: httpx.Client, kind: str, rng: random.Random) -> Result:
    if kind == "search":
        request = ("GET", "/api/search", {"params": {"q": rng.choice(SEARCHES), "k": 8}})
    else:
        body = {"question": rng.choice(QUESTIONS)}
        if kind == "model-ask":
            body["generator"] = "transformers"
        request = ("POST", "/api/ask", {"json": body})
    method, path, options = request
    start = time.perf_counter()
    try:
        r = client.request(method, path, **options)
    except httpx.HTTPError:
        return Result(kind, 0, time.perf_counter() - start)
    return Result(kind, r.status_code, time.perf_counter() - start, r.headers.get("retry-after"))


def run_phase(url: str, watch: RssWatch, phase: Phase, kinds: list[str], duration_s: float,
              max_requests: int | None = None) -> Phase:
    """`phase.clients` clients send requests of `kinds` until the deadline (or the bound on
    requests); requests in flight when it passes finish and count."""
    deadline = time.monotonic() + duration_s
    budget = threading.Semaphore(max_requests) if max_requests else None
    lock = threading.Lock()

    def client(i: int) -> None:
        rng = random.Random(i)
        with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT) as http:
            while time.monotonic() < deadline:
                if budget and not budget.acquire(blocking=False):
                    return
                result = send(http, rng.choice(kinds), rng)
                with lock:
                    phase.results.append(result)

    phase.rss_start = watch.reset()
    start = time.perf_counter()
    with ThreadPoolExecutor(phase.clients) as pool:
        list(pool.map(client, range(phase.clients)))
    phase.seconds = time.perf_counter() - start
    phase.rss_end, phase.rss_peak = rss(watch.pid), watch.peak
    return phase


def burst(url: str, watch: RssWatch, size: int) -> Phase:
    """`size` model asks released at the same instant."""
    phase = Phase("burst of model asks", size)
    gate = threading.Barrier(size)

    def one(i: int) -> Result:
        with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT) as http:
            gate.wait()
            return send(http, "model-ask", random.Random(i))

    phase.rss_start = watch.reset()
    start = time.perf_counter()
    with ThreadPoolExecutor(size) as pool:
        phase.results = list(pool.map(one, range(size)))
    phase.seconds = time.perf_counter() - start
    phase.rss_end, phase.rss_peak = rss(watch.pid), watch.peak
    return phase


def first_model_ask(url: str) -> Result:
    """The ask that loads the model into the server."""
    with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT) as http:
        return send(http, "model-ask", random.Random(0))


def report_lines(info: dict, phases: list[dict], burst_checks: dict | None) -> list[str]:
    command = " ".join(["python bench/load.py", *info["argv"]])
    lines = [
        "# Load benchmark", "",
        f"`{command}` on {info['machine']}, {info['cpus']} cores, "
        f"{info['memory_gb']} GB; load average {info['load_start']:.1f} at the start and "
        f"{info['load_end']:.1f} at the end (other work shared the machine). One `python "
        f"app.py` process on 127.0.0.1 over the sample index ({info['cables']} cables); "
        f"server RSS {info['rss_ready_mb']} MB once it answered, before any question.", "",
        "| phase | clients | s | requests | ok | errors | deliberate 503 | p50 s | p95 s | "
        "p99 s | ok/s | RSS start → end (peak) MB | RSS growth |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for p in phases:
        lat = p["latency_ok_s"] or {"p50": "-", "p95": "-", "p99": "-"}
        lines.append(
            f"| {p['phase']} | {p['clients']} | {p['seconds']} | {p['requests']} | {p['ok']} | "
            f"{p['errors']} | {p['deliberate_503']} | {lat['p50']} | {lat['p95']} | "
            f"{lat['p99']} | {p['throughput_rps']} | {p['rss_start_mb']} → {p['rss_end_mb']} "
            f"({p['rss_peak_mb']}) | {p['rss_growth_pct']}% |")
    w = info["warmup"]
    lines += ["", f"Warm-up before phase 1 (not in the table): the same {w['clients']} clients "
              f"for {w['seconds']} s, {w['requests']} requests, {w['errors']} errors; server "
              f"RSS {w['rss_start_mb']} → {w['rss_end_mb']} MB."]
    lines += ["", "Requests per kind: " + "; ".join(
        f"{p['phase']}: " + ", ".join(f"{k} {n}" for k, n in p["by_kind"].items())
        for p in phases) + "."]
    if info.get("model_load_s") is not None:
        lines.append(f"Loading the model (the first transformers ask, not in the table) took "
                     f"{info['model_load_s']} s and moved RSS from {info['rss_before_model_mb']}"
                     f" to {info['rss_after_model_mb']} MB.")
    if burst_checks:
        b = burst_checks
        lines += ["", f"Burst: {b['sent']} model asks at once against {MODEL_SLOTS} model "
                  f"slots: {b['accepted']} answered, {b['refused_503']} refused with 503 "
                  f"(Retry-After on {b['with_retry_after']} of them) in p50 "
                  f"{b['refused_p50_s']} s, other statuses {b['other_statuses'] or 'none'}; "
                  f"RSS {b['rss_start_mb']} → {b['rss_end_mb']} MB (peak "
                  f"{b['rss_peak_mb']})."]
    verdict = info["verdict"]
    lines += ["", f"Goal (0 errors, RSS growth under 10% in each phase after warm-up): "
              f"{'met' if verdict['met'] else 'NOT met'}: {verdict['why']}.", "",
              "Errors count any non-2xx answer that is not a model-queue 503 with Retry-After, "
              "and any transport failure. Latency is of the answered (2xx) requests, in "
              "seconds, client side. RSS is the server process's resident memory (psutil), "
              "sampled every 0.5 s for the peak."]
    return lines


def verdict(phases: list[dict], burst_checks: dict | None) -> dict:
    problems = [f"{p['phase']}: {p['errors']} errors {p['error_statuses']}"
                for p in phases if p["errors"]]
    problems += [f"{p['phase']}: RSS grew {p['rss_growth_pct']}%" for p in phases
                 if p["rss_growth_pct"] is not None and p["rss_growth_pct"] >= 10]
    if burst_checks and burst_checks["refused_503"] != burst_checks["with_retry_after"]:
        problems.append("a burst 503 came without Retry-After")
    if burst_checks and burst_checks["sent"] > MODEL_SLOTS and not burst_checks["refused_503"]:
        problems.append("the burst over the model slots got no 503")
    return {"met": not problems, "why": "; ".join(problems) or "0 errors, RSS flat"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/load.py", description=__doc__.split("\n\n")[0],
        epilog=__doc__[__doc__.index("    python"):], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60, help="seconds of phase 1 (60)")
    parser.add_argument("--clients", type=int, default=20, help="clients in phase 1 (20)")
    parser.add_argument("--warmup", type=float, default=15,
                        help="seconds of the same load before phase 1, not measured (15)")
    parser.add_argument("--model-clients", type=int, default=4, help="clients in phase 2 (4)")
    parser.add_argument("--model-duration", type=float, default=60,
                        help="seconds of phase 2 (60)")
    parser.add_argument("--model-requests", type=int, default=40,
                        help="at most this many requests in phase 2 (40)")
    parser.add_argument("--burst", type=int, default=12,
                        help="model asks sent at once in phase 3 (12)")
    parser.add_argument("--skip-model", action="store_true",
                        help="phase 1 only (no transformers generator here)")
    parser.add_argument("--index", default=str(ROOT / "var" / "load-index"),
                        help="index folder; the sample index is built there if missing "
                             "(default var/load-index)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "load"),
                        help="writes OUT.md and OUT.json (default bench/results/load)")
    args = parser.parse_args(argv)

    index_dir = Path(args.index)
    ensure_index(index_dir)
    info = {"argv": (argv if argv is not None else sys.argv[1:]),
            "machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30),
            "load_start": os.getloadavg()[0]}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    phases: list[Phase] = []
    burst_checks = None
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "app.log"
        proc = start_app(index_dir, port, log_path)
        watch = RssWatch(proc.pid)
        try:
            info["rss_ready_mb"] = mb(rss(proc.pid))
            info["cables"] = httpx.get(f"{url}/api/health").json()["manifest"]["counts"]["cables"]
            # The same load, unmeasured, first: the encoder loads on the first question and
            # each worker thread's allocator arena fills on its first requests.
            print(f"warm-up: {args.clients} clients, {args.warmup:.0f} s", file=sys.stderr)
            info["warmup"] = run_phase(url, watch, Phase("warm-up", args.clients),
                                       ["ask", "search"], args.warmup).summary()
            print(f"phase 1: {args.clients} clients, {args.duration:.0f} s, ask + search",
                  file=sys.stderr)
            phases.append(run_phase(url, watch, Phase("ask (extractive) + search",
                                                      args.clients), ["ask", "search"],
                                    args.duration))
            if not args.skip_model:
                print("loading the model (one transformers ask)", file=sys.stderr)
                info["rss_before_model_mb"] = mb(rss(proc.pid))
                start = time.perf_counter()
                first = first_model_ask(url)
                if first.status != 200:
                    raise SystemExit(f"the model ask failed ({first.status}):\n"
                                     f"{log_path.read_text()[-3000:]}")
                info["model_load_s"] = round(time.perf_counter() - start, 1)
                info["rss_after_model_mb"] = mb(rss(proc.pid))
                print(f"phase 2: {args.model_clients} clients, {args.model_duration:.0f} s, "
                      "model asks", file=sys.stderr)
                phases.append(run_phase(url, watch, Phase("ask (transformers)",
                                                          args.model_clients), ["model-ask"],
                                        args.model_duration, args.model_requests))
                print(f"phase 3: a burst of {args.burst} model asks", file=sys.stderr)
                b = burst(url, watch, args.burst)
                phases.append(b)
                refused = [r for r in b.results if r.status == 503]
                burst_checks = {
                    "sent": len(b.results),
                    "accepted": len([r for r in b.results if r.status == 200]),
                    "refused_503": len(refused),
                    "with_retry_after": len([r for r in refused if r.retry_after]),
                    "refused_p50_s": percentiles([r.seconds for r in refused]).get("p50"),
                    "other_statuses": sorted({r.status for r in b.results} - {200, 503}),
                    "rss_start_mb": mb(b.rss_start), "rss_end_mb": mb(b.rss_end),
                    "rss_peak_mb": mb(b.rss_peak)}
            assert proc.poll() is None, f"the server died:\n{log_path.read_text()[-3000:]}"
        finally:
            watch.stop()
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    info["load_end"] = os.getloadavg()[0]
    summaries = [p.summary() for p in phases]
    info["verdict"] = verdict(summaries, burst_checks)
    lines = report_lines(info, summaries, burst_checks)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    out.with_suffix(".json").write_text(json.dumps(
        {"info": info, "phases": summaries, "burst": burst_checks,
         "requests": {p.name: [asdict(r) for r in p.results] for p in phases}}, indent=1) + "\n")
    print("\n".join(lines))
    return 0 if info["verdict"]["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
