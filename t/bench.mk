# t/test_blas: cpuid detection, OPENBLAS_CORETYPE selection, sgemm results.
check_PROGRAMS += t/test_blas
TESTS += t/test_blas
t_test_blas_SOURCES = t/test_blas.c $(TESTLIB)
t_test_blas_CFLAGS = $(TEST_CFLAGS)

# t/test_scaling_model: the data-parallel scaling model (hand-computed
# cases) and `strata bench --ranks/--link`.
check_PROGRAMS += t/test_scaling_model
TESTS += t/test_scaling_model
t_test_scaling_model_SOURCES = t/test_scaling_model.c $(RUN_STRATA)
t_test_scaling_model_CFLAGS = $(TEST_CFLAGS)
# scripts/slurm-vgg-depths.sbatch with a stand-in for mpirun (one rank)
TESTS += t/slurm-script-test
EXTRA_DIST += t/slurm-script-test scripts/slurm-vgg-depths.sbatch
