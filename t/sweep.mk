# t/sweep.mk — end to end through the built strata: checkpoints, resume and
# predict (t/test_resume), sweeps (t/test_sweep), the runs/show/compare
# commands and the README's SQL queries (t/test_queries).
check_PROGRAMS += t/test_resume t/test_sweep t/test_queries t/test_manage t/test_messages
TESTS += t/test_resume t/test_sweep t/test_queries t/test_manage t/test_messages
t_test_resume_SOURCES = t/test_resume.c $(RUN_STRATA) $(IMGWRITE) $(TESTLIB_DB)
t_test_resume_CFLAGS = $(TEST_CFLAGS)
t_test_sweep_SOURCES = t/test_sweep.c $(RUN_STRATA) $(IMGWRITE) $(TESTLIB_DB)
t_test_sweep_CFLAGS = $(TEST_CFLAGS)
t_test_queries_SOURCES = t/test_queries.c $(RUN_STRATA) $(IMGWRITE) $(TESTLIB_DB)
t_test_queries_CFLAGS = $(TEST_CFLAGS)
# t/test_manage: strata tag, note, rm, run --tag, STRATA_DB, numbers in full.
t_test_manage_SOURCES = t/test_manage.c $(RUN_STRATA) $(IMGWRITE) $(TESTLIB_DB)
t_test_manage_CFLAGS = $(TEST_CFLAGS)
# issue 13's messages and the early-stopping / plateau configuration errors
t_test_messages_SOURCES = t/test_messages.c $(RUN_STRATA)
t_test_messages_CFLAGS = $(TEST_CFLAGS)
# the tiny experiment the three suites include (tiny_experiment in t/run_strata.c)
EXTRA_DIST += t/fixtures/tiny.yaml
# scripts/crash-test 3: SIGKILL a quickstart run at random moments, resume it
TESTS += t/crash-test-short
EXTRA_DIST += t/crash-test-short scripts/crash-test
# strata eval and training's per-class validation counts (epoch_classes)
check_PROGRAMS += t/test_eval
TESTS += t/test_eval
t_test_eval_SOURCES = t/test_eval.c $(RUN_STRATA) $(TESTLIB_DB)
t_test_eval_CFLAGS = $(TEST_CFLAGS)
# predict as a tool, model.freeze, model.weights/strict (t/test_predict)
check_PROGRAMS += t/test_predict
TESTS += t/test_predict
t_test_predict_SOURCES = t/test_predict.c $(RUN_STRATA) $(IMGWRITE) $(TESTLIB_DB)
t_test_predict_CFLAGS = $(TEST_CFLAGS)
EXTRA_DIST += scripts/torch-to-safetensors.py scripts/strata_safetensors.py scripts/check-torch-interop.py
