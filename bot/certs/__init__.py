"""Reading UZI server certificates (formats, profile, chain, deadlines, report) and the registry.

May import `bot.jira.errors` (attachment download failures) and `bot.inbox.store` (registry);
never the engine, the handlers or the sandbox.
"""
