"""The statement of a ``statement`` request as a PDF (fpdf2), with Arabic and Chinese
shaped by HarfBuzz (``uharfbuzz``, through ``set_text_shaping``).

Fonts are the committed WOFF files of ``static/vendor/fonts/`` (``make vendor-fonts``):
Noto Sans Latin as the main font, Noto Sans Arabic and the common Simplified Chinese subset
of Noto Sans SC as fallbacks, so a line mixing the three scripts prints in one cell. A
Chinese character outside that subset (7,946 common ones) prints as a blank box. The
Chinese font is loaded only for a statement that has a CJK character (it costs ~2 s).

Figures are those of :func:`customer_service.selectors.request_statement`, the same read
the CSV and the screens use.
"""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from branch_ops.money import Money

FONT_DIR = settings.BASE_DIR / "static" / "vendor" / "fonts"
FONTS = {
    "noto-latin": "noto-sans-arabic-latin-400-normal.woff",
    "noto-latin-ext": "noto-sans-arabic-latin-ext-400-normal.woff",
    "noto-arabic": "noto-sans-arabic-arabic-400-normal.woff",
    "noto-sc": "noto-sans-sc-chinese-simplified-400-normal.woff",
}
#: column widths in mm: date, description, debit, credit, balance (A4 less 15 mm margins)
WIDTHS = (30, 66, 28, 28, 28)


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return 0x2E80 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0xFF00 <= code <= 0xFFEF or code >= 0x20000


def statement_pdf(statement, *, locale: str = "en") -> bytes:
    """The statement as PDF bytes; amounts formatted for ``locale``."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=15)
    # the Chinese font costs ~2 s to load and subset: only when the statement has a CJK character
    texts = [statement.request.customer.full_name, statement.request.branch.name,
             *(line.description or "" for line in statement.lines)]
    needs_cjk = any(_is_cjk(ch) for text in texts for ch in text)
    fallbacks = ["noto-latin-ext", "noto-arabic", *(["noto-sc"] if needs_cjk else [])]
    for name in ["noto-latin", *fallbacks]:
        pdf.add_font(name, "", str(FONT_DIR / FONTS[name]))
    pdf.set_font("noto-latin", size=9)
    pdf.set_fallback_fonts(fallbacks)
    pdf.set_text_shaping(True)
    pdf.set_title(_("Statement of account %(number)s") % {"number": statement.account.number})
    pdf.add_page()
    cur = statement.currency

    def money(value: int) -> str:
        return Money(value, cur).format(locale)

    pdf.set_font_size(14)
    pdf.cell(0, 8, _("Account statement"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font_size(9)
    zone = statement.request.branch.time_zone
    for label, value in [
        (_("Customer"), f"{statement.request.customer.full_name} ({statement.request.customer.number})"),
        (_("Account"), f"{statement.account.number} · {cur}"),
        (_("Period"), f"{statement.start.isoformat()} – {statement.end.isoformat()}"),
        (_("Branch"), f"{statement.request.branch.name} · {zone}"),
        (_("Opening balance"), money(statement.opening_balance)),
    ]:
        pdf.cell(35, 6, label)
        pdf.cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    headers = (_("Date"), _("Description"), _("Debit"), _("Credit"), _("Balance"))
    pdf.set_fill_color(235, 235, 235)
    for width, header, align in zip(WIDTHS, headers, "LLRRR", strict=True):
        pdf.cell(width, 7, header, border="B", align=align, fill=True)
    pdf.ln()
    for line in statement.lines:
        local = timezone.localtime(line.posted_at, timezone=zoneinfo.ZoneInfo(zone))
        cells = (local.strftime("%Y-%m-%d %H:%M"), (line.description or line.kind)[:60],
                 money(line.debit) if line.debit else "", money(line.credit) if line.credit else "",
                 money(line.balance))
        for width, text, align in zip(WIDTHS, cells, "LLRRR", strict=True):
            pdf.cell(width, 6, text, align=align)
        pdf.ln()
    for width, text, align in zip(WIDTHS, (_("Totals"), "", money(statement.debits), money(statement.credits),
                                           money(statement.closing_balance)), "LLRRR", strict=True):
        pdf.cell(width, 7, text, border="T", align=align)
    pdf.ln()
    pdf.cell(0, 6, f"{_('Closing balance')}: {money(statement.closing_balance)}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
