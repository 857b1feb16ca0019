#!/usr/bin/python3
"""The reference notebook's training, in PyTorch, on CIFAR-10's binary files:
the yardstick for vggtrain's accuracy curve (not a part of the product).

    /usr/bin/python3 scripts/train_torch.py --data DIR [--epochs 5]
        [--classes 3] [--seed 1] [--threads 2] [--limit-train N]

Recipe as the notebook and vggtrain's defaults: the notebook's VGG16-BN
(scripts/torch_agreement.py's class) with PyTorch's default
initialisation; random crop 32 of the image padded with 4 black pixels and
a random horizontal flip (torchvision's RandomCrop(32, padding=4) and
RandomHorizontalFlip, done here in numpy: Debian has no torchvision), then
the per-channel normalisation; training batches of 128 reshuffled every
epoch (the last one partial, as DataLoader's default), test batches of
100; cross-entropy; SGD lr 0.01, momentum 0.9, weight decay 5e-4. Prints
one line per epoch in vggtrain's words (train_loss, train_acc, test_loss,
test_acc), so the two logs compare line by line.

The seed sets torch's and numpy's generators: runs with different seeds are
independent draws of the same recipe. Exit status 0 done, 1 bad input.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_agreement import (VGG, normalise, normalise_images,  # noqa: E402
                             read_cifar)


def load(folder, classes, limit):
    files = ["data_batch_%d.bin" % i for i in range(1, 6)]
    for f in files + ["test_batch.bin"]:
        p = os.path.join(folder, f)
        if not os.path.isfile(p):
            sys.exit("train_torch: %s: no such file (expected CIFAR-10's "
                     "binary layout; scripts/get-cifar10 writes it)" % p)
    train = np.concatenate([read_cifar(os.path.join(folder, f), classes)
                            for f in files])
    if limit:
        train = train[:limit]
    test = read_cifar(os.path.join(folder, "test_batch.bin"), classes)
    return train, test


def augment(images, rng):
    """Random crop 32 of the 40x40 zero-padded image, then a coin-flip
    horizontal mirror: torchvision's order, on uint8 images."""
    n = images.shape[0]
    padded = np.zeros((n, 3, 40, 40), np.uint8)
    padded[:, :, 4:36, 4:36] = images
    dy = rng.integers(0, 9, n)
    dx = rng.integers(0, 9, n)
    flip = rng.integers(0, 2, n).astype(bool)
    out = np.empty_like(images)
    for i in range(n):
        crop = padded[i, :, dy[i]:dy[i] + 32, dx[i]:dx[i] + 32]
        out[i] = crop[:, :, ::-1] if flip[i] else crop
    return out


def evaluate(model, x, y, batch):
    model.eval()
    loss_sum, correct = 0.0, 0
    crit = nn.CrossEntropyLoss(reduction="sum")
    with torch.no_grad():
        for b in range(0, len(y), batch):
            out = model(x[b:b + batch])
            loss_sum += crit(out, y[b:b + batch]).item()
            correct += (out.argmax(1) == y[b:b + batch]).sum().item()
    return loss_sum / len(y), correct / len(y)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="CIFAR-10 binary folder")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--classes", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--limit-train", type=int, default=0,
                    help="first N training images only (0: all)")
    a = ap.parse_args()
    for name, v, lo, hi in (("--epochs", a.epochs, 1, None),
                            ("--classes", a.classes, 2, 10),
                            ("--threads", a.threads, 1, None),
                            ("--batch-size", a.batch_size, 1, None),
                            ("--limit-train", a.limit_train, 0, None)):
        if v < lo or (hi is not None and v > hi):
            sys.exit("train_torch: %s %d: expected %s" % (
                name, v, ">= %d" % lo if hi is None else "%d to %d" % (lo, hi)))
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)

    train, test = load(a.data, a.classes, a.limit_train)
    timg = train[:, 1:].reshape(-1, 3, 32, 32)
    tlab = torch.from_numpy(train[:, 0].astype(np.int64))
    xtest, ytest = normalise(test)

    model = VGG(a.classes)
    crit = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9,
                          weight_decay=5e-4)
    print("train_torch: PyTorch %s, %d threads, seed %d, %d training and %d "
          "test images, %d classes" % (torch.__version__, a.threads, a.seed,
                                       len(tlab), len(ytest), a.classes),
          flush=True)
    for epoch in range(1, a.epochs + 1):
        t0 = time.time()
        model.train()
        order = torch.randperm(len(tlab)).numpy()
        loss_sum, correct = 0.0, 0
        for b in range(0, len(order), a.batch_size):
            idx = order[b:b + a.batch_size]
            x = normalise_images(augment(timg[idx], rng))
            y = tlab[idx]
            opt.zero_grad()
            out = model(x)
            loss = crit(out, y)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            correct += (out.argmax(1) == y).sum().item()
        tl, ta = evaluate(model, xtest, ytest, 100)
        print("epoch %d/%d  lr 0.01  train_loss %.4f  train_acc %.2f%%  "
              "test_loss %.4f  test_acc %.2f%%  time %.1fs" % (
                  epoch, a.epochs, loss_sum / len(tlab),
                  100.0 * correct / len(tlab), tl, 100.0 * ta,
                  time.time() - t0), flush=True)


if __name__ == "__main__":
    main()
