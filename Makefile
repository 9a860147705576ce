# Quick start: `make demo` (a three-node tour) and `make test` (the whole suite).
# Both first make sure the Debian packages we build with are present.

PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# Seconds per fuzz target, in `make fuzz` and in `make test` (CI): at least 60.
# Targets run FUZZ_JOBS at a time.
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= $(JOBS)
# iproute2: test_netns.sh (network namespaces); strace: test_s6_wire.sh;
# faketime: test_trust_*.sh (an insider whose clock is set back).
# libpwquality-dev and cracklib-runtime (its dictionary): the CLI's
# passphrase strength check.
PACKAGES = build-essential cmake pkg-config libsodium-dev libuv1-dev libmsgpack-dev \
           libsqlite3-dev libphonenumber-dev libpwquality-dev cracklib-runtime clang \
           libclang-rt-14-dev python3 procps iproute2 strace faketime

.PHONY: all deps build build-asan build-fuzz test test-unit fuzz fuzz-long soak valgrind demo bench install clean

all: build

deps:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "agah: installing missing packages:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	  else \
	    echo "agah: missing packages. Install them with:"; \
	    echo "  sudo apt-get install -y$$missing"; \
	    exit 1; \
	  fi; \
	fi

build: deps
	cmake -S . -B build -DAGAH_WERROR=ON >/dev/null
	cmake --build build -j $(JOBS)

build-asan: deps
	cmake -S . -B build-asan -DAGAH_WERROR=ON -DAGAH_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build build-asan -j $(JOBS)

build-fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B build-fuzz -DAGAH_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build build-fuzz -j $(JOBS)

# The suite runs twice: a normal build, then under ASan+UBSan; then each fuzz
# target for FUZZ_SECONDS (60 s unless set: `make test FUZZ_SECONDS=10`).
test: build build-asan
	cd build && ctest --output-on-failure -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)
	$(MAKE) fuzz FUZZ_SECONDS=$(FUZZ_SECONDS)

fuzz: build-fuzz
	@bash tests/fuzz/run.sh build-fuzz/fuzz $(FUZZ_SECONDS) $(FUZZ_JOBS)

# Every fuzz target for an hour each (FUZZ_LONG_SECONDS), for a machine left
# alone: not part of `make test`. Record what it finds in docs/SECURITY.md.
FUZZ_LONG_SECONDS ?= 3600
fuzz-long: build-fuzz
	@bash tests/fuzz/run.sh build-fuzz/fuzz $(FUZZ_LONG_SECONDS) $(FUZZ_JOBS)

# The model test of the membership and epoch rules over many more seeds than
# `make test` runs (200): SOAK_SEEDS random communities, each reproducible
# with `build/tests/test_model SEED`.
SOAK_SEEDS ?= 20000
# and SOAK_NODE_SEEDS communities of real nodes (test_model_node, about 0.8 s each).
SOAK_NODE_SEEDS ?= 500
soak: build
	build/tests/test_model --seeds $(SOAK_SEEDS)
	build/tests/test_model_node --seeds $(SOAK_NODE_SEEDS)

# The unit tests and most integration tests with every agahd and agah under
# valgrind, on a debug build without sanitizers. Not part of `make test`:
# it is slow. tests/valgrind.sh says which tests and why.
valgrind: PACKAGES += valgrind
valgrind: deps
	cmake -S . -B build-valgrind -DAGAH_WERROR=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build build-valgrind -j $(JOBS)
	@bash tests/valgrind.sh build-valgrind

demo: build
	@bash tests/demo.sh build

bench: build
	@bash bench/run.sh build

install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 build/agahd build/agah $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf build build-asan build-fuzz build-valgrind
