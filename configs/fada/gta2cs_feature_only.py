# Feature-level adversarial baseline of the FADA paper ("Baseline (feat.
# only)"), GTA5 -> Cityscapes (19 classes), ResNet-101: 39.3 mIoU in the
# paper (seed 002) Table 3, against 49.2 for FADA.
# configs/fada/gta2cs.py with a binary domain discriminator: the same
# network with one output (FeatureDiscriminator), per-pixel binary
# cross-entropy with source d = 0 and target d = 1;
#   loss_adv  = 0.001 * BCE(D(f_t), 0)          with D frozen;
#   loss_disc = 0.5 * BCE(D(f_s.detach()), 0) + 0.5 * BCE(D(f_t.detach()), 1).
# Choices (METHODS.md only says "binary domain D, same network with one
# output"): FADA's weights 0.001 / 0.5, D's output upsampled to the image
# size as FADA's, and no temperature (T scales FADA's soft labels, which
# the binary baseline does not have, so the source CE is the plain one).
_base_ = ['./gta2cs.py']
model = dict(
    logit_temperature=1.0,
    uda_terms=[
        dict(
            type='FineGrainedAdversarial',
            discriminator=dict(type='FeatureDiscriminator', in_channels=2048),
            class_aware=False,
            adv_weight=0.001,
            disc_weight=0.5)
    ])
