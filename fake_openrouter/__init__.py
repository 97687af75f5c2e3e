"""Fake OpenRouter server for tests, the end-to-end run, the offline demo and the benchmarks."""

from .client import FakeOpenRouter

__all__ = ["FakeOpenRouter"]
