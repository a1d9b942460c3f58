"""HTTP routes for custody."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
