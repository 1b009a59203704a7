"""Human handoff: agents, their sessions, the handoff queue and the audit log, kept in SQL.

The Rasa server and the action server share one database (SQLite by default,
PostgreSQL when scaled out); every operation is one short transaction.
"""
