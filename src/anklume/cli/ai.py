"""``anklume ai``: the exclusive access to the ``ai-tools`` domain (who holds it; move it live)."""

from __future__ import annotations

from typing import Annotated

import typer

from anklume.cli import _present
from anklume.cli.context import options
from anklume.ops.complete import domain_names

app = typer.Typer(
    help="Exclusive AI access (global.ai_access_policy: exclusive): show who reaches ai-tools, move it live.",
    no_args_is_help=True,
)


@app.command("switch")
def switch(
    ctx: typer.Context,
    domain: Annotated[str, typer.Argument(help="The domain that gets the access.", autocompletion=domain_names)],
) -> None:
    """Give the exclusive access to ai-tools to DOMAIN, live (root).

    Stops the running gpu: true instances of the previous holder and of
    ai-tools (freeing their video memory), records DOMAIN in
    .anklume/ai-access.json, rewrites the generated files and replaces the
    host table in one nft transaction, then starts the ai-tools GPU
    instances again. The previous holder's own GPU instances stay stopped.

    Examples:

      sudo anklume ai switch perso

      sudo anklume -C ~/my-infra ai switch pro
    """
    from anklume.ai import live  # noqa: PLC0415 -- keep CLI start fast
    from anklume.ai.switch import switch as run  # noqa: PLC0415
    from anklume.apply.lock import infra_lock  # noqa: PLC0415

    directory = options(ctx).directory
    with infra_lock(directory):  # no sync, deploy or apply of this infra meanwhile
        done = run(directory, domain, live.steps())
    if done.unchanged:
        state = "reloaded" if done.loaded else "already enforced"
        _present.out(f"{done.holder} already holds the AI access (table inet {done.table} {state})")
        return
    for inst in done.stopped:
        _present.info(f"stopped GPU instance {inst.name} ({inst.domain}): its video memory is freed")
    for inst in done.restarted:
        _present.info(f"started GPU instance {inst.name} ({inst.domain}) again, fresh")
    kept = [i.name for i in done.stopped if i not in done.restarted]
    if kept:
        _present.info(f"left stopped: {', '.join(kept)} ('anklume instance start NAME' brings them back)")
    _present.out(f"AI access: {done.previous or 'nobody'} -> {done.holder} (table inet {done.table} replaced at once)")


@app.command("status")
def status(ctx: typer.Context) -> None:
    """Show which domain reaches ai-tools, where that comes from, and whether the host table enforces it.

    Exit 0 when the live table is the intended one, 3 when it drifted or is
    missing (run 'anklume network deploy' or 'anklume ai switch').

    Example: sudo anklume ai status
    """
    from anklume.ai.status import status as read  # noqa: PLC0415 -- keep CLI start fast
    from anklume.engine.pipeline import resolve  # noqa: PLC0415
    from anklume.network import deploy  # noqa: PLC0415

    directory = options(ctx).directory
    resolved = resolve(directory, check_roles=False)
    st = read(directory, resolved)
    if st.policy != "exclusive":
        _present.out("ai_access_policy: open (every policy to ai-tools applies; nothing to switch)")
        return
    origin = f"switched {st.record.switched_at}" if st.record else "ai_access_default of infra.yml"
    rows = [
        ("holder", st.holder or "-", origin),
        ("default", st.default or "-", "global.ai_access_default"),
        ("enforced", ", ".join(st.enforced) or "-", "policies to ai-tools in the intended table"),
        ("candidates", ", ".join(st.candidates), "anklume ai switch DOMAIN"),
    ]
    live = deploy.status(resolved)
    rows.append(("host table", "in sync" if live.in_sync else ("drift" if live.present else "missing"), live.table))
    _present.table("Exclusive AI access", ["", "value", "from"], rows)
    if not live.in_sync:
        raise typer.Exit(3)
