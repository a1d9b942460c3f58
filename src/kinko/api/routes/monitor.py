"""HTTP routes for monitor."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
