"""Request-scoped dependencies: the context and the process's services."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from kinko.context import Context
from kinko.identity.binding import StepUp
from kinko.identity.step_ups import SecondVote
from kinko.identity.views import StepUpBody
from kinko.services import Services


async def get_ctx(request: Request) -> Context:
    # async: FastAPI runs a plain `def` dependency in the thread pool, a hop per request.
    ctx: Context = request.app.state.ctx
    return ctx


async def get_services(request: Request) -> Services:
    """The app's services, built once by its composition root (`kinko.server.create_app`)."""
    services: Services = request.app.state.services
    return services


AppServices = Annotated[Services, Depends(get_services)]
"""A route's services: ``def route(services: AppServices)``."""


def second_vote(services: Services, step_up: StepUpBody | None) -> SecondVote:
    """The four-eyes vote a request carries: the owner's approve method confirms the
    approver's bound step-up with it, after its rules and before applying anything."""
    presented = None if step_up is None else StepUp(step_up.challenge_id, step_up.credential)
    return services.step_ups.presented(presented)
