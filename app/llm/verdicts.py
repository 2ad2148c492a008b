"""The judge's prompt, and the strict reading of its answer.

The prompt is a template: plain text with placeholders that are replaced as they stand
(any other braces are left alone). The default is ``DEFAULT_TEMPLATE``; ``--rubric FILE``
(or the admin form) replaces it whole and must keep ``{response_1}`` and ``{response_2}``.

``{conversation}``  the prompt: system text and turns, each headed by its role
``{response_1}``    the response shown first
``{response_2}``    the response shown second
``{guidelines}``    the project's guidelines (Markdown as written), or "(none)"
``{options}``       the verdict lines this project accepts, one per line

The answer must end with one line ``Verdict: 1``, ``Verdict: 2``, ``Verdict: tie`` or
``Verdict: both_bad`` (case and spaces around the value do not matter), and hold no other
``Verdict:`` line. Anything else is a failure (``unparsed``), never a guess; a tie or "both
bad" in a project that does not allow it is a failure too (``verdict_not_allowed``).
"""

from __future__ import annotations

import enum
import re

from app.llm.client import CallFailed
from app.models import Project

PLACEHOLDERS = ("{conversation}", "{response_1}", "{response_2}", "{guidelines}", "{options}")
REQUIRED = ("{response_1}", "{response_2}")

DEFAULT_TEMPLATE = """\
You are judging two responses to the same conversation between a user and an AI assistant.
Decide which response is better: more helpful, correct, honest and harmless, following the
guidelines below. Do not let the order of the responses, their length or their style decide.

# Guidelines
{guidelines}

# Conversation
{conversation}

# Response 1
{response_1}

# Response 2
{response_2}

# Your answer
Explain your reasoning briefly, then end with exactly one of these lines:
{options}
"""


class Choice(enum.StrEnum):
    """A verdict in screen terms: the response shown first or second."""

    FIRST = "1"
    SECOND = "2"
    TIE = "tie"
    BOTH_BAD = "both_bad"


_VERDICT_LINE = re.compile(r"^\s*\**\s*verdict\s*\**\s*:\s*\**\s*(.*?)\s*\**\s*$", re.IGNORECASE)
_VALUES = {"1": Choice.FIRST, "2": Choice.SECOND, "tie": Choice.TIE, "both_bad": Choice.BOTH_BAD,
           "both bad": Choice.BOTH_BAD}  # fmt: skip


def check_template(template: str) -> str:
    """The template, if it names both responses; ``ValueError`` otherwise."""
    missing = [p for p in REQUIRED if p not in template]
    if missing:
        raise ValueError(f"the judge template must contain {' and '.join(missing)}")
    return template


def allowed(project: Project) -> list[Choice]:
    found = [Choice.FIRST, Choice.SECOND]
    if project.allow_tie:
        found.append(Choice.TIE)
    if project.allow_both_bad:
        found.append(Choice.BOTH_BAD)
    return found


def render(
    template: str, project: Project, system: str | None, messages: list[dict[str, str]],
    first: str, second: str,
) -> str:  # fmt: skip
    turns = ([f"[system]\n{system}"] if system else []) + [
        f"[{m['role']}]\n{m['content']}" for m in messages
    ]
    values = {
        "{conversation}": "\n\n".join(turns),
        "{response_1}": first,
        "{response_2}": second,
        "{guidelines}": project.guidelines.strip() or "(none)",
        "{options}": "\n".join(f"Verdict: {c.value}" for c in allowed(project)),
    }
    # One pass over the template: a placeholder inside a response is not replaced again.
    pattern = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS))
    return pattern.sub(lambda m: values[m.group(0)], template)


def parse(reply: str, project: Project) -> Choice:
    """The verdict of ``reply``, read strictly; ``CallFailed`` when there is none."""
    lines = [line for line in reply.splitlines() if line.strip()]
    verdicts = [m for m in (_VERDICT_LINE.match(line) for line in lines) if m]
    if len(verdicts) != 1 or not lines or _VERDICT_LINE.match(lines[-1]) is None:
        raise CallFailed("unparsed", "no single final 'Verdict:' line")
    choice = _VALUES.get(verdicts[0].group(1).strip().lower())
    if choice is None:
        raise CallFailed("unparsed", f"unknown verdict {verdicts[0].group(1)[:40]!r}")
    if choice not in allowed(project):
        raise CallFailed("verdict_not_allowed", f"{choice.value} is not allowed in this project")
    return choice
