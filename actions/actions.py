"""Entry point of the action server: every custom action of the flows.

``rasa run actions`` imports the ``actions`` package; this module makes the flows'
actions visible to rasa-sdk's registry by importing them, and masks personal data in
everything the action server logs (``bot.masking.install_log_masking``).
"""

from __future__ import annotations

from actions.flows.account_update import ActionUpdateAccount, ValidateUpdateForm
from actions.flows.complaint import ActionSubmitComplaint, ValidateComplaintForm
from actions.flows.conversation import (
    ActionAskContinueFlow,
    ActionFlowCancelled,
    ActionRepeatQuestion,
    ActionStartFlow,
    ActionWalletFallback,
)
from actions.flows.handoff import ActionHandoff, ActionRecordSatisfaction
from actions.flows.identity import ActionCheckIdentity
from actions.flows.messages_left import ActionLeaveMessage, ActionMessageLeft, ValidateMessageForm
from actions.flows.password_reset import (
    ActionResendPasswordReset,
    ActionResetNotReceived,
    ActionSendPasswordReset,
    ValidatePasswordResetForm,
)
from actions.flows.security import ActionSecuritySubmit, ActionSecurityTriage, ValidateSecurityForm
from actions.flows.transactions import (
    ActionAskTransactionId,
    ActionEscalateTransaction,
    ActionExplainTransaction,
    ValidateTransactionForm,
)
from actions.flows.verification import ActionAskIdentityCode, ActionResendCode
from bot.masking import install_log_masking

install_log_masking()  # rasa-sdk has configured its log handlers before it imports the actions

__all__ = [
    "ActionAskContinueFlow",
    "ActionAskIdentityCode",
    "ActionAskTransactionId",
    "ActionCheckIdentity",
    "ActionEscalateTransaction",
    "ActionExplainTransaction",
    "ActionFlowCancelled",
    "ActionHandoff",
    "ActionLeaveMessage",
    "ActionMessageLeft",
    "ActionRecordSatisfaction",
    "ActionRepeatQuestion",
    "ActionResendCode",
    "ActionResendPasswordReset",
    "ActionResetNotReceived",
    "ActionSecuritySubmit",
    "ActionSecurityTriage",
    "ActionSendPasswordReset",
    "ActionStartFlow",
    "ActionSubmitComplaint",
    "ActionUpdateAccount",
    "ActionWalletFallback",
    "ValidateComplaintForm",
    "ValidateMessageForm",
    "ValidatePasswordResetForm",
    "ValidateSecurityForm",
    "ValidateTransactionForm",
    "ValidateUpdateForm",
]
