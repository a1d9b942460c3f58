"""Kinko: a self-hosted security control plane for crypto-asset exchanges."""

__version__ = "0.1.0"
