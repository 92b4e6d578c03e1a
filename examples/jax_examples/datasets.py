"""Synthetic stand-in for JAX's `examples.datasets`: MNIST's shapes and dtypes, no download.

Images are deterministic uniform noise; each label is the argmax of a fixed random linear
map of its image, so the classifiers have something learnable. Sizes: IRJAX_MNIST_TRAIN /
IRJAX_MNIST_TEST examples (defaults 512 / 256; real MNIST has 60000 / 10000).
"""

from __future__ import annotations

import os

import numpy as np


def _partial_flatten(x: np.ndarray) -> np.ndarray:
    return np.reshape(x, (x.shape[0], -1))


def _one_hot(x: np.ndarray, k: int, dtype=np.float32) -> np.ndarray:
    return np.array(x[:, None] == np.arange(k), dtype)


def mnist_raw() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """uint8 images (N, 28, 28) and uint8 labels (N,), as the real loader returns."""
    n_train = int(os.environ.get("IRJAX_MNIST_TRAIN", 512))
    n_test = int(os.environ.get("IRJAX_MNIST_TEST", 256))
    rng = np.random.RandomState(1234)
    proj = rng.randn(28 * 28, 10)

    def make(n):
        images = rng.randint(0, 256, size=(n, 28, 28)).astype(np.uint8)
        labels = np.argmax((images.reshape(n, -1) / 255.0 - 0.5) @ proj, axis=1).astype(np.uint8)
        return images, labels

    train_images, train_labels = make(n_train)
    test_images, test_labels = make(n_test)
    return train_images, train_labels, test_images, test_labels


def mnist(permute_train: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Flattened float32 images in [0, 1] (N, 784) and one-hot float32 labels (N, 10)."""
    train_images, train_labels, test_images, test_labels = mnist_raw()
    train_images = _partial_flatten(train_images) / np.float32(255.0)
    test_images = _partial_flatten(test_images) / np.float32(255.0)
    train_labels = _one_hot(train_labels, 10)
    test_labels = _one_hot(test_labels, 10)
    if permute_train:
        perm = np.random.RandomState(0).permutation(train_images.shape[0])
        train_images, train_labels = train_images[perm], train_labels[perm]
    return train_images, train_labels, test_images, test_labels
