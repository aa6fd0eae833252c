/* init.h — seeded parameter initialisation.
 *
 * torchvision (its VGG): conv weight ~ N(0, 2/fan_out) (kaiming_normal,
 *   mode fan_out, relu); linear weight ~ N(0, 0.01^2); biases 0.
 * pytorch (the default of nn.Conv2d / nn.Linear, the tutorial's models):
 *   weight ~ U(-b, b) with b = 1/sqrt(fan_in) (kaiming_uniform, a = sqrt 5);
 *   bias ~ U(-b, b), b = 1/sqrt(fan_in).
 * Both: batchnorm weight / running_var 1, bias / running_mean / counters 0.
 * Each tensor draws from its own stream seeded by (seed, tensor index), so
 * a tensor's values do not depend on the others. */
#ifndef STRATA_INIT_H
#define STRATA_INIT_H

#include "model/model_spec.h"
#include "model/network.h"

void init_params(network *net, init_scheme scheme, uint64_t seed);
/* Mixes values into one well-spread 64-bit seed. */
uint64_t seed_mix(uint64_t a, uint64_t b);

#endif
