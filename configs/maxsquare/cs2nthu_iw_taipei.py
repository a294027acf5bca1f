# MaxSquare + image-wise weighting, Cityscapes -> NTHU Taipei (13 classes):
# configs/maxsquare/cs2nthu_iw_rome.py adapted to and evaluated on Taipei.
# Paper number: see cs2nthu_iw_rome.py (seed 003 Table 6).
_base_ = ['./cs2nthu_iw_rome.py']
city = 'Taipei'
train_dataloader = dict(dataset=dict(target=dict(city=city)))
val_dataloader = dict(dataset=dict(city=city))
test_dataloader = val_dataloader
