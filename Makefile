# garret: `make serve` and `make test` work on a fresh Debian 12 machine.
BUILD_DIR ?= build
GARRETD = $(BUILD_DIR)/apps/garretd/garretd
DATA_DIR ?= garret-data

.PHONY: all deps configure build garretd serve test unit integration bench bench-dedup bench-scale bench-push format clean

all: build

deps:
	@bash scripts/install-deps.sh

configure: deps
	@test -f $(BUILD_DIR)/build.ninja || cmake --preset default

build: configure
	cmake --build --preset default

garretd: configure
	cmake --build --preset default --target garretd

serve: garretd
	$(GARRETD) serve --data-dir $(DATA_DIR)

test: build
	ctest --preset default

unit: build
	ctest --preset default -L unit

integration: build
	ctest --preset default -L integration

bench: garretd
	GARRET_BENCH=1 bash scripts/install-deps.sh
	bash bench/run.sh

bench-dedup: garretd
	GARRETD=$(GARRETD) bash bench/dedup.sh

bench-scale: garretd
	GARRET_BENCH=1 bash scripts/install-deps.sh
	GARRETD=$(GARRETD) bash bench/scale.sh

bench-push: build
	GARRET_BENCH=1 bash scripts/install-deps.sh
	bash bench/push.sh

format:
	find src apps tests bench -name '*.cpp' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
