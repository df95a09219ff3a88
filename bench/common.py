"""What the benchmarks share: free ports, processes' peak memory, wrk runs and their figures, and
writing one section of RESULTS.md while keeping the others."""

from __future__ import annotations

import os
import re
import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
# Production runs with Redis (`make serve` requires REDIS_URL): rate limits, the SMS-code lock and
# bearer-token sign-ins (ADR 0018) live there. The benches use a Redis database of their own,
# emptied when they start; BENCH_REDIS_URL= (empty) runs them on local memory instead.
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def redis_env() -> dict[str, str]:
    """REDIS_URL for a bench's server, on a Redis database emptied now ({} without one)."""
    if not BENCH_REDIS_URL:
        return {}
    import redis

    redis.Redis.from_url(BENCH_REDIS_URL).flushdb()
    return {"REDIS_URL": BENCH_REDIS_URL}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                kids = Path(f"/proc/{p}/task/{task}/children").read_text().split()
                out += [int(k) for k in kids]
                todo += [int(k) for k in kids]
        except OSError:
            continue
    return out


def cpu_seconds(*pids: int) -> float:
    """CPU time (user + system) the processes have used so far, in seconds (0 for one gone)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / tick


def status_kb(pid: int, key: str) -> int:
    """A /proc/<pid>/status figure in kB (VmHWM: peak resident memory), 0 if gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def wrk_run(port: int, path: str, seconds: float, *, connections: int, threads: int = 2,
            lua: str | None = None, script_args: list[str] | None = None) -> dict:
    """One wrk run: requests/s, p50/p99 in ms, and bad answers (non-2xx/3xx and socket
    errors)."""
    cmd = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}",
           f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "10s"]
    if lua:
        cmd += ["-s", lua]
    tail = ["--", *script_args] if script_args else []
    run = subprocess.run([*cmd, f"http://127.0.0.1:{port}{path}", *tail], check=True,
                         capture_output=True, text=True, errors="replace")
    out = run.stdout

    def latency(label: str) -> float:
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       out)
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    return {"rps": float(found.group(1)) if found else 0.0,
            "requests": int(total.group(1)) if total else 0,
            "p50": latency("50"), "p99": latency("99"),
            "bad": (int(non2xx.group(1)) if non2xx else 0)
            + (sum(int(g) for g in errors.groups()) if errors else 0),
            "output": out, "stderr": run.stderr}


def load_avg() -> float:
    return os.getloadavg()[0]


def write_section(section: str, text: str) -> None:
    """Replace (or append) the part of RESULTS.md from `section` to the next `## ` heading."""
    old = RESULTS.read_text() if RESULTS.exists() else "# Benchmarks\n"
    lines = old.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == section), None)
    if start is None:
        new = old.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n"
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
                   len(lines))
        kept_after = "\n".join(lines[end:])
        new = "\n".join(lines[:start]) + ("\n" if start else "") + text.rstrip("\n") + "\n"
        if kept_after:
            new += "\n" + kept_after.rstrip("\n") + "\n"
    RESULTS.write_text(new)
