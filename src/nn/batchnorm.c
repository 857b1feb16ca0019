#include <math.h>

#include "vgg/nn.h"

/* One channel a thread: each channel's statistics are summed by one thread
 * in a fixed order, so results do not depend on the thread count.
 * Sums run in float over chunks (vectorised by `omp simd`) and are carried
 * across chunks in double; the forward sums are shifted by the channel's
 * first value so that the variance does not cancel when |mean| >> std. */
#define CHUNK 2048

void vgg_batchnorm_forward_train(float *out, float *mean, float *invstd,
                                 float *run_mean, float *run_var,
                                 const float *in, const float *bias,
                                 const float *gamma, const float *beta,
                                 int relu, float momentum, float eps, int C,
                                 int M) {
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        const float *x = in + (long)c * M;
        const float k = x[0];
        double s = 0.0, ss = 0.0;
        for (int j0 = 0; j0 < M; j0 += CHUNK) {
            int j1 = j0 + CHUNK < M ? j0 + CHUNK : M;
            float fs = 0.0f, fss = 0.0f;
#pragma omp simd reduction(+ : fs, fss)
            for (int j = j0; j < j1; j++) {
                float d = x[j] - k;
                fs += d;
                fss += d * d;
            }
            s += fs;
            ss += fss;
        }
        double dm = s / M;
        double var = ss / M - dm * dm;
        if (var < 0.0) var = 0.0;
        double mu = k + dm;
        float is = (float)(1.0 / sqrt(var + eps));
        float fm = (float)mu;
        /* out = relu(gamma * (x - mean) * invstd + beta) = relu(x*a + b) */
        float a = gamma[c] * is, b = beta[c] - fm * a;
        float *o = out + (long)c * M;
        if (relu) {
#pragma omp simd
            for (int j = 0; j < M; j++) {
                float z = x[j] * a + b;
                o[j] = z > 0.0f ? z : 0.0f;
            }
        } else {
#pragma omp simd
            for (int j = 0; j < M; j++) o[j] = x[j] * a + b;
        }
        mean[c] = fm;
        invstd[c] = is;
        double unbiased = M > 1 ? var * M / (M - 1) : var;
        float bc = bias ? bias[c] : 0.0f;
        run_mean[c] = (1.0f - momentum) * run_mean[c] + momentum * (fm + bc);
        run_var[c] =
            (1.0f - momentum) * run_var[c] + momentum * (float)unbiased;
    }
}

void vgg_batchnorm_forward_eval(float *out, const float *in, const float *bias,
                                const float *gamma, const float *beta,
                                const float *run_mean, const float *run_var,
                                int relu, float eps, int C, int M) {
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        float is = 1.0f / sqrtf(run_var[c] + eps);
        float a = gamma[c] * is;
        float b = beta[c] + ((bias ? bias[c] : 0.0f) - run_mean[c]) * a;
        const float *x = in + (long)c * M;
        float *o = out + (long)c * M;
        if (relu) {
#pragma omp simd
            for (int j = 0; j < M; j++) {
                float z = x[j] * a + b;
                o[j] = z > 0.0f ? z : 0.0f;
            }
        } else {
#pragma omp simd
            for (int j = 0; j < M; j++) o[j] = x[j] * a + b;
        }
    }
}

void vgg_batchnorm_backward(float *din, float *dgamma, float *dbeta,
                            float *dbias, const float *dout, const float *in,
                            const float *out, const float *mean,
                            const float *invstd, const float *gamma, int relu,
                            int C, int M) {
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        const float *g = dout + (long)c * M, *x = in + (long)c * M;
        const float *o = out + (long)c * M;
        const float mu = mean[c], is = invstd[c];
        /* dz = dout masked by ReLU; xhat = (x - mean) * invstd */
        double sg = 0.0, sgx = 0.0;
        for (int j0 = 0; j0 < M; j0 += CHUNK) {
            int j1 = j0 + CHUNK < M ? j0 + CHUNK : M;
            float fg = 0.0f, fgx = 0.0f;
#pragma omp simd reduction(+ : fg, fgx)
            for (int j = j0; j < j1; j++) {
                float dz = relu && o[j] <= 0.0f ? 0.0f : g[j];
                fg += dz;
                fgx += dz * (x[j] - mu);
            }
            sg += fg;
            sgx += fgx;
        }
        sgx *= is; /* sum dz * xhat */
        dgamma[c] += (float)sgx;
        dbeta[c] += (float)sg;
        /* din = gamma*invstd * (dz - mean(dz) - xhat * mean(dz*xhat)) */
        const float k = gamma[c] * is;
        const float mg = (float)(sg / M), mgx = (float)(sgx / M) * is;
        float *d = din + (long)c * M;
        double sd = 0.0;
        for (int j0 = 0; j0 < M; j0 += CHUNK) {
            int j1 = j0 + CHUNK < M ? j0 + CHUNK : M;
            float fd = 0.0f;
#pragma omp simd reduction(+ : fd)
            for (int j = j0; j < j1; j++) {
                float dz = relu && o[j] <= 0.0f ? 0.0f : g[j];
                float v = k * (dz - mg - (x[j] - mu) * mgx);
                d[j] = v;
                fd += v;
            }
            sd += fd;
        }
        if (dbias) dbias[c] += (float)sd;
    }
}
