"""anklume.incus.run: argv construction, logging and errors (process boundary stubbed)."""

from __future__ import annotations

import importlib
import logging
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pytest
from pydantic import BaseModel

from anklume.errors import IncusCommandFailed, IncusError, IncusNotFound

# The package re-exports the function ``run``, which hides the module of the same name.
incus_run = importlib.import_module("anklume.incus.run")


@dataclass
class FakeProcess:
    """Records the calls subprocess.run receives and answers a canned result."""

    stdout: str = ""
    stderr: str = ""
    returncode: int = 0
    raises: BaseException | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.calls.append({"argv": argv, **kwargs})
        if self.raises is not None:
            raise self.raises
        return subprocess.CompletedProcess(argv, self.returncode, self.stdout, self.stderr)


@pytest.fixture(autouse=True)
def _fresh_binary(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("ANKLUME_INCUS", raising=False)
    monkeypatch.setattr(incus_run.shutil, "which", lambda name: f"/usr/bin/{name}")
    incus_run.binary.cache_clear()
    yield
    incus_run.binary.cache_clear()


@pytest.fixture
def proc(monkeypatch: pytest.MonkeyPatch) -> FakeProcess:
    fake = FakeProcess()
    monkeypatch.setattr(incus_run.subprocess, "run", fake)
    return fake


class Argv(NamedTuple):
    test_id: str
    argv: list[str]
    project: str | None
    expected: list[str]


ARGV_CASES = [
    Argv("plain", ["list"], None, ["/usr/bin/incus", "list"]),
    Argv(
        "project goes before the subcommand",
        ["exec", "c1", "--", "true"],
        "pro",
        ["/usr/bin/incus", "--project", "pro", "exec", "c1", "--", "true"],
    ),
]


@pytest.mark.parametrize("case", ARGV_CASES, ids=[c.test_id for c in ARGV_CASES])
def test_run_builds_argv(case: Argv, proc: FakeProcess) -> None:
    incus_run.run(case.argv, project=case.project)
    assert proc.calls[0]["argv"] == case.expected
    assert proc.calls[0]["text"] is True
    assert proc.calls[0]["check"] is False
    assert "shell" not in proc.calls[0]


def test_run_passes_input(proc: FakeProcess) -> None:
    incus_run.run(["profile", "edit", "p"], input="config: {}\n")
    assert proc.calls[0]["input"] == "config: {}\n"


def test_binary_override_is_looked_up_once(monkeypatch: pytest.MonkeyPatch, proc: FakeProcess) -> None:
    looked: list[str] = []

    def which(name: str) -> str:
        looked.append(name)
        return f"/opt/{name}"

    monkeypatch.setattr(incus_run.shutil, "which", which)
    monkeypatch.setenv("ANKLUME_INCUS", "my-incus")
    incus_run.run(["list"])
    incus_run.run(["info"])
    assert looked == ["my-incus"]
    assert proc.calls[1]["argv"][0] == "/opt/my-incus"


def test_missing_binary_raises_not_found(monkeypatch: pytest.MonkeyPatch, proc: FakeProcess) -> None:
    monkeypatch.setattr(incus_run.shutil, "which", lambda name: None)
    with pytest.raises(IncusNotFound, match="'incus' not found"):
        incus_run.run(["list"])
    assert proc.calls == []


def test_binary_vanishing_raises_not_found(proc: FakeProcess) -> None:
    proc.raises = FileNotFoundError("incus")
    with pytest.raises(IncusNotFound):
        incus_run.run(["list"])


def test_failure_raises_with_argv_rc_and_stderr(proc: FakeProcess) -> None:
    proc.returncode, proc.stderr = 1, "Error: Project not found\n"
    with pytest.raises(IncusCommandFailed) as info:
        incus_run.run(["list"], project="nope")
    assert info.value.argv == ["incus", "--project", "nope", "list"]
    assert info.value.rc == 1
    assert "Project not found" in str(info.value)


def test_failure_without_check_returns_process(proc: FakeProcess) -> None:
    proc.returncode = 1
    assert incus_run.run(["info"], check=False).returncode == 1


def test_timeout_raises_command_failed(proc: FakeProcess) -> None:
    proc.raises = subprocess.TimeoutExpired(["incus"], 5)
    with pytest.raises(IncusCommandFailed, match="timed out") as info:
        incus_run.run(["info"], timeout=5)
    assert info.value.rc == -1


class BadArgv(NamedTuple):
    test_id: str
    argv: Any
    project: str | None
    error: type[Exception]


BAD_ARGV = [
    BadArgv("shell string", "list --all", None, TypeError),
    BadArgv("non-string item", ["list", 3], None, TypeError),
    BadArgv("empty", [], None, ValueError),
    BadArgv("project looking like an option", ["list"], "--all-projects", ValueError),
    BadArgv("project with a space", ["list"], "a b", ValueError),
]


@pytest.mark.parametrize("case", BAD_ARGV, ids=[c.test_id for c in BAD_ARGV])
def test_bad_argv_never_runs(case: BadArgv, proc: FakeProcess) -> None:
    with pytest.raises(case.error):
        incus_run.run(case.argv, project=case.project)
    assert proc.calls == []


def test_run_logs_argv_and_rc(proc: FakeProcess, caplog: pytest.LogCaptureFixture) -> None:
    proc.returncode = 0
    with caplog.at_level(logging.DEBUG, logger="anklume.incus.run"):
        incus_run.run(["list"], project="pro")
    record = caplog.records[-1]
    assert getattr(record, "incus_argv", None) == ["incus", "--project", "pro", "list"]
    assert getattr(record, "incus_rc", None) == 0


def test_query_appends_format_and_parses(proc: FakeProcess) -> None:
    proc.stdout = '[{"name": "c1", "status": "Running"}]'
    assert incus_run.query(["list"], project="pro") == [{"name": "c1", "status": "Running"}]
    assert proc.calls[0]["argv"][-2:] == ["--format", "json"]


def test_query_raw_api_gets_no_format_flag(proc: FakeProcess) -> None:
    proc.stdout = '{"aliases": []}'
    assert incus_run.query(["query", "/1.0/images/abc"]) == {"aliases": []}
    assert proc.calls[0]["argv"] == ["/usr/bin/incus", "query", "/1.0/images/abc"]


def test_query_empty_output_is_none(proc: FakeProcess) -> None:
    assert incus_run.query(["list"]) is None


def test_query_non_json_raises(proc: FakeProcess) -> None:
    proc.stdout = "+------+\n| NAME |\n"
    with pytest.raises(IncusError, match="did not answer JSON"):
        incus_run.query(["list"])


class Live(BaseModel):
    name: str
    status: str


def test_query_validates_into_model(proc: FakeProcess) -> None:
    proc.stdout = '[{"name": "c1", "status": "Running", "extra": 1}]'
    assert incus_run.query(["list"], model=list[Live]) == [Live(name="c1", status="Running")]


class Available(NamedTuple):
    test_id: str
    returncode: int
    which: str | None
    expected: bool


AVAILABLE = [
    Available("daemon answers", 0, "/usr/bin/incus", True),
    Available("daemon down", 1, "/usr/bin/incus", False),
    Available("no client", 0, None, False),
]


@pytest.mark.parametrize("case", AVAILABLE, ids=[c.test_id for c in AVAILABLE])
def test_available(case: Available, proc: FakeProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(incus_run.shutil, "which", lambda name: case.which)
    proc.returncode = case.returncode
    assert incus_run.available() is case.expected
