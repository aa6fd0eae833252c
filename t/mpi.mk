# Data-parallel training under mpirun (t/test_mpi.sh, about 20 s) and
# sweeps over ranks (t/test_mpi_sweep.sh, about 20 s), only in
# a build with MPI (configure --with-mpi, the default when OpenMPI is
# found); a build --without-mpi has no MPI test.
if MPI
TESTS += t/test_mpi.sh t/test_mpi_sweep.sh
endif
EXTRA_DIST += t/test_mpi.sh t/test_mpi_sweep.sh t/fixtures/tiny-mpi.yaml
