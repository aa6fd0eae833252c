# bench: OpenBLAS kernel selection (libstrata) and `strata bench`.
core_libstrata_la_SOURCES += core/blas_select.c core/blas_select.h
core_strata_SOURCES += core/cmd_bench.c
EXTRA_DIST += bench/README.md bench/run-bench bench/fma_peak.c
