"""tools/model_converters/daformer_release.py: a DAFormer network written
here in the release's layout (tests/test_models/release_daformer.py, from
METHODS.md sec. 7.2; tiny widths), saved as the release's UDA checkpoint
(student, EMA teacher, ImageNet model), converted, gives identical logits
in mmseg_uda's network built from configs/_base_/models/daformer_mitb5.py
(every variant; the student or the teacher; images whose tiny variance
makes the LayerNorm eps count); the output carries the integrity record;
other variants and unknown keys are refused naming the file and key."""
import importlib.util
import os.path as osp
import re
from collections import OrderedDict

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import mmseg_uda  # noqa: F401
from mmseg_uda.utils.checkpoint_safety import safe_torch_load

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DIMS, DEPTHS, HEADS = (8, 16, 24, 32), (1, 2, 1, 1), (1, 2, 3, 4)
EMBED, CHANNELS, NUM_CLASSES = 12, 10, 5


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = load('tool_daformer_release',
            osp.join(REPO, 'tools', 'model_converters', 'daformer_release.py'))
ref = load('release_daformer',
           osp.join(REPO, 'tests', 'test_models', 'release_daformer.py'))


@pytest.fixture(autouse=True)
def mmseg_scope():
    init_default_scope('mmseg')


def release_network(fusion='sepaspp', seed=0):
    net = ref.Segmentor(
        ref.MiT(DIMS, DEPTHS, HEADS),
        ref.Head(DIMS, EMBED, CHANNELS, NUM_CLASSES, fusion))
    return ref.randomise(net, seed).eval()


def our_network(fusion='sepaspp'):
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/_base_/models/daformer_mitb5.py'))
    cfg.model.backbone.update(
        embed_dims=DIMS[0], num_layers=list(DEPTHS),
        num_heads=[d // DIMS[0] for d in DIMS])
    cfg.model.decode_head.update(
        in_channels=list(DIMS), channels=CHANNELS, embed_dims=EMBED,
        num_classes=NUM_CLASSES, fusion=fusion)
    return MODELS.build(cfg.model).eval()


def release_checkpoint(path, fusion='sepaspp', prefixes=True,
                       patch_bias=True):
    """The release's saved UDA model: student, teacher, ImageNet model."""
    student, teacher = release_network(fusion, 0), release_network(fusion, 1)
    if not patch_bias:  # the first embedding's variance is the input's
        student.backbone.patch_embed1.proj.bias.data.zero_()
    imnet = release_network(fusion, 2)
    if prefixes:
        state = OrderedDict()
        for prefix, net in (('model.', student), ('ema_model.', teacher),
                            ('imnet_model.', imnet)):
            state.update((prefix + k, v) for k, v in net.state_dict().items())
    else:
        state = student.state_dict()
    torch.save(dict(meta=dict(iter=40000), state_dict=state), path)
    return student, teacher


def convert(tmp_path, src, *args):
    dst = str(tmp_path / 'converted.pth')
    tool.main([str(src), dst, *args])
    return dst


def load_converted(dst, fusion='sepaspp'):
    checkpoint = safe_torch_load(dst, map_location='cpu')
    net = our_network(fusion)
    net.load_state_dict(checkpoint['state_dict'], strict=True)
    return net, checkpoint


def images(scale=1.0):
    g = torch.Generator().manual_seed(3)
    return scale * torch.randn(2, 3, 64, 96, generator=g)


def logits(net, x):
    with torch.no_grad():
        if hasattr(net, 'encode_decode'):  # ours: logits at head size
            return net.decode_head(net.extract_feat(x))
        return net(x)


@pytest.mark.parametrize('fusion',
                         ['sepaspp', 'aspp', 'conv1', 'sepaspp_bottleneck'])
def test_converted_release_gives_identical_logits(tmp_path, fusion):
    src = tmp_path / 'latest.pth'
    student, _ = release_checkpoint(src, fusion)
    dst = convert(tmp_path, src, '--variant', fusion)
    ours, checkpoint = load_converted(dst, fusion)
    x = images()
    out = logits(ours, x)
    assert out.shape == (2, NUM_CLASSES, 16, 24)
    torch.testing.assert_close(out, logits(student, x), rtol=1e-4,
                               atol=1e-5)
    meta = checkpoint['meta']
    assert meta['converter'] == 'daformer_release'
    assert meta['source'] == 'latest.pth'
    assert any('ema_model.*' in d for d in meta['dropped'])
    assert any('imnet_model.*' in d for d in meta['dropped'])


def test_the_eps_quirk_survives_conversion(tmp_path):
    """Images of tiny variance: the release's eps 1e-5 in the patch
    embeddings matters; ours matches, and would not with 1e-6 there."""
    src = tmp_path / 'latest.pth'
    student, _ = release_checkpoint(src, patch_bias=False)
    ours, _ = load_converted(convert(tmp_path, src))
    x = images(scale=1e-3)
    want = logits(student, x)
    torch.testing.assert_close(logits(ours, x), want, rtol=1e-4, atol=1e-5)
    for name, module in ours.backbone.named_modules():
        if re.fullmatch(r'layers\.\d\.0\.norm', name):
            module.eps = 1e-6
    assert not torch.allclose(logits(ours, x), want, rtol=1e-4, atol=1e-3)


def test_teacher_and_plain_segmentor_files(tmp_path):
    src = tmp_path / 'latest.pth'
    student, teacher = release_checkpoint(src)
    ours, checkpoint = load_converted(convert(tmp_path, src, '--teacher'))
    x = images()
    torch.testing.assert_close(logits(ours, x), logits(teacher, x),
                               rtol=1e-4, atol=1e-5)
    assert any('model.* (' in d for d in checkpoint['meta']['dropped'])
    plain = tmp_path / 'source_only.pth'
    student, _ = release_checkpoint(plain, prefixes=False)
    ours, checkpoint = load_converted(convert(tmp_path, plain))
    torch.testing.assert_close(logits(ours, x), logits(student, x),
                               rtol=1e-4, atol=1e-5)
    assert checkpoint['meta']['dropped'] == []


def write(path, state):
    torch.save(dict(state_dict=state), path)
    return path


def student_state(fusion='sepaspp'):
    return OrderedDict(
        ('model.' + k, v)
        for k, v in release_network(fusion).state_dict().items())


def test_other_variants_and_unknown_keys_are_named(tmp_path):
    # the wrong decoder for --variant
    src = write(tmp_path / 'conv1.pth', student_state('conv1'))
    with pytest.raises(ValueError, match=r"conv1\.pth: its decoder is the "
                       r"'conv1' variant.*--variant conv1"):
        convert(tmp_path, src)
    # HRDA / MIC(HRDA)
    state = student_state()
    state['model.decode_head.scale_attention.conv_seg.weight'] = torch.zeros(
        1)
    with pytest.raises(ValueError, match=r"hrda\.pth: key 'decode_head\."
                       r"scale_attention.conv_seg.weight' shows an HRDA"):
        convert(tmp_path, write(tmp_path / 'hrda.pth', state))
    # DAFormer's DeepLab-V2 (ResNet backbone)
    state = OrderedDict(
        (k, v) for k, v in student_state().items() if '.backbone.' not in k)
    state['model.backbone.stem.0.weight'] = torch.zeros(1)
    with pytest.raises(ValueError, match=r"dlv2\.pth: key 'backbone\.stem"
                       r"\.0\.weight' shows a ResNet-backbone"):
        convert(tmp_path, write(tmp_path / 'dlv2.pth', state))
    # a checkpoint already in MMSeg's layout
    state = student_state()
    state['model.backbone.layers.0.0.projection.weight'] = torch.zeros(1)
    with pytest.raises(KeyError, match=r"mmseg\.pth: unknown key 'backbone"
                       r"\.layers\.0\.0\.projection\.weight' of the student"):
        convert(tmp_path, write(tmp_path / 'mmseg.pth', state))
    # a foreign top-level network
    state = student_state()
    state['discriminator.conv.weight'] = torch.zeros(1)
    with pytest.raises(KeyError, match=r"odd\.pth: unknown key "
                       r"'discriminator\.conv\.weight'"):
        convert(tmp_path, write(tmp_path / 'odd.pth', state))
    # no teacher in the file
    with pytest.raises(KeyError, match=r'student\.pth: no teacher'):
        convert(tmp_path, write(tmp_path / 'student.pth', student_state()),
                '--teacher')
    assert not osp.exists(tmp_path / 'converted.pth')
