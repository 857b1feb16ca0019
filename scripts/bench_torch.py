#!/usr/bin/python3
"""PyTorch's side of the benchmark: the same VGG16-BN, batch sizes, SGD and
step as vggbench, timed the same way (warm steps, median images/s).

Run with Debian's python3 (/usr/bin/python3, python3-torch 1.13). Each
configuration (memory format x oneDNN on/off) runs in a child process of
its own, so that its peak memory (getrusage ru_maxrss) is its own; the best
is the one with the highest median training rate.

    /usr/bin/python3 scripts/bench_torch.py [--steps N] [--threads N] [--json]
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

CONFIGS = {
    # name: (memory format, torch.backends.mkldnn.enabled)
    "contiguous": ("contiguous", True),
    "channels_last": ("channels_last", True),
    "contiguous-nomkldnn": ("contiguous", False),
    "channels_last-nomkldnn": ("channels_last", False),
}
DEFAULT_CONFIGS = "contiguous,channels_last"

# VGG16: widths and 'M' for pools, grouped as the reference class's
# conv1..conv5 Sequential blocks (so the state_dict names match).
BLOCKS = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512],
          [512, 512, 512]]


def build_model(torch, classes):
    nn = torch.nn

    class VGG(nn.Module):
        """The reference VGG class (docs: /work/shared/reference), written
        as a loop over the table; fc1 sized to the class count."""

        def __init__(self):
            super().__init__()
            cin = 3
            for b, widths in enumerate(BLOCKS, 1):
                layers = []
                for w in widths:
                    layers += [nn.Conv2d(cin, w, kernel_size=3, stride=1,
                                         padding=1),
                               nn.BatchNorm2d(w), nn.ReLU()]
                    cin = w
                layers.append(nn.MaxPool2d(kernel_size=2))
                setattr(self, "conv%d" % b, nn.Sequential(*layers))
            self.fc1 = nn.Linear(512, classes)

        def forward(self, x):
            for b in range(1, len(BLOCKS) + 1):
                x = getattr(self, "conv%d" % b)(x)
            x = x.reshape(x.size(0), -1)
            return self.fc1(x)

    return VGG()


def model_flops(classes, side=32):
    """FLOPs per image (multiply-add = 2): forward, and backward (weight
    gradients as forward; input gradients as forward except the first
    convolution's, which nobody needs)."""
    fwd = bwd = 0.0
    cin, s, first = 3, side, True
    for widths in BLOCKS:
        for w in widths:
            f = 2.0 * cin * 9 * w * s * s
            fwd += f
            bwd += f if first else 2 * f
            first = False
            cin = w
        s //= 2
    fc = 2.0 * 512 * classes
    return fwd + fc, bwd + 2 * fc


def summary(v):
    return {"median": statistics.median(v), "min": min(v), "max": max(v)}


def run_one(args):
    """Times one configuration in this process and prints one JSON line."""
    import torch

    fmt, mkldnn = CONFIGS[args.only]
    torch.set_num_threads(args.threads)
    torch.backends.mkldnn.enabled = mkldnn
    torch.manual_seed(args.seed)
    mf = torch.channels_last if fmt == "channels_last" else \
        torch.contiguous_format
    model = build_model(torch, args.classes).to(memory_format=mf)
    nb = max(args.batch_size, args.eval_batch_size)
    g = torch.Generator().manual_seed(args.seed)
    x_all = torch.rand(nb, 3, 32, 32, generator=g) * 4.0 - 2.0
    y_all = torch.randint(0, args.classes, (nb,), generator=g)
    x = x_all[:args.batch_size].contiguous(memory_format=mf)
    y = y_all[:args.batch_size].clone()
    xe = x_all[:args.eval_batch_size].contiguous(memory_format=mf)
    crit = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9,
                          weight_decay=5e-4)

    # Training steps, as the reference loop does them.
    model.train()
    rates = []
    for it in range(args.warmup + args.steps):
        t = time.perf_counter()
        opt.zero_grad()
        out = model(x)
        loss = crit(out, y)
        loss.backward()
        opt.step()
        t = time.perf_counter() - t
        if it >= args.warmup:
            rates.append(args.batch_size / t)
    if not torch.isfinite(loss).item():
        print("bench_torch.py: %s: the loss is not finite" % args.only,
              file=sys.stderr)
        return 1

    # Evaluation batches: running statistics, no autograd.
    model.eval()
    erates = []
    with torch.no_grad():
        for it in range(args.warmup + args.steps):
            t = time.perf_counter()
            model(xe)
            t = time.perf_counter() - t
            if it >= args.warmup:
                erates.append(args.eval_batch_size / t)

    fwd, bwd = model_flops(args.classes)
    tr = summary(rates)
    print(json.dumps({
        "config": args.only, "memory_format": fmt, "mkldnn": mkldnn,
        "train_img_s": tr, "eval_img_s": summary(erates),
        "step_gflops": (fwd + bwd) * tr["median"] / 1e9,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        / 1024.0,
    }))
    return 0


def main():
    p = argparse.ArgumentParser(
        description="Times VGG16-BN training steps and evaluation batches "
        "in PyTorch, as vggbench does for ours.")
    p.add_argument("--steps", type=int, default=10,
                   help="timed steps and evaluation batches [10]")
    p.add_argument("--warmup", type=int, default=2,
                   help="untimed steps before them [2]")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--eval-batch-size", type=int, default=100)
    p.add_argument("--threads", type=int, default=2,
                   help="torch.set_num_threads [2]")
    p.add_argument("--classes", type=int, default=3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--configs", default=DEFAULT_CONFIGS,
                   help="comma-separated, from: %s; or 'all' [%s]"
                   % (", ".join(CONFIGS), DEFAULT_CONFIGS))
    p.add_argument("--json", action="store_true",
                   help="one JSON object on stdout")
    p.add_argument("--only", choices=list(CONFIGS), help=argparse.SUPPRESS)
    args = p.parse_args()
    for name in ("steps", "batch_size", "eval_batch_size", "threads"):
        if getattr(args, name) < 1:
            p.error("--%s: expected at least 1" % name.replace("_", "-"))
    if args.warmup < 0:
        p.error("--warmup: expected 0 or more")
    if args.classes < 2:
        p.error("--classes: expected at least 2")
    if args.only:
        return run_one(args)

    names = list(CONFIGS) if args.configs == "all" else \
        [c.strip() for c in args.configs.split(",") if c.strip()]
    for n in names:
        if n not in CONFIGS:
            p.error("--configs: unknown configuration '%s'; expected one of "
                    "%s" % (n, ", ".join(CONFIGS)))

    results = []
    common = ["--steps", str(args.steps), "--warmup", str(args.warmup),
              "--batch-size", str(args.batch_size), "--eval-batch-size",
              str(args.eval_batch_size), "--threads", str(args.threads),
              "--classes", str(args.classes), "--seed", str(args.seed)]
    for n in names:
        r = subprocess.run([sys.executable, os.path.abspath(__file__),
                            "--only", n] + common, stdout=subprocess.PIPE)
        if r.returncode != 0:
            print("bench_torch.py: configuration %s failed (exit %d)"
                  % (n, r.returncode), file=sys.stderr)
            return 1
        results.append(json.loads(r.stdout.decode().strip().splitlines()[-1]))
    best = max(results, key=lambda r: r["train_img_s"]["median"])

    import torch  # only for the version and the thread default it reports
    fwd, bwd = model_flops(args.classes)
    report = {
        "impl": "pytorch", "torch": torch.__version__,
        "threads": args.threads, "classes": args.classes,
        "batch_size": args.batch_size, "eval_batch_size": args.eval_batch_size,
        "steps": args.steps, "warmup": args.warmup,
        "gflop_per_train_image": (fwd + bwd) / 1e9,
        "gflop_per_eval_image": fwd / 1e9,
        "best": best["config"],
        "train_img_s": best["train_img_s"], "eval_img_s": best["eval_img_s"],
        "step_gflops": best["step_gflops"],
        "peak_rss_mb": best["peak_rss_mb"],
        "configs": results,
    }
    if args.json:
        print(json.dumps(report))
        return 0
    print("bench_torch.py: PyTorch %s, VGG16-BN, %d classes, %d threads, "
          "batch %d / eval %d, %d steps after %d warm-up"
          % (torch.__version__, args.classes, args.threads, args.batch_size,
             args.eval_batch_size, args.steps, args.warmup))
    print("model       %.3f GFLOP per training image (forward %.3f, backward "
          "%.3f)" % ((fwd + bwd) / 1e9, fwd / 1e9, bwd / 1e9))
    print("  %-24s %22s %22s %8s %9s" % ("configuration", "train img/s (min-max)",
                                         "eval img/s (min-max)", "GFLOP/s",
                                         "peak MB"))
    for r in results:
        t, e = r["train_img_s"], r["eval_img_s"]
        print("  %-24s %7.1f (%5.1f-%5.1f) %7.1f (%5.1f-%5.1f) %8.1f %9.0f"
              % (r["config"] + (" *" if r is best else ""), t["median"],
                 t["min"], t["max"], e["median"], e["min"], e["max"],
                 r["step_gflops"], r["peak_rss_mb"]))
    print("best        %s: training %.1f images/s, evaluation %.1f images/s, "
          "peak RSS %.0f MB" % (best["config"], best["train_img_s"]["median"],
                                best["eval_img_s"]["median"],
                                best["peak_rss_mb"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
