"""Chaos suite: concurrent inbound flows against a simulator that drops, stalls, fails
and redelivers, with the figures that must stay at zero (see :mod:`tests.chaos.harness`).

``python -m tests.chaos --minutes N`` runs the long version and prints the figures.
"""
