"""SPEC I7: the letters file of `molar bulk grant -o FILE`, with passwords in it.

Opened before anyone is granted, so a folder that does not exist or cannot
be written is refused up front. Written at the end in one go as an unnamed
file in the target's folder (Linux O_TMPFILE) that gets its name only when
complete: an interrupted run, even a SIGKILL, leaves no file with passwords
anywhere. Where the file system lacks O_TMPFILE, a private temporary file
in the same folder is removed on every exit Python gets to run."""

import errno
import os
import secrets
import tempfile
from pathlib import Path


class LettersFileError(Exception):
    """The file cannot be written; the message says why, in one line."""


class LettersFile:
    def __init__(self, target: str | Path) -> None:
        self.target = Path(target).expanduser().absolute()
        folder = self.target.parent
        if not folder.is_dir():
            raise LettersFileError(f"Cannot write {self.target}: the folder {folder} does not exist.")
        if self.target.is_dir():
            raise LettersFileError(f"Cannot write {self.target}: it is a folder.")
        self._named: Path | None = None
        try:
            self._fd = os.open(folder, os.O_TMPFILE | os.O_WRONLY, 0o600)
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                raise self._refused(exc) from None
            try:  # no O_TMPFILE on this file system
                self._fd, name = tempfile.mkstemp(suffix=".pdf", dir=folder)
            except OSError as exc:
                raise self._refused(exc) from None
            self._named = Path(name)

    def _refused(self, exc: OSError) -> LettersFileError:
        return LettersFileError(f"Cannot write {self.target}: {exc.strerror or exc}.")

    def write(self, data: bytes) -> None:
        """Write, flush to disk, and give the file its name in one step."""
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        os.fsync(self._fd)
        if self._named is None:
            temp = self.target.with_name(f".{self.target.name}.{secrets.token_hex(4)}")
            # linkat(AT_SYMLINK_FOLLOW) on /proc/self/fd/N names an O_TMPFILE file (open(2)).
            fds = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.link(str(self._fd), temp, src_dir_fd=fds, follow_symlinks=True)
            finally:
                os.close(fds)
            os.replace(temp, self.target)
        else:
            os.replace(self._named, self.target)
            self._named = None
        self.close()

    def close(self) -> None:
        """Without write(): the unnamed file vanishes, the named fallback is removed."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._named is not None:
            self._named.unlink(missing_ok=True)
            self._named = None

    def __enter__(self) -> "LettersFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
