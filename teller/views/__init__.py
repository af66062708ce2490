"""Screens of the teller window: the window itself (drawer cash in view, find the customer,
deposit or withdraw, operations waiting for a supervisor), receipts (in the customer's
language), opening count, blind close, vault transfers (the teller asks, a supervisor
confirms), the session's journal (with reversal requests), currency exchange (a quote, then
the notes), the rate board, outgoing payments and the supervisor's cash alerts.

Thin, like every view: parse with a form, check the role, call one service or selector,
render. A service's ``ApplicationError`` is shown on the page (beside the field it names, or
above the form) and answered with its HTTP status. The same services serve the API
(``teller.api``).

Blind close: the closing page never shows what the drawer should hold; the variance is shown
only once the count is in.
"""

from teller.views.common import receipt
from teller.views.desk import deposit, find, operations, window, withdrawal
from teller.views.drawer import drawer_close, drawer_open, journal, reversal_request, vault, vault_decide, vault_pending
from teller.views.fx import cash_alerts, exchange, exchange_notes_in, exchange_post, payment_detail, payment_new, rate_board

__all__ = [
    "cash_alerts", "deposit", "drawer_close", "drawer_open", "exchange", "exchange_notes_in", "exchange_post", "find",
    "journal", "operations", "payment_detail", "payment_new", "rate_board", "receipt", "reversal_request", "vault",
    "vault_decide", "vault_pending", "window", "withdrawal",
]
