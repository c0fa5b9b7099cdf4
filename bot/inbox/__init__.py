"""The durable inbox: schema and migrations, the store, the intake's group writer, the worker.

May import itself, `bot.metrics`, `bot.logs` (log fields) and `bot.jira.errors` (to tell a
retryable failure); never the gateway, the engine, the handlers or the sandbox
(tests/test_layout.py keeps these rules).
"""
