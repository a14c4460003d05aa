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

# gdal-bin (ogrinfo) checks our GeoJSON the way QGIS will read it; installed when missing.
system-deps:
	@command -v ogrinfo >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get install -y -q gdal-bin >/dev/null 2>&1 || \
	     (apt-get update -q >/dev/null && apt-get install -y -q gdal-bin >/dev/null)) && \
	    echo "installed gdal-bin"; \
	  else echo "gdal-bin missing and not root: the ogrinfo test will be skipped"; fi; }

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -q -n auto

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

samples: $(STAMP)
	$(BIN)/python -m nbhood_cli.samples --out data/samples

clean:
	rm -rf $(VENV) nbhood-out .pytest_cache
