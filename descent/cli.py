"""`descent`: the command line for descent's API.

    descent upload FILE [--target COL] [--name NAME] [--delimiter D] [--decimal ,]
    descent train DATASET --optimizer sgd --lr 0.01 [--epochs 100] [...] [--watch]
    descent status JOB
    descent history JOB [--plot]
    descent predict JOB FILE
    descent cancel JOB
    descent sweep DATASET --grid optimizer.lr=0.001,0.01 [--folds K] [--base JSON] [--set K=V] [--watch]
    descent sweep DATASET --search tpe --space optimizer.lr=1e-4:1:log [--trials N] [--pruner hyperband] [...]
    descent sweeps [SWEEP] [--watch] [--cursor C]
    descent list datasets|jobs [--status S] [--dataset D] [--sweep S]
    descent export JOB [--format json|safetensors|onnx] [-o FILE]
    descent delete dataset|job ID...

DESCENT_URL (default http://localhost:8000), DESCENT_API_KEY and DESCENT_PROGRESS come from the
environment (descent.settings.ClientSettings).
Exit codes: 0 done, 1 the job failed or was cancelled, 2 bad usage, 3 the API refused the
request (4xx), 4 the API could not be reached or failed (5xx), 130 interrupted. Output piped into
a reader that stops early (`descent list jobs | head`) ends the command quietly with 0.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from .cli_catalogue import add_catalogue_commands, delete, export, list_lines
from .cli_results import result_table
from .cli_sweep import add_sweep_options, sweep_lines, sweep_request, sweeps_lines
from .client import TERMINAL, ApiError, Client
from .settings import ClientSettings
from .termplot import plot, progress_bar

EXIT_OK, EXIT_JOB_FAILED, EXIT_USAGE, EXIT_REFUSED, EXIT_UNAVAILABLE, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130


def parse_value(text: str) -> Any:
    """A command-line value as JSON when it parses (numbers, true, null, lists), else a string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        doc = doc.setdefault(part, {})
    doc[last] = value


def job_request(args: argparse.Namespace) -> dict[str, Any]:
    """The POST /v1/jobs body from the train options (only what was given; the API fills defaults)."""
    optimizer: dict[str, Any] = {"type": args.optimizer}
    if args.lr is not None:
        optimizer["lr"] = parse_value(args.lr)
    if args.batch_size is not None:
        optimizer["batch_size"] = args.batch_size
    body: dict[str, Any] = {"dataset_id": args.dataset, "optimizer": optimizer}
    if args.model == "mlp" or args.hidden or args.activation:
        body["model"] = {"type": "mlp"}
        if args.hidden:
            body["model"]["hidden"] = [int(w) for w in args.hidden.split(",")]
        if args.activation:
            body["model"]["activation"] = args.activation
    elif args.no_bias:
        body["model"] = {"type": "linear", "bias": False}
    for name in ("loss", "epochs", "seed"):
        if getattr(args, name) is not None:
            body[name] = getattr(args, name)
    if args.dev is not None or args.test is not None:
        body["split"] = {"dev": args.dev or 0.0, "test": args.test or 0.0}
    return with_assignments(body, args.set)


def with_assignments(body: dict[str, Any], assignments: list[str] | None) -> dict[str, Any]:
    """`body` with each `--set KEY=VALUE` set (a dotted KEY, a JSON VALUE or a string)."""
    for assignment in assignments or []:
        key, sep, value = assignment.partition("=")
        if not sep:
            raise SystemExit(f"descent: --set wants KEY=VALUE, got {assignment!r}")
        set_path(body, key, parse_value(value))
    return body


def watch(client: Client, job_id: str, out: Any, always_progress: bool = False) -> int:
    """A progress bar (on a terminal, or `always_progress`) until the job ends; Ctrl-C offers to
    cancel it."""
    started = time.monotonic()
    try:
        for job in client.watch(job_id):
            if out.isatty() or always_progress:
                out.write("\r" + progress_bar(job, time.monotonic() - started))
                out.flush()
    except KeyboardInterrupt:
        out.write("\n")
        if sys.stdin.isatty():
            answer = input(f"cancel job {job_id}? [y/N] ").strip().lower()
            if answer in ("y", "yes"):
                client.cancel(job_id)
                print(f"cancel requested for {job_id}")
        else:
            print(f"stopped watching; job {job_id} goes on (descent cancel {job_id} stops it)")
        return EXIT_INTERRUPTED
    out.write("\n")
    print(result_table(job))
    return EXIT_OK if job["status"] == "succeeded" else EXIT_JOB_FAILED


def column_lines(ds: dict[str, Any]) -> list[str]:
    """The dataset's columns, one line each: kind, missing cells, and what describes it best."""
    lines = []
    for col in ds.get("columns") or []:
        role = "  (target)" if col["name"] == ds["target_name"] else ""
        if col["kind"] == "number":
            what = f"{col['min']:.6g} … {col['max']:.6g}, mean {col['mean']:.6g}" if col["mean"] is not None else "empty"
        elif col["kind"] == "category":
            top = ", ".join(f"{c['value']} ({c['count']})" for c in col["categories"][:4])
            what = f"{col['distinct']} values: {top}{', …' if col['distinct'] > 4 else ''}"
        elif col["kind"] == "datetime":
            what = f"{col['min']} … {col['max']}"
        else:
            what = "not a feature"
        missing = f"{col['missing']} missing" if col.get("missing") else ""
        lines.append(f"  {col['name']:<20} {col['kind']:<9} {missing:<12} {what}{role}")
    return lines + [f"  warning: {w}" for w in ds.get("warnings") or []]


def show_value(value: Any) -> str:
    """A prediction: a number in 6 significant digits, a class label as it is."""
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def run(args: argparse.Namespace, client: Client, settings: ClientSettings | None = None) -> int:
    progress = (settings or ClientSettings()).progress
    if args.command == "upload":
        options = {k: v for k, v in (("delimiter", args.delimiter), ("decimal", args.decimal)) if v}
        ds = client.upload(Path(args.file), target=args.target, name=args.name, **options)
        print(
            f"{ds['id']}  {ds['name']}: {ds['rows']} rows × {ds['features']} features "
            f"({', '.join(ds['feature_names'])}) → {ds['target_name']}"
        )
        print("\n".join(column_lines(ds)))
        return EXIT_OK
    if args.command == "train":
        job = client.submit(job_request(args))
        print(f"{job['id']}  {job['status']}  {json.dumps(job['config']['optimizer'])}")
        return watch(client, job["id"], sys.stdout, progress) if args.watch else EXIT_OK
    if args.command == "status":
        job = client.job(args.job)
        progress = job["progress"]
        print(
            f"{job['id']}  {job['status']}  epoch {progress['epoch']}/{progress['epochs']}  "
            f"step {progress['step']}  ({progress['fraction']:.0%})"
        )
        if job["status"] in TERMINAL:
            print(result_table(job))
        return EXIT_JOB_FAILED if job["status"] in ("failed", "cancelled") else EXIT_OK
    if args.command == "history":
        history = client.history(args.job)
        train = history["train"]
        if args.plot:
            dev = history["dev"]
            print(plot(train["step"], train["loss"], train["smoothed"], dev["step"], dev["loss"]))
        else:
            print("step\tepoch\tloss\tsmoothed\tlr")
            columns = (train["step"], train["epoch"], train["loss"], train["smoothed"], train["lr"])
            for row in zip(*columns, strict=True):
                print("\t".join(str(v) for v in row))
        return EXIT_OK
    if args.command == "predict":
        answer = client.predict(args.job, Path(args.file))  # by header name when the file has one
        probability = answer.get("probability")
        for i, y in enumerate(answer["y"]):
            extra = f"\t{json.dumps(probability[i])}" if probability is not None else ""
            print(f"{show_value(y)}{extra}")
        for warning in answer.get("warnings", []):
            print(f"warning: {warning}", file=sys.stderr)
        return EXIT_OK
    if args.command == "cancel":
        job = client.cancel(args.job)
        print(f"{job['id']}  {job['status']}")
        return EXIT_OK
    if args.command == "sweep":
        base = with_assignments(json.loads(args.base) if args.base else {}, args.set)
        sweep = client.sweep(sweep_request(args, base))
        print(f"{sweep['id']}  {len(sweep['jobs'])} jobs")
        if args.watch:
            print("\n".join(sweep_lines(wait_sweep(client, sweep))))
        return EXIT_OK
    if args.command == "sweeps":
        if args.sweep:
            sweep = client.get_sweep(args.sweep)
            print("\n".join(sweep_lines(wait_sweep(client, sweep) if args.watch else sweep)))
        else:
            print("\n".join(sweeps_lines(client.sweeps(limit=args.limit, cursor=args.cursor))))
        return EXIT_OK
    if args.command == "list":
        for line in list_lines(client, args):
            print(line)
        return EXIT_OK
    if args.command == "export":
        told = export(client, args, sys.stdout.buffer)
        if told:
            print(told, file=sys.stderr)
        return EXIT_OK
    if args.command == "delete":
        refused = False
        for item, error in delete(client, args.kind, args.ids):
            if error is None:
                print(f"deleted {item}")
            else:
                refused = True
                print(f"descent: {item}: {error.line()}", file=sys.stderr)
        return EXIT_REFUSED if refused else EXIT_OK
    raise AssertionError(args.command)


def wait_sweep(client: Client, sweep: dict[str, Any]) -> dict[str, Any]:
    """The sweep, polled until it is done."""
    while sweep["status"] != "done":
        time.sleep(0.5)
        sweep = client.get_sweep(sweep["id"])
    return sweep


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="descent", description="Train models on a descent server.")
    sub = p.add_subparsers(dest="command", required=True)
    up = sub.add_parser("upload", help="upload a CSV, Parquet or Arrow file as a dataset")
    up.add_argument("file")
    up.add_argument("--target", help="target column: name or 0-based index (default: the last)")
    up.add_argument("--name")
    up.add_argument("--delimiter", help="CSV delimiter (default: detected among , ; tab |)")
    up.add_argument("--decimal", choices=[".", ","], help="CSV decimal mark (default .)")
    tr = sub.add_parser("train", help="submit a training job")
    tr.add_argument("dataset")
    tr.add_argument(
        "--optimizer", required=True, choices=["exhaustive", "gd", "sgd", "minibatch", "momentum", "adam"]
    )
    tr.add_argument("--lr", help='learning rate, or "auto"')
    tr.add_argument("--batch-size", type=int)
    tr.add_argument("--epochs", type=int)
    tr.add_argument("--loss", choices=["mse", "mae", "huber", "bce", "cross_entropy"])
    tr.add_argument("--model", choices=["linear", "mlp"])
    tr.add_argument("--hidden", help="MLP widths, e.g. 16,16")
    tr.add_argument("--activation", choices=["relu", "sigmoid", "tanh", "identity"])
    tr.add_argument("--no-bias", action="store_true", help="linear model without bias: ŷ = w·x")
    tr.add_argument("--dev", type=float, help="fraction held out as the dev split")
    tr.add_argument("--test", type=float, help="fraction held out as the test split")
    tr.add_argument("--seed", type=int)
    tr.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="any request field, e.g. standardize=false"
    )
    tr.add_argument("--watch", action="store_true", help="show progress until the job ends")
    for name, text in (("status", "a job's status and result"), ("cancel", "cancel a job")):
        sub.add_parser(name, help=text).add_argument("job")
    hi = sub.add_parser("history", help="a job's loss history")
    hi.add_argument("job")
    hi.add_argument("--plot", action="store_true", help="draw it in the terminal")
    pr = sub.add_parser(
        "predict", help="predict the rows of a CSV file (columns matched by header name; no header: in order)"
    )
    pr.add_argument("job")
    pr.add_argument("file")
    sw = sub.add_parser(
        "sweep",
        help="start a sweep: a grid, K-fold cross-validation, or a random/TPE search",
        description="Start a sweep of child jobs around a base job (--base JSON, then --set KEY=VALUE):\n"
        "  a grid       one child per combination of the --grid values;\n"
        "  --folds K    each grid point K times, each fold the dev split in turn (alone: K-fold\n"
        "               cross-validation of the base job);\n"
        "  --search     random or TPE: --trials children drawn from --space, --parallel at once.\n"
        "--watch waits, then prints the children ranked, the candidates' mean ± std over the folds,\n"
        "a search's trials and pruning, and the best overrides (descent sweeps SWEEP does later).",
        epilog="examples:\n"
        "  descent sweep DS --grid optimizer.lr=0.001,0.01,0.1 --grid 'model.hidden=[16,16],[32]' --set epochs=50\n"
        "  descent sweep DS --grid data.train_fraction=0.1,0.2,0.5,1 --set split.dev=0.3 --watch\n"
        "  descent sweep DS --grid optimizer.lr=0.01,0.1 --folds 5 --watch\n"
        "  descent sweep DS --search tpe --trials 40 --parallel 4 --pruner hyperband \\\n"
        "      --space optimizer.lr=1e-4:1:log --space optimizer.batch_size=8:256:8 --space 'model.hidden=[16],[32,32]'",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sw.add_argument("dataset")
    add_sweep_options(sw)
    ss = sub.add_parser("sweeps", help="list the sweeps (newest first), or show one")
    ss.add_argument("sweep", nargs="?", help="a sweep id: its children, candidates or trials")
    ss.add_argument("--watch", action="store_true", help="with a sweep id: wait until it is done")
    ss.add_argument("--limit", type=int, help="sweeps per page")
    ss.add_argument("--cursor", help="the page after a previous one (its `older:` line)")
    add_catalogue_commands(sub)
    return p


def quiet_stdout() -> None:
    """Standard output's reader has gone (`| head` has what it wanted): point standard output at
    /dev/null, so that Python's flush at exit does not complain about the broken pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = ClientSettings.from_env()
    client = Client(settings.url, settings.api_key or None)
    try:
        return run(args, client, settings)
    except BrokenPipeError:  # the API client turns its own socket errors into ApiError: this is stdout
        quiet_stdout()
        return EXIT_OK
    except ApiError as exc:
        print(f"descent: {exc.line()}", file=sys.stderr)
        return EXIT_UNAVAILABLE if exc.status == 0 or exc.status >= 500 else EXIT_REFUSED
    except (OSError, ValueError) as exc:  # cli_sweep.UsageError is a ValueError
        print(f"descent: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
