"""uzibot: the engine (settings, intake, inbox, worker, reconciler, Jira gateway, CLI)."""
