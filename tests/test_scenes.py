"""The synthetic scenes of chapter 07b: shapes, determinism, boxes that agree with the masks."""

import numpy as np
import pytest
import torch

from course_lib.data.scenes import SCENE_CLASSES, make_objects, make_scenes, shape_mask


def test_shapes_and_dtypes():
    s = make_scenes(20, size=32, max_objects=3, seed=1)
    assert s.images.shape == (20, 1, 32, 32) and s.images.dtype == torch.float32
    assert 0 <= s.images.min() and s.images.max() <= 1
    assert s.semantic.shape == s.instances.shape == (20, 32, 32)
    assert s.semantic.dtype == s.instances.dtype == torch.int64
    assert len(s.boxes) == len(s.labels) == 20
    for boxes, labels in zip(s.boxes, s.labels, strict=True):
        assert boxes.shape == (len(labels), 4) and boxes.dtype == torch.float32
        assert 1 <= len(labels) <= 3
        assert ((0 <= labels) & (labels < len(SCENE_CLASSES))).all()
    assert int(s.semantic.max()) <= len(SCENE_CLASSES)


def test_same_seed_same_scenes_other_seed_other_scenes():
    a, b, c = make_scenes(10, seed=5), make_scenes(10, seed=5), make_scenes(10, seed=6)
    assert torch.equal(a.images, b.images) and torch.equal(a.instances, b.instances)
    assert all(torch.equal(x, y) for x, y in zip(a.boxes, b.boxes, strict=True))
    assert not torch.equal(a.images, c.images)


def test_boxes_and_labels_agree_with_the_masks():
    s = make_scenes(200, seed=2, max_objects=4, max_overlap=0.5)
    for i in range(200):
        ids = s.instances[i]
        assert int(ids.max()) == len(s.boxes[i]), "instance ids must be 1..number of boxes"
        for j, (box, label) in enumerate(zip(s.boxes[i], s.labels[i], strict=True)):
            rows, cols = torch.nonzero(ids == j + 1, as_tuple=True)
            assert len(rows) > 0
            expected = torch.tensor([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1])
            assert torch.equal(box, expected.float())
            # every pixel of the instance shows its class in the semantic mask
            assert (s.semantic[i][ids == j + 1] == label + 1).all()
        assert torch.equal(s.semantic[i] == 0, ids == 0)


def test_overlap_is_bounded_and_every_class_appears():
    s = make_scenes(300, seed=0, max_overlap=0.0)
    labels = torch.cat(s.labels)
    assert torch.equal(labels.unique(), torch.arange(len(SCENE_CLASSES)))
    for boxes in s.boxes:  # no overlap allowed: the visible boxes are disjoint
        for a in range(len(boxes)):
            for b in range(a + 1, len(boxes)):
                w = min(boxes[a, 2], boxes[b, 2]) - max(boxes[a, 0], boxes[b, 0])
                h = min(boxes[a, 3], boxes[b, 3]) - max(boxes[a, 1], boxes[b, 1])
                assert w <= 0 or h <= 0


def test_shape_masks_are_what_their_names_say():
    disc = shape_mask(SCENE_CLASSES.index("disc"), 16, 16, 6, 32)
    square = shape_mask(SCENE_CLASSES.index("square"), 16, 16, 6, 32)
    ring = shape_mask(SCENE_CLASSES.index("ring"), 16, 16, 6, 32)
    assert square.sum() == 144 and abs(disc.sum() - np.pi * 36) < 8
    assert not ring[16, 16] and ring.sum() < disc.sum() / 2  # hollow and thin
    assert (disc <= square).all()


def test_objects_for_classification():
    X, y = make_objects(100, size=16, seed=0)
    assert X.shape == (100, 1, 16, 16) and y.shape == (100,) and y.dtype == torch.int64
    assert torch.equal(X, make_objects(100, size=16, seed=0)[0])
    assert len(y.unique()) == len(SCENE_CLASSES)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 0}, "n must be a positive int"),
        ({"n": 2.5}, "n must be a positive int"),
        ({"n": 3, "size": 8}, "size must be an int >= 16"),
        ({"n": 3, "min_size": 10, "max_size": 8}, "min_size <= max_size"),
        ({"n": 3, "max_size": 40}, "max_size < size"),
        ({"n": 3, "noise": -1}, "noise must be >= 0"),
        ({"n": 3, "max_overlap": 2}, "max_overlap must be in"),
        ({"n": 3, "max_objects": 0}, "max_objects must be a positive int"),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_scenes(**kwargs)


def test_unknown_shape_kind():
    with pytest.raises(ValueError, match="kind must be in 0..4"):
        shape_mask(7, 5, 5, 3, 16)
