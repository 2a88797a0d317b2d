# filtervis: two commands do everything on a fresh machine:
#   make visualize-conv3_1   the main job: VGG16 conv3_1 filter images into Outputs/vgg16/conv3_1/
#   make test                every test, after fetching the real weights and photos it checks against
# Everything else is here for people working on filtervis. `make help` lists it.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Where weights, photos and downloaded packages are cached (shared by all checkouts).
FILTERVIS_CACHE ?= $(HOME)/.cache/filtervis
export FILTERVIS_CACHE

# Release builds target the host's vector unit (about 100x faster SIMD here); TARGET_CPU= (empty) builds portably.
TARGET_CPU ?= $(shell Scripts/detect-target-cpu.sh)
CPU_FLAGS := $(if $(TARGET_CPU),-Xswiftc -target-cpu -Xswiftc $(TARGET_CPU) -Xcc -march=$(TARGET_CPU),)
# One set of flags for build, test and bench so they share one build folder and compile once.
SWIFT_FLAGS := -c release $(CPU_FLAGS) -Xswiftc -enable-testing
BIN := .build/release/filtervis

# Visualisation knobs, passed through to `filtervis visualize` (see `filtervis visualize --help`).
MODEL ?= vgg16
PRESET ?= default
FILTERS ?= 0-63
SEED ?= 0
THREADS ?=
EXTRA ?=

.PHONY: help deps build test test-fresh-machine test-slurm bench weights photos clean fixtures fuzz visualize-% patches-% experiment-%

help:
	@echo "filtervis make targets"
	@echo "  make visualize-conv3_1   VGG16 conv3_1 filter images (any layer: visualize-LAYER;"
	@echo "                           MODEL=alexnet make visualize-conv2; FILTERS=all PRESET=lucid SEED=1 pass through)"
	@echo "  make test                build and run every test (fetches weights and photos first)"
	@echo "  make build               release build of the filtervis CLI ($(BIN))"
	@echo "  make weights             fetch and import the pretrained weights into $(FILTERVIS_CACHE)"
	@echo "  make photos              fetch the real photo collection into $(FILTERVIS_CACHE)/photos"
	@echo "  make patches-conv5_3     top-activating photo patches for a layer"
	@echo "  make experiment-NAME     run Experiments/NAME.json5 into Outputs/NAME/"
	@echo "  make test-fresh-machine  fetch everything again as a new machine would (empty apt lists, empty cache)"
	@echo "  make test-slurm          the README's Slurm job array on a real one-node Slurm started for the test (root)"
	@echo "  make bench               our speed next to PyTorch / onnxruntime on the same workloads"
	@echo "  make fixtures            regenerate the committed test fixtures (needs PyTorch, Pillow, onnxruntime)"
	@echo "  make fuzz                libFuzzer on every parser, FUZZ_SECONDS=$(FUZZ_SECONDS) each (FUZZ_TARGETS= picks some)"
	@echo "  TARGET_CPU=$(TARGET_CPU) (detected; TARGET_CPU= builds for the portable default)"

deps:
	@Scripts/ensure-apt.sh pkg-config libpng-dev libjpeg-dev unzip

build: deps
	swift build $(SWIFT_FLAGS) --product filtervis

weights: build
	@Scripts/fetch-weights.sh $(BIN)

photos:
	@Scripts/fetch-photos.sh

test: deps weights photos
	swift build $(SWIFT_FLAGS) --build-tests
	FILTERVIS_BIN=$(abspath $(BIN)) swift test $(SWIFT_FLAGS) --skip-build

# A new machine's first run: apt with empty package lists and an empty FILTERVIS_CACHE (CI runs it before make test).
test-fresh-machine: build
	@Scripts/test-fresh-machine.sh $(BIN)

# Experiments/slurm/*.sbatch on a real Slurm (slurm-wlm + munge, installed when missing): array + merge == one run,
# a cancelled task resumes; every daemon it starts is stopped again (CI runs it after make test).
test-slurm: weights photos
	@Scripts/test-slurm.sh $(BIN)

bench: weights photos
	@Scripts/ensure-apt.sh bc
	swift build $(SWIFT_FLAGS) --product filtervis-bench
	@Scripts/bench.sh .build/release/filtervis-bench
	@Scripts/bench_jobs.sh $(BIN)

fixtures:
	@Scripts/make-fixtures.sh

# Coverage-guided fuzzing (issue 18): an instrumented build in .build-fuzz, corpora kept in .fuzz/.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?=
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) Scripts/fuzz.sh run $(FUZZ_TARGETS)

visualize-%: weights
	$(BIN) visualize --model $(MODEL) --layer $* --preset $(PRESET) --filters $(FILTERS) --seed $(SEED) \
		$(if $(THREADS),--threads $(THREADS)) --out Outputs/$(MODEL)/$* $(EXTRA)

patches-%: weights photos
	$(BIN) patches --model $(MODEL) --layers $* --images $(FILTERVIS_CACHE)/photos --out Outputs/$(MODEL)/patches-$* $(EXTRA)

experiment-%: weights photos
	$(BIN) run Experiments/$*.json5 $(EXTRA)

clean:
	rm -rf .build
