#!/usr/bin/python3
"""PyTorch agreement: the numerical proof that vggtrain computes what
PyTorch computes.

Run with Debian's python3-torch:

    /usr/bin/python3 scripts/torch_agreement.py --bin BUILD_DIR
    /usr/bin/python3 scripts/torch_agreement.py --bin BUILD_DIR \
        --model model.bin --data data/cifar-10-batches-bin --limit-test 300

(a) C -> PyTorch. Loads a vggtrain checkpoint (by default one trained here
    for one epoch of --arch, full VGG16 unless told, with --head, on
    synthetic CIFAR files; or --model) into the reference notebook's VGG
    class, extended to the family and built from the library's walk of the
    checkpoint's configuration (torch_dump --walk), with load_state_dict(strict=True)
    after dropping the optimizer.* tensors, scores the test split and checks
    the accuracy count equals vggeval's, and checks the logits of a test
    batch against the C ones (tests/torch_dump, eval mode).
(b) PyTorch -> C. Writes a PyTorch-initialised --arch network (batch-norm affine
    parameters and running statistics randomised so they matter) as a
    safetensors checkpoint, runs one training-mode forward and backward on
    a fixed batch in both, and compares the loss, the logits, every layer's
    output, every parameter gradient, the updated running statistics, and
    the parameters after one SGD step (PyTorch's SGD from C's gradients).

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

--family D runs (a) and (b) for each of vgg11, vgg13, vgg16, vgg16c and
vgg19, with batch norm and without (-nobn), with the linear head and
fc:W (W = 512/D), at every width divided by D: the names, shapes, loads,
logits, layer outputs and gradients of the whole family (with --float64:
a gradient off from PyTorch's float32 by a ReLU flip there is checked
against the float64 one instead). With fc:W, (b)
runs C's dropout masks (torch_dump writes them) in PyTorch's Dropout
modules.

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
FAMILY = ["vgg11", "vgg13", "vgg16", "vgg16c", "vgg19"]
NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
         "horse", "ship", "truck"]
LIMIT_FORWARD = 1e-4
LIMIT_GRAD = 1e-3


def walk(bin_dir, arch, head, classes, nobn=False):
    """The library's walk of a configuration (torch_dump --walk): the
    table, the layers and the tensors (names, shapes) in order."""
    cmd = [os.path.join(bin_dir, "tests", "torch_dump"), "--walk", arch,
           head, str(classes)] + (["nobn"] if nobn else [])
    return json.loads(subprocess.run(cmd, check=True, stdout=subprocess.PIPE,
                                     text=True).stdout)


def vgg16_layers(classes):
    """The layer list of the default network, VGG16-BN with the linear
    head, as the walk gives it (for VGG(classes), without a build)."""
    layers, c, side = [], 3, 32
    for v in "64 64 M 128 128 M 256 256 256 M 512 512 512 M 512 512 512 M".split():
        if v == "M":
            layers.append({"kind": "pool", "cin": c, "cout": c, "side": side})
            side //= 2
        else:
            layers.append({"kind": "conv", "cin": c, "cout": int(v),
                           "side": side, "kernel": 3, "bn": 1, "dropout": 0})
            c = int(v)
    layers.append({"kind": "linear", "cin": c * side * side, "cout": classes,
                   "side": 1, "kernel": 0, "bn": 0, "dropout": 0})
    return {"layers": layers}


class VGG(nn.Module):
    """The reference notebook's VGG, extended to the whole family as the
    checkpoint names it (docs/checkpoint-format.md): block b (ended by
    each M) is an nn.Sequential conv<b> of [Conv2d, BatchNorm2d, ReLU] or,
    without batch norm, [Conv2d, ReLU] per convolution, then MaxPool2d;
    the head is fc1 (linear) or fc1, fc2, fc3 with ReLU and Dropout(0.5)
    after the first two (fc:W). Built from the walk's layer list, so that
    both sides build one network."""

    def __init__(self, w):
        super().__init__()
        if isinstance(w, int):  # VGG(classes): the notebook's VGG16-BN
            w = vgg16_layers(w)
        self.blocks, mods, self.fcs, self.drops = [], [], [], []
        feats = [L for L in w["layers"] if L["kind"] != "linear"]
        for L in feats:
            if L["kind"] == "pool":
                mods.append(nn.MaxPool2d(kernel_size=2))
                self.blocks.append(nn.Sequential(*mods))
                mods = []
                continue
            k = L["kernel"]
            mods.append(nn.Conv2d(L["cin"], L["cout"], kernel_size=k,
                                  stride=1, padding=k // 2))
            if L["bn"]:
                mods.append(nn.BatchNorm2d(L["cout"]))
            mods.append(nn.ReLU())
        if mods:
            self.blocks.append(nn.Sequential(*mods))
        for i, blk in enumerate(self.blocks):
            setattr(self, "conv%d" % (i + 1), blk)
        lin = [L for L in w["layers"] if L["kind"] == "linear"]
        for j, L in enumerate(lin):
            fc = nn.Linear(L["cin"], L["cout"])
            setattr(self, "fc%d" % (j + 1), fc)
            self.fcs.append(fc)
            if L["dropout"]:
                d = nn.Dropout(0.5)
                setattr(self, "drop%d" % (j + 1), d)
                self.drops.append(d)
        names = [(k, list(v.shape)) for k, v in self.state_dict().items()]
        assert "tensors" not in w or names == [tuple(t) for t in w["tensors"]], (
            "PyTorch's state_dict differs from the walk's tensors:\n%s\n%s"
            % (names, w["tensors"]))

    def forward(self, x):
        for blk in self.blocks:
            x = blk(x)
        x = x.view(x.size(0), -1)
        for j, fc in enumerate(self.fcs):
            x = fc(x)
            if j < len(self.drops):
                x = self.drops[j](F.relu(x))
        return x


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
             "--arch", args.arch, "--head", args.head,
             "--conv", args.conv, "--out", model_path])
    tensors, meta = read_safetensors(model_path)
    K = int(meta["classes"])
    w = walk(args.bin, meta["arch"], meta.get("head", "linear"), K,
             meta.get("batch_norm", "true") == "false")
    limit = args.limit_test
    ev = json.loads(run([os.path.join(args.bin, "vggeval"), model_path,
                         "--data", data, "--json", "--batch-size", "25",
                         "--threads", str(args.threads),
                         "--conv", args.conv,
                         "--limit-test", str(limit)]))

    model = VGG(w)
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
    torch_dump writes: after each ReLU of the features (BN+ReLU with batch
    norm) and each max-pool."""
    outs = []
    for seq in model.blocks:
        for mod in seq:
            if isinstance(mod, (nn.ReLU, nn.MaxPool2d)):
                mod.register_forward_hook(
                    lambda m, i, o: outs.append(o.detach()))
    return outs


def use_masks(model, masks):
    """Makes each Dropout of the head apply C's mask (1 kept, 0 dropped,
    kept values doubled) instead of drawing its own."""
    for d, mask in zip(model.drops, masks):
        d.register_forward_hook(
            lambda m, i, o, mask=mask: i[0] * mask * 2.0 if m.training
            else o)


def conv_bias(mods, name):
    """Whether parameter `name` is the bias of a conv that batch norm
    follows (its gradient is rounding noise on both sides)."""
    owner, _, leaf = name.rpartition(".")
    if leaf != "bias" or not isinstance(mods[owner], nn.Conv2d):
        return False
    seq, _, idx = owner.rpartition(".")
    nxt = "%s.%d" % (seq, int(idx) + 1)
    return isinstance(mods.get(nxt), nn.BatchNorm2d)


def part_b(args, work, rep):
    print("\n(b) PyTorch-initialised VGG -> C, one training forward and "
          "backward on %d images" % args.images, flush=True)
    K = 3
    w = walk(args.bin, args.arch, args.head, K)
    torch.manual_seed(args.seed)
    model = VGG(w)
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
    meta = {"format": "vggtrain-checkpoint", "version": "1",
            "arch": w["arch"], "head": w["head"],
            "batch_norm": "true" if w["batch_norm"] else "false",
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
    masks = [c["dropout.%d.keep" % j] for j in range(len(model.drops))]
    use_masks(model, masks)
    if masks:
        print("  dropout: C's masks, %s kept" % ", ".join(
            "%.1f%%" % (100 * float(k.mean())) for k in masks))
    model.train()
    z = model(x)
    loss = F.cross_entropy(z, y)
    loss.backward()
    outs64 = None
    if m64 is not None:
        outs64 = record_outputs(m64)
        use_masks(m64, [k.double() for k in masks])
        m64.train()
        F.cross_entropy(m64(x.double()), y).backward()
        p64 = dict(m64.named_parameters())

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
        scale, label, ref, bnname = None, "grad." + name, p.grad, None
        if conv_bias(mods, name):
            seq, _, idx = name.rpartition(".")[0].rpartition(".")
            bnname = "%s.%d.bias" % (seq, int(idx) + 1)
            scale = float(params[bnname].grad.abs().max())
            label += " (0; vs BN bias grad)"
        # A ReLU output within rounding of zero that PyTorch's float32
        # zeroes and float64 keeps (or the other way) sends gradients
        # another way: then the reference is float64, if it ran.
        if (m64 is not None and
                rel(c["grad." + name], p.grad, scale) >= LIMIT_GRAD):
            ref = p64[name].grad
            if bnname:
                scale = float(p64[bnname].grad.abs().max())
            label += " (vs float64)"
        r = rep.check(label, c["grad." + name], ref, LIMIT_GRAD, scale)
        worst["gradients"] = max(worst["gradients"], r)
    print("  parameters after one SGD step (lr 0.01, momentum 0.9, weight "
          "decay 5e-4):")
    # PyTorch's SGD from C's gradients: the update rule alone (the
    # gradients were compared above)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9,
                          weight_decay=5e-4)
    before = {n: p.detach().clone() for n, p in params.items()}
    for name, p in params.items():
        p.grad = c["grad." + name].clone()
    opt.step()
    for name, p in params.items():
        # the step's size, max|w1 - w0|, is the scale of its error
        step = float((p.detach() - before[name]).abs().max())
        r = rep.check("sgd." + name, c["sgd." + name], p.detach(),
                      LIMIT_GRAD, max(step, 1e-30) if step else None)
        worst["sgd"] = max(worst.get("sgd", 0.0), r)
    print("  running statistics after the step:")
    for name, b in model.named_buffers():
        if name.endswith("num_batches_tracked"):
            continue
        r = rep.check("state." + name, c["state." + name], b, LIMIT_FORWARD)
        worst["running stats"] = max(worst["running stats"], r)
    print("  worst: " + ", ".join("%s %.2e" % kv for kv in worst.items()))
    if m64 is not None:
        against_float64(m64, outs64, c, outs, model)


def against_float64(m64, outs64, c, outs, model):
    """Both float32 runs against a float64 one from the same start: per
    layer the largest absolute error of the output and the ReLU outputs on
    the other side of zero (which send a max-pool's or the next layer's
    gradient another way), then the gradients' relative error. Reported,
    not checked: from a few dozen images on, such flips put float32
    gradients (PyTorch's too) 1e-3 to 1e-2 from float64's."""
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
    ap.add_argument("--arch", default="vgg16",
                    help="network, as vggtrain --arch takes it [vgg16]")
    ap.add_argument("--head", default="linear",
                    help="linear or fc:W, as vggtrain --head [linear]")
    ap.add_argument("--family", type=int, metavar="D", default=0,
                    help="instead: every named configuration, with and "
                    "without batch norm, with both heads (fc:512/D), at "
                    "widths divided by D (e.g. 8)")
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
        runs = [(args.arch, args.head)]
        if args.family:
            args.float64 = True
            d = args.family
            runs = [("%s%s/%d" % (n, bn, d), h) for n in FAMILY
                    for bn in ("", "-nobn")
                    for h in ("linear", "fc:%d" % (512 // d))]
        for arch, head in runs:
            if args.family:
                print("\n==== %s, head %s" % (arch, head), flush=True)
            args.arch, args.head = arch, head
            before = len(rep.failed)
            if args.only != "b":
                part_a(args, work, rep)
            if args.only != "a":
                part_b(args, work, rep)
            rep.failed[before:] = ["%s %s: %s" % (arch, head, f)
                                   for f in rep.failed[before:]]
    if rep.failed:
        print("\nFAIL: " + ", ".join(rep.failed))
        return 1
    print("\nPASS: C and PyTorch agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
