"""The backend's floor translation (backend.contact.ground): the lowest capsule surface lands on y = 0."""
import numpy as np

from backend.body import example_poses
from backend.contact.ground import ground_translation, lowest_surface


def test_standing_pelvis_height_and_lower_poses():
    standing = ground_translation(np.zeros((22, 3)))
    assert standing[0] == standing[2] == 0.0 and 0.9 < standing[1] < 1.05  # the pelvis about 0.96 m up
    kneeling = np.zeros((22, 3))
    kneeling[4, 0] = kneeling[5, 0] = np.pi / 2  # shins back, flat on the floor
    lying = np.zeros((22, 3))
    lying[0, 0] = -np.pi / 2  # on the back
    assert 0.5 < ground_translation(kneeling)[1] < 0.75  # thigh length + the knee
    assert 0.05 < ground_translation(lying)[1] < 0.2  # the back's flesh, not the joint centres
    squat = np.array(example_poses.EXAMPLE_POSES["squat"])
    assert ground_translation(squat)[1] < standing[1]
    for pose in (kneeling, lying, squat):
        assert abs(lowest_surface(pose) + ground_translation(pose)[1]) < 1e-12
