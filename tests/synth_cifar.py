"""Writes a small synthetic CIFAR-10 binary folder for the scripted tests.

usage: synth_cifar.py DIR CLASSES PER_TRAIN_BATCH NTEST [SEED]

Labels cycle 0..CLASSES-1; each class brightens one colour channel a little
over uniform noise, so a network can learn it but not perfectly.
"""
import os
import random
import sys

NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
         "horse", "ship", "truck"]


def write(path, n, classes, rng):
    with open(path, "wb") as f:
        for i in range(n):
            label = i % classes
            px = bytearray(rng.getrandbits(8) for _ in range(3072))
            c = label % 3
            for p in range(c * 1024, c * 1024 + 1024):
                px[p] = min(255, px[p] + 40)
            if label >= 3:
                for p in range(0, 3072, 2):
                    px[p] //= 2
            f.write(bytes([label]) + bytes(px))


def main():
    d, classes, per, ntest = sys.argv[1], *map(int, sys.argv[2:5])
    seed = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    rng = random.Random(seed)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "batches.meta.txt"), "w") as f:
        f.write("\n".join(NAMES) + "\n\n")
    for b in range(1, 6):
        write(os.path.join(d, "data_batch_%d.bin" % b), per, classes, rng)
    write(os.path.join(d, "test_batch.bin"), ntest, classes, rng)


if __name__ == "__main__":
    main()
