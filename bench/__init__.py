"""Benchmarks for tgirc-bridge: relay latency, burst drain, roster scale, memory, start-up.

Run with ``./scripts/bench.sh`` (or ``.venv/bin/python -m bench``); results go to
``bench/results.md`` and ``bench/results.json``. Not part of the pytest suite.
"""
