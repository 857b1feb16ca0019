#include "vgg/predict.h"

#include <math.h>

int vgg_top_k(vgg_prediction *out, int k, const float *logits, int classes) {
    if (k < 1 || classes < 1) return 0;
    if (k > classes) k = classes;
    double mx = logits[0], sum = 0.0;
    for (int c = 1; c < classes; c++)
        if (logits[c] > mx) mx = logits[c];
    for (int c = 0; c < classes; c++) sum += exp((double)logits[c] - mx);
    /* insertion into a sorted list of k: classes is small */
    int n = 0;
    for (int c = 0; c < classes; c++) {
        float p = (float)(exp((double)logits[c] - mx) / sum);
        int at = n;
        while (at > 0 && out[at - 1].prob < p) at--;
        if (at >= k) continue;
        for (int j = (n < k ? n : k - 1); j > at; j--) out[j] = out[j - 1];
        out[at].label = c;
        out[at].prob = p;
        if (n < k) n++;
    }
    return n;
}
