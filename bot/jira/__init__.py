"""The Jira gateway: the only code that speaks Jira's REST shapes (verbs, HTTP, retry, errors, ADF).

May import itself and `bot.plan`; nothing else in `bot/`. Everything outside this package
talks to Jira through `bot.jira.gateway.JiraGateway` (tests/test_layout.py keeps these rules).
"""
