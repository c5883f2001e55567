"""URL patterns, one module per procedure and per shared area (included from config/urls.py)."""
