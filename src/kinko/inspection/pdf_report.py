"""The PDF inspection report: the HTML report laid out by WeasyPrint (docs/inspection.md).

Japanese and Korean are set in Noto Sans CJK (Debian's fonts-noto-cjk, which
scripts/bootstrap.sh installs with Pango); the fonts used are embedded (subset), so the
PDF reads the same on a machine without them. WeasyPrint is imported here only: it is
heavy, and nothing else needs it. The same HTML gives the same bytes (the PDF's
identifier and dates are fixed from the HTML, not from the clock).
"""

from __future__ import annotations

import hashlib
import logging


def render(html: str) -> bytes:
    """The PDF of `html` (a self-contained page: nothing is fetched from elsewhere)."""
    from weasyprint import HTML  # type: ignore[import-untyped]

    # WeasyPrint logs each CSS property it does not support at WARNING, and fontTools logs
    # subsetting details: neither is news to the person running a report.
    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)
    identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode()
    document = HTML(string=html, url_fetcher=_refuse, base_url=None).render()
    data: bytes = document.write_pdf(pdf_identifier=identifier)
    return data


def _refuse(url: str, timeout: int = 10, ssl_context: object = None) -> dict[str, object]:
    """The report is self-contained: any URL it would fetch is refused, not fetched."""
    raise ValueError(f"the inspection report fetches nothing ({url})")
