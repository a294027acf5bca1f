# Multi-level DeepLab-V2: a second ASPP-sum classifier ("low" output) on
# layer3, trained with 0.1 x the source CE.
_base_ = './deeplabv2_r101.py'
model = dict(auxiliary_head=_base_.low_head)
