# Control run of the demo: the MaxSquare demo with its target term removed,
# i.e. the same 300 further iterations of source training from the same
# source-only checkpoint. Comparing it with maxsquare/maxsquare_iw separates
# the effect of the target loss from that of simply training longer.
_base_ = ['./maxsquare.py']
model = dict(uda_terms=[])
