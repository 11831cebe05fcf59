"""Every file minnet writes goes through :func:`atomic_write`: the data goes to a temporary file
beside the target, is flushed and fsync'ed, then ``os.replace``'d over the target, so a reader
or a crash never sees half a file and the previous version stays intact until the new one is
complete.

Temporary files are named ``.<target name>.<pid>.<random>.tmp``. An exception removes its
own; a process killed mid-write (SIGKILL, power loss) cannot, so the next write of the same
target removes the siblings whose writer is gone (its pid no longer exists, or is this
process's but the file predates it: the pid was reused). Files are created with mode 0o666
trimmed by the umask, like any new file (not ``mkstemp``'s 0600).
"""

import contextlib
import os
import re
import secrets
import time

_START = time.time()


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


def remove_stale_temps(path):
    """Remove the temporary siblings of ``path`` left by writers that died; returns how many
    were removed. Never touches a live writer's file."""
    folder, base = os.path.split(os.path.abspath(path))
    pattern = re.compile(r"\." + re.escape(base) + r"\.(\d+)\.[0-9a-f]+\.tmp\Z")
    removed = 0
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    me = os.getpid()
    for name in names:
        m = pattern.match(name)
        if not m:
            continue
        pid, full = int(m.group(1)), os.path.join(folder, name)
        try:
            stale = (not _pid_alive(pid)) if pid != me else os.stat(full).st_mtime < _START
            if stale:
                os.unlink(full)
                removed += 1
        except OSError:
            pass  # raced with another cleaner, or not ours to remove
    return removed


@contextlib.contextmanager
def atomic_write(path, mode="wb", *, encoding=None, newline=None, fsync=True):
    """``with atomic_write(path) as f: f.write(...)``: ``f`` is a new temporary file ('wb' or
    'w'); on a clean exit it replaces ``path`` (and the folder is fsync'ed so the rename
    survives a crash); on an exception it is removed and ``path`` is untouched."""
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write: mode must be 'wb' or 'w', got {mode!r}")
    path = os.fspath(path)
    folder, base = os.path.split(os.path.abspath(path))
    remove_stale_temps(path)
    tmp = os.path.join(folder, f".{base}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        kw = {} if mode == "wb" else {"encoding": encoding or "utf-8", "newline": newline}
        with os.fdopen(fd, mode, **kw) as f:
            yield f
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if fsync:
        try:  # make the rename itself durable
            dfd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError:
            pass
