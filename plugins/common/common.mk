# plugins/common: what layer plugins share, compiled into each module that
# uses it (plugins never link libstrata): the fork-join, the ISA level and
# the multiversioning macro, pooling's output-shape rule, the checks of every
# layer's create (layer_new.h). libstrata compiles
# isa.c too, to print the level and refuse a bad STRATA_ISA, and parallel.c,
# the one fork-join (the host's element-wise passes use it).
PLUGIN_PARALLEL = plugins/common/parallel.c plugins/common/parallel.h
PLUGIN_SIMD = plugins/common/simd.h plugins/common/isa.c plugins/common/isa.h
core_libstrata_la_SOURCES += plugins/common/isa.c plugins/common/isa.h \
	plugins/common/parallel.c plugins/common/parallel.h
# layer_new.h: header-only, included by the layer plugins.
EXTRA_DIST += plugins/common/layer_new.h
