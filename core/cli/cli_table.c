/* cli_table.c — printing the store's tables (results_table) for the
 * commands that look at runs: aligned text columns or JSON. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "store/json.h"

/* Columns of measurements, printed with 4 decimals in text tables; every
 * other number (lr, parameter values) prints in its shortest round-trip
 * form, so 0.000125 stays 0.000125. */
/* Decimals of a REAL column in text tables: hyper-parameters (lr, a
 * run_params value) in full (-1), times and throughputs to 0.1, other
 * measurements (losses, accuracies) to 4 decimals. */
static int column_decimals(const char *name)
{
    size_t n = strlen(name);
    int lr = !strcmp(name, "lr") || (n > 3 && !strcmp(name + n - 3, " lr")) || !strcmp(name, "best_lr");
    if (lr || !strcmp(name, "value"))
        return -1;
    return strstr(name, "seconds") || strstr(name, "_per_sec") ? 1 : 4;
}

void cli_json_value(const results_value *v, const char *column)
{
    static const char *warned;
    switch (v->type) {
    case RESULTS_INT: printf("%lld", (long long)v->i); break;
    case RESULTS_REAL:
        if (!isfinite(v->d) && warned != column) /* JSON has no NaN or infinity */
            fprintf(stderr, "strata: warning: %s is %g; written as null in the JSON\n", column, v->d);
        if (!isfinite(v->d))
            warned = column;
        json_double(stdout, v->d);
        break;
    case RESULTS_NULL: printf("null"); break;
    default: json_string(stdout, v->s);
    }
}

const char *cli_value_text(const results_value *v, int decimals, char *buf, size_t size)
{
    char num[JSON_DOUBLE_MAX];
    switch (v->type) {
    case RESULTS_INT: snprintf(buf, size, "%lld", (long long)v->i); break;
    case RESULTS_REAL:
        if (decimals >= 0)
            snprintf(buf, size, "%.*f", decimals, v->d);
        else
            snprintf(buf, size, "%s", json_double_text(v->d, num));
        break;
    case RESULTS_TEXT: return v->s;
    default: snprintf(buf, size, "-");
    }
    return buf;
}

void cli_print_table(const results_table *t, int json, const int *widths, int n_widths, int rest)
{
    if (json)
        printf("[");
    else {
        for (int c = 0; c < t->n_cols; c++)
            printf("%-*s ", c < n_widths ? widths[c] : rest, t->names[c]);
        printf("\n");
    }
    for (int row = 0; row < t->n_rows; row++) {
        if (json)
            printf("%s\n  {", row ? "," : "");
        for (int c = 0; c < t->n_cols; c++) {
            const results_value *v = results_cell(t, row, c);
            char buf[64];
            if (json) {
                printf("%s", c ? ", " : "");
                json_string(stdout, t->names[c]);
                printf(": ");
                cli_json_value(v, t->names[c]);
            } else
                printf("%-*s ", c < n_widths ? widths[c] : rest,
                       cli_value_text(v, column_decimals(t->names[c]), buf, sizeof buf));
        }
        printf(json ? "}" : "\n");
    }
    if (json)
        printf("]\n");
}
