"""Every write to the calendar and to clocks (DESIGN.md, "Layers"): one service per domain action."""
