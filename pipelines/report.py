"""The summary table ``ramp data`` prints when it finishes."""

from __future__ import annotations

from typing import Any


def _rows(title: str, counts: dict[str, int]) -> list[str]:
    total = sum(counts.values()) or 1
    lines = [f"{title}:"]
    for key, value in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {key:<34} {value:>8,}  {100 * value / total:5.1f}%")
    return lines


def format_summary(stats: dict[str, Any], output: str) -> str:
    lines = [
        f"ramp data -> {output}",
        f"  {'documents':<34} {stats['documents']:>8,}",
        f"  {'passages':<34} {stats['passages']:>8,}",
        f"  {'tasks':<34} {stats['tasks']:>8,}",
        f"  {'rejects':<34} {stats['rejects']:>8,}",
        f"  {'records in (= tasks + rejects)':<34} {stats['records_in']:>8,}",
        f"  {'seconds':<34} {stats['seconds']:>8,}",
    ]
    lines += _rows("masks per task", stats["masks_per_task"])
    lines += _rows("label mix (masked spans)", stats["labels"])
    lines += _rows("rejects by reason", stats["rejects_by_reason"])
    return "\n".join(lines)


def print_summary(stats: dict[str, Any], output: str) -> None:
    print(format_summary(stats, output))
