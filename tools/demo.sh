#!/usr/bin/env bash
# The embedded default (`make demo`): generate a small synthetic GTA5-like ->
# Cityscapes-like dataset in the real on-disk formats, convert it with the
# real converters, train source-only, then MaxSquare, MaxSquare+IW, DACS and MIC
# from the source-only checkpoint (the two-step workflow of the real
# configs) plus a control run that only continues source training, test
# each on the target val split, and print the comparison; the table, with
# the commit and the machine, is also written to work_dirs/demo/summary.md.
# A new row: add its configs/demo/NAME.py to RUNS (and, optionally, a label
# to DESCRIPTIONS in tools/demo_summary.py).
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

last_checkpoint() {  # last_checkpoint WORK_DIR: the file its last_checkpoint names
    local name
    name=$(cat "$1/last_checkpoint")
    case $name in
        /*) echo "$name" ;;
        *) echo "$1/$name" ;;  # relative to the work dir (SafeCheckpointHook)
    esac
}

run() {  # run NAME: train configs/demo/NAME.py on 1 process, then test it
    local name=$1
    echo "=== demo: training $name ==="
    tools/dist_train.sh "configs/demo/$name.py" 1 --work-dir "$WORK/$name"
    local ckpt
    ckpt=$(last_checkpoint "$WORK/$name")
    echo "=== demo: testing $name ($ckpt) ==="
    python tools/test.py "configs/demo/$name.py" "$ckpt" \
        --work-dir "$WORK/$name" --save-metrics "$WORK/$name/test_metrics.json"
}

RUNS=${DEMO_RUNS:-source_only source_only_more_iters maxsquare maxsquare_iw dacs mic cag_warmup cag_stage1}
for name in $RUNS; do
    run "$name"
done
python tools/demo_summary.py "$WORK" $RUNS --out "$WORK/summary.md"

# The depth method's chain (README, "Depth distribution") on a SYNTHIA-like
# source with depth maps, 7 classes: GMM fit, adaptation, spatial-prior
# pseudo-labels, self-training, test. DEMO_DEPTH=0 skips it.
if [ "${DEMO_DEPTH:-1}" = 1 ]; then
    if [ ! -d "$DATA/synthia/RGB" ]; then
        python tools/generate_demo_data.py "$DATA" --num-source 0 \
            --num-target 0 --num-val 0 --num-synthia 60
    fi
    python tools/dataset_converters/synthia.py "$DATA/synthia" --nproc "$NPROC"
    python tools/fit_depth_gmm.py "$DATA/synthia" --num-classes 7 \
        --grid-size 41 25 --out "$DATA/synthia/gmm_7_41x25.json"
    run depth
    python tools/generate_pseudo_labels.py configs/demo/depth.py \
        "$(last_checkpoint "$WORK/depth")" \
        --out "$DATA/cityscapes/pseudo_labels/depth_demo"
    run depth_self_training
    python tools/demo_summary.py "$WORK" depth depth_self_training \
        --out "$WORK/summary_depth.md"
fi
