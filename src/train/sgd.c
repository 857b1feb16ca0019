#include "vgg/profile.h"
#include "vgg/train.h"

void vgg_sgd_step(vgg_model *m, const vgg_sgd *opt) {
    double t = vgg_now();
    float *w = m->params, *g = m->grads, *v = m->momentum;
    const float lr = opt->lr, mu = opt->momentum, wd = opt->weight_decay;
    const long n = (long)m->nparams;
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) {
        float gi = g[i] + wd * w[i];
        float vi = mu * v[i] + gi;
        v[i] = vi;
        w[i] -= lr * vi;
    }
    vgg_prof.seconds[VGG_PROF_OTHER] += vgg_now() - t;
}
