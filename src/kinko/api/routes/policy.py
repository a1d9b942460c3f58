"""HTTP routes for policy (freeze, address book, policy)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
