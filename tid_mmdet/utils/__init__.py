"""Helpers for the tools (not registered components)."""
from .dist import build_runner, setup_cpu_distributed

__all__ = ['build_runner', 'setup_cpu_distributed']
