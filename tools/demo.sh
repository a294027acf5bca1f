#!/usr/bin/env bash
# Usage: tools/demo.sh [quick|full]   (`make demo`: quick, `make demo-full`)
#
# Generate a small synthetic GTA5-like -> Cityscapes-like dataset in the
# real on-disk formats, convert it with the real converters, and train and
# test one run of every method family on it: source-only, then a control
# run that only continues source training, MaxSquare and DACS from the
# source-only checkpoint for as many iterations as the control (the
# two-step workflow of the real configs), FADA, the CAG-UDA chain (warm-up,
# stage 1) and, on a SYNTHIA-like source with depth maps, the depth method
# (GMM fit, adaptation). Each test run also draws `image | prediction |
# label` pictures of a few val images (tools/test.py --show-dir). The
# summary tables (each row's gap to the control, the commit and the
# machine) are printed and written to WORK/summary.md and
# WORK/summary_depth.md, with a picture comparing the runs on one val
# image beside each.
#
# quick: configs/demo/quick/ (the demo configs, shortened: about 10 min on
#        2 CPU cores), into work_dirs/demo/quick.
# full:  configs/demo/ (longer runs, plus MaxSquare+IW, MIC on DACS,
#        DAFormer (a tiny MiT from random weights) and the depth
#        method's pseudo-labels and self-training), into
#        work_dirs/demo/full.
# Both read the same data, data/demo (generated once). DEMO_RUNS replaces
# the 19-class runs, DEMO_DEPTH=0 skips the depth chain. A new row: add its
# configs/demo/NAME.py (and configs/demo/quick/NAME.py) to RUNS below.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-quick}
DATA=data/demo
NPROC=${NPROC:-2}
# One compute thread per process (unless OMP_NUM_THREADS says otherwise):
# the dataloader workers use the other core, and torch's default of one
# thread per core slows down by up to 10x on a 2-core machine that is also
# running anything else (docs/demo.md). Results depend on the thread
# count; the summary names it.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
# Every 10th val image (2 of the 20) gets a picture.
SHOW_INTERVAL=${DEMO_SHOW_INTERVAL:-10}
case $MODE in
    quick)
        CONFIGS=configs/demo/quick
        WORK=work_dirs/demo/quick
        COMMAND='make demo'
        DEFAULT_RUNS='source_only source_only_more_iters maxsquare dacs fada cag_warmup cag_stage1'
        ;;
    full)
        CONFIGS=configs/demo
        WORK=work_dirs/demo/full
        COMMAND='make demo-full'
        DEFAULT_RUNS='source_only source_only_more_iters maxsquare maxsquare_iw dacs mic daformer fada cag_warmup cag_stage1'
        ;;
    *)
        echo "usage: tools/demo.sh [quick|full], got '$MODE'" >&2
        exit 2
        ;;
esac
RUNS=${DEMO_RUNS:-$DEFAULT_RUNS}
CONTROL=source_only_more_iters

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

run() {  # run NAME: train $CONFIGS/NAME.py on 1 process, then test it
    local name=$1
    echo "=== demo ($MODE): training $name ==="
    tools/dist_train.sh "$CONFIGS/$name.py" 1 --work-dir "$WORK/$name"
    local ckpt
    ckpt=$(last_checkpoint "$WORK/$name")
    echo "=== demo ($MODE): testing $name ($ckpt) ==="
    python tools/test.py "$CONFIGS/$name.py" "$ckpt" \
        --work-dir "$WORK/$name" --save-metrics "$WORK/$name/test_metrics.json" \
        --show-dir "$WORK/$name/pictures" --show-interval "$SHOW_INTERVAL"
}

for name in $RUNS; do
    run "$name"
done
control=()
case " $RUNS " in
    *" $CONTROL "*) control=(--control "$CONTROL") ;;
esac
python tools/demo_summary.py "$WORK" $RUNS "${control[@]}" \
    --configs "$CONFIGS" --command "$COMMAND" --out "$WORK/summary.md"

# The depth method's chain (configs/depth/README.md) on a SYNTHIA-like
# source with depth maps, 7 classes: GMM fit, adaptation, test; in full
# also spatial-prior pseudo-labels, self-training, test.
if [ "${DEMO_DEPTH:-1}" = 1 ]; then
    if [ ! -d "$DATA/synthia/RGB" ]; then
        python tools/generate_demo_data.py "$DATA" --num-source 0 \
            --num-target 0 --num-val 0 --num-synthia 60
    fi
    python tools/dataset_converters/synthia.py "$DATA/synthia" --nproc "$NPROC"
    python tools/fit_depth_gmm.py "$DATA/synthia" --num-classes 7 \
        --grid-size 41 25 --out "$DATA/synthia/gmm_7_41x25.json"
    run depth
    depth_runs=depth
    if [ "$MODE" = full ]; then
        python tools/generate_pseudo_labels.py "$CONFIGS/depth.py" \
            "$(last_checkpoint "$WORK/depth")" \
            --out "$DATA/cityscapes/pseudo_labels/depth_demo"
        run depth_self_training
        depth_runs="depth depth_self_training"
    fi
    python tools/demo_summary.py "$WORK" $depth_runs --configs "$CONFIGS" \
        --command "$COMMAND" --out "$WORK/summary_depth.md"
fi
