"""Django forms, one module per procedure and per shared area. Every POST a view accepts goes through one."""
