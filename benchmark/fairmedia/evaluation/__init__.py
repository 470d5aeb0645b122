"""Evaluation of finished runs: run evaluation, transfer evaluation, post-processing."""
