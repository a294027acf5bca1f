#!/usr/bin/env bash
# The embedded default (`make demo`): generate a small synthetic GTA5-like ->
# Cityscapes-like dataset in the real on-disk formats, convert it with the
# real converters, train source-only, then MaxSquare and MaxSquare+IW from the
# source-only checkpoint (the two-step workflow of the real configs) plus a
# control run that only continues source training, test
# each on the target val split, and print the comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=data/demo
WORK=work_dirs/demo
NPROC=${NPROC:-2}

if [ ! -d "$DATA/gta5/images" ]; then
    python tools/generate_demo_data.py "$DATA"
fi
python tools/dataset_converters/gta5.py "$DATA/gta5" --nproc "$NPROC"
python tools/dataset_converters/cityscapes.py "$DATA/cityscapes" --nproc "$NPROC"

run() {  # run NAME: train configs/demo/NAME.py on 1 process, then test it
    local name=$1
    echo "=== demo: training $name ==="
    tools/dist_train.sh "configs/demo/$name.py" 1 --work-dir "$WORK/$name"
    local ckpt
    ckpt=$(cat "$WORK/$name/last_checkpoint")
    echo "=== demo: testing $name ($ckpt) ==="
    python tools/test.py "configs/demo/$name.py" "$ckpt" \
        --work-dir "$WORK/$name" --save-metrics "$WORK/$name/test_metrics.json"
}

RUNS=${DEMO_RUNS:-source_only source_only_more_iters maxsquare maxsquare_iw cag_warmup cag_stage1}
for name in $RUNS; do
    run "$name"
done
python tools/demo_summary.py "$WORK" $RUNS
