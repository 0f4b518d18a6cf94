"""The side-by-side benchmark of the distillation methods (``make bench``, ``make bench-quick``).

Run from the repository root as :data:`COMMAND`.
"""
COMMAND = 'python -m tools.benchmark.run_benchmark'
