# The two commands of the README: `make run` and `make test`. Both create .venv when it is
# missing and (re)install the project when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 7001
RTSP_PORT ?= 7554
PEER_PORT ?= 7002
HTTPS_PORT ?= 7443
DATA ?= ./data

.PHONY: install run test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

CAMERAS ?= 4
CAMERA_RTSP_PORT ?= 8554
CAMERA_HTTP_PORT ?= 8000

# The server, and beside it CAMERAS simulated cameras; Ctrl-C stops both. Every port can be
# moved: make run PORT=7101 HTTPS_PORT=7543 RTSP_PORT=7654 PEER_PORT=7102 CAMERA_RTSP_PORT=8654 CAMERA_HTTP_PORT=8100
run: install
	@echo "Starting $(CAMERAS) simulated cameras: RTSP rtsp://127.0.0.1:$(CAMERA_RTSP_PORT)/cam1/main ..., ONVIF http://127.0.0.1:$(CAMERA_HTTP_PORT)-..."
	@echo "Starting the Vigil server at http://$(HOST):$(PORT) and https://$(HOST):$(HTTPS_PORT), RTSP rtsp://$(HOST):$(RTSP_PORT) (data in $(DATA))"
	@$(BIN)/vigil testcamera --count $(CAMERAS) --rtsp-port $(CAMERA_RTSP_PORT) --http-port $(CAMERA_HTTP_PORT) & cameras=$$!; \
	trap 'kill $$cameras 2>/dev/null; wait $$cameras' EXIT INT TERM; \
	$(BIN)/vigil server --data $(DATA) --host $(HOST) --port $(PORT) --https-port $(HTTPS_PORT) --rtsp-port $(RTSP_PORT) --peer-port $(PEER_PORT)

lint: install
	$(BIN)/ruff check vigil tests bench .ci
	$(BIN)/ruff format --check vigil tests bench .ci

typecheck: install
	$(BIN)/mypy vigil

# Three workers on this two-core machine: most tests wait on real time (video playing,
# servers starting, timeouts), so two workers left the cores 40-75 % busy; three take the
# suite from about 15 to 13 minutes. Each worker draws its ports from its own share
# (tests/ports.py). The tests that bind WS-Discovery's fixed UDP port (and the README's
# examples, on the README's fixed ports) run after, one at a time.
pytest: install
	$(BIN)/pytest -n 3 -m "not udp_3702"
	$(BIN)/pytest -m udp_3702

test: lint typecheck pytest

bench: install
	$(BIN)/python -m bench.login
	$(BIN)/python -m bench.permissions
	$(BIN)/python -m bench.testcamera
	$(BIN)/python -m bench.recording
	$(BIN)/python -m bench.packets
	$(BIN)/python -m bench.crossing
	$(BIN)/python -m bench.archive_rebuild
	$(BIN)/python -m bench.browser

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache
