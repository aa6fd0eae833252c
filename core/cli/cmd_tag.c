/* cmd_tag.c — `strata tag RUN KEY=VALUE...` and `strata note RUN TEXT`:
 * labels kept with a run in run_tags (a note is the tag 'note'). */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "store/manage.h"

static const char tag_usage[] =
    "usage: strata tag RUN KEY=VALUE... [--db PATH]\n"
    "\n"
    "Tag a run (id or name): each KEY=VALUE is stored in run_tags (run_id, key,\n"
    "value, created_at), replacing the key's old value; KEY= (an empty value)\n"
    "deletes the tag. Tags show in `strata show`, select runs with\n"
    "`strata runs --tag KEY[=VALUE]`, and are plain rows for SQL.\n"
    "\n"
    "  --db PATH   the results database (default: env STRATA_DB, else " RESULTS_DEFAULT_DB ")\n";

static const char note_usage[] =
    "usage: strata note RUN TEXT [--db PATH]\n"
    "\n"
    "Keep a note with a run (id or name): the tag '" RESULTS_NOTE_KEY "' in run_tags, replacing\n"
    "an older note; an empty TEXT deletes it. `strata show` prints it.\n"
    "\n"
    "  --db PATH   the results database (default: env STRATA_DB, else " RESULTS_DEFAULT_DB ")\n";

/* --db, then the positional arguments (at least min of them). */
static int parse_args(const cli_command *c, int argc, char **argv, const char **db, int min)
{
    static const struct option longopts[] = {{"db", required_argument, 0, 'd'}, {0, 0, 0, 0}};
    int ch;
    *db = NULL;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (ch != 'd')
            return cli_usage(c, "unknown option or missing value '%s'", argv[optind - 1]);
        *db = optarg;
    }
    if (argc - optind < min)
        return cli_usage(c, "expected RUN and %s", c == &cmd_tag ? "KEY=VALUE..." : "TEXT");
    return 0;
}

/* Split "KEY=VALUE" in place; a missing '=' or an empty KEY is refused. */
static int split_tag(char *arg, char **key, char **value)
{
    char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return cli_usage(&cmd_tag, "expected KEY=VALUE, got '%s'", arg);
    *eq = 0;
    *key = arg, *value = eq + 1;
    return 0;
}

/* Set the tags key[i] = value[i] of RUN, one by one. */
static int set_tags(const char *dbpath, const char *run, int n, char **keys, char **values)
{
    results *db = NULL;
    strata_err err = {0};
    int64_t id;
    int rc = cli_db_open(dbpath, &db, &err) || results_find_run(db, run, &id, &err);
    for (int i = 0; i < n && !rc; i++) {
        rc = results_tag_set(db, id, keys[i], values[i], &err);
        if (!rc && *values[i])
            printf("run %lld: %s=%s\n", (long long)id, keys[i], values[i]);
        else if (!rc)
            printf("run %lld: %s deleted\n", (long long)id, keys[i]);
    }
    results_close(db);
    return rc ? cli_fail(&err) : 0;
}

static int tag_run(int argc, char **argv)
{
    const char *db;
    int rc = parse_args(&cmd_tag, argc, argv, &db, 2);
    if (rc)
        return rc;
    int n = argc - optind - 1;
    char **args = argv + optind + 1, **keys = calloc(2 * (size_t)n, sizeof *keys), **values = keys + n;
    if (!keys)
        return cli_fail(&(strata_err){STRATA_ERR_RUNTIME, "out of memory"});
    for (int i = 0; i < n && !rc; i++)
        rc = split_tag(args[i], &keys[i], &values[i]);
    if (!rc)
        rc = set_tags(db, argv[optind], n, keys, values);
    free(keys);
    return rc;
}

static int note_run(int argc, char **argv)
{
    const char *db;
    int rc = parse_args(&cmd_note, argc, argv, &db, 2);
    if (rc)
        return rc;
    if (argc - optind != 2)
        return cli_usage(&cmd_note, "expected RUN and one TEXT (quote it)");
    char *key = RESULTS_NOTE_KEY;
    return set_tags(db, argv[optind], 1, &key, &argv[optind + 1]);
}

const cli_command cmd_tag = {"tag", "tag a run with KEY=VALUE (run_tags)", tag_run, tag_usage};
const cli_command cmd_note = {"note", "keep a note with a run", note_run, note_usage};
