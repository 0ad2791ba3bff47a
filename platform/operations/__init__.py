"""Operations: long work a request started and a client follows while it runs
(``GET /api/operations/{id}``) — demo loads, large imports, hand-overs."""

from loom.platform.operations.progress import Progress, Step
from loom.platform.operations.runner import OperationRunner, Work

__all__ = ["OperationRunner", "Progress", "Step", "Work"]
