"""Numbers in device text exports: decimal commas, quotes and missing-value markers."""

import numpy as np


def parse_numbers(texts):
    """Floats of a sequence of text fields; NaN for anything that is not a number.

    Surrounding blanks and double quotes are removed and a decimal comma is read as a point
    (French and German exports), so ``' "12,5" '`` is 12.5; empty fields and markers such as
    ``NaN``, ``NA``, ``N/A`` or ``KZ`` are NaN.
    """
    import pandas as pd

    text = pd.Series(list(texts), dtype=object).astype(str)
    text = text.str.strip().str.strip('"').str.strip().str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
