"""`arbiter demo`: a small project in three languages, and an admin and an annotator; and a
second project already labelled by demo annotators (app/demo_labels.py)."""

from __future__ import annotations

import io

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.auth import create_user, generate_password
from app.demo_labels import seed_labelled
from app.importing import import_batch
from app.models import Project, Role, User
from app.projects import create_project
from app.settings import Settings

GUIDELINES = """\
## How to judge

1. Read the whole conversation first: the **last user turn** is what is being answered.
2. Prefer the answer that is *correct*, then *helpful*, then *clear*.
3. **Tie**: both answers are acceptable and neither is better.
4. **Both bad**: neither answer is acceptable (wrong, unsafe, or off-topic).

Keys: `1` left better · `2` right better · `3` tie · `4` both bad · `u` undo · `s` skip
"""

CODE_QUESTION = "Write a Python function that checks whether a string is a palindrome."
CODE_GOOD = """Here is a version that ignores case and punctuation:

```python
def is_palindrome(text: str) -> bool:
    letters = [c.lower() for c in text if c.isalnum()]
    return letters == letters[::-1]
```

`is_palindrome("A man, a plan, a canal: Panama")` returns `True`."""
CODE_PLAIN = """```python
def is_palindrome(s):
    return s == s[::-1]
```"""

DEMO_ROWS: list[dict[str, object]] = [
    {
        "id": "demo-weather",
        "system": "You are a weather assistant.",
        "prompt": "How cold is San Francisco today?",
        "candidates": [
            "Not quite as cold as expected: a high near 68°F (20°C), a low around 57°F (14°C).",
            "It is not particularly cold today.",
        ],
    },
    {
        "id": "demo-code",
        "prompt": CODE_QUESTION,
        "candidates": [CODE_GOOD, CODE_PLAIN, "Just reverse it and compare."],
    },
    {
        "id": "demo-ja",
        "prompt": "日本の首都はどこですか？一文で答えてください。",
        "candidates": [
            "日本の首都は東京です。",
            "京都です。昔から日本の首都として知られています。",
        ],
    },
    {
        "id": "demo-de",
        "system": "Antworte kurz und höflich.",
        "messages": [
            {"role": "user", "content": "Ich suche ein Rezept für Kartoffelsalat."},
            {"role": "assistant", "content": "Gern! Mit Mayonnaise oder mit Essig und Öl?"},
            {"role": "user", "content": "Mit Essig und Öl, bitte – wie in Süddeutschland."},
        ],
        "candidates": [
            "Kartoffeln kochen, pellen und in Scheiben schneiden. Warme Brühe mit Essig, Öl, "
            "Senf, Zwiebeln, Salz und Pfeffer verrühren, über die Kartoffeln gießen und "
            "mindestens 30 Minuten ziehen lassen.",
            "Kartoffeln mit Mayonnaise und Gurken mischen.",
            "Ich kann leider keine Rezepte geben.",
        ],
    },
    {
        "id": "demo-multiturn",
        "messages": [
            {"role": "user", "content": "What's a good name for a grey cat?"},
            {"role": "assistant", "content": "How about **Ash**, **Smokey** or **Pebble**?"},
            {"role": "user", "content": "Something less common, please."},
        ],
        "candidates": [
            "- *Tungsten*\n- *Nimbus*\n- *Earl Grey*",
            "Smokey is a great name!",
        ],
    },
]


class DatabaseNotEmpty(Exception):
    pass


def seed_demo(session: Session, settings: Settings) -> list[tuple[str, str]]:
    """Create the demo on an empty database; the (username, password) pairs created."""
    has_users = session.scalar(select(func.count()).select_from(User))
    has_projects = session.scalar(select(func.count()).select_from(Project))
    if has_users or has_projects:
        raise DatabaseNotEmpty
    logins = [("admin", generate_password()), ("annotator", generate_password())]
    # The demo annotators of the labelled project get passwords nobody is shown:
    # `arbiter user passwd NAME` gives one.
    admin = create_user(session, "admin", Role.ADMIN, logins[0][1])
    create_user(session, "annotator", Role.ANNOTATOR, logins[1][1])
    project = create_project(session, "Demo", guidelines=GUIDELINES, rate_singletons=True)
    data = b"\n".join(orjson.dumps(row) for row in DEMO_ROWS)
    import_batch(
        session,
        project,
        io.BytesIO(data),
        max_bytes=settings.max_upload_mb << 20,
        batch_name="demo",
        filename="demo.jsonl",
        created_by=admin.id,
    )
    seed_labelled(session, settings, admin)
    return logins
