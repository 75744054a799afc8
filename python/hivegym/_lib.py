"""Low-level ctypes binding of libhivegym.so (the Go package cabi/)."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

HG_OK = 0
HG_BAD_CONFIG = 1
HG_BAD_ARGUMENT = 2
HG_DONE = 3
HG_ERROR = 4


class HivegymError(RuntimeError):
    """A run of the Go market failed."""


class ConfigError(HivegymError, ValueError):
    """Bad input: the config, seed or scenario (the message names file:line: key)."""


class View(ctypes.Structure):
    """hg_view: the rows of the current step in C memory (cabi/cabi.go)."""

    _fields_ = [
        ("n", ctypes.c_int64),
        ("cap", ctypes.c_int64),
        ("gen", ctypes.c_uint64),
        ("done", ctypes.c_int32),
        ("obs_dim", ctypes.c_int32),
        ("num_actions", ctypes.c_int32),
        ("obs", ctypes.POINTER(ctypes.c_float)),
        ("mask", ctypes.POINTER(ctypes.c_uint8)),
        ("reward", ctypes.POINTER(ctypes.c_double)),
        ("terminated", ctypes.POINTER(ctypes.c_uint8)),
        ("truncated", ctypes.POINTER(ctypes.c_uint8)),
        ("env", ctypes.POINTER(ctypes.c_int32)),
        ("agent", ctypes.POINTER(ctypes.c_int32)),
        ("kind", ctypes.POINTER(ctypes.c_int32)),
        ("incoming", ctypes.POINTER(ctypes.c_int32)),
        ("price", ctypes.POINTER(ctypes.c_int64)),
        ("thread", ctypes.POINTER(ctypes.c_int64)),
        ("state_dim", ctypes.c_int32),
        ("state", ctypes.POINTER(ctypes.c_float)),
    ]


def _find() -> str:
    env = os.environ.get("HIVEGYM_LIB")
    if env:
        return env
    return str(Path(__file__).resolve().parent / "libhivegym.so")


def _load() -> ctypes.CDLL:
    lib = ctypes.CDLL(_find())
    i32, i64, u64 = ctypes.c_int32, ctypes.c_int64, ctypes.c_uint64
    cp = ctypes.c_char_p
    lib.hg_create.argtypes = [cp, i64, cp, u64, i32, cp, i32, i32, cp, ctypes.c_char_p, i64]
    lib.hg_create.restype = i64
    lib.hg_close.argtypes = [i64]
    lib.hg_close.restype = i32
    lib.hg_view_of.argtypes = [i64]
    lib.hg_view_of.restype = ctypes.POINTER(View)
    lib.hg_dims.argtypes = [i64, ctypes.POINTER(i64)]
    lib.hg_dims.restype = i32
    lib.hg_set_state.argtypes = [i64, i32]
    lib.hg_set_state.restype = i32
    lib.hg_reset.argtypes = [i64, u64]
    lib.hg_reset.restype = i32
    lib.hg_step.argtypes = [i64, ctypes.c_void_p, i64]
    lib.hg_step.restype = i32
    lib.hg_error.argtypes = [i64, ctypes.c_char_p, i64]
    lib.hg_error.restype = i64
    lib.hg_num_agents.argtypes = [i64, i32]
    lib.hg_num_agents.restype = i64
    lib.hg_agent.argtypes = [i64, i32, i32, ctypes.c_char_p, i64, ctypes.POINTER(i32)]
    lib.hg_agent.restype = i64
    lib.hg_wealth.argtypes = [i64, i32, ctypes.c_void_p, i64]
    lib.hg_wealth.restype = i64
    lib.hg_rule_episode.argtypes = [i64, u64, ctypes.c_void_p, ctypes.c_void_p, i64]
    lib.hg_rule_episode.restype = i32
    lib.hg_policy_greedy.argtypes = [cp, ctypes.c_void_p, i64, ctypes.c_void_p, i64, i64]
    lib.hg_policy_greedy.argtypes += [ctypes.c_void_p, ctypes.c_char_p, i64]
    lib.hg_policy_greedy.restype = i32
    return lib


lib = _load()


def error_of(handle: int) -> str:
    buf = ctypes.create_string_buffer(4096)
    n = lib.hg_error(handle, buf, len(buf))
    if n >= len(buf):
        buf = ctypes.create_string_buffer(n + 1)
        lib.hg_error(handle, buf, len(buf))
    return buf.value.decode()


def check(handle: int, status: int) -> None:
    """Raises the Python exception of a status."""
    if status == HG_OK:
        return
    msg = error_of(handle)
    if status == HG_BAD_CONFIG:
        raise ConfigError(msg)
    if status in (HG_BAD_ARGUMENT, HG_DONE):
        raise ValueError(msg)
    raise HivegymError(msg)
