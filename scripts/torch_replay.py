#!/usr/bin/python3
"""Replays the first steps of a vggtrain training in PyTorch: the same
initial weights, the same batches (shuffled and augmented by vggtrain's own
code), the same SGD; prints both losses step by step.

    /usr/bin/python3 scripts/torch_replay.py --bin BUILD_DIR --data DIR \\
        [--seed 1] [--steps 40] [--batch-size 128] [--classes 3] \\
        [--double] [--threads 2] [--check-steps N --limit X]

BUILD_DIR/tests/torch_replay (C) starts the training as `vggtrain --seed S`
does, runs its first steps and writes the initial weights, every batch,
every step's loss and the test accuracy after each whole epoch (118 steps
at 3 classes and batch 128: --steps 590 replays five epochs, with about
1 GB of batches in memory); this script loads the weights into the reference
notebook's VGG class (scripts/torch_agreement.py), takes the same steps on
the same batches with torch.optim.SGD (lr 0.01, momentum 0.9, weight decay
5e-4) and prints, per step, the C loss, PyTorch's (after each whole
epoch both test accuracies), and with --double a
float64 PyTorch run's: the trajectory without float32 rounding, against
which the two float32 runs' drift can be judged; then, for both float32
runs, how far their parameter change (final - initial) lies from the
float64 run's (relative norm over all tensors, and the worst tensor).

Two float32 trainings that sum in different orders agree for a few steps,
then drift apart (max-pool choices and ReLU signs flip on near-equal
values), so the loss columns are expected to agree closely at first and
then only in their course. --check-steps N --limit X exits 1 unless the C
and PyTorch losses agree within a relative X over the first N steps (the
test's use). Exit status 0, 1 disagreement or failure.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_agreement import (VGG, normalise, read_cifar,  # noqa: E402
                             read_safetensors)


def accuracy(model, test, dtype):
    """Test accuracy with running statistics, batches of 100."""
    x, y = test
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(y), 100):
            out = model(x[i:i + 100].to(dtype))
            correct += (out.argmax(1) == y[i:i + 100]).sum().item()
    model.train()
    return correct / len(y)


def replay(tensors, prefix_init, classes, steps, dtype, test=None):
    model = VGG(classes).to(dtype)
    state = model.state_dict()
    init = {k[len(prefix_init):]: v for k, v in tensors.items()
            if k.startswith(prefix_init)}
    missing = [k for k in state if k not in init
               and not k.endswith("num_batches_tracked")]
    if missing:
        sys.exit("torch_replay: the C file lacks %s" % ", ".join(missing[:3]))
    for k in state:
        if k in init:
            state[k] = init[k].to(dtype)
    model.load_state_dict(state)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9,
                          weight_decay=5e-4)
    losses, accs = [], []
    nb = int(tensors["batches_per_epoch"].item())
    for s in range(steps):
        n = int(tensors["count"][s].item())
        x = tensors["input"][s, :n].to(dtype)
        y = tensors["labels"][s, :n].long()
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if test is not None and (s + 1) % nb == 0:
            accs.append(accuracy(model, test, dtype))
            print("  PyTorch (%s), epoch %d: test_acc %.2f%%" % (
                str(dtype).split(".")[-1], len(accs), 100 * accs[-1]),
                flush=True)
    return model, losses, accs


def worst(final, model, n=3):
    """The parameters furthest apart after the last step:
    max|c - torch| / max|torch|, largest first."""
    out = []
    for k, v in model.state_dict().items():
        c = final.get("final." + k)
        if c is None:
            continue
        t = v.double()
        d = (c.double() - t).abs().max() / t.abs().max().clamp_min(1e-30)
        out.append((d.item(), k))
    return sorted(out, reverse=True)[:n]


def update_error(tensors, ref, runs):
    """How far each float32 run's parameter change (final - initial) lies
    from the float64 run's: ||d - d64|| / ||d64|| over all parameters and
    buffers, and the worst tensor's. ref: the float64 state dict; runs:
    name -> state dict, None for C's (tensors["final." + name])."""
    out = {}
    for name, state in runs.items():
        num = den = 0.0
        worst_t = (0.0, "")
        for k, v64 in ref.items():
            i = tensors.get("init." + k)
            if i is None or k.endswith("num_batches_tracked"):
                continue
            d64 = v64.double() - i.double()
            f = tensors.get("final." + k) if state is None else state[k]
            if f is None:
                continue
            e = (f.double() - i.double() - d64).norm().item()
            n = d64.norm().item()
            num += e * e
            den += n * n
            if n > 0 and e / n > worst_t[0]:
                worst_t = (e / n, k)
        out[name] = ((num ** 0.5) / max(den ** 0.5, 1e-300), worst_t)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True,
                    help="build folder with tests/torch_replay")
    ap.add_argument("--data", required=True, help="CIFAR-10 binary folder")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--classes", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--double", action="store_true",
                    help="also replay in float64")
    ap.add_argument("--check-steps", type=int, default=0)
    ap.add_argument("--limit", type=float, default=1e-3)
    args = ap.parse_args()
    for name, v, lo in (("--steps", args.steps, 1),
                        ("--batch-size", args.batch_size, 1),
                        ("--threads", args.threads, 1),
                        ("--check-steps", args.check_steps, 0)):
        if v < lo:
            sys.exit("torch_replay: %s %d: expected at least %d" % (name, v, lo))
    if args.check_steps > args.steps:
        sys.exit("torch_replay: --check-steps %d: more than --steps %d"
                 % (args.check_steps, args.steps))
    torch.set_num_threads(args.threads)
    tool = os.path.join(args.bin, "tests", "torch_replay")
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "replay.safetensors")
        cmd = [tool, args.data, str(args.classes), str(args.seed),
               str(args.steps), str(args.batch_size), path,
               str(args.threads)]
        print("$ " + " ".join(cmd), flush=True)
        if subprocess.run(cmd).returncode != 0:
            sys.exit("torch_replay: %s failed" % tool)
        tensors, _ = read_safetensors(path)
    c_loss = tensors["loss"].tolist()
    c_acc = tensors["test_acc"].tolist()
    test = None
    if c_acc:  # whole epochs: score PyTorch on the same test split
        test = normalise(read_cifar(os.path.join(args.data, "test_batch.bin"),
                                    args.classes))
        test = (test[0], test[1].long())
    model, t_loss, t_acc = replay(tensors, "init.", args.classes, args.steps,
                                  torch.float32, test)
    d_loss = d_acc = None
    if args.double:
        model64, d_loss, d_acc = replay(tensors, "init.", args.classes,
                                        args.steps, torch.float64, test)
    head = "%5s %10s %10s %9s" % ("step", "C", "PyTorch", "rel")
    if d_loss:
        head += " %10s %9s %9s" % ("PyTorch64", "C-64", "Py32-64")
    print(head)
    bad = 0
    for s in range(args.steps):
        r = abs(c_loss[s] - t_loss[s]) / max(abs(t_loss[s]), 1e-30)
        line = "%5d %10.6f %10.6f %9.2e" % (s + 1, c_loss[s], t_loss[s], r)
        if d_loss:
            line += " %10.6f %9.2e %9.2e" % (
                d_loss[s], abs(c_loss[s] - d_loss[s]) / abs(d_loss[s]),
                abs(t_loss[s] - d_loss[s]) / abs(d_loss[s]))
        if s < args.check_steps and not r <= args.limit:
            line += "  <- over %g" % args.limit
            bad += 1
        print(line)
    print("mean loss over the %d steps: C %.4f, PyTorch %.4f%s" % (
        args.steps, sum(c_loss) / args.steps, sum(t_loss) / args.steps,
        ", PyTorch float64 %.4f" % (sum(d_loss) / args.steps) if d_loss
        else ""))
    for e, a in enumerate(c_acc):
        print("epoch %d: test accuracy C %.2f%%, PyTorch %.2f%%%s" % (
            e + 1, 100 * a, 100 * t_acc[e],
            ", PyTorch float64 %.2f%%" % (100 * d_acc[e]) if d_acc else ""))
    print("parameters after step %d, furthest apart (max|C-PyTorch|/max|PyTorch|):"
          % args.steps)
    for d, k in worst(tensors, model):
        print("  %-28s %.3e" % (k, d))
    if args.double:
        print("parameter change over the %d steps (final - initial), its "
              "distance from float64's: ||d - d64|| / ||d64|| over all "
              "tensors; the worst tensor's" % args.steps)
        errs = update_error(tensors, model64.state_dict(),
                            {"C": None, "PyTorch": model.state_dict()})
        for name, (e, (we, wk)) in errs.items():
            print("  %-8s %.3e   worst %-28s %.3e" % (name, e, wk, we))
    if args.check_steps:
        print("%s: C and PyTorch losses within %g over the first %d steps"
              % ("FAIL" if bad else "PASS", args.limit, args.check_steps))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
