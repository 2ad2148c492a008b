"""Which training services take each format, with the row limits their documentation names.

The notes are recorded in every manifest and shown on the export page; a file with fewer or
more rows than a service documents gets a warning (``Service.warnings``). Sources and the date
they were read are in FORMATS.md, "Where the files go".
"""

from __future__ import annotations

from app.exports.base import Service
from app.i18n import N_

OPENAI_DPO = Service(
    "OpenAI",
    N_(
        "Self-serve fine-tuning is being wound down and its DPO guide now sits under the legacy "
        "APIs: new jobs only for organisations OpenAI still lets create them (check its "
        "deprecations page for the dates); inference on fine-tuned models goes on."
    ),
    min_rows=10,
    source="OpenAI API docs: Direct preference optimization (Legacy APIs); Deprecations",
)
OPENAI_SFT = Service(
    "OpenAI",
    N_(
        "Self-serve fine-tuning is being wound down: new jobs only for organisations OpenAI still "
        "lets create them (check its deprecations page for the dates)."
    ),
    min_rows=10,
    source="OpenAI API docs: Supervised fine-tuning; Deprecations",
)
TOGETHER_DPO = Service(
    "Together AI",
    N_(
        "Preference fine-tuning (DPO) takes these lines unchanged: input.messages, "
        "preferred_output and non_preferred_output, one assistant message each."
    ),
    source="Together AI docs: Preference fine-tuning",
)
TOGETHER_SFT = Service(
    "Together AI",
    N_("Supervised fine-tuning takes conversational messages lines."),
    source="Together AI docs: Supervised fine-tuning",
)
FIREWORKS_DPO = Service(
    "Fireworks AI",
    N_(
        "DPO fine-tuning takes these lines: input.messages (system, user, assistant), "
        "preferred_output and non_preferred_output."
    ),
    min_rows=3,
    max_rows=3_000_000,
    source="Fireworks docs: Direct Preference Optimization",
)
AZURE_DPO = Service(
    "Azure AI Foundry",
    N_(
        "Direct preference optimization for Azure OpenAI models takes the same lines, as separate "
        "training and validation files."
    ),
    min_rows=10,
    source="Microsoft Learn: Direct preference optimization (Foundry)",
)
AZURE_SFT = Service(
    "Azure AI Foundry",
    N_("Supervised fine-tuning of Azure OpenAI models takes the same messages lines."),
    min_rows=10,
    source="Microsoft Learn: Customize a model with fine-tuning (Foundry)",
)
NOVA_SAGEMAKER = Service(
    "Amazon SageMaker AI (Nova 1)",
    N_(
        "Nova DPO is for Nova 1 models (Micro, Lite, Pro), run as SageMaker AI training jobs "
        "(or on HyperPod) from a recipe, reading the file from S3; it is not a Bedrock "
        "customization job, and the Nova 2 recipes offer no DPO."
    ),
    source="Amazon SageMaker AI docs: Direct preference optimization (DPO); Amazon Nova recipes",
)
TRL = Service(
    "TRL (Hugging Face)",
    N_(
        "DPOTrainer and KTOTrainer on your own hardware or any service that runs TRL; load the "
        "file with datasets.load_dataset('json', ...) or export a dataset folder (--hf-dataset)."
    ),
    source="TRL docs: DPO Trainer, KTO Trainer, Dataset formats",
)
VERTEX = Service(
    "Vertex AI (Gemini)",
    N_(
        "Preference tuning of the Gemini models Vertex lists as supported; Google recommends "
        "supervised tuning on the preferred answers first. Up to 131,072 tokens per example."
    ),
    max_rows=10_000_000,
    source="Google Cloud docs: About preference tuning for Gemini models",
)

SERVICES: dict[str, tuple[Service, ...]] = {
    "openai-dpo": (OPENAI_DPO, TOGETHER_DPO, FIREWORKS_DPO, AZURE_DPO),
    "openai-sft": (OPENAI_SFT, TOGETHER_SFT, AZURE_SFT),
    "nova-dpo": (NOVA_SAGEMAKER,),
    "kto": (TRL,),
    "trl-dpo": (TRL,),
    "vertex-preference": (VERTEX,),
}
