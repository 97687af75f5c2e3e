"""Peak memory growth of one chat carrying a 50 MB attachment (issue #11).

The attachment goes in as an inline PDF (``data:application/pdf;base64,…``, 67 MB of base64
text) to a file-capable model on the fake OpenRouter; the pipe guards it, keeps it as base64
(never decoded), and sends it on. Peak RSS (``ru_maxrss``, this process: Python and the Rust
engine) is read after the request body has been built and again after the answer, so the
growth is what the pipe itself adds on top of the caller's copy. Run with the Open WebUI
venv's python and the built extension on ``PYTHONPATH``:

    PYTHONPATH=python ~/.cache/openrouter-pipe/owui-venv-0.12.4/bin/python bench/files_rss.py [--mb 50]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import resource
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
from stream_load import API_KEY, FakeOpenRouter, load_function_module  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=50)
    args = parser.parse_args()
    size = args.mb * 1024 * 1024
    with FakeOpenRouter(args=("--max-body", str(4 * size))) as fake:
        module = load_function_module()
        pipe = module.Pipe()
        pipe.valves = module.Pipe.Valves(API_KEY=API_KEY, BASE_URL=fake.base_url, BASE64_MAX_SIZE_MB=args.mb + 10)
        payload = base64.b64encode(b"%PDF-1.4\n" + os.urandom(size - 9)).decode()
        body = {
            "model": "openrouter.openai.gpt-4o-mini",
            "stream": True,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "summarise"},
                        {
                            "type": "file",
                            "file": {"filename": "big.pdf", "file_data": f"data:application/pdf;base64,{payload}"},
                        },
                    ],
                }
            ],
        }
        before = peak_mb()
        result = await pipe.pipe(body, __user__={"id": "bench"}, __metadata__={})
        lines = [line async for line in result]
        after = peak_mb()
        sent = fake.requests("/api/v1/responses")[-1]["body"]["input"][-1]["content"][1]
        assert sent["file_data"].endswith(payload[-64:]), "the attachment reached the fake"
        print(f"attachment: {args.mb} MB ({len(payload) / 2**20:.0f} MB base64), answer lines: {len(lines)}")
        print(f"peak RSS before the request: {before:.0f} MB, after: {after:.0f} MB, growth: {after - before:.0f} MB")


if __name__ == "__main__":
    asyncio.run(main())
