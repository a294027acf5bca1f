"""Thing-class ImageNet feature distance (METHODS.md 7.4), against hand
computations and a plain PyTorch version of the release's rule written
here (one-hot with ignore as an extra class, average pooling with kernel =
stride = W_label // W_feat, dominant class and share; used iff a thing
class with share >= 0.75; mean L2 distance over the used cells)."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmseg_uda  # noqa: F401
from mmseg_uda.models.uda import held_buffers, named_held_modules
from mmseg_uda.models.uda.imnet_feature_distance import (
    feature_cell_mask, masked_feature_distance, pooled_label)

NUM_CLASSES = 19
THINGS = (6, 7, 11, 12, 13, 14, 15, 16, 17, 18)
LAMBDA = 0.005


def plain_thing_mask(labels, feat_w, num_classes=NUM_CLASSES,
                     classes=THINGS, min_ratio=0.75):
    """METHODS.md 7.4 literally: (B, H, W) labels -> (B, h, w) bool."""
    s = labels.shape[-1] // feat_w
    lab = labels.clone()
    lab[lab == 255] = num_classes
    one_hot = F.one_hot(lab, num_classes + 1).permute(0, 3, 1, 2).float()
    pooled = F.avg_pool2d(one_hot, kernel_size=s, stride=s)
    share, dominant = pooled.max(dim=1)
    keep = (dominant != num_classes) & (share >= min_ratio)
    thing = torch.zeros_like(keep)
    for c in classes:
        thing |= dominant == c
    return keep & thing


def hand_label():
    """8 x 12 label, 4 x 4 cells (2 x 3), written cell by cell."""
    label = torch.zeros(8, 12, dtype=torch.long)  # road everywhere first

    def cell(i, j, fill):
        block = torch.zeros(16, dtype=torch.long)
        start = 0
        for value, count in fill:
            block[start:start + count] = value
            start += count
        label[4 * i:4 * i + 4, 4 * j:4 * j + 4] = block.view(4, 4)

    cell(0, 0, [(13, 13)])  # car 13/16 = 0.8125: used
    cell(0, 1, [(11, 12)])  # person 12/16 = 0.75: used (>=)
    cell(0, 2, [(15, 11)])  # bus 11/16 < 0.75: not used
    cell(1, 0, [(255, 13), (13, 3)])  # ignore 13/16: not used
    cell(1, 1, [(5, 16)])  # pole (not a thing class): not used
    cell(1, 2, [(16, 16)])  # train 16/16: used
    return label[None]


def test_pooled_label_and_mask_by_hand():
    label = hand_label()
    pooled = pooled_label(label, 4, NUM_CLASSES, 0.75)
    assert pooled.tolist() == [[[13, 11, 255], [255, 5, 16]]]
    mask = feature_cell_mask(label, (2, 3), NUM_CLASSES, THINGS, 0.75)
    want = [[[True, True, False], [False, False, True]]]
    assert mask.tolist() == want
    assert plain_thing_mask(label, 3).tolist() == want
    # any value outside the classes counts as ignore
    odd = label.clone()
    odd[odd == 255] = 250
    assert torch.equal(pooled_label(odd, 4, NUM_CLASSES, 0.75), pooled)
    # all classes (classes=None): every cell, ignore and mixed included
    assert feature_cell_mask(label, (2, 3), NUM_CLASSES, None,
                             0.75).all()


def test_mask_matches_the_plain_rule_on_random_labels():
    g = torch.Generator().manual_seed(0)
    # blocky labels so that shares vary around 0.75
    coarse = torch.randint(0, 20, (3, 6, 8), generator=g)
    coarse[coarse == 19] = 255
    labels = coarse.repeat_interleave(8, 1).repeat_interleave(8, 2)
    noise = torch.rand(labels.shape, generator=g) < 0.2
    labels = torch.where(noise, torch.randint(0, 19, labels.shape,
                                              generator=g), labels)
    for feat_w in (8, 16, 32):  # cells of 8, 4 and 2 pixels
        s = 64 // feat_w
        mask = feature_cell_mask(labels, (48 // s, feat_w), NUM_CLASSES,
                                 THINGS, 0.75)
        want = plain_thing_mask(labels, feat_w)
        assert torch.equal(mask, want), feat_w
        assert 0 < want.sum() < want.numel()


def test_features_that_do_not_tile_the_label():
    with pytest.raises(ValueError, match=r'65x65.*512x512'):
        feature_cell_mask(
            torch.zeros(1, 512, 512, dtype=torch.long), (65, 65),
            NUM_CLASSES, THINGS, 0.75)


def test_distance_value_by_hand():
    label = hand_label()
    mask = feature_cell_mask(label, (2, 3), NUM_CLASSES, THINGS, 0.75)
    reference = torch.randn(1, 2, 2, 3)
    diff = torch.full((1, 2, 2, 3), 100.0)  # unused cells: large
    diff[0, :, 0, 0] = torch.tensor([3.0, 4.0])  # 5
    diff[0, :, 0, 1] = torch.tensor([6.0, -8.0])  # 10
    diff[0, :, 1, 2] = torch.tensor([0.0, 1.0])  # 1
    student = (reference + diff).requires_grad_()
    distance, count = masked_feature_distance(student, reference, mask)
    assert count.item() == 3
    assert distance.item() == pytest.approx(16 / 3, rel=1e-6)
    distance.backward()
    # d/dF_S of ||F_S - F_I|| / 3 on the used cells, 0 elsewhere
    want = torch.zeros_like(diff)
    for i, j, norm in [(0, 0, 5.0), (0, 1, 10.0), (1, 2, 1.0)]:
        want[0, :, i, j] = diff[0, :, i, j] / norm / 3
    torch.testing.assert_close(student.grad, want)


def test_no_used_cell_gives_zero_not_nan():
    student = torch.randn(2, 4, 2, 3, requires_grad=True)
    reference = student.detach().clone()  # also a zero distance
    mask = torch.zeros(2, 2, 3, dtype=torch.bool)
    distance, count = masked_feature_distance(student, reference, mask)
    assert distance.item() == 0.0 and count.item() == 0.0
    distance.backward()
    assert torch.isfinite(student.grad).all() and not student.grad.any()
    # zero distance in a used cell: finite gradient too
    mask[0, 0, 0] = True
    student.grad = None
    distance, _ = masked_feature_distance(student, reference, mask)
    distance.backward()
    assert torch.isfinite(student.grad).all()


# --- the term in a segmentor ---

BACKBONE = dict(
    type='DeepLabResNet',
    depth=50,
    stage_blocks=(1, 1, 1, 1),
    base_channels=8,
    stem_channels=8,
    strides=(1, 2, 1, 1),
    dilations=(1, 1, 2, 4),
    style='pytorch',
    contract_dilation=True,
    maxpool_ceil_mode=False,
    out_indices=(0, 1, 2, 3),
    norm_cfg=dict(type='BN', requires_grad=True),
    norm_eval=False)


def tiny_cfg(pretrained, **term):
    return ConfigDict(
        type='UDAEncoderDecoder',
        data_preprocessor=dict(
            type='UDADataPreProcessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True,
            seg_pad_val=255),
        backbone=BACKBONE,
        decode_head=dict(
            type='DeepLabV2Head',
            in_channels=256,
            in_index=3,
            num_classes=NUM_CLASSES,
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
        uda_terms=[
            dict(
                type='ImageNetFeatureDistance',
                pretrained=pretrained,
                **term)
        ],
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))


@pytest.fixture
def imagenet(tmp_path):
    """A backbone checkpoint (keys backbone.*) standing in for ImageNet."""
    torch.manual_seed(1)
    backbone = MODELS.build(BACKBONE)
    backbone.init_weights()
    path = tmp_path / 'imagenet.pth'
    torch.save(
        dict(state_dict={
            f'backbone.{k}': v
            for k, v in backbone.state_dict().items()
        }), path)
    return path, backbone


def build(pretrained, **term):
    torch.manual_seed(0)
    model = MODELS.build(tiny_cfg(str(pretrained), **term))
    model.init_weights()
    model.train()
    return model


def batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randn(2, 3, 64, 64, generator=g)
    coarse = torch.randint(0, 19, (2, 8, 8), generator=g)
    coarse[:, :4] = 13  # cars: used cells in both images
    labels = coarse.repeat_interleave(8, 1).repeat_interleave(8, 2)
    labels[:, :, :3] = 255
    samples = []
    for label in labels:
        sample = SegDataSample(gt_sem_seg=PixelData(data=label[None]))
        sample.set_metainfo(dict(img_shape=(64, 64), pad_shape=(64, 64)))
        samples.append(sample)
    targets = [copy.deepcopy(s) for s in samples]
    for s in targets:
        del s.gt_sem_seg
    return (dict(source=inputs, target=torch.randn(2, 3, 64, 64)),
            dict(source=samples, target=targets), labels)


def test_term_against_a_plain_computation(imagenet):
    path, reference_backbone = imagenet
    model = build(path)
    inputs, samples, labels = batch()
    losses = model.loss(inputs, samples)
    # the plain version: student F4 in train mode, the ImageNet backbone
    # in eval mode, the mask of the rule above
    student = model.extract_feat(inputs['source'])[-1]
    reference_backbone.eval()
    with torch.no_grad():
        reference = reference_backbone(inputs['source'])[-1]
    mask = plain_thing_mask(labels, student.shape[-1])
    distance = (student - reference).norm(dim=1)[mask].mean()
    torch.testing.assert_close(losses['src.loss_imnet_feat_dist'],
                               LAMBDA * distance)
    assert losses['src.imnet_feat_dist_cells'].item() == mask.sum().item()
    # logged, not summed into the loss
    total, log_vars = model.parse_losses(losses)
    assert 'src.imnet_feat_dist_cells' in log_vars
    torch.testing.assert_close(
        total, sum(v for k, v in losses.items() if 'loss' in k))


def test_gradient_reaches_the_student_only_and_copy_stays_frozen(imagenet):
    path, _ = imagenet
    model = build(path)
    term = model.uda_terms[0]
    inputs, samples, _ = batch()
    term.source_loss(model.forward_domain(inputs['source'],
                                          samples['source']))
    copy_params = list(term.imnet_backbone.parameters())
    # held outside the module tree: in no optimiser, not in DDP
    own = {id(p) for p in model.parameters()}
    assert not any(id(p) in own for p in copy_params)
    assert not any(p.requires_grad for p in copy_params)
    before = [p.clone() for p in copy_params]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = term.source_loss(
        model.forward_domain(inputs['source'],
                             samples['source']))['loss_imnet_feat_dist']
    loss.backward()
    # through the student's last stage (its shortcut: the residual branch
    # ends in a zero-initialised BN)
    assert model.backbone.layer4[0].downsample[0].weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in copy_params)
    optimizer.step()
    model.train()
    assert not term.imnet_backbone.training
    assert all(torch.equal(a, b) for a, b in zip(before, copy_params))
    # follows .to()
    model.double()
    assert all(p.dtype == torch.float64 for p in copy_params)


def test_checkpoint_holds_the_copy_and_replaces_the_file(imagenet, tmp_path):
    path, reference_backbone = imagenet
    model = build(path)
    inputs, samples, _ = batch()
    first = model.loss(inputs, samples)['src.loss_imnet_feat_dist']
    state = model.state_dict()
    prefix = 'uda_terms.0.imnet_backbone.'
    copy_keys = [k for k in state if k.startswith(prefix)]
    assert copy_keys
    want = reference_backbone.state_dict()
    for key in copy_keys:
        name = key[len('uda_terms.0.imnet_backbone.backbone.'):]
        assert torch.equal(state[key], want[name]), key
    # a resumed run reads the copy from the checkpoint, not the file
    path.unlink()
    resumed = build(path)
    resumed.load_state_dict(state)
    torch.testing.assert_close(
        resumed.loss(inputs, samples)['src.loss_imnet_feat_dist'], first)


def test_a_checkpoint_without_the_copy_leaves_the_file_to_read(imagenet):
    """A load_from of a model without the term (no imnet_backbone keys)
    reports the copy's keys missing and does not count as its weights."""
    path, _ = imagenet
    state = {
        k: v
        for k, v in build(path).state_dict().items()
        if '.imnet_backbone.' not in k
    }
    model = build(path)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys and all(
        k.startswith('uda_terms.0.imnet_backbone.backbone.')
        for k in result.missing_keys)
    path.unlink()
    inputs, samples, _ = batch()
    with pytest.raises(FileNotFoundError, match='pretrained'):
        model.loss(inputs, samples)


def test_run_safety_hooks_see_the_copy_and_its_buffers_never_change(
        imagenet):
    """AverageBuffersHook and NonFiniteLossHook reach held networks through
    held_buffers / named_held_modules: the copy is among them, and its BN
    buffers stay as loaded through training steps in train mode (so
    averaging them over ranks that loaded the same file changes nothing)."""
    path, reference_backbone = imagenet
    model = build(path)
    term = model.uda_terms[0]
    assert [name for name, _ in named_held_modules(model)] == [
        'uda_terms.0.imnet_backbone'
    ]
    assert [id(b) for b in held_buffers(model)] == [
        id(b) for b in term.imnet_backbone.buffers()
    ]
    inputs, samples, _ = batch()
    model.loss(inputs, samples)  # iteration 0 reads the file
    loaded = {
        k: v.clone()
        for k, v in term.imnet_backbone.named_buffers()
    }
    want = reference_backbone.state_dict()
    assert all(torch.equal(v, want[k[len('backbone.'):]])
               for k, v in loaded.items())
    student_bn = model.backbone.bn1.running_mean.clone()
    for seed in (1, 2):
        model.train()
        model.loss(*batch(seed)[:2])
    # the student's BN moved, the copy's did not (running statistics and
    # step counters)
    assert not torch.equal(model.backbone.bn1.running_mean, student_bn)
    assert all(torch.equal(b, loaded[k])
               for k, b in term.imnet_backbone.named_buffers())


def test_without_imagenet_weights_names_the_key(imagenet):
    with pytest.raises(ValueError, match='pretrained'):
        MODELS.build(tiny_cfg(None))
    path, _ = imagenet
    missing = path.parent / 'no_such.pth'
    model = build(missing)
    inputs, samples, _ = batch()
    with pytest.raises(FileNotFoundError) as err:
        model.loss(inputs, samples)
    assert 'pretrained' in str(err.value) and str(missing) in str(err.value)


def test_weights_of_another_backbone_are_refused(imagenet, tmp_path):
    other = MODELS.build(dict(BACKBONE, stage_blocks=(1, 1, 2, 1)))
    path = tmp_path / 'other.pth'
    torch.save(other.state_dict(), path)  # bare keys, one block more
    model = build(path)
    inputs, samples, _ = batch()
    with pytest.raises(ValueError, match='does not fit'):
        model.loss(inputs, samples)


def test_no_thing_cell_in_the_batch(imagenet):
    path, _ = imagenet
    model = build(path)
    inputs, samples, _ = batch()
    for sample in samples['source']:
        sample.gt_sem_seg.data[:] = 0  # road only
    losses = model.loss(inputs, samples)
    assert losses['src.loss_imnet_feat_dist'].item() == 0.0
    assert losses['src.imnet_feat_dist_cells'].item() == 0.0


def test_classes_outside_the_head_and_bad_option(imagenet):
    path, _ = imagenet
    with pytest.raises(ValueError, match=r'\[19\]'):
        build(path, classes=(13, 19))
    model = build(path, classes=None)  # every cell
    inputs, samples, _ = batch()
    losses = model.loss(inputs, samples)
    assert losses['src.imnet_feat_dist_cells'].item() == 2 * 8 * 8
