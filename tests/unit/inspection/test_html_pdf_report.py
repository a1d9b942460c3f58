"""The HTML and PDF inspection reports (issue #16 point 5), rendered from a JSON report:
well-formed, self-contained, summary first, each control with its evidence, Japanese for
jp and Korean for kr, the cold-share chart, and a PDF whose text holds the CJK words."""

from __future__ import annotations

import io
import re
from xml.etree import ElementTree as ET

import pytest
from pypdf import PdfReader

from kinko.core.errors import InputError
from kinko.inspection import html_report, pdf_report
from kinko.inspection.catalogue import Framework
from tests.unit.inspection.report_seed import sample_report

XHTML = "{http://www.w3.org/1999/xhtml}"


def parse(html: str) -> ET.Element:
    assert html.startswith("<!DOCTYPE html>\n")
    return ET.fromstring(html.split("\n", 1)[1])  # XML-well-formed (polyglot XHTML)


def test_the_japanese_report_is_well_formed_bilingual_and_summary_first() -> None:
    encoded = sample_report(Framework.JP)
    html = html_report.render(encoded)
    root = parse(html)
    assert html == html_report.render(encoded)  # the same JSON, the same page
    text = "".join(root.itertext())
    assert "自己点検報告書" in text and "顧客暗号資産のコールドウォレット管理比率" in text
    assert "적합" not in text  # no Korean in the Japanese report
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert ids.index("summary") < ids.index("controls") < ids.index("CUS-01")
    cus01 = next(e for e in root.iter(f"{XHTML}section") if e.get("id") == "CUS-01")
    words = "".join(cus01.itertext())
    assert "0.051000" in words and "liabilities[bitcoin:BTC]" in words
    assert re.search(r"[0-9a-f]{64}", words)  # the row digest
    assert "no snapshot of this day" in words
    # The chart: inline SVG, the threshold and a red mark on the failing days.
    [svg] = cus01.iter("{http://www.w3.org/2000/svg}svg")
    marks = [c for c in svg.iter("{http://www.w3.org/2000/svg}circle") if c.get("r") == "3.5"]
    assert len(marks) == 2  # 5.1% outside cold, and 30% on Korea's bad day
    # Self-contained: no script, nothing fetched from elsewhere.
    assert "<script" not in html and not re.search(r"(src|href)=\"(https?:)?//", html)


def test_the_korean_report_speaks_korean_and_an_all_report_counts_per_framework() -> None:
    text = "".join(parse(html_report.render(sample_report(Framework.KR))).itertext())
    assert "자체 점검 보고서" in text and "이용자 가상자산의 콜드월렛 보관 비율" in text
    root = parse(html_report.render(sample_report(None)))
    [table] = [t for t in root.iter(f"{XHTML}table") if t.get("class") == "frameworks"]
    names = [row[0].text for row in table.iter(f"{XHTML}tr")][1:]
    assert names == ["jp", "kr", "ccss", "nist"]
    assert "自己点検報告書" not in "".join(root.itertext())  # English only


def test_a_document_that_is_not_a_report_is_refused_naming_it() -> None:
    for bad in (b"not json", b'{"schema": "other"}'):
        with pytest.raises(InputError) as excinfo:
            html_report.render(bad)
        assert excinfo.value.field == "report"


@pytest.mark.parametrize(
    ("framework", "words"),
    [(Framework.JP, ["自己点検報告書", "顧客暗号資産"]), (Framework.KR, ["자체 점검 보고서"])],
)
def test_the_pdf_starts_with_its_magic_and_holds_the_cjk_text(
    framework: Framework, words: list[str]
) -> None:
    html = html_report.render(sample_report(framework, 10))
    pdf = pdf_report.render(html)
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    for word in words:
        assert word in text.replace("\n", ""), word
    fonts = [
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    ]
    assert any("Noto-Sans-CJK" in name for name in fonts), fonts  # embedded: reads anywhere
    assert pdf_report.render(html) == pdf  # the same page, the same bytes
