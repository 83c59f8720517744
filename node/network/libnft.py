"""nft in-process: libnftables (the library the `nft` command is built on) through ctypes.

The same `nft -f` text, run as one atomic transaction, without starting a process for each change;
on a busy node starting `nft` was most of a small change's latency. Calls run on one worker
thread of their own, which first enters the given network namespace (setns changes only the
calling thread), so the library's netlink sockets live there.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import os
from concurrent.futures import ThreadPoolExecutor

from node.network.nftables import NftError

CLONE_NEWNET = 0x40000000


def _library() -> ctypes.CDLL:
    lib = ctypes.CDLL(ctypes.util.find_library("nftables") or "libnftables.so.1")
    lib.nft_ctx_new.restype = ctypes.c_void_p
    lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
    lib.nft_ctx_free.argtypes = [ctypes.c_void_p]
    lib.nft_run_cmd_from_buffer.restype = ctypes.c_int
    lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    for name in ("nft_ctx_buffer_output", "nft_ctx_buffer_error"):
        getattr(lib, name).argtypes = [ctypes.c_void_p]
    for name in ("nft_ctx_get_output_buffer", "nft_ctx_get_error_buffer"):
        getattr(lib, name).argtypes = [ctypes.c_void_p]
        getattr(lib, name).restype = ctypes.c_char_p
    return lib


class LibNft:
    """`apply(text)` like `Nft.apply`, in this process; optionally in a named network namespace."""

    def __init__(self, netns: str | None = None) -> None:
        self.netns = netns
        self._lib = _library()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="libnft")
        self._ctx: int | None = None

    def _context(self) -> int:
        if self._ctx is None:
            if self.netns:
                fd = os.open(f"/var/run/netns/{self.netns}", os.O_RDONLY)
                try:
                    libc = ctypes.CDLL(None, use_errno=True)
                    if libc.setns(fd, CLONE_NEWNET) != 0:
                        raise OSError(ctypes.get_errno(), f"setns into {self.netns}")
                finally:
                    os.close(fd)
            ctx = self._lib.nft_ctx_new(0)
            self._lib.nft_ctx_buffer_output(ctx)
            self._lib.nft_ctx_buffer_error(ctx)
            self._ctx = ctx
        return self._ctx

    def _run(self, text: str) -> str:
        ctx = self._context()
        if self._lib.nft_run_cmd_from_buffer(ctx, text.encode()) != 0:
            err = (self._lib.nft_ctx_get_error_buffer(ctx) or b"").decode(errors="replace").strip()
            raise NftError(f"nft -f - failed: {err[:2000]}")
        return (self._lib.nft_ctx_get_output_buffer(ctx) or b"").decode()

    async def run_text(self, text: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._run, text)

    async def apply(self, transaction: str) -> None:
        if transaction:
            await self.run_text(transaction)

    def close(self) -> None:
        def free() -> None:
            if self._ctx is not None:
                self._lib.nft_ctx_free(self._ctx)
                self._ctx = None
        self._pool.submit(free).result()
        self._pool.shutdown()
