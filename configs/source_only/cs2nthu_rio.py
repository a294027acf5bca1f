# Source-only baseline, Cityscapes -> NTHU Rio (13 classes): the Rome config
# evaluated on Rio. Paper number: see configs/source_only/cs2nthu_rome.py.
_base_ = ['./cs2nthu_rome.py']
city = 'Rio'
val_dataloader = dict(dataset=dict(city=city))
test_dataloader = val_dataloader
