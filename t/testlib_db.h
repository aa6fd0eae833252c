/* testlib_db.h — reading a results database from a test with plain sqlite3
 * calls, as a user would. Every query helper asserts that its SQL prepares
 * (message: the SQL and sqlite's error) and gives a row ("no row: SQL").
 *
 *   sqlite3 *db = db_open_readonly("results/strata.db");
 *   ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs"), 2);
 *   sqlite3_close(db); */
#ifndef STRATA_T_TESTLIB_DB_H
#define STRATA_T_TESTLIB_DB_H
#include <sqlite3.h>
#include <stdint.h>

/* Open path read-only (busy timeout 5 s); asserts "cannot open PATH". */
sqlite3 *db_open_readonly(const char *path);
/* Open an existing path read-write (busy timeout 5 s), or NULL when it does
 * not exist or cannot be opened. */
sqlite3 *db_open_if_exists(const char *path);
/* Prepare sql; asserts it prepares. Finalize the statement. */
sqlite3_stmt *db_prep(sqlite3 *db, const char *sql);
/* The first column of the first row, as an integer / a double. */
int64_t q_int(sqlite3 *db, const char *sql);
double q_double(sqlite3 *db, const char *sql);
/* The first column of the first row, malloc'd; NULL for SQL NULL. */
char *q_text(sqlite3 *db, const char *sql);
/* Like q_int, but -1 when the query fails (tables not created yet, busy). */
int64_t q_int_try(sqlite3 *db, const char *sql);

#endif
