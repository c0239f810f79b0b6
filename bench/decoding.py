"""Text->pose latency: one-shot pose decoding vs autoregressive decoding of the 80 pose tokens.

Both run on the same UniPose (default SmolLM2-135M backbone, CPU) and the same prompt, side by side:
- one-shot: prefill the prompt + <pose_start>, then the 80 pose queries in one forward pass;
- autoregressive: prefill the same prompt + <pose_start>, then 80 single-token steps with a KV cache, each
  picking the best pose-code token and feeding it back (plain causal decoding, no queries).
Also prints pose->text latency (greedy, fixed number of new tokens). Weights are untrained; latency does
not depend on them. The last line is `speedup=<autoregressive / one-shot>`.

    python bench/decoding.py [--backbone smollm2] [--repeats 5] [--threads 1] [--dtype auto]
"""
import argparse
import statistics
import time

import numpy as np
import torch


def _timed(function, repeats: int) -> tuple[float, object]:
    function()  # warm-up
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


@torch.no_grad()
def prefill(model, prompt) -> None:
    """The part both decodings share: prompt + <pose_start> into a KV cache."""
    from transformers import DynamicCache

    ids = torch.cat([prompt.input_ids, torch.tensor([model.vocab.pose_start])])[None]
    model.llm(input_ids=ids, past_key_values=DynamicCache(), use_cache=True, logits_to_keep=1)


@torch.no_grad()
def autoregressive_pose(model, prompt) -> torch.Tensor:
    """80 pose codes one at a time after prompt + <pose_start> (the decoding UniPose replaces)."""
    from transformers import DynamicCache

    vocab = model.vocab
    ids = torch.cat([prompt.input_ids, torch.tensor([vocab.pose_start])])[None]
    cache = DynamicCache()
    llm = model.llm
    logits = llm(input_ids=ids, past_key_values=cache, use_cache=True, logits_to_keep=1).logits[:, -1]
    codes = []
    for _ in range(vocab.num_pose_tokens):
        code = logits[:, vocab.first_id:vocab.first_id + vocab.codebook_size].argmax(-1)  # (1,)
        codes.append(code)
        logits = llm(input_ids=vocab.code_ids(code)[:, None], past_key_values=cache, use_cache=True).logits[:, -1]
    return torch.stack(codes, dim=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="smollm2")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="1 is steadiest on a shared machine")
    parser.add_argument("--dtype", default="auto", help="LM dtype: auto (bfloat16 where native), float32, bfloat16")
    parser.add_argument("--text-tokens", type=int, default=32, help="new tokens for pose->text")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from backend.model import UniPose, task_messages
    from backend.model.backbone import resolve_dtype
    from backend.tokenizer import PoseTokenizer, PoseTokenizerConfig

    torch.manual_seed(0)
    start = time.perf_counter()
    dtype = resolve_dtype(args.dtype, "cpu")
    model = UniPose.from_backbone(args.backbone, PoseTokenizer(PoseTokenizerConfig()).eval(), dtype=dtype).eval()
    print(f"backbone={args.backbone} params={sum(p.numel() for p in model.llm.parameters()) / 1e6:.1f}M "
          f"dtype={dtype} load_s={time.perf_counter() - start:.1f} threads={args.threads}")

    text = "The person is kneeling on the right knee with both arms raised above the head."
    prompt = model.builder.prompt(task_messages("text_to_pose", text=text, template=0))
    one_shot_s, output = _timed(lambda: model.run("text_to_pose", text=text), args.repeats)
    auto_s, codes = _timed(lambda: autoregressive_pose(model, prompt), args.repeats)
    prefill_s, _ = _timed(lambda: prefill(model, prompt), args.repeats)
    pose = np.zeros((22, 3), np.float32)
    text_s, answer = _timed(lambda: model.run("pose_to_text", poses=[pose], max_new_tokens=args.text_tokens),
                            max(1, args.repeats // 2))
    assert output.poses and codes.shape == (1, model.vocab.num_pose_tokens)

    print(f"prompt_tokens={len(prompt) + 1}  pose_tokens={model.vocab.num_pose_tokens}")
    print(f"{'decoding':<28}{'latency_s':>10}")
    print(f"{'text->pose one-shot':<28}{one_shot_s:>10.3f}")
    print(f"{'text->pose autoregressive':<28}{auto_s:>10.3f}")
    print(f"{'shared prefill':<28}{prefill_s:>10.3f}")
    print(f"{f'pose->text ({args.text_tokens} tokens max)':<28}{text_s:>10.3f}  "
          f"({len(answer.texts[0])} characters)")
    if one_shot_s > prefill_s:  # on a busy machine the medians can cross; then the split means nothing
        print(f"pose_step_speedup={(auto_s - prefill_s) / (one_shot_s - prefill_s):.1f}  (without the shared prefill)")
    print(f"speedup={auto_s / one_shot_s:.1f}")


if __name__ == "__main__":
    main()
