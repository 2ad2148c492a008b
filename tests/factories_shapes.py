"""One small file's rows in every shape of FORMATS.md §1, and what each must import as.

``Expected`` describes the project after the import, prompt by prompt in file order: its
system and messages, its candidates' texts, and the source's preferences (chosen, rejected)
and good/bad labels that ``--keep-labels`` records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


def system(text: str) -> dict[str, str]:
    return {"role": "system", "content": text}


@dataclass(frozen=True)
class Prompt:
    system: str | None
    messages: list[dict[str, str]]
    candidates: list[str]


@dataclass(frozen=True)
class Expected:
    kind: str
    prompts: list[Prompt]
    comparisons: int
    #: (chosen text, rejected text) of every preference the rows carry.
    preferences: list[tuple[str, str]] = field(default_factory=list)
    #: candidate text -> the source's good/bad label.
    labels: dict[str, bool] = field(default_factory=dict)


KYOTO = "京都の明日の天気は？"
HH_CHOSEN = (
    "\n\nHuman: What is 2+2?\n\nAssistant: 4.\n\nHuman: And 3+3, bitte?\n\nAssistant: 6, natürlich."
)
HH_REJECTED = "\n\nHuman: What is 2+2?\n\nAssistant: 4.\n\nHuman: And 3+3, bitte?\n\nAssistant: 7."

SHAPES: dict[str, tuple[list[dict[str, Any]], Expected]] = {
    "native": (
        [
            {"id": "n1", "system": "Be brief.", "prompt": KYOTO,
             "candidates": ["晴れです。", "雨になります。"]},
            {"id": "n2", "messages": [user("Hi"), assistant("Hello!"), user("Wetter in Köln?")],
             "candidates": ["Regen.", "Sonne.", "Schnee."]},
        ],
        Expected("native", [
            Prompt("Be brief.", [user(KYOTO)], ["晴れです。", "雨になります。"]),
            Prompt(None, [user("Hi"), assistant("Hello!"), user("Wetter in Köln?")],
                   ["Regen.", "Sonne.", "Schnee."]),
        ], comparisons=4),
    ),
    "openai-dpo": (
        [
            {"input": {"messages": [system("Answer in one line."), user(KYOTO)],
                       "tools": [], "parallel_tool_calls": True},
             "preferred_output": [assistant("雨、14°C。")],
             "non_preferred_output": [assistant("わかりません。")]},
            {"input": {"messages": [user("2+2?")], "tools": [], "parallel_tool_calls": True},
             "preferred_output": [assistant("4")],
             "non_preferred_output": [assistant("5")]},
        ],
        Expected("openai-dpo", [
            Prompt("Answer in one line.", [user(KYOTO)], ["雨、14°C。", "わかりません。"]),
            Prompt(None, [user("2+2?")], ["4", "5"]),
        ], comparisons=2, preferences=[("雨、14°C。", "わかりません。"), ("4", "5")]),
    ),
    "trl": (
        [
            {"prompt": KYOTO, "chosen": "雨です。", "rejected": "晴れです。",
             "score_chosen": 9.0, "score_rejected": 3.5},
            {"prompt": "Wie spät ist es?", "chosen": "Ich kann die Uhr nicht sehen.",
             "rejected": "Zwölf.", "score_chosen": 7.0, "score_rejected": 2.0},
        ],
        Expected("trl", [
            Prompt(None, [user(KYOTO)], ["雨です。", "晴れです。"]),
            Prompt(None, [user("Wie spät ist es?")], ["Ich kann die Uhr nicht sehen.", "Zwölf."]),
        ], comparisons=2, preferences=[("雨です。", "晴れです。"),
                                       ("Ich kann die Uhr nicht sehen.", "Zwölf.")]),
    ),
    "trl-conversational": (
        [
            {"prompt": [system("Be kind."), user("Hi?")], "chosen": [assistant("Hello!")],
             "rejected": [assistant("What.")]},
            {"prompt": [user("Q1"), assistant("A1"), user("Q2")], "chosen": [assistant("A2")],
             "rejected": [assistant("B2")]},
        ],
        Expected("trl", [
            Prompt("Be kind.", [user("Hi?")], ["Hello!", "What."]),
            Prompt(None, [user("Q1"), assistant("A1"), user("Q2")], ["A2", "B2"]),
        ], comparisons=2, preferences=[("Hello!", "What."), ("A2", "B2")]),
    ),
    "trl-implicit": (
        [
            {"chosen": [system("Terse."), user(KYOTO), assistant("雨。")],
             "rejected": [system("Terse."), user(KYOTO), assistant("晴れ。")]},
            {"chosen": [user("Q1"), assistant("A1"), user("Q2"), assistant("A2")],
             "rejected": [user("Q1"), assistant("A1"), user("Q2"), assistant("B2")]},
        ],
        Expected("trl-implicit", [
            Prompt("Terse.", [user(KYOTO)], ["雨。", "晴れ。"]),
            Prompt(None, [user("Q1"), assistant("A1"), user("Q2")], ["A2", "B2"]),
        ], comparisons=2, preferences=[("雨。", "晴れ。"), ("A2", "B2")]),
    ),
    "ultrafeedback": (
        [
            {"prompt": KYOTO, "prompt_id": "ab12",
             "chosen": [user(KYOTO), assistant("雨です。")],
             "rejected": [user(KYOTO), assistant("晴れです。")],
             "messages": [user(KYOTO), assistant("雨です。")],
             "score_chosen": 8.0, "score_rejected": 4.0},
            {"prompt": "Q1", "prompt_id": "cd34",
             "chosen": [user("Q1"), assistant("A1"), user("Q2"), assistant("A2")],
             "rejected": [user("Q1"), assistant("A1"), user("Q2"), assistant("B2")],
             "messages": [user("Q1"), assistant("A1"), user("Q2"), assistant("A2")],
             "score_chosen": 6.5, "score_rejected": 6.0},
        ],
        Expected("ultrafeedback", [
            Prompt(None, [user(KYOTO)], ["雨です。", "晴れです。"]),
            Prompt(None, [user("Q1"), assistant("A1"), user("Q2")], ["A2", "B2"]),
        ], comparisons=2, preferences=[("雨です。", "晴れです。"), ("A2", "B2")]),
    ),
    "hh": (
        [
            {"chosen": HH_CHOSEN, "rejected": HH_REJECTED},
            {"chosen": "\n\nHuman: Hallo?\n\nAssistant: Guten Tag!",
             "rejected": "\n\nHuman: Hallo?\n\nAssistant: Was?"},
        ],
        Expected("hh", [
            Prompt(None, [user("What is 2+2?"), assistant("4."), user("And 3+3, bitte?")],
                   ["6, natürlich.", "7."]),
            Prompt(None, [user("Hallo?")], ["Guten Tag!", "Was?"]),
        ], comparisons=2, preferences=[("6, natürlich.", "7."), ("Guten Tag!", "Was?")]),
    ),
    "openai-sft": (
        [
            {"messages": [system("Be brief."), user(KYOTO), assistant("雨です。")]},
            {"messages": [user("Q1"), assistant("A1"), user("Q2"), assistant("A2")]},
        ],
        Expected("openai-sft", [
            Prompt("Be brief.", [user(KYOTO)], ["雨です。"]),
            Prompt(None, [user("Q1"), assistant("A1"), user("Q2")], ["A2"]),
        ], comparisons=0),
    ),
    "kto": (
        [
            {"prompt": KYOTO, "completion": "雨です。", "label": True},
            {"prompt": KYOTO, "completion": "知らない。", "label": False},
            {"prompt": "Wie spät ist es?", "completion": "Zwölf.", "label": False},
        ],
        Expected("kto", [
            Prompt(None, [user(KYOTO)], ["雨です。", "知らない。"]),
            Prompt(None, [user("Wie spät ist es?")], ["Zwölf."]),
        ], comparisons=0, labels={"雨です。": True, "知らない。": False, "Zwölf.": False}),
    ),
    "prompts": (
        [
            {"id": "q1", "prompt": KYOTO},
            {"id": "q2", "system": "Be brief.", "prompt": "Wie spät ist es?"},
        ],
        Expected("prompts", [
            Prompt(None, [user(KYOTO)], []),
            Prompt("Be brief.", [user("Wie spät ist es?")], []),
        ], comparisons=0),
    ),
}  # fmt: skip
