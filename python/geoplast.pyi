"""Type stubs of the geoplast module (the geometry-of-plasticity test on numpy arrays)."""

from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

ArrayLike = npt.ArrayLike
Tensors = Mapping[str, ArrayLike]

class GeometryResult:
    """The answer of the paired geometry test."""

    @property
    def best(self) -> str: ...
    @property
    def ranking(self) -> list[str]: ...
    @property
    def delta_cdf(self) -> dict[str, float]: ...
    @property
    def noise_floor(self) -> dict[str, tuple[float, float]]: ...
    @property
    def intervals(self) -> dict[str, tuple[float, float]]: ...
    @property
    def indistinguishable(self) -> list[str]: ...
    @property
    def warnings(self) -> list[str]: ...
    def to_dict(self) -> dict[str, Any]: ...

def geometry(
    before: Union[ArrayLike, Tensors],
    after: Union[ArrayLike, Tensors],
    *,
    candidates: Optional[str] = None,
    centred: bool = False,
    bootstrap: int = 200,
    seed: int = 0,
    include: Optional[Sequence[str]] = None,
    exclude: Optional[Sequence[str]] = None,
    drop_nonpositive: bool = False,
    ne_subset: bool = False,
    normalize: bool = False,
) -> GeometryResult: ...

def fit(weights: ArrayLike, *, candidates: str = "ne,p1.5,p2,p2.5,p3") -> dict[str, Any]: ...
