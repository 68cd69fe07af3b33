# The two commands: `make demo` runs the main job, `make test` passes the tests.
# Both create .venv from requirements.lock when it is missing.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv test test-all demo demo-beta-vae lint format bench clean

venv: $(STAMP)

$(STAMP): requirements.lock setup.py
	@command -v $(PYTHON) >/dev/null 2>&1 || { \
	  echo "error: $(PYTHON) not found. yoto_tf pins TensorFlow 2.14.1, which needs Python 3.11;"; \
	  echo "       install Python 3.11 or run 'make PYTHON=/path/to/python3.11 ...'."; exit 2; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { \
	  echo "error: $(PYTHON) is not Python 3.11 (TensorFlow 2.14.1 needs 3.11)."; exit 2; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --no-deps -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Fast suite (CI): everything but tests marked slow.
test: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest -m "not slow" tests

# Everything, including end-to-end training runs.
test-all: venv
	$(PY) -m pytest tests

# The main job: a YOTO image codec trained, exported, and compared with JPEG.
demo: venv
	$(PY) -m zoo.demo

demo-beta-vae: venv
	$(PY) -m zoo.demo_beta_vae

bench: venv
	$(PY) bench/bench_train_step.py

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: venv
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
