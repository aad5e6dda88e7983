"""IoU, NMS and VOC average precision of chapter 07b against brute-force references."""

import itertools

import numpy as np
import pytest
import torch

from course_lib.detection import (
    average_precision,
    batched_nms,
    box_area,
    box_iou,
    center_targets,
    decode,
    detection_targets,
    detector_loss,
    match_detections,
    mean_average_precision,
    nms,
    precision_recall,
)


def random_boxes(n, generator, size=20.0):
    xy = torch.rand(n, 2, generator=generator, dtype=torch.float64) * size
    wh = torch.rand(n, 2, generator=generator, dtype=torch.float64) * size / 2 + 0.5
    return torch.cat([xy, xy + wh], 1)


def brute_iou(a, b):
    """Count the area by the definition: intersection rectangle, one pair at a time."""
    out = torch.zeros(len(a), len(b), dtype=torch.float64)
    for i, j in itertools.product(range(len(a)), range(len(b))):
        (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = a[i].tolist(), b[j].tolist()
        w = max(0.0, min(ax1, bx1) - max(ax0, bx0))
        h = max(0.0, min(ay1, by1) - max(ay0, by0))
        inter = w * h
        union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
        out[i, j] = inter / union
    return out


def brute_nms(boxes, scores, threshold):
    """The definition, literally: walk the boxes best first, keep one if no kept box overlaps it."""
    kept = []
    for i in sorted(range(len(boxes)), key=lambda k: (-float(scores[k]), k)):
        if all(brute_iou(boxes[i : i + 1], boxes[k : k + 1])[0, 0] <= threshold for k in kept):
            kept.append(i)
    return kept


def test_iou_matches_brute_force_in_float64():
    g = torch.Generator().manual_seed(0)
    a, b = random_boxes(17, g), random_boxes(11, g)
    torch.testing.assert_close(box_iou(a, b), brute_iou(a, b))
    torch.testing.assert_close(box_iou(a, a).diagonal(), torch.ones(17, dtype=torch.float64))


def test_iou_edge_cases():
    touching = torch.tensor([[0.0, 0, 1, 1], [1, 0, 2, 1]])
    assert box_iou(touching, touching)[0, 1] == 0  # sharing an edge is no overlap
    inside = torch.tensor([[0.0, 0, 4, 4], [1, 1, 3, 3]])
    assert box_iou(inside, inside)[0, 1] == pytest.approx(4 / 16)
    empty = torch.tensor([[2.0, 2, 2, 2]])
    assert box_iou(empty, empty)[0, 0] == 0  # no NaN from 0 / 0
    assert box_iou(torch.zeros(0, 4), inside).shape == (0, 2)
    assert torch.equal(box_area(inside), torch.tensor([16.0, 4.0]))


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.5, 0.7, 1.0])
def test_nms_matches_brute_force(threshold):
    g = torch.Generator().manual_seed(1)
    boxes = random_boxes(40, g, size=12.0)
    scores = torch.rand(40, generator=g, dtype=torch.float64)
    assert nms(boxes, scores, threshold).tolist() == brute_nms(boxes, scores, threshold)


def test_nms_ties_empty_and_order():
    boxes = torch.tensor([[0.0, 0, 10, 10], [0, 0, 10, 10], [50, 50, 60, 60]])
    scores = torch.tensor([0.5, 0.5, 0.9])
    assert nms(boxes, scores, 0.5).tolist() == [2, 0]  # tie: the lower index wins
    assert nms(torch.zeros(0, 4), torch.zeros(0), 0.5).tolist() == []


def test_batched_nms_never_suppresses_across_classes():
    boxes = torch.tensor([[0.0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    labels = torch.tensor([0, 1, 0])
    assert batched_nms(boxes, scores, labels, 0.5).tolist() == [0, 1]
    g = torch.Generator().manual_seed(2)
    boxes, scores = random_boxes(30, g), torch.rand(30, generator=g, dtype=torch.float64)
    labels = torch.randint(3, (30,), generator=g)
    expected = []
    for c in range(3):
        idx = torch.nonzero(labels == c).flatten()
        expected += [int(idx[k]) for k in brute_nms(boxes[idx], scores[idx], 0.4)]
    expected.sort(key=lambda k: -float(scores[k]))
    assert batched_nms(boxes, scores, labels, 0.4).tolist() == expected


def test_nms_rejects_bad_input():
    with pytest.raises(ValueError, match=r"boxes must have shape \(N, 4\)"):
        nms(torch.zeros(3, 5), torch.zeros(3), 0.5)
    with pytest.raises(ValueError, match="scores must have shape"):
        nms(torch.zeros(3, 4), torch.zeros(2), 0.5)
    with pytest.raises(ValueError, match="iou_threshold"):
        nms(torch.zeros(3, 4), torch.zeros(3), 1.5)
    with pytest.raises(TypeError, match="a must be a torch.Tensor"):
        box_iou([[0, 0, 1, 1]], torch.zeros(1, 4))


def brute_ap(scores, tp, positives):
    """VOC all-point AP straight from the definition: for each recall level reached, the best
    precision at that or any higher recall, times the recall step."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    tp = np.asarray(tp)[order]
    prec = [tp[: k + 1].sum() / (k + 1) for k in range(len(tp))]
    rec = [tp[: k + 1].sum() / positives for k in range(len(tp))]
    ap, last = 0.0, 0.0
    for r in sorted(set(rec)):
        if r > last:
            ap += (r - last) * max(p for p, rr in zip(prec, rec, strict=True) if rr >= r)
            last = r
    return ap


def test_average_precision_hand_made_cases():
    assert average_precision([0.9, 0.8], [True, True], 2) == pytest.approx(1.0)
    assert average_precision([0.9, 0.8], [True, True], 4) == pytest.approx(0.5)  # recall 1/2
    assert average_precision([0.9, 0.8], [False, True], 1) == pytest.approx(0.5)
    assert average_precision([0.9, 0.8, 0.7, 0.6, 0.5], [1, 0, 1, 0, 1], 3) == pytest.approx(
        34 / 45
    )
    assert average_precision([], [], 3) == 0.0
    assert average_precision([0.5], [False], 0) == 0.0
    # the order of the input does not matter, only the scores do
    assert average_precision([0.5, 0.9], [True, False], 1) == pytest.approx(0.5)


def test_average_precision_matches_brute_force():
    r = np.random.RandomState(0)
    for _ in range(30):
        n = r.randint(1, 25)
        scores, tp = r.rand(n), r.rand(n) < 0.5
        positives = int(tp.sum()) + r.randint(0, 3)
        if positives == 0:
            continue
        assert average_precision(scores, tp, positives) == pytest.approx(
            brute_ap(scores, tp, positives)
        )


def test_precision_recall_values_and_errors():
    p, rec = precision_recall([0.9, 0.8, 0.7], [True, False, True], 4)
    np.testing.assert_allclose(p, [1, 0.5, 2 / 3])
    np.testing.assert_allclose(rec, [0.25, 0.25, 0.5])
    with pytest.raises(ValueError, match="one length"):
        precision_recall([0.9], [True, False], 1)


def test_matching_counts_a_duplicate_as_false_positive():
    gt = torch.tensor([[0.0, 0, 10, 10]])
    boxes = torch.tensor([[0.0, 0, 10, 10], [1, 0, 11, 10], [30, 30, 40, 40]])
    scores = torch.tensor([0.7, 0.9, 0.8])
    assert match_detections(boxes, scores, gt).tolist() == [False, True, False]


def test_mean_average_precision_perfect_and_missing():
    gt = [(torch.tensor([[0.0, 0, 10, 10], [20, 20, 30, 30]]), torch.tensor([0, 1]))]
    perfect = [(gt[0][0], torch.tensor([0.9, 0.8]), gt[0][1])]
    m, aps = mean_average_precision(perfect, gt, num_classes=3)
    assert m == pytest.approx(1.0) and aps[:2] == [1.0, 1.0] and np.isnan(aps[2])
    only_one = [(gt[0][0][:1], torch.tensor([0.9]), torch.tensor([0]))]
    assert mean_average_precision(only_one, gt, num_classes=2)[0] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="one detection entry per image"):
        mean_average_precision([], gt, num_classes=2)


def test_targets_decode_back_to_the_boxes():
    """Perfect logits built from the targets decode, after NMS, to the ground-truth boxes."""
    boxes = torch.tensor([[2.0, 3, 12, 11], [18, 16, 30, 30]])
    labels = torch.tensor([1, 3])
    heat, size, offset, centre = center_targets(boxes, labels, num_classes=5, grid=8, stride=4)
    assert heat.shape == (5, 8, 8) and int(centre.sum()) == 2 and heat.max() == 1
    logit = torch.where(heat >= 1, 10.0, -10.0)
    out = torch.cat([logit, size, torch.logit(offset.clamp(1e-6, 1 - 1e-6))])[None]
    ((got, scores, got_labels),) = decode(out, num_classes=5, stride=4, score_threshold=0.5)
    order = torch.argsort(got_labels)
    torch.testing.assert_close(got[order], boxes, atol=1e-4, rtol=0)
    assert got_labels[order].tolist() == [1, 3]
    packed = detection_targets([boxes], [labels], num_classes=5, grid=8, stride=4)
    assert packed.shape == (1, 10, 8, 8)
    assert detector_loss(out, packed, 5) < detector_loss(torch.zeros_like(out), packed, 5)
    with pytest.raises(ValueError, match="targets must have shape"):
        detector_loss(out, packed[:, :9], 5)
