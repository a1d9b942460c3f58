"""Test support: real servers (PostgreSQL, Redis) and real parts, never mocks of Kinko."""
