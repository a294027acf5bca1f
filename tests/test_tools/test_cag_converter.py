"""The released CAG-UDA DeepLab-V3+ (written here from its description in
METHODS.md sec. 4 / the issue, in the release's key layout) converted to
mmseg_uda gives identical logits; unknown keys are named."""
import importlib.util
import os.path as osp

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.models.utils import resize
from mmseg.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
W = 8  # released 64
NUM_CLASSES = 5
ASPP_W, SKIP_W = 16, 6  # released 256, 48


def load_tool():
    path = osp.join(REPO, 'tools', 'model_converters', 'cag_deeplabv3plus.py')
    spec = importlib.util.spec_from_file_location('tool_cag', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class RefBottleneck(nn.Module):
    """torchvision style: stride and dilation on the 3x3 conv."""

    def __init__(self, inplanes, planes, stride, dilation, downsample):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, dilation, dilation,
                               bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = downsample

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity)


class RefResNet(nn.Module):
    """Output stride 16, layer4 multi-grid (1, 2, 4) x 2, one block each
    (layer4: three blocks, one per grid entry)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, W, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(W)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.inplanes = W
        self.layer1 = self._layer(W, 1, [1])
        self.layer2 = self._layer(2 * W, 2, [1])
        self.layer3 = self._layer(4 * W, 2, [1])
        self.layer4 = self._layer(8 * W, 1, [2, 4, 8])

    def _layer(self, planes, stride, dilations):
        downsample = None
        if stride != 1 or self.inplanes != planes * 4:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * 4, 1, stride, bias=False),
                nn.BatchNorm2d(planes * 4))
        blocks = [RefBottleneck(self.inplanes, planes, stride, dilations[0],
                                downsample)]
        self.inplanes = planes * 4
        blocks += [RefBottleneck(self.inplanes, planes, 1, d, None)
                   for d in dilations[1:]]
        return nn.Sequential(*blocks)

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        low = self.layer1(x)
        return self.layer4(self.layer3(self.layer2(low))), low


class RefASPPModule(nn.Module):

    def __init__(self, inplanes, kernel, dilation):
        super().__init__()
        self.atrous_conv = nn.Conv2d(inplanes, ASPP_W, kernel, 1,
                                     0 if kernel == 1 else dilation,
                                     dilation, bias=False)
        self.bn = nn.BatchNorm2d(ASPP_W)

    def forward(self, x):
        return F.relu(self.bn(self.atrous_conv(x)))


class RefASPP(nn.Module):

    def __init__(self, inplanes):
        super().__init__()
        self.aspp1 = RefASPPModule(inplanes, 1, 1)
        self.aspp2 = RefASPPModule(inplanes, 3, 6)
        self.aspp3 = RefASPPModule(inplanes, 3, 12)
        self.aspp4 = RefASPPModule(inplanes, 3, 18)
        self.global_avg_pool = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(inplanes, ASPP_W, 1,
                                               bias=False),
            nn.BatchNorm2d(ASPP_W), nn.ReLU())
        self.conv1 = nn.Conv2d(5 * ASPP_W, ASPP_W, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(ASPP_W)
        self.dropout = nn.Dropout(0.5)

    def forward(self, x):
        pooled = F.interpolate(self.global_avg_pool(x), x.shape[2:],
                               mode='bilinear', align_corners=True)
        x = torch.cat([self.aspp1(x), self.aspp2(x), self.aspp3(x),
                       self.aspp4(x), pooled], 1)
        return self.dropout(F.relu(self.bn1(self.conv1(x))))


class RefDecoder(nn.Module):

    def __init__(self, low_inplanes):
        super().__init__()
        self.conv1 = nn.Conv2d(low_inplanes, SKIP_W, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(SKIP_W)
        self.last_conv = nn.Sequential(
            nn.Conv2d(ASPP_W + SKIP_W, ASPP_W, 3, 1, 1, bias=False),
            nn.BatchNorm2d(ASPP_W), nn.ReLU(), nn.Dropout(0.5),
            nn.Conv2d(ASPP_W, ASPP_W, 3, 1, 1, bias=False),
            nn.BatchNorm2d(ASPP_W), nn.ReLU(), nn.Dropout(0.1),
            nn.Conv2d(ASPP_W, NUM_CLASSES, 1))

    def forward(self, x, low):
        low = F.relu(self.bn1(self.conv1(low)))
        x = F.interpolate(x, low.shape[2:], mode='bilinear',
                          align_corners=True)
        return self.last_conv(torch.cat([x, low], 1))


class RefDeepLab(nn.Module):

    def __init__(self):
        super().__init__()
        self.backbone = RefResNet()
        self.aspp = RefASPP(32 * W)
        self.decoder = RefDecoder(4 * W)

    def forward(self, img):
        x, low = self.backbone(img)
        x = self.decoder(self.aspp(x), low)
        return F.interpolate(x, img.shape[2:], mode='bilinear',
                             align_corners=True)


def randomise_bn(module):
    g = torch.Generator().manual_seed(1)
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g))
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + .5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + .5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g))


def our_model():
    init_default_scope('mmseg')
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/_base_/models/deeplabv3plus_r101.py'))
    bn = dict(type='BN', requires_grad=True)
    cfg.model.backbone.update(depth=50, stage_blocks=(1, 1, 1, 3),
                              base_channels=W, stem_channels=W, norm_cfg=bn)
    cfg.model.decode_head.update(in_channels=(4 * W, 32 * W), channels=ASPP_W,
                                 skip_channels=SKIP_W, num_classes=NUM_CLASSES,
                                 norm_cfg=bn)
    return MODELS.build(cfg.model)


def test_converted_release_gives_identical_logits(tmp_path):
    torch.manual_seed(0)
    ref = RefDeepLab()
    randomise_bn(ref)
    ref.eval()
    wrapped = {'iter': 5, 'ResNet101': {'model_state': {
        f'module.{k}': v for k, v in ref.state_dict().items()}}}
    src, dst = tmp_path / 'released.pkl', tmp_path / 'ours.pth'
    torch.save(wrapped, src)
    load_tool().main([str(src), str(dst)])

    model = our_model()
    state = torch.load(dst, weights_only=True)['state_dict']
    result = model.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    model.eval()
    img = torch.randn(2, 3, 70, 90)
    with torch.no_grad():
        expected = ref(img)
        ours = resize(model.decode_head(model.extract_feat(img)),
                      img.shape[2:], mode='bilinear', align_corners=True)
    torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-5)
    # output stride 16 for layer4, 4 for the logits
    feats = model.extract_feat(img)
    assert feats[3].shape[2:] == (5, 6) and feats[0].shape[2:] == (18, 23)


def test_unknown_key_is_named():
    tool = load_tool()
    state = {'backbone.conv1.weight': torch.zeros(1),
             'decoder.extra.weight': torch.zeros(1)}
    with pytest.raises(KeyError, match='decoder.extra.weight'):
        tool.convert_cag_deeplabv3plus(state, 'x.pkl')
    with pytest.raises(KeyError, match='no state dict'):
        tool.find_state_dict({'a': {'b': torch.zeros(1)}}, 'x.pkl')
