# Quick start: `make demo` (set up + default simulation), `make test` (set up + test suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.fedsift-installed

.PHONY: demo test install clean

install: $(STAMP)

# torch 2.13.0 first: it is the local CPU build; any other torch pulls a CUDA build of GBs.
$(STAMP): pyproject.toml requirements/privacy-ner.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[all]"
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r requirements/privacy-ner.txt
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/fedsift demo --out runs/demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) runs build dist *.egg-info
