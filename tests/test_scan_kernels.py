"""The scanner's small compiled pieces that replaced numpy calls in the ICP loop, against
independent computations: the 6x6 solve against LAPACK's (numpy), the twist's rigid motion
against SciPy's rotation vectors, the normal equations' sums against numpy's."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from depthview.scan import _kernels as K

seeds = st.integers(0, 2**32 - 1)


@settings(max_examples=80, deadline=None)
@given(seed=seeds)
def test_solve6_agrees_with_lapack(seed: int) -> None:
    rng = np.random.default_rng(seed)
    j = rng.normal(size=(40, 6))
    a = j.T @ j + 1e-3 * np.eye(6)  # what ICP solves: symmetric, positive definite
    b = rng.normal(size=6)
    x = np.empty(6)
    a_before, b_before = a.copy(), b.copy()
    assert K._solve6(a, b, x)
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-8, atol=1e-10)
    assert np.array_equal(a, a_before) and np.array_equal(b, b_before)  # left as they were


def test_solve6_says_singular() -> None:
    x = np.empty(6)
    assert not K._solve6(np.zeros((6, 6)), np.ones(6), x)
    assert not K._solve6(np.ones((6, 6)), np.ones(6), x)  # rank 1: numpy raises too


@settings(max_examples=80, deadline=None)
@given(seed=seeds, size=st.floats(0.0, 3.0))
def test_exp_se3_is_the_rotation_vectors_motion(seed: int, size: float) -> None:
    rng = np.random.default_rng(seed)
    w = rng.normal(size=3)
    w = size * w / np.linalg.norm(w)
    t = rng.normal(size=3)
    out = np.empty((4, 4))
    K.exp_se3(np.concatenate([w, t]), out)
    np.testing.assert_allclose(out[:3, :3], Rotation.from_rotvec(w).as_matrix(), atol=1e-12)
    np.testing.assert_allclose(out[:3, 3], t)
    np.testing.assert_array_equal(out[3], [0, 0, 0, 1])


@settings(max_examples=40, deadline=None)
@given(seed=seeds, rows=st.integers(1, 30))
def test_normal_equations_sum_the_rows(seed: int, rows: int) -> None:
    rng = np.random.default_rng(seed)
    terms = rng.normal(size=(rows, 29))
    a, b = np.empty((6, 6)), np.empty(6)
    err, count = K.normal_equations(terms, a, b)
    total = terms.sum(axis=0)
    upper = np.zeros((6, 6))
    upper[np.triu_indices(6)] = total[:21]
    np.testing.assert_allclose(a, upper + upper.T - np.diag(np.diag(upper)), rtol=1e-12)
    np.testing.assert_allclose(b, total[21:27], rtol=1e-12)
    assert np.isclose(err, total[27]) and count == int(total[28])
