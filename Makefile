# One virtual environment in .venv, created and updated idempotently: the stamp file is
# remade only when pyproject.toml changes, so a second `make demo` installs nothing.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test test-slow venv clean

demo: $(STAMP)
	$(VENV)/bin/autojudge demo

# pytest exits 5 when it collected nothing: say so, and fail.
PYTEST = $(PY) -m pytest -q -m $(1) || { rc=$$?; [ $$rc -ne 5 ] || echo "pytest collected no tests: failing" >&2; exit $$rc; }

test: $(STAMP)
	$(call PYTEST,"not slow")

test-slow: $(STAMP)
	$(call PYTEST,slow)

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "autojudge needs Python 3.11 or newer; set PYTHON=python3.11")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first and pinned: the CPU build, never a CUDA download pulled in by a range.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

clean:
	rm -rf $(VENV)
