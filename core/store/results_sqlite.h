/* results_sqlite.h — inside the results store: the SQLite connection and
 * the helpers its files share. Only core/store and the store's own tests
 * (which check the schema with plain SQL) include this; everything else
 * uses results.h. */
#ifndef STRATA_RESULTS_SQLITE_H
#define STRATA_RESULTS_SQLITE_H

#include <sqlite3.h>
#include "store/results.h"

struct results {
    sqlite3 *db;
    char *path;
};

/* The connection (for the store's files and its tests). */
sqlite3 *results_db(results *r);

/* err = "PATH: WHAT: sqlite's message" (STRATA_ERR_RUNTIME); returns -1. */
int results_fail(results *r, strata_err *err, const char *what);
/* Prepare sql; -1 with err set when it does not. */
int results_prepare(results *r, const char *sql, sqlite3_stmt **st, strata_err *err);
/* Step st to its end, every row into out; finalizes st (queries.c). */
int results_read_table(results *r, sqlite3_stmt *st, results_table *out, const char *what, strata_err *err);
/* The rows of sql, whose ?1 is bound to run_id, into out. */
int results_run_rows(results *r, const char *sql, int64_t run_id, results_table *out, const char *what,
                     strata_err *err);


#endif
