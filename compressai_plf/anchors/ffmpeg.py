"""Running ffmpeg/ffprobe as subprocesses, with clear errors when they are missing."""

from __future__ import annotations

import shutil
import subprocess

INSTALL_HINT = "install it (e.g. `apt-get install ffmpeg`) and make sure it is on PATH"


def ffmpeg_available() -> bool:
    """True when both ``ffmpeg`` and ``ffprobe`` are on PATH."""
    return shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None


def ffmpeg_version() -> str:
    """The ffmpeg version string, e.g. ``"5.1.6-0+deb12u1"``."""
    return run_tool(["ffmpeg", "-version"]).decode().split()[2]


def encoder_available(name: str) -> bool:
    """True when ffmpeg was built with the encoder ``name`` (e.g. ``"libx265"``)."""
    if not ffmpeg_available():
        return False
    out = run_tool(["ffmpeg", "-hide_banner", "-encoders"]).decode()
    return any(line.split()[1:2] == [name] for line in out.splitlines() if line.strip())


def run_tool(cmd: list, stdin: bytes | None = None) -> bytes:
    """Run ``cmd`` (ffmpeg or ffprobe), feed ``stdin`` and return its stdout.

    Raises:
        RuntimeError: when the tool is missing or exits with an error (stderr included).
    """
    cmd = [str(c) for c in cmd]
    if shutil.which(cmd[0]) is None:
        raise RuntimeError(f"{cmd[0]} not found: {INSTALL_HINT}")
    proc = subprocess.run(cmd, input=stdin, capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{cmd[0]} failed (exit {proc.returncode}): {' '.join(cmd)}\n"
            f"{proc.stderr.decode(errors='replace')[-2000:]}"
        )
    return proc.stdout
