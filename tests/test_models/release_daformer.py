"""DAFormer's network in plain PyTorch, written from METHODS.md sec. 7.2, in
the released checkpoints' module layout (SegFormer's MiT names, the
release's DAFormerHead names): the independent reference of the head,
backbone and converter tests (small widths there).

MiT: overlapping patch embeddings (conv k, stride s, padding k // 2, then
LayerNorm eps 1e-5), pre-norm blocks (LayerNorm eps 1e-6; attention with
separate q and kv linears, keys/values from an SR conv k = s = ratio and a
LayerNorm eps 1e-5 where ratio > 1; MLP fc1 -> 3x3 depth-wise conv -> GELU
-> fc2), a LayerNorm eps 1e-6 after each stage; outputs at strides
4/8/16/32. Head: per-level linear embedding, bilinear resize to stride 4
(align_corners False), concatenation, a fusion (ASPP without pooling,
separable or not; or a 1x1 conv), Dropout2d, 1x1 classifier.
"""
from typing import List, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

BN_PARTS = ('weight', 'bias', 'running_mean', 'running_var')


class PatchEmbed(nn.Module):

    def __init__(self, cin, dim, k, s):
        super().__init__()
        self.proj = nn.Conv2d(cin, dim, k, s, k // 2)
        self.norm = nn.LayerNorm(dim, eps=1e-5)

    def forward(self, x):
        x = self.proj(x)
        h, w = x.shape[2:]
        return self.norm(x.flatten(2).transpose(1, 2)), h, w


class Attention(nn.Module):

    def __init__(self, dim, heads, ratio):
        super().__init__()
        self.heads, self.ratio = heads, ratio
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)
        if ratio > 1:
            self.sr = nn.Conv2d(dim, dim, ratio, ratio)
            self.norm = nn.LayerNorm(dim, eps=1e-5)

    def forward(self, x, h, w):
        b, n, c = x.shape
        d = c // self.heads
        q = self.q(x).reshape(b, n, self.heads, d).transpose(1, 2)
        if self.ratio > 1:
            x = x.transpose(1, 2).reshape(b, c, h, w)
            x = self.norm(self.sr(x).flatten(2).transpose(1, 2))
        kv = self.kv(x).reshape(b, -1, 2, self.heads, d).permute(2, 0, 3, 1, 4)
        attn = (q @ kv[0].transpose(-2, -1)) * d**-0.5
        out = (attn.softmax(-1) @ kv[1]).transpose(1, 2).reshape(b, n, c)
        return self.proj(out)


class DWConv(nn.Module):

    def __init__(self, dim):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 3, 1, 1, groups=dim)

    def forward(self, x, h, w):
        b, n, c = x.shape
        x = self.dwconv(x.transpose(1, 2).reshape(b, c, h, w))
        return x.flatten(2).transpose(1, 2)


class Mlp(nn.Module):

    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.dwconv = DWConv(hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x, h, w):
        return self.fc2(F.gelu(self.dwconv(self.fc1(x), h, w)))


class Block(nn.Module):

    def __init__(self, dim, heads, ratio, mlp_ratio=4):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads, ratio)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, mlp_ratio * dim)

    def forward(self, x, h, w):
        x = x + self.attn(self.norm1(x), h, w)
        return x + self.mlp(self.norm2(x), h, w)


class MiT(nn.Module):
    """Eval-mode MiT (DropPath is the identity in eval mode)."""

    def __init__(self, dims, depths, heads, ratios=(8, 4, 2, 1)):
        super().__init__()
        cin = 3
        for i, (dim, k, s) in enumerate(zip(dims, (7, 3, 3, 3),
                                            (4, 2, 2, 2)), 1):
            setattr(self, f'patch_embed{i}', PatchEmbed(cin, dim, k, s))
            cin = dim
        for i, dim in enumerate(dims, 1):
            setattr(self, f'block{i}', nn.ModuleList(
                Block(dim, heads[i - 1], ratios[i - 1])
                for _ in range(depths[i - 1])))
            setattr(self, f'norm{i}', nn.LayerNorm(dim, eps=1e-6))

    def forward(self, x):
        outs = []
        for i in range(1, 5):
            x, h, w = getattr(self, f'patch_embed{i}')(x)
            for block in getattr(self, f'block{i}'):
                x = block(x, h, w)
            x = getattr(self, f'norm{i}')(x)
            x = x.transpose(1, 2).reshape(x.shape[0], -1, h, w)
            outs.append(x)
        return outs


class ConvBNReLU(nn.Module):

    def __init__(self, cin, cout, k, dilation=1, groups=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, padding=dilation * (k // 2),
                              dilation=dilation, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class SeparableConv(nn.Module):

    def __init__(self, cin, cout, dilation):
        super().__init__()
        self.depthwise_conv = ConvBNReLU(cin, cin, 3, dilation, groups=cin)
        self.pointwise_conv = ConvBNReLU(cin, cout, 1)

    def forward(self, x):
        return self.pointwise_conv(self.depthwise_conv(x))


class ASPP(nn.Module):
    """No image pooling; concat of the branches; 3x3 bottleneck."""

    def __init__(self, cin, cout, separable, dilations=(1, 6, 12, 18)):
        super().__init__()
        self.aspp_modules = nn.ModuleList(
            ConvBNReLU(cin, cout, 1) if d == 1 else (
                SeparableConv(cin, cout, d) if separable else ConvBNReLU(
                    cin, cout, 3, d)) for d in dilations)
        self.bottleneck = ConvBNReLU(len(dilations) * cout, cout, 3)

    def forward(self, x):
        return self.bottleneck(torch.cat([m(x) for m in self.aspp_modules],
                                         1))


class Embed(nn.Module):

    def __init__(self, cin, dim):
        super().__init__()
        self.proj = nn.Linear(cin, dim)

    def forward(self, x):
        b, _, h, w = x.shape
        x = self.proj(x.flatten(2).transpose(1, 2))
        return x.transpose(1, 2).reshape(b, -1, h, w)


class Head(nn.Module):
    """conv_seg first, as BaseDecodeHead registers it."""

    def __init__(self, in_channels: Sequence[int], embed: int, channels: int,
                 num_classes: int, fusion: str = 'sepaspp'):
        super().__init__()
        self.fusion = fusion
        self.conv_seg = nn.Conv2d(channels, num_classes, 1)
        layers: List[nn.Module] = [Embed(c, embed) for c in in_channels]
        if fusion == 'sepaspp_bottleneck':
            layers[-1] = nn.Sequential(
                nn.Conv2d(in_channels[-1], embed, 1),
                ASPP(embed, embed, separable=True))
        self.embed_layers = nn.ModuleList(layers)
        cin = embed * len(in_channels)
        self.fuse_layer = (
            ASPP(cin, channels, separable=fusion == 'sepaspp')
            if fusion in ('sepaspp', 'aspp') else ConvBNReLU(
                cin, channels, 1))

    def forward(self, feats):
        feats = list(feats)
        if self.fusion == 'sepaspp_bottleneck':  # the release's x8 neck
            feats[-1] = F.interpolate(feats[-1], scale_factor=8,
                                      mode='bilinear', align_corners=False)
        size = feats[0].shape[2:]
        xs = []
        for feat, embed in zip(feats, self.embed_layers):
            x = embed(feat)
            if x.shape[2:] != size:
                x = F.interpolate(x, size, mode='bilinear',
                                  align_corners=False)
            xs.append(x)
        return self.conv_seg(self.fuse_layer(torch.cat(xs, 1)))


class Segmentor(nn.Module):

    def __init__(self, backbone: MiT, decode_head: Head):
        super().__init__()
        self.backbone = backbone
        self.decode_head = decode_head

    def forward(self, x):
        return self.decode_head(self.backbone(x))


def randomise(module: nn.Module, seed: int = 0) -> nn.Module:
    """Every parameter and BN statistic random (and non-trivial)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if not tensor.is_floating_point():
                continue
            if name.endswith('running_var'):
                tensor.copy_(torch.rand(tensor.shape, generator=g) + 0.5)
            elif name.endswith(('norm.weight', 'bn.weight')) or (
                    'norm' in name.rsplit('.', 2)[-2]
                    and name.endswith('weight')):
                tensor.copy_(1 + 0.2 * torch.randn(tensor.shape, generator=g))
            else:
                tensor.copy_(0.2 * torch.randn(tensor.shape, generator=g))
    return module
