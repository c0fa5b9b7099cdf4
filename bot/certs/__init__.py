"""Reading UZI server certificates (formats, profile, chain, deadlines, report) and the registry.

May import itself, `bot.jira.errors`, `bot.inbox` (the registry's table), `bot.plan` and
`bot.events`; never the gateway, the handlers or the sandbox (tests/test_layout.py).
"""
