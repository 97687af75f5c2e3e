"""Shared pytest set-up for the whole repo: make the repo root importable.

Keep this file small; e2e fixtures live in pytests/e2e/conftest.py.
"""

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
