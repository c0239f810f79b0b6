"""UniPose: a causal LM with pose tokens, pose queries, a visual processor and a pose tokenizer.

One object serves inference (`run`, `chat`) and training (`build_sample`, `collate`, `forward` -> loss,
`add_lora`, `merge`, `save_pretrained`). It composes the parts, each in its own module: the vocabulary
(vocab.py), the added token rows (new_token_rows.py), sequences (sequence.py), the mixed attention mask
(attention.py), one-shot decoding (decoding.py), guidance (guidance.py) and checkpoint folders (checkpoint.py).
"""
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from backend.body.rotations_torch import rotmat_to_axis_angle
from backend.body.skeleton import JOINT_INDEX
from backend.model.attention import mixed_attention_mask
from backend.model.backbone import base_model, load_backbone
from backend.model.checkpoint import UniPoseConfig, load_checkpoint, save_checkpoint
from backend.model.decoding import Generated, TextReference, generate
from backend.model.guidance import DESCRIPTION_REFERENCE_POSE
from backend.model.int8_steps import int8_step_decoder
from backend.model.joint_features import JointFeatures
from backend.model.new_token_rows import CodeProjection, init_new_rows, is_tied, resize_embeddings
from backend.model.repeats import without_repeated_clauses
from backend.model.sequence import IGNORE, Batch, Sample, SequenceBuilder, collate
from backend.model.tasks import SYSTEM_PROMPT, task_messages
from backend.model.vocab import POSE_PLACEHOLDER, PoseVocab, add_pose_vocab
from backend.sampling import Sampling
from backend.tasks import TASKS


@dataclass
class LoraSettings:
    """peft LoRA on all linear layers of the LM (paper: r 64, alpha 16, dropout 0.05).

    use_rslora scales the update by alpha / sqrt(r) instead of alpha / r (rank-stabilised LoRA): 8x larger at
    r 64, for short runs in which the adapter would otherwise barely move.
    """
    r: int = 64
    alpha: int = 16
    dropout: float = 0.05
    target_modules: str | list = "all-linear"
    use_rslora: bool = False


@dataclass
class TaskOutput:
    """text: the first sample's text (None when it is empty); poses: every generated pose (22, 3) in order
    (for pose tasks: one per sample); texts: every sample's text."""
    text: str | None
    poses: list = field(default_factory=list)
    texts: list = field(default_factory=list)


@dataclass
class LossOutput:
    loss: torch.Tensor  # mean cross-entropy over all supervised positions (text and pose queries)
    text_loss: torch.Tensor  # mean next-token CE over text positions, full vocabulary (nan when none)
    pose_loss: torch.Tensor  # mean unshifted CE over pose-query positions, over the pose codes (nan when none)
    hidden: torch.Tensor  # (B, L, H) last hidden states
    head: nn.Module  # the LM head, applied lazily: most positions need no logits during training
    code_logits: torch.Tensor  # (N_pose, codebook) at the pose-query positions, row-major: num_pose_tokens a pose
    code_targets: torch.Tensor  # (N_pose,) the target code of each

    @property
    def logits(self) -> torch.Tensor:
        return self.head(self.hidden)  # (B, L, V)


class UniPose(nn.Module):
    def __init__(self, llm, text_tokenizer, pose_tokenizer, vocab: PoseVocab, config: UniPoseConfig,
                 vision=None, backbone_folder: Path | None = None):
        super().__init__()
        self.llm = llm
        self.vision = vision
        self.pose_tokenizer = pose_tokenizer.eval().requires_grad_(False)
        self.text_tokenizer = text_tokenizer
        self.vocab = vocab
        self.config = config
        self.backbone_folder = backbone_folder  # the LM folder to copy when the backbone lives in the checkpoint
        self.merged = False
        self.pose_priors: dict[str, torch.Tensor] = {}  # task -> (n, K) prior for guided pose decoding
        self.code_projection: CodeProjection | None = None  # pose-code rows from code vectors (training only)
        self.joint_features: JointFeatures | None = None  # joint positions beside pose codes (config.joint_features)
        self.answer_ids: torch.Tensor | None = None  # (A,) text tokens answers may use (answer_vocabulary.py)
        self.int8_text_steps = False  # one-token text steps through an int8 copy of the decoder (int8_steps.py)
        self._step_decoder: nn.Module | None = None  # that copy, built on the first text step
        num_visual = vision.num_tokens if vision is not None else 0
        self.builder = SequenceBuilder(text_tokenizer, vocab, self._encode_poses, num_visual, config.end_at_pose)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_backbone(cls, backbone: str, pose_tokenizer, vision=None, attn_implementation: str = "sdpa",
                      seed: int = 0, progress=None, dtype: str = "float32",
                      backbone_layers: int | None = None, system_prompt: str = SYSTEM_PROMPT,
                      end_at_pose: bool = False, code_embeddings: str = "rows",
                      image_pose_hint: bool = False, joint_features: bool = False) -> "UniPose":
        """A fresh (untrained) UniPose: the LM's vocabulary extended, new rows initialised near the mean.

        vision: a VisualProcessor whose hidden_size matches the LM, or None (no image tasks).
        dtype: of the LM ("float32" for training; "bfloat16" for fast inference where native).
        backbone_layers: keep only the LM's first N transformer layers (None: all).
        system_prompt, end_at_pose: how sequences are built (UniPoseConfig), fixed for the model's life.
        code_embeddings: "rows" (a free row per pose code) or "projected" (rows from the tokenizer's code
        vectors through one trained map while training; new_token_rows.CodeProjection).
        image_pose_hint: image -> pose conversations carry the IK pose of the image's landmarks as an input pose
        (`_messages`); needs a visual processor with a landmark encoder.
        joint_features: pose-code spans also read their pose's joint positions (joint_features.py).
        """
        if code_embeddings not in ("rows", "projected"):
            raise ValueError(f"code_embeddings must be 'rows' or 'projected', got {code_embeddings!r}")
        if image_pose_hint and (vision is None or not vision.reads_landmarks):
            raise ValueError("image_pose_hint needs a visual processor with a landmark encoder")
        llm, text_tokenizer = load_backbone(backbone, attn_implementation, progress, dtype=dtype,
                                            layers=backbone_layers)
        vocab = add_pose_vocab(text_tokenizer, pose_tokenizer.config.codebook_size, pose_tokenizer.config.num_tokens)
        resize_embeddings(llm, vocab)
        init_new_rows(llm, vocab, pose_tokenizer.codebook.codes, seed)
        config = UniPoseConfig(backbone=backbone, vocab=vocab.to_dict(), attn_implementation=attn_implementation,
                               has_vision=vision is not None, backbone_layers=backbone_layers,
                               system_prompt=system_prompt, end_at_pose=end_at_pose,
                               code_embeddings=code_embeddings, image_pose_hint=image_pose_hint)
        folder = None if backbone == "smollm2" else Path(backbone)
        model = cls(llm, text_tokenizer, pose_tokenizer, vocab, config, vision, folder)
        if code_embeddings == "projected":
            model.code_projection = CodeProjection(pose_tokenizer.codebook.codes, llm.config.hidden_size)
            model.code_projection.fit(llm, vocab)
        if joint_features:
            model.add_joint_features()
        return model

    @classmethod
    def from_pretrained(cls, path, device="cpu", progress=None, merge_lora: bool = True,
                        trainable: bool = False, dtype: str = "auto", text_steps: str = "auto") -> "UniPose":
        """Load a checkpoint folder (layout in checkpoint.py).

        progress(stage, fraction) is called as parts load. merge_lora folds the adapter into the weights
        (fast inference); trainable=True keeps it separate and trainable (continue training).
        dtype of the LM: "auto" = bfloat16 for inference where the device runs it natively, else float32
        (always float32 when trainable); or "float32" / "bfloat16" / "float16".
        text_steps: "auto" = one-token text steps in int8 where the device runs int8 matmuls (int8_steps.py),
        "int8" = demand it, "full" = in the LM's dtype; never int8 when trainable.
        """
        return load_checkpoint(cls, path, device, progress, merge_lora, trainable, dtype, text_steps)

    def save_pretrained(self, path) -> Path:
        """Write the checkpoint folder (layout in checkpoint.py); returns it."""
        return save_checkpoint(self, path)

    # ------------------------------------------------------------------ training-time API
    @property
    def has_lora(self) -> bool:
        from peft import PeftModel
        return isinstance(self.llm, PeftModel)

    @property
    def device(self) -> torch.device:
        return next(self.llm.parameters()).device

    @property
    def eos_ids(self) -> set[int]:
        ids = set()
        for source in (self.text_tokenizer.eos_token_id, getattr(self.llm.generation_config, "eos_token_id", None)):
            ids.update(source if isinstance(source, (list, tuple)) else [source] if source is not None else [])
        im_end = self.text_tokenizer.convert_tokens_to_ids("<|im_end|>")
        if isinstance(im_end, int) and im_end != self.text_tokenizer.unk_token_id:
            ids.add(im_end)
        return ids

    def add_lora(self, settings: LoraSettings | None = None) -> None:
        """Wrap the LM with LoRA; the added token rows become trainable (peft trainable_token_indices)."""
        from peft import LoraConfig, get_peft_model

        settings = settings or LoraSettings()
        ids = self.vocab.new_token_ids
        if self.code_projection is not None:  # the code rows come from the projection
            ids = [i for i in ids if i >= self.vocab.pose_start]
        indices = ids if is_tied(self.llm) else {"embed_tokens": ids, "lm_head": ids}
        lora = LoraConfig(r=settings.r, lora_alpha=settings.alpha, lora_dropout=settings.dropout,
                          target_modules=settings.target_modules, trainable_token_indices=indices,
                          use_rslora=settings.use_rslora, task_type="CAUSAL_LM")
        self.llm = get_peft_model(self.llm, lora)
        self.config.lora = asdict(settings)

    def add_joint_features(self) -> None:
        """Give pose-code spans their joint positions through a new map at zero (joint_features.py): the model
        answers as before until the map trains."""
        self.joint_features = JointFeatures(self.llm.config.hidden_size).to(self.device)
        self.config.joint_features = True

    def step_decoder(self) -> nn.Module | None:
        """The int8 copy of the decoder for one-token text steps, built on first use so that loads which only
        pose (`unipose text2pose`) do not pay for it; None when text steps run in full precision."""
        if self.int8_text_steps and self._step_decoder is None:
            self._step_decoder = int8_step_decoder(base_model(self.llm).get_decoder())
        return self._step_decoder

    def merge(self) -> None:
        """Fold the LoRA adapter (and trainable rows) into the LM weights for deployment."""
        if self.has_lora:
            self.llm = self.llm.merge_and_unload()
            self.merged = True
        self.config.lora = None

    def build_sample(self, task: str, *, text=None, poses=(), images=(), target=None,
                     template: int | None = None, rng=None) -> Sample:
        """One training sample for a task. target: str (text tasks) or a pose (pose tasks): (22, 3)
        axis-angle, or (80,) int codes if already tokenized (inputs `poses` accept the same)."""
        if target is None:
            raise ValueError("a training sample needs a target")
        messages = self._messages(task, text=text, poses=poses, images=images, target=target, template=template,
                                  rng=rng)
        return self.builder.training(messages)

    def _messages(self, task: str, *, text=None, poses=(), images=(), target=None, template: int | None = None,
                  rng=None) -> list[dict]:
        """The conversation of one task instance for this checkpoint, the one path of training samples and
        inference prompts: task_messages with the checkpoint's system prompt and, for image -> pose under
        config.image_pose_hint, the pose hint (backend/vision/landmarks/hint.py: the IK fit of the landmarks the
        encoder reads, in the corpus frame the answer is in). A photo is detected here, once: it travels on as
        a DetectedImage, whose landmarks the landmark encoder reads."""
        images, hint = list(images), None
        if self.config.image_pose_hint and task == "image_to_pose" and len(images) == 1:
            from backend.vision.landmarks.hint import pose_hint
            image, landmarks = self.vision.detect(images[0])
            images, hint = [image], pose_hint(landmarks)
        return task_messages(task, text=text, poses=poses, images=images, target=target, template=template,
                             rng=rng, system_prompt=self.config.system_prompt, pose_hint=hint)

    def collate(self, samples: list[Sample]) -> Batch:
        pad = self.text_tokenizer.pad_token_id
        return collate(samples, pad if pad is not None else 0)

    def hidden_states(self, batch: Batch) -> torch.Tensor:
        """(B, L, H) last hidden states of a collated batch under the mixed attention mask."""
        batch = batch.to(self.device)
        embeds = self.embed(batch.input_ids, batch.images)
        mask = mixed_attention_mask(self.llm.config, embeds, batch.valid, batch.span_ids, batch.branch)
        return self.llm.get_decoder()(inputs_embeds=embeds, attention_mask=mask,
                                      position_ids=batch.position_ids, use_cache=False).last_hidden_state

    def forward(self, batch: Batch) -> LossOutput:
        batch = batch.to(self.device)
        hidden = self.hidden_states(batch)
        head = self.llm.get_output_embeddings()
        supervised = batch.targets != IGNORE
        pose = supervised & batch.branch  # (B, L) pose-query positions
        text = supervised & ~batch.branch
        # Logits only where a target exists; a pose query chooses among the pose codes, as in decoding.
        text_losses = nn.functional.cross_entropy(head(hidden[text]).float(), batch.targets[text],
                                                  reduction="none")  # (N_text,)
        if self.code_projection is not None:
            code_logits = hidden[pose] @ self.code_projection().to(hidden.dtype).T  # (N_pose, codebook)
        else:
            code_logits = head(hidden[pose])[:, self.vocab.first_id:self.vocab.pose_start]  # (N_pose, codebook)
        code_targets = self.vocab.codes(batch.targets[pose])  # (N_pose,)
        pose_losses = nn.functional.cross_entropy(code_logits.float(), code_targets, reduction="none")  # (N_pose,)
        return LossOutput(loss=torch.cat([text_losses, pose_losses]).mean(), text_loss=text_losses.mean(),
                          pose_loss=pose_losses.mean(), hidden=hidden, head=head, code_logits=code_logits,
                          code_targets=code_targets)

    def embed(self, input_ids: torch.Tensor, images: list) -> torch.Tensor:
        """(B, L) ids -> (B, L, H) embeddings; image slots (row-major) take the projected visual tokens, and pose
        codes their projected rows while a CodeProjection trains, and their span's joint vector under
        config.joint_features."""
        embeds = self.llm.get_input_embeddings()(input_ids)
        is_code = self.vocab.is_code(input_ids)
        if self.code_projection is not None:
            rows = self.code_projection().to(embeds.dtype)[self.vocab.codes(input_ids[is_code])]  # (N, H)
            embeds = embeds.masked_scatter(is_code[..., None], rows)
        if self.joint_features is not None and is_code.any():
            embeds = self.joint_features.add_to(embeds, is_code, self.vocab.codes(input_ids[is_code]),
                                                self.pose_tokenizer)
        slots = input_ids == self.vocab.image
        if not slots.any():
            return embeds
        if self.vision is None:
            raise ValueError("this model has no visual processor")
        visual = self.vision(images).to(embeds.dtype)  # (N, T, H)
        return embeds.masked_scatter(slots[..., None], visual.reshape(-1, visual.shape[-1]))

    def _encode_poses(self, poses: torch.Tensor) -> torch.Tensor:
        """(N, 22, 3) axis-angle -> (N, num_pose_tokens) codes."""
        with torch.no_grad():
            return self.pose_tokenizer.encode(poses.to(self.device)).cpu()

    # ------------------------------------------------------------------ inference
    def run(self, task: str, *, text=None, poses=(), images=(), sampling: Sampling | None = None,
            **settings) -> TaskOutput:
        """Run one of the seven tasks (template 0) and decode the answer.

        sampling: how to decode (backend/sampling.py); keyword `settings` override its fields (`num_samples=3`,
        `guidance=2.0`, ...). Pose answers are guided by the checkpoint's prior for the task, where it has one;
        edits, under config.edit_reference, by the answer to that neutral instruction instead; descriptions of
        one pose, under config.description_guidance, against a standing pose's, and differences, under
        config.difference_guidance, against A to A (guidance.py).
        Image -> pose answers of a hinted checkpoint lean on the hint by config.image_pose_model_weight
        (vision/landmarks/hint.py, lean_on_hint).
        """
        sampling = replace(sampling or Sampling(), **settings)
        if sampling.guidance is None:
            sampling = replace(sampling, guidance=self.config.guidance)
        messages = self._messages(task, text=text, poses=list(poses), images=list(images), template=0)
        prior = self.pose_priors.get(task)
        if task == "edit_pose" and self.config.edit_reference and sampling.guidance != 1.0:
            prior = self.reference_logprobs(self._messages(task, text=self.config.edit_reference,
                                                           poses=list(poses), template=0))
        output = self.chat(messages, sampling=sampling, pose_answer=TASKS[task].output == "pose", pose_prior=prior,
                           text_reference=self._text_reference(task, list(poses), list(images)))
        weight = self.config.image_pose_model_weight
        if task == "image_to_pose" and self.config.image_pose_hint and weight != 1.0:
            from backend.vision.landmarks.hint import lean_on_hint
            hint = messages[-1]["poses"][-1]  # the request's last input pose (tasks.task_messages)
            output = replace(output, poses=[lean_on_hint(pose, hint, weight) for pose in output.poses])
        return output

    def chat(self, messages: list[dict], *, sampling: Sampling | None = None, pose_answer: bool = False,
             pose_prior=None, text_reference: TextReference | None = None, **settings) -> TaskOutput:
        """Answer the next assistant turn of a conversation.

        messages: [{"role": "system"|"user"|"assistant", "content": str, "poses": [(22, 3)], "images": [...]}];
        `<pose>` / `<image>` in content mark where items go (unmarked ones are put first). Earlier assistant
        poses are fed back as pose tokens. In the returned text, `<pose>` marks where a pose was generated.
        pose_answer: the answer is exactly one pose (what `run` does for the pose-output tasks).
        pose_prior (n, K): guided choice of pose codes at the sampling's guidance weight (guidance.py); None =
        plain decoding. With expected_pose, a greedy pose is decoded from expected code vectors while the
        conversation itself continues from the likeliest codes; sampled poses use their sampled codes.
        text_reference: text guided against a reference prompt of the same layout (decoding.TextReference).
        """
        sampling = replace(sampling or Sampling(), **settings)
        if sampling.num_samples < 1:
            raise ValueError("num_samples must be at least 1")
        return self._task_output(self._generate(messages, sampling, pose_answer, pose_prior, text_reference))

    def _text_reference(self, task: str, poses: list, images: list) -> TextReference | None:
        """The reference a text answer is guided against (guidance.py), or None: for pose -> text a standing
        pose's conversation (config.description_guidance), for a difference the conversation about A and A
        again (config.difference_guidance)."""
        if task == "pose_to_text":
            from backend.body.example_poses import EXAMPLE_POSES
            weight, inputs = self.config.description_guidance, {"poses": [EXAMPLE_POSES[DESCRIPTION_REFERENCE_POSE]]}
        elif task == "pose_diff":
            weight, inputs = self.config.difference_guidance, {"poses": [poses[0], poses[0]]}
        elif task == "image_diff":
            weight, inputs = self.config.difference_guidance, {"images": [images[0], images[0]]}
        else:
            return None
        if weight == 1.0:
            return None
        messages = self._messages(task, template=0, **inputs)
        prompt = self.builder.prompt(_with_system(messages, self.config.system_prompt))
        return TextReference(prompt.input_ids, weight, prompt.images)

    def reference_logprobs(self, messages: list[dict]) -> torch.Tensor:
        """(n, K) code log-probabilities of the one-pose answer to a conversation, unguided: the reference
        an edit is guided against under config.edit_reference."""
        plain = Sampling(temperature=0.0, guidance=1.0, expected_pose=True)
        answer = self._generate(messages, plain, pose_answer=True, pose_prior=None)[0]
        return answer.code_probs[0].clamp_min(1e-9).log()

    def _generate(self, messages: list[dict], sampling: Sampling, pose_answer: bool, pose_prior,
                  text_reference: TextReference | None = None) -> list[Generated]:
        if self.code_projection is not None:  # decoding reads the LM's stored rows
            self.code_projection.write_rows(self.llm, self.vocab)
        prompt = self.builder.prompt(_with_system(messages, self.config.system_prompt))
        was_training = self.training
        self.eval()
        try:
            return generate(self, prompt.input_ids, prompt.span_ids, prompt.position_ids, prompt.images, sampling,
                            pose_prior, start_with_pose=pose_answer, stop_after_pose=pose_answer,
                            text_reference=text_reference)
        finally:
            self.train(was_training)

    def _task_output(self, answers: list[Generated]) -> TaskOutput:
        texts = []
        for answer in answers:
            parts = []
            for piece in answer.pieces:
                if isinstance(piece, list):
                    parts.append(without_repeated_clauses(self.text_tokenizer.decode(piece, skip_special_tokens=True)))
                else:
                    parts.append(POSE_PLACEHOLDER)
            texts.append("".join(parts).strip())
        poses = self._decode_poses([c for a in answers for c in a.poses()], [p for a in answers for p in a.code_probs],
                                   [u for a in answers for u in a.unguided])
        first = texts[0]
        return TaskOutput(text=None if first in ("", POSE_PLACEHOLDER) else first, poses=poses, texts=texts)

    @torch.no_grad()
    def _decode_poses(self, codes: list, probs: list, unguided: list) -> list[np.ndarray]:
        """Every pose of one generation in one tokenizer call: (n,) codes each, with their (n, K) distributions
        (all kept, or all None: one `generate` call decides for every pose) -> (22, 3) float32 axis-angle each.
        unguided: per pose None, or the (codes, probs) chosen without amplifying guidance, whose root (body
        orientation) the pose takes (guidance.py); one `generate` call decides for every pose here too."""
        if not codes:
            return []
        rotmats = self._decode_rotmats(codes, probs)  # (N, 22, 3, 3)
        if unguided[0] is not None:
            plain = self._decode_rotmats([c for c, _ in unguided], [p for _, p in unguided])
            root = JOINT_INDEX["pelvis"]
            rotmats[:, root] = plain[:, root]
        return list(rotmat_to_axis_angle(rotmats).cpu().numpy().astype(np.float32))

    def _decode_rotmats(self, codes: list, probs: list) -> torch.Tensor:
        if probs[0] is None:
            return self.pose_tokenizer.decode(torch.stack(codes).to(self.device))
        return self.pose_tokenizer.decode_expected(torch.stack(probs).to(self.device))


# ---------------------------------------------------------------------- helpers
def _with_system(messages: list[dict], system_prompt: str) -> list[dict]:
    if messages and messages[0]["role"] == "system":
        return list(messages)
    return [{"role": "system", "content": system_prompt}] + list(messages)
