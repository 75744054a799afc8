"""Builds libhivegym.so with the Go toolchain while the package is built.

The shared library is hivegym's C ABI (the Go package cabi/ of the repository this
directory is part of): `go build -buildmode=c-shared`. Set HIVEGYM_GO to pick the go
binary.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py


def repo_root() -> Path:
    here = Path(__file__).resolve().parent
    for d in (here, *here.parents):
        if (d / "go.mod").is_file() and (d / "cabi").is_dir():
            return d
    raise RuntimeError(f"hivegym: no Go module with cabi/ above {here}")


class BuildWithGo(build_py):
    def run(self) -> None:
        super().run()
        out = Path(self.build_lib).resolve() / "hivegym" / "libhivegym.so"
        out.parent.mkdir(parents=True, exist_ok=True)
        go = os.environ.get("HIVEGYM_GO", "go")
        env = dict(os.environ, CGO_ENABLED="1")
        env["GOFLAGS"] = (env.get("GOFLAGS", "") + " -buildvcs=false").strip()
        cmd = [go, "build", "-trimpath", "-buildmode=c-shared", "-o", str(out), "./cabi"]
        subprocess.run(cmd, cwd=repo_root(), env=env, check=True)
        header = out.with_suffix(".h")
        if header.exists():
            header.unlink()


class BinaryDistribution(Distribution):
    """The package ships a native library: its wheel is platform-specific."""

    def has_ext_modules(self) -> bool:
        return True


setup(cmdclass={"build_py": BuildWithGo}, distclass=BinaryDistribution)
