"""Beam pipelines: Wikipedia in, RAMP tasks out. DoFns here only wire ``ramp`` functions."""
