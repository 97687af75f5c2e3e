"""Command line: ``python -m openrouter_pipe shim|valves-doc [--output FILE]``."""

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
    args = parser.parse_args(argv)
    if args.command == "shim":
        from .shim import render

        _write(render(), args.output)
    else:
        from .docs import render

        _write(render(), args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
