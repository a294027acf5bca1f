"""MMSeg's Mix Transformer with the LayerNorm epsilons of SegFormer's and
DAFormer's released MiT."""
from mmseg.models.backbones import MixVisionTransformer
from mmseg.registry import MODELS

from ...utils.weight_matching import IncompatibleCheckpointError

#: The MMSeg converter of SegFormer-layout MiT checkpoints (shipped in the
#: mmsegmentation package under ``mmseg/.mim/tools/model_converters``).
MIT_CONVERTER = 'tools/model_converters/mit2mmseg.py'


@MODELS.register_module()
class ReleaseMixVisionTransformer(MixVisionTransformer):
    """MMSeg's :class:`~mmseg.models.backbones.MixVisionTransformer` with
    the released MiT's LayerNorm epsilons (METHODS.md sec. 7.2, 7.9 #12).

    SegFormer's MiT (which DAFormer, HRDA and MIC ship) builds its block and
    stage-end norms with ``eps=1e-6`` but its overlapping patch-embedding
    norms and the spatial-reduction norms of the attention with PyTorch's
    default ``eps=1e-5``; MMSeg's port uses its ``norm_cfg`` (``eps=1e-6``)
    for all of them. This class builds MMSeg's network unchanged and sets
    the eps of those two kinds of norm, so MMSeg's weights, converter and
    state-dict keys apply as they are:

    - ``layers.i.0.norm`` (the patch embedding of stage i):
      ``patch_embed_norm_eps``;
    - ``layers.i.1.j.attn.norm`` (the norm after the spatial-reduction conv,
      present where ``sr_ratios[i] > 1``): ``sr_norm_eps``;
    - ``layers.i.1.j.norm1/norm2`` and the stage-end ``layers.i.2``: the
      eps of ``norm_cfg`` (1e-6).

    A pretrained checkpoint (``init_cfg=dict(type='Pretrained', ...)`` or
    the segmentor's ``pretrained``) must be in MMSeg's layout; a
    SegFormer-layout file (``patch_embed1.*``, ``block1.*``) is refused
    naming the file, with the converter command.

    Args:
        patch_embed_norm_eps (float): Eps of the patch-embedding norms.
            Defaults to 1e-5 (the release).
        sr_norm_eps (float): Eps of the spatial-reduction norms. Defaults
            to 1e-5 (the release).
        **kwargs: Arguments of MMSeg's ``MixVisionTransformer``
            (``embed_dims``, ``num_layers``, ``num_heads``,
            ``drop_path_rate``, ``norm_cfg``, ...).
    """

    def __init__(self,
                 patch_embed_norm_eps: float = 1e-5,
                 sr_norm_eps: float = 1e-5,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.patch_embed_norm_eps = patch_embed_norm_eps
        self.sr_norm_eps = sr_norm_eps
        for patch_embed, blocks, _ in self.layers:
            patch_embed.norm.eps = patch_embed_norm_eps
            for block in blocks:
                if block.attn.sr_ratio > 1:
                    block.attn.norm.eps = sr_norm_eps

    def init_weights(self) -> None:
        """MMSeg's initialisation or pretrained load; a checkpoint of
        another layout is refused with the conversion command."""
        try:
            super().init_weights()
        except IncompatibleCheckpointError as err:
            raise IncompatibleCheckpointError(
                f'{err} A SegFormer/DAFormer-layout MiT checkpoint (keys '
                'patch_embed1.*, block1.*, norm1.*, e.g. SegFormer\'s '
                'ImageNet mit_b5.pth) is converted by MMSeg\'s '
                f'{MIT_CONVERTER} (python "$(python -c "import mmseg, os; '
                'print(os.path.dirname(mmseg.__file__))")/.mim/'
                f'{MIT_CONVERTER}" SRC DST); a '
                'released DAFormer checkpoint by '
                'tools/model_converters/daformer_release.py.') from err
