"""Sanctions and stolen-funds screening: list loaders, address and name matching.

Entry point for other domains: `kinko.screening.service.ScreeningService`; re-screening
hook: `kinko.screening.rescreen.RescreenProvider`, given at construction. See docs/screening.md.
"""
