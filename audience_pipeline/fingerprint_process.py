"""A large file's fingerprint, computed in a Python process of its own.

``file_checks.fingerprint_file`` hashes a file (hashlib lets other threads run meanwhile) and
counts its line breaks and looks for NUL bytes (which hold the interpreter's lock while they
scan a chunk). In the pre-step it runs beside dbt's parse, which is pure Python: sharing one
interpreter, the parse waited for the scans, and more so once the pre-step ran at a lower
priority (``priority.py``). A process of its own shares nothing with the parse; it costs a
Python start (a few hundredths of a second), so it is kept for files large enough to matter.

``python -m audience_pipeline.fingerprint_process PATH`` prints PATH's fingerprint as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from audience_pipeline.file_checks import FileFingerprint, fingerprint_file

#: Files of at least this many bytes are fingerprinted in a process of their own.
OWN_PROCESS_BYTES = 64 * 1024 * 1024


def fingerprint_in_own_process(path: Path) -> FileFingerprint | None:
    """``fingerprint_file(path)``, computed by a child Python process (at this thread's priority).

    None when the child did not give one (the file unreadable, or a Python that cannot run
    this module): the caller computes it here instead, which raises the file's own OSError.
    The child does not put the working folder on its import path (``-P``), so it runs this
    very package.
    """
    completed = subprocess.run(
        [sys.executable, "-P", "-m", __name__, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        return None
    try:
        return FileFingerprint(**json.loads(completed.stdout))
    except (ValueError, TypeError):  # not the JSON this module prints
        return None


def fingerprint_local_file(path: Path) -> FileFingerprint:
    """A file's fingerprint: in a process of its own when the file is large, else here."""
    if path.stat().st_size >= OWN_PROCESS_BYTES:
        fingerprint = fingerprint_in_own_process(path)
        if fingerprint is not None:
            return fingerprint
    return fingerprint_file(path)


def main(argv: list[str] | None = None) -> int:
    """Print the fingerprint of the one file named, as JSON; exit 2 with one line if unreadable."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m audience_pipeline.fingerprint_process PATH", file=sys.stderr)
        return 2
    try:
        fingerprint = fingerprint_file(Path(args[0]))
    except OSError as error:
        print(f"{args[0]}: {error.strerror or error}", file=sys.stderr)
        return 2
    print(json.dumps(asdict(fingerprint)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
