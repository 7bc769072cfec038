"""Helper of scripts/check-attribution.sh: leave-one-out scores by refitting ridge regression without each of a
seeded sample of training images, against the scores `gradfeat attribute` wrote.

  check_attribution.py WORK λ M     WORK/features-{train,test}.h5 and WORK/attribution.h5; M refits
"""
import sys

import numpy as np

from check_cg_ridge import read


def compare(work, lam, refits):
    lam, refits = float(lam), int(refits)
    scores = read(f"{work}/attribution.h5", "/scores", "<f4").astype(np.float64)
    test_labels = read(f"{work}/attribution.h5", "/test_labels", "<i8")
    m = scores.shape[0]
    f_train = read(f"{work}/features-train.h5", "/features", "<f4").astype(np.float64)
    labels = read(f"{work}/features-train.h5", "/labels", "<i8")
    f_test = read(f"{work}/features-test.h5", "/features", "<f4").astype(np.float64)[:m]
    if not (np.array_equal(read(f"{work}/attribution.h5", "/train_labels", "<i8"), labels)
            and np.array_equal(read(f"{work}/features-test.h5", "/labels", "<i8")[:m], test_labels)):
        raise SystemExit("FAILED: the attribution's training or test order is not the data sets' row order")
    n, d = f_train.shape
    classes = int(labels.max()) + 1
    x = np.hstack([f_train, np.ones((n, 1))])
    t = np.hstack([f_test, np.ones((m, 1))])
    y = np.eye(classes)[labels]
    gram, moment = x.T @ x / n, x.T @ y / n
    eye = lam * np.eye(d + 1)

    def true_class_logits(a, b):
        w = np.linalg.solve(a + eye, b)  # L(w) = 1/(2N) Σ ‖x w − y‖² + λ/2 ‖w‖², the factor 1/N of all N kept
        return (t @ w)[np.arange(m), test_labels]

    full = true_class_logits(gram, moment)
    rng = np.random.default_rng(0)
    # A seeded sample, and each test image's most helpful and most harmful training image (the lists' heads).
    top = read(f"{work}/attribution.h5", "/top_indices", "<i8")[:, 0]
    bottom = read(f"{work}/attribution.h5", "/bottom_indices", "<i8")[:, 0]
    sample = np.unique(np.concatenate([rng.choice(n, size=min(refits, n), replace=False), top, bottom]))
    expected = np.empty((m, len(sample)))
    for column, j in enumerate(sample):
        xj = x[j:j + 1]
        expected[:, column] = full - true_class_logits(gram - xj.T @ xj / n, moment - xj.T @ y[j:j + 1] / n)
    got = scores[:, sample]
    error = np.linalg.norm(got - expected) / np.linalg.norm(expected)
    worst = np.abs(got - expected).max() / np.abs(expected).max()
    print(f"leave-one-out by refitting (numpy, Float64) vs gradfeat attribute: relative error {error:.2e} over "
          f"{m} test × {len(sample)} training images (largest entry error {worst:.2e} of the largest score), "
          f"N = {n}, d = {d}, λ = {lam}")
    if not error < 1e-3:
        raise SystemExit(f"FAILED: relative error {error:.2e} is not below 1e-3")


if __name__ == "__main__":
    compare(*sys.argv[1:4])
