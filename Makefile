# A thin wrapper over the CMake presets (CMakePresets.json holds the build knowledge).
#
#   make run            install deps, build, start avant on examples/main.ini (http://127.0.0.1:20023/)
#   make test           install deps, configure, build, run every test (the README's test command)
#   make lab N=01       build chapter 01 from labs/01-*/starter into build/lab01
#   make check N=03     run chapters 01..03 against build/lab03 (a layer is done when all below pass)
#   make grade N=03     the one command that says a lab is done: check, then TSan (ASan), then x20
#   make labs-status    every lab: untouched, in progress (red: n of m) or done
#   make asan | tsan    the suite under AddressSanitizer+UBSan | ThreadSanitizer
#   make fuzz           every libFuzzer target for FUZZ_SECONDS (60) each (fuzz/run)
#   make bench          release build + the benchmark harness, report in bench/results/
#   make format         clang-format every C/C++ source in place (format-check: CI's check)
#   make tidy           clang-tidy (.clang-tidy) on every source (default build, fuzz targets)
#   make clean          remove build/
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
JOBS ?= 2
# CI (CI=true) turns warnings into errors; locally they stay warnings.
WERROR := $(if $(CI),ON,OFF)
CONFIGURE = cmake --preset $(1) -DAVANT_LAB= -DAVANT_WERROR=$(WERROR) >/dev/null

.PHONY: help deps run test lab check grade labs-status asan tsan fuzz bench format format-check tidy clean

help:
	@sed -n '2,14p' Makefile | sed 's/^# \{0,1\}//'

deps:
	@scripts/install-deps.sh

test: deps
	$(call CONFIGURE,default)
	cmake --build --preset default -j $(JOBS)
	ctest --preset default

# The assembled server on the example configuration: the site in examples/www over HTTP on
# 20023 and HTTPS on 20443 (with an example certificate made at the first run).
run: deps
	$(call CONFIGURE,default)
	cmake --build --preset default -j $(JOBS) --target avant avant-cli
	@scripts/example-cert.sh
	@echo "make run: open http://127.0.0.1:20023/  (HTTPS: curl --cacert examples/tls/example-cert.pem https://localhost:20443/)"
	@echo "make run: protobuf echo: build/default/clients/cpp/avant-cli echo  (--port 20024; TLS 20444, WebSocket 20026; UDP 20025)"
	@echo "make run: Ctrl-C stops it: no new clients; requests in flight finish first"
	build/default/apps/avant -c examples/main.ini

# N=05 -> "05"; refuses anything that is not a chapter number. No '#' in here: GNU Make 4.3
# passes a '\#' inside $(shell ...) to the shell with its backslash, older makes read a bare '#'
# as a comment; `expr` reads "08" as eight.
NN = $(shell n='$(N)'; [[ "$$n" =~ ^[0-9]{1,2}$$ ]] && printf '%02d' "$$(expr "$$n" + 0)")

lab: deps
	@[[ -n "$(NN)" ]] || { echo "usage: make lab N=01"; exit 2; }
	cmake --preset default -B build/lab$(NN) -DAVANT_LAB=$(NN) -DAVANT_WERROR=$(WERROR) >/dev/null
	cmake --build build/lab$(NN) -j $(JOBS)
	@echo "make lab: built chapter $(NN) from its starter in build/lab$(NN); grade it with"
	@echo "          ctest --test-dir build/lab$(NN) -L ch$(NN) --output-on-failure   or   make check N=$(N)"

check: lab
	ctest --test-dir build/lab$(NN) --output-on-failure \
	  -L "^ch($$(seq -s '|' -f '%02g' 1 $(NN)))$$"

# Chapters 01..N in the plain build, under TSan (and ASan where the handout says), then chapter
# N's tests 20 times (REPEAT=); one summary line per step. labs/grade says more.
grade: deps
	@[[ -n "$(NN)" ]] || { echo "usage: make grade N=01"; exit 2; }
	@labs/grade $(NN)

labs-status:
	@labs/status

asan: deps
	$(call CONFIGURE,asan)
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan

# ThreadSanitizer maps its shadow memory at fixed addresses that the high mmap randomisation of
# recent kernels can collide with; `setarch -R` turns address randomisation off for the tests.
tsan: deps
	$(call CONFIGURE,tsan)
	cmake --build --preset tsan -j $(JOBS)
	setarch $$(uname -m) -R ctest --preset tsan

# fuzz/run builds the fuzz preset itself (clang, -fsanitize=fuzzer) and prints a table.
fuzz: deps
	fuzz/run

bench: deps
	bench/run

SOURCES = git ls-files -co --exclude-standard -- '*.cpp' '*.hpp' '*.c' '*.h'

format:
	$(SOURCES) | xargs -r clang-format -i

format-check:
	$(SOURCES) | xargs -r clang-format --dry-run -Werror

# Every C++ source the default build compiles (lab starters are checked by their own builds).
tidy:
	$(call CONFIGURE,default)
	git ls-files -- 'src/*.cpp' 'apps/*.cpp' 'tests/*.cpp' 'examples/*.cpp' 'bench/*.cpp' | \
	  xargs -r -P $(JOBS) -n 4 clang-tidy -p build/default --quiet --warnings-as-errors='*'
	cmake --preset fuzz -DAVANT_WERROR=$(WERROR) >/dev/null
	git ls-files -- 'fuzz/*.cpp' | \
	  xargs -r -P $(JOBS) -n 4 clang-tidy -p build/fuzz --quiet --warnings-as-errors='*'

clean:
	rm -rf build
