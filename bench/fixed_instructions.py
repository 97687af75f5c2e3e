"""Instructions per short chat, counted by callgrind: the fixed cost of a request on a
machine whose timings cannot be trusted.

`stream_load.py`'s fixed cost is CPU time, and on a shared VM (50 % steal seen here on
2026-12-03) the same build measured 0.70 to 1.06 ms in back-to-back runs. callgrind counts
instructions, which do not depend on what else the machine does. Each client runs a few
and many sequential 1-delta streams through Open WebUI's loop (the same `one_stream` as
`stream_load.py`); the difference, divided by the extra requests, is the cost of one request
with start-up and imports taken out. `PYTHONHASHSEED=0` keeps the interpreter's dict layout
(and so its start-up) the same between the two runs.

    <venv>/bin/python bench/fixed_instructions.py            # pipe and bare aiohttp
    PYTHONPATH=/path/to/other/build <venv>/bin/python bench/fixed_instructions.py --clients pipe

Needs `valgrind`; about 4 minutes per client on 2 cores with the defaults. Under valgrind
a run is ~50x slower, so timers (the 40 ms coalescing window, idle-thread timeouts) fire
differently than natively and the count depends a little on `--few`/`--many`: compare
builds with the same sizes. It does not count context switches, cache misses or waiting,
so it ranks builds; CPU time on a quiet machine stays the figure targets are stated in.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))


def drive(client_name: str, count: int, base_url: str) -> None:
    """The measured process: `count` sequential 1-delta streams."""
    import stream_load as sl

    async def run() -> None:
        if client_name == "pipe":
            client = sl.PipeClient(sl.load_function_module(), base_url, 40, "pipe")
        else:
            client = sl.AiohttpClient(base_url)
        for i in range(count):
            await sl.one_stream(client, 1, 0, i)
        await client.close()

    try:
        import uvloop

        uvloop.run(run())
    except ImportError:
        asyncio.run(run())


def counted(client_name: str, count: int, base_url: str, workdir: Path) -> int:
    """Instructions callgrind counted for a whole run of `count` requests."""
    out = workdir / f"callgrind.{client_name}.{count}"
    env = dict(os.environ, PYTHONHASHSEED="0")
    cmd = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
        sys.executable,
        __file__,
        "--drive",
        client_name,
        str(count),
        base_url,
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or not found:
        raise RuntimeError(f"callgrind run failed ({done.returncode}): {done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", default="pipe,aiohttp", help="comma-separated: pipe, aiohttp")
    ap.add_argument("--few", type=int, default=20, help="requests in the short run")
    ap.add_argument("--many", type=int, default=420, help="requests in the long run")
    ap.add_argument("--drive", nargs=3, metavar=("CLIENT", "COUNT", "BASE_URL"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.drive:
        drive(args.drive[0], int(args.drive[1]), args.drive[2])
        return 0
    sys.path.insert(0, str(BENCH.parent))
    from fake_openrouter.client import FakeOpenRouter

    results = {}
    with FakeOpenRouter(args=["--uvloop"]) as fake, tempfile.TemporaryDirectory() as tmp:
        for name in args.clients.split(","):
            # The two runs side by side (one per core): instruction counts do not mind.
            with ThreadPoolExecutor(2) as pool:
                few, many = pool.map(lambda n: counted(name, n, fake.base_url, Path(tmp)), (args.few, args.many))
            results[name] = round((many - few) / (args.many - args.few))
            print(f"{name:<8} {results[name]:>10,} instructions per request", flush=True)
    if "pipe" in results and "aiohttp" in results:
        print(f"pipe / bare aiohttp: {results['pipe'] / results['aiohttp']:.2f}")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
