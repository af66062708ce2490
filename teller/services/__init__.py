"""Teller services, one module per family of operations (a room split when it passed
~600 lines): ``cash`` (drawer sessions, vault, deposits and withdrawals, overrides, large
cash), ``exchange`` (rate board, quotes, currency exchange), ``payments`` (outgoing
payments), ``reversals``. Import from ``teller.services``."""

from teller.services.cash import (  # noqa: F401
    EOD_SIGNOFF,
    OVERRIDE,
    CashError,
    cash_deposit_post,
    cash_withdrawal_post,
    drawer_cash_account,
    drawer_session_close,
    drawer_session_open,
    register_approval_kinds,
    vault_transfer_confirm,
    vault_transfer_request,
)
from teller.services.exchange import cash_exchange_post, exchange_quote, fx_position, rate_set  # noqa: F401,E402
from teller.services.payments import clean_bic, clean_iban, outgoing_payment_post  # noqa: F401,E402
from teller.services.reversals import operation_reversal_request  # noqa: F401,E402
