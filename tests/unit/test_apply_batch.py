"""Running a batch of planned actions: order within an action, parallel actions, failures, settling."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from anklume.apply import batch, settle
from anklume.plan.action import Action, Command


def _action(name: str, *steps: str, tolerate: str | None = None) -> dict[str, object]:
    commands = tuple(Command(s, ("incus", s, name), tolerate=tolerate) for s in steps)
    return Action("create", "instance", name, "pro", commands=commands).to_dict()


def test_each_action_runs_its_commands_in_order_and_stops_at_its_first_failure() -> None:
    seen: list[tuple[str, ...]] = []

    def runner(argv: Sequence[str], stdin: str | None) -> tuple[int, str, str]:
        seen.append(tuple(argv))
        return (1, "", "no space left") if argv[1] == "create" and argv[2] == "b" else (0, "", "")

    results = batch.run_actions([_action("a", "create", "start"), _action("b", "create", "start")], runner, parallel=1)
    assert seen == [("incus", "create", "a"), ("incus", "start", "a"), ("incus", "create", "b")]
    assert [(r.label, r.changed, r.failed, r.stderr) for r in results] == [
        ("pro/a", True, False, ""),
        ("pro/b", False, True, "no space left"),
    ]


def test_independent_actions_run_side_by_side() -> None:
    running, peak, lock = [0], [0], threading.Lock()

    def runner(argv: Sequence[str], stdin: str | None) -> tuple[int, str, str]:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return 0, "", ""

    batch.run_actions([_action(n, "create") for n in "abcdef"], runner, parallel=3)
    assert peak[0] == 3


def test_only_the_steps_asked_for_run_and_a_tolerated_error_is_no_change() -> None:
    def runner(argv: Sequence[str], stdin: str | None) -> tuple[int, str, str]:
        return 1, "", "Error: Volume by that name already exists"

    results = batch.run_actions(
        [_action("a", "create-volume", "start", tolerate="already exists")], runner, steps=["create-volume"]
    )
    assert [(r.changed, r.failed, r.ran) for r in results] == [(False, False, 1)]
    assert batch.run_actions([_action("a", "start")], runner, steps=["delete"]) == []


def test_stdin_reaches_the_command() -> None:
    got: list[str | None] = []
    action = Action("create", "profile", "p", "pro", commands=(Command("create", ("incus", "x"), '{"a": 1}'),))
    batch.run_actions([action.to_dict()], lambda argv, stdin: (got.append(stdin), (0, "", ""))[1])
    assert got == ['{"a": 1}']


def test_settling_waits_for_the_last_start_then_returns() -> None:
    now = [1000.0]
    started_at = "1970-01-01T00:16:39Z"  # 999: one second before the first poll
    live = [{"project": "p", "name": "a", "status": "Running", "last_used_at": started_at}]
    msg = settle.wait_running(
        [{"project": "p", "name": "a"}],
        lambda: live,
        lambda p, n: "",
        settle=3,
        clock=lambda: now[0],
        sleep=lambda s: now.__setitem__(0, now[0] + s),
    )
    assert msg == "" and now[0] == 1002.0


def test_settling_gives_up_after_the_timeout() -> None:
    now = [1000.0]
    live = [{"project": "p", "name": "a", "status": "Running", "last_used_at": "2100-01-01T00:00:00Z"}]
    msg = settle.wait_running(
        [{"project": "p", "name": "a"}],
        lambda: live,
        lambda p, n: "",
        timeout=5,
        clock=lambda: now[0],
        sleep=lambda s: now.__setitem__(0, now[0] + s),
    )
    assert msg == "instances did not settle within 5 s: p/a"


def test_the_runner_runs_incus_commands_only() -> None:
    run = batch.subprocess_runner("/bin/true")
    assert run(["incus", "version"], None)[0] == 0  # argv[0] becomes the incus binary given
    rc, _out, err = run(["/bin/sh", "-c", "touch /tmp/x"], None)
    assert rc == 126 and "not an incus command" in err
