"""A small process supervisor for `make run`: start the programs, restart one that exits, stop all.

- Each program runs in its own session (process group), so the terminal's Ctrl-C reaches only
  the supervisor, which then stops the programs in order and on its terms: one signal to each
  program's leader (granian passes it on to its workers), up to `stop_timeout` seconds to
  finish in-flight requests and tasks, then SIGKILL to every process left in the groups.
- A program that exits while the supervisor is not stopping is restarted after a backoff
  (1 s, doubling to 30 s; back to 1 s once it has run for a minute), and the log says so.
- The supervisor is a child subreaper (Linux), so processes orphaned by a program (granian's
  workers when the leader dies) are re-parented to it and reaped, not left as zombies; and each
  program gets SIGTERM if the supervisor itself dies (PR_SET_PDEATHSIG).
- A second Ctrl-C while stopping kills everything at once.

In production systemd does all this (deploy/systemd/); this module is for one terminal.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
BACKOFF_FIRST, BACKOFF_MAX, HEALTHY_AFTER = 1.0, 30.0, 60.0


def _prctl(option: int, value: int) -> None:
    # Not Linux: no subreaper, no death signal; the rest still works.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


def _child_setup() -> None:
    # In the child, before exec: die with the supervisor rather than be orphaned.
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes in process group `pgid`, from /proc."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp …": comm may contain spaces and parentheses.
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 2 and fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry))
    return members


@dataclass
class Program:
    name: str
    argv: list[str]
    stop_signal: int = signal.SIGTERM
    env: dict[str, str] | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    started_at: float = 0.0
    restart_at: float | None = None
    backoff: float = BACKOFF_FIRST
    restarts: int = 0
    failures_in_row: int = 0


class Supervisor:
    def __init__(self, programs: list[Program], *, stop_timeout: float = 8.0,
                 log: Callable[[str], None] | None = None) -> None:
        self.programs = programs
        self.stop_timeout = stop_timeout
        self.log = log or (lambda line: print(f"supervise: {line}", file=sys.stderr, flush=True))
        self.stop_requested: int | None = None
        self.force = False

    # -- signals -------------------------------------------------------------------------
    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stop_requested is not None:
            self.force = True
        self.stop_requested = signum

    def _install_signals(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    # -- programs ------------------------------------------------------------------------
    def _start(self, program: Program) -> None:
        env = {**os.environ, **(program.env or {})}
        # argv is ours (built by the supervise command), not user input.
        program.process = subprocess.Popen(program.argv, env=env, start_new_session=True,  # noqa: S603
                                           preexec_fn=_child_setup)
        program.started_at, program.restart_at = time.monotonic(), None
        self.log(f"{program.name} started (pid {program.process.pid})")

    def _by_pid(self, pid: int) -> Program | None:
        return next((p for p in self.programs if p.process and p.process.pid == pid), None)

    def _reap(self) -> list[tuple[Program, int]]:
        """Collect every exited child (ours and orphans re-parented to us)."""
        exited = []
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            program = self._by_pid(pid)
            if program is not None and program.process is not None:
                code = os.waitstatus_to_exitcode(status)
                program.process.returncode = code  # so Popen does not wait for it again
                exited.append((program, code))
        return exited

    def _schedule_restart(self, program: Program, code: int) -> None:
        ran = time.monotonic() - program.started_at
        if ran >= HEALTHY_AFTER:
            program.failures_in_row = 0
        program.backoff = min(BACKOFF_FIRST * 2 ** program.failures_in_row, BACKOFF_MAX)
        program.failures_in_row += 1
        program.restart_at = time.monotonic() + program.backoff
        program.restarts += 1
        # Whatever the program left behind in its group (granian's workers after the leader
        # died) would hold the port or the task: end it before starting again.
        if program.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(program.process.pid, signal.SIGKILL)
        program.process = None
        self.log(f"{program.name} exited with {code} after {ran:.1f} s; "
                 f"restarting in {program.backoff:.0f} s")

    def _alive(self, program: Program) -> list[int]:
        return group_members(program.process.pid) if program.process else []

    # -- main loop -----------------------------------------------------------------------
    def run(self) -> int:
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
        self._install_signals()
        for program in self.programs:
            self._start(program)
        while self.stop_requested is None:
            for program, code in self._reap():
                self._schedule_restart(program, code)
            now = time.monotonic()
            for program in self.programs:
                if program.process is None and program.restart_at is not None \
                        and now >= program.restart_at:
                    self._start(program)
            time.sleep(0.2)
        return self.stop()

    def stop(self) -> int:
        started = time.monotonic()
        self.log(f"{signal.strsignal(self.stop_requested or signal.SIGTERM)}: stopping "
                 f"(up to {self.stop_timeout:.0f} s; Ctrl-C again to kill at once)")
        for program in self.programs:
            if program.process and program.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    program.process.send_signal(program.stop_signal)
        deadline = started + self.stop_timeout
        while time.monotonic() < deadline and not self.force:
            self._reap()
            if not any(self._alive(p) for p in self.programs):
                break
            time.sleep(0.1)
        for program in self.programs:
            left = self._alive(program)
            if left and program.process is not None:
                self.log(f"{program.name}: {len(left)} process(es) still running, killing them")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(program.process.pid, signal.SIGKILL)
        # Reap what we killed, and any orphan handed to us as subreaper.
        end = time.monotonic() + 2
        while time.monotonic() < end and any(self._alive(p) for p in self.programs):
            self._reap()
            time.sleep(0.05)
        self._reap()
        self.log(f"stopped in {time.monotonic() - started:.1f} s")
        return 0
