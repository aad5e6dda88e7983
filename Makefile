# Two commands set everything up on a fresh machine with Python >= 3.10 and make:
#   make book   build the site into _build/html (creates .venv on first use)
#   make test   everything CI checks
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PATH := $(CURDIR)/$(BIN):$(PATH)
export PYDEVD_DISABLE_FILE_VALIDATION := 1

# Notebooks run with the network cut when the system allows it (Linux with unshare and
# network namespaces); elsewhere they run normally.
NONET := $(shell unshare -n true 2>/dev/null && command -v ip >/dev/null && echo yes)
ifeq ($(NONET),yes)
OFFLINE := unshare -n -- sh -c 'ip link set lo up && exec "$$@"' sh env COURSE_EXPECT_OFFLINE=1
else
OFFLINE :=
endif

PYTEST_NB := --nbval-lax --nbval-current-env --nbval-cell-timeout=600 -p no:cacheprovider
JOBS ?= 2

.PHONY: help install book test lint browser sandbox exercises lab timings clean

help:
	@echo "make book       execute the notebooks and build the site into _build/html"
	@echo "make test       lint, unit tests, every notebook, exercises and grader, book build"
	@echo "make lab        JupyterLab with the notebooks (paired .md/.ipynb)"
	@echo "make exercises  regenerate exercises/ from solutions/"
	@echo "make timings    seconds per notebook, median of 3 runs (benchmarks/notebook_times.py)"

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Executes only the notebooks whose source or course_lib changed since their last run.
book: $(STAMP)
	$(OFFLINE) $(BIN)/pytest $(PYTEST_NB) -n $(JOBS) --dist loadfile --reuse-fresh notebooks
	$(BIN)/python -m course_lib.book build

lint: $(STAMP)
	$(BIN)/ruff check course_lib tests benchmarks conftest.py book/_ext
	$(BIN)/ruff format --check course_lib tests benchmarks conftest.py book/_ext

# One pytest run executes the unit tests, every chapter notebook (saving its outputs for the
# book), and the exercise/grader checks; then the book is built from those outputs.
# Two pytest workers on a 2-core machine: one thread each avoids oversubscribing the cores.
# The site check opens every page in headless Chromium with the network cut.
test: lint browser sandbox
	$(BIN)/python -m course_lib.grading release --check
	OMP_NUM_THREADS=1 $(OFFLINE) $(BIN)/pytest $(PYTEST_NB) -n $(JOBS) --dist loadfile \
		--junitxml=_build/junit.xml tests notebooks
	$(BIN)/python -m course_lib.book build
	$(OFFLINE) $(BIN)/python -m course_lib.book check
	@$(BIN)/python -c "import xml.etree.ElementTree as E; s = E.parse('_build/junit.xml').getroot().find('testsuite'); \
	t, f, e, k = (int(s.get(a)) for a in ('tests', 'failures', 'errors', 'skipped')); \
	print(f'pytest: {t - f - e - k} passed, {f + e} failed, {k} skipped')"

# Debian's chromium for the site check, installed when missing and we may use apt.
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	 command -v google-chrome >/dev/null || \
	 { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	   (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); } || \
	 { echo "make test needs Chromium for the site check: install the chromium package"; exit 1; }

# Debian's bubblewrap isolates each graded submission (no network, no writes outside its
# scratch folder); installed when missing and we may use apt. Without it (macOS) the grader
# warns and grades unisolated, and the isolation tests are skipped.
sandbox:
	@command -v bwrap >/dev/null || \
	 { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	   (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null); } || \
	 echo "warning: bubblewrap (bwrap) is missing: submissions will be graded without isolation"

exercises: $(STAMP)
	$(BIN)/python -m course_lib.grading release

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks

timings: $(STAMP)
	$(BIN)/python benchmarks/notebook_times.py notebooks/*.ipynb --repeat 3

clean:
	rm -rf _build
