"""Numbers written as text in real credit files: units, percentages, currency, dates.

Real lending exports write ``"10.65%"``, ``" 36 months"``, ``"10+ years"``, ``"< 1 year"``,
``"$1,200.50"``, ``"¥3,000"``, ``"2011-12-01"`` or ``"Dec-2011"`` where a model needs a number. Read as
text such a column becomes a categorical with hundreds of levels (or is dropped as id-like), and its
order — the signal — is lost. ``number_from_text`` reads exactly one such value:

* one number with an optional comparison sign (``<``, ``>``, ``≤``, ``≥``), currency sign or code in
  front, thousands separators (``1,234,567``), and an optional ``%`` / ``+`` and one unit word after
  it — the number itself is returned (a percentage stays in percent points);
* a calendar date with a four-digit year in one of a fixed list of formats (ISO first; month-name
  forms such as ``Dec-2011``; ``01/02/2011`` is read month first, as US exports write it) — returned
  as days since 1970-01-01 (fractional with a time of day);
* anything else — free text, codes such as ``A11``, ranges such as ``1-3`` — is NaN.

Invariants: the same text always gives the same number, in the batch path (``numeric_texts``, which
parses each distinct text once) and the single-application path (``number_from_text``); ``inf`` and
``nan`` texts are NaN; the formats are fixed, never guessed per file, so training and scoring agree.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import pandas as pd

_NUMBER = re.compile(
    r"^\s*(?:[<>≤≥]=?\s*)?(?:[$¥€£]|RMB\s*|CNY\s*|USD\s*)?"
    r"([-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[-+]?\.\d+)"
    r"\s*[%+]?\s*(?:[A-Za-z]+\.?)?\s*$"
)
_DATE_FORMATS = (
    "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y-%m", "%Y/%m", "%m/%Y", "%m-%Y",
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
    "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%d.%m.%Y %H:%M",
    "%b-%Y", "%B-%Y", "%b %Y", "%B %Y", "%d-%b-%Y", "%d %b %Y", "%d %B %Y", "%b %d, %Y",
    "%B %d, %Y",
)  # fmt: skip
#: a cheap gate before the format list: a four-digit year (1800–2199) somewhere in the text
_HAS_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|2[01]\d\d)(?!\d)")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _date_days(text: str) -> float:
    if not _HAS_YEAR.search(text) or len(text) > 32:
        return math.nan
    for fmt in _DATE_FORMATS:
        try:
            moment = datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
        return (moment - _EPOCH).total_seconds() / 86400.0
    return math.nan


def number_from_text(text: str) -> float:
    """The number a text holds (see the module docstring), or NaN."""
    text = text.strip()
    try:
        v = float(text)
    except ValueError:
        pass
    else:
        return v if math.isfinite(v) else math.nan
    match = _NUMBER.match(text)
    if match:
        return float(match.group(1).replace(",", ""))
    return _date_days(text)


def numeric_texts(values: pd.Series) -> npt.NDArray[np.float64]:
    """``number_from_text`` over a column of texts (None/NaN → NaN), each distinct text parsed once."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    table = np.array(
        [number_from_text(str(u)) for u in uniques] + [math.nan], dtype=np.float64
    )  # fmt: skip
    return np.asarray(table[codes], dtype=np.float64)  # code -1 (missing) → the trailing NaN
