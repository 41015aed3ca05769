"""Calibration: tie the world's free parameters to dated evidence and to how alliances end.

Runs simulations through the engine and writes its report into ``calibration/``.
"""
