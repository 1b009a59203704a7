"""Supervisors' insights: reports computed from the conversation events (the tracker store's
masked events), and the review queue that turns misunderstood messages into NLU examples.

Computation (pure, over serialized Rasa events) is separate from storage and HTTP:

- ``events``: reading the stored events of a period; ``conversations``: one conversation per
  Rasa session, with its channel and verified account; ``notices``: the handoff's system
  notices recognized in the transcript; ``handoffs``: each request for a person, its wait,
  first response, end and rating; ``funnel``: each form's steps and where users leave;
  ``report``, ``figures`` and ``csv_export``: the figures per day and channel.
- ``review_sources``, ``review_store``, ``review_export``: the improvement loop.
- ``http``, ``http_reports``, ``http_review``: the console's routes (``InsightsInput``, a channel
  in credentials.yml); ``cli``: ``python -m bot.insights.cli``.
"""
