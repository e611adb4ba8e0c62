# Two commands do all set-up on a fresh machine: `make forecast` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTHON ?=
PYENV_ROOT ?= $(HOME)/.pyenv
CASE ?= data/cases/panjshir_2021.yaml
OUT ?= out/panjshir_2021
LEDGER ?= out/ledger.sqlite
# the forecast dates of the report's evolution chart (the case's own as_of is 2021-08-20)
EVOLUTION ?= --as-of 2021-08-17 --as-of 2021-08-20 --as-of 2021-08-31 --as-of 2021-09-03

.PHONY: forecast test test-slow lint bench backtest record clean venv

# Python >= 3.12 (PyMC 6 needs it): $(PYTHON) if given, else python3.13, python3.12,
# then pyenv's installed versions, newest first.
define find_python
for c in $(PYTHON) python3.13 python3.12 python3 \
         $$(ls -d $(PYENV_ROOT)/versions/3.1[2-9]*/bin/python 2>/dev/null | sort -rV); do \
  if "$$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then \
    echo "$$c"; break; \
  fi; \
  if [ -n "$(PYTHON)" ] && [ "$$c" = "$(PYTHON)" ]; then \
    echo "PYTHON=$(PYTHON) is not a Python >= 3.12" >&2; exit 1; \
  fi; \
done
endef

venv: $(STAMP)

$(STAMP): pyproject.toml
	@py=$$($(find_python)); \
	if [ -z "$$py" ]; then echo "no Python >= 3.12 found: set PYTHON=/path/to/python3.12" >&2; exit 1; fi; \
	if [ ! -x $(PY) ]; then echo "creating $(VENV) with $$py"; "$$py" -m venv $(VENV); fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dask]'
	@touch $(STAMP)

forecast: $(STAMP)
	$(VENV)/bin/forecast data check
	$(VENV)/bin/forecast run $(CASE) --out $(OUT) --overwrite --record --ledger $(LEDGER)
	@echo "--- how the forecast changed: the same case as of other dates, recorded for the report"
	$(VENV)/bin/forecast run $(CASE) $(EVOLUTION) --out $(OUT)/by_date --overwrite --brief --record --ledger $(LEDGER)
	$(VENV)/bin/forecast outcome --from-case $(CASE) --ledger $(LEDGER)
	$(VENV)/bin/forecast score --ledger $(LEDGER)
	$(VENV)/bin/forecast report $(CASE) --out $(OUT) --ledger $(LEDGER) --record data/record

# Out-of-sample skill of every model against both climatologies (about an hour on 2 cores for 451 cases).
backtest: $(STAMP)
	$(VENV)/bin/forecast backtest --model all --scheme all --out out/backtest --ledger $(LEDGER)

# The default model's leave-one-war-out record shipped in data/record (the report shows it; about
# 20 minutes on 2 cores). Rerun after changing a model.
record: $(STAMP)
	$(VENV)/bin/forecast backtest --model lognormal --scheme loo --no-psis --no-record --out data/record

test: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

lint: $(STAMP)
	$(VENV)/bin/ruff check forecast models tests benchmarks

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) out .pytest_cache
