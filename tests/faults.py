"""Fault injection: run the ``irisdq`` command and stop it at its Nth write.

Every operation that changes a file (a write, a truncation, a kernel copy, a
rename, a link, an unlink, creating a file) is counted. At operation ``at``
the run gets one of:

- ``"kill"``: SIGKILL, the process dies on the spot;
- ``"int"`` / ``"term"``: a real SIGINT / SIGTERM sent to the process,
  handled as the command handles them (Ctrl-C, a batch system's stop);
- ``"enospc"``: the operation fails with ENOSPC, as on a full disk (only
  operations that can need space: writes, copies, creating files).

``at=0`` counts without injecting, to learn how many operations a run has.
A run is the ``irisdq`` command, or (``entry``) a function of this module
that takes the arguments the same way, such as :func:`update_ramp_dq_command`
(``update_ramp_dq`` on a ramp of any profile's layout).
A run happens in a child forked from a server (:class:`Server`) that has
already imported irisdq, numpy and astropy, so hundreds of runs take seconds,
not minutes.
"""

import builtins
import errno
import io
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

# Loaded once by the server, before any child is forked.
import irisdq.cli.main
import irisdq.datamodels
import irisdq.datamodels.asdf_tree
import irisdq.dq_init
import irisdq.profiles

_SPACE = {"write", "pwrite", "copy_file_range", "create", "truncate"}


class _Counter:
    def __init__(self, at: int, action: str, count_file: str) -> None:
        self.at, self.action, self.count_file = at, action, count_file
        self.count = 0

    def tick(self, kind: str) -> None:
        self.count += 1
        with builtins_open(self.count_file, "w") as out:
            out.write(f"{self.count} {kind}\n")
        if self.count != self.at:
            return
        if self.action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        elif self.action == "int":
            os.kill(os.getpid(), signal.SIGINT)
        elif self.action == "term":
            os.kill(os.getpid(), signal.SIGTERM)
        elif self.action == "enospc":
            if kind in _SPACE:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            self.at += 1  # this operation needs no space: fail the next one


builtins_open = builtins.open
_counter: _Counter | None = None


class _FaultyFile(io.FileIO):
    def write(self, data):
        _counter.tick("write")
        return super().write(data)

    def truncate(self, size=None):
        _counter.tick("truncate")
        return super().truncate(size)


def _open(file, mode="r", buffering=-1, *args, **kwargs):
    writable = any(flag in mode for flag in "wax+")
    if not writable:
        return builtins_open(file, mode, buffering, *args, **kwargs)
    if "b" in mode and buffering == 0:
        if "x" in mode or "w" in mode:
            _counter.tick("create")
        return _FaultyFile(file, mode.replace("b", ""))
    # Buffered and text writes (reports, small files) are counted once.
    _counter.tick("create")
    return builtins_open(file, mode, buffering, *args, **kwargs)


def _wrap(name: str, kind: str) -> None:
    original = getattr(os, name)

    def counted(*args, **kwargs):
        if name == "open" and not (len(args) > 1 and args[1] & os.O_CREAT):
            return original(*args, **kwargs)
        _counter.tick(kind)
        return original(*args, **kwargs)

    setattr(os, name, counted)


def install(at: int, action: str, count_file: str) -> None:
    """Count (and fault) every file-changing operation of this process."""
    global _counter
    _counter = _Counter(at, action, count_file)
    builtins.open = io.open = _open
    for name, kind in (
        ("pwrite", "pwrite"),
        ("ftruncate", "truncate"),
        ("copy_file_range", "copy_file_range"),
        ("replace", "rename"),
        ("rename", "rename"),
        ("link", "link"),
        ("unlink", "unlink"),
        ("open", "create"),
    ):
        _wrap(name, kind)


def update_ramp_dq_command(argv) -> int:
    """``PATH (--in-place | -o OUT) [--profile NAME]``: update_ramp_dq alone,
    as DQ initialization calls it for the profile's ramp layout, with the
    fixed flags DO_NOT_USE | DEAD at (y=3, x=7) and HOT along row 5.

    Like the command: an interrupted in-place run is repaired and abandoned
    temporary outputs are removed first; SIGTERM is turned into
    KeyboardInterrupt; exit 130 when interrupted, 2 with one line
    ``irisdq: error: ...`` on an error.
    """
    import numpy as np

    from irisdq.datamodels import inplace, open_ramp
    from irisdq.datamodels.atomic import remove_abandoned_temporaries
    from irisdq.datamodels.ramp_dq import update_ramp_dq
    from irisdq.errors import IrisDQError
    from irisdq.profiles import get_profile

    path = Path(argv[0])
    target = None if "--in-place" in argv else Path(argv[argv.index("-o") + 1])
    name = argv[argv.index("--profile") + 1] if "--profile" in argv else "tmt"
    profile = get_profile(name)
    layout = profile.ramp

    def terminate(number, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        if target is None:
            inplace.recover(path)
        # A killed run's temporary file: a new one, or the whole input
        # rewritten in place.
        remove_abandoned_temporaries(target or path)
        with open_ramp(path, layout, verify_checksums=False) as ramp:
            shape = ramp.shape
        y, x = layout.plane_axes()
        flags = np.zeros((shape[y], shape[x]), dtype=np.uint32)
        flags[3, 7] = 1 | 1024
        flags[5, :] = 2048
        group = None if layout.dq else (flags & 1).astype(np.uint8)
        keywords = {"S_DQINIT": "COMPLETE", profile.reference_keyword: "N/A"}
        pixel = flags.astype(layout.dq_dtype) if layout.dq else flags
        update_ramp_dq(
            path, keywords, pixel, group, target=target, overwrite=True, layout=layout
        )
    except KeyboardInterrupt:
        print("irisdq: interrupted", file=sys.stderr)
        return 130
    except (IrisDQError, OSError) as exc:
        if isinstance(exc, IrisDQError):
            print(f"irisdq: error: {exc}", file=sys.stderr)
        else:
            where = exc.filename or target or path
            print(f"irisdq: error: {where}: {exc.strerror}", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def _child(argv, at, action, env, cwd, out_prefix, entry=None) -> None:
    os.environ.update(env)
    os.chdir(cwd)
    for fd, suffix in ((1, ".out"), (2, ".err")):
        target = os.open(out_prefix + suffix, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(target, fd)
    sys.stdout = io.TextIOWrapper(builtins_open(1, "wb", closefd=False))
    sys.stderr = io.TextIOWrapper(builtins_open(2, "wb", closefd=False))
    install(at, action, out_prefix + ".count")
    command = irisdq.cli.main.main if entry is None else globals()[entry]
    try:
        code = command(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 99
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@dataclass
class Run:
    """What one faulted run did."""

    exitcode: int
    stdout: str
    stderr: str
    operations: int
    last: str


def _serve() -> None:
    """Read one JSON request a line; fork a child for it; answer its exit code.

    Negative codes are signals (-9: killed); None: it hung and was killed.
    """
    import json
    import time

    for line in sys.stdin:
        request = json.loads(line)
        deadline = time.monotonic() + request.pop("timeout")
        pid = os.fork()
        if pid == 0:
            try:
                _child(**request)
            finally:
                os._exit(98)
        code = None
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                code = os.waitstatus_to_exitcode(status)
                break
            time.sleep(0.002)
        if code is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        print(json.dumps(code), flush=True)


class Server:
    """A process that has imported irisdq and forks one child per run."""

    def __init__(self) -> None:
        import subprocess

        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )

    def run(
        self, argv, *, logs, at=0, action="kill", env=None, cwd=".", timeout=60,
        entry=None,
    ):  # fmt: skip
        """Run ``irisdq <argv>`` in a child, faulting at operation ``at``.

        Its output and operation count go to files in the folder ``logs``.
        ``entry`` names a function of this module to run instead of the
        command (:func:`update_ramp_dq_command`).
        """
        import json

        Path(logs).mkdir(parents=True, exist_ok=True)
        prefix = str(Path(logs) / f"run-{at}-{action}")
        request = {
            "argv": list(argv),
            "at": at,
            "action": action,
            "env": dict(env or {}),
            "cwd": str(cwd),
            "out_prefix": prefix,
            "timeout": timeout,
            "entry": entry,
        }
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        code = json.loads(self.process.stdout.readline())
        if code is None:
            raise AssertionError(
                f"irisdq {' '.join(argv)} hung (fault {action} at {at})"
            )
        texts = []
        for suffix in (".out", ".err", ".count"):
            path = Path(prefix + suffix)
            texts.append(path.read_text() if path.exists() else "")
            path.unlink(missing_ok=True)
        count, _, last = texts[2].strip().partition(" ")
        return Run(code, texts[0], texts[1], int(count or 0), last.strip())

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


if __name__ == "__main__" and sys.argv[1:] == ["--serve"]:
    # asdf and its plugins are loaded on first use: once here, not in each
    # child (a tenth of a second per run).
    irisdq.datamodels.asdf_tree.asdf_hdu_bytes({})
    _serve()
