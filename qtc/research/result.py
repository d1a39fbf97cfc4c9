"""What one validation found, before it is written (`qtc.research.document`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qtc.research.family_bias import FamilyBias
from qtc.research.gates import GateResult
from qtc.research.request import Settings, ValidateRequest
from qtc.research.signals import Signals
from qtc.research.study import Research
from qtc.research.walkforward import WalkForward


@dataclass
class Validation:
    """A finished validation.

    Attributes:
        strategy: The strategy's name.
        plan_fingerprint: Its plan's fingerprint.
        run_id: The id its backtest's run artifact has (`qtc backtest` of the same plan).
        as_of: The plan date (the lake's last date).
        window: (first, last) trading date of the window, ISO.
        request: The options.
        settings: The resolved research settings.
        signals: The studied signals.
        research: Every signal's study.
        walk: The walk-forward.
        days: The window's trading dates, datetime64[D], (D,).
        backtest: The backtest's metrics (JSON-safe, by section).
        bias: The family's selection bias (None when no gate asked for it).
        gates: The gate table.
        passed: The verdict.
        dataset_hashes: Hashes of the datasets read.
        versions: Versions that change results.
        warnings: The run's warnings.
    """

    strategy: str
    plan_fingerprint: str
    run_id: str
    as_of: str
    window: tuple[str, str]
    request: ValidateRequest
    settings: Settings
    signals: Signals
    research: Research
    walk: WalkForward
    days: np.ndarray
    backtest: dict[str, Any]
    bias: FamilyBias | None
    gates: list[GateResult]
    passed: bool
    dataset_hashes: dict[str, str]
    versions: dict[str, str]
    warnings: list[str] = field(default_factory=list)
