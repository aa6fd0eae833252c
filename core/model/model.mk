# core/model: the plugin loader, model specs and their builders (VGG,
# AlexNet, explicit layers), the network of plugin layers, weight init,
# `strata summary`'s table.
core_libstrata_la_SOURCES += \
	core/model/plugins.c core/model/plugins.h \
	core/model/model_spec.c core/model/model_spec.h \
	core/model/build_vgg.c core/model/build_alexnet.c core/model/build_layers.c \
	core/model/network.c core/model/network.h \
	core/model/init.c core/model/init.h \
	core/model/summary.c core/model/summary.h \
	core/model/gradcheck.c core/model/gradcheck.h
