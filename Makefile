# SPDX-License-Identifier: GPL-2.0-only
#
# iohazard build. `make` builds build/iohazardd and build/iohazard; `make test` runs every test
# (root for the end-to-end ones) and ends with "N passed, N failed"; `make run` starts the daemon
# in the foreground. `make deps` installs what is missing from Debian's archive.

VERSION    ?= 0.1.0
PREFIX     ?= /usr
DESTDIR    ?=
BUILD      ?= build

CC         ?= gcc
CLANG      ?= clang
BPFTOOL    ?= bpftool
ARCH       := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

# Debian packages the build, the tests and the benchmarks need. `make deps` installs the missing
# ones; the list is the single source of truth (README and docs/building.md point here).
DEB_DEPS := gcc libc6-dev make clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libsystemd-dev libjson-c-dev \
	    libmicrohttpd-dev pkg-config e2fsprogs xfsprogs btrfs-progs util-linux \
	    procps python3 qemu-system-x86 busybox-static cpio jq libncurses-dev tmux systemd \
	    prometheus bpftrace curl debhelper dpkg-dev fakeroot lintian rpm \
	    git rsync logrotate redis-server redis-tools mariadb-server mariadb-client strace \
	    libmount-dev libdw-dev elfutils clang-format

PKGS       := libbpf libsystemd json-c libmicrohttpd zlib mount libdw
PKG_CFLAGS  = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lelf

# -Wno-format-truncation: messages and paths are cut on purpose at fixed sizes (the full path
# is always in its own field); the warning fires on every such snprintf.
WARN       := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wformat=2 -Wvla \
	      -Wno-format-truncation
CFLAGS     ?= -O2 -g
override CFLAGS += -std=gnu11 $(WARN) -D_GNU_SOURCE -DIOH_VERSION='"$(VERSION)"' \
		   -I. -Ibpf -I$(BUILD) $(PKG_CFLAGS) -fno-strict-aliasing
LDLIBS     += $(PKG_LIBS) -lm

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ibpf -Ibpf/vmlinux/$(ARCH) \
	      -Wall -Werror -Wno-unused-function

# The core library: everything that neither touches BPF nor the network, shared by the
# daemon, the CLI (replay, rules check) and the unit tests.
CORE_DIRS  := daemon/util daemon/correlator daemon/detectors daemon/rules daemon/record \
	      daemon/sinks daemon/ingest daemon/stacks
CORE_SRCS  := $(sort $(foreach d,$(CORE_DIRS),$(wildcard $(d)/*.c)))
DAEMON_SRCS:= $(sort $(wildcard daemon/*.c daemon/loader/*.c daemon/api/*.c daemon/metrics/*.c \
		daemon/service/*.c))
CLI_SRCS   := $(sort $(wildcard cli/*.c cli/top/*.c))
UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
WORKLOAD_SRCS := $(sort $(wildcard tests/e2e/workloads/*.c))
BENCH_SRCS := $(sort $(wildcard bench/*.c))

CORE_OBJS  := $(CORE_SRCS:%.c=$(BUILD)/obj/%.o)
DAEMON_OBJS:= $(DAEMON_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_OBJS   := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
WORKLOAD_BINS := $(WORKLOAD_SRCS:tests/e2e/workloads/%.c=$(BUILD)/workloads/%)
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

BPF_SRC    := bpf/iohazard.bpf.c
BPF_OBJ    := $(BUILD)/iohazard.bpf.o
SKEL       := $(BUILD)/iohazard.skel.h

.PHONY: all deps run test test-unit test-e2e test-vm test-fuzz test-bins lint bench install clean \
	check-root format vmlinux deb rpm-spec-check check-build-deps bench-vm

all: $(BUILD)/iohazardd $(BUILD)/iohazard

# ---- dependencies -------------------------------------------------------------------------
deps:
	@missing=""; for p in $(DEB_DEPS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' \
			|| missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# What the build itself needs, as "thing:Debian package". Before compiling anything, each is
# checked, and a missing one is named with its package and a pointer to `make deps`, instead
# of a compiler error such as "'bpf/bpf_core_read.h' file not found".
BUILD_TOOLS := $(firstword $(CC)):gcc $(firstword $(CLANG)):clang $(firstword $(BPFTOOL)):bpftool \
	       pkg-config:pkg-config
BUILD_PCS   := libbpf:libbpf-dev libsystemd:libsystemd-dev json-c:libjson-c-dev \
	       libmicrohttpd:libmicrohttpd-dev zlib:zlib1g-dev mount:libmount-dev libdw:libdw-dev
BUILD_HDRS  := bpf/bpf_core_read.h:libbpf-dev gelf.h:libelf-dev ncursesw/curses.h:libncurses-dev

check-build-deps:
	@missing=""; pkgs=""; \
	for t in $(BUILD_TOOLS); do \
		command -v "$${t%%:*}" >/dev/null 2>&1 && continue; \
		missing="$$missing\n  $${t%%:*} (command; Debian package $${t##*:})"; pkgs="$$pkgs $${t##*:}"; \
	done; \
	for p in $(BUILD_PCS); do \
		pkg-config --exists "$${p%%:*}" 2>/dev/null && continue; \
		missing="$$missing\n  $${p%%:*} (pkg-config module; Debian package $${p##*:})"; \
		pkgs="$$pkgs $${p##*:}"; \
	done; \
	for h in $(BUILD_HDRS); do \
		echo "#include <$${h%%:*}>" | $(CC) -E -x c - >/dev/null 2>&1 && continue; \
		missing="$$missing\n  $${h%%:*} (header; Debian package $${h##*:})"; pkgs="$$pkgs $${h##*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		printf 'Missing build dependencies:%b\n' "$$missing" >&2; \
		echo "Install them with 'make deps' (as root; apt-get), or: apt-get install$$pkgs" >&2; \
		exit 1; \
	fi

# ---- BPF ----------------------------------------------------------------------------------
# bpf/arch/$(ARCH).bpf.h (syscall numbers, flags, registers) and bpf/vmlinux/$(ARCH)/vmlinux.h
# are chosen by ARCH (make ARCH=arm64 to build for another architecture).
BPF_HDRS    := $(wildcard bpf/*.h bpf/*.bpf.h bpf/arch/*.bpf.h)
BPF_VMLINUX := bpf/vmlinux/$(ARCH)/vmlinux.h

$(BPF_OBJ): $(BPF_SRC) $(BPF_HDRS) | $(BUILD) check-build-deps
	@test -f bpf/arch/$(ARCH).bpf.h || { echo "bpf/arch/$(ARCH).bpf.h is missing: $(ARCH) is not" \
		"supported yet (docs/kernels.md)" >&2; exit 1; }
	@test -f $(BPF_VMLINUX) || { echo "$(BPF_VMLINUX) is missing: 'make vmlinux' makes it on an" \
		"$(ARCH) host with /sys/kernel/btf/vmlinux (docs/building.md)" >&2; exit 1; }
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name iohazard_bpf > $@.tmp && mv $@.tmp $@

# Regenerate the committed vmlinux.h from the running kernel (see docs/building.md for why the
# build uses a committed one).
vmlinux:
	mkdir -p bpf/vmlinux/$(ARCH)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(BPF_VMLINUX)

# ---- user space ---------------------------------------------------------------------------
$(BUILD):
	mkdir -p $(BUILD)

HDRS := $(wildcard bpf/*.h daemon/*.h daemon/*/*.h cli/*.h cli/*/*.h tests/unit/*.h)

$(BUILD)/obj/%.o: %.c $(HDRS) | $(BUILD) check-build-deps
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c $< -o $@

# The vendor rules compiled in as the built-in default (daemon/rules/builtin.c): one C string
# literal per line of the file.
BUILTIN_RULES := rules/10-default.rules
$(BUILD)/builtin_rules.inc: $(BUILTIN_RULES) | $(BUILD)
	@echo "  GEN     $@"
	@sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $< >$@.tmp && mv $@.tmp $@
$(BUILD)/obj/daemon/rules/builtin.o: $(BUILD)/builtin_rules.inc

# Daemon objects include the skeleton.
$(DAEMON_OBJS): $(SKEL)

$(BUILD)/libiohazard.a: $(CORE_OBJS)
	@echo "  AR      $@"
	@rm -f $@ && ar rcs $@ $^

$(BUILD)/iohazardd: $(DAEMON_OBJS) $(BUILD)/libiohazard.a
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -o $@ $(DAEMON_OBJS) $(BUILD)/libiohazard.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/iohazard: $(CLI_OBJS) $(BUILD)/libiohazard.a
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -o $@ $(CLI_OBJS) $(BUILD)/libiohazard.a $(LDFLAGS) $(LDLIBS) -lncursesw

# The top model and its text rendering are tested without a terminal (no curses there).
TOP_TEST_OBJS := $(BUILD)/obj/cli/top/model.o $(BUILD)/obj/cli/top/render_text.o \
		 $(BUILD)/obj/cli/finding_text.o \
		 $(BUILD)/obj/cli/top/keys.o
$(BUILD)/tests/test_top_model: tests/unit/test_top_model.c $(TOP_TEST_OBJS) $(BUILD)/libiohazard.a \
		$(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(TOP_TEST_OBJS) $(BUILD)/libiohazard.a $(LDFLAGS) $(LDLIBS)

# The key table of top and what is generated from it (help, key bars, usage), against the docs.
$(BUILD)/tests/test_top_keys: tests/unit/test_top_keys.c $(TOP_TEST_OBJS) $(BUILD)/libiohazard.a \
		$(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(TOP_TEST_OBJS) $(BUILD)/libiohazard.a $(LDFLAGS) $(LDLIBS)

# The CLI's JSON-lines reader and API client, against a socketpair.
API_TEST_OBJS := $(BUILD)/obj/cli/jsonl.o $(BUILD)/obj/cli/api_client.o
$(BUILD)/tests/test_api_client: tests/unit/test_api_client.c $(API_TEST_OBJS) \
		$(BUILD)/libiohazard.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(API_TEST_OBJS) $(BUILD)/libiohazard.a $(LDFLAGS) $(LDLIBS)

# The daemon -> CLI stall contract: the daemon's real status writer feeds top's model.
$(BUILD)/tests/test_stall_contract: tests/unit/test_stall_contract.c $(TOP_TEST_OBJS) \
		$(BUILD)/obj/daemon/stall_status.o $(BUILD)/libiohazard.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/obj/daemon/stall_status.o $(TOP_TEST_OBJS) \
		$(BUILD)/libiohazard.a $(LDFLAGS) $(LDLIBS)

# The call-chain contract: the daemon's real finding writer feeds the CLI's chain reader and
# top's model (skipped in a tree without daemon/stacks/).
$(BUILD)/tests/test_chain_contract: tests/unit/test_chain_contract.c $(TOP_TEST_OBJS) \
		$(BUILD)/libiohazard.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(TOP_TEST_OBJS) $(BUILD)/libiohazard.a $(LDFLAGS) $(LDLIBS)

# Every enum <-> name table, wherever it lives: the daemon's options, loader and metrics
# objects and top's model besides the core library.
NAMES_TEST_OBJS := $(BUILD)/obj/daemon/options.o $(BUILD)/obj/daemon/loader/bpf_loader.o \
		$(BUILD)/obj/daemon/loader/hooks.o $(BUILD)/obj/daemon/metrics/exposition.o \
		$(BUILD)/obj/cli/top/model.o $(BUILD)/obj/cli/finding_text.o
$(BUILD)/tests/test_string_table: tests/unit/test_string_table.c $(NAMES_TEST_OBJS) \
		$(BUILD)/libiohazard.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(NAMES_TEST_OBJS) $(BUILD)/libiohazard.a $(LDFLAGS) $(LDLIBS)
# The unwinder's target program (tests/unit/stack_target.c) in the builds a call chain must
# survive: -O2 -g without frame pointers (Debian's default), the same stripped (no names may
# appear), with frame pointers, and with frame pointers but no CFI at all (libdwfl's
# frame-pointer fallback). Fixed flags: the tests are about these, not about $(CFLAGS).
STACK_TARGET_CFLAGS := -std=gnu11 -O2 -g $(WARN) -D_GNU_SOURCE -I. $(PKG_CFLAGS)
STACK_TARGETS := $(addprefix $(BUILD)/tests/,stack_target stack_target.stripped stack_target_fp \
		 stack_target_fp_nocfi)
$(BUILD)/tests/stack_target: tests/unit/stack_target.c $(BUILD)/libiohazard.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(STACK_TARGET_CFLAGS) -fomit-frame-pointer -o $@ $< $(BUILD)/libiohazard.a $(LDLIBS)
$(BUILD)/tests/stack_target.stripped: $(BUILD)/tests/stack_target
	objcopy --strip-all $< $@
$(BUILD)/tests/stack_target_fp: tests/unit/stack_target.c $(BUILD)/libiohazard.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(STACK_TARGET_CFLAGS) -fno-omit-frame-pointer -o $@ $< $(BUILD)/libiohazard.a $(LDLIBS)
$(BUILD)/tests/stack_target_fp_nocfi: tests/unit/stack_target.c $(BUILD)/libiohazard.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(STACK_TARGET_CFLAGS) -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
		-fno-unwind-tables -o $@.tmp $< $(BUILD)/libiohazard.a $(LDLIBS)
	objcopy --remove-section=.debug_frame $@.tmp $@ && rm -f $@.tmp
$(BUILD)/tests/test_unwind: $(STACK_TARGETS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libiohazard.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libiohazard.a $(LDFLAGS) $(LDLIBS)

# Workloads are the programs the end-to-end tests run under the daemon; plain libc only so
# they also run inside the test VM.
$(BUILD)/workloads/%: tests/e2e/workloads/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -o $@ $<

$(BUILD)/bench/%: bench/%.c $(BUILD)/libiohazard.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libiohazard.a $(LDFLAGS) $(LDLIBS)

# ---- the README's two commands ------------------------------------------------------------
check-root:
	@if [ "$$(id -u)" != 0 ]; then echo "this target needs root (BPF, mounts)" >&2; exit 1; fi

run: check-root deps
	$(MAKE) all
	$(BUILD)/iohazardd --foreground --output=text \
		--rules-dir rules --socket $(BUILD)/api.sock $(RUN_ARGS)

# Every suite: unit, fuzz (short fixed time), end-to-end with real BPF on this kernel, and the
# VM suite booting Debian's 6.1 kernel for the fentry and kprobe backends.
test: check-root deps
	$(MAKE) all test-bins
	tests/run-all.sh $(BUILD) unit lint fuzz e2e vm

test-bins: $(UNIT_BINS) $(WORKLOAD_BINS) $(BENCH_BINS)

test-unit: $(UNIT_BINS)
	tests/run-all.sh $(BUILD) unit

test-e2e: all test-bins
	tests/run-all.sh $(BUILD) e2e

test-fuzz: all test-bins
	tests/run-all.sh $(BUILD) fuzz

test-vm: check-root deps
	$(MAKE) all test-bins
	tests/run-all.sh $(BUILD) vm

bench: all test-bins
	bench/run.sh $(BUILD)

# The VM benchmark (docs/testing-vm.md): the three syscall loops under each backend on Debian's
# 6.1 kernel, guest time counted in instructions (qemu -icount), with bench/syscall_loop.
bench-vm: check-root deps
	$(MAKE) all test-bins
	bench/vm/run.sh $(BUILD)

# ---- install ------------------------------------------------------------------------------
# Everything a host needs (docs/packaging.md lists it); the .deb and the RPM spec use this
# target with PREFIX=/usr. The unit names /usr/sbin/iohazardd, so other prefixes need a drop-in.
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/iohazard
BASHCOMPDIR?= $(PREFIX)/share/bash-completion/completions
install: all
	install -D -m 0755 $(BUILD)/iohazardd $(DESTDIR)$(PREFIX)/sbin/iohazardd
	install -D -m 0755 $(BUILD)/iohazard $(DESTDIR)$(PREFIX)/bin/iohazard
	install -d $(DESTDIR)$(PREFIX)/lib/iohazard/rules.d
	install -m 0644 rules/*.rules $(DESTDIR)$(PREFIX)/lib/iohazard/rules.d/
	install -D -m 0644 packaging/systemd/iohazardd.service \
		$(DESTDIR)$(PREFIX)/lib/systemd/system/iohazardd.service
	install -D -m 0644 packaging/sysusers.d/iohazard.conf \
		$(DESTDIR)$(PREFIX)/lib/sysusers.d/iohazard.conf
	install -D -m 0644 packaging/tmpfiles.d/iohazard.conf \
		$(DESTDIR)$(PREFIX)/lib/tmpfiles.d/iohazard.conf
	install -D -m 0644 packaging/iohazard.catalog \
		$(DESTDIR)$(PREFIX)/lib/systemd/catalog/iohazard.catalog
	install -D -m 0644 packaging/man/iohazard.8 $(DESTDIR)$(MANDIR)/man8/iohazard.8
	install -D -m 0644 packaging/man/iohazardd.8 $(DESTDIR)$(MANDIR)/man8/iohazardd.8
	install -D -m 0644 packaging/bash-completion/iohazard $(DESTDIR)$(BASHCOMPDIR)/iohazard
	ln -sf iohazard $(DESTDIR)$(BASHCOMPDIR)/iohazardd
	install -d $(DESTDIR)$(DOCDIR)
	install -m 0644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 packaging/systemd/metrics-ipaddress.conf.example $(DESTDIR)$(DOCDIR)/

# ---- packages (docs/packaging.md) ---------------------------------------------------------
# `make deb`: a copy of the tree (without build/ and .git) with packaging/debian as debian/,
# dpkg-buildpackage -b, then lintian (errors fail; LINTIAN=true skips it). Output: $(BUILD)/deb/.
LINTIAN    ?= lintian
DEB_DIR     = $(BUILD)/deb
deb:
	@for t in dpkg-buildpackage dh fakeroot; do command -v $$t >/dev/null || \
		{ echo "make deb: $$t missing (make deps)" >&2; exit 1; }; done
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/iohazard-$(VERSION)
	tar --exclude=./.git --exclude=./build --exclude='./$(BUILD)' -cf - . | \
		tar -xf - -C $(DEB_DIR)/iohazard-$(VERSION)
	rm -rf $(DEB_DIR)/iohazard-$(VERSION)/debian
	cp -a packaging/debian $(DEB_DIR)/iohazard-$(VERSION)/debian
	cd $(DEB_DIR)/iohazard-$(VERSION) && dpkg-buildpackage -b -us -uc
	rm -rf $(DEB_DIR)/iohazard-$(VERSION)
	$(LINTIAN) --fail-on error --info --display-info $(DEB_DIR)/*.changes
	@ls -l $(DEB_DIR)/*.deb

# `make rpm-spec-check`: the spec parses (rpmspec -P, with rpm from Debian's archive) and its
# %files matches what `make install PREFIX=/usr` puts in place.
rpm-spec-check: all
	tests/e2e/test_packaging.sh --rpm-only

format:
	clang-format -i $$(git ls-files '*.c' '*.h' | grep -v vmlinux)

# What CI checks (part of `make test`): every C file as `make format` leaves it, and no function
# outside tests/ over 80 lines without a comment saying why.
lint:
	IOH_SRC=$(CURDIR) tests/run-all.sh $(BUILD) lint

clean:
	rm -rf $(BUILD)
