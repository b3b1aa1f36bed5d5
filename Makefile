# Thin front end over meson.  The build lives in build/ (release, -Werror),
# coverage in build-cov/.  See README.md for what each target does.

BUILD    ?= build
COVBUILD ?= build-cov
MESON    ?= meson
SOURCES  := $(shell find src tests -name '*.[ch]' 2>/dev/null | sort)
ACSL_SRC := $(wildcard src/kernels/*.c)
RUN_TESTS = ./$(1)/tests/run_tests --softlin $(1)/src/softlin \
            --data tests/data

.PHONY: all deps build check unit acsl-parse coverage format format-check \
        checks-quick report report-test clean

all: build

deps:
	@./tools/deps.sh

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) -Dwerror=true

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

# Everything a change must pass: style, ACSL well-formedness, every test.
check:
	@./tools/deps.sh
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory format-check acsl-parse unit checks-quick \
	  report-test proofs-replay
	@awk '$$1 == "tests" { printf "check: %d passed, %d failed\n", \
	  $$4, $$5 }' reports/unit.log

unit: build
	@mkdir -p reports
	@$(call RUN_TESTS,$(BUILD)) > reports/unit.log 2>&1; rc=$$?; \
	  cat reports/unit.log; exit $$rc
	./$(BUILD)/src/softlin oracle --cases 200 --json reports/accuracy.json

# Formal proofs of the kernels (proofs/README.md): WP and Eva, a full run
# that refreshes the committed proof cache, then the gate.
.PHONY: proofs proofs-replay
proofs:
	@/usr/bin/python3 tools/proofs.py full

# The gate on the committed cache (no prover runs when nothing changed),
# then its own test: a contract broken on purpose must fail it.
proofs-replay:
	@/usr/bin/python3 tools/proofs.py replay
	@./tests/proofs_gate_test.sh

# Frama-C must parse every contract (proofs themselves: make proofs).
acsl-parse:
	@frama-c -cpp-extra-args="-Ispec -Isrc" $(ACSL_SRC) > /dev/null \
	  && echo "acsl-parse: $(words $(ACSL_SRC)) kernel files parsed"

$(COVBUILD)/build.ninja:
	$(MESON) setup $(COVBUILD) -Db_coverage=true --buildtype=debug \
	  -Dwerror=true

coverage:
	@./tools/deps.sh
	@$(MAKE) --no-print-directory $(COVBUILD)/build.ninja
	ninja -C $(COVBUILD)
	@find $(COVBUILD) -name '*.gcda' -delete
	$(call RUN_TESTS,$(COVBUILD)) > $(COVBUILD)/tests.log 2>&1 \
	  || { tail -n 30 $(COVBUILD)/tests.log; exit 1; }
	@./tools/coverage.sh $(COVBUILD) reports/coverage

format:
	clang-format -i $(SOURCES)

format-check:
	@clang-format --dry-run --Werror $(SOURCES)
	@awk 'length($$0) > 80 { printf "%s:%d: line over 80 columns\n", \
	  FILENAME, FNR; bad = 1 } END { exit bad }' $(SOURCES) spec/*.acsl
	@echo "format-check: $(words $(SOURCES)) files clean"

# The report page: well-formed, links that hold (from fixtures).
report-test:
	@/usr/bin/python3 tests/report_page_test.py

# The quick Monte Carlo check set, gated (part of make check).
checks-quick: build
	@./tools/checks.sh $(BUILD) reports/quick quick

# The main job: every check at default size, proofs, coverage, reports.
# QUICK=1 runs the quick sizes.
report:
	@./tools/deps.sh
	@$(MAKE) --no-print-directory build
	@./tools/report.sh $(BUILD) $(QUICK)

# softlin's concentration check against numpy and torch (bench/run.sh):
# times, ns per token, speedups, thread scaling, the raw Gaussian rate.
# Installs python3-numpy and python3-torch when missing (as root).
.PHONY: bench
bench: build
	@./bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(COVBUILD)
