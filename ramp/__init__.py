"""RAMP pure core: records, masking, leak rules, curriculum and metrics.

Nothing in this package imports Beam or torch; frameworks in ``pipelines/``,
``agents/`` and ``training/`` wire these plain functions.
"""

__version__ = "0.1.0"
