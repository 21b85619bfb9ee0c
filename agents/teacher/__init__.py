"""MaskSearch's multi-agent teacher: planner, rewriter, observer and judge roles driven by
an explicit, batched state machine; every task ends as a trace or a reject row."""
