"""TRL trains from an exported Hugging Face dataset folder unchanged: one DPO step and one KTO
step of a tiny model built here (random weights, a byte-level BPE tokenizer trained on the
exported texts, a chat template), on the CPU, with nothing fetched from a hub.

Skips where TRL, transformers, torch or datasets are not installed.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest

from app.db import Database
from tests.factories_labels import make_mixed_project

trl = pytest.importorskip("trl", reason="TRL is not installed")
torch = pytest.importorskip("torch", reason="torch is not installed")
transformers = pytest.importorskip("transformers", reason="transformers is not installed")
datasets = pytest.importorskip("datasets", reason="datasets is not installed")
tokenizers = pytest.importorskip("tokenizers")

# The training stack's own deprecation notices (TRL and transformers move fast) are not what
# these tests check.
pytestmark = [
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]

SPECIAL = ["<|pad|>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>"]
TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("WANDB_DISABLED", "true")


def texts_of(dataset: Any) -> list[str]:
    found = []
    for row in dataset:
        for value in row.values():
            if isinstance(value, list):
                found += [m["content"] for m in value]
    return found


def tiny_model_and_tokenizer(texts: list[str]) -> tuple[Any, Any]:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())  # fmt: skip
    tok.train_from_iterator(texts, trainer)
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<|pad|>", eos_token="<|end|>"
    )
    tokenizer.chat_template = TEMPLATE
    config = transformers.LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=2048,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
    )  # fmt: skip
    torch.manual_seed(0)
    return transformers.LlamaForCausalLM(config), tokenizer


def export_folder(arbiter: Any, db: Database, tmp_path: Path, fmt: str, *extra: str) -> Path:
    with db.scope() as session:
        make_mixed_project(session)
    folder = tmp_path / fmt
    arbiter("export", "--project", "mixed", "--format", fmt, "--output",
            str(tmp_path / f"{fmt}.jsonl"), "--hf-dataset", str(folder), *extra)  # fmt: skip
    return folder


COMMON = {"max_steps": 1, "per_device_train_batch_size": 2, "report_to": [], "use_cpu": True,
          "save_strategy": "no", "logging_steps": 1, "max_length": 256}  # fmt: skip


def test_dpo_trains_one_step_from_the_folder(arbiter, db: Database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = export_folder(arbiter, db, tmp_path, "trl-dpo")
    train = datasets.load_dataset(str(folder), split="train")
    model, tokenizer = tiny_model_and_tokenizer(texts_of(train))
    args = trl.DPOConfig(output_dir=str(tmp_path / "out"), **COMMON)
    trainer = trl.DPOTrainer(model=model, ref_model=copy.deepcopy(model), args=args,
                             train_dataset=train, processing_class=tokenizer)  # fmt: skip
    result = trainer.train()
    assert trainer.state.global_step == 1
    assert math.isfinite(result.training_loss)


def test_kto_trains_one_step_from_the_folder(arbiter, db: Database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = export_folder(arbiter, db, tmp_path, "kto", "--derive", "pairs")
    train = datasets.load_dataset(str(folder), split="train")
    assert set(train["label"]) == {True, False}
    model, tokenizer = tiny_model_and_tokenizer(texts_of(train))
    args = trl.KTOConfig(output_dir=str(tmp_path / "out"), **COMMON)
    trainer = trl.KTOTrainer(model=model, ref_model=copy.deepcopy(model), args=args,
                             train_dataset=train, processing_class=tokenizer)  # fmt: skip
    result = trainer.train()
    assert trainer.state.global_step == 1
    assert math.isfinite(result.training_loss)
