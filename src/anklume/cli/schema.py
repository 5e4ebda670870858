"""``anklume schema``: print the JSON Schema of the infra format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from anklume.cli import _present
from anklume.errors import UsageError


def schema(
    part: Annotated[
        str,
        typer.Argument(help="infra (infra.yml), base, domains or policies (the files of infra/)."),
    ] = "infra",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Print the JSON Schema of infra.yml (or of one file of the infra/ directory).

    Editors with a YAML language server validate and complete infra.yml when
    its first line is:

        # yaml-language-server: $schema=docs/schema/infra.json

    Examples:

        anklume schema > infra.schema.json

        anklume schema domains -o docs/schema/domains.json
    """
    from anklume.engine.schema import PARTS  # noqa: PLC0415 -- keep CLI start fast
    from anklume.engine.schema import schema as build  # noqa: PLC0415 -- imported only when used

    if part not in PARTS:
        msg = f"unknown part '{part}'; choose one of: {', '.join(PARTS)}"
        raise UsageError(msg)
    text = json.dumps(build(part), indent=2, sort_keys=False) + "\n"
    if output is None:
        _present.raw(text)
    else:
        output.write_text(text, encoding="utf-8")
        _present.info(f"wrote {output}")
