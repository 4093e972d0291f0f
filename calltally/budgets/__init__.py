"""Budgets: amounts per person or cost center and period, with the thresholds that notify."""
