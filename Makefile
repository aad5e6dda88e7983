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
# Notebooks run JOBS at a time with THREADS threads each, so that JOBS * THREADS = the cores:
# an oversubscribed kernel slows down by 10x or more on the many small ops of a training loop.
# `make book` and `make test` use the same settings, so either reuses the other's runs.
NCORES  := $(shell nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 2)
JOBS    ?= $(shell n=$(NCORES); [ $$n -gt 4 ] && n=4; echo $$n)
THREADS ?= $(shell t=$$(( $(NCORES) / $(JOBS) )); [ $$t -lt 1 ] && t=1; echo $$t)
NB_ENV  := OMP_NUM_THREADS=$(THREADS) MKL_NUM_THREADS=$(THREADS)
# The second configuration `make test` runs every notebook under: another seed, all the cores.
NB_ENV2 := COURSE_SEED=1 OMP_NUM_THREADS=$(NCORES) MKL_NUM_THREADS=$(NCORES)

.PHONY: help install book pdf slides test lint browser sandbox exercises setup-cells lab timings robustness clean

help:
	@echo "make book       execute the notebooks and build the site into _build/html"
	@echo "make pdf        the whole book as one PDF, _build/pdf/book.pdf (builds the book first)"
	@echo "make slides     reveal.js slides of every chapter, _build/slides/NN_name.slides.html"
	@echo "make test       lint, unit tests, every notebook, exercises and grader, book build"
	@echo "make lab        JupyterLab with the notebooks (paired .md/.ipynb)"
	@echo "make exercises  regenerate exercises/ from solutions/"
	@echo "make setup-cells  write the Colab setup cell into every notebook (booktools/setup_cell.py)"
	@echo "make timings    seconds per notebook, median of 3 runs (benchmarks/notebook_times.py)"
	@echo "make robustness every notebook under 5 seeds x 1, 2, 4 threads (benchmarks/robustness.py)"

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Executes only the notebooks whose source or course_lib changed since their last run.
book: $(STAMP)
	$(NB_ENV) $(OFFLINE) $(BIN)/pytest $(PYTEST_NB) -n $(JOBS) --dist loadfile --reuse-fresh notebooks
	$(BIN)/python -m booktools.book build

# The book as one PDF: one HTML page (Sphinx's singlehtml) printed by headless Chromium, then
# read back and checked (chapters, contents, figures, math, bibliography).
pdf: book browser
	$(OFFLINE) $(BIN)/python -m booktools.pdf

# Slides of every chapter (reveal.js, served from _build/slides with everything they load), from
# the same executed notebooks as the book; the check steps through each deck in Chromium.
slides: $(STAMP) browser
	$(NB_ENV) $(OFFLINE) $(BIN)/pytest $(PYTEST_NB) -n $(JOBS) --dist loadfile --reuse-fresh notebooks
	$(BIN)/python -m booktools.slides build
	$(OFFLINE) $(BIN)/python -m booktools.slides check

lint: $(STAMP)
	$(BIN)/ruff check course_lib booktools tests benchmarks conftest.py book/_ext
	$(BIN)/ruff format --check course_lib booktools tests benchmarks conftest.py book/_ext

# One pytest run executes the unit tests, every chapter notebook (saving its outputs for the
# book; a notebook whose passing run `make book` already saved, same code and settings, is not
# run again), and the exercise/grader checks; then the book is built from those outputs. A second
# run executes every notebook again under another seed and thread count (NB_ENV2), so that a
# claim that holds for one draw only fails here. The site check opens every page in headless
# Chromium (driven by Playwright, booktools/browser.py) with the network cut; so does the PDF's
# print and check (booktools/pdf.py).
test: lint browser sandbox
	$(BIN)/python -m course_lib.grading release --check
	$(NB_ENV) $(OFFLINE) $(BIN)/pytest $(PYTEST_NB) -n $(JOBS) --dist loadfile --reuse-fresh \
		--junitxml=_build/junit.xml tests notebooks
	$(NB_ENV2) $(OFFLINE) $(BIN)/pytest $(PYTEST_NB) --no-executed-copy \
		--junitxml=_build/junit-seed1.xml notebooks
	$(BIN)/python -m booktools.book build
	$(OFFLINE) $(BIN)/python -m booktools.book check
	$(OFFLINE) $(BIN)/python -m booktools.pdf
	@$(BIN)/python -c "import xml.etree.ElementTree as E; \
	s = [E.parse(f).getroot().find('testsuite') for f in ('_build/junit.xml', '_build/junit-seed1.xml')]; \
	t, f, e, k = (sum(int(x.get(a)) for x in s) for a in ('tests', 'failures', 'errors', 'skipped')); \
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

# The first cell of every notebook installs course_lib where it is missing (Colab). It is made
# from one template, with the repository of _config.yml and the version of pyproject.toml.
setup-cells: $(STAMP)
	$(BIN)/python -m booktools.setup_cell
	$(BIN)/python -m course_lib.grading release

# The server's root is the repository, so that jupytext finds jupytext.toml and saving a
# notebook also writes its paired .md (with `jupyter lab notebooks` it would not); the file
# browser starts in notebooks/. tests/test_lab.py runs this setup end to end.
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR) --ContentsManager.preferred_dir=notebooks

timings: $(STAMP)
	$(BIN)/python benchmarks/notebook_times.py notebooks/*.ipynb --repeat 3

# Reruns the stale or incomplete entries of benchmarks/robustness.json (an hour or more on 2
# cores when everything is stale) and rewrites benchmarks/robustness.md.
robustness: $(STAMP)
	$(OFFLINE) $(BIN)/python benchmarks/robustness.py

clean:
	rm -rf _build
