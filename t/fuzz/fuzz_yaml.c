/* fuzz_yaml — the experiment loader: YAML parsing, includes, -s overrides
 * and every section's checks. The input is split at NUL bytes: the first
 * part is main.yaml, the second inc.yaml (which main.yaml may include), the
 * rest (up to 4) are -s overrides KEY.PATH=VALUE. A loaded tree is emitted
 * back to YAML text too. */
#include "fuzz_common.h"
#include "config/experiment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = fuzz_text(data, size), *parts[6] = {0};
    int n = 0;
    for (char *p = copy; n < 6 && p <= copy + size; p += strlen(p) + 1)
        parts[n++] = p;
    char main_path[256], inc_path[256];
    fuzz_file("main.yaml", parts[0], strlen(parts[0]), main_path, sizeof main_path);
    fuzz_file("inc.yaml", parts[1] ? parts[1] : "", parts[1] ? strlen(parts[1]) : 0, inc_path, sizeof inc_path);
    int n_sets = n > 2 ? n - 2 : 0;
    experiment x;
    strata_err err = {0};
    if (experiment_load(main_path, parts + 2, n_sets, &x, &err) == 0)
        free(ynode_emit(x.root));
    experiment_free(&x);
    free(copy);
    return 0;
}
