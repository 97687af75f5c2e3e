"""Command line: ``python -m openrouter_pipe shim|valves-doc|migrate|preload``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _write(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m openrouter_pipe")
    commands = parser.add_subparsers(dest="command", required=True)
    shim = commands.add_parser("shim", help="print the Open WebUI Function file")
    shim.add_argument("--output", "-o", help="write it to this file instead")
    doc = commands.add_parser("valves-doc", help="print the valve reference (Markdown)")
    doc.add_argument("--output", "-o", help="write it to this file instead")
    mig = commands.add_parser(
        "migrate", help="copy the reference Python pipe's stored artifacts into this pipe's store"
    )
    mig.add_argument("--source", required=True, help="Open WebUI's database: a SQLite file or a URL (postgresql://…)")
    mig.add_argument(
        "--target",
        help="this pipe's artifact database: a SQLite file or a PostgreSQL URL"
        " (default: $DATA_DIR/openrouter_pipe/artifacts.db)",
    )
    mig.add_argument("--dry-run", action="store_true", help="only count what would be copied")
    pre = commands.add_parser(
        "preload", help="install or upgrade the Function in a running Open WebUI (for container images)"
    )
    pre.add_argument("--url", default=None, help="Open WebUI's address (default: http://127.0.0.1:$PORT, PORT=8080)")
    pre.add_argument(
        "--function-id", default=None, help="the Function's id (default: $OPENROUTER_PIPE_FUNCTION_ID or openrouter)"
    )
    pre.add_argument("--wait", type=float, default=600.0, help="seconds to wait for Open WebUI to become healthy")
    args = parser.parse_args(argv)
    if args.command == "migrate":
        return _migrate(args)
    if args.command == "preload":
        return _preload(args)
    if args.command == "shim":
        from .shim import render

        _write(render(), args.output)
    else:
        from .docs import render

        _write(render(), args.output)
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from .migrate import default_target, is_postgres_url, migrate, redact

    target: Path | str | None
    if args.target and is_postgres_url(args.target):
        target = args.target
    else:
        target = Path(args.target) if args.target else default_target()
    if target is None:
        print("error: give --target or set DATA_DIR to Open WebUI's data directory", file=sys.stderr)
        return 2
    try:
        report = migrate(args.source, target, dry_run=args.dry_run)
    except Exception as exc:  # noqa: BLE001 - a command line reports, it does not trace back
        print(f"error: {redact(str(exc), args.source, args.target)}", file=sys.stderr)
        return 1
    for line in report.lines():
        print(line)
    shown = redact(str(target), args.target)
    print(f"target: {shown}{' (dry run: nothing written)' if args.dry_run else ''}")
    return 0


def _preload(args: argparse.Namespace) -> int:
    import os

    from .preload import DEFAULT_FUNCTION_ID, Credentials, PreloadError, preload

    url = args.url or f"http://127.0.0.1:{os.environ.get('PORT') or 8080}"
    function_id = args.function_id or os.environ.get("OPENROUTER_PIPE_FUNCTION_ID") or DEFAULT_FUNCTION_ID
    try:
        outcome = preload(url, Credentials.from_environment(), function_id, wait_seconds=args.wait)
    except (PreloadError, OSError) as exc:
        print(f"openrouter-pipe preload: {exc}", file=sys.stderr)
        return 1
    print(f"openrouter-pipe preload: {outcome}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
