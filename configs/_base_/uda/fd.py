# Thing-class ImageNet feature distance (DAFormer, METHODS.md 7.4), a term
# of model.uda_terms. Only a variable: list this file in `_base_` and add
#   dict(_base_.imnet_feature_distance, pretrained=<ImageNet weights>)
# to model.uda_terms. `pretrained` is the backbone's ImageNet checkpoint
# (keys `backbone.*` or bare), read at iteration 0 into a frozen copy of
# the backbone (in the checkpoint, never trained); without it the build
# fails naming the key. L2 distance between the student's and the copy's
# last backbone stage on the source crops, over the cells whose pooled
# label (share >= 0.75) is a thing class, weight 0.005; 0 when no cell is
# used. classes=None is the release's all-cells ablation.
imnet_feature_distance = dict(
    type='ImageNetFeatureDistance',
    pretrained=None,
    loss_weight=0.005,
    classes=(6, 7, 11, 12, 13, 14, 15, 16, 17, 18),
    min_ratio=0.75)
