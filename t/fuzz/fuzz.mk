# t/fuzz/fuzz.mk — libFuzzer harnesses over strata's input readers:
#   ./configure --enable-fuzzing    (needs clang: apt-get install clang)
#   make fuzz FUZZ_SECONDS=600      (each harness N seconds, from its seeds)
# Harnesses are built with clang -fsanitize=fuzzer,address,undefined against
# the library's sources into t/fuzz/bin/; each runs from t/fuzz/corpus/NAME
# (the seeds) plus t/fuzz/bin/corpus/NAME (what it finds, kept between runs),
# and a crash is written to t/fuzz/findings/. Every crash found becomes a
# regression test in the normal suites. make check does not need clang.
FUZZ_HARNESSES = fuzz_yaml fuzz_safetensors fuzz_jpeg fuzz_png fuzz_augment fuzz_sweep
FUZZ_SECONDS = 60
FUZZ_SAN = -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_INC = -std=c11 -I$(top_srcdir)/core/include -I$(top_srcdir)/core -I$(top_srcdir)/plugins -I$(top_builddir) \
	$(YAML_CFLAGS) $(SQLITE_CFLAGS) $(OPENBLAS_CFLAGS) $(PNG_CFLAGS)
EXTRA_DIST += t/fuzz/build t/fuzz/fuzz_common.h t/fuzz/fuzz_image.h t/fuzz/corpus \
	$(FUZZ_HARNESSES:%=t/fuzz/%.c)

if FUZZING
fuzz:
	FUZZ_CC='$(FUZZ_CC)' FUZZ_CFLAGS='$(FUZZ_SAN) $(FUZZ_INC)' \
	FUZZ_LIBS='$(YAML_LIBS) $(SQLITE_LIBS) $(OPENBLAS_LIBS) $(PNG_LIBS) $(JPEG_LIBS) $(DL_LIBS) -lm -lpthread' \
	FUZZ_SOURCES='$(filter %.c,$(core_libstrata_la_SOURCES))' \
	  $(SHELL) $(srcdir)/t/fuzz/build t/fuzz/bin $(srcdir) $(FUZZ_HARNESSES)
	@mkdir -p t/fuzz/findings; rc=0; \
	for h in $(FUZZ_HARNESSES); do \
	  mkdir -p t/fuzz/bin/corpus/$$h; \
	  echo "make fuzz: $$h for $(FUZZ_SECONDS) s"; \
	  t/fuzz/bin/$$h -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
	    -print_final_stats=1 -artifact_prefix=t/fuzz/findings/$$h- \
	    t/fuzz/bin/corpus/$$h $(srcdir)/t/fuzz/corpus/$$h > t/fuzz/bin/$$h.log 2>&1 || rc=1; \
	  grep -E '^stat::number_of_executed_units|^==[0-9]+==ERROR|^SUMMARY' t/fuzz/bin/$$h.log || :; \
	done; \
	if [ $$rc != 0 ]; then echo "make fuzz: findings in t/fuzz/findings/ (logs: t/fuzz/bin/*.log)"; fi; \
	exit $$rc
else
fuzz:
	@echo "make fuzz: configure with --enable-fuzzing first (needs clang: apt-get install clang)" >&2; exit 1
endif
.PHONY: fuzz
