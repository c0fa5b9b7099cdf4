"""The `uzibot` command line: `main` parses the arguments, one module per command does the work.

May import anything in `bot/`; only `bot.cli.demo` may import the sandbox.
"""
