# plugins/layers/conv2d: the conv2d plugin (plugins/layers/conv2d.la) and
# its paths: winograd, im2col, smallc (the few-channel first layer), direct.
pkglib_LTLIBRARIES += plugins/layers/conv2d.la
plugins_layers_conv2d_la_SOURCES = plugins/layers/conv2d/conv2d.c plugins/layers/conv2d/conv_dims.h \
	plugins/layers/conv2d/conv_bias.c plugins/layers/conv2d/conv_bias.h \
	plugins/layers/conv2d/conv_direct.c plugins/layers/conv2d/conv_direct.h \
	plugins/layers/conv2d/conv_im2col.c plugins/layers/conv2d/conv_im2col.h \
	plugins/layers/conv2d/conv_smallc.c plugins/layers/conv2d/conv_smallc.h \
	plugins/layers/conv2d/conv_smallc_phase.c plugins/layers/conv2d/conv_smallc_phase.h plugins/layers/conv2d/conv_smallc_dw.c plugins/layers/conv2d/conv_smallc_dw.h \
	plugins/layers/conv2d/conv_winograd.c plugins/layers/conv2d/conv_winograd.h \
	plugins/layers/conv2d/conv_winograd_impl.h plugins/layers/conv2d/conv_winograd_matrices.h \
	plugins/layers/conv2d/conv_winograd_weights.c plugins/layers/conv2d/conv_winograd_tiles.c \
	plugins/layers/conv2d/conv_phase_wino.c plugins/layers/conv2d/conv_phase_wino.h \
	$(PLUGIN_PARALLEL) $(PLUGIN_SIMD)
plugins_layers_conv2d_la_CFLAGS = $(PLUGIN_CFLAGS) -O3 -fno-tree-loop-distribute-patterns -pthread $(OPENBLAS_CFLAGS)
plugins_layers_conv2d_la_LIBADD = $(OPENBLAS_LIBS) -lm
plugins_layers_conv2d_la_LDFLAGS = $(STRATA_MODULE_FLAGS) -pthread
