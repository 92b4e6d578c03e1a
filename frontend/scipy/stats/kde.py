"""gaussian_kde (`jax.scipy.stats.gaussian_kde`): a pytree over the dataset, weights and kernel
covariance; densities by whitening with the Cholesky factor of the inverse covariance."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import numpy as jnp
from ... import random
from ...tree_util import register_pytree_node_class
from .. import linalg
from ..special import logsumexp, ndtr

__all__ = ["gaussian_kde"]


def _inexact(*xs):
    dt = jnp.result_type(*xs, jnp.float32)
    return [jnp.asarray(x).astype(dt) for x in xs]


def _weighted_cov(x, w):
    """numpy.cov(x, aweights=w) (rows are variables, ddof 1 in the weighted sense)."""
    v1, v2 = jnp.sum(w), jnp.sum(w * w)
    xc = x - (jnp.sum(x * w, axis=1) / v1)[:, None]
    return jnp.matmul(xc * w, xc.T) / (v1 - v2 / v1)


@register_pytree_node_class
class gaussian_kde:  # noqa: N801 (JAX's and SciPy's name)
    """Gaussian kernel density estimate of a (d, n) dataset (a 1-D dataset is d = 1)."""

    neff: Any
    dataset: Any
    weights: Any
    covariance: Any
    inv_cov: Any

    def __init__(self, dataset, bw_method=None, weights=None):
        dataset = jnp.atleast_2d(jnp.asarray(dataset))
        if jnp.issubdtype(dataset.dtype, np.complexfloating):
            raise NotImplementedError("gaussian_kde does not support complex data")
        if not dataset.size > 1:
            raise ValueError("`dataset` input should have multiple elements.")
        d, n = dataset.shape
        if weights is not None:
            dataset, weights = _inexact(dataset, weights)
            weights = jnp.atleast_1d(weights)
            if weights.ndim != 1:
                raise ValueError("`weights` input should be one-dimensional.")
            if weights.shape[0] != n:
                raise ValueError("`weights` input should be of length n")
            weights = weights / jnp.sum(weights)
        else:
            (dataset,) = _inexact(dataset)
            weights = jnp.full(n, 1.0 / n, dtype=dataset.dtype)
        self.dataset, self.weights = dataset, weights
        self.neff = 1 / jnp.sum(weights**2)
        if bw_method is None or (isinstance(bw_method, str) and bw_method == "scott"):
            factor = jnp.power(self.neff, -1.0 / (d + 4))
        elif isinstance(bw_method, str) and bw_method == "silverman":
            factor = jnp.power(self.neff * (d + 2) / 4.0, -1.0 / (d + 4))
        elif np.isscalar(bw_method) and not isinstance(bw_method, str):
            factor = bw_method
        elif callable(bw_method):
            factor = bw_method(self)
        else:
            raise ValueError("`bw_method` should be 'scott', 'silverman', a scalar, or a callable.")
        data_cov = _weighted_cov(dataset, weights)
        self.covariance = data_cov * factor**2
        self.inv_cov = jnp.linalg.inv(data_cov) / factor**2

    def tree_flatten(self):
        return (self.neff, self.dataset, self.weights, self.covariance, self.inv_cov), None

    @classmethod
    def tree_unflatten(cls, aux_data, children):
        kde = object.__new__(cls)
        kde.neff, kde.dataset, kde.weights, kde.covariance, kde.inv_cov = children
        return kde

    @property
    def d(self) -> int:
        return self.dataset.shape[0]

    @property
    def n(self) -> int:
        return self.dataset.shape[1]

    def _points(self, points):
        points = jnp.asarray(points)
        if jnp.issubdtype(points.dtype, np.complexfloating):
            raise NotImplementedError("gaussian_kde does not support complex coordinates")
        points = jnp.atleast_2d(points)
        d, m = points.shape
        if d != self.d:
            if d == 1 and m == self.d:
                return jnp.reshape(points, (self.d, 1))
            raise ValueError(f"points have dimension {d}, dataset has dimension {self.d}")
        return points

    def _kernel_sum(self, points, log):
        data, w, xi, prec = _inexact(self.dataset.T, self.weights, self._points(points).T, self.inv_cov)
        white = linalg.cholesky(prec, lower=True)
        data, xi = jnp.matmul(data, white), jnp.matmul(xi, white)
        log_norm = jnp.sum(jnp.log(jnp.diag(white))) - 0.5 * self.d * np.log(2 * np.pi)
        arg = log_norm - 0.5 * jnp.sum(jnp.square(xi[:, None, :] - data[None, :, :]), axis=-1)  # (m, n)
        if log:
            return logsumexp(jnp.log(w) + arg, axis=1)
        return jnp.sum(w * jnp.exp(arg), axis=1)

    def evaluate(self, points):
        """The density at points (d, m) (or m points of a 1-D estimate)."""
        return self._kernel_sum(points, False)

    __call__ = evaluate
    pdf = evaluate

    def logpdf(self, x):
        """log of the density, by logsumexp over the kernels."""
        return self._kernel_sum(x, True)

    def _convolve(self, cov, target, weights, mean):
        # whitened by the Cholesky factor (cho_factor + cho_solve in one jit tripped IREE 3.13's
        # "cyclic dependencies" stream-partitioning error)
        low = linalg.cholesky(self.covariance + cov, lower=True)
        norm = 1.0 / (np.sqrt(2 * np.pi) ** self.d * jnp.prod(jnp.diag(low)))
        y = linalg.solve_triangular(low, target - mean[:, None], lower=True)
        return norm * jnp.sum(jnp.exp(-0.5 * jnp.sum(y * y, axis=0)) * weights)

    def integrate_gaussian(self, mean, cov):
        """The integral of the density times the Gaussian N(mean, cov)."""
        mean = jnp.atleast_1d(jnp.squeeze(jnp.asarray(mean)))
        cov = jnp.atleast_2d(jnp.asarray(cov))
        if mean.shape != (self.d,):
            raise ValueError(f"mean does not have dimension {self.d}")
        if cov.shape != (self.d, self.d):
            raise ValueError(f"covariance does not have dimension {self.d}")
        return self._convolve(cov, self.dataset, self.weights, mean)

    def integrate_box_1d(self, low, high):
        """The probability of [low, high] for a 1-D estimate."""
        if self.d != 1:
            raise ValueError("integrate_box_1d() only handles 1D pdfs")
        if np.ndim(low) != 0 or np.ndim(high) != 0:
            raise ValueError("the limits of integration in integrate_box_1d must be scalars")
        sigma = jnp.squeeze(jnp.sqrt(self.covariance))
        lo = jnp.squeeze((low - self.dataset) / sigma)
        hi = jnp.squeeze((high - self.dataset) / sigma)
        return jnp.sum(self.weights * (ndtr(hi) - ndtr(lo)))

    def integrate_kde(self, other: gaussian_kde):
        """The integral of the product of two estimates."""
        if other.d != self.d:
            raise ValueError("KDEs are not the same dimensionality")
        sm, lg = (self, other) if self.n < other.n else (other, self)
        vals = [self._convolve(other.covariance, lg.dataset, lg.weights, sm.dataset[:, i]) for i in range(sm.n)]
        return jnp.sum(jnp.stack(vals) * sm.weights)

    def resample(self, key, shape=()):
        """Samples (d, *shape): a data point drawn by weight plus kernel noise."""
        shape = tuple(shape)
        ind_key, eps_key = random.split(key)
        ind = random.choice(ind_key, self.n, shape=shape, p=self.weights)
        zero = jnp.zeros(self.d, self.covariance.dtype)
        eps = random.multivariate_normal(eps_key, zero, self.covariance, shape=shape, dtype=self.dataset.dtype)
        return self.dataset[:, ind] + jnp.moveaxis(eps, -1, 0)

    def integrate_box(self, low_bounds, high_bounds, maxpts=None):
        raise NotImplementedError("only 1D box integrations are supported; use `integrate_box_1d`")

    def set_bandwidth(self, bw_method=None):
        raise NotImplementedError("dynamically changing the bandwidth method is not supported")
