# t/isa.mk — the kernel suites run again with STRATA_ISA=avx2 and =base, so
# one machine tests every ISA level it has (a level above the CPU's runs the
# CPU's own; a test that needs a level the run lacks exits 77: SKIP). Each
# pass is a test of its own, t/NAME-avx2.isa and t/NAME-base.isa: empty
# markers, run by t/isa-run as t/NAME under STRATA_ISA.
ISA_SUITES = t/test_conv_fast t/test_conv_first t/test_layers t/test_optimizers \
	t/test_linear_fast t/test_linear_kernel
ISA_MARKERS = $(ISA_SUITES:=-avx2.isa) $(ISA_SUITES:=-base.isa)
TESTS += $(ISA_MARKERS)
TEST_EXTENSIONS = .isa
ISA_LOG_COMPILER = $(SHELL) $(srcdir)/t/isa-run
$(ISA_MARKERS):
	@: > $@
CLEANFILES = $(ISA_MARKERS)
EXTRA_DIST += t/isa-run
