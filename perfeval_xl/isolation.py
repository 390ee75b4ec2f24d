"""Worker processes that a hostile file cannot take down with it: a memory cap, a time limit, replacement.

IsolatedPool(func, workers, timeout).imap_unordered(tasks) runs func(task) in forked workers. Each worker caps
its address space at what it had at start + MEMORY_PER_WORKER (a reader that tries to allocate gigabytes gets
MemoryError, or aborts the worker, never the machine), dies with its parent (Linux PR_SET_PDEATHSIG: kill -9 of
the command leaves no worker behind), and has `timeout` seconds per task. A task that kills its worker or runs
over its time yields (k, False, Chinese reason); the worker is replaced and the tasks queued behind it go on.
Used by batch.py (checking, marking); writers that start helper programs use lift_memory_limit.
"""
from __future__ import annotations

import os
import signal
import time
from collections import deque

MEMORY_PER_WORKER = 1 << 30  # bytes of address space a worker may add to what it has at start (1 GiB)
IN_FLIGHT = 2  # tasks queued per worker: the next one is ready when one finishes



def reason_memory() -> str:
    return f"文件读取时超出内存上限（每个文件 {MEMORY_PER_WORKER >> 20} MB），已停止；文件可能含有大量无关数据或异常构造"


def _death_reason(code: int | None) -> str:
    if code is not None and code < 0:
        sig = -code
        if sig == signal.SIGKILL:
            return "校验进程被系统终止（可能内存耗尽），文件可能含有大量无关数据或异常构造，已跳过"
        if sig in (signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS):
            return (f"读取该文件时校验进程异常退出（信号 {signal.Signals(sig).name}，多为超出内存上限 "
                    f"{MEMORY_PER_WORKER >> 20} MB），文件可能含有大量无关数据或异常构造，已跳过")
        return f"校验进程异常退出（信号 {sig}），已跳过该文件"
    return f"校验进程异常退出（退出码 {code}），已跳过该文件"


def _vm_bytes() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _die_with_parent(parent: int) -> None:
    """Linux: the kernel kills this worker when its parent dies (even by kill -9)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:  # not Linux: workers end when their pipe closes
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def limit_memory(extra: int) -> None:
    """Cap this process's address space at its current size + extra (soft limit only: a child such as
    LibreOffice may raise it back, see lift_memory_limit)."""
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        want = _vm_bytes() + extra
        if hard != resource.RLIM_INFINITY:
            want = min(want, hard)
        resource.setrlimit(resource.RLIMIT_AS, (want, hard))
    except (ImportError, ValueError, OSError):
        pass


def lift_memory_limit() -> None:
    """preexec_fn for a helper program (LibreOffice) started from a limited worker."""
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
    except (ImportError, ValueError, OSError):
        pass


def _worker_main(conn, func, memory: int, parent: int) -> None:
    _die_with_parent(parent)
    if memory:
        limit_memory(memory)
    try:
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                break
            if msg is None:
                break
            k, task = msg
            try:
                res = (k, True, func(task))
            except MemoryError:
                res = (k, False, reason_memory())
            except Exception as e:  # noqa: BLE001  (one file's failure is that file's row)
                res = (k, False, f"内部错误（{type(e).__name__}: {e}）")
            try:
                conn.send(res)
            except MemoryError:
                conn.send((k, False, reason_memory()))
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: the task's cleanup has run
        pass
    finally:
        os._exit(0)


class _Worker:
    __slots__ = ("proc", "conn", "inflight", "started")

    def __init__(self, proc, conn):
        self.proc, self.conn = proc, conn
        self.inflight: deque = deque()  # task indexes sent, in order
        self.started = 0.0  # when the head of inflight began (the previous result came back)


class IsolatedPool:
    """Worker processes that each run func(task) under a memory cap, with a time limit per task. A task
    that kills its worker or runs too long yields (k, False, Chinese reason); its worker is replaced and
    the tasks queued behind it are sent elsewhere. Workers die with the parent. Use as a context manager."""

    def __init__(self, func, workers: int, timeout: float, memory: int | None = None):
        import multiprocessing as mp

        methods = mp.get_all_start_methods()
        self.ctx = mp.get_context("fork" if "fork" in methods else methods[0])
        self.func, self.n, self.timeout = func, max(1, workers), timeout
        self.memory = MEMORY_PER_WORKER if memory is None else memory
        self.workers: list[_Worker] = []
        for _ in range(self.n):
            self.workers.append(self._spawn())

    def _spawn(self) -> _Worker:
        parent_conn, child_conn = self.ctx.Pipe()
        proc = self.ctx.Process(target=_worker_main, args=(child_conn, self.func, self.memory, os.getpid()),
                                daemon=True)
        proc.start()
        child_conn.close()
        return _Worker(proc, parent_conn)

    def _retire(self, w: _Worker, kill: bool) -> None:
        try:
            if kill and w.proc.is_alive():
                w.proc.kill()
            w.proc.join(5)
        finally:
            w.conn.close()

    def imap_unordered(self, tasks):
        """Yield (k, ok, result or reason) for every task, as each finishes."""
        from multiprocessing.connection import wait

        tasks = list(tasks)
        queue = deque(range(len(tasks)))
        pending = len(tasks)
        while pending:
            now = time.monotonic()
            for i, w in enumerate(self.workers):  # a worker that died idle is replaced before it gets work
                if not w.inflight and not w.proc.is_alive():
                    self._retire(w, kill=True)
                    self.workers[i] = self._spawn()
            for w in self.workers:  # keep every worker busy, with the next file ready
                while queue and len(w.inflight) < IN_FLIGHT:
                    k = queue.popleft()
                    if not w.inflight:
                        w.started = now
                    try:
                        w.conn.send((k, tasks[k]))
                    except (OSError, ValueError):
                        queue.appendleft(k)
                        break
                    w.inflight.append(k)
            busy = [w for w in self.workers if w.inflight]
            deadline = min(w.started + self.timeout for w in busy) if busy else now + 1
            ready = wait([w.conn for w in busy] + [w.proc.sentinel for w in busy],
                         timeout=max(0.0, deadline - time.monotonic()))
            for i, w in enumerate(list(self.workers)):
                if not w.inflight:
                    continue
                got = False
                while w.inflight and (w.conn in ready or got) and self._poll(w):
                    try:
                        k, ok, value = w.conn.recv()
                    except (EOFError, OSError):
                        break
                    got = True
                    if w.inflight and w.inflight[0] == k:
                        w.inflight.popleft()
                    w.started = time.monotonic()
                    pending -= 1
                    yield k, ok, value
                dead = not w.proc.is_alive()
                late = w.inflight and time.monotonic() - w.started > self.timeout
                if w.inflight and (dead or late):
                    if dead:
                        w.proc.join(1)
                    culprit = w.inflight.popleft()
                    queue.extendleft(reversed(w.inflight))  # the files behind it go to another worker
                    w.inflight.clear()
                    self._retire(w, kill=True)
                    self.workers[i] = self._spawn()
                    pending -= 1
                    if late and not dead:
                        yield culprit, False, (f"校验超时（超过 {self.timeout:g} 秒），已停止；"
                                               "文件可能异常构造或过于复杂")
                    else:
                        yield culprit, False, _death_reason(w.proc.exitcode)

    @staticmethod
    def _poll(w: _Worker) -> bool:
        try:
            return w.conn.poll()
        except (OSError, ValueError):
            return False

    def close(self) -> None:
        for w in self.workers:
            try:
                w.conn.send(None)
            except (OSError, ValueError):
                pass
        for w in self.workers:
            self._retire(w, kill=False)

    def terminate(self) -> None:
        for w in self.workers:
            self._retire(w, kill=True)

    def __enter__(self) -> "IsolatedPool":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:  # Ctrl-C or an error: the workers' own cleanup (temporary files) runs on their SIGINT first
            deadline = time.monotonic() + 3
            for w in self.workers:
                w.proc.join(max(0.0, deadline - time.monotonic()))
            self.terminate()


