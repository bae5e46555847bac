"""`StageLockContext`: pipedag keeps stage locks until the block ends, so that `Result.get`
returns this run's tables and not a newer run's.

tabledag needs no lock for that: a `Result` reads the immutable, key-named tables its run
wrote (not the stage views), and those stay until the second-next commit of their stage. The
context is accepted and holds nothing.
"""

from __future__ import annotations


class StageLockContext:
    def __enter__(self) -> StageLockContext:
        return self

    def __exit__(self, *exc: object) -> None:
        return None
