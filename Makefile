# Developer shortcuts. CI runs .ci/run (README's commands); these are the same steps by name.
PY ?= python3

.PHONY: build test test-kernels sanitize bench lint format docs clean

build:          ## compile the kernels in place (editable install)
	$(PY) -m pip install -e . --no-build-isolation

test:           ## the whole suite, as CI runs it
	pytest tests -q

test-kernels:   ## kernels against their references, every ISA, 1 and 2 threads
	pytest tests/kernels -q

sanitize:       ## the kernel tests under ASan + UBSan (a separate build of a copy)
	bash .ci/sanitize

bench:          ## kernel and training-step figures (see bench/RESULTS.md)
	minnet-bench kernels --threads 2,1
	minnet-bench train --threads 2

lint:           ## what CI checks: ruff, clang-format, mypy on the typed modules
	ruff check .
	ruff format --check .
	clang-format --dry-run --Werror csrc/*.c csrc/*.h
	mypy

format:         ## apply the formatters
	ruff check --fix .
	ruff format .
	clang-format -i csrc/*.c csrc/*.h

docs:           ## the API reference, warnings as errors
	$(PY) -m sphinx -W --keep-going -b html docs build/docs

clean:
	rm -rf build minnet/_kernels/*.so minnet/_kernels/*.c
