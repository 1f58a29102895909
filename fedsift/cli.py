"""The ``fedsift`` command line. The only place in fedsift that prints."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fedsift.offline import apply_offline_environment

apply_offline_environment()

app = typer.Typer(help="fedsift: federated, edge-aware active learning on Flower.", no_args_is_help=True,
                  add_completion=False)


def _mount_subcommands() -> None:
    from fedsift import deploy_cli
    from fedsift.audit_cli import audit_app
    from fedsift.bench_cli import bench_app
    from fedsift.mask_cli import mask_command

    app.add_typer(audit_app, name="audit")
    app.add_typer(bench_app, name="bench")
    app.command("mask")(mask_command)
    deploy_cli.mount(app)


_mount_subcommands()
console = Console()


def _setup_logging(verbose: bool) -> None:
    import flwr  # noqa: F401  (importing flwr resets its logger: set levels afterwards)

    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(message)s", handlers=[RichHandler(console=console, show_path=False)],
                        force=True)
    logging.getLogger("flwr").setLevel(logging.INFO if verbose else logging.ERROR)
    for handler in logging.getLogger("flwr").handlers:
        handler.setLevel(logging.INFO if verbose else logging.ERROR)
    logging.getLogger("flwr").propagate = False


def _run_with_progress(sim, label: str):  # type: ignore[no-untyped-def]
    from fedsift.simulations import run_simulation

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("labels {task.fields[labels]:>5}  acc {task.fields[acc]}"), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        task = progress.add_task(label, total=sim.campaign.rounds, labels=0, acc="  -  ")

        def on_round(r) -> None:  # type: ignore[no-untyped-def]
            progress.update(task, completed=r.round, labels=r.labels, acc=f"{r.accuracy:.3f}")

        return run_simulation(sim, on_round=on_round)


def _curve_table(title: str, results: dict[str, list[dict]]) -> Table:
    table = Table(title=title)
    table.add_column("round", justify="right")
    table.add_column("labels", justify="right")
    names = list(results)
    for name in names:
        table.add_column(f"acc ({name})", justify="right")
    rows = max(len(r) for r in results.values())
    for i in range(rows):
        first = results[names[0]][i]
        best = max(results[n][i]["accuracy"] for n in names)
        cells = []
        for n in names:
            acc = results[n][i]["accuracy"]
            cells.append(f"[bold green]{acc:.3f}[/]" if acc == best and len(names) > 1 else f"{acc:.3f}")
        table.add_row(str(first["round"]), str(first["labels"]), *cells)
    return table


@app.command()
def simulate(
    dataset: str = typer.Option("digits", help="digits, mnist1d or rt-text"),
    clients: int = typer.Option(10, help="simulated devices"),
    alpha: float = typer.Option(0.5, help="Dirichlet concentration of the label skew"),
    rounds: Optional[int] = typer.Option(None, help="active-learning rounds [default: 10]"),
    budget: Optional[int] = typer.Option(None, help="labels per round [default: 20]"),
    strategy: Optional[str] = typer.Option(None, help="acquisition strategy, or auto (a bandit over strategies) [default: auto]"),
    allocation: Optional[str] = typer.Option(None, help="allocation policy [default: diversity]"),
    seed: Optional[int] = typer.Option(None, help="seed [default: 0]"),
    backend: str = typer.Option("inprocess", help="inprocess (fast, deterministic) or ray (Flower's engine)"),
    noise: float = typer.Option(0.0, help="simulated annotator label noise"),
    provenance: Optional[Path] = typer.Option(None, help="folder for the provenance log and its signing key"),
    config: Optional[Path] = typer.Option(None, help="TOML file with settings (options override it)"),
    out: Path = typer.Option(Path("runs/latest"), help="folder for results.json and learning_curve.png"),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Run one simulated campaign and write its learning curve."""
    from fedsift.config import load_simulation_config

    _setup_logging(verbose)
    sim = load_simulation_config(
        config, {"dataset": dataset, "clients": clients, "alpha": alpha, "backend": backend, "oracle_noise": noise,
         "provenance": str(provenance) if provenance else None},
        {"rounds": rounds, "budget": budget, "strategy": strategy, "allocation": allocation, "seed": seed})
    sim.validate()
    result = _run_with_progress(sim, f"{sim.campaign.strategy} on {sim.dataset}")
    result.write(out)
    console.print(_curve_table(f"{sim.dataset}, {sim.clients} clients, alpha={sim.alpha}, backend={sim.backend}",
                               {sim.campaign.strategy: result.rows()}))
    console.print(f"wrote {out / 'results.json'} and {out / 'learning_curve.png'} in {result.wall_seconds:.1f} s")


@app.command()
def demo(
    out: Path = typer.Option(Path("runs/demo"), help="folder for the runs and the comparison plot"),
    strategies: str = typer.Option("margin,entropy", help="strategies compared with random"),
    seeds: int = typer.Option(5, help="seeds per strategy (0..N-1); the table shows mean ± std"),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Digits, 10 devices, alpha 0.5, 10 rounds x 20 labels: strategies vs random, side by side."""
    import numpy as np

    from fedsift.config import load_simulation_config
    from fedsift.simulations.report import plot_curves, write_results

    _setup_logging(verbose)
    names = [*strategies.split(","), "random"]
    acc: dict[str, np.ndarray] = {}
    labels: list[int] = []
    for name in names:
        runs = []
        for seed in range(seeds):
            sim = load_simulation_config(None, {}, {"strategy": name, "seed": seed})
            result = _run_with_progress(sim, f"{name:>8} seed {seed}")
            result.write(out / name / f"seed{seed}", plot=False)
            runs.append([r["accuracy"] for r in result.rows()])
            labels = [r["labels"] for r in result.rows()]
        acc[name] = np.array(runs)
    table = Table(title=f"digits, 10 clients, alpha=0.5: test accuracy at equal labels (mean ± std, {seeds} seeds)")
    table.add_column("round", justify="right")
    table.add_column("labels", justify="right")
    for name in names:
        table.add_column(name, justify="right")
    for i, n_labels in enumerate(labels):
        best = max(acc[n][:, i].mean() for n in names)
        cells = [(f"[bold green]{acc[n][:, i].mean():.3f}[/]" if acc[n][:, i].mean() == best else
                  f"{acc[n][:, i].mean():.3f}") + f" ± {acc[n][:, i].std():.3f}" for n in names]
        table.add_row(str(i), str(n_labels), *cells)
    console.print(table)
    curves = {n: [{"labels": l, "accuracy": float(a)} for l, a in zip(labels, acc[n].mean(axis=0))] for n in names}
    plot_curves(out / "learning_curves.png", curves, f"digits, 10 clients, alpha=0.5 (mean of {seeds} seeds)")
    write_results(out, {"strategies": names, "seeds": seeds},
                  [{"round": i, "labels": l, **{n: {"mean": float(acc[n][:, i].mean()), "std": float(acc[n][:, i].std())}
                                                for n in names}} for i, l in enumerate(labels)])
    console.print(f"runs under {out}/<strategy>/seed<k>/results.json; summary {out / 'results.json'}; "
                  f"plot {out / 'learning_curves.png'}")


def main() -> None:
    # fedsift's own errors (every package's errors.py) end the command with their message
    # and status 2; anything else is a bug and keeps its traceback. The packages are not
    # imported here: a device runs `fedsift client run` without the server's torch.
    try:
        app()
    except Exception as exc:  # noqa: BLE001
        if not type(exc).__module__.startswith("fedsift."):
            raise
        console.print(f"[bold red]error:[/] {exc}")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
