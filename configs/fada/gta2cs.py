# FADA: fine-grained adversarial alignment, GTA5 -> Cityscapes (19 classes),
# DeepLab-V2 ResNet-101 (torchvision-style, frozen BN; METHODS.md section 3).
# Paper (seed 002) Table 3, ResNet-101: source only 36.8, feature-level
# baseline 39.3, FADA 49.2 mIoU, FADA + self-distillation 50.1 (the second
# stage: configs/fada/gta2cs_self_distill.py; workflow in the README, "FADA").
#
# One iteration (batch 1 source + 1 target per GPU; the original ran 4 GPUs,
# i.e. `tools/dist_train.sh configs/fada/gta2cs.py 4`):
#   logits of both domains divided by T = 1.8 (also for the source CE);
#   a_s, a_t = softmax, detached, entries above 0.9 set to 0.9;
#   loss_adv  = 0.001 * SCE(D(f_t), [a_t, 0])   with D frozen;
#   loss_disc = 0.5 * SCE(D(f_s.detach()), [a_s, 0])
#             + 0.5 * SCE(D(f_t.detach()), [0, a_t]);
#   one backward pass, then the SGD (segmentation) and Adam (D) steps.
# Soft labels and D's output are both at the image size (logits and D
# output upsampled bilinearly, align_corners=True), as in the reference.
# Augmentation: source colour jitter (brightness/contrast/saturation 0.5,
# hue 0.2, torchvision semantics) then resize to 1280x720; target resize to
# 1024x512; no flip, no blur. Images are resized with Pillow bicubic
# (antialiased), labels nearest, as the release (dataset base; `cv2_resize`
# is the faster option). Evaluation: Cityscapes val at 1024x512 input,
# labels at full resolution. The source is all 24,966 GTA5 frames (no split).
# Source images are drawn class-balanced as the release's sampler does
# (ClassBalancedSampler, protocol 'release': shares count_c / sum of counts,
# counts reset every 3,000 draws, per-class lists walked in stored order,
# then reshuffled; it reads the converter's class_stats.json).
# Initialisation: the FADA source-only model (configs/fada/
# gta2cs_source_only.py), as in the authors' workflow (README, "FADA").
_base_ = [
    '../_base_/models/deeplabv2_r101_fada.py',
    '../_base_/datasets/gta5_to_cityscapes.py',
    '../_base_/schedules/fada.py',
    '../_base_/default_runtime.py',
]
num_classes = 19
temperature = 1.8
model = dict(
    logit_temperature=temperature,
    decode_head=dict(num_classes=num_classes),
    uda_terms=[
        dict(
            _base_.fada_term,
            discriminator=dict(
                _base_.fada_term.discriminator, num_classes=num_classes))
    ])

# MaxSquare's flip and blur (in the dataset base) are not used by FADA.
maxsquare_augmentations = ('RandomFlip', 'RandomGaussianBlur')
color_jitter = dict(
    type='ColorJitter', brightness=0.5, contrast=0.5, saturation=0.5, hue=0.2)
fada_source_pipeline = [
    step for t in _base_.source_pipeline
    if t.type not in maxsquare_augmentations
    for step in ([color_jitter, t] if t.type == 'Resize' else [t])
]
fada_target_pipeline = [
    t for t in _base_.target_pipeline if t.type not in maxsquare_augmentations
]
train_dataloader = dict(
    sampler=dict(type='ClassBalancedSampler'),
    dataset=dict(
        source=dict(pipeline=fada_source_pipeline),
        target=dict(pipeline=fada_target_pipeline)))
load_from = 'work_dirs/fada/gta2cs_source_only/iter_20000.pth'
