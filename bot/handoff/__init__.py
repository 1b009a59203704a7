"""Human handoff: agents, their sessions, the handoff queue and the audit log, kept in SQL.

The Rasa server and the action server share one database (SQLite by default,
PostgreSQL when scaled out); every operation is one short transaction.

The store: ``db`` (engine, transactions), ``schema``, ``rows``, ``agents`` (agents, sessions,
failed logins), ``store`` (handoffs, audit). The Rasa server: ``service`` (one per
process: pools, hasher, throttle, expiry), started by ``startup`` (its own credentials.yml
entry, not the console), ``leader`` (the expiry on one server at a time), ``workers``
(thread pools), ``hasher`` (argon2 in helper processes), ``throttle`` (login limits),
``console`` / ``console_auth`` /
``console_http`` / ``console_media`` / ``views`` / ``messages`` / ``live`` (the agent console),
``gate`` and ``cancel`` (the waiting user's explicit stop), ``lifecycle``, ``transcript``,
``notices``, ``push`` with ``deliveries`` (what became of each push) and ``window`` (WeChat's
48 hours), ``attachments`` with ``attachment_store`` (images users send), ``expiry``. The action
server: ``client`` and ``retry`` (requests kept while the store is down), and the pure
``attachment_refs`` and ``ids`` (images linked to tickets).
"""
