"""Entry point of the ``anklume`` command.

Every command group lives in its own module; this one wires them together,
parses the global options and turns :class:`AnklumeError` into exit codes
(0 ok, 1 failure, 2 invalid input or usage, 3 changes pending or drift).
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from anklume import __version__
from anklume.cli import _present
from anklume.cli.context import Options
from anklume.errors import AnklumeError

app = typer.Typer(
    name="anklume",
    help=(
        "Declarative compartmentalization of a Linux host with Incus and Ansible.\n\n"
        "Describe domains in infra.yml, then:\n\n"
        "  anklume sync            # write inventory/, group_vars/, host_vars/\n\n"
        "  anklume domain apply    # reconcile Incus with them"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        _present.out(f"anklume {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    directory: Annotated[
        Path,
        typer.Option(
            "-C",
            "--directory",
            help="Infra directory holding infra.yml or infra/ (default: the current directory).",
            file_okay=False,
        ),
    ] = Path(),
    verbose: Annotated[int, typer.Option("-v", "--verbose", count=True, help="More diagnostics (-vv: debug).")] = 0,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Global options."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = Options(directory=directory.resolve(), verbose=verbose)


def _register() -> None:
    from anklume.cli import doctor, domain, domain_exec, schema, sync  # noqa: PLC0415 -- registration only

    app.command("sync")(sync.sync)
    app.command("schema")(schema.schema)
    app.command("doctor")(doctor.doctor)
    domain_exec.register(domain.app)
    app.add_typer(domain.app, name="domain")
    from anklume.cli import destroy, disp  # noqa: PLC0415 -- registration only

    disp.register(app)
    destroy.register(app)
    from anklume.cli import import_cmd  # noqa: PLC0415 -- registration only

    app.command("import")(import_cmd.import_infra)
    groups = ("image", "network", "console", "telemetry", "dev", "instance", "snapshot", "ai", "portal", "golden")
    for name in (*groups, "proxy", "backup"):
        try:
            module = __import__(f"anklume.cli.{name}", fromlist=["app"])
        except ModuleNotFoundError as exc:
            if exc.name != f"anklume.cli.{name}":
                raise
            continue
        app.add_typer(module.app, name=name)


_register()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; record it when telemetry is on."""
    args = sys.argv[1:] if argv is None else argv
    start, rc = time.monotonic(), 1
    try:
        rc = _run(args)
    finally:
        from anklume import telemetry  # noqa: PLC0415 -- tiny; a no-op when telemetry is off

        command, domain = command_of(args)
        telemetry.record(command, domain, time.monotonic() - start, rc)
    return rc


def _run(args: list[str]) -> int:
    try:
        app(args=args, prog_name="anklume", standalone_mode=True)
    except SystemExit as exc:  # click exits on its own for --help and usage errors
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except AnklumeError as exc:
        _present.error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        _present.error("interrupted")
        return 130
    return 0


def command_of(args: list[str]) -> tuple[str, str | None]:
    """Return the command path and the domain named, never other argument values.

    >>> command_of(["-C", "/x", "domain", "apply", "pro", "--prune"])
    ('domain apply', 'pro')
    >>> command_of(["sync", "--check"])
    ('sync', None)
    """
    cmd: Any = typer.main.get_command(app)
    words: list[str] = []
    rest: list[str] = []
    skip = False
    for token in args:
        if skip:
            skip = False
        elif token in {"-C", "--directory"}:
            skip = True
        elif token.startswith("-"):
            continue
        elif token in getattr(cmd, "commands", {}):
            cmd = cmd.commands[token]
            words.append(token)
        else:
            rest.append(token)
    domain = rest[0] if words[:1] == ["domain"] and rest else None
    return " ".join(words) or "anklume", domain


if __name__ == "__main__":
    sys.exit(main())
