# mmseg_uda: `make demo` (set up, then the demo) and `make test` (set up, then
# the test suite). The set-up creates .venv if missing and installs the pinned
# stack; mmcv 2.1.0 is compiled from its PyPI source (~10 min on 2 cores the
# first time; pip caches the wheel afterwards).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed-1
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: all venv test demo clean-demo

all: test

venv: $(STAMP)

$(STAMP): setup.py Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# torch first: pip picks the CUDA build on a GPU machine, the CPU wheel
	# where only that is available.
	$(PIP) install -q torch==2.13.0
	# mmcv 2.1.0 only builds with setuptools < 70 and without build
	# isolation (it compiles against the installed torch).
	$(PIP) install -q "setuptools<70" wheel
	$(PIP) install --no-build-isolation mmcv==2.1.0
	$(PIP) install -q mmengine==0.10.7 mmsegmentation==1.2.2 ftfy regex \
		tqdm prettytable scipy pytest cityscapesscripts==2.3.0
	$(PIP) install -q --no-build-isolation --no-deps -e .
	$(PY) -c "import mmcv.ops, mmseg, mmseg_uda; print('mmseg_uda stack OK')"
	touch $@

test: $(STAMP)
	$(PY) -m pytest -q

demo: $(STAMP)
	bash tools/demo.sh

clean-demo:
	rm -rf data/demo work_dirs/demo
