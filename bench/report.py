"""The one table the benchmark prints: measure | value | unit | notes."""

from collections import Counter
from dataclasses import dataclass

HEADER = ("measure", "value", "unit", "notes")


@dataclass(frozen=True)
class Row:
    measure: str
    value: float
    unit: str
    notes: str = ""
    digits: int = 1


def table(rows: list[Row]) -> str:
    cells = [HEADER] + [(r.measure, f"{r.value:,.{r.digits}f}", r.unit, r.notes) for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(HEADER))]
    lines = []
    for number, (measure, value, unit, notes) in enumerate(cells):
        lines.append(
            "  ".join(
                [measure.ljust(widths[0]), value.rjust(widths[1]), unit.ljust(widths[2]), notes]
            ).rstrip()
        )
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def error_note(errors: Counter) -> str:
    total = sum(errors.values())
    return "no errors" if total == 0 else f"{total} errors"


def error_lines(label: str, errors: Counter) -> list[str]:
    return [f"  {label}: {count} x {what}" for what, count in errors.most_common(5)]
