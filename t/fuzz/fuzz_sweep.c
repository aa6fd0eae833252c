/* fuzz_sweep — the sweep grid expander: the input (YAML text) becomes the
 * sweep section of a small valid experiment, which is checked; a sweep of
 * at most 256 points is expanded and every point's experiment checked as
 * strata sweep does. */
#include "fuzz_common.h"
#include "config/experiment.h"
#include "config/sweep.h"

static const char base[] =
    "model: {arch: layers, input_size: 8, num_classes: 2, layers: [{type: flatten}, "
    "{type: linear, out_features: 2}]}\ntrain: {epochs: 1}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    strata_err err = {0};
    ynode *sw = strlen(text) == size ? yaml_load_string(text, "sweep", &err) : NULL;
    free(text);
    if (!sw)
        return 0;
    ynode *root = yaml_load_string(base, "base", &err);
    ynode_set(root, "sweep", sw);
    experiment x;
    if (experiment_from_tree(root, "fuzz.yaml", &x, &err) == 0 && x.sweep && sweep_count(x.sweep) <= 256) {
        sweep_plan plan;
        if (sweep_plan_build(x.sweep, &plan, &err) == 0) {
            for (int i = 0; i < plan.n; i++) {
                ynode *t = sweep_point_tree(x.root, &plan.points[i], &err);
                experiment px;
                if (t)
                    experiment_from_tree(t, "point.yaml", &px, &err);
                if (t)
                    experiment_free(&px);
            }
            sweep_plan_free(&plan);
        }
    }
    experiment_free(&x);
    return 0;
}
