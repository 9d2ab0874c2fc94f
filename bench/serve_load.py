"""Load on `autojudge serve`: N concurrent clients for D seconds on loopback, against a real
server process, beside `autojudge score`'s offline speed on the same pairs in the same run.

    .venv/bin/python bench/serve_load.py [--judge default|PATH] [--clients 32] [--duration 60]
        [--windows 6] [--items 8] [--pairs 1024]

Each client posts `--items` pairs to /v1/judge, waits for the answer, and posts again. The
D seconds of load come in `--windows` windows; between two windows the clients pause and
`score_file` (what `autojudge score` runs, one chunk of 256 pairs) is timed in this process, so
offline and served speeds are sampled alternately on a machine others may be loading too.
Served judgements are compared with `score_file`'s on the same pairs, and one request of 256
pairs on an idle server with the first score chunk. Writes bench/results/serve_load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import write_result  # noqa: E402

from autojudge.config import load_config  # noqa: E402
from autojudge.data.build import build, split_path  # noqa: E402
from autojudge.jobs.judge import resolve_judge  # noqa: E402
from autojudge.scoring import score_file  # noqa: E402
from autojudge.serve.process import spawn_server  # noqa: E402

ROOT = Path(__file__).parent.parent


def sample_pairs(n: int) -> list[dict]:
    """Every k-th row of the judge test split (fields as score reads them), n in all."""
    config = load_config()
    build(config.data)
    lines = split_path(config.data, "judge", "test").read_text().splitlines()
    rows = [json.loads(line) for line in lines[:: max(1, len(lines) // n)][:n]]
    return [{k: r[k] for k in ("id", "question", "reference", "answer")} for r in rows]


def offline(judge, pairs: list[dict], folder: Path, tag: str) -> tuple[float, list[dict]]:
    """pairs/s of score_file on `pairs`, and its output lines."""
    source, output = folder / f"{tag}.in.jsonl", folder / f"{tag}.out.jsonl"
    source.write_text("".join(json.dumps(p) + "\n" for p in pairs))
    start = time.perf_counter()
    score_file(source, output, judge, chunk_size=256, progress=False)
    seconds = time.perf_counter() - start
    return len(pairs) / seconds, [json.loads(x) for x in output.read_text().splitlines()]


def start_server(judge: str, log: Path) -> tuple[subprocess.Popen, str]:
    try:
        return spawn_server(["--judge", judge, "--log-level", "warning"], log, cwd=ROOT,
                            env={**os.environ, "AUTOJUDGE_TOKEN": ""}, timeout=180)
    except RuntimeError as err:
        raise SystemExit(str(err)) from None


async def load(url: str, pairs: list[dict], args, offline_slot) -> dict:
    """`args.windows` windows of load, `args.duration` seconds in all; in each, every client
    posts `args.items` pairs, waits, posts again until the window ends, and the requests then
    in flight are answered (within `args.grace` s). Between windows the clients pause and
    `offline_slot()` times `autojudge score` on 256 pairs, so both see the same machine."""
    import httpx

    latencies: list[float] = []
    statuses: dict[str, int] = {}
    served: dict[int, dict] = {}
    windows: list[dict] = []
    answered = 0
    positions = [k * args.items for k in range(args.clients)]

    async def client(k: int, http: httpx.AsyncClient, deadline: float) -> None:
        nonlocal answered
        while time.monotonic() < deadline:
            index = [(positions[k] + i) % len(pairs) for i in range(args.items)]
            positions[k] += args.clients * args.items
            start = time.perf_counter()
            try:
                r = await http.post("/v1/judge", json={"items": [pairs[i] for i in index]})
                key = str(r.status_code)
            except httpx.HTTPError as err:
                r, key = None, type(err).__name__
            statuses[key] = statuses.get(key, 0) + 1
            if r is not None and r.status_code == 200:
                latencies.append(time.perf_counter() - start)
                answered += args.items
                served.update(zip(index, r.json()["results"]))
            elif r is not None and r.status_code == 503:
                await asyncio.sleep(float(r.headers.get("retry-after", 1)))

    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    async with httpx.AsyncClient(base_url=url, timeout=args.duration + args.grace,
                                 limits=limits) as http:
        first = (await http.get("/healthz")).json()
        for _ in range(args.windows):
            before = (await http.get("/healthz")).json()
            start = time.perf_counter()
            deadline = time.monotonic() + args.duration / args.windows
            await asyncio.wait_for(asyncio.gather(*(client(k, http, deadline)
                                                    for k in range(args.clients))),
                                   args.duration / args.windows + args.grace)
            wall = time.perf_counter() - start
            after = (await http.get("/healthz")).json()
            windows.append({"served_s": wall, "served_pairs": after["judged"] - before["judged"],
                            "served_pairs_per_s": (after["judged"] - before["judged"]) / wall,
                            "offline_pairs_per_s": offline_slot()})
            print(f"window: served {windows[-1]['served_pairs_per_s']:.1f} pairs/s, offline "
                  f"{windows[-1]['offline_pairs_per_s']:.1f} pairs/s", flush=True)
        last = (await http.get("/healthz")).json()
    served_s = sum(w["served_s"] for w in windows)
    judged = sum(w["served_pairs"] for w in windows)
    batches = last["batches"] - first["batches"]
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
    return {"served_s": served_s, "requests": sum(statuses.values()), "statuses": statuses,
            "pairs_answered": answered, "server_pairs_judged": judged,
            "server_pairs_per_s": judged / served_s, "client_pairs_per_s": answered / served_s,
            "server_batches": batches, "mean_batch": judged / max(1, batches),
            "server_busy_share": (last["busy_s"] - first["busy_s"]) / served_s,
            "latency_s": {"p50": q[49], "p90": q[89], "p99": q[98], "max": max(latencies)},
            "windows": windows, "served": served}


def compare(served: dict[int, dict], offline_lines: list[dict]) -> dict:
    """How served lines differ from score's for the same pairs (batch neighbours differ)."""
    same = sum(line == offline_lines[i] for i, line in served.items())
    verdicts = sum(line["verdict"] == offline_lines[i]["verdict"] for i, line in served.items())
    delta = max((abs(line[p] - offline_lines[i][p]) for i, line in served.items()
                 for p in ("p_correct", "p_incorrect", "p_abstain")), default=0.0)
    return {"pairs": len(served), "identical_lines": same, "same_verdict": verdicts,
            "max_abs_prob_difference": delta}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--judge", default="default")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load in all")
    parser.add_argument("--windows", type=int, default=6,
                        help="load windows, with an offline timing between each two")
    parser.add_argument("--items", type=int, default=8, help="pairs per request")
    parser.add_argument("--pairs", type=int, default=1024)
    parser.add_argument("--grace", type=float, default=60.0,
                        help="seconds in-flight requests may take after a window ends")
    args = parser.parse_args()

    pairs = sample_pairs(args.pairs)
    folder = Path(tempfile.mkdtemp(prefix="autojudge-serve-load-"))
    proc, url = start_server(args.judge, folder / "server.log")
    slots = iter(range(10**6))
    try:
        judge = resolve_judge(load_config(), args.judge)
        import httpx

        alone = httpx.post(f"{url}/v1/judge", json={"items": pairs[:256]}, timeout=300).json()
        _, lines = offline(judge, pairs, folder, "all")  # also the first-call costs, untimed

        def offline_slot() -> float:
            n = next(slots)
            k = n % (len(pairs) // 256)
            return offline(judge, pairs[256 * k:256 * (k + 1)], folder, f"slot{n}")[0]

        figures = asyncio.run(load(url, pairs, args, offline_slot))
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=120)
    served = figures.pop("served")
    rates = [w["offline_pairs_per_s"] for w in figures["windows"]]
    base = len(rates) * 256 / sum(256 / r for r in rates)  # pairs / seconds over all slots
    result = {
        "clients": args.clients, "duration_s": args.duration, "windows": args.windows,
        "pairs_per_request": args.items, "distinct_pairs": len(pairs),
        "offline_pairs_per_s": base, "served": figures,
        "ratio_served_to_offline": figures["server_pairs_per_s"] / base,
        "errors": sum(v for k, v in figures["statuses"].items() if k not in ("200", "503")),
        "refused_503": figures["statuses"].get("503", 0),
        "vs_score": {**compare(served, lines),
                     "one_request_of_256_equals_first_score_chunk":
                         alone["results"] == lines[:256]},
        "server_exit": f"SIGTERM → returncode {code}",
    }
    path = write_result("serve_load", result)
    lat = figures["latency_s"]
    print(f"\n{'offline pairs/s (autojudge score)':<34}{base:>9.1f}\n"
          f"{'served pairs/s':<34}{figures['server_pairs_per_s']:>9.1f}\n"
          f"{'ratio':<34}{result['ratio_served_to_offline']:>9.2f}\n"
          f"{'latency p50 / p99 (s)':<34}{lat['p50']:>9.2f} / {lat['p99']:.2f}\n"
          f"{'requests / errors / 503':<34}{figures['requests']:>9} / {result['errors']} / "
          f"{result['refused_503']}\n\nwrote {path}")


if __name__ == "__main__":
    main()
