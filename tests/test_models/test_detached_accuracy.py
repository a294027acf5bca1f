"""Decode heads log acc_seg without recording it for backward: same value
as mmseg's accuracy, no tensor saved for the backward pass."""
import torch
from mmengine.structures import PixelData
from mmseg.models.decode_heads import decode_head
from mmseg.models.losses import accuracy
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmseg_uda  # noqa: F401


def test_heads_use_the_detached_accuracy():
    assert decode_head.accuracy is \
        mmseg_uda.models.utils.detached_accuracy


def test_same_value_and_nothing_saved():
    torch.manual_seed(0)
    head = MODELS.build(
        dict(type='DeepLabV2Head', in_channels=4, in_index=0, num_classes=3,
             align_corners=True))
    feat = torch.randn(1, 4, 6, 8)
    label = torch.randint(0, 3, (1, 1, 24, 32))
    label[..., :3] = 255
    sample = SegDataSample(gt_sem_seg=PixelData(data=label[0]))
    logits = head([feat])
    saved = []

    def pack(t):
        saved.append((t.dtype, tuple(t.shape)))
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        losses = head.loss_by_feat(logits, [sample])
    up = torch.nn.functional.interpolate(
        logits.detach(), size=(24, 32), mode='bilinear', align_corners=True)
    torch.testing.assert_close(losses['acc_seg'],
                               accuracy(up, label[:, 0], ignore_index=255))
    # The CE saves its log-probabilities and the label; no top-k index map
    # (an int64 tensor shaped like the logits' top-1, (1, 1, 24, 32)).
    assert (torch.int64, (1, 1, 24, 32)) not in saved, saved
