# FADA, Cityscapes -> NTHU cross-city, Tokyo, 13 classes: configs/fada/
# cs2nthu_rome.py with the Tokyo training (target) and test (evaluation)
# images.
# Paper number: not in METHODS.md or the seed slides (see cs2nthu_rome.py).
_base_ = ['./cs2nthu_rome.py']
city = 'Tokyo'
train_dataloader = dict(dataset=dict(target=dict(city=city)))
val_dataloader = dict(dataset=dict(city=city))
test_dataloader = val_dataloader
