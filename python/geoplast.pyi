"""Type stubs of the geoplast module (the geometry-of-plasticity test on numpy arrays)."""

import os
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

class Run:
    """A training run folder, read back."""

    @property
    def dir(self) -> str: ...
    @property
    def summary(self) -> Optional[dict[str, Any]]: ...
    @property
    def metrics(self) -> list[dict[str, Any]]: ...
    @property
    def initial(self) -> dict[str, np.ndarray]: ...
    @property
    def final(self) -> dict[str, np.ndarray]: ...
    def to_pandas(self) -> Any: ...

def train(
    config: Union[str, "os.PathLike[str]", Mapping[str, Any]],
    overrides: Optional[Mapping[str, Any]] = None,
    out: Optional[Union[str, "os.PathLike[str]"]] = None,
    progress: bool = True,
    resume: bool = False,
    overwrite: bool = False,
) -> Run: ...

def load_run(dir: Union[str, "os.PathLike[str]"]) -> Run: ...

class potentials:
    """Each potential's maths, element-wise on arrays (names as in candidate lists: "ne",
    "euclid", "p1.5", "hyp0.1")."""

    @staticmethod
    def value(w: ArrayLike, potential: str) -> np.ndarray: ...
    @staticmethod
    def mirror(w: ArrayLike, potential: str) -> np.ndarray: ...
    @staticmethod
    def inverse(u: ArrayLike, potential: str, sign: Optional[ArrayLike] = None) -> np.ndarray: ...
    @staticmethod
    def hessian(w: ArrayLike, potential: str) -> np.ndarray: ...
    @staticmethod
    def bregman(w: ArrayLike, w_prime: ArrayLike, potential: str) -> np.ndarray: ...
