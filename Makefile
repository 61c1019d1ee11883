# rswan: one static `ipsec` binary.  GNU make.
#
#   make            build target/ipsec (static, stripped)
#   make test       every test, clippy with warnings as errors, make size, make attack, make lab-test,
#                   then make interop
#   make lab-test   the lab scenarios under qemu (lab/run-tests), one VM, PASS/FAIL table
#   make install    PREFIX=/usr/local DESTDIR=
#   make demo       the two-gateway lab demo: rswan plutos negotiate, ping crosses in ESP
#   make interop    rswan against strongSwan 5.9 and libreswan 4.10 in the lab (long)
#   make attack     floods and forged packets against a --noklips responder (tests/attack.rs,
#                   root, about 70 s); ATTACK_IPSEC=/path/to/ipsec measures another build
#   make fuzz       every fuzz target under AFL++ (FUZZ_SECONDS each, default 1800, in parallel)
#   make bench      benchmarks (root: network namespaces, the lab VM; about 20 minutes): every
#                   benches/*.rs, then rswan against strongSwan and libreswan (bench/run);
#                   BENCH_VM=no skips the VM part; not part of make test
#   make size       stripped size of target/ipsec; fails above SIZE_LIMIT (2 MiB)
#   make clean

CARGO  ?= cargo
STRIP  ?= strip
TARGET ?= x86_64-unknown-linux-gnu
PREFIX ?= /usr/local
DESTDIR ?=

# Static glibc is fine here: the binary does no NSS lookups (no getpwnam,
# getaddrinfo of host names, ...).  The explicit --target keeps the flag off
# build scripts and proc macros, which cannot be linked statically.
STATIC_RUSTFLAGS := -C target-feature=+crt-static
# Static PIE keeps ASLR, but its relocations are mostly RELATIVE ones; DT_RELR
# packs them into a bitmap (glibc 2.36 relocates it at start): 66 KB less than
# .rela.dyn, the same layout at run time.
STATIC_RUSTFLAGS += -C link-arg=-Wl,-z,pack-relative-relocs
# No unwind tables: panic = "abort" never unwinds (ld/no-eh-frame.ld says why
# that is safe): 189 KB.
STATIC_RUSTFLAGS += -C link-arg=-Wl,-T,$(CURDIR)/ld/no-eh-frame.ld
# The code pluto never runs (the other subcommands, std's backtrace printer)
# in a segment of its own, out of pluto's resident set (ld/cold-text.ld says
# how): 260 KB of RSS.
STATIC_RUSTFLAGS += -C link-arg=-Wl,-T,$(CURDIR)/ld/cold-text.ld
# Identical code folding: the many monomorphised copies of one generic that
# compile to the same bytes (hash tables, iterators, drops) are kept once:
# 8 KB.  "all" rather than "safe": nothing compares function addresses.
# -O2: LLD also merges strings that are tails of others.
STATIC_RUSTFLAGS += -C link-arg=-Wl,--icf=all -C link-arg=-Wl,-O2
# AES in its compact software form only: IKE encrypts a few hundred bytes
# a message (ESP is the kernel's), next to milliseconds of modular
# exponentiation per negotiation; the AES-NI and fixsliced code is 9 KB.
STATIC_RUSTFLAGS += --cfg aes_compact --cfg aes_force_soft

BUILT  := target/$(TARGET)/release/ipsec
BIN    := target/ipsec
LINKS  := pluto whack tncfg eroute spi

.PHONY: all build test test-deps install clean demo bench

all: build

build:
	RUSTFLAGS="$(strip $(RUSTFLAGS) $(STATIC_RUSTFLAGS))" $(CARGO) build --release --locked --target $(TARGET)
	cp -f $(BUILT) $(BIN).tmp
	$(STRIP) -R .comment -R .gnu.warning.dlopen -R .gnu.warning.dlmopen $(BIN).tmp
	mv -f $(BIN).tmp $(BIN)
	@info=$$(file -L $(BIN)); \
	case "$$info" in \
	  *"statically linked"*|*"static-pie linked"*) ;; \
	  *) echo "ipsec: $(BIN) is not static: $$info" >&2; exit 1 ;; \
	esac; \
	echo "ipsec: static binary $(BIN), stripped size $$(stat -c %s $(BIN)) bytes"; \
	echo "$$info"

$(BIN):
	$(MAKE) build

# The packages the tests need (tshark, openssl, ...): make test stands alone on a
# machine where only `make demo` ran.
test-deps:
	tests/install-deps.sh

test: test-deps
	$(CARGO) test --locked --all-targets
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	$(MAKE) size
	$(MAKE) attack
	$(MAKE) lab-test
	$(MAKE) interop

# `ipsec setup` at boot: a systemd unit and a plain init script.
SYSTEMDDIR ?= /lib/systemd/system
INITDIR ?= /etc/init.d

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/libexec/ipsec
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/sbin/ipsec
	for l in $(LINKS); do ln -sfn ../../sbin/ipsec $(DESTDIR)$(PREFIX)/libexec/ipsec/$$l; done
	install -d $(DESTDIR)$(SYSTEMDDIR) $(DESTDIR)$(INITDIR)
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' init/ipsec.service.in > $(DESTDIR)$(SYSTEMDDIR)/ipsec.service
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' init/ipsec.init.in > $(DESTDIR)$(INITDIR)/ipsec
	chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/ipsec.service
	chmod 0755 $(DESTDIR)$(INITDIR)/ipsec

# The lab (lab/): a Debian kernel under qemu (TCG), network namespaces as gateways.
# `make lab` prepares the host (packages, kernel, initramfs in LAB_DIR; as root),
# `make lab-smoke` proves it with manual ESP SAs, `make demo` runs rswan's pluto in it.
demo:
	$(MAKE) build
	lab/setup
	lab/vm-run lab/scenarios/demo.sh

lab:
	lab/setup

lab-smoke: lab
	lab/vm-run lab/scenarios/smoke.sh

# Every lab scenario (smoke, demo and every lab/scenarios/*.sh) in ONE VM; a PASS/FAIL
# table, then "N passed, N failed".  lab/run-tests runs lab/setup itself.
# `make lab-test LAB_TESTS="trap rsa"` runs only those; LAB_SKIP="NAME ..." leaves
# scenarios out of the default run.
LAB_TESTS ?=
LAB_SKIP ?=
lab-test: build
	LAB_PEERS=no LAB_SKIP="$(LAB_SKIP)" lab/run-tests $(LAB_TESTS)

# rswan against real strongSwan and libreswan (PSK and RSA, both roles, two suites, PFS
# on/off) and against itself, in one VM; lab/interop/run-all installs the peers (lab/setup).
interop: build
	lab/interop/run-all

.PHONY: lab lab-smoke lab-test interop

# The attack suite measures the static release binary (debug arithmetic would
# make every negotiation slow) unless ATTACK_IPSEC names another one; the
# test itself needs no optimisation.
ATTACK_IPSEC ?=
attack: $(if $(ATTACK_IPSEC),,build)
	ATTACK_IPSEC="$(if $(ATTACK_IPSEC),$(ATTACK_IPSEC),$(CURDIR)/$(BIN))" \
	  $(CARGO) test --locked --test attack -- --ignored --nocapture

.PHONY: attack

# Coverage-guided fuzzing (fuzz/, a package of its own; installs cargo-afl if
# missing). Not part of `make test`; tests/fuzz_corpus.rs replays the corpus.
FUZZ_SECONDS ?= 1800
fuzz:
	fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

.PHONY: fuzz

# bench/run: the load-tester (lab/setup-bench), every benches/*.rs, the responder bursts
# natively and in the lab VM, one summary table (also in /tmp/rswan-bench/summary.txt).
bench: build
	bench/run

# The stripped static binary against its budget, 2 MiB; fails above it.  Where
# the bytes go (2 066 440): static glibc about 520 KB, std about 370 KB (150 KB
# of it the backtrace symbolizer its panic hook links, removable only with a
# rebuilt std), rswan's own code about 750 KB.  Two things keep it under:
# src/sort.rs (one heapsort instead of std's sorts per element type, 33 KB)
# and src/main.rs's pthread_getattr_np and __dcgettext (glibc's pull in scanf,
# 103 KB, and the message catalogues with iconv, 24 KB).
SIZE_LIMIT ?= 2097152
size: build
	@n=$$(stat -c %s $(BIN)); \
	echo "ipsec: $$n bytes stripped, limit $(SIZE_LIMIT) ($$(( $(SIZE_LIMIT) - n )) to spare)"; \
	test $$n -le $(SIZE_LIMIT) || { echo "ipsec: $(BIN) is over the size limit" >&2; exit 1; }

.PHONY: size

clean:
	$(CARGO) clean
	rm -f $(BIN) $(BIN).tmp
