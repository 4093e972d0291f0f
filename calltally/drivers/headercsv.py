"""A small base for CSV exports whose columns are named by a header line.

Used by the ``teams``, ``yeastar`` and ``grandstream`` drivers. A line whose
cells name the driver's required columns is a header: it is skipped and its
column order is kept and exposed as the driver's state, so a restart in the
middle of a file keeps reading it. The first or the second cell of a header
must be a known column name (Grandstream exports start with a row number).
Header names are compared without case, spaces, underscores or hyphens
(``call_id`` = ``callid`` = ``Call ID``), and each driver lists the aliases of every column it reads.

Files without a header line can be read with option ``columns``: the list of
column names, in file order, used until a header line is seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .base import Driver, DriverConfigError, Outcome, Reject, Skip
from .csvkit import check_option_names, parse_in_batches, parse_one

HEADER = Skip("header line")
_CSV: dict[str, Any] = {}
_DROP = str.maketrans("", "", " _-./()")


def norm(name: str) -> str:
    """A column name as compared: lower case, without spaces, _ - . / ( )."""
    return name.strip().lstrip("\ufeff").lower().translate(_DROP)


class HeaderCsvDriver(Driver):
    """Subclasses set ``FIELDS`` (canonical names, in the order ``_record``
    receives their values), ``ALIASES`` (canonical → other header names),
    ``REQUIRED`` (canonical names a header must have) and implement
    :meth:`_record`."""

    FIELDS: tuple[str, ...] = ()
    ALIASES: dict[str, tuple[str, ...]] = {}
    REQUIRED: tuple[str, ...] = ()
    OPTION_NAMES: tuple[str, ...] = ("columns",)

    def __init__(self, config=None):
        super().__init__(config)
        self._lookup = {norm(a): canon for canon in self.FIELDS for a in (canon, *self.ALIASES.get(canon, ()))}
        self._header: list[str] | None = None
        self._idx: tuple[int, ...] = ()
        self._width = 0
        self._default = self.config.options.get("columns")
        self.set_state(None)

    # --- options ---------------------------------------------------------------
    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> None:
        check_option_names(options, cls.OPTION_NAMES, cls.name)
        columns = options.get("columns")
        if columns is None:
            return
        if isinstance(columns, str) or not isinstance(columns, Sequence) or not all(
            isinstance(c, str) and c for c in columns
        ):
            raise DriverConfigError(
                f"{cls.name} option 'columns' must be the list of column names of the export, in file order, "
                f"e.g. {list(cls.REQUIRED)!r}"
            )
        lookup = {norm(a) for canon in cls.FIELDS for a in (canon, *cls.ALIASES.get(canon, ()))}
        canon_of = {norm(a): canon for canon in cls.FIELDS for a in (canon, *cls.ALIASES.get(canon, ()))}
        present = {canon_of[norm(c)] for c in columns if norm(c) in lookup}
        missing = [r for r in cls.REQUIRED if r not in present]
        if missing:
            raise DriverConfigError(
                f"{cls.name} option 'columns' lacks the column(s) {', '.join(missing)}; "
                "copy the header line of an export"
            )

    # --- state -----------------------------------------------------------------
    def get_state(self) -> Any:
        return {"header": list(self._header)} if self._header is not None else None

    def set_state(self, state: Any) -> None:
        header = state.get("header") if isinstance(state, dict) else None
        if header is None:
            header = self._default
        if header is None or not self._use(list(header)):
            self._header, self._idx, self._width = None, (), 0

    def _positions(self, header: list[str]) -> tuple[int, ...] | None:
        found: dict[str, int] = {}
        lookup = self._lookup
        for i, name in enumerate(header):
            canon = lookup.get(norm(name))
            if canon is not None and canon not in found:
                found[canon] = i
        if not all(r in found for r in self.REQUIRED):
            return None
        return tuple(found.get(f, -1) for f in self.FIELDS)

    def _use(self, header: list[str]) -> bool:
        idx = self._positions(header)
        if idx is None:
            return False
        self._header, self._idx, self._width = header, idx, len(header)
        return True

    # --- parsing ---------------------------------------------------------------
    def parse(self, raw: bytes) -> Outcome:
        return parse_one(raw, self._row, _CSV)

    def parse_many(self, raws: list[bytes]) -> list[Outcome]:
        return parse_in_batches(self, raws, self._row, _CSV)

    def _row(self, row: list[str]) -> Outcome:
        first = row[0]
        if first[:1].isalpha() or first[:1] == "\ufeff" or first[:1] == " ":
            lookup = self._lookup
            if (norm(first) in lookup or (len(row) > 1 and norm(row[1]) in lookup)) and self._use(row):
                return HEADER
        width = self._width
        if not width:
            return Reject(f"no {self.name} header line seen yet; set option 'columns' for exports without one")
        n = len(row)
        if n != width:
            if n < width:
                return Reject(f"{n} fields where the header names {width}: a truncated or foreign line")
            if any(c.strip() for c in row[width:]):
                return Reject(f"{n} fields where the header names {width}")
        values = [row[i] if i >= 0 else "" for i in self._idx]
        return self._record(values)

    def _record(self, values: list[str]) -> Outcome:
        raise NotImplementedError
