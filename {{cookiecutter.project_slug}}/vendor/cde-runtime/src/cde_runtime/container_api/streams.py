"""Row streams on top of the Container API: a read-ahead row reader and a batching writer.

Both overlap network time with the caller's work (one background thread each) while keeping
memory bounded by a small, fixed number of batches. Neither knows about HTTP: the reader gets a
`fetch()` that returns the next batch (`[]` at the end) and the writer a `send(rows)` that posts
one batch, so both are testable without a server.

Threads and the server-side cursor: read-ahead fetches up to two batches the caller has not seen
yet. If the caller stops early, those rows are consumed on the server; call `restart()` before
reading the same input again.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from itertools import islice
from types import TracebackType
from typing import Any, Self

from .. import watch

__all__ = ["OutputWriter", "RowReader"]

Row = dict[str, Any]
Batch = list[Row]

# At most this many fetched batches wait for the caller (plus one in flight): bounded memory.
_READ_AHEAD_QUEUE = 1
# At most this many batches wait for the writer thread (plus one in flight).
_WRITE_QUEUE = 2


class _Stop:
    """Sentinel types for the queues (distinct classes keep mypy precise)."""


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_END = _Stop()


def _pump(fetch: Callable[[], Batch], out: queue.Queue[Any], stop: threading.Event) -> None:
    """Background reader: fetch batches until the end, an error, or the consumer stops us.

    Holds no reference to the RowReader, so an abandoned reader can be garbage collected, which
    closes its generator and sets `stop`.
    """
    try:
        while not stop.is_set():
            batch = fetch()
            out.put(batch if batch else _END)
            if not batch:
                return
    except BaseException as error:  # handed over to the consumer thread, re-raised there
        out.put(_Failed(error))


def _batches(fetch: Callable[[], Batch], read_ahead: bool) -> Generator[Batch, None, None]:
    """Yield non-empty batches until the server reports end of input.

    A short batch is not the end: only an empty one is (one extra call, always correct).
    """
    if not read_ahead:
        while batch := fetch():
            yield batch
        return
    out: queue.Queue[Any] = queue.Queue(maxsize=_READ_AHEAD_QUEUE)
    stop = threading.Event()
    thread = threading.Thread(
        target=_pump, args=(fetch, out, stop), name="container-api-read-ahead", daemon=True
    )
    thread.start()
    try:
        while True:
            item = _wait_for(out)
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        # Unblock a producer waiting on a full queue; it then sees `stop` and exits.
        with contextlib.suppress(queue.Empty):
            out.get_nowait()


def _wait_for(out: queue.Queue[Any]) -> Any:
    """The next item of `out`; meanwhile a failure another thread of the run reported (the
    writer, a channel request) is raised here at once, not when this wait would end."""
    while True:
        try:
            return out.get(timeout=watch.POLL)
        except queue.Empty:
            watch.check()


def _rows(batches: Iterator[Batch], counter: list[int]) -> Generator[Row, None, None]:
    # counter is a one-element list rather than the reader itself: no reference cycle.
    for batch in batches:
        for row in batch:
            counter[0] += 1
            yield row


def _counted(batches: Iterator[Batch], counter: list[int]) -> Iterator[Batch]:
    for batch in batches:
        counter[0] += len(batch)
        yield batch


class RowReader:
    """Iterator over input rows, fetched in batches (optionally read ahead in a thread).

    Iterate rows (`for row in reader`) or whole batches (`reader.batches()`), not both.
    Errors from the background fetch are raised here, after the rows that preceded them.
    """

    def __init__(self, fetch: Callable[[], Batch], *, read_ahead: bool = True) -> None:
        self._counter = [0]
        self._source = _batches(fetch, read_ahead)
        self._row_iter = _rows(self._source, self._counter)
        self._mode: str | None = None

    @property
    def rows_read(self) -> int:
        """Rows handed to the caller so far."""
        return self._counter[0]

    def __iter__(self) -> Iterator[Row]:
        # Returning the generator (not self) keeps the per-row cost at C speed in `for` loops.
        self._claim("rows")
        return self._row_iter

    def __next__(self) -> Row:
        self._claim("rows")
        return next(self._row_iter)

    def batches(self) -> Iterator[Batch]:
        """Iterate the remaining input as lists of rows (as the server returned them)."""
        self._claim("batches")
        return _counted(self._source, self._counter)

    def close(self) -> None:
        """Stop reading ahead; rows already fetched are dropped."""
        self._row_iter.close()
        self._source.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _claim(self, mode: str) -> None:
        if self._mode is None:
            self._mode = mode
        elif self._mode != mode:
            raise RuntimeError("iterate a RowReader by rows or by batches(), not both")


#: One request: what `send` posts, and how many rows it carries.
Request = tuple[Any, int]


def one_request(rows: Batch) -> list[Request]:
    """The default packing: a batch is one request of the rows themselves."""
    return [(rows, len(rows))]


class _Worker:
    """One thread posting requests in order; remembers the first error and then sends nothing."""

    def __init__(self, send: Callable[[Any], None], confirmed: Callable[[int], None]) -> None:
        self.queue: queue.Queue[Request | _Stop] = queue.Queue(maxsize=_WRITE_QUEUE)
        self.error: BaseException | None = None
        self.aborted = threading.Event()
        self._send = send
        self._confirmed = confirmed
        self.thread = threading.Thread(target=self._run, name="container-api-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            try:
                if isinstance(item, _Stop):
                    return
                # After an error or an abort keep draining (so the caller never blocks on a
                # full queue) but send nothing more: later rows must not overtake lost ones.
                if self.error is None and not self.aborted.is_set():
                    payload, rows = item
                    self._send(payload)
                    self._confirmed(rows)
            except BaseException as error:  # re-raised in the caller's thread
                self.error = error
                watch.report(error)  # and raised by the run's main thread wherever it waits
            finally:
                self.queue.task_done()

    def discard_pending(self) -> None:
        while True:
            try:
                self.queue.get_nowait()
            except queue.Empty:
                return
            self.queue.task_done()


class OutputWriter:
    """Buffers rows and posts them in batches of `batch_size`, in order.

    `pack` turns each full batch into the requests `send` posts, as (payload, row count) pairs;
    by default a batch is one request of its rows. The Container API client packs a batch into
    one encoded body, split only when it would exceed the write byte cap.

    With `background=True` one thread posts while the caller keeps transforming; at most two full
    batches wait for it. An error from that thread is raised by the next write/flush/close.
    Leaving a `with` block on an exception sends nothing more and lets that exception propagate.
    """

    def __init__(
        self,
        send: Callable[[Any], None],
        *,
        batch_size: int = 999,
        background: bool = True,
        pack: Callable[[Batch], list[Request]] = one_request,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self._send = send
        self._batch_size = batch_size
        self._pack = pack
        self._buffer: Batch = []
        self._rows_written = 0
        self._closed = False
        self._worker = _Worker(send, self._confirm) if background else None

    @property
    def rows_written(self) -> int:
        """Rows the server confirmed (201); buffered or in-flight rows are not counted."""
        return self._rows_written

    def write(self, row: Row) -> None:
        """Add one row; a full buffer is handed to the sender."""
        self._check_open()
        self._buffer.append(row)
        if len(self._buffer) >= self._batch_size:
            self._submit()

    def write_many(self, rows: Iterable[Row]) -> None:
        """Add many rows; consumes `rows` lazily, so a generator never sits whole in memory."""
        self._check_open()
        iterator = iter(rows)
        while True:
            room = self._batch_size - len(self._buffer)
            chunk = list(islice(iterator, room))
            self._buffer.extend(chunk)
            if len(self._buffer) >= self._batch_size:
                self._submit()
            if len(chunk) < room:
                return

    def flush(self) -> None:
        """Send buffered rows and wait until the server confirmed everything sent so far."""
        self._check_open()
        if self._buffer:
            self._submit()
        if self._worker is not None:
            self._worker.queue.join()
            self._raise_worker_error()

    def close(self) -> None:
        """Flush and stop the thread. After an aborted `with` block it only waits for the thread."""
        if self._closed:
            if self._worker is not None and self._worker.aborted.is_set():
                self._stop_worker()
            return
        try:
            self.flush()
        finally:
            self._closed = True
            self._stop_worker()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.close()
        else:
            self._abort()

    def _abort(self) -> None:
        """Drop buffered and queued rows without waiting on the network (the error path)."""
        self._closed = True
        self._buffer = []
        if self._worker is not None:
            self._worker.aborted.set()
            self._worker.discard_pending()
            self._worker.queue.put(_Stop())

    def _stop_worker(self) -> None:
        worker = self._worker
        if worker is None:
            return
        if worker.thread.is_alive():
            if not worker.aborted.is_set():
                worker.queue.put(_Stop())
            worker.thread.join()

    def _confirm(self, count: int) -> None:
        self._rows_written += count

    def _submit(self) -> None:
        batch, self._buffer = self._buffer, []
        for payload, rows in self._pack(batch):
            if self._worker is None:
                self._send(payload)
                self._confirm(rows)
                continue
            self._raise_worker_error()
            self._worker.queue.put((payload, rows))

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("OutputWriter is closed")
        self._raise_worker_error()

    def _raise_worker_error(self) -> None:
        if self._worker is not None and self._worker.error is not None:
            raise self._worker.error
