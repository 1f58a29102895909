"""``fedsift bench``: benchmarks that back the figures fedsift claims.

A thin face over :mod:`fedsift.simulations.benchmarks`; mounted by ``fedsift/cli.py`` as
``app.add_typer(bench_app, name="bench")``. Lists are comma-separated
(``--strategies margin,hybrid``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fedsift.offline import apply_offline_environment

bench_app = typer.Typer(help="Benchmarks: label efficiency of the strategies.", no_args_is_help=True,
                        add_completion=False)
console = Console()


def _split(value: Optional[str], cast=str) -> Optional[list]:  # type: ignore[no-untyped-def,type-arg]
    return None if value is None else [cast(v.strip()) for v in value.split(",") if v.strip()]


def _quiet_logging(verbose: bool) -> None:
    import flwr  # noqa: F401  (importing flwr resets its logger: set levels afterwards)

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s",
                        handlers=[RichHandler(console=console, show_path=False)], force=True)
    for name in ("flwr", "fedsift.server", "fedsift.simulations.runner"):
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.ERROR)
    logging.getLogger("flwr").propagate = False


@bench_app.callback()
def bench() -> None:
    """Benchmarks that back the figures fedsift claims (each rerunnable by anyone)."""


@bench_app.command("label-efficiency")
def label_efficiency(
    quick: bool = typer.Option(False, "--quick", help="digits + mnist1d, 10 clients, alpha 0.5, 3 seeds, 5 strategies"),
    datasets: Optional[str] = typer.Option(None, help="comma-separated (default: digits,mnist1d,rt-text)"),
    clients: Optional[str] = typer.Option(None, help="comma-separated device counts (default: 10,50)"),
    alphas: Optional[str] = typer.Option(None, help="comma-separated Dirichlet alphas (default: 0.1,0.5)"),
    seeds: Optional[str] = typer.Option(None, help="comma-separated seeds (default: 100..104)"),
    strategies: Optional[str] = typer.Option(None, help="comma-separated (default: auto + all registered)"),
    peer: Optional[str] = typer.Option(None, help="scikit-activeml methods (default: random,margin,entropy)"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="write the full results here (rewritten "
                                            "after every seed as a checkpoint)"),
    png_out: Optional[Path] = typer.Option(None, "--png", help="write the learning curves here"),
    set_: list[str] = typer.Option([], "--set", help="a campaign setting for the federated runs only, KEY=VALUE "
                                   "(repeat the option), e.g. train_rounds=20"),
    merge: Optional[list[Path]] = typer.Option(None, "--merge", help="run nothing: pool this result JSON "
                                                "(repeat the option; disjoint seeds, or the same seeds with "
                                                "other arms) into one report"),
    replace_arms: bool = typer.Option(False, "--replace-arms", help="with --merge: where two results on the same "
                                      "seeds hold an arm with different curves (a rerun after a fix), keep the "
                                      "later result's and list the arm as replaced"),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Federated strategies vs random, the central reference and scikit-activeml, over seeds."""
    apply_offline_environment()
    from fedsift.simulations.benchmarks import label_efficiency as le

    if replace_arms and not merge:
        console.print("[red]bad option:[/red] --replace-arms applies to --merge", soft_wrap=True)
        raise typer.Exit(2)
    if merge:
        from fedsift.simulations.errors import SimulationError

        if set_:
            console.print("[red]cannot merge:[/red] --set applies to runs; --merge runs nothing (merged results "
                          "keep the settings they were run with)", soft_wrap=True)
            raise typer.Exit(2)

        try:
            pooled = le.merge_files(merge, replace_arms)
        except SimulationError as exc:
            console.print(f"[red]cannot merge:[/red] {exc}", soft_wrap=True)
            raise typer.Exit(2) from exc
        le.write_outputs(pooled, json_out, png_out)
        console.print(le.report(pooled), markup=False, highlight=False, soft_wrap=True)
        return

    argv = ["--quick"] if quick else []
    for flag, value in (("--datasets", _split(datasets)), ("--clients", _split(clients, int)),
                        ("--alphas", _split(alphas, float)), ("--seeds", _split(seeds, int)),
                        ("--strategies", _split(strategies)), ("--peer", _split(peer))):
        if value is not None:
            argv += [flag, *map(str, value)]
    args = le.parse_args(argv)
    from fedsift.simulations.errors import SimulationError

    try:
        overrides = le.parse_overrides(set_)
    except SimulationError as exc:
        console.print(f"[red]bad --set:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(2) from exc
    _quiet_logging(verbose)
    total = le.runs_per_setting(args.seeds, args.strategies, args.peer) * len(args.datasets) * len(args.clients) \
        * len(args.alphas)
    with Progress(TextColumn("[bold]label efficiency"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[last]}"), TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("runs", total=total, last="")

        def on_run(label: str) -> None:
            progress.update(task, advance=1, last=label)

        result = le.run_benchmark(args.datasets, args.clients, args.alphas, args.seeds, args.strategies,
                                  args.peer, on_run=on_run, on_checkpoint=le.checkpointer(json_out),
                                  overrides=overrides)
    le.write_outputs(result, json_out, png_out)
    console.print(le.report(result), markup=False, highlight=False, soft_wrap=True)
