# plugins/common: what layer plugins share, compiled into each module that
# uses it (plugins never link libstrata): the fork-join, the SIMD helpers,
# pooling's output-shape rule.
PLUGIN_PARALLEL = plugins/common/parallel.c plugins/common/parallel.h
PLUGIN_SIMD = plugins/common/simd.h
