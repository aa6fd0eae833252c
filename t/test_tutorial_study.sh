#!/bin/sh
# t/test_tutorial_study.sh — scripts/tutorial-study and
# scripts/tutorial-study-report on the shipped demo set (data/flowers-mini,
# 200 photos) at 64 px, with the protocol shortened to VGG-16 1 + 1 epochs
# and AlexNet 1 and 2 epochs:
#   1. the study records vgg16-64px (2 epochs, one resume row),
#      alexnet-64px (1) and alexnet-64px-long (2), and an evaluation of each
#   2. re-running it trains nothing (the runs and epochs stay as they were)
#   3. the report names every run, and its introduction's figures are the
#      database's: VGG-16's best and epochs, AlexNet's best, the gap
#   4. errors, one line and exit 2: a size with no database, no size
# About 30 s.
set -u
STRATA="$STRATA_BUILDDIR/core/strata"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/strata-study.XXXXXX") || exit 99
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 99
ln -s "$STRATA_SRCDIR/experiments" experiments
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
db=results/tutorial-study-64px/strata.db
q() { sqlite3 "file:$db?mode=ro" "$1"; }
study() {
    STRATA=$STRATA EPOCHS_VGG=1 EPOCHS_MORE=1 EPOCHS_ALEX=1 EPOCHS_ALEX_LONG=2 \
        "$STRATA_SRCDIR/scripts/tutorial-study" 64 "$STRATA_SRCDIR/data/flowers-mini"
}

# 1. the study
if study > study.log 2>&1; then ok "the study ran"; else fail "the study: exit $?"; cat study.log; fi
got=$(q "SELECT group_concat(name || ':' || status || ':' ||
                (SELECT count(*) FROM epochs WHERE run_id = runs.id), ' ') FROM runs")
want="vgg16-64px:finished:2 alexnet-64px:finished:1 alexnet-64px-long:finished:2"
[ "$got" = "$want" ] && ok "runs $got" || fail "runs: got '$got', expected '$want'"
[ "$(q "SELECT count(*) FROM run_resumes WHERE run_id = 1")" = 1 ] && ok "VGG-16 resumed once" ||
    fail "VGG-16: expected one run_resumes row"
[ "$(q "SELECT count(DISTINCT run_id) FROM evals WHERE checkpoint = 'best'")" = 3 ] && ok "an evaluation each" ||
    fail "expected an evaluation of each run's best checkpoint"

# 2. re-running trains nothing
before=$(q "SELECT count(*), sum(seconds) FROM epochs")
study > again.log 2>&1 || fail "the study re-run: exit $?"
[ "$(q "SELECT count(*), sum(seconds) FROM epochs")" = "$before" ] && ok "a re-run trains nothing" ||
    fail "a re-run changed the epochs"
grep -q "vgg16-64px (run 1) has its 2 epochs" again.log && ok "a re-run says so" ||
    { fail "a re-run did not say the runs are complete"; cat again.log; }

# 3. the report and its figures
if STRATA=$STRATA "$STRATA_SRCDIR/scripts/tutorial-study-report" r.html 64 > report.log 2>&1; then
    ok "the report"
else
    fail "the report: exit $?"; cat report.log
fi
for name in vgg16-64px alexnet-64px alexnet-64px-long; do
    grep -q ">$name<" r.html && ok "the report names $name" || fail "the report does not name $name"
done
best=$(q "SELECT printf('%.3f (epoch %d)', val_acc, epoch) FROM epochs WHERE run_id = 1
          ORDER BY val_acc DESC, epoch LIMIT 1")
alex=$(q "SELECT printf('%.3f (epoch %d)', val_acc, epoch) FROM epochs WHERE run_id = 2
          ORDER BY val_acc DESC, epoch LIMIT 1")
gap=$(q "SELECT printf('%+.1f', 100 * ((SELECT max(val_acc) FROM epochs WHERE run_id = 1) -
                                        (SELECT max(val_acc) FROM epochs WHERE run_id = 2)))")
for want in "(2 epochs recorded), best $best" "AlexNet: best $alex in 1 epochs; trained for 2," \
            "AlexNet&#39;s: $gap points" "<title>The tutorial&#39;s study at 64 px</title>"; do
    grep -qF "$want" r.html && ok "the report says '$want'" || fail "the report does not say '$want'"
done

# 4. errors
check_refusal() { # WHAT NEEDLE CMD...
    what=$1 needle=$2; shift 2
    "$@" > out.log 2> err.log; rc=$?
    if [ $rc -eq 2 ] && [ "$(wc -l < err.log)" -eq 1 ] && grep -q "$needle" err.log; then
        ok "$what refused"
    else
        fail "$what: exit $rc, stderr: $(cat err.log)"
    fi
}
check_refusal "a size with no database" "tutorial-study-99px/strata.db: no such database" \
    env STRATA="$STRATA" "$STRATA_SRCDIR/scripts/tutorial-study-report" x.html 64 99
check_refusal "no size" "expected at least one SIZE" \
    env STRATA="$STRATA" "$STRATA_SRCDIR/scripts/tutorial-study-report" x.html
[ ! -e x.html ] && ok "no page written on an error" || fail "x.html written on an error"

echo "$failures failure(s)"
[ $failures -eq 0 ]
