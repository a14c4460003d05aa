# Two set-up commands: `make demo` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench lint docs samples clean system-deps

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "nbhood needs Python >= 3.11 (found $$($(PYTHON) --version))"; exit 2; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || \
	  { echo "python3 -m venv failed: on Debian run 'apt-get install python3-venv'"; exit 2; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/nbhood map --out nbhood-out --overwrite
	@echo "Open nbhood-out/layers/*.geojson in QGIS; nbhood-out/summary.json lists every input."

# Leaflet as folium's pages load it (folium.Map.default_js): the browser test serves it offline.
LEAFLET := 1.9.3
NPM_DIR := build/npm

# $(call apt_install,PACKAGE,TEST): apt-get install PACKAGE when root, else say TEST is skipped.
apt_install = { if [ "$$(id -u)" = 0 ]; then \
	  (apt-get install -y -q $(1) >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null && apt-get install -y -q $(1) >/dev/null)) && \
	  echo "installed $(1)"; \
	else echo "$(1) missing and not root: the $(2) will be skipped"; fi; }

# gdal-bin (ogrinfo) checks our GeoJSON the way QGIS will read it; chromium and Leaflet (npm)
# open nbhood's HTML map offline in the browser test. Each is installed only when missing.
system-deps:
	@command -v ogrinfo >/dev/null 2>&1 || $(call apt_install,gdal-bin,ogrinfo test)
	@command -v chromium >/dev/null 2>&1 || $(call apt_install,chromium,browser map test)
	@command -v npm >/dev/null 2>&1 || $(call apt_install,npm,browser map test)
	@grep -qs '"version": "$(LEAFLET)"' $(NPM_DIR)/node_modules/leaflet/package.json || { \
	  if command -v npm >/dev/null 2>&1; then \
	    npm install --prefix $(NPM_DIR) --save-exact --no-audit --no-fund --loglevel=error \
	      leaflet@$(LEAFLET) >/dev/null && echo "installed leaflet@$(LEAFLET) in $(NPM_DIR)"; \
	  else echo "npm missing: the browser map test will be skipped"; fi; }

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -q -n auto

# spopt (the bench extra) only for make bench: nbhood propose is compared with its max-p.
$(VENV)/.bench-installed: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@touch $@

bench: $(VENV)/.bench-installed
	$(BIN)/python benchmarks/run.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts

docs: $(STAMP)
	$(BIN)/python scripts/gen_cli_docs.py

samples: $(STAMP)
	$(BIN)/python -m nbhood_cli.samples --out data/samples

clean:
	rm -rf $(VENV) nbhood-out .pytest_cache build
