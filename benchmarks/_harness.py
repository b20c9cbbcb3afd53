"""What the benchmarks share: the measuring wrapper and the jwst environment.

:func:`run` starts a command under a small wrapper interpreter that reports
its wall time and peak resident set size; :func:`jwst_environment` prepares
the variables under which the Python of a separate jwst environment runs
jwst's step without a CRDS server.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

MIB = 2**20

#: The variable naming the Python of an environment where jwst is installed.
JWST_PYTHON_VARIABLE = "IRISDQ_BENCH_JWST_PYTHON"


class Run(NamedTuple):
    wall: float  # seconds
    maxrss: int  # bytes
    stdout: str


# A small interpreter starts each measured command and reports its wall time
# and peak resident set size. The command is not forked from the benchmark
# itself: a child's ru_maxrss starts from the resident size of the process
# it was forked from (its memory before exec counts), which here holds
# numpy, astropy and a 64 MiB mask. The wrapper's ~10 MiB is the floor.
WRAPPER = """
import os, sys, time
start = time.perf_counter()
pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(sys.argv[1], "w") as report:
    report.write(f"{wall} {usage.ru_maxrss * 1024}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run(command: list[str], env=None) -> Run:
    """Run ``command``; return its wall time, peak RSS and standard output."""
    with tempfile.NamedTemporaryFile("r") as report:
        process = subprocess.run(
            [sys.executable, "-I", "-S", "-c", WRAPPER, report.name, *command],
            capture_output=True,
            text=True,
            env=env,
        )
        if process.returncode != 0:
            raise RuntimeError(
                f"{' '.join(map(str, command))} exited with {process.returncode}:"
                f"\n{process.stderr}{process.stdout}"
            )
        wall, maxrss = report.read().split()
    return Run(float(wall), int(maxrss), process.stdout)


def sync() -> None:
    os.sync()


def remove(*paths: Path) -> None:
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def median(values) -> float:
    return statistics.median(values)


def spread(runs: list[Run]) -> str:
    walls = [r.wall for r in runs]
    return f"{min(walls):.2f}-{max(walls):.2f} s"


def irisdq_command() -> list[str]:
    # The script installed beside this interpreter, not a shim found on PATH
    # (pyenv's shims are shell scripts that cost ~50 ms per call).
    script = Path(sys.executable).parent / "irisdq"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "irisdq.cli.main"]


def jwst_environment(cache: Path, context: str = "jwst_0000.pmap") -> dict:
    """The environment for jwst's step: CRDS off line on the cache `cache`.

    No server is asked: the server URL is refused at once and CRDS runs in
    local mode on `context`. Parameter reference files are not looked up.
    The cache gets the configuration CRDS reads when off line (to record the
    context name in the output) if it has none.
    """
    env = dict(os.environ)
    for variable in list(env):
        if variable.startswith(("CRDS_", "STPIPE_")):
            del env[variable]
    config = cache / "config" / "jwst" / "server_config"
    if not config.exists():
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(
            repr(
                {
                    "observatory": "jwst",
                    "operational_context": context,
                    "edit_context": context,
                    "last_synced": "2020-07-13 00:00:00",
                    "force_remote_mode": False,
                    "bad_files": "",
                    # Read when CRDS chooses references off line.
                    "bad_files_list": [],
                }
            )
        )
    env.update(
        CRDS_PATH=str(cache),
        CRDS_SERVER_URL="https://127.0.0.1:9",
        CRDS_MODE="local",
        CRDS_CONTEXT=context,
        STPIPE_DISABLE_CRDS_STEPPARS="true",
    )
    return env
