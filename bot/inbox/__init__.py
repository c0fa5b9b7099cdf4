"""The durable inbox: schema and migrations, the store, the intake's group writer, the worker.

May import the standard library, SQLAlchemy, `bot.metrics` and from `bot.jira` only its error
types and the retry wait budget; never the gateway, handlers or the sandbox.
"""
