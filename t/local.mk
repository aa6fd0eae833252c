# t/local.mk — tests of the core's training step.
check_PROGRAMS += t/test_trainer
TESTS += t/test_trainer
t_test_trainer_SOURCES = t/test_trainer.c t/testlib.c t/testlib.h
t_test_trainer_CFLAGS = $(TEST_CFLAGS) $(YAML_CFLAGS)
t_test_trainer_LDADD = $(TEST_LIBS)

check_PROGRAMS += t/test_memplan
TESTS += t/test_memplan
t_test_memplan_SOURCES = t/test_memplan.c t/testlib.c t/testlib.h
t_test_memplan_CFLAGS = $(TEST_CFLAGS)
t_test_memplan_LDADD = $(TEST_LIBS)
