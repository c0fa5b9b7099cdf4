"""The durable inbox: schema and migrations, the store, the intake's group writer, the worker.

May import the standard library, SQLAlchemy and `bot.metrics`; never Jira, handlers or the sandbox.
"""
