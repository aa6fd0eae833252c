#!/bin/sh
# t/installcheck.sh — `make check`'s install test: scripts/installcheck
# relocated (`make install prefix=TMP`, the installation checked where it
# lands and again after a move; a few seconds).
exec "$STRATA_SRCDIR/scripts/installcheck" relocated "$STRATA_BUILDDIR" "$STRATA_SRCDIR"
