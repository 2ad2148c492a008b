"""The export formats, by name. A new format is one module with a ``FORMAT``, listed here."""

from __future__ import annotations

from app.exports import (
    judgements,
    kto,
    nova_dpo,
    openai_dpo,
    openai_sft,
    rubric,
    trl_dpo,
    trl_reward,
    vertex_preference,
)
from app.exports.base import Format

FORMATS: dict[str, Format] = {
    module.FORMAT.name: module.FORMAT
    for module in (
        openai_dpo,
        openai_sft,
        nova_dpo,
        kto,
        trl_dpo,
        trl_reward,
        rubric,
        judgements,
        vertex_preference,
    )
}


def format_names() -> list[str]:
    return list(FORMATS)
