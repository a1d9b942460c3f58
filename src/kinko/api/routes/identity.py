"""HTTP routes for identity."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
