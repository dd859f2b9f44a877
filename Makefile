# bordertrack: a thin wrapper around CMake and ctest.
#   make deps     install the Debian packages that are missing (nothing if all are there)
#   make build    configure and build in $(BUILD_DIR)
#   make test     deps + build + the whole ctest suite, then the suite again in
#                 $(ASAN_DIR) under AddressSanitizer + UndefinedBehaviorSanitizer,
#                 the thread test under ThreadSanitizer, a 10 s run of each fuzzer
#                 and the quicker unit tests under Valgrind
#   make test-valgrind  every unit test under Valgrind memcheck (slow; make test runs
#                 the quicker ones)
#   make test-tsan  test_concurrency under ThreadSanitizer ($(TSAN_DIR)); in make test
#   make test-fuzz  each libFuzzer harness for FUZZ_SECONDS (clang, $(FUZZ_DIR)); in make test
#   make fuzz       each harness for FUZZ_LONG_SECONDS (600), not in make test
#   make demo     deps + build + the Hyesan demo (examples/demo.sh): sample data
#                 imported, incidents near Hyesan listed, hyesan.png drawn
#   make install  build + install to $(PREFIX)
#   make bench    build + run the benchmark (not part of make test; installs the
#                 spatialite shell, its one-shot baseline)
#   make clean    remove the build directories
# Variables: BUILD_DIR, ASAN_DIR, PREFIX, JOBS, BUILD_TYPE, CMAKE_FLAGS.

BUILD_DIR  ?= build
ASAN_DIR   ?= build-asan
PREFIX     ?= /usr/local
JOBS       ?= 2
BUILD_TYPE ?= RelWithDebInfo
CMAKE_FLAGS ?=
CMAKE      ?= cmake
CTEST      ?= ctest

# Debian 12 packages needed to build and test. build-essential brings gcc, make and
# libc6-dev; cmake, pkg-config and gcc are named too so the list says what is used.
#   proj-data                 proj.db, for EPSG lookups (libproj25 depends on it too)
#   libsqlite3-mod-spatialite mod_spatialite, for SQL clients (sqlite3 shell, benchmark
#                             baselines) that load SpatiaLite as an extension
#   gdal-bin                  ogrinfo, for the test that GIS tools see the layers
#   libcairo2-dev             the CLI's map output
#   valgrind                  memory checks of the unit tests
#   doxygen                   the API reference, built warning-free by a test
#   clang libclang-rt-14-dev  libFuzzer and the sanitizer runtimes, for the fuzzers
#   fonts-dejavu-core         the font of the map's labels
#   libxml2-utils             xmllint, to check the map's SVG is well-formed
DEB_PACKAGES := build-essential gcc make cmake pkg-config \
	libproj-dev proj-data libgeos-dev libsqlite3-dev libspatialite-dev \
	libsqlite3-mod-spatialite libjson-c-dev libcmocka-dev gdal-bin libcairo2-dev valgrind \
	doxygen fonts-dejavu-core libxml2-utils clang libclang-rt-14-dev

# sudo only when not root (a fresh container has no sudo, and needs none).
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: all deps build test test-asan test-valgrind demo install bench clean test-tsan test-fuzz fuzz fuzz-build
# Prerequisites in the order written (deps before build); the parallelism is inside
# CMake's build (JOBS) and ctest (-j JOBS).
.NOTPARALLEL:

all: build

deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
	  st=$$(dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null || true); \
	  [ "$$st" = "install ok installed" ] || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  $(SUDO) apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y \
	    --no-install-recommends $$missing; \
	else \
	  echo "deps: all $(words $(DEB_PACKAGES)) Debian packages are installed"; \
	fi

build:
	$(CMAKE) -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)
	$(CMAKE) --build $(BUILD_DIR) -j $(JOBS)

# The sanitizer build: Debug with the fault-injecting allocator, leaks checked.
test-asan:
	$(CMAKE) -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DBT_SANITIZE=ON \
	  -DBT_FAULT_INJECTION=ON -DBT_BUILD_BENCH=OFF $(CMAKE_FLAGS)
	$(CMAKE) --build $(ASAN_DIR) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(CTEST) --test-dir $(ASAN_DIR) -j $(JOBS) --output-on-failure

test: deps build
	$(CTEST) --test-dir $(BUILD_DIR) -j $(JOBS) --output-on-failure
	$(MAKE) --no-print-directory test-asan
	$(MAKE) --no-print-directory test-tsan
	$(MAKE) --no-print-directory test-fuzz
	$(MAKE) --no-print-directory test-valgrind VALGRIND_SKIP="$(VALGRIND_QUICK_SKIP)"

# ---- trust (docs/ROBUSTNESS.md): ThreadSanitizer and the fuzzers ---------------------
TSAN_DIR          ?= build-tsan
FUZZ_DIR          ?= build-fuzz
FUZZ_SECONDS      ?= 10
FUZZ_LONG_SECONDS ?= 600

# test_concurrency with the library and the test built under ThreadSanitizer.
test-tsan:
	$(CMAKE) -S . -B $(TSAN_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBT_BUILD_BENCH=OFF \
	  -DBT_BUILD_EXAMPLES=OFF "-DCMAKE_C_FLAGS=-fsanitize=thread -fno-omit-frame-pointer" \
	  -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread \
	  -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread $(CMAKE_FLAGS)
	$(CMAKE) --build $(TSAN_DIR) -j $(JOBS) --target test_concurrency
	TSAN_OPTIONS=halt_on_error=1 $(CTEST) --test-dir $(TSAN_DIR) -R '^test_concurrency$$' \
	  --output-on-failure

# The libFuzzer harnesses of tests/fuzz (clang; the library instrumented for coverage,
# ASan+UBSan). test-fuzz: a bounded smoke run of each on its corpus; fuzz: the long run.
# A crash input is copied to tests/fuzz/regressions/<harness>/ and the target fails.
fuzz-build:
	$(CMAKE) -S . -B $(FUZZ_DIR) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DBT_FUZZ=ON -DBT_BUILD_BENCH=OFF -DBT_BUILD_EXAMPLES=OFF $(CMAKE_FLAGS)
	$(CMAKE) --build $(FUZZ_DIR) -j $(JOBS) --target fuzzers

test-fuzz: fuzz-build
	sh tests/fuzz/run_fuzzers.sh $(FUZZ_DIR) $(FUZZ_SECONDS)

fuzz: fuzz-build
	sh tests/fuzz/run_fuzzers.sh $(FUZZ_DIR) $(FUZZ_LONG_SECONDS)

# Valgrind memcheck over the unit test programs of $(BUILD_DIR), JOBS at a time. The
# whole suite takes well over ten minutes under memcheck on two cores, so `make test`
# runs it with VALGRIND_QUICK_SKIP. The fault walks, the crash test and the thread test are left to the
# sanitizers (minutes each under Valgrind). Logs: $(BUILD_DIR)/valgrind/<test>.log.
VALGRIND_SKIP ?= test_crash test_fault_sqlite test_fault_io test_concurrency
# What `make test` leaves out under Valgrind: the fault walks, the kill loop and the
# threads (covered by the ASan/LSan and TSan builds) and the tests that take minutes
# under memcheck (covered by ASan); the rest, about twenty programs, run in ~2 minutes.
VALGRIND_QUICK_SKIP := test_crash test_fault_sqlite test_fault_io test_fault_alloc \
	test_concurrency test_hostile test_bulk test_chainage test_crs test_export \
	test_import_geojson test_import_csv test_import_fault test_query
VALGRIND_FLAGS ?= -q --error-exitcode=1 --leak-check=full \
	--errors-for-leak-kinds=definite --show-leak-kinds=definite
test-valgrind: build
	@mkdir -p $(BUILD_DIR)/valgrind
	@for t in $(BUILD_DIR)/tests/test_*; do \
	  [ -f "$$t" ] && [ -x "$$t" ] || continue; \
	  case " $(VALGRIND_SKIP) " in *" $$(basename $$t) "*) continue;; esac; \
	  echo "$$t"; \
	done | xargs -P $(JOBS) -I{} sh -c 'n=$$(basename {}); \
	  if CMOCKA_MESSAGE_OUTPUT=stdout valgrind $(VALGRIND_FLAGS) {} \
	       > $(BUILD_DIR)/valgrind/$$n.log 2>&1; \
	  then echo "valgrind ok   $$n"; else echo "valgrind FAIL $$n"; exit 1; fi'

# The main job: the bordertrack tool builds a store from examples/data/, lists what
# happened within 10 km of Hyesan since the closure and draws the map hyesan.png.
DEMO_DIR ?= .
demo: deps build
	sh examples/demo.sh $(BUILD_DIR)/examples/cli/bordertrack $(DEMO_DIR)

install: build
	$(CMAKE) --install $(BUILD_DIR) --prefix $(PREFIX)

# Both benchmarks of docs/PERFORMANCE.md: the index and queries (bt_bench; add
# BENCH_FLAGS=--long for 10M incidents), then the border analysis (CPU time).
BENCH_FLAGS ?=
# the spatialite shell, the one-shot baseline of the benchmark (make bench only)
BENCH_PACKAGES := spatialite-bin
bench: build
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="$(BENCH_PACKAGES)"
	$(BUILD_DIR)/bench/bt_bench $(BENCH_FLAGS)
	$(BUILD_DIR)/bench/analysis_bench examples/data/borders.geojson $${TMPDIR:-/tmp} 1000000

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(TSAN_DIR) $(FUZZ_DIR)
