#!/usr/bin/env python3
"""Compares the tensors of two vggtrain checkpoints (safetensors files).

usage: ckpt_diff.py A.bin B.bin [--max-rel X] [--prefix P] [--skip RE]
       ckpt_diff.py A.bin B.bin --noise R1.bin R2.bin [--factor F]

Prints the largest relative difference, max|a-b| / max|a|, of each tensor
and overall; exits 1 if the overall figure is above --max-rel (default
1e-4), 2 if the files do not hold the same tensors.

With --noise, the bound of each tensor comes from the float32 rounding of
the run itself instead of a fixed number: R1 and R2 are two runs of the
same training that differ only in how their sums round (say, two GEMM
kernels), so their difference is how far rounding alone carries that
tensor over the run. A-B passes when, for every tensor,
  d(A,B) <= F * max(d(R1,R2), FLOOR)
with FLOOR = 8 units of float32 rounding (8 * 2^-24) and F = --factor
(default 8); it prints each tensor's ratio d(A,B) / (F * max(...)) and
the worst. Only the standard library: it reads the format by hand.
"""
import argparse
import array
import json
import re
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    base = 8 + n
    out = {}
    for name, t in header.items():
        lo, hi = t["data_offsets"]
        raw = data[base + lo:base + hi]
        if t["dtype"] == "F32":
            out[name] = array.array("f", raw)
        elif t["dtype"] == "I64":
            out[name] = array.array("q", raw)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--max-rel", type=float, default=1e-4)
    ap.add_argument("--prefix", default="", help="only tensors named so")
    ap.add_argument("--skip", default=None,
                    help="regular expression of tensor names to leave out")
    ap.add_argument("--noise", nargs=2, metavar=("R1", "R2"),
                    help="bound each tensor by the difference of R1 and R2")
    ap.add_argument("--factor", type=float, default=8.0)
    args = ap.parse_args()
    a, b = read(args.a), read(args.b)
    refs = [read(f) for f in args.noise] if args.noise else []
    for other, path in [(b, args.b)] + list(zip(refs, args.noise or [])):
        if a.keys() != other.keys():
            print(f"{args.a} and {path} hold different tensors:",
                  sorted(set(a) ^ set(other)), file=sys.stderr)
            return 2
    floor = 8 * 2.0 ** -24
    worst, worst_name = 0.0, ""
    for name in sorted(a):
        if not name.startswith(args.prefix):
            continue
        if args.skip and re.search(args.skip, name):
            continue
        d = rel_diff(a[name], b[name])
        if refs:
            bound = args.factor * max(rel_diff(refs[0][name], refs[1][name]),
                                      floor)
            r = d / bound
            print(f"{name:45s} {d:.3e}  bound {bound:.3e}  ratio {r:.3f}")
            d = r
        else:
            print(f"{name:45s} {d:.3e}")
        if d > worst:
            worst, worst_name = d, name
    if refs:
        print(f"worst ratio to the rounding bound {worst:.3f} "
              f"({worst_name or 'all equal'}; passes at 1 or less)")
        return 0 if worst <= 1.0 else 1
    print(f"max relative difference {worst:.3e} ({worst_name or 'all equal'})")
    return 0 if worst <= args.max_rel else 1


def rel_diff(x, y):
    """max|x-y| / max|x| (1 in place of a zero scale)."""
    scale = max((abs(v) for v in x), default=0.0) or 1.0
    return max((abs(p - q) for p, q in zip(x, y)), default=0.0) / scale


if __name__ == "__main__":
    sys.exit(main())
