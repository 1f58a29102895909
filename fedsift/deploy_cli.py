"""Deployment commands: ``certs``, ``server start``, ``client run``, ``round run|status``, ``labels``.

Mounted by ``fedsift/cli.py``. Each long-running command starts one Flower process
(``flower-superlink`` or ``flower-supernode``) with the offline environment, runs it in
the foreground, passes SIGINT/SIGTERM on and exits with its status. ``round run`` wraps
``flwr run`` with run config overrides. ``fedsift client run`` needs only
``fedsift[edge]``: nothing here imports torch (the server-only imports are inside the
server commands).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Optional

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from fedsift.offline import apply_offline_environment

BIN = Path(sys.executable).parent
console = Console()

server_app = typer.Typer(help="The central side: SuperLink and fedsift's state store.", no_args_is_help=True,
                         add_completion=False)
client_app = typer.Typer(help="A device: a SuperNode serving the fedsift ClientApp.", no_args_is_help=True,
                         add_completion=False)
round_app = typer.Typer(help="Trigger and watch active-learning rounds (wraps `flwr run`).", no_args_is_help=True,
                        add_completion=False)
labels_app = typer.Typer(help="The labeling queue in the state store.", no_args_is_help=True, add_completion=False)


def _fail(message: str, code: int = 2) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def _foreground(args: list[str], env: dict[str, str], ready: str | None = None,
                on_ready=None) -> int:  # type: ignore[no-untyped-def]
    """Run ``args`` until it exits or we are told to stop; SIGINT/SIGTERM are passed on.

    ``on_ready`` runs once a line containing ``ready`` has been printed by the process.
    """
    proc = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, bufsize=1)

    def stop(signum: int, frame: object) -> None:
        proc.send_signal(signal.SIGTERM)

    old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            if ready and on_ready is not None and ready in line:
                on_ready()
                ready = None
        return proc.wait()
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _env(flwr_home: str) -> dict[str, str]:
    apply_offline_environment(flwr_home)
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    env["PYTHONUNBUFFERED"] = "1"
    return env


# ---------------------------------------------------------------------- certs
def certs_command(
    out: Path = typer.Option(..., "--out", help="folder to write the CA, server certificate and node keys to"),
    supernodes: int = typer.Option(2, "--supernodes", min=0, help="number of SuperNode key pairs"),
    days: int = typer.Option(30, "--days", min=1, help="validity of the certificates and keys"),
) -> None:
    """Write a trial PKI: CA, SuperLink certificate, SuperNode keys, model-signing and labeling keys."""
    from fedsift.server.certs import generate_trial_pki, write_labeling_keys
    from fedsift.server.signing import ModelSigner

    pki = generate_trial_pki(out, supernodes, days=days)
    labeling = write_labeling_keys(out / "labeling", days=days)
    ModelSigner.load_or_create(out / "model.key")
    console.print(f"CA certificate      {pki.ca_cert}  (devices: superlink.root_certificates)")
    console.print(f"SuperLink cert/key  {pki.server_cert} {pki.server_key}")
    for keys in pki.supernodes:
        console.print(f"SuperNode key       {keys.private_key}  (device: superlink.auth_key; "
                      f"server.toml: {keys.public_key})")
    console.print(f"model signing key   {out / 'model.key'}  (run config model-key; devices pin "
                  f"{out / 'model.key.pub'})")
    console.print(f"labeling service    {labeling.signer_key}, {labeling.hpke_keys}  (devices: copy "
                  f"{labeling.signer_pub.name} as labeling-signer.pub and {labeling.keyset.name} into privacy_dir)")


# --------------------------------------------------------------------- server
@server_app.command("start")
def server_start(
    config: Path = typer.Option(..., "--config", exists=True, dir_okay=False, help="server.toml"),
) -> None:
    """Start the SuperLink (TLS, SuperNode auth) and the state store; register the SuperNode keys."""
    from fedsift.config import load_sectioned_config
    from fedsift.server.deploy_config import ServerDeployConfig, connection_toml, superlink_command
    from fedsift.server.state import CampaignState

    cfg: ServerDeployConfig = load_sectioned_config(config, ServerDeployConfig)
    env = _env(cfg.federation.flwr_home)
    CampaignState(cfg.state.path).close()  # created (or checked) before anything connects
    link = cfg.superlink
    Path(link.database).parent.mkdir(parents=True, exist_ok=True)
    home = Path(cfg.federation.flwr_home)
    (home / "config.toml").write_text(connection_toml(cfg.federation.name, f"{link.host}:{link.port}",
                                                      None if link.insecure else link.ca_cert), encoding="utf-8")

    def register() -> None:
        for key in cfg.federation.supernode_keys:
            proc = subprocess.run([str(BIN / "flwr"), "supernode", "register", key, cfg.federation.name,
                                   "--format", "json"], env=env, capture_output=True, text=True, timeout=60,
                                  stdin=subprocess.DEVNULL)
            console.print(f"registered {key}: " + (proc.stdout.strip().splitlines() or ["?"])[-1]
                          if proc.returncode == 0 else f"[red]could not register {key}[/]: {proc.stdout}{proc.stderr}")
        console.print(f"state store {cfg.state.path}; connection '{cfg.federation.name}' in {home / 'config.toml'}")
        console.print(f"trigger rounds with: FLWR_HOME={home} fedsift round run --federation {cfg.federation.name} "
                      f"--state {cfg.state.path} --set num-features=N --set num-classes=K")

    raise typer.Exit(_foreground(superlink_command(link, BIN), env, ready="Application startup complete",
                                 on_ready=register))


# --------------------------------------------------------------------- client
@client_app.command("run")
def client_run(
    config: Path = typer.Option(..., "--config", exists=True, dir_okay=False, help="device.toml"),
    check: bool = typer.Option(False, "--check", help="read the config and the local pool, print them, exit"),
) -> None:
    """Start a SuperNode on this device serving the fedsift ClientApp (no torch needed)."""
    from fedsift.client.datasource import read_pool
    from fedsift.client.device_config import DeviceConfig, supernode_command
    from fedsift.config import load_sectioned_config
    from fedsift.protocols.flwr_config import toml_pairs

    cfg: DeviceConfig = load_sectioned_config(config, DeviceConfig)
    mb = cfg.device.max_memory_mb
    pool = read_pool(cfg.device.data_path, **({"max_bytes": int(mb * (1 << 20))} if mb else {}))
    console.print(f"device {cfg.device.id}: {len(pool.ids)} samples x {pool.x.shape[1]} features from "
                  f"{cfg.device.data_path}; labels in {cfg.device.store_path}")
    args = supernode_command(cfg, BIN, toml_pairs(cfg.node_config()))
    if check:
        console.print(" ".join(args))
        return
    raise typer.Exit(_foreground(args, _env(cfg.supernode.flwr_home)))


# ---------------------------------------------------------------------- round
def _overrides(pairs: list[str]) -> dict[str, bool | int | float | str]:
    out: dict[str, bool | int | float | str] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise _fail(f"--set {pair!r}: expected KEY=VALUE")
        value: bool | int | float | str = raw
        if raw in ("true", "false"):
            value = raw == "true"
        else:
            for cast in (int, float):
                try:
                    value = cast(raw)
                    break
                except ValueError:
                    continue
        out[key] = value
    return out


@round_app.command("run")
def round_run(
    federation: str = typer.Option(..., "--federation", help="SuperLink connection name (FLWR_HOME/config.toml)"),
    state: Path = typer.Option(..., "--state", help="the campaign's state store (as in server.toml)"),
    budget: Optional[int] = typer.Option(None, help="labels per round"),
    strategy: Optional[str] = typer.Option(None, help="acquisition strategy or auto"),
    phase: str = typer.Option("all", help="select, deliver, train or all"),
    rounds: Optional[int] = typer.Option(None, help="rounds in the whole campaign"),
    set_: list[str] = typer.Option([], "--set", help="more run config, KEY=VALUE (e.g. num-features=64)"),
    app_dir: Optional[Path] = typer.Option(None, "--app", help="Flower app folder [default: written next to the state]"),
    flwr_home: Optional[Path] = typer.Option(None, "--flwr-home", envvar="FLWR_HOME",
                                             help="folder holding the connection (server.toml federation.flwr_home)"),
    timeout: float = typer.Option(24 * 3600.0, help="seconds to wait for flwr run"),
) -> None:
    """Run a phase (or whole rounds) of the campaign on the SuperLink with `flwr run`."""
    from fedsift.server.campaign import PHASES
    from fedsift.server.flwr_app import DEPLOYMENT_DEFAULTS, toml_pairs, write_app

    if phase not in PHASES:
        raise _fail(f"--phase {phase!r}: must be one of {', '.join(PHASES)}")
    if flwr_home is None or not (flwr_home / "config.toml").exists():
        raise _fail(f"no SuperLink connection in {flwr_home or '(FLWR_HOME is not set)'}/config.toml: pass "
                    "--flwr-home (or set FLWR_HOME) to server.toml's [federation] flwr_home")
    run_config = {"state-path": str(state.resolve()), "phase": phase, **_overrides(set_)}
    for key in ("model-key", "provenance-dir", "results-path"):  # the ServerApp runs in another folder
        if isinstance(run_config.get(key), str) and run_config[key]:
            run_config[key] = str(Path(str(run_config[key])).resolve())
    for key, value in (("budget", budget), ("strategy", strategy), ("num-rounds", rounds)):
        if value is not None:
            run_config[key] = value
    unknown = sorted(set(run_config) - set(DEPLOYMENT_DEFAULTS))
    app = app_dir or write_app(state.resolve().parent / "flwr-app",
                               {**DEPLOYMENT_DEFAULTS, **{k: run_config[k] for k in unknown}})
    args = [str(BIN / "flwr"), "run", str(app), federation, "--stream", "--run-config", toml_pairs(run_config)]
    env = _env(str(flwr_home))
    console.print(" ".join(args))
    try:
        code = subprocess.run(args, env=env, stdin=subprocess.DEVNULL, timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        raise _fail(f"flwr run did not finish within {timeout:.0f} s", 1) from None
    raise typer.Exit(code)


@round_app.command("status")
def round_status(state: Path = typer.Option(..., "--state", exists=True, dir_okay=False, help="state store")) -> None:
    """Each round's phase, labels and accuracy, and the labeling queue."""
    from fedsift.server.state import CampaignState

    with CampaignState(state) as st:
        results = {int(r["round"]): r for r in st.load_results()}
        selections = {r: (phase, sel) for r, phase, sel in st.selections()}
        queue = st.queue_counts()
    table = Table(title=f"campaign {state}", box=box.SIMPLE_HEAD)
    for col in ("round", "phase", "strategy", "budget", "released", "waiting", "labeled", "delivered",
                "labels", "accuracy", "model"):
        table.add_column(col, justify="right")
    for rnd in sorted(set(results) | set(selections)):
        phase, sel = selections.get(rnd, ("done" if rnd == 0 else "?", {}))
        res = results.get(rnd, {})
        q = queue.get(rnd, {})
        acc = res.get("accuracy")
        table.add_row(str(rnd), phase, str(sel.get("strategy", res.get("strategy", ""))),
                      str(sel.get("budget", "")), *(str(q.get(k, "")) for k in ("released", "waiting", "labeled",
                                                                                 "delivered")),
                      str(res.get("labels", "")), "" if acc is None or acc != acc else f"{acc:.4f}",
                      str(res.get("model_version", "")))
    out = console if console.is_terminal else Console(width=160)  # a pipe or file gets the whole table
    out.print(table)
    waiting = sum(q["waiting"] for q in queue.values())
    out.print(f"labeling queue: {waiting} item(s) waiting for a label")


# --------------------------------------------------------------------- labels
MAX_IMPORT_BYTES = 64 << 20


@labels_app.command("import")
def labels_import(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSONL: device_id, candidate_id, label[, annotator]"),
    state: Path = typer.Option(..., "--state", exists=True, dir_okay=False, help="state store"),
) -> None:
    """Put labels for queued items into the store (all or nothing); the next run delivers them."""
    from fedsift.server.errors import StateError
    from fedsift.server.labeling import LabeledSample
    from fedsift.server.state import CampaignState

    if file.stat().st_size > MAX_IMPORT_BYTES:
        raise _fail(f"{file}: larger than {MAX_IMPORT_BYTES} bytes")
    labeled = []
    for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict) or set(obj) - {"device_id", "candidate_id", "label", "annotator"}:
                raise ValueError("expected an object with device_id, candidate_id, label[, annotator] only")
            label = obj["label"]
            if not isinstance(label, int) or isinstance(label, bool) or not 0 <= label < 1000:
                raise ValueError(f"label {label!r} is not a class index in [0, 1000)")
            labeled.append(LabeledSample(str(obj["device_id"]), str(obj["candidate_id"]), label,
                                         str(obj.get("annotator", "import"))[:200]))
        except (ValueError, KeyError) as exc:
            raise _fail(f"{file}:{n}: {exc}") from None
    with CampaignState(state) as st:
        try:
            added = st.submit_labels(labeled)
        except StateError as exc:
            raise _fail(f"{file}: {exc}; nothing was imported") from None
    console.print(f"imported {added} new label(s) of {len(labeled)} line(s); deliver with "
                  "`fedsift round run --phase deliver` (or train/all)")


@labels_app.command("pending")
def labels_pending(state: Path = typer.Option(..., "--state", exists=True, dir_okay=False, help="state store")) -> None:
    """List queued items waiting for a label, one JSON object per line (no payloads)."""
    from fedsift.server.state import CampaignState

    with CampaignState(state) as st:
        for item in st.pending():
            console.print_json(json.dumps({"round": item.round, "device_id": item.device_id,
                                           "candidate_id": item.candidate_id, "content_type": item.content_type,
                                           "random_slice": item.random_slice}), indent=None)


def mount(app: typer.Typer) -> None:
    """Add the deployment commands to the ``fedsift`` CLI."""
    app.command("certs")(certs_command)
    app.add_typer(server_app, name="server")
    app.add_typer(client_app, name="client")
    app.add_typer(round_app, name="round")
    app.add_typer(labels_app, name="labels")

