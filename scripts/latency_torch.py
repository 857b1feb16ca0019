#!/usr/bin/python3
"""PyTorch's side of vggbench --latency: a vggtrain checkpoint loaded into
the reference VGG class (built from the library's walk, as
scripts/torch_agreement.py builds it), evaluation mode, torch.no_grad;
random images [N,3,32,32] in [0,1], normalised inside the timed call as
the ONNX graph and vgg_classifier_logits do. Prints "version ..." and
"latency B1 B100": median milliseconds per call at batch 1 and 100.

    /usr/bin/python3 scripts/latency_torch.py --bin BUILD --model model.bin
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
from torch_agreement import MEAN, STD, VGG, read_safetensors, walk  # noqa


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    tensors, meta = read_safetensors(a.model)
    w = walk(a.bin, meta["arch"], meta.get("head", "linear"),
             int(meta["classes"]), meta.get("batch_norm", "true") == "false")
    model = VGG(w)
    model.load_state_dict({k: v for k, v in tensors.items()
                           if not k.startswith("optimizer.")})
    model.eval()
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(100, 3, 32, 32, generator=g)
    out = []
    with torch.no_grad():
        for n in (1, 100):
            t = []
            for k in range(a.warmup + a.reps):
                t0 = time.perf_counter()
                model((x[:n] - mean) / std)
                if k >= a.warmup:
                    t.append(time.perf_counter() - t0)
            out.append(1e3 * statistics.median(t))
    print("version torch %s" % torch.__version__)
    print("latency %.4f %.4f" % tuple(out))


if __name__ == "__main__":
    main()
