"""An in-memory, stateful Jira Cloud + JSM site for `uzibot demo` and the tests.

May import `bot.jira.adf` and the standard library; nothing in `bot/` or `handlers/` imports it
except `bot.cli.demo` (and `bot.cli.plan` for the example site's field names).
"""
