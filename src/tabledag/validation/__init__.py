"""Annotation-driven validation: a task's parameter annotations (`dy.LazyFrame[S]`,
`dy.DataFrame[S]`, a dataframely `Schema` or `Collection`, a colspec `ColSpec` or
`Collection`) say which frame type its input tables arrive as and cast and validate them; its
return annotation validates its outputs. The mode (`fail` / `warn` / `off`) is the instance's
`validation` setting.

The core reaches this package through `read_annotations` and the `Plan` it returns; neither
names a validation library, and dataframely / colspec are imported only when an annotation
comes from them (`tabledag.validation.dataframely`, `tabledag.validation.colspec`).
"""

from __future__ import annotations

from .plan import MODES, Plan, read_annotations

__all__ = ["MODES", "Plan", "read_annotations"]
