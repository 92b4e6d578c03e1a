"""irjax.scipy.spatial.transform (`jax.scipy.spatial.transform`): Rotation and Slerp, pytrees over
unit quaternions (x, y, z, w) with any leading batch shape, as JAX's NamedTuples."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ... import numpy as jnp
from ... import random as _random

__all__ = ["Rotation", "Slerp"]

_AXIS = {"x": 0, "y": 1, "z": 2}


def _q(quat, k):
    return quat[..., k]


def _normalize(quat):
    return quat / jnp.linalg.norm(quat, axis=-1, keepdims=True)


def _compose(p, q):
    """p * q (apply q, then p)."""
    px, py, pz, pw = (_q(p, k) for k in range(4))
    qx, qy, qz, qw = (_q(q, k) for k in range(4))
    return jnp.stack(
        [
            pw * qx + qw * px + (py * qz - pz * qy),
            pw * qy + qw * py + (pz * qx - px * qz),
            pw * qz + qw * pz + (px * qy - py * qx),
            pw * qw - px * qx - py * qy - pz * qz,
        ],
        axis=-1,
    )


def _as_matrix(quat):
    x, y, z, w = (_q(quat, k) for k in range(4))
    x2, y2, z2, w2 = x * x, y * y, z * z, w * w
    xy, zw, xz, yw, yz, xw = x * y, z * w, x * z, y * w, y * z, x * w
    rows = [
        [x2 - y2 - z2 + w2, 2 * (xy - zw), 2 * (xz + yw)],
        [2 * (xy + zw), -x2 + y2 - z2 + w2, 2 * (yz - xw)],
        [2 * (xz - yw), 2 * (yz + xw), -x2 - y2 + z2 + w2],
    ]
    return jnp.stack([jnp.stack(r, axis=-1) for r in rows], axis=-2)


def _from_matrix(m):
    """Shepperd's method: build the quaternion from the largest of the diagonal and the trace."""
    d = [m[..., k, k] for k in range(3)]
    trace = d[0] + d[1] + d[2]
    choice = jnp.argmax(jnp.stack([*d, trace], axis=-1), axis=-1)
    cands = []
    for i in range(3):
        j, k = (i + 1) % 3, (i + 2) % 3
        q = [None] * 4
        q[i] = 1 - trace + 2 * m[..., i, i]
        q[j] = m[..., j, i] + m[..., i, j]
        q[k] = m[..., k, i] + m[..., i, k]
        q[3] = m[..., k, j] - m[..., j, k]
        cands.append(jnp.stack(q, axis=-1))
    cands.append(
        jnp.stack(
            [m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1], 1 + trace], axis=-1
        )
    )
    quat = cands[3]
    for i in range(3):
        quat = jnp.where((choice == i)[..., None], cands[i], quat)
    return _normalize(quat)


def _from_rotvec(rotvec, degrees):
    if degrees:
        rotvec = jnp.deg2rad(rotvec)
    angle = jnp.linalg.norm(rotvec, axis=-1)
    a2 = angle * angle
    small = 0.5 - a2 / 48 + a2 * a2 / 3840  # series of sin(a/2)/a near 0
    large = jnp.sin(angle / 2) / jnp.where(angle <= 1e-3, 1, angle)
    scale = jnp.where(angle <= 1e-3, small, large)
    return jnp.concatenate([scale[..., None] * rotvec, jnp.cos(angle / 2)[..., None]], axis=-1)


def _as_rotvec(quat, degrees):
    quat = jnp.where((_q(quat, 3) < 0)[..., None], -quat, quat)  # w >= 0: angle in [0, pi]
    angle = 2 * jnp.arctan2(jnp.linalg.norm(quat[..., :3], axis=-1), _q(quat, 3))
    a2 = angle * angle
    small = 2 + a2 / 12 + 7 * a2 * a2 / 2880  # series of a / sin(a/2) near 0
    large = angle / jnp.sin(jnp.where(angle <= 1e-3, 1, angle) / 2)
    scale = jnp.where(angle <= 1e-3, small, large)
    if degrees:
        scale = jnp.rad2deg(scale)
    return scale[..., None] * quat[..., :3]


def _as_mrp(quat):
    sign = jnp.where(_q(quat, 3) < 0, -1.0, 1.0).astype(quat.dtype)
    return (sign / (1 + sign * _q(quat, 3)))[..., None] * quat[..., :3]


def _from_mrp(mrp):
    s = jnp.sum(mrp * mrp, axis=-1, keepdims=True) + 1
    return jnp.concatenate([2 * mrp, 2 - s], axis=-1) / s


def _canonical(quat):
    """-quat where the first nonzero of (w, x, y, z) is negative."""
    neg, zero = quat < 0, quat == 0
    x, y, z, w = 0, 1, 2, 3
    flip = neg[..., w] | (zero[..., w] & (neg[..., x] | (zero[..., x] & (neg[..., y] | (zero[..., y] & neg[..., z])))))
    return jnp.where(flip[..., None], -quat, quat)


def _check_seq(seq, name, exact3):
    if not isinstance(seq, str) or not (1 <= len(seq) <= 3) or (exact3 and len(seq) != 3):
        want = "a string of 3 characters" if exact3 else "a non-empty string of up to 3 characters"
        raise ValueError(f"{name}: expected the axis sequence to be {want}, got {seq!r}")
    intrinsic = re.fullmatch(r"[XYZ]+", seq) is not None
    if not intrinsic and re.fullmatch(r"[xyz]+", seq) is None:
        raise ValueError(f"{name}: expected axes from ['x', 'y', 'z'] or ['X', 'Y', 'Z'], got {seq!r}")
    if any(a == b for a, b in zip(seq, seq[1:])):
        raise ValueError(f"{name}: expected consecutive axes to be different, got {seq!r}")
    return [_AXIS[c] for c in seq.lower()], intrinsic


def _elementary(axis, angle):
    parts = [jnp.zeros_like(angle)] * 3 + [jnp.cos(angle / 2)]
    parts[axis] = jnp.sin(angle / 2)
    return jnp.stack(parts, axis=-1)


def _as_euler(quat, axes, extrinsic, degrees):
    """Bernardes and Viollet's quaternion-to-Euler algorithm (2022), as SciPy and JAX."""
    first, third = (0, 2) if extrinsic else (2, 0)
    i, j, k = axes if extrinsic else axes[::-1]
    proper = i == k
    if proper:
        k = 3 - i - j
    sign = (i - j) * (j - k) * (k - i) // 2
    q = [_q(quat, n) for n in range(4)]
    if proper:
        a, b, c, d = q[3], q[i], q[j], q[k] * sign
    else:
        a, b, c, d = q[3] - q[j], q[i] + q[k] * sign, q[j] + q[3], q[k] * sign - q[i]
    middle = 2 * jnp.arctan2(jnp.hypot(c, d), jnp.hypot(a, b))
    eps = 1e-7
    case = jnp.where(jnp.abs(middle) <= eps, 1, jnp.where(jnp.abs(middle - np.pi) <= eps, 2, 0))
    half_sum, half_diff = jnp.arctan2(b, a), jnp.arctan2(d, c)
    angles = [None, middle, jnp.zeros_like(middle)]
    angles[0] = jnp.where(case == 1, 2 * half_sum, 2 * half_diff * (-1 if extrinsic else 1))  # degenerate
    angles[first] = jnp.where(case == 0, half_sum - half_diff, angles[first])
    angles[third] = jnp.where(case == 0, half_sum + half_diff, angles[third])
    if not proper:
        angles[third] = angles[third] * sign
        angles[1] = angles[1] - np.pi / 2
    out = (jnp.stack(angles, axis=-1) + np.pi) % (2 * np.pi) - np.pi
    return jnp.rad2deg(out) if degrees else out


class Rotation(NamedTuple):
    """Rotations in 3 dimensions as unit quaternions `quat` (..., 4) in (x, y, z, w) order."""

    quat: Any

    @classmethod
    def concatenate(cls, rotations: Sequence[Rotation]) -> Rotation:
        """One Rotation of all the given ones (a single rotation counts as one)."""
        if not rotations:
            raise ValueError("Rotation.concatenate: expected at least one Rotation")
        return cls(jnp.concatenate([jnp.atleast_2d(r.quat) for r in rotations], axis=0))

    @classmethod
    def from_euler(cls, seq: str, angles, degrees: bool = False) -> Rotation:
        """From Euler angles: seq of 'xyz' letters (extrinsic) or 'XYZ' (intrinsic); angles (..., len(seq))."""
        axes, intrinsic = _check_seq(seq, "Rotation.from_euler", False)
        angles = jnp.atleast_1d(jnp.asarray(angles))
        if not jnp.issubdtype(angles.dtype, np.floating):
            angles = angles.astype(jnp.float32)
        if angles.shape[-1] != len(axes):
            angles = angles[..., None] if len(axes) == 1 else angles
        if angles.shape[-1] != len(axes):
            raise ValueError(f"Rotation.from_euler: expected angles of shape (..., {len(axes)}), got {angles.shape}")
        if degrees:
            angles = jnp.deg2rad(angles)
        out = _elementary(axes[0], angles[..., 0])
        for n in range(1, len(axes)):
            q = _elementary(axes[n], angles[..., n])
            out = _compose(out, q) if intrinsic else _compose(q, out)
        return cls(out)

    @classmethod
    def from_matrix(cls, matrix) -> Rotation:
        """From rotation matrices (..., 3, 3)."""
        return cls(_from_matrix(_shaped(matrix, (3, 3), "from_matrix")))

    @classmethod
    def from_mrp(cls, mrp) -> Rotation:
        """From Modified Rodrigues Parameters (..., 3)."""
        return cls(_from_mrp(_shaped(mrp, (3,), "from_mrp")))

    @classmethod
    def from_quat(cls, quat) -> Rotation:
        """From quaternions (..., 4) in (x, y, z, w) order, normalized."""
        return cls(_normalize(_shaped(quat, (4,), "from_quat")))

    @classmethod
    def from_rotvec(cls, rotvec, degrees: bool = False) -> Rotation:
        """From rotation vectors (..., 3): axis times angle."""
        return cls(_from_rotvec(_shaped(rotvec, (3,), "from_rotvec"), degrees))

    @classmethod
    def identity(cls, num: int | None = None, dtype=float) -> Rotation:
        """The identity rotation (num of them when num is given)."""
        quat = jnp.array([0.0, 0.0, 0.0, 1.0], dtype=dtype)
        return cls(quat if num is None else jnp.tile(quat, (int(num), 1)))

    @classmethod
    def random(cls, random_key, num: int | None = None) -> Rotation:
        """Uniformly distributed rotations: normalized standard normal quaternions (JAX raises
        NotImplementedError here)."""
        shape = (4,) if num is None else (int(num), 4)
        return cls.from_quat(_random.normal(random_key, shape))

    def __getitem__(self, indexer) -> Rotation:
        if self.single:
            raise TypeError("Single rotation is not subscriptable.")
        return Rotation(self.quat[indexer])

    def __len__(self) -> int:
        if self.single:
            raise TypeError("Single rotation has no len().")
        return self.quat.shape[0]

    def __mul__(self, other: Rotation) -> Rotation:
        """The composition: apply `other`, then this rotation."""
        if not isinstance(other, Rotation):
            return NotImplemented
        return Rotation.from_quat(_compose(self.quat, other.quat))

    def apply(self, vectors, inverse: bool = False):
        """Rotate vectors (..., 3) (by the inverse rotation with inverse=True), broadcasting batches."""
        vectors = _shaped(vectors, (3,), "apply")
        m = _as_matrix(self.quat)
        if inverse:
            m = jnp.swapaxes(m, -1, -2)
        return jnp.matmul(m, vectors[..., None])[..., 0]

    def as_euler(self, seq: str, degrees: bool = False):
        """Euler angles (..., 3) for a sequence of 3 axes ('xyz' extrinsic, 'XYZ' intrinsic)."""
        axes, intrinsic = _check_seq(seq, "Rotation.as_euler", True)
        return _as_euler(self.quat, axes, not intrinsic, degrees)

    def as_matrix(self):
        """Rotation matrices (..., 3, 3)."""
        return _as_matrix(self.quat)

    def as_mrp(self):
        """Modified Rodrigues Parameters (..., 3)."""
        return _as_mrp(self.quat)

    def as_rotvec(self, degrees: bool = False):
        """Rotation vectors (..., 3), angles in [0, pi]."""
        return _as_rotvec(self.quat, degrees)

    def as_quat(self, canonical: bool = False, scalar_first: bool = False):
        """Quaternions (..., 4); canonical: w >= 0; scalar_first: (w, x, y, z) order."""
        quat = _canonical(self.quat) if canonical else self.quat
        return jnp.roll(quat, 1, axis=-1) if scalar_first else quat

    def inv(self) -> Rotation:
        """The inverse rotation (the conjugate quaternion)."""
        return Rotation(self.quat * jnp.array([-1, -1, -1, 1], dtype=self.quat.dtype))

    def magnitude(self):
        """Rotation angles in [0, pi]."""
        return 2 * jnp.arctan2(jnp.linalg.norm(self.quat[..., :3], axis=-1), jnp.abs(self.quat[..., 3]))

    def mean(self, weights=None) -> Rotation:
        """The (weighted) mean rotation: the top eigenvector of sum_i w_i q_i q_i^T."""
        if self.single:
            raise TypeError("Rotation.mean: expected a sequence of rotations, got a single rotation")
        w = jnp.ones(self.quat.shape[0], self.quat.dtype) if weights is None else jnp.asarray(weights, self.quat.dtype)
        if w.ndim != 1:
            raise ValueError(f"Expected `weights` to be 1 dimensional, got shape {w.shape}.")
        if w.shape[0] != len(self):
            raise ValueError(
                "Expected `weights` to have number of values equal to number of rotations, "
                f"got {w.shape[0]} values and {len(self)} rotations."
            )
        K = jnp.matmul(w * self.quat.T, self.quat)
        return Rotation(jnp.linalg.eigh(K)[1][:, -1])

    @property
    def single(self) -> bool:
        """Whether this holds one rotation (quat of shape (4,))."""
        return self.quat.ndim == 1


def _shaped(x, tail, name):
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, np.floating):
        x = x.astype(jnp.float32)
    if x.shape[x.ndim - len(tail) :] != tail or x.ndim < len(tail):
        raise ValueError(
            f"Rotation.{name}: expected an array of shape (..., {', '.join(map(str, tail))}), got {x.shape}"
        )
    return x


class Slerp(NamedTuple):
    """Spherical linear interpolation between consecutive rotations at increasing times."""

    times: Any
    timedelta: Any
    rotations: Rotation
    rotvecs: Any

    @classmethod
    def init(cls, times, rotations: Rotation) -> Slerp:
        """The interpolator through rotations[i] at times[i] (strictly increasing)."""
        if not isinstance(rotations, Rotation):
            raise TypeError("`rotations` must be a `Rotation` instance.")
        if rotations.single or len(rotations) == 1:
            raise ValueError("`rotations` must be a sequence of at least 2 rotations.")
        times = jnp.asarray(times, dtype=rotations.quat.dtype)
        if times.ndim != 1:
            raise ValueError(f"Expected times to be specified in a 1 dimensional array, got {times.ndim} dimensions.")
        if times.shape[0] != len(rotations):
            raise ValueError(
                "Expected number of rotations to be equal to number of timestamps given, "
                f"got {len(rotations)} rotations and {times.shape[0]} timestamps."
            )
        quat = rotations.as_quat()
        start = Rotation(quat[:-1])
        rotvecs = (start.inv() * Rotation(quat[1:])).as_rotvec()
        return cls(times=times, timedelta=jnp.diff(times), rotations=start, rotvecs=rotvecs)

    def __call__(self, times) -> Rotation:
        """The interpolated rotation(s) at `times` (a scalar or a 1-D array)."""
        t = jnp.asarray(times, dtype=self.times.dtype)
        if t.ndim > 1:
            raise ValueError("`times` must be at most 1-dimensional.")
        single = t.ndim == 0
        t = jnp.atleast_1d(t)
        ind = jnp.maximum(jnp.searchsorted(self.times, t) - 1, 0)
        alpha = (t - self.times[ind]) / self.timedelta[ind]
        out = self.rotations[ind] * Rotation.from_rotvec(self.rotvecs[ind] * alpha[:, None])
        return out[0] if single else out
