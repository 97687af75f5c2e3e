"""openrouter-pipe: every OpenRouter model in Open WebUI, through a Rust engine.

Install the wheel into Open WebUI's environment, then generate the Function file with
``python -m openrouter_pipe shim`` and upload it (Admin Panel → Functions).
"""

from ._native import __version__
from .core import PipeCore, flush_logs, pipe_id_from_module
from .valves import valve_models

__all__ = ["PipeCore", "__version__", "flush_logs", "pipe_id_from_module", "valve_models"]
