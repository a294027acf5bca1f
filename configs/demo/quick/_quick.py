# The lengths of the quick demo (`make demo`, tools/demo.sh quick), in one
# place: the configs of configs/demo/quick/ inherit a configs/demo/ config
# and only shorten it (and start from the quick runs' checkpoints, under
# work_dirs/demo/quick). Only `quick_*` names, so this file can be a second
# base next to a demo config. Sized to about 10 minutes on 2 CPU cores,
# data and tests included (README, "The demo").
quick_work = 'work_dirs/demo/quick'
quick_source_iters = 200
# every run that continues the source-only model (the control included),
# and FADA (from random weights, as its demo)
quick_adaptation_iters = 80
quick_cag_warmup_iters = 60
quick_cag_stage_iters = 30
quick_depth_iters = 30
quick_source_only = (
    f'{quick_work}/source_only/iter_{quick_source_iters}.pth')
quick_cag_warmup = (
    f'{quick_work}/cag_warmup/iter_{quick_cag_warmup_iters}.pth')
