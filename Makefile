PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint install clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The CPU build of torch, pinned: a bare `torch` would pull a multi-GB CUDA build.
	$(PY) -m pip install -q "torch==2.13.0"
	$(PY) -m pip install -q -e ".[models,peers,test,dev,scale]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m structgen demo

lint: $(STAMP)
	$(VENV)/bin/ruff check structgen tests benchmarks examples
	$(VENV)/bin/lint-imports

test: $(STAMP) lint
	$(PY) -m pytest -q -p no:cacheprovider -m "not gpu" --nbmake tests notebooks; \
	rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests ran"; exit 0; fi; exit $$rc

clean:
	rm -rf $(VENV) build *.egg-info
