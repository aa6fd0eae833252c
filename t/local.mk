# t/local.mk — what every test program shares, and the tests of the core's
# training step. A test program links libstrata, Check and the libraries
# the tests call themselves (LDADD: automake's default for every program
# without its own _LDADD; core/strata has its own) and compiles with
# TEST_CFLAGS, which has the include folders of all of them. The helpers:
# TESTLIB (every test), FAKE_HOST (plugins loaded and driven as the host
# does), RUN_STRATA (runs the built strata), TESTLIB_DB (results.db queries).
LDADD = $(TEST_LIBS) $(SQLITE_LIBS) $(PNG_LIBS) $(JPEG_LIBS) $(OPENBLAS_LIBS) $(DL_LIBS) -lm
TEST_CFLAGS += $(YAML_CFLAGS) $(SQLITE_CFLAGS) $(PNG_CFLAGS) $(OPENBLAS_CFLAGS)
TESTLIB = t/testlib.c t/testlib.h
FAKE_HOST = t/fake_host.c t/fake_host.h $(TESTLIB)
RUN_STRATA = t/run_strata.c t/run_strata.h $(TESTLIB)
TESTLIB_DB = t/testlib_db.c t/testlib_db.h
IMGWRITE = t/fixtures/imgwrite.c t/fixtures/imgwrite.h

check_PROGRAMS += t/test_trainer t/test_memplan
TESTS += t/test_trainer t/test_memplan
t_test_trainer_SOURCES = t/test_trainer.c $(TESTLIB)
t_test_trainer_CFLAGS = $(TEST_CFLAGS)
t_test_memplan_SOURCES = t/test_memplan.c $(TESTLIB)
t_test_memplan_CFLAGS = $(TEST_CFLAGS)
