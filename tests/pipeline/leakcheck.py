"""The API key must never reach a file a run writes: grep every one of them, the store included."""

from __future__ import annotations

from pathlib import Path

SECRET = "sk-test-NEVER-WRITE-THIS-0123456789abcdef"


def files_holding(root: Path, secret: str = SECRET) -> list[Path]:
    needle = secret.encode()
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and needle in path.read_bytes():
            found.append(path)
    return found


def assert_secret_absent(root: Path, secret: str = SECRET) -> int:
    """Assert no file under ``root`` holds ``secret``; returns how many files were searched."""
    files = [p for p in root.rglob("*") if p.is_file()]
    assert files, f"nothing written under {root}"
    assert files_holding(root, secret) == []
    return len(files)
