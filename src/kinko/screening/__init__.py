"""Sanctions and stolen-funds screening: list loaders, address and name matching.

Entry point for other domains: `kinko.screening.service.ScreeningService`; re-screening
hook: `kinko.screening.rescreen.register_rescreen_provider`. See docs/screening.md.
"""
