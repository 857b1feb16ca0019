#include <math.h>

#include "vgg/nn.h"

double vgg_softmax_xent(float *dlogits, int *correct, int *pred,
                        const float *logits, const uint8_t *labels, int N,
                        int K) {
    double total = 0.0;
    int hits = 0;
    for (int n = 0; n < N; n++) {
        const float *z = logits + (long)n * K;
        int best = 0;
        for (int k = 1; k < K; k++)
            if (z[k] > z[best]) best = k;
        double mx = z[best], sum = 0.0;
        for (int k = 0; k < K; k++) sum += exp((double)z[k] - mx);
        double lse = mx + log(sum);
        total += lse - z[labels[n]];
        hits += best == labels[n];
        if (pred) pred[n] = best;
        if (dlogits)
            for (int k = 0; k < K; k++) {
                double p = exp((double)z[k] - lse);
                dlogits[(long)n * K + k] = (float)((p - (k == labels[n])) / N);
            }
    }
    if (correct) *correct = hits;
    return total;
}
