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


def _worker_main(conn, func, memory: int, parent: int, progress, slot: int) -> None:
    """Run chunks of tasks; before each task, say which one in shared memory (progress[2*slot] = its place in
    the chunk, progress[2*slot+1] = when it started), so that the parent can name the task that killed this
    worker or ran over its time without a message per task. Results go back once per chunk."""
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
            ks, chunk = msg
            out = []
            for j, (k, task) in enumerate(zip(ks, chunk)):
                progress[2 * slot] = j
                progress[2 * slot + 1] = time.monotonic()
                try:
                    out.append((k, True, func(task)))
                except MemoryError:
                    out.append((k, False, reason_memory()))
                except Exception as e:  # noqa: BLE001  (one file's failure is that file's row)
                    out.append((k, False, f"内部错误（{type(e).__name__}: {e}）"))
            progress[2 * slot + 1] = 0.0  # idle
            try:
                conn.send(out)
            except MemoryError:
                conn.send([(k, False, reason_memory()) for k, _, _ in out])
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: the task's cleanup has run
        pass
    finally:
        os._exit(0)


class _Worker:
    __slots__ = ("proc", "conn", "inflight", "slot")

    def __init__(self, proc, conn, slot: int):
        self.proc, self.conn, self.slot = proc, conn, slot
        self.inflight: deque = deque()  # chunks sent (lists of task indexes), in order


class IsolatedPool:
    """Worker processes that each run func(task) under a memory cap, with a time limit per task. A task
    that kills its worker or runs too long yields (k, False, Chinese reason); its worker is replaced and
    the other tasks it held are sent again. Workers die with the parent. Use as a context manager.
    chunk: tasks sent per message (results come back per chunk): a few for cheap tasks such as checking a
    form (~5 ms), 1 for slow ones; which task failed is known exactly either way."""

    def __init__(self, func, workers: int, timeout: float, memory: int | None = None, chunk: int = 1):
        import multiprocessing as mp

        methods = mp.get_all_start_methods()
        self.ctx = mp.get_context("fork" if "fork" in methods else methods[0])
        self.func, self.n, self.timeout, self.chunk = func, max(1, workers), timeout, max(1, int(chunk))
        self.memory = MEMORY_PER_WORKER if memory is None else memory
        self.progress = self.ctx.RawArray("d", 2 * self.n)
        self.workers: list[_Worker] = []
        for slot in range(self.n):
            self.workers.append(self._spawn(slot))

    def _spawn(self, slot: int) -> _Worker:
        parent_conn, child_conn = self.ctx.Pipe()
        self.progress[2 * slot], self.progress[2 * slot + 1] = 0, 0.0
        proc = self.ctx.Process(target=_worker_main, daemon=True,
                                args=(child_conn, self.func, self.memory, os.getpid(), self.progress, slot))
        proc.start()
        child_conn.close()
        return _Worker(proc, parent_conn, slot)

    def _retire(self, w: _Worker, kill: bool) -> None:
        try:
            if kill and w.proc.is_alive():
                w.proc.kill()
            w.proc.join(5)
        finally:
            w.conn.close()

    def imap_unordered(self, tasks):
        """Yield (k, ok, result or reason) for every task, as each chunk finishes."""
        from multiprocessing.connection import wait

        tasks = list(tasks)
        queue = deque(range(len(tasks)))
        pending = len(tasks)
        while pending:
            for i, w in enumerate(self.workers):  # a worker that died idle is replaced before it gets work
                if not w.inflight and not w.proc.is_alive():
                    self._retire(w, kill=True)
                    self.workers[i] = self._spawn(w.slot)
            for w in self.workers:  # keep every worker busy, with its next chunk ready
                while queue and len(w.inflight) < IN_FLIGHT:
                    ks = [queue.popleft() for _ in range(min(self.chunk, len(queue)))]
                    try:
                        w.conn.send((ks, [tasks[k] for k in ks]))
                    except (OSError, ValueError):
                        queue.extendleft(reversed(ks))
                        break
                    w.inflight.append(ks)
            busy = [w for w in self.workers if w.inflight]
            ready = wait([w.conn for w in busy] + [w.proc.sentinel for w in busy],
                         timeout=min(1.0, self.timeout / 4))
            for i, w in enumerate(list(self.workers)):
                if not w.inflight:
                    continue
                dead = not w.proc.is_alive()  # a dead worker's results still in the pipe are read first
                while w.inflight and (w.conn in ready or dead) and self._poll(w):
                    try:
                        results = w.conn.recv()
                    except (EOFError, OSError):
                        break
                    done = w.inflight.popleft()
                    for k, ok, value in results:
                        pending -= 1
                        yield k, ok, value
                    if len(results) != len(done):  # never expected: whatever is missing is sent again
                        got = {k for k, _, _ in results}
                        queue.extendleft(k for k in done if k not in got)
                dead = dead or not w.proc.is_alive()
                started = self.progress[2 * w.slot + 1]
                late = bool(w.inflight) and started > 0 and time.monotonic() - started > self.timeout
                if w.inflight and (dead or late):
                    if dead:
                        w.proc.join(1)
                    head = w.inflight.popleft()
                    at = int(self.progress[2 * w.slot]) if started > 0 or dead else 0
                    at = min(max(at, 0), len(head) - 1)
                    culprit = head[at]
                    again = head[:at] + head[at + 1:] + [k for ks in w.inflight for k in ks]
                    queue.extendleft(reversed(again))  # the others it held are sent again, first
                    w.inflight.clear()
                    self._retire(w, kill=True)
                    self.workers[i] = self._spawn(w.slot)
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


