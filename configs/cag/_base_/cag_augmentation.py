# CAG-UDA's resizing and training augmentation as released (METHODS.md
# sections 6.1 and 6.4), shared by the task data bases: every resize (base
# size, random scale, test) is Pillow's, bilinear for images and nearest for
# labels (`cag_resize`). The random scale draws the width
# w = int(U(0.5, 1.5) x 2200) and truncates the height int(w / aspect), the
# aspect W / H of the base-size image (RandomWidthResize), then a random crop
# 896x512 (W x H) and a horizontal flip p = 0.5.
# Option `mmcv_random_resize`: the previous path, mmcv's RandomResize (cv2
# bilinear / cv2 nearest, the height rounded), with the dataset base's
# `cv2_resize` for the fixed-size resizes:
#   [mmcv_random_resize if t.type == 'RandomWidthResize' else
#    dict(t, **cv2_resize) if t.type == 'Resize' else t for t in pipeline]
cag_resize = dict(backend='pillow', interpolation='bilinear')
crop_size = (512, 896)  # (H, W), mmseg's order
cag_augmentation = [
    dict(
        type='RandomWidthResize',
        width=2200,
        ratio_range=(0.5, 1.5),
        **cag_resize),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
mmcv_random_resize = dict(
    type='RandomResize',
    scale=(2200, 2200),
    ratio_range=(0.5, 1.5),
    keep_ratio=True)
