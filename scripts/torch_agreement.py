#!/usr/bin/python3
"""PyTorch agreement: the numerical proof that vggtrain computes what
PyTorch computes.

Run with Debian's python3-torch:

    /usr/bin/python3 scripts/torch_agreement.py --bin BUILD_DIR
    /usr/bin/python3 scripts/torch_agreement.py --bin BUILD_DIR \
        --model model.bin --data data/cifar-10-batches-bin --limit-test 300

(a) C -> PyTorch. Loads a vggtrain checkpoint (by default one trained here
    for one epoch of full VGG16 on synthetic CIFAR files; or --model) into
    the reference notebook's VGG class with load_state_dict(strict=True)
    after dropping the optimizer.* tensors, scores the test split and checks
    the accuracy count equals vggeval's, and checks the logits of a test
    batch against the C ones (tests/torch_dump, eval mode).
(b) PyTorch -> C. Writes a PyTorch-initialised VGG16 (batch-norm affine
    parameters and running statistics randomised so they matter) as a
    safetensors checkpoint, runs one training-mode forward and backward on
    a fixed batch in both, and compares the loss, the logits, every layer's
    output, every parameter gradient and the updated running statistics.

The difference printed for each tensor is max|c - torch| / max|torch|: the
worst error relative to the tensor's scale. Exits 0 when everything is
within the limits (forward values 1e-4, gradients 1e-3), else 1.

--float64 adds to (b) both float32 runs against a float64 PyTorch run from
the same start: each layer output's largest error, the ReLU outputs on the
other side of zero, the gradients' error; reported, not checked. The C
forward's errors summed over the layers, as a multiple of PyTorch's: at 8
images 2.0-2.3 before our GEMM summed the depth in chunks, 1.1-1.5 after,
in the release build; 3.6 in the sanitizer build, whose batch-norm sums
are not vectorised. The gradient limit is meant for the
default 8 images: from about 17 on, a ReLU output within rounding of zero,
kept by one code and zeroed by the other, can send a max-pool window's
whole gradient another way, and such flips put gradients 1e-3 to 1e-2
apart (PyTorch float32 against float64 too).

Safetensors is read and written by hand (json + struct + numpy): Debian has
no safetensors package.
"""
import argparse
import copy
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2023, 0.1994, 0.2010)
VGG16 = "64 64 M 128 128 M 256 256 256 M 512 512 512 M 512 512 512 M"
NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
         "horse", "ship", "truck"]
LIMIT_FORWARD = 1e-4
LIMIT_GRAD = 1e-3


class VGG(nn.Module):
    """The reference notebook's VGG, with fc1 sized to the class count."""

    def __init__(self, classes=3):
        super().__init__()

        def block(widths, cin):
            layers = []
            for w in widths:
                layers += [nn.Conv2d(cin, w, kernel_size=3, stride=1,
                                     padding=1),
                           nn.BatchNorm2d(w), nn.ReLU()]
                cin = w
            return nn.Sequential(*layers, nn.MaxPool2d(kernel_size=2))

        self.conv1 = block([64, 64], 3)
        self.conv2 = block([128, 128], 64)
        self.conv3 = block([256, 256, 256], 128)
        self.conv4 = block([512, 512, 512], 256)
        self.conv5 = block([512, 512, 512], 512)
        self.fc1 = nn.Linear(512, classes)

    def forward(self, x):
        out = self.conv1(x)
        out = self.conv2(out)
        out = self.conv3(out)
        out = self.conv4(out)
        out = self.conv5(out)
        out = out.view(out.size(0), -1)
        return self.fc1(out)


# ---- safetensors by hand ----------------------------------------------

DTYPES = {"F32": np.dtype("<f4"), "I64": np.dtype("<i8")}


def read_safetensors(path):
    blob = open(path, "rb").read()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = memoryview(blob)[8 + n:]
    out = {}
    for name, t in header.items():
        b, e = t["data_offsets"]
        a = np.frombuffer(data[b:e], dtype=DTYPES[t["dtype"]])
        out[name] = torch.from_numpy(a.reshape(t["shape"]).copy())
    return out, meta


def write_safetensors(path, tensors, meta):
    """tensors: name -> torch tensor (float32 or int64). Adds the CRC-32 of
    the data section to meta as vggtrain's loader expects."""
    header, chunks, off = {}, [], 0
    for name, t in tensors.items():
        a = t.detach().cpu().numpy()
        dt = {np.dtype("float32"): "F32", np.dtype("int64"): "I64"}[a.dtype]
        raw = a.astype(DTYPES[dt]).tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape),
                        "data_offsets": [off, off + len(raw)]}
        chunks.append(raw)
        off += len(raw)
    data = b"".join(chunks)
    meta = dict(meta, checksum="crc32:%08x" % zlib.crc32(data))
    h = json.dumps(dict({"__metadata__": meta}, **header),
                   separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)


# ---- data -------------------------------------------------------------

def read_cifar(path, classes, limit=0):
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, 3073)
    raw = raw[raw[:, 0] < classes]
    if limit:
        raw = raw[:limit]
    return raw


def normalise_images(images):
    """uint8 images [n][3][32][32] -> the normalised float32 tensor."""
    x = images.astype(np.float32) / 255.0
    m = np.array(MEAN, np.float32).reshape(1, 3, 1, 1)
    s = np.array(STD, np.float32).reshape(1, 3, 1, 1)
    return torch.from_numpy((x - m) / s)


def normalise(raw):
    """CIFAR records -> (normalised images, int64 labels)."""
    return (normalise_images(raw[:, 1:].reshape(-1, 3, 32, 32)),
            torch.from_numpy(raw[:, 0].astype(np.int64)))


def synth_cifar(folder, classes, per_batch, ntest, seed):
    """Synthetic CIFAR binary folder: noise with a class-dependent tint."""
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "batches.meta.txt"), "w") as f:
        f.write("\n".join(NAMES) + "\n\n")

    def records(n):
        lab = np.arange(n) % classes
        px = rng.integers(0, 200, size=(n, 3, 1024))
        for c in range(3):
            px[lab % 3 == c, c] += 55
        return np.concatenate([lab[:, None], px.reshape(n, -1)],
                              axis=1).astype(np.uint8)

    for b in range(1, 6):
        records(per_batch).tofile(os.path.join(folder,
                                               "data_batch_%d.bin" % b))
    records(ntest).tofile(os.path.join(folder, "test_batch.bin"))


# ---- comparison -------------------------------------------------------

def rel(c, t, scale=None):
    c, t = c.double(), t.double()
    if scale is None:
        scale = float(t.abs().max())
    return float((c - t).abs().max() / max(scale, 1e-30))


class Report:
    def __init__(self):
        self.failed = []

    def check(self, name, c, t, limit, scale=None):
        if tuple(c.shape) != tuple(t.shape):
            print("  %-40s shape %s vs %s" % (name, tuple(c.shape),
                                              tuple(t.shape)))
            self.failed.append(name)
            return float("inf")
        r = rel(c, t, scale)
        ok = r < limit
        print("  %-40s %.2e%s" % (name, r, "" if ok else "  > %.0e FAIL" %
                                  limit))
        if not ok:
            self.failed.append(name)
        return r


def run(cmd):
    print("$", " ".join(cmd), flush=True)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if p.returncode:
        sys.stderr.write(p.stdout + p.stderr)
        raise SystemExit("%s exited %d" % (cmd[0], p.returncode))
    return p.stdout


# ---- (a) C checkpoint -> PyTorch ---------------------------------------

def part_a(args, work, rep):
    print("\n(a) vggtrain checkpoint -> PyTorch VGG", flush=True)
    if args.model:
        model_path, data = args.model, args.data
    else:
        data = os.path.join(work, "data")
        synth_cifar(data, 3, 3, 12, seed=1)
        model_path = os.path.join(work, "model.bin")
        run([os.path.join(args.bin, "vggtrain"), "--data", data,
             "--classes", "3", "--epochs", "1", "--batch-size", "10",
             "--eval-batch-size", "10", "--threads", str(args.threads),
             "--conv", args.conv, "--out", model_path])
    tensors, meta = read_safetensors(model_path)
    K = int(meta["classes"])
    assert meta["arch"] == VGG16, "not VGG16: " + meta["arch"]
    limit = args.limit_test
    ev = json.loads(run([os.path.join(args.bin, "vggeval"), model_path,
                         "--data", data, "--json", "--batch-size", "25",
                         "--threads", str(args.threads),
                         "--conv", args.conv,
                         "--limit-test", str(limit)]))

    model = VGG(K)
    sd = {k: v for k, v in tensors.items() if not k.startswith("optimizer.")}
    model.load_state_dict(sd, strict=True)
    model.eval()
    raw = read_cifar(os.path.join(data, "test_batch.bin"), K, limit)
    x, y = normalise(raw)
    correct, loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, len(y), 50):
            z = model(x[i:i + 50])
            correct += int((z.argmax(1) == y[i:i + 50]).sum())
            loss += float(F.cross_entropy(z, y[i:i + 50], reduction="sum"))
    print("  PyTorch: %d/%d correct, loss %.6f; vggeval: %d/%d, loss %.6f" %
          (correct, len(y), loss / len(y), ev["correct"], ev["images"],
           ev["loss"]))
    if correct != ev["correct"] or len(y) != ev["images"]:
        rep.failed.append("accuracy count")
    rep.check("test loss (mean)", torch.tensor(ev["loss"]),
              torch.tensor(loss / len(y)), LIMIT_FORWARD)

    n = min(args.images, len(y))
    batch = os.path.join(work, "test_batch_a.bin")
    raw[:n].tofile(batch)
    out = os.path.join(work, "c_eval.safetensors")
    run([os.path.join(args.bin, "tests", "torch_dump"), model_path, batch,
         out, "eval", str(args.threads), args.conv])
    c, _ = read_safetensors(out)
    with torch.no_grad():
        z = model(x[:n])
    rep.check("input (normalised, %d images)" % n, c["input"], x[:n],
              LIMIT_FORWARD)
    rep.check("logits (eval mode)", c["logits"], z, LIMIT_FORWARD)


# ---- (b) PyTorch model -> C, one training step -------------------------

def record_outputs(model):
    """A list that each forward of model fills with the layer outputs
    torch_dump writes: after each BN+ReLU and each max-pool."""
    outs = []
    for seq in (model.conv1, model.conv2, model.conv3, model.conv4,
                model.conv5):
        for mod in seq:
            if isinstance(mod, (nn.ReLU, nn.MaxPool2d)):
                mod.register_forward_hook(
                    lambda m, i, o: outs.append(o.detach()))
    return outs


def conv_bias(mods, name):
    """Whether parameter `name` is the bias of a conv (one that batch norm
    follows: its gradient is rounding noise on both sides)."""
    owner, _, leaf = name.rpartition(".")
    return leaf == "bias" and isinstance(mods[owner], nn.Conv2d)


def part_b(args, work, rep):
    print("\n(b) PyTorch-initialised VGG -> C, one training forward and "
          "backward on %d images" % args.images, flush=True)
    K = 3
    torch.manual_seed(args.seed)
    model = VGG(K)
    g = torch.Generator().manual_seed(args.seed + 1)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.BatchNorm2d):
                c = mod.num_features
                mod.weight.copy_(0.5 + torch.rand(c, generator=g))
                mod.bias.copy_(0.2 * torch.randn(c, generator=g))
                mod.running_mean.copy_(0.1 * torch.randn(c, generator=g))
                mod.running_var.copy_(0.5 + torch.rand(c, generator=g))
                mod.num_batches_tracked.fill_(5)
    tensors = dict(model.state_dict())
    for name, p in model.named_parameters():
        tensors["optimizer.momentum." + name] = torch.zeros_like(p)
    meta = {"format": "vggtrain-checkpoint", "version": "1", "arch": VGG16,
            "side": "32", "classes": str(K),
            "class_names": ",".join(NAMES[:K]),
            "mean": ",".join(map(str, MEAN)), "std": ",".join(map(str, STD)),
            "epoch": "0", "seed": str(args.seed), "rng_state": "0",
            "rng_inc": "1", "lr": "0.01", "momentum": "0.9",
            "weight_decay": "0.0005", "batch_size": str(args.images),
            "limit_train": "0", "limit_test": "0", "history": "[]"}
    ckpt = os.path.join(work, "torch_init.bin")
    write_safetensors(ckpt, tensors, meta)

    rng = np.random.default_rng(args.seed)
    n = args.images
    raw = np.concatenate([(np.arange(n) % K)[:, None],
                          rng.integers(0, 256, size=(n, 3072))],
                         axis=1).astype(np.uint8)
    batch = os.path.join(work, "batch_b.bin")
    raw.tofile(batch)
    out = os.path.join(work, "c_train.safetensors")
    run([os.path.join(args.bin, "tests", "torch_dump"), ckpt, batch, out,
         "train", str(args.threads), args.conv])
    c, _ = read_safetensors(out)

    x, y = normalise(raw)
    # the same start in float64, copied before any hook is registered
    m64 = copy.deepcopy(model).double() if args.float64 else None
    outs = record_outputs(model)
    model.train()
    z = model(x)
    loss = F.cross_entropy(z, y)
    loss.backward()

    rep.check("input", c["input"], x, LIMIT_FORWARD)
    rep.check("loss", c["loss"], loss.detach(), LIMIT_FORWARD)
    rep.check("logits", c["logits"], z.detach(), LIMIT_FORWARD)
    worst = {"outputs": 0.0, "gradients": 0.0, "running stats": 0.0}
    print("  layer outputs (after BN+ReLU, or after pooling):")
    assert len(outs) == sum(1 for k in c if k.startswith("layers."))
    for i, o in enumerate(outs):
        r = rep.check("layers.%d.out %s" % (i, list(o.shape)),
                      c["layers.%d.out" % i], o, LIMIT_FORWARD)
        worst["outputs"] = max(worst["outputs"], r)
    print("  parameter gradients:")
    params = dict(model.named_parameters())
    mods = dict(model.named_modules())
    for name, p in params.items():
        # A conv bias followed by batch norm has gradient exactly 0 in
        # training mode (the batch mean removes it): both sides hold rounding
        # noise, so measure it against the gradient scale there, that of
        # the batch norm's bias.
        scale, label = None, "grad." + name
        if conv_bias(mods, name):
            seq, _, idx = name.rpartition(".")[0].rpartition(".")
            bn = params["%s.%d.bias" % (seq, int(idx) + 1)]
            scale = float(bn.grad.abs().max())
            label += " (0; vs BN bias grad)"
        r = rep.check(label, c["grad." + name], p.grad, LIMIT_GRAD, scale)
        worst["gradients"] = max(worst["gradients"], r)
    print("  running statistics after the step:")
    for name, b in model.named_buffers():
        if name.endswith("num_batches_tracked"):
            continue
        r = rep.check("state." + name, c["state." + name], b, LIMIT_FORWARD)
        worst["running stats"] = max(worst["running stats"], r)
    print("  worst: " + ", ".join("%s %.2e" % kv for kv in worst.items()))
    if m64 is not None:
        against_float64(m64, x, y, c, outs, model)


def against_float64(m64, x, y, c, outs, model):
    """Both float32 runs against a float64 one from the same start: per
    layer the largest absolute error of the output and the ReLU outputs on
    the other side of zero (which send a max-pool's or the next layer's
    gradient another way), then the gradients' relative error. Reported,
    not checked: from a few dozen images on, such flips put float32
    gradients (PyTorch's too) 1e-3 to 1e-2 from float64's."""
    outs64 = record_outputs(m64)
    m64.train()
    F.cross_entropy(m64(x.double()), y).backward()
    print("  against float64 (max |error|, ReLU outputs on the other side "
          "of zero):\n  %-10s %12s %12s %6s %6s" % (
              "layer", "C", "PyTorch", "C", "Py"))
    tot = [0.0, 0.0, 0, 0]
    for i, d in enumerate(outs64):
        cc, tt = c["layers.%d.out" % i].double(), outs[i].double()
        ec, et = (cc - d).abs().max().item(), (tt - d).abs().max().item()
        fc = ((cc > 0) != (d > 0)).sum().item()
        ft = ((tt > 0) != (d > 0)).sum().item()
        print("  layers.%-3d %12.3e %12.3e %6d %6d" % (i, ec, et, fc, ft))
        tot = [tot[0] + ec, tot[1] + et, tot[2] + fc, tot[3] + ft]
    print("  sum over layers: max |error| C %.3e, PyTorch %.3e (ratio %.2f); "
          "flips C %d, PyTorch %d" % (tot[0], tot[1], tot[0] / tot[1],
                                      tot[2], tot[3]))
    # gradients (conv biases left out: both sides hold rounding noise there)
    t32 = dict(model.named_parameters())
    mods = dict(m64.named_modules())
    ec, et = [], []
    for name, p in m64.named_parameters():
        if conv_bias(mods, name):
            continue
        scale = p.grad.abs().max().item()
        ec.append((c["grad." + name].double() - p.grad).abs().max().item()
                  / scale)
        et.append((t32[name].grad.double() - p.grad).abs().max().item()
                  / scale)
    ec.sort()
    et.sort()
    print("  gradients against float64, max|g - g64| / max|g64| over %d "
          "tensors: C median %.2e, worst %.2e; PyTorch median %.2e, worst "
          "%.2e" % (len(ec), ec[len(ec) // 2], ec[-1], et[len(et) // 2],
                    et[-1]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True,
                    help="build folder with vggtrain, vggeval, tests/torch_dump")
    ap.add_argument("--model", help="checkpoint for (a) [train one here]")
    ap.add_argument("--data", help="CIFAR folder for --model")
    ap.add_argument("--limit-test", type=int, default=0,
                    help="(a): score the first N test images (0: all)")
    ap.add_argument("--images", type=int, default=8,
                    help="batch size of the logit and gradient checks [8]")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", help="scratch folder [a temporary one]")
    ap.add_argument("--only", choices=["a", "b"])
    ap.add_argument("--float64", action="store_true",
                    help="(b): also report both float32 runs' error "
                    "against a float64 one")
    ap.add_argument("--conv", choices=["direct", "winograd", "auto"],
                    default="direct",
                    help="convolution algorithm of the C side (vggtrain "
                    "--conv) [direct]")
    args = ap.parse_args()
    if args.model and not args.data:
        ap.error("--model needs --data")
    torch.set_num_threads(args.threads)
    print("torch %s, numpy %s" % (torch.__version__, np.__version__))
    rep = Report()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or tmp
        os.makedirs(work, exist_ok=True)
        if args.only != "b":
            part_a(args, work, rep)
        if args.only != "a":
            part_b(args, work, rep)
    if rep.failed:
        print("\nFAIL: " + ", ".join(rep.failed))
        return 1
    print("\nPASS: C and PyTorch agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
