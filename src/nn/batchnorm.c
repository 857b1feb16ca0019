#include <math.h>

#include "vgg/nn.h"

/* One channel a thread: each channel's statistics are summed by one thread
 * in a fixed order, so results do not depend on the thread count. */

void vgg_batchnorm_forward_train(float *out, float *xhat, float *invstd,
                                 float *run_mean, float *run_var,
                                 const float *in, const float *gamma,
                                 const float *beta, int relu, float momentum,
                                 float eps, int C, int M) {
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        const float *x = in + (long)c * M;
        double s = 0.0;
        for (int j = 0; j < M; j++) s += x[j];
        double mean = s / M;
        double v = 0.0;
        for (int j = 0; j < M; j++) {
            double d = x[j] - mean;
            v += d * d;
        }
        double var = v / M;
        float is = (float)(1.0 / sqrt(var + eps));
        float fm = (float)mean, g = gamma[c], b = beta[c];
        float *xh = xhat + (long)c * M, *o = out + (long)c * M;
        for (int j = 0; j < M; j++) {
            float h = (x[j] - fm) * is;
            float z = g * h + b;
            xh[j] = h;
            o[j] = relu && z < 0.0f ? 0.0f : z;
        }
        invstd[c] = is;
        double unbiased = M > 1 ? v / (M - 1) : var;
        run_mean[c] = (1.0f - momentum) * run_mean[c] + momentum * fm;
        run_var[c] = (1.0f - momentum) * run_var[c] + momentum * (float)unbiased;
    }
}

void vgg_batchnorm_forward_eval(float *out, const float *in,
                                const float *gamma, const float *beta,
                                const float *run_mean, const float *run_var,
                                int relu, float eps, int C, int M) {
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        float is = 1.0f / sqrtf(run_var[c] + eps);
        float scale = gamma[c] * is, shift = beta[c] - run_mean[c] * scale;
        const float *x = in + (long)c * M;
        float *o = out + (long)c * M;
        for (int j = 0; j < M; j++) {
            float z = x[j] * scale + shift;
            o[j] = relu && z < 0.0f ? 0.0f : z;
        }
    }
}

void vgg_batchnorm_backward(float *din, float *dgamma, float *dbeta,
                            const float *dout, const float *xhat,
                            const float *out, const float *gamma,
                            const float *invstd, int relu, int C, int M) {
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        const float *g = dout + (long)c * M, *xh = xhat + (long)c * M;
        const float *o = out + (long)c * M;
        double sg = 0.0, sgx = 0.0;
        for (int j = 0; j < M; j++) {
            float dz = relu && o[j] <= 0.0f ? 0.0f : g[j];
            sg += dz;
            sgx += (double)dz * xh[j];
        }
        dgamma[c] += (float)sgx;
        dbeta[c] += (float)sg;
        float k = gamma[c] * invstd[c];
        float mg = (float)(sg / M), mgx = (float)(sgx / M);
        float *d = din + (long)c * M;
        for (int j = 0; j < M; j++) {
            float dz = relu && o[j] <= 0.0f ? 0.0f : g[j];
            d[j] = k * (dz - mg - xh[j] * mgx);
        }
    }
}
