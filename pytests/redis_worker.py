"""One Open WebUI worker of a two-worker deployment with Redis, run as its own process by
``test_redis_deployment.py``: lists the models, optionally answers one chat turn, waits
until Redis has flushed its queue to the database, and prints what it saw as JSON."""

import asyncio
import json
import sys
import time

import redis

sys.path.insert(0, sys.argv[1])  # pytests/, for the helpers

from bridge_helpers import content_of, new_pipe, parse_lines  # noqa: E402


async def main(base_url: str, plan: dict) -> dict:
    pipe = new_pipe(base_url, COSTS_REDIS_DUMP=True, **plan.get("valves", {}))
    models = await pipe.pipes()
    out = {"models": len(models), "answer": None}
    if plan.get("messages"):
        meta = {"chat_id": plan["chat_id"], "message_id": plan["message_id"], "session_id": "s"}
        user = {"id": "user-7", "email": "ada@example.com", "name": "Ada"}
        body = {"model": "openrouter.openai.o4-mini", "stream": True, "messages": plan["messages"]}
        result = await pipe.pipe(body, __user__=user, __metadata__=meta)
        out["answer"] = content_of(parse_lines([line async for line in result]))
        client = redis.Redis.from_url(plan["redis_url"])
        deadline = time.monotonic() + 15
        while client.llen("openrouter:pending") + client.llen("openrouter:processing") and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        out["backlog"] = client.llen("openrouter:pending") + client.llen("openrouter:processing")
    return out


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[2], json.loads(sys.argv[3])))))
