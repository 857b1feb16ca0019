#include <math.h>

#include "vgg/nn.h"

/* The row loops for the build's baseline; each instruction set has its
 * own copy (batchnorm_rows.h), taken through the kernel seam. */
#define BN_ROWS_NAME bn_rows_baseline
#include "nn/batchnorm_rows.h"

static const vgg_bn_rows *bn_rows(void) {
    const vgg_bn_rows *r = vgg_kernel_ops()->bn;
    return r ? r : &bn_rows_baseline;
}

/* One channel a thread: each channel's sums are taken by one thread in a
 * fixed order, so results do not depend on the thread count. Sums run in
 * float over chunks (vectorised by `omp simd`) and are carried across
 * chunks in double. The forward sums are of x - shift, with shift the
 * running mean less the bias (close to the batch mean once training is
 * under way, and the same on every rank), so that the variance does not
 * cancel when |mean| >> std. */
void vgg_batchnorm_sums(double *sums, const float *in, const float *shift,
                        int C, int M) {
    const vgg_bn_rows *r = bn_rows();
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++)
        r->sums(in + (long)c * M, shift ? shift[c] : 0.0f, M, &sums[2 * c],
                &sums[2 * c + 1]);
}

void vgg_batchnorm_apply_train(float *out, float *mean, float *invstd,
                               float *run_mean, float *run_var,
                               const double *sums, const float *shift,
                               long count, const float *in, const float *bias,
                               const float *gamma, const float *beta, int relu,
                               float momentum, float eps, int C, int M) {
    const vgg_bn_rows *r = bn_rows();
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        double dm = sums[2 * c] / count;
        double var = sums[2 * c + 1] / count - dm * dm;
        if (var < 0.0) var = 0.0;
        float fm = (float)((shift ? shift[c] : 0.0f) + dm);
        float is = (float)(1.0 / sqrt(var + eps));
        /* relu(gamma * (x - mean) * invstd + beta) = relu(x*a + b) */
        float a = gamma[c] * is, b = beta[c] - fm * a;
        r->affine(out + (long)c * M, in + (long)c * M, a, b, relu, M);
        mean[c] = fm;
        invstd[c] = is;
        double unbiased = count > 1 ? var * count / (count - 1) : var;
        float bc = bias ? bias[c] : 0.0f;
        run_mean[c] = (1.0f - momentum) * run_mean[c] + momentum * (fm + bc);
        run_var[c] =
            (1.0f - momentum) * run_var[c] + momentum * (float)unbiased;
    }
}

void vgg_batchnorm_forward_train(float *out, float *mean, float *invstd,
                                 float *run_mean, float *run_var,
                                 const float *in, const float *bias,
                                 const float *gamma, const float *beta,
                                 int relu, float momentum, float eps, int C,
                                 int M, double *scratch) {
    /* shift = run_mean - bias: see the top of this file */
    float *shift = (float *)(scratch + 2 * (long)C);
    for (int c = 0; c < C; c++)
        shift[c] = run_mean[c] - (bias ? bias[c] : 0.0f);
    vgg_batchnorm_sums(scratch, in, shift, C, M);
    vgg_batchnorm_apply_train(out, mean, invstd, run_mean, run_var, scratch,
                              shift, M, in, bias, gamma, beta, relu, momentum,
                              eps, C, M);
}

void vgg_batchnorm_forward_eval(float *out, const float *in, const float *bias,
                                const float *gamma, const float *beta,
                                const float *run_mean, const float *run_var,
                                int relu, float eps, int C, int M) {
    const vgg_bn_rows *r = bn_rows();
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        float is = 1.0f / sqrtf(run_var[c] + eps);
        float a = gamma[c] * is;
        float b = beta[c] + ((bias ? bias[c] : 0.0f) - run_mean[c]) * a;
        r->affine(out + (long)c * M, in + (long)c * M, a, b, relu, M);
    }
}

/* The ReLU mask is recomputed from the input (z = x*a + b > 0, the same
 * float expression as the forward's) rather than read from the output:
 * one stream less over memory in each backward pass. */
void vgg_batchnorm_backward_sums(double *sums, float *dgamma, float *dbeta,
                                 const float *dout, const float *in,
                                 const float *gamma, const float *beta,
                                 const float *mean, const float *invstd,
                                 int relu, int C, int M) {
    const vgg_bn_rows *r = bn_rows();
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        const float *g = dout + (long)c * M, *x = in + (long)c * M;
        const float mu = mean[c];
        const float a = gamma[c] * invstd[c], b = beta[c] - mu * a;
        /* dz = dout masked by ReLU; xhat = (x - mean) * invstd */
        double sg, sgx;
        r->grad_sums(g, x, a, b, mu, relu, M, &sg, &sgx);
        sgx *= invstd[c]; /* sum dz * xhat */
        dgamma[c] += (float)sgx;
        dbeta[c] += (float)sg;
        sums[2 * c] = sg;
        sums[2 * c + 1] = sgx;
    }
}

void vgg_batchnorm_backward_apply(float *din, float *dbias, const double *sums,
                                  long count, const float *dout,
                                  const float *in, const float *gamma,
                                  const float *beta, const float *mean,
                                  const float *invstd, int relu, int C, int M) {
    const vgg_bn_rows *r = bn_rows();
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        const float *g = dout + (long)c * M, *x = in + (long)c * M;
        const float mu = mean[c], is = invstd[c];
        const float a = gamma[c] * is, b = beta[c] - mu * a;
        /* din = gamma*invstd * (dz - mean(dz) - xhat * mean(dz*xhat)) */
        const float k = a;
        const float mg = (float)(sums[2 * c] / count);
        const float mgx = (float)(sums[2 * c + 1] / count) * is;
        const double sd = r->grad_apply(din + (long)c * M, g, x, a, b, mu, k,
                                        mg, mgx, relu, M);
        if (dbias) dbias[c] += (float)sd;
    }
}

void vgg_batchnorm_backward(float *din, float *dgamma, float *dbeta,
                            float *dbias, const float *dout, const float *in,
                            const float *gamma, const float *beta,
                            const float *mean, const float *invstd, int relu,
                            int C, int M, double *scratch) {
    vgg_batchnorm_backward_sums(scratch, dgamma, dbeta, dout, in, gamma, beta,
                                mean, invstd, relu, C, M);
    vgg_batchnorm_backward_apply(din, dbias, scratch, M, dout, in, gamma, beta,
                                 mean, invstd, relu, C, M);
}
