# FADA self-distillation (second stage), GTA5 -> Cityscapes (19 classes).
# Paper (seed 002) Table 3, ResNet-101: FADA 49.2 mIoU after adversarial
# alignment (configs/fada/gta2cs.py), 50.1 with this self-distillation
# stage ("FADA-MST").
#
# A fresh ImageNet-initialised FADA network is trained with the plain CE on
# Cityscapes train and the hard argmax pseudo-labels of the adapted model
# (no threshold; input 1024x512, logits upsampled to 2048x1024), written by
#   python tools/generate_pseudo_labels.py configs/fada/gta2cs.py \
#       work_dirs/fada/gta2cs/iter_40000.pth \
#       --out data/cityscapes/pseudo_labels/fada_gta2cs
# Augmentation (METHODS.md section 3): colour jitter (as the adaptation's
# source), random scale 0.5-1.5 of the 2048x1024 image, random 512x1024
# crop, horizontal flip; resizing with Pillow bicubic for images and nearest
# for labels, as the adaptation stage. SGD lr 5e-4 (classifier 10x),
# momentum 0.9, wd 5e-4, stopped at 20k iterations. Evaluation at 2048x1024
# input, labels at full resolution. Workflow and commands: README, "FADA".
# Assumptions (not given by METHODS.md): the poly horizon is the adaptation's
# 62.5k iterations (20k is where training stops); batch 1 per GPU on 4 GPUs
# as in the adaptation stage.
_base_ = ['./gta2cs_source_only.py']
# Below the Cityscapes root (data_root); tools/generate_pseudo_labels.py
# mirrors leftImg8bit/train/<city>/ there.
pseudo_label_dir = 'pseudo_labels/fada_gta2cs'
pseudo_label_suffix = '_pseudoTrainIds.png'
full_scale = (2048, 1024)  # (w, h)
self_distill_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations'),
    dict(type='CheckSegMapSize'),
    _base_.color_jitter,
    dict(
        type='RandomResize',
        scale=full_scale,
        ratio_range=(0.5, 1.5),
        keep_ratio=True,
        **_base_.pil_resize),
    dict(type='RandomCrop', crop_size=(512, 1024)),  # (h, w)
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
# Sampled uniformly (shuffled): the class-balanced sampling of the
# adaptation and source-only stages draws GTA5 images from the converter's
# class statistics; this stage reads Cityscapes pseudo-labels (assumption:
# METHODS.md names no sampler for it).
train_dataloader = dict(
    sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='CityscapesUDADataset',
        data_root=_base_.target_root,
        data_prefix=dict(
            img_path='leftImg8bit/train', seg_map_path=pseudo_label_dir),
        seg_map_suffix=pseudo_label_suffix,
        pipeline=self_distill_pipeline))
full_resolution_test_pipeline = [
    dict(t, scale=full_scale) if t.type == 'Resize' else t
    for t in _base_.test_pipeline
]
val_dataloader = dict(dataset=dict(pipeline=full_resolution_test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=5e-4))
train_cfg = dict(max_iters=20000)
