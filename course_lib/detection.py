"""Object detection from scratch: box overlap, non-maximum suppression, average precision, and
the targets, loss and decoding of a small single-stage (CenterNet-style) grid detector.

Boxes are (x0, y0, x1, y1) in pixels with x0 < x1, y0 < y1 (x1, y1 exclusive).
"""

import numpy as np
import torch
import torch.nn.functional as F

from .validation import check_positive, check_probability, check_tensor


def _check_boxes(name: str, boxes) -> torch.Tensor:
    check_tensor(name, boxes, ndim=2, dtype="floating")
    if boxes.shape[1] != 4:
        raise ValueError(
            f"{name} must have shape (N, 4) as (x0, y0, x1, y1), got {tuple(boxes.shape)}"
        )
    return boxes


def box_area(boxes: torch.Tensor) -> torch.Tensor:
    """Area (x1 - x0)(y1 - y0) of each box, (N,)."""
    _check_boxes("boxes", boxes)
    return (boxes[:, 2] - boxes[:, 0]).clamp(min=0) * (boxes[:, 3] - boxes[:, 1]).clamp(min=0)


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pairwise intersection over union, (N, M): IoU(A, B) = |A n B| / (|A| + |B| - |A n B|).

    The intersection of two axis-aligned boxes is the box from the larger top-left corner to
    the smaller bottom-right corner, empty when they do not overlap. Two empty boxes have IoU 0.
    """
    _check_boxes("a", a), _check_boxes("b", b)
    top_left = torch.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = (bottom_right - top_left).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    return torch.where(union > 0, inter / union.clamp(min=1e-12), torch.zeros_like(inter))


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float = 0.5) -> torch.Tensor:
    """Greedy non-maximum suppression: indices of the kept boxes, best score first.

    Repeat: keep the highest-scoring remaining box, drop every remaining box whose IoU with it
    is above ``iou_threshold``. Ties in score keep the lower index first.
    """
    _check_boxes("boxes", boxes)
    check_tensor("scores", scores, shape=(boxes.shape[0],), dtype="floating")
    check_probability("iou_threshold", iou_threshold)
    order = torch.sort(scores, descending=True, stable=True).indices
    iou = box_iou(boxes, boxes)
    suppressed = torch.zeros(len(boxes), dtype=torch.bool)
    keep = []
    for i in order.tolist():
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= (iou[i] > iou_threshold).cpu()
    return torch.tensor(keep, dtype=torch.int64, device=boxes.device)


def batched_nms(boxes, scores, labels, iou_threshold: float = 0.5) -> torch.Tensor:
    """NMS within each class separately (a box never suppresses a box of another class)."""
    check_tensor("labels", labels, shape=(boxes.shape[0],), dtype="integer")
    keep = [torch.nonzero(labels == c).flatten() for c in labels.unique()]
    keep = [idx[nms(boxes[idx], scores[idx], iou_threshold)] for idx in keep]
    if not keep:
        return torch.zeros(0, dtype=torch.int64, device=boxes.device)
    keep = torch.cat(keep)
    return keep[torch.sort(scores[keep], descending=True, stable=True).indices]


def match_detections(boxes, scores, gt_boxes, iou_threshold: float = 0.5) -> torch.Tensor:
    """True-positive flags (N,) for one image and one class, the VOC rule.

    Detections are taken best score first; each is a true positive when its best-overlapping
    ground-truth box has IoU >= ``iou_threshold`` and was not matched by a better detection
    (a second detection of the same object is a false positive).
    """
    tp = torch.zeros(len(boxes), dtype=torch.bool)
    if len(boxes) == 0 or len(gt_boxes) == 0:
        return tp
    iou = box_iou(boxes, gt_boxes)
    taken = torch.zeros(len(gt_boxes), dtype=torch.bool)
    for i in torch.sort(scores, descending=True, stable=True).indices.tolist():
        best, j = iou[i].max(0)
        if best >= iou_threshold and not taken[j]:
            tp[i], taken[j] = True, True
    return tp


def precision_recall(scores, tp, num_positives: int):
    """Precision and recall after each detection, best score first (NumPy arrays).

    precision_k = TP_k / k, recall_k = TP_k / num_positives, TP_k = true positives among the
    k best-scoring detections.
    """
    scores, tp = np.asarray(scores, float), np.asarray(tp, bool)
    if scores.shape != tp.shape or scores.ndim != 1:
        raise ValueError(f"scores and tp must be 1-D of one length, got {scores.shape}, {tp.shape}")
    if num_positives < 0:
        raise ValueError(f"num_positives must be >= 0, got {num_positives}")
    order = np.argsort(-scores, kind="stable")
    cum_tp = np.cumsum(tp[order])
    precision = cum_tp / np.arange(1, len(tp) + 1)
    recall = cum_tp / max(num_positives, 1)
    return precision, recall


def average_precision(scores, tp, num_positives: int) -> float:
    """VOC average precision with all-point interpolation (Everingham et al., 2010 onwards).

    AP = sum_k (r_k - r_{k-1}) p_interp(r_k), with p_interp(r) = max_{r' >= r} p(r'): the area
    under the precision-recall curve after making precision non-increasing. 0 without positives.
    """
    precision, recall = precision_recall(scores, tp, num_positives)
    if num_positives == 0 or len(precision) == 0:
        return 0.0
    r = np.concatenate([[0.0], recall, [recall[-1]]])
    p = np.concatenate([[0.0], precision, [0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]  # the precision envelope
    steps = np.nonzero(r[1:] != r[:-1])[0]
    return float(np.sum((r[steps + 1] - r[steps]) * p[steps + 1]))


def mean_average_precision(detections, ground_truth, num_classes: int, iou_threshold: float = 0.5):
    """mAP over classes: (mAP, list of per-class AP), classes without ground truth left out.

    ``detections[i]`` = (boxes (k, 4), scores (k,), labels (k,)) for image i;
    ``ground_truth[i]`` = (boxes (m, 4), labels (m,)).
    """
    if len(detections) != len(ground_truth):
        raise ValueError(
            f"need one detection entry per image: {len(detections)} vs {len(ground_truth)} images"
        )
    aps = []
    for c in range(num_classes):
        all_scores, all_tp, positives = [], [], 0
        for (boxes, scores, labels), (gt_boxes, gt_labels) in zip(
            detections, ground_truth, strict=True
        ):
            mine, gt_mine = labels == c, gt_labels == c
            positives += int(gt_mine.sum())
            all_tp.append(
                match_detections(boxes[mine], scores[mine], gt_boxes[gt_mine], iou_threshold)
            )
            all_scores.append(scores[mine].detach().cpu())
        if positives:
            aps.append(
                average_precision(
                    torch.cat(all_scores).numpy(), torch.cat(all_tp).numpy(), positives
                )
            )
        else:
            aps.append(float("nan"))
    valid = [a for a in aps if not np.isnan(a)]
    return (float(np.mean(valid)) if valid else 0.0), aps


# ----- a CenterNet-style grid detector: targets, loss, decoding -----------------------------


def center_targets(boxes, labels, *, num_classes: int, grid: int, stride: int):
    """Training targets on a grid x grid map for one image.

    heat (C, G, G): a Gaussian bump exp(-d^2 / (2 sigma^2)) around each object's centre cell,
    1 exactly there (sigma grows with the box); size (2, G, G): the box width and height / stride
    at the centre cell; offset (2, G, G): the centre's position inside its cell, in [0, 1);
    centre (G, G) bool: where size and offset are supervised.
    """
    heat = torch.zeros(num_classes, grid, grid)
    size = torch.zeros(2, grid, grid)
    offset = torch.zeros(2, grid, grid)
    centre = torch.zeros(grid, grid, dtype=torch.bool)
    ys, xs = torch.meshgrid(torch.arange(grid), torch.arange(grid), indexing="ij")
    for box, c in zip(boxes.tolist(), labels.tolist(), strict=True):
        cx, cy = (box[0] + box[2]) / 2 / stride, (box[1] + box[3]) / 2 / stride
        w, h = (box[2] - box[0]) / stride, (box[3] - box[1]) / stride
        i, j = min(int(cy), grid - 1), min(int(cx), grid - 1)
        sigma = max(0.5, min(w, h) / 4)
        bump = torch.exp(-((xs - j) ** 2 + (ys - i) ** 2) / (2 * sigma**2))
        heat[c] = torch.maximum(heat[c], bump)
        size[:, i, j] = torch.tensor([w, h])
        offset[:, i, j] = torch.tensor([cx - j, cy - i])
        centre[i, j] = True
    return heat, size, offset, centre


def focal_heatmap_loss(logits, heat, alpha: float = 2.0, beta: float = 4.0):
    """CenterNet's penalty-reduced focal loss, summed and divided by the number of centres.

    At a centre (heat = 1): -(1 - p)^alpha log p; elsewhere -(1 - heat)^beta p^alpha log(1 - p),
    so cells near a centre are punished less for firing.
    """
    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    pos = heat >= 1 - 1e-6
    pos_loss = -((1 - p) ** alpha * torch.log(p))[pos].sum()
    neg_loss = -((1 - heat) ** beta * p**alpha * torch.log(1 - p))[~pos].sum()
    return (pos_loss + neg_loss) / pos.sum().clamp(min=1)


def detection_targets(boxes, labels, *, num_classes: int, grid: int, stride: int) -> torch.Tensor:
    """The targets of :func:`center_targets` for a list of images, packed into one tensor
    (N, C + 5, G, G): heat, size, offset, centre (as 0/1), so that ``fit`` can batch them."""
    packed = []
    for b, lab in zip(boxes, labels, strict=True):
        heat, size, offset, centre = center_targets(
            b, lab, num_classes=num_classes, grid=grid, stride=stride
        )
        packed.append(torch.cat([heat, size, offset, centre[None].float()]))
    return torch.stack(packed)


def detector_loss(output, targets, num_classes: int):
    """Heatmap focal loss + (0.1 L1 on size + L1 on offset) per object at the centre cells.

    ``output`` (B, C + 4, G, G): class logits, then (w, h, dx, dy) with the offset through a
    sigmoid; ``targets`` (B, C + 5, G, G) from :func:`detection_targets`.
    """
    check_tensor("output", output, ndim=4, dtype="floating")
    check_tensor("targets", targets, shape=(output.shape[0], num_classes + 5, *output.shape[2:]))
    heat, size = targets[:, :num_classes], targets[:, num_classes : num_classes + 2]
    offset, centre = targets[:, num_classes + 2 : num_classes + 4], targets[:, num_classes + 4] > 0
    loss = focal_heatmap_loss(output[:, :num_classes], heat)
    mask = centre[:, None].expand(-1, 2, -1, -1)
    n = centre.sum().clamp(min=1)
    size_loss = F.l1_loss(
        output[:, num_classes : num_classes + 2][mask], size[mask], reduction="sum"
    )
    offset_loss = F.l1_loss(
        torch.sigmoid(output[:, num_classes + 2 :])[mask], offset[mask], reduction="sum"
    )
    return loss + (0.1 * size_loss + offset_loss) / n


def decode(output, *, num_classes: int, stride: int, score_threshold: float = 0.05):
    """Every cell and class with score sigmoid(logit) > ``score_threshold`` becomes a box.

    The box is centred at (cell + offset) * stride with the predicted width and height.
    Returns one (boxes, scores, labels) per image, no suppression yet.
    """
    check_tensor("output", output, ndim=4)
    check_positive("stride", stride)
    probs = torch.sigmoid(output[:, :num_classes])
    wh = output[:, num_classes : num_classes + 2].clamp(min=0) * stride
    off = torch.sigmoid(output[:, num_classes + 2 :])
    grid = output.shape[-1]
    ys, xs = torch.meshgrid(torch.arange(grid), torch.arange(grid), indexing="ij")
    results = []
    for b in range(len(output)):
        c, i, j = torch.nonzero(probs[b] > score_threshold, as_tuple=True)
        cx = (j + off[b, 0, i, j]) * stride
        cy = (i + off[b, 1, i, j]) * stride
        w, h = wh[b, 0, i, j], wh[b, 1, i, j]
        boxes = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)
        results.append((boxes, probs[b, c, i, j], c))
    return results
