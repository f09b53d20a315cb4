# verdon: one plain Makefile. `make` builds build/verdond and build/verdonctl;
# `make check` runs every suite; `make sanitize` runs them under ASan+UBSan;
# `make fuzz` builds the libFuzzer targets; `make run` starts a demo daemon.

CC      ?= cc
BUILD   ?= build
PKGS     = lmdb libpq liboath libargon2 pwquality jansson inih libqrencode libpng libcrypto libssl libcrypt libmicrohttpd libsystemd libcurl

WARN     = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat-security -Wimplicit-fallthrough
HARDEN   = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIC
CFLAGS  ?= -O2 -g
ALL_CFLAGS  = -std=gnu11 $(CFLAGS) $(WARN) $(HARDEN) $(EXTRA_CFLAGS) -Iproto -Idaemon -Icli \
              $(shell pkg-config --cflags $(PKGS)) -MMD -MP
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now -Wl,--as-needed $(LDFLAGS) $(EXTRA_LDFLAGS)
LIBS     = $(shell pkg-config --libs $(PKGS)) -lunistring -lpthread -lpam

PROTO_SRC  = $(wildcard proto/*.c)
DAEMON_SRC = $(filter-out daemon/main.c,$(wildcard daemon/*.c))
CLI_SRC    = $(filter-out cli/verdonctl.c,$(wildcard cli/*.c))
PAM_SRC    = $(wildcard pam_module/*.c)
WEB_FILES  = $(wildcard daemon/web/*)
WEB_C      = $(BUILD)/gen/web_assets.c
UNIT_SRC   = $(wildcard tests/unit/test_*.c)
UNIT_COMMON = tests/unit/store_fixture.c
FUZZ_SRC   = $(wildcard tests/fuzz/fuzz_*.c)
BENCH_COMMON = tests/bench/bench_common.c
BENCH_SRC  = $(filter-out $(BENCH_COMMON),$(wildcard tests/bench/*.c))

# Quiet by default; `make V=1` shows every command.
Q = $(if $(V),,@)
obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

PROTO_LIB  = $(BUILD)/libproto.a
DAEMON_LIB = $(BUILD)/libdaemon.a
CLI_LIB    = $(BUILD)/libcli.a
PAM_LIB    = $(BUILD)/libpamverdon.a
ALL_LIBS   = $(DAEMON_LIB) $(CLI_LIB) $(if $(PAM_SRC),$(PAM_LIB)) $(PROTO_LIB)
UNIT_BIN   = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
BENCH_BIN  = $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
DEPS_STAMP = build/.deps-ok

.PHONY: all deps binaries tests check sanitize fuzz fuzzers run clean bench format failpoint soak fuzz-long install deb

all: deps
	@$(MAKE) --no-print-directory binaries

# The project installs what it needs itself: nothing by hand.
deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/deps.sh $(wildcard tests/browser/package-lock.json)
	@./scripts/deps.sh
	@mkdir -p build && touch $@

binaries: $(BUILD)/verdond $(BUILD)/verdonctl $(if $(PAM_SRC),$(BUILD)/pam_verdon.so)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(PROTO_LIB): $(call obj,$(PROTO_SRC))
	@rm -f $@; ar rcs $@ $^
# The page is compiled in: see scripts/embed.sh.
$(WEB_C): $(WEB_FILES) scripts/embed.sh
	@mkdir -p $(dir $@)
	@./scripts/embed.sh $@ $(sort $(WEB_FILES))
$(BUILD)/obj/gen/web_assets.o: $(WEB_C)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(DAEMON_LIB): $(call obj,$(DAEMON_SRC)) $(BUILD)/obj/gen/web_assets.o
	@rm -f $@; ar rcs $@ $^
$(CLI_LIB): $(call obj,$(CLI_SRC))
	@rm -f $@; ar rcs $@ $^
$(PAM_LIB): $(call obj,$(PAM_SRC))
	@rm -f $@; ar rcs $@ $^

$(BUILD)/verdond: $(call obj,daemon/main.c) $(DAEMON_LIB) $(PROTO_LIB)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/verdonctl: $(call obj,cli/verdonctl.c) $(CLI_LIB) $(PROTO_LIB)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# The PAM module links only the protocol client: it never opens the store or a key.
$(BUILD)/pam_verdon.so: $(call obj,$(PAM_SRC)) $(PROTO_LIB)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -shared -Wl,-z,relro,-z,now -Wl,--no-undefined -Wl,--exclude-libs,ALL -o $@ $^ -lpam

# Each unit test with the fixtures they share (a temporary real store).
$(BUILD)/tests/%: $(call obj,tests/unit/%.c) $(call obj,$(UNIT_COMMON)) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) -Wl,--start-group $(ALL_LIBS) \
		-Wl,--end-group $(LIBS) $(shell pkg-config --libs cmocka)

# Each benchmark program with the timing, percentile and option code they share.
$(BUILD)/bench/%: $(call obj,tests/bench/%.c) $(call obj,$(BENCH_COMMON)) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) -Wl,--start-group $(ALL_LIBS) \
		-Wl,--end-group $(LIBS)

tests: binaries $(UNIT_BIN) $(BENCH_BIN)

check: deps
	@$(MAKE) --no-print-directory tests
	@$(MAKE) --no-print-directory failpoint
	@$(MAKE) --no-print-directory fuzzers BUILD=build/fuzz CC=clang \
		EXTRA_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined -U_FORTIFY_SOURCE" >build/fuzz-build.log 2>&1 \
		|| { cat build/fuzz-build.log; exit 1; }
	@BUILD=$(BUILD) FUZZ_DIR=build/fuzz/fuzz ./tests/run.sh

# A daemon whose store operations can be made to fail one by one (tests/integration/81_faults.sh).
failpoint:
	@$(MAKE) --no-print-directory binaries BUILD=build/failpoint EXTRA_CFLAGS="-DVERDON_FAILPOINTS"

# The PAM scenarios load the normal build's module into pamtester (an ASan module cannot be loaded
# into a program built without ASan): it is built too.
sanitize: deps
	@$(MAKE) --no-print-directory binaries
	@$(MAKE) --no-print-directory failpoint
	@$(MAKE) --no-print-directory tests BUILD=build/sanitize CFLAGS="-O1 -g -fno-omit-frame-pointer" \
		EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -U_FORTIFY_SOURCE" \
		EXTRA_LDFLAGS="-fsanitize=address,undefined"
	@BUILD=build/sanitize SKIP_FUZZ=1 ./tests/run.sh

fuzz: deps
	@$(MAKE) --no-print-directory fuzzers BUILD=build/fuzz CC=clang \
		EXTRA_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined -U_FORTIFY_SOURCE"

# Every target for FUZZ_SECONDS each, two at a time: runs, edges, crashes, CPU.
fuzz-long: fuzz
	@FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60) ./tests/fuzz/long.sh

fuzzers: $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
$(BUILD)/fuzz/%: $(call obj,tests/fuzz/%.c) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< \
		-Wl,--start-group $(ALL_LIBS) -Wl,--end-group $(LIBS)

bench: all
	@$(MAKE) --no-print-directory tests
	@./tests/bench/run.sh

# 1,000 kill -9 rounds during a stream of changes and logins (at most 15 minutes): nothing lost.
soak: all
	@./tests/soak/soak.sh

run: all
	@./scripts/demo.sh

# `make install` (DESTDIR and PREFIX honoured): binaries, the PAM module in the multiarch PAM
# directory, man pages, the unit, sysusers and tmpfiles entries, docs, the example config.
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
BINDIR     ?= $(PREFIX)/bin
MULTIARCH  ?= $(shell $(CC) -print-multiarch 2>/dev/null)
PAMDIR     ?= $(PREFIX)/lib/$(MULTIARCH)/security
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/verdon
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
INSTALL    ?= install
DOCS       = README.md docs/*.md proto/PROTOCOL.md

install: binaries
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(PAMDIR) \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR)/examples \
		$(DESTDIR)$(DOCDIR)/contrib/fail2ban/filter.d $(DESTDIR)$(DOCDIR)/contrib/fail2ban/jail.d \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(SYSCONFDIR)/verdon
	$(INSTALL) -m 0755 $(BUILD)/verdond $(DESTDIR)$(SBINDIR)/verdond
	$(INSTALL) -m 0755 $(BUILD)/verdonctl $(DESTDIR)$(BINDIR)/verdonctl
	$(INSTALL) -m 0644 $(BUILD)/pam_verdon.so $(DESTDIR)$(PAMDIR)/pam_verdon.so
	$(INSTALL) -m 0644 man/*.5 $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 0644 man/*.8 $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 0644 docs/examples/*.conf $(DESTDIR)$(DOCDIR)/examples/
	$(INSTALL) -m 0644 contrib/fail2ban/filter.d/verdon.conf $(DESTDIR)$(DOCDIR)/contrib/fail2ban/filter.d/
	$(INSTALL) -m 0644 contrib/fail2ban/jail.d/verdon.conf $(DESTDIR)$(DOCDIR)/contrib/fail2ban/jail.d/
	sed 's|/usr/sbin/verdond|$(SBINDIR)/verdond|g; s|/etc/verdon/|$(SYSCONFDIR)/verdon/|g' \
		systemd/verdond.service >$(DESTDIR)$(UNITDIR)/verdond.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/verdond.service
	$(INSTALL) -m 0644 systemd/verdond-auth.socket systemd/verdond-admin.socket $(DESTDIR)$(UNITDIR)/
	$(INSTALL) -m 0644 systemd/verdon.sysusers $(DESTDIR)$(SYSUSERSDIR)/verdon.conf
	$(INSTALL) -m 0644 systemd/verdon.tmpfiles $(DESTDIR)$(TMPFILESDIR)/verdon.conf
	test -e $(DESTDIR)$(SYSCONFDIR)/verdon/verdon.conf || \
		$(INSTALL) -m 0644 docs/examples/verdon.conf $(DESTDIR)$(SYSCONFDIR)/verdon/verdon.conf

# The Debian packages, from debian/ (debhelper): ../verdon_*.deb, kept in build/deb/.
deb:
	./scripts/deb.sh

format:
	clang-format -i $(wildcard */*.c */*.h tests/*/*.c)

clean:
	rm -rf build

# Objects are kept between runs: make must not delete them as intermediates.
.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' -type f 2>/dev/null)
