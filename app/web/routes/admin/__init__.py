"""The admin console (``/admin``): one module per noun, all behind ``require_admin``."""

from __future__ import annotations

from fastapi import APIRouter

from app.web.routes.admin import (
    batches,
    dashboard,
    deletion,
    exports,
    items,
    leaderboard,
    members,
    models,
    people,
    projects,
)

router = APIRouter()
for module in (projects, batches, deletion, members, dashboard, leaderboard, exports, people,
               models, items):  # fmt: skip
    router.include_router(module.router)
