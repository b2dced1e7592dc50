"""The products chosen by hand (`PUT …/product`) for machines without a product tag,
kept across restarts in `{data_dir}/products.json`."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path

from edge.pipeline.normaliser import MachineNormaliser

__all__ = ["ChosenProducts"]

log = logging.getLogger("edge.pipeline")  # the gateway's logger, where these lines were before


class ChosenProducts:
    """Reads and writes the chosen products of the machines `normalisers` (by id)."""

    def __init__(self, path: Path, normalisers: Mapping[str, MachineNormaliser]) -> None:
        self.path = path
        self.normalisers = normalisers

    def choose(self, machine: str, product: str | None) -> str | None:
        """`machine` makes `product` from now on (None: its default); returns the one
        before. ValueError if a PLC tag names the machine's product."""
        normaliser = self.normalisers[machine]
        if normaliser.config.product_tag is not None:
            raise ValueError(
                f"machine {machine} reads its product from tag '{normaliser.config.product_tag}'"
            )
        previous, normaliser.product = normaliser.product, product
        self._save()
        return previous

    def load(self) -> None:
        """Give each machine without a product tag the product chosen before (if any)."""
        try:
            chosen = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.error("ignoring %s: %s", self.path, exc)
            return
        for machine, product in chosen.items():
            n = self.normalisers.get(machine)
            if n is not None and n.config.product_tag is None and isinstance(product, str):
                n.product = product

    def _save(self) -> None:
        chosen = {m: n.product for m, n in self.normalisers.items() if n.product is not None}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(chosen, indent=1, sort_keys=True), encoding="utf-8")
            tmp.replace(self.path)
        except OSError as exc:
            log.error("cannot save the chosen products to %s: %s", self.path, exc)
