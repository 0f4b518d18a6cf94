# tid_mmdet: one entry point for install, test and demo.
#
#   make install   create .venv/ and install the pinned OpenMMLab stack + the plugin (idempotent)
#   make test      install if needed, then run the test suite (CPU, < 15 min)
#   make demo      install if needed, then: synthetic data -> teacher (cached) -> TID student -> mAP table
#   make bench     every method x 3 seeds + step costs -> docs/benchmarks.md (hours; BENCH_ARGS=...)
#   make bench-quick  the same pipeline, aimed at < 10 min (few iterations, one seed) -> results/bench_quick
#
# Variables:
#   TORCH_SPEC     torch requirement (default torch==2.13.0, CPU). GPU users name their CUDA build,
#                  e.g. TORCH_SPEC="torch==2.5.1 --index-url https://download.pytorch.org/whl/cu124"
#   PYTHON         interpreter used to create the venv (default python3, needs 3.9-3.11)
#   PIP_FIND_LINKS honoured by pip: a folder with a prebuilt mmcv 2.1.0 wheel skips its ~18 min build
SHELL := /bin/bash
PYTHON ?= python3
TORCH_SPEC ?= torch==2.13.0
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STACK_STAMP := $(VENV)/.stack-installed
PLUGIN_STAMP := $(VENV)/.plugin-installed
PLUGIN_SRC := $(shell find tid_mmdet tools configs -type f \( -name '*.py' -o -name '*.yml' \) -not -path '*/.mim/*' 2>/dev/null) setup.py
# Pins that work together (see DEVELOPERS.md / docs/install.md)
STACK := mmengine==0.10.7 mmdet==3.3.0 mmrazor==1.0.0 pycocotools==2.0.11 joblib matplotlib pytest
MIM_DEPS := Click colorama model-index pandas requests rich tabulate
export PYTHONPATH := $(CURDIR)

.PHONY: install test demo bench bench-quick clean-venv help

help:
	@sed -n '2,16p' Makefile

install: $(PLUGIN_STAMP)

$(STACK_STAMP): Makefile
	@echo ">> [install] creating virtual environment $(VENV)/ with $(PYTHON)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo ">> [install] build tools: setuptools>=77,<82 (mmcv/mim need pkg_resources), wheel"
	$(PIP) install -q "setuptools>=77,<82" wheel
	@echo ">> [install] torch: $(TORCH_SPEC)"
	$(PIP) install -q $(TORCH_SPEC)
	@if $(PY) -c "import mmcv, mmcv.ops" 2>/dev/null && [ "$$($(PY) -c 'import mmcv; print(mmcv.__version__)')" = 2.1.0 ]; then \
		echo ">> [install] mmcv 2.1.0 with ops already present"; \
	else \
		if [ -n "$$($(PY) -c 'import torch; print(torch.version.cuda or "")')" ] && command -v nvcc >/dev/null; then \
			export FORCE_CUDA=1; echo ">> [install] CUDA torch and nvcc found: mmcv ops are built with CUDA"; fi; \
		echo ">> [install] mmcv 2.1.0 (source-only on PyPI). Unless PIP_FIND_LINKS holds a matching wheel"; \
		echo ">>           or pip's cache has one, this BUILDS mmcv ops: about 18 minutes on 2 CPU cores."; \
		$(PIP) install --no-build-isolation mmcv==2.1.0 || exit 1; \
	fi
	@echo ">> [install] mmengine, mmdet, mmrazor, pycocotools, joblib (mmrazor needs it, undeclared)"
	$(PIP) install -q $(STACK) "setuptools>=77,<82"
	@echo ">> [install] openmim without its deps (they would pull setuptools down to 60) + its real deps"
	$(PIP) install -q --no-deps openmim==0.3.9
	$(PIP) install -q $(MIM_DEPS) "setuptools>=77,<82"
	@touch $@

$(PLUGIN_STAMP): $(STACK_STAMP) $(PLUGIN_SRC)
	@echo ">> [install] tid_mmdet (regular install, so that mim finds tid_mmdet/.mim)"
	$(PIP) install -q --no-deps --no-build-isolation .
	@$(PY) -c "import tid_mmdet; print('>> [install] ok: tid_mmdet', tid_mmdet.__version__)"
	@touch $@

test: install
	$(PY) -m pytest tests

demo: install
	$(PY) tools/demo.py

bench: install
	$(PY) tools/benchmark/run_benchmark.py $(BENCH_ARGS)

bench-quick: install
	$(PY) tools/benchmark/run_benchmark.py --quick $(BENCH_ARGS)

clean-venv:
	rm -rf $(VENV)
