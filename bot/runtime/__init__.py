"""Adjustments to Rasa's own runtime, installed by the project's Rasa server (``bot.server``).

Each one replaces one function of Rasa 3.6.21 with a behaviour-preserving or stricter one
(reasons and measurements in the README's "Performance" and "Scale-out" sections):

- ``turns``: a turn that cannot be completed because the action server or the conversation
  store is unavailable is abandoned as a whole (nothing of it is stored) and the user gets
  the polite busy reply, where Rasa would drop the failed action's events and say nothing.
- ``actions``: the action server's responses are checked by a JSON-schema validator
  compiled once, instead of ``jsonschema.validate`` re-checking the schema on every call.
- ``trackers``: ``DialogueStateTracker.copy`` copies the tracker's state instead of
  replaying every event of the session (Rasa copies the tracker before each action).
- ``history``: a conversation's applied events and dialogue states (what the policies
  predict from) are extended by the new events instead of recomputed from the session's start.
- ``models``: a trained DIET model is loaded for prediction without tracing a training step.
- ``rules``: the Rule policy stops looking back through the conversation where no rule reaches.
- ``graph``: the model's graph is run in its nodes' order without dask's per-call bookkeeping.
- ``local_actions``: the identity check that Rasa runs before every message (a custom slot
  mapping) is run in this process, without the round trip to the action server.

They are written against Rasa 3.6.21 exactly: with another version nothing is replaced and
a warning says so, so an upgrade runs stock Rasa until these are checked again.
"""

from __future__ import annotations

import logging

import rasa

from bot.runtime import actions, graph, history, local_actions, models, rules, trackers, turns

logger = logging.getLogger(__name__)
RASA_VERSION = "3.6.21"
_installed = False


def install() -> bool:
    """Install every adjustment once; False (and a warning) on another Rasa version."""
    global _installed
    if _installed:
        return True
    if rasa.__version__ != RASA_VERSION:
        logger.warning(
            "Rasa %s is not %s: the runtime adjustments of bot.runtime are not installed",
            rasa.__version__,
            RASA_VERSION,
        )
        return False
    turns.install()
    actions.install()
    local_actions.install()
    trackers.install()
    history.install()
    models.install()
    rules.install()
    graph.install()
    _installed = True
    return True
