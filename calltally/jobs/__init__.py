"""Background jobs: recalculations and reprocess runs started from the web, run by the Scheduler with progress."""
