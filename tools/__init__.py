"""The project's tools. Stand-alone scripts (``train.py``, ``test.py``, mmdet style) run as
``python tools/train.py ...``; the ones that import each other run as modules from the
repository root: ``python -m tools.demo``, ``python -m tools.benchmark.run_benchmark``."""
