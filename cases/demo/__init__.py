"""The demo city's cases, written through the same services a person would use (manage.py load_demo)."""
