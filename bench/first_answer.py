"""Time to the first answer after start-up: `python app.py` as `make run` starts it, then one
question over HTTP as soon as /api/health answers.

Reports the seconds from process start to a healthy server and to the first answer, the
local model's state when the answer came (it loads in the background), and the load
average. The index must exist (`make run` builds it once; that build is not counted).
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "How did the new Zhejiang policy change hukou rules for migrant workers?"
EPILOG = """examples:
  python bench/first_answer.py
  python bench/first_answer.py --generator transformers --out bench/results/first_answer.md
"""


def first_answer(generator: str | None, index: str, timeout: float = 300) -> dict:
    """Start app.py on a free port, ask one question as soon as it is up, stop it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "app.py", "--port", str(port), "--index", index]
    started = time.perf_counter()
    server = subprocess.Popen(command + (["--generator", generator] if generator else []), cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if server.poll() is not None:
                raise SystemExit(f"app.py exited with {server.returncode}")
            if time.perf_counter() - started > timeout:
                raise SystemExit(f"app.py not healthy after {timeout:.0f} s")
            try:
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        healthy = time.perf_counter() - started
        body = {"question": QUESTION} | ({"generator": generator} if generator else {})
        answer = httpx.post(f"{url}/api/ask", json=body, timeout=timeout).json()
        answered = time.perf_counter() - started
        health = httpx.get(f"{url}/api/health", timeout=10).json()
    finally:
        server.terminate()
        server.wait(30)
    return {"generator": answer.get("generator"), "healthy_s": round(healthy, 2),
            "first_answer_s": round(answered, 2), "answer_s": round(answered - healthy, 2),
            "fallback": answer.get("fallback"), "model_states": health.get("model_states"),
            "load_average": os.getloadavg()[0], "text": answer.get("text", "")[:200]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python bench/first_answer.py", description=__doc__.splitlines()[0],
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--generator", default=None, help="ask with this generator (default: the server's)")
    p.add_argument("--index", default="var/index", help="index folder (default var/index)")
    p.add_argument("--out", type=Path, default=None, help="append the result as a JSON line here")
    args = p.parse_args(argv)
    result = first_answer(args.generator, args.index)
    print(json.dumps(result, indent=2))
    if args.out:
        with args.out.open("a") as f:
            f.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
