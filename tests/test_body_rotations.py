"""Property tests for backend.body.rotations (numpy) and rotations_torch: round trips, conventions, parity."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.body import rotations as R
from backend.body import rotations_torch as RT

few = settings(max_examples=60, deadline=None)  # keep the default suite fast

unit = st.tuples(*[st.floats(-1, 1, allow_nan=False)] * 3).filter(lambda v: np.linalg.norm(v) > 1e-3)
# angles spread over [0, pi], with extra weight near 0 and near pi
angle = st.one_of(
    st.floats(0.0, np.pi),
    st.floats(0.0, 1e-4),
    st.floats(np.pi - 1e-4, np.pi),
    st.sampled_from([0.0, 1e-12, 1e-8, np.pi - 1e-9, np.pi]),
)


@st.composite
def axis_angles(draw, count=4):
    vs = [np.asarray(draw(unit)) for _ in range(count)]
    angles = [draw(angle) for _ in range(count)]
    return np.stack([v / np.linalg.norm(v) * a for v, a in zip(vs, angles)])  # (count, 3)


def _same_rotation_axis_angle(a, b, atol=1e-6):
    """Axis-angle vectors equal up to the antipodal ambiguity at angle pi."""
    for x, y in zip(a, b):
        if np.allclose(x, y, atol=atol):
            continue
        assert abs(np.linalg.norm(x) - np.pi) < 1e-4 and np.allclose(x, -y, atol=atol), (x, y)


def _is_rotation(m):
    assert np.allclose(m @ np.swapaxes(m, -1, -2), np.eye(3), atol=1e-9)
    assert np.allclose(np.linalg.det(m), 1.0, atol=1e-9)


@few
@given(axis_angles())
def test_axis_angle_rotmat_round_trip(aa):
    m = R.axis_angle_to_rotmat(aa)
    _is_rotation(m)
    _same_rotation_axis_angle(R.rotmat_to_axis_angle(m), aa)


@few
@given(axis_angles())
def test_quaternion_round_trips(aa):
    q = R.axis_angle_to_quaternion(aa)
    assert np.allclose(np.linalg.norm(q, axis=-1), 1.0)
    _same_rotation_axis_angle(R.quaternion_to_axis_angle(q), aa)
    m = R.axis_angle_to_rotmat(aa)
    assert np.allclose(R.quaternion_to_rotmat(q), m, atol=1e-9)
    q2 = R.rotmat_to_quaternion(m)
    assert np.allclose(np.abs(np.sum(q2 * q, -1)), 1.0, atol=1e-9)  # q and -q are the same rotation


@few
@given(axis_angles())
def test_rot6d_round_trip_and_layout(aa):
    m = R.axis_angle_to_rotmat(aa)
    six = R.rotmat_to_rot6d(m)
    assert np.allclose(six[..., :3], m[..., :, 0]) and np.allclose(six[..., 3:], m[..., :, 1])  # columns, not rows
    assert np.allclose(R.rot6d_to_rotmat(six), m, atol=1e-9)
    # Gram-Schmidt repairs a perturbed 6D vector into a proper rotation
    _is_rotation(R.rot6d_to_rotmat(six + 0.05))


@few
@given(st.lists(st.tuples(st.floats(-np.pi, np.pi), st.floats(-1.5, 1.5), st.floats(-np.pi, np.pi)),
                min_size=1, max_size=4))
def test_euler_round_trip(angles):
    e = np.asarray(angles)
    m = R.euler_to_rotmat(e)
    _is_rotation(m)
    assert np.allclose(R.euler_to_rotmat(R.rotmat_to_euler(m)), m, atol=1e-9)


def test_euler_gimbal_lock_still_reproduces_the_matrix():
    m = R.euler_to_rotmat(np.array([0.3, np.pi / 2, -0.2]))
    assert np.allclose(R.euler_to_rotmat(R.rotmat_to_euler(m)), m, atol=1e-9)


def test_euler_xyz_applies_x_first_like_blender():
    x, y, z = 0.4, -0.7, 1.1
    expected = R.axis_angle_to_rotmat([0, 0, z]) @ R.axis_angle_to_rotmat([0, y, 0]) @ R.axis_angle_to_rotmat([x, 0, 0])
    assert np.allclose(R.euler_to_rotmat(np.array([x, y, z])), expected)
    zyx = R.axis_angle_to_rotmat([x, 0, 0]) @ R.axis_angle_to_rotmat([0, y, 0]) @ R.axis_angle_to_rotmat([0, 0, z])
    assert np.allclose(R.euler_to_rotmat(np.array([x, y, z]), "ZYX"), zyx)


def test_known_values_catch_transposes_and_degrees():
    # +90 degrees about +Z takes +X to +Y (column-vector convention, right-handed, radians)
    m = R.axis_angle_to_rotmat(np.array([0.0, 0.0, np.pi / 2]))
    assert np.allclose(m @ [1, 0, 0], [0, 1, 0], atol=1e-12)
    assert np.allclose(m, [[0, -1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-12)
    assert np.allclose(R.axis_angle_to_quaternion(np.array([0.0, 0.0, np.pi / 2])),
                       [np.cos(np.pi / 4), 0, 0, np.sin(np.pi / 4)])
    assert np.allclose(R.rotmat_to_euler(R.axis_angle_to_rotmat(np.array([0.5, 0, 0]))), [0.5, 0, 0])
    # quaternion (w, x, y, z): w first
    assert np.allclose(R.quaternion_to_rotmat(np.array([1.0, 0, 0, 0])), np.eye(3))


def test_batched_shapes():
    aa = np.random.default_rng(0).normal(size=(2, 5, 22, 3))
    assert R.axis_angle_to_rotmat(aa).shape == (2, 5, 22, 3, 3)
    assert R.rotmat_to_rot6d(R.axis_angle_to_rotmat(aa)).shape == (2, 5, 22, 6)
    assert R.axis_angle_to_quaternion(aa).shape == (2, 5, 22, 4)
    assert R.rotmat_to_euler(R.axis_angle_to_rotmat(aa)).shape == (2, 5, 22, 3)


NAMES_MATRIX_IN = ["rotmat_to_axis_angle", "rotmat_to_quaternion", "rotmat_to_rot6d", "rotmat_to_euler"]


@few
@given(axis_angles(count=6))
def test_numpy_and_torch_agree(aa):
    t = torch.from_numpy(aa)
    m = R.axis_angle_to_rotmat(aa)
    assert np.allclose(RT.axis_angle_to_rotmat(t).numpy(), m, atol=1e-6)
    assert np.allclose(RT.axis_angle_to_quaternion(t).numpy(), R.axis_angle_to_quaternion(aa), atol=1e-6)
    for name in NAMES_MATRIX_IN:
        got = getattr(RT, name)(torch.from_numpy(m)).numpy()
        want = getattr(R, name)(m)
        if name == "rotmat_to_axis_angle":
            _same_rotation_axis_angle(got, want)
        elif name == "rotmat_to_quaternion":
            assert np.allclose(np.abs(np.sum(got * want, -1)), 1.0, atol=1e-6)
        elif name == "rotmat_to_euler":
            assert np.allclose(R.euler_to_rotmat(got), m, atol=1e-6)
        else:
            assert np.allclose(got, want, atol=1e-6)
    six = R.rotmat_to_rot6d(m) + 0.1
    assert np.allclose(RT.rot6d_to_rotmat(torch.from_numpy(six)).numpy(), R.rot6d_to_rotmat(six), atol=1e-6)
    q = R.axis_angle_to_quaternion(aa)
    assert np.allclose(RT.quaternion_to_rotmat(torch.from_numpy(q)).numpy(), R.quaternion_to_rotmat(q), atol=1e-6)
    e = R.rotmat_to_euler(m)
    assert np.allclose(RT.euler_to_rotmat(torch.from_numpy(e)).numpy(), R.euler_to_rotmat(e), atol=1e-6)


def test_torch_gradients_are_finite_at_zero_rotation():
    aa = torch.zeros(4, 3, dtype=torch.float64, requires_grad=True)
    RT.axis_angle_to_rotmat(aa).sum().backward()
    assert torch.isfinite(aa.grad).all()
    six = torch.tensor([[1.0, 0, 0, 0, 1, 0]], dtype=torch.float64, requires_grad=True)
    RT.rot6d_to_rotmat(six).sum().backward()
    assert torch.isfinite(six.grad).all()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_torch_keeps_dtype(dtype):
    aa = torch.zeros(3, 3, dtype=dtype)
    assert RT.axis_angle_to_rotmat(aa).dtype == dtype
    assert RT.rotmat_to_axis_angle(RT.axis_angle_to_rotmat(aa)).dtype == dtype
