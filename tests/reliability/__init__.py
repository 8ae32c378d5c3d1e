"""Reliability and security suite (`pytest -m reliability`); figures in docs/reliability.md."""
