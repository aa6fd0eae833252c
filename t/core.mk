# t/core.mk: tests of the core's configuration layer — the YAML loader,
# includes and overrides, the model builders, plugin discovery and the
# strata program's summary and plugins commands.
check_PROGRAMS += t/test_yaml t/test_builders t/test_plugins
TESTS += t/test_yaml t/test_builders t/test_plugins

t_test_yaml_SOURCES = t/test_yaml.c $(RUN_STRATA)
t_test_yaml_CFLAGS = $(TEST_CFLAGS)
t_test_builders_SOURCES = t/test_builders.c $(RUN_STRATA)
t_test_builders_CFLAGS = $(TEST_CFLAGS)
t_test_plugins_SOURCES = t/test_plugins.c $(RUN_STRATA)
t_test_plugins_CFLAGS = $(TEST_CFLAGS)

# Test-only modules (built for `make check` only, into t/plugins/.libs/):
# one that lacks the entry point, an identity layer outside the tree, and
# badabi.c built once per way a descriptor can be refused (BADABI_MODE).
TEST_MODULE_FLAGS = $(STRATA_MODULE_FLAGS) -rpath /nowhere
check_LTLIBRARIES += t/plugins/badabi.la t/plugins/refuseabi.la t/plugins/noname.la \
	t/plugins/unknownkind.la t/plugins/noops.la t/plugins/noentry.la t/plugins/wrongkind.la \
	t/plugins/abi3.la t/plugins/nobackward.la t/plugins/nosize.la t/plugins/nineslots.la
t_plugins_badabi_la_SOURCES = t/plugins/badabi.c
t_plugins_badabi_la_LDFLAGS = $(TEST_MODULE_FLAGS)
t_plugins_refuseabi_la_SOURCES = t/plugins/badabi.c
t_plugins_refuseabi_la_CFLAGS = $(AM_CFLAGS) -DBADABI_MODE=1
t_plugins_refuseabi_la_LDFLAGS = $(TEST_MODULE_FLAGS)
t_plugins_noname_la_SOURCES = t/plugins/badabi.c
t_plugins_noname_la_CFLAGS = $(AM_CFLAGS) -DBADABI_MODE=2
t_plugins_noname_la_LDFLAGS = $(TEST_MODULE_FLAGS)
t_plugins_unknownkind_la_SOURCES = t/plugins/badabi.c
t_plugins_unknownkind_la_CFLAGS = $(AM_CFLAGS) -DBADABI_MODE=3
t_plugins_unknownkind_la_LDFLAGS = $(TEST_MODULE_FLAGS)
t_plugins_noops_la_SOURCES = t/plugins/badabi.c
t_plugins_noops_la_CFLAGS = $(AM_CFLAGS) -DBADABI_MODE=4
t_plugins_noops_la_LDFLAGS = $(TEST_MODULE_FLAGS)
t_plugins_abi3_la_SOURCES = t/plugins/badabi.c
t_plugins_abi3_la_CFLAGS = $(AM_CFLAGS) -DBADABI_MODE=5
t_plugins_abi3_la_LDFLAGS = $(TEST_MODULE_FLAGS)
t_plugins_nobackward_la_SOURCES = t/plugins/badabi.c
t_plugins_nobackward_la_CFLAGS = $(AM_CFLAGS) -DBADABI_MODE=6
t_plugins_nobackward_la_LDFLAGS = $(TEST_MODULE_FLAGS)
t_plugins_nosize_la_SOURCES = t/plugins/badabi.c
t_plugins_nosize_la_CFLAGS = $(AM_CFLAGS) -DBADABI_MODE=7
t_plugins_nosize_la_LDFLAGS = $(TEST_MODULE_FLAGS)
t_plugins_nineslots_la_SOURCES = t/plugins/badabi.c
t_plugins_nineslots_la_CFLAGS = $(AM_CFLAGS) -DBADABI_MODE=8
t_plugins_nineslots_la_LDFLAGS = $(TEST_MODULE_FLAGS)
t_plugins_noentry_la_SOURCES = t/plugins/noentry.c
t_plugins_noentry_la_LDFLAGS = $(TEST_MODULE_FLAGS)
t_plugins_wrongkind_la_SOURCES = t/plugins/wrongkind.c
t_plugins_wrongkind_la_LDFLAGS = $(TEST_MODULE_FLAGS)

# The experiment fixtures (t/yaml/bad_*.yaml are broken on purpose).
EXTRA_DIST += \
	t/yaml/base.yaml t/yaml/child.yaml t/yaml/extra.yaml t/yaml/multi.yaml \
	t/yaml/sub/relative.yaml t/yaml/layers_ok.yaml t/yaml/thirdparty.yaml \
	t/yaml/bad_alias.yaml t/yaml/bad_anchor.yaml t/yaml/bad_batch_size.yaml \
	t/yaml/bad_dropout.yaml t/yaml/bad_dropout_position.yaml \
	t/yaml/bad_duplicate_key.yaml t/yaml/bad_edit_target.yaml \
	t/yaml/bad_flatten_size.yaml t/yaml/bad_include_cycle.yaml \
	t/yaml/bad_include_cycle2.yaml t/yaml/bad_include_missing.yaml \
	t/yaml/bad_input_size_zero.yaml t/yaml/bad_kernel_too_big.yaml \
	t/yaml/bad_layer_option.yaml t/yaml/bad_layer_type.yaml \
	t/yaml/bad_layers_item.yaml t/yaml/bad_linear_not_flat.yaml \
	t/yaml/bad_missing_arch.yaml t/yaml/bad_missing_option.yaml \
	t/yaml/bad_negative.yaml t/yaml/bad_not_mapping.yaml \
	t/yaml/bad_num_classes_mismatch.yaml t/yaml/bad_num_classes_zero.yaml \
	t/yaml/bad_sweep_empty.yaml t/yaml/bad_syntax.yaml t/yaml/bad_tab.yaml \
	t/yaml/bad_type_list.yaml t/yaml/bad_type_string.yaml \
	t/yaml/bad_unknown_column.yaml t/yaml/bad_unknown_model_key.yaml \
	t/yaml/bad_unknown_section.yaml t/yaml/bad_unknown_section_block.yaml \
	t/yaml/bad_widths.yaml
