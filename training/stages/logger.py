"""Metrics log of a stage: one JSON object per line, mirrored to TensorBoard. Main process only."""
import json
from pathlib import Path


class MetricsLog:
    def __init__(self, folder: Path, resume_step: int = 0, enabled: bool = True, tensorboard: bool = True):
        self.enabled = enabled
        self.path = Path(folder) / "metrics.jsonl"
        self.writer = None
        if not enabled:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # After a resume, forget records past the checkpoint (they are recomputed identically).
        kept = [line for line in self._read() if line.get("step", 0) <= resume_step] if resume_step else []
        self.path.write_text("".join(json.dumps(r) + "\n" for r in kept))
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter
            self.writer = SummaryWriter(str(Path(folder) / "tensorboard"), purge_step=resume_step + 1)

    def _read(self) -> list[dict]:
        return ([json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]
                if self.path.is_file() else [])

    def log(self, record: dict) -> None:
        if not self.enabled:
            return
        with self.path.open("a") as handle:
            handle.write(json.dumps(record) + "\n")
        if self.writer is not None:
            for key, value in record.items():
                if key != "step" and isinstance(value, (int, float)):
                    self.writer.add_scalar(key, value, record["step"])

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def read_metrics(folder: Path) -> list[dict]:
    path = Path(folder) / "metrics.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []
