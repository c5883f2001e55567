"""Every read, one module per procedure and per shared area, scoped by cases.policy."""
