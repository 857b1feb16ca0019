#!/usr/bin/env python3
"""Compares the tensors of two vggtrain checkpoints (safetensors files).

usage: ckpt_diff.py A.bin B.bin [--max-rel X] [--prefix P]

Prints the largest relative difference, max|a-b| / max|a|, of each tensor
and overall; exits 1 if the overall figure is above --max-rel (default
1e-4), 2 if the files do not hold the same tensors. Only the standard
library: it reads the format by hand.
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
    args = ap.parse_args()
    a, b = read(args.a), read(args.b)
    if a.keys() != b.keys():
        print("the files hold different tensors:",
              sorted(set(a) ^ set(b)), file=sys.stderr)
        return 2
    worst, worst_name = 0.0, ""
    for name in sorted(a):
        if not name.startswith(args.prefix):
            continue
        if args.skip and re.search(args.skip, name):
            continue
        x, y = a[name], b[name]
        scale = max((abs(v) for v in x), default=0.0) or 1.0
        d = max((abs(p - q) for p, q in zip(x, y)), default=0.0) / scale
        print(f"{name:45s} {d:.3e}")
        if d > worst:
            worst, worst_name = d, name
    print(f"max relative difference {worst:.3e} ({worst_name or 'all equal'})")
    return 0 if worst <= args.max_rel else 1


if __name__ == "__main__":
    sys.exit(main())
