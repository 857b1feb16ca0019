/* vggbench --latency: evaluation latency at batch 1 and 100, ours beside
 * PyTorch's and ONNX Runtime's. */
#ifndef VGG_CLI_BENCH_LATENCY_H
#define VGG_CLI_BENCH_LATENCY_H

/* model: a checkpoint; onnx: its export (NULL: exported here to a
 * temporary file); reps timed after warmup untimed, median reported.
 * bin_dir: where tests/torch_dump is (PyTorch builds the network from
 * its walk). Returns the exit status. */
int bench_latency(const char *model, const char *onnx, const char *bin_dir,
                  int threads, int reps, int warmup, int json);

#endif
