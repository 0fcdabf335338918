"""Assignment: choose the owner of each lead from the roster, fairly, and say why."""
