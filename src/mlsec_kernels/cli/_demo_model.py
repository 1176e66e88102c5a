"""A one-hidden-layer MLP in NumPy with analytic gradients: the demo's model and the
tests' white-box target. Inputs are image batches (N, ...) flattened per sample."""

from __future__ import annotations

import numpy as np


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class MLP:
    """``logits = relu(x W1 + b1) W2 + b2``; ``hidden=0`` makes it softmax regression."""

    def __init__(self, d, k, hidden=32, seed=0):
        r = np.random.default_rng(seed)  # model initialisation only, not an attack's randomness
        self.layers = []
        sizes = [d, hidden, k] if hidden else [d, k]
        for a, b in zip(sizes[:-1], sizes[1:]):
            self.layers.append([r.normal(0, np.sqrt(2.0 / a), (a, b)), np.zeros(b)])

    def _forward(self, x):
        h = [np.asarray(x, np.float64).reshape(len(x), -1)]
        for i, (w, b) in enumerate(self.layers):
            z = h[-1] @ w + b
            h.append(np.maximum(z, 0.0) if i < len(self.layers) - 1 else z)
        return h

    def logits(self, x):
        return self._forward(x)[-1]

    def predict(self, x):
        """Class probabilities (N, K): the black-box API."""
        return softmax(self.logits(x))

    def _backward(self, h, g):
        """Backpropagates the output gradient g: (gradient in the input, per-layer grads)."""
        grads = []
        for i in range(len(self.layers) - 1, -1, -1):
            w, _ = self.layers[i]
            grads.append((h[i].T @ g, g.sum(axis=0)))
            g = g @ w.T
            if i:
                g = g * (h[i] > 0)
        return g, grads[::-1]

    @staticmethod
    def _out_grad(logits, y=None, soft=None):
        """Cross-entropy's per-sample loss and output gradient ``p - target``."""
        p = softmax(logits)
        if soft is not None:
            return None, p - soft
        rows = np.arange(len(y))
        loss = -np.log(np.maximum(p[rows, y], 1e-300))
        p[rows, y] -= 1.0
        return loss, p

    def loss_grad(self, x, y):
        """(per-sample cross-entropy (N,), its gradient in x, logits): the white-box API."""
        y = np.asarray(y)
        h = self._forward(x)
        logits = h[-1].copy()
        loss, g = self._out_grad(logits, y)
        gx, _ = self._backward(h, g)
        return loss, gx.reshape(np.shape(x)).astype(np.asarray(x).dtype), logits

    def fit(self, x, y, epochs=30, lr=0.05, batch=64, seed=0, soft=None):
        """Mini-batch SGD with momentum on cross-entropy; ``soft`` (N, K) trains on soft
        labels (a copy trained on an API's outputs)."""
        r = np.random.default_rng(seed)
        vel = [[np.zeros_like(w), np.zeros_like(b)] for w, b in self.layers]
        n = len(x)
        for _ in range(epochs):
            order = r.permutation(n)
            for s in range(0, n, batch):
                j = order[s : s + batch]
                h = self._forward(x[j])
                _, g = self._out_grad(
                    h[-1], None if soft is not None else np.asarray(y)[j], None if soft is None else soft[j]
                )
                _, grads = self._backward(h, g)
                for (w, b), (gw, gb), v in zip(self.layers, grads, vel):
                    v[0] = 0.9 * v[0] - lr * gw / len(j)
                    v[1] = 0.9 * v[1] - lr * gb / len(j)
                    w += v[0]
                    b += v[1]
        return self
