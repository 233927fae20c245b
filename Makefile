# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
# llama-cpp-python builds from source: a portable build, without the multimodal helpers.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF

DEMO_REQUEST := Read this aloud, then transcribe the recording: offline assistants keep your data private

.PHONY: setup cache demo test gui lint clean install-desktop bundle test-bundle

setup: $(STAMP) cache

$(STAMP): pyproject.toml requirements-nodeps.txt scripts/install_system_deps.sh
	bash scripts/install_system_deps.sh
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	$(PY) -m pip install -q --no-deps -r requirements-nodeps.txt
	touch $(STAMP)

cache: $(STAMP)
	$(PY) scripts/build_model_cache.py

demo: setup
	$(PY) main.py ask "$(DEMO_REQUEST)"

test: setup
	$(PY) -m pytest -q -p no:cacheprovider

gui: setup
	$(PY) main.py gui

# The offline bundle (dist/conductor-offline-*.tar): on the air-gapped machine, tar xf it and
# run ./install.sh in the folder it makes.
bundle: setup
	$(PY) scripts/make_bundle.py --extras "$(BUNDLE_EXTRAS)"

test-bundle: setup
	$(PY) -m pytest -q -p no:cacheprovider --run-bundle tests/test_bundle.py

install-desktop: setup
	$(PY) -m conductor install-desktop

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV)
