# Rare-class sampling (DAFormer, METHODS.md 7.3) for a 512x512 UDA dataset
# base (uda_{gta5,synthia}_to_cityscapes_512x512.py). Only variables: list
# this file in `_base_` and apply them to the loader, e.g.
#   train_dataloader = dict(
#       sampler=_base_.rcs_sampler, dataset=_base_.rare_class_sampling)
# (the dataset keeps its source and target). Sample k is drawn from
# (randomness.seed, k): class c ~ softmax((1 - f_c) / 0.01), an image with
# > 3000 pixels of c (class_stats.json, format version 2, written by the
# source's converter), the source pipeline re-run while the crop has
# <= 0.5 * 3000 pixels of c (at most 10 times), the target drawn uniformly
# and independently. HRDA's 1024 crops use min_crop_ratio=2.0 (6,000).
rare_class_sampling = dict(
    type='RareClassSampledUDADataset',
    class_temperature=0.01,
    min_pixels=3000,
    min_crop_ratio=0.5)
# Never-repeating indices 0, 1, 2, ... (rank r of W: r, r + W, ...); it
# hands the run's seed to the dataset.
rcs_sampler = dict(type='InfiniteIndexSampler')
