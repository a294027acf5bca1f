# mmseg_uda: `make demo` (set up, then the quick demo: every method family,
# about 10 min on 2 cores), `make demo-full` (the longer demo) and `make test`
# (set up, then the test suite). The set-up creates .venv if missing and
# installs the pinned stack; mmcv 2.1.0 is compiled from its PyPI source
# (about 15 min for the whole set-up on an idle 2-core machine the first time,
# longer when the machine is busy; pip caches the wheel afterwards).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed-1
export PATH := $(abspath $(VENV))/bin:$(PATH)
# mmcv's ops: neither the plugin nor the MMSeg parts it uses call a compiled
# mmcv op, but mmseg imports mmcv.ops, so full mmcv is built with its ops for
# the CPU only: with CUDA hidden from the build, mmcv's setup.py compiles no
# CUDA kernels even on a GPU machine (torch keeps its CUDA build and trains on
# the GPU). MMCV_CUDA_OPS=1 make venv builds the CUDA kernels too (nvcc
# needed; --no-cache-dir, so pip does not reuse a cached CPU-ops wheel).
ifeq ($(MMCV_CUDA_OPS),1)
MMCV_BUILD_ENV := MMCV_WITH_OPS=1 FORCE_CUDA=1
MMCV_PIP_FLAGS := --no-cache-dir
MMCV_BUILD_NOTE := compiling the CPU and CUDA ops from source (MMCV_CUDA_OPS=1): \
	far longer than the CPU-only build, depending on the CUDA architectures
else
MMCV_BUILD_ENV := MMCV_WITH_OPS=1 FORCE_CUDA=0 CUDA_VISIBLE_DEVICES=
MMCV_PIP_FLAGS :=
MMCV_BUILD_NOTE := compiling the CPU ops from source, about 12 min on 2 idle \
	cores, longer on a busy machine (measured: README, Install); then cached \
	by pip, a later make venv takes seconds for it
endif

.PHONY: all venv test demo demo-full clean-demo

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
	@echo "mmcv 2.1.0: $(MMCV_BUILD_NOTE)"
	$(MMCV_BUILD_ENV) $(PIP) install $(MMCV_PIP_FLAGS) --no-build-isolation \
		mmcv==2.1.0
	$(PIP) install -q mmengine==0.10.7 mmsegmentation==1.2.2 ftfy regex \
		tqdm prettytable scipy scikit-learn pytest cityscapesscripts==2.3.0
	$(PIP) install -q --no-build-isolation --no-deps -e .
	$(PY) -c "import mmcv.ops, mmseg, mmseg_uda; print('mmseg_uda stack OK')"
	touch $@

test: $(STAMP)
	$(PY) -m pytest -q

demo: $(STAMP)
	bash tools/demo.sh quick

demo-full: $(STAMP)
	bash tools/demo.sh full

clean-demo:
	rm -rf data/demo work_dirs/demo
