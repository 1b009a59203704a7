"""Write data/stories/flow_interruptions.yml: what each form does when the user, instead of
answering, leaves ("算了"), asks for a person, asks something else, or changes topic.

Run ``python -m scripts.gen_flow_rules`` after adding a form or an intent; the file is
committed, and a test checks that it is up to date.
"""

from __future__ import annotations

from pathlib import Path

OUT = Path("data/stories/flow_interruptions.yml")
FORMS = {
    "password_reset_form": "forgot_password",
    "transaction_form": "transaction_failed",
    "update_form": "update_account_info",
    "security_form": "account_security",
    "complaint_form": "complaint",
}
IDENTITY_FORMS = ("transaction_form", "update_form", "security_form")
# Answered, then the form asks its question again.
ANSWER_AND_RESUME = {
    "contact_support": "utter_contact_support",
    "bot_challenge": "utter_iamabot",
    "out_of_scope": "utter_out_of_scope",
    "greet": "utter_continue_flow",
    "nlu_fallback": "utter_not_understood_in_flow",
}
# How each flow starts (after the current form is left).
STARTS: dict[str, list[str]] = {
    "forgot_password": [
        "action: action_start_flow",
        "action: password_reset_form",
        "active_loop: password_reset_form",
    ],
    "transaction_failed": [
        "action: action_start_flow",
        "action: utter_transaction_failed",
        "action: transaction_form",
        "active_loop: transaction_form",
    ],
    "update_account_info": ["action: action_start_flow", "action: update_form", "active_loop: update_form"],
    "account_security": ["action: action_start_flow", "action: action_security_triage"],
    "complaint": [
        "action: action_start_flow",
        "action: utter_complaint",
        "action: complaint_form",
        "active_loop: complaint_form",
    ],
}


def _rule(
    name: str, form: str, intent: str, steps: list[str], wait: bool = True, after: str | None = None
) -> str:
    lines = [
        f"  - rule: {name}",
        "    condition:",
        f"      - active_loop: {form}",
        "    steps:",
        *([f"      - action: {after}"] if after else []),
        f"      - intent: {intent}",
        *[f"      - {step}" for step in steps],
    ]
    if not wait:
        lines.append("    wait_for_user_input: false")
    return "\n".join(lines)


def _leave(then: list[str]) -> list[str]:
    return ["action: action_deactivate_loop", "active_loop: null", *then]


def rules() -> list[str]:
    """Every interruption rule, form by form."""
    out: list[str] = []
    for form, own_intent in FORMS.items():
        resume = [f"action: {form}", f"active_loop: {form}"]
        out.append(_rule(f"{form} — leave", form, "stop", _leave(["action: action_flow_cancelled"])))
        out.append(_rule(f"{form} — a person", form, "request_human", _leave(["action: action_handoff"])))
        out.append(_rule(f"{form} — goodbye", form, "goodbye", _leave(["action: utter_goodbye"])))
        out.append(
            _rule(f"{form} — wrong start", form, "wrong_topic", _leave(["action: action_flow_cancelled"]))
        )
        out.append(
            _rule(
                f"{form} — no such option, ask again",
                form,
                "invalid_option",
                ["action: action_repeat_question", *resume],
            )
        )
        # "谢谢" in the middle: done, or go on? (the form waits for the answer)
        out.append(_rule(f"{form} — thanks, continue?", form, "thank", ["action: action_ask_continue_flow"]))
        out.append(
            _rule(
                f"{form} — thanks, continue — yes",
                form,
                "affirm",
                ["action: utter_continue_flow", *resume],
                after="action_ask_continue_flow",
            )
        )
        for intent, response in ANSWER_AND_RESUME.items():
            out.append(
                _rule(f"{form} — answer {intent}, resume", form, intent, [f"action: {response}", *resume])
            )
        not_received = "action_resend_code" if form in IDENTITY_FORMS else "utter_not_received_no_context"
        out.append(
            _rule(f"{form} — not received", form, "not_received", [f"action: {not_received}", *resume])
        )
        for intent, start in STARTS.items():
            if intent == own_intent:
                out.append(
                    _rule(
                        f"{form} — same topic, go on", form, intent, ["action: utter_continue_flow", *resume]
                    )
                )
            else:
                steps = _leave(["action: action_flow_cancelled", *start])
                out.append(
                    _rule(
                        f"{form} — switch to {intent}",
                        form,
                        intent,
                        steps,
                        wait=not start[-1].startswith("action: action_"),
                    )
                )
    return out


def render() -> str:
    """The file's text."""
    header = '# Written by scripts/gen_flow_rules.py: do not edit by hand.\nversion: "3.1"\n\nrules:\n'
    return header + "\n".join(rules()) + "\n"


def main() -> None:
    """Write the file."""
    OUT.write_text(render(), encoding="utf-8")


if __name__ == "__main__":
    main()
