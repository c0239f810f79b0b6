"""UniPose model core: pose tokens in the LM vocabulary, mixed attention, one-shot pose decoding, LoRA.

Inference:   UniPose.from_pretrained(path).run(task, text=..., poses=..., images=...) -> TaskOutput
Training:    model = UniPose.from_backbone("smollm2", pose_tokenizer, vision)  (or from_pretrained(...,
             trainable=True)); model.add_lora(LoraSettings()); samples = [model.build_sample(task, ...,
             target=...)]; loss = model(model.collate(samples)).loss; model.save_pretrained(path).
             Which parts train in each stage: training/stages/model_setup.py. Deployment: model.merge().
"""
from backend.model.sequence import IGNORE, Batch, Sample, SequenceBuilder, collate
from backend.model.tasks import SYSTEM_PROMPT, task_messages
from backend.model.templates import TEMPLATES
from backend.model.checkpoint import UniPoseConfig
from backend.model.unipose import LoraSettings, LossOutput, TaskOutput, UniPose
from backend.model.vocab import IMAGE_PLACEHOLDER, POSE_PLACEHOLDER, PoseVocab

__all__ = ["Batch", "IGNORE", "IMAGE_PLACEHOLDER", "LoraSettings", "LossOutput", "POSE_PLACEHOLDER", "PoseVocab",
           "SYSTEM_PROMPT", "Sample", "SequenceBuilder", "TEMPLATES", "TaskOutput", "UniPose",
           "UniPoseConfig", "collate", "task_messages"]
