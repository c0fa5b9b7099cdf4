"""Data, not code: request types, fields, vendors, workflows and Dutch message templates."""
