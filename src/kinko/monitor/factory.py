"""Building an engine from the operator's choices (rule folders, geo database)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kinko.context import Context
from kinko.monitor.baselines import default_baselines
from kinko.monitor.engine import Engine
from kinko.monitor.geo import open_geo
from kinko.monitor.notify import Notifier
from kinko.monitor.rules import RuleSet, default_pack, load_paths
from kinko.monitor.service import Hands, MonitorService


def load_rules(paths: Sequence[Path] = ()) -> RuleSet:
    """The given rule files/folders, or the default pack when none are given."""
    return load_paths(paths) if paths else default_pack()


def build_engine(
    rule_paths: Sequence[Path] = (), *, geo: Path | None = None, baselines: bool = True
) -> Engine:
    rules = load_rules(rule_paths)
    database = open_geo(geo) if geo is not None else None
    return Engine(rules, default_baselines(database) if baselines else ())


def start_monitor(
    ctx: Context,
    rule_paths: Sequence[Path] = (),
    *,
    geo: Path | None = None,
    notifiers: Sequence[Notifier] = (),
    hands: Hands | None = None,
) -> MonitorService:
    """A monitor subscribed to `ctx.bus`, for ``kinko serve`` (store it on app.state.monitor).
    `hands`: what its responses act through (kinko.services gives them; without, every
    response fails closed)."""
    service = (hands or Hands()).monitor(
        ctx, build_engine(rule_paths, geo=geo), notifiers=notifiers
    )
    service.attach()
    return service
