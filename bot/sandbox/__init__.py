"""An in-memory, stateful Jira Cloud + JSM site for `uzibot demo` and the tests.

Nothing in `bot/` or `handlers/` imports it except `bot.cli.demo` (tests/test_layout.py).
"""
