"""``python -m benchmarks``: run the suites, show a table, check the targets."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import structlog

from ._core import Context, Result, Target, have, machine
from .suites import (
    concurrency,
    fanout,
    gateway,
    http,
    memory,
    parse,
    resilience,
    shaping,
    structured,
)

SUITES: dict[str, ModuleType] = {
    m.NAME: m
    for m in (parse, http, concurrency, shaping, structured, resilience, gateway, memory, fanout)
}
BASELINES = {"parse": "floor", "http": "floor", "concurrency": "floor"}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--suite", action="append", choices=list(SUITES), help="run only these")
    parser.add_argument(
        "--quick", action="store_true", help="small sizes: a smoke run under a minute"
    )
    parser.add_argument("--json", type=Path, help="write one record per measurement here")
    parser.add_argument("--plot", type=Path, help="write a PNG chart of the ratios here")
    parser.add_argument("--markdown", type=Path, help="write the tables as Markdown here")
    args = parser.parse_args(argv)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))

    chosen = [SUITES[name] for name in (args.suite or list(SUITES))]
    ctx = Context(quick=args.quick)
    results: list[Result] = []
    with _progress(sum(suite.STEPS for suite in chosen)) as advance:
        ctx.advance = advance
        for suite in chosen:
            results += suite.run(ctx)
    targets: list[Target] = [t for suite in chosen for t in suite.TARGETS]
    verdicts = [(target, *target.check(results)) for target in targets]
    info = machine()
    _print_tables(results, verdicts, info, ctx.notes, quick=args.quick)
    if args.json:
        records = [r.record() | {"machine": info, "quick": args.quick} for r in results]
        records += [
            {
                "suite": t.suite,
                "target": t.description,
                "met": met,
                "detail": detail,
                "machine": info,
            }
            for t, met, detail in verdicts
        ]
        args.json.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n")
    if args.plot:
        _plot(results, args.plot, info)
    if args.markdown:
        args.markdown.write_text(_markdown(results, verdicts, info))
    return 0


def _markdown(
    results: list[Result], verdicts: list[tuple[Target, bool | None, str]], info: dict[str, Any]
) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items() if v)
    lines = [
        f"Measured {info['date']} on {info['cpus']} CPUs "
        f"({info['processor']}, {info['platform']}), Python {info['python']}; {versions}.",
        "",
        "| suite | case | client | metric | value | vs floor |",
        "|---|---|---|---|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.suite} | {r.case} | {r.client} | {r.metric} | {r.value:,.2f} {r.unit} "
            f"| {_ratio(r, results)} |"
        )
    lines += ["", "| target | result | measured |", "|---|---|---|"]
    for target, met, detail in verdicts:
        verdict = "n/a" if met is None else ("met" if met else "**not met**")
        lines.append(f"| {target.suite}: {target.description} | {verdict} | {detail} |")
    return "\n".join(lines) + "\n"


class _progress:
    """A rich progress bar when rich is installed, plain lines otherwise."""

    def __init__(self, total: int) -> None:
        self.total = total
        self._bar: Any = None

    def __enter__(self) -> Any:
        if have("rich"):
            from rich.progress import Progress

            self._bar = Progress(transient=True)
            self._bar.start()
            task = self._bar.add_task("benchmarks", total=self.total)
            return lambda label: self._bar.update(task, advance=1, description=label)
        return lambda label: print(f"  done: {label}", file=sys.stderr, flush=True)

    def __exit__(self, *_: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _ratio(result: Result, results: list[Result]) -> str:
    baseline = BASELINES.get(result.suite)
    if baseline is None or result.client == baseline:
        return ""
    for other in results:
        if (other.suite, other.case, other.client, other.metric) == (
            result.suite,
            result.case,
            baseline,
            result.metric,
        ):
            return f"{result.value / other.value:.2f}x" if other.value else ""
    return ""


def _print_tables(
    results: list[Result],
    verdicts: list[tuple[Target, bool | None, str]],
    info: dict[str, Any],
    notes: list[str],
    *,
    quick: bool,
) -> None:
    header = f"{info['date']} · Python {info['python']} · {info['cpus']} CPUs · {info['processor']}"
    if quick:
        header += " · --quick (small sizes; targets are for full runs)"
    rows = [
        (r.suite, r.case, r.client, r.metric, f"{r.value:,.2f} {r.unit}", _ratio(r, results))
        for r in results
    ]

    def verdict(met: bool | None) -> str:
        if quick:
            return "quick run: not judged"  # small sizes, one repeat: smoke only
        return "n/a" if met is None else ("met" if met else "NOT met")

    target_rows = [(t.suite, t.description, verdict(met), detail) for t, met, detail in verdicts]
    if have("rich"):
        from rich.console import Console
        from rich.table import Table

        console = Console()
        table = Table(title=f"rxstream benchmarks — {header}", title_justify="left")
        for column in ("suite", "case", "client", "metric", "value", "vs floor"):
            table.add_column(column, justify="right" if column in ("value", "vs floor") else "left")
        for row in rows:
            table.add_row(*row)
        console.print(table)
        checks = Table(title="targets", title_justify="left")
        for column in ("suite", "target", "result", "measured"):
            checks.add_column(column)
        for row in target_rows:
            checks.add_row(
                *row, style="green" if row[2] == "met" else ("red" if row[2] == "NOT met" else None)
            )
        console.print(checks)
    else:
        print(f"rxstream benchmarks — {header}")
        for row in rows:
            print(" | ".join(row))
        for row in target_rows:
            print(" | ".join(row))
    for note in notes:
        print(f"note: {note}")


PLOTTED = {
    "parse": "time per chunk",
    "http": "client CPU per chunk",
    "concurrency": "added latency p99",
}


def _plot(results: list[Result], path: Path, info: dict[str, Any]) -> None:
    if not have("matplotlib"):
        print("note: matplotlib not installed, no plot written", file=sys.stderr)
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    suites = [s for s in PLOTTED if any(r.suite == s for r in results)]
    if not suites:
        return
    figure, axes = plt.subplots(1, len(suites), figsize=(5 * len(suites), 4), squeeze=False)
    for axis, suite in zip(axes[0], suites, strict=True):
        chosen = [r for r in results if r.suite == suite and r.metric == PLOTTED[suite]]
        cases = sorted({r.case for r in chosen}, key=lambda c: [r.case for r in chosen].index(c))
        clients = [c for c in dict.fromkeys(r.client for r in chosen) if c != "floor"]
        width = 0.8 / max(len(clients), 1)
        for offset, client in enumerate(clients):
            ratios = []
            for case in cases:
                value = next(
                    (r.value for r in chosen if r.case == case and r.client == client), None
                )
                floor = next(
                    (r.value for r in chosen if r.case == case and r.client == "floor"), None
                )
                ratios.append(value / floor if value and floor else 0)
            positions = [i + offset * width for i in range(len(cases))]
            axis.bar(positions, ratios, width, label=client)
        axis.axhline(1.0, color="black", linewidth=0.8)
        axis.set_yscale("log")
        lowest = min((r.value for r in chosen if r.client != "floor"), default=1.0)
        floors = [r.value for r in chosen if r.client == "floor"]
        if floors and lowest:
            axis.set_ylim(bottom=min(0.5, lowest / max(floors) * 0.8))
        axis.set_xticks([i + width * (len(clients) - 1) / 2 for i in range(len(cases))], cases)
        axis.set_title(f"{suite}: {PLOTTED[suite]}\n(× the raw floor, lower is better)")
        axis.legend()
    figure.suptitle(f"rxstream benchmarks — {info['date']}, {info['cpus']} CPUs")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
