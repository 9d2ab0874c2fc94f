# One virtual environment in .venv, created and updated idempotently: the stamp file is
# remade only when pyproject.toml or the torch pin changes, so a second `make demo` installs
# nothing.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
EXTRAS := serve,llm,train,test
# The CPU wheels of torch; used when this machine can reach it (else pip's own configuration
# must offer the +cpu wheel, e.g. a find-links folder).
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: demo test test-slow test-lowest venv clean

demo: $(STAMP)
	$(VENV)/bin/autojudge demo

# pytest exits 5 when it collected nothing: say so, and fail.
PYTEST = $(PY) -m pytest -q -m $(1) || { rc=$$?; [ $$rc -ne 5 ] || echo "pytest collected no tests: failing" >&2; exit $$rc; }

test: $(STAMP)
	$(call PYTEST,"not slow")

test-slow: $(STAMP)
	$(call PYTEST,slow)

# The lowest declared versions (constraints/lowest.txt) in a fresh venv, then the offline suite.
test-lowest:
	PYTHON=$(PYTHON) TORCH_INDEX=$(TORCH_INDEX) .ci/test-lowest

venv: $(STAMP)

$(STAMP): pyproject.toml constraints/cpu.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "autojudge needs Python 3.11 or newer; set PYTHON=python3.11")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, pinned to its CPU build (constraints/cpu.txt says torch==X+cpu): pip can
	# never pull a multi-GB CUDA build; the library itself only asks for a range.
	$(PY) -m pip install -q -c constraints/cpu.txt torch $$($(PY) .ci/index-args '$(TORCH_INDEX)')
	# The distribution was called `autojudge` before it took its PyPI name: drop that copy first.
	$(PY) -m pip uninstall -q -y autojudge 2>/dev/null || true
	$(PY) -m pip install -q -c constraints/cpu.txt -e '.[$(EXTRAS)]'
	@touch $(STAMP)

clean:
	rm -rf $(VENV)
