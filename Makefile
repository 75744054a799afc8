# hivegym — every workflow is a make target. `make help` lists them.

GO          ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
BIN         := bin/hivegym
PKGS        := ./...
# Benchmarks: BENCH selects, BENCHTIME sets how long each runs.
BENCH       ?= .
BENCHTIME   ?= 1s

.PHONY: help build lib test-go test-python bench-python run tournament-example scoreboard scoreboard-docs test test-race test-torch torch-setup lint fmt bench fuzz ci clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## build bin/hivegym
	$(GO) build -o $(BIN) ./cmd/hivegym

# make run trains the default config, evaluates it against baselines on held-out seeds and
# writes the report. RUN_DIR is make run's scratch directory: it starts afresh each time.
RUN_DIR ?= runs/make-run

run: build ## train the default config, evaluate it against baselines, write the report
	rm -rf $(RUN_DIR)
	./$(BIN) train --out $(RUN_DIR)
	./$(BIN) eval $(RUN_DIR) --episodes 10 --seed 100 --baselines random,cost-plus,boulware
	./$(BIN) report $(RUN_DIR) $(RUN_DIR)/eval --out $(RUN_DIR)/report
	@echo "report: $(RUN_DIR)/report/report.html"

# make scoreboard runs the learning scoreboard (docs/training.md): every scenario x scheme x
# role setup, 3 seeds, the default training budget. Hours on 2 cores; Ctrl-C and run it
# again to continue (--resume). make scoreboard-docs splices its table into docs/training.md.
SCOREBOARD     ?= experiments/scoreboards/default.yaml
SCOREBOARD_OUT ?= runs/scoreboard-default

tournament-example: build ## train the example's groups and play examples/tournaments/ (about 6 minutes on 2 cores)
	HG=$(BIN) bash examples/tournaments/run.sh

scoreboard: build ## run the learning scoreboard (hours; resumes where it stopped)
	./$(BIN) scoreboard -c $(SCOREBOARD) --out $(SCOREBOARD_OUT) --resume

scoreboard-docs: build ## splice the scoreboard's results table into docs/training.md
	./$(BIN) scoreboard -c $(SCOREBOARD) --out $(SCOREBOARD_OUT) --no-run --splice docs/training.md

test: test-go test-python ## run the test suite (the command CI runs): Go, then Python

test-go: ## the Go tests
	$(GO) test -count=1 $(PKGS)

test-python: ## the Python package's tests (pytest; makes build/pyenv with what they need)
	bash scripts/python-test.sh

lib: ## build the C ABI shared library build/libhivegym.so (cgo)
	$(GO) build -buildmode=c-shared -o build/libhivegym.so ./cabi

test-race: ## the test suite under the race detector
	$(GO) test -count=1 -race $(PKGS)

torch-setup: ## install libtorch (apt) and prepare build/gotch + go.work for -tags torch
	bash scripts/torch-setup.sh

test-torch: torch-setup ## vet and test with -tags torch (the libtorch backend; installs what it needs)
	$(GO) vet -tags torch ./agents/torchnn/
	$(GO) test -count=1 -tags torch ./agents/... ./experiments/

lint: ## gofmt check, go vet, staticcheck (pinned)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run $(STATICCHECK) $(PKGS)

fmt: ## gofmt the tree
	gofmt -w $$(git ls-files '*.go')

bench: ## run the benchmarks (BENCH=regexp BENCHTIME=2s to narrow), then bench-python
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchtime $(BENCHTIME) -benchmem $(PKGS)
	$(MAKE) bench-python

bench-python: ## decisions/s: Python batched and PettingZoo APIs vs native Go, one run
	bash scripts/python-test.sh --bench

fuzz: ## run every fuzz target for FUZZTIME each (default 30s)
	@for spec in $$($(GO) test -list '^Fuzz' $(PKGS) | awk '/^Fuzz/{print fn" "$$0} /^ok/{fn=$$2}' | tr ' ' ':'); do \
	  pkg=$${spec%%:*}; fn=$${spec##*:}; \
	  echo "== $$pkg $$fn"; $(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $${FUZZTIME:-30s} $$pkg || exit 1; \
	done

ci: lint test ## what CI runs: lint, then the test suite

clean: ## remove build output
	rm -rf bin build/pyenv build/libhivegym.so build/libhivegym.h
