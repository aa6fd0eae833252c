# t/core.mk: tests of the core's configuration layer — the YAML loader,
# includes and overrides, the model builders, plugin discovery and the
# strata program's summary and plugins commands.
check_PROGRAMS += t/test_yaml
TESTS += t/test_yaml

t_test_yaml_SOURCES = t/test_yaml.c t/run_strata.c t/run_strata.h
t_test_yaml_CFLAGS = $(TEST_CFLAGS) $(YAML_CFLAGS)
t_test_yaml_LDADD = $(TEST_LIBS) $(DL_LIBS)

# The experiment fixtures (t/yaml/bad_*.yaml are broken on purpose).
EXTRA_DIST += \
	t/yaml/base.yaml t/yaml/child.yaml t/yaml/extra.yaml t/yaml/multi.yaml \
	t/yaml/sub/relative.yaml t/yaml/layers_ok.yaml \
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
